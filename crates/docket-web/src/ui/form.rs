//! Form bodies (`application/x-www-form-urlencoded`) as name–value pairs, so names may repeat
//! (a checkbox after its hidden "false"); the last value of a name wins.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

use super::page::UiError;

/// A submitted form.
#[derive(Debug, Default, Clone)]
pub(crate) struct FormData(pub(crate) Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, UiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| UiError::BadRequest(format!("The form could not be read: {}", e.body_text())))?;
        Ok(FormData(url::form_urlencoded::parse(&bytes).into_owned().collect()))
    }
}

impl FormData {
    /// The last value of `name`, if sent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The last value of `name`, trimmed, if sent and not blank.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// Every field whose name starts with `prefix`, without the prefix (last value wins).
    pub(crate) fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.0.iter().filter_map(move |(n, v)| n.strip_prefix(prefix).map(|name| (name, v.as_str())))
    }
}

/// A query string read into `T` (whose fields all have defaults); a malformed one is a 400
/// page rather than axum's plain-text rejection.
#[derive(Debug, Default)]
pub(crate) struct UiQuery<T>(pub(crate) T);

impl<T: serde::de::DeserializeOwned + Default, S: Send + Sync> axum::extract::FromRequestParts<S> for UiQuery<T> {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, UiError> {
        if parts.uri.query().is_none_or(str::is_empty) {
            return Ok(UiQuery(T::default()));
        }
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(q)| UiQuery(q))
            .map_err(|e| UiError::BadRequest(format!("The address has a malformed query: {}", e.body_text())))
    }
}
