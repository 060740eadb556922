//! Extractors that turn the parts of a request into Docket values, refusing with our JSON error
//! instead of axum's plain-text rejections: the bearer token (authentication), JSON bodies,
//! query strings and ticket ids in paths.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use docket_app::App;
use docket_core::{Actor, PersonId, TicketId};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::error::ApiError;
use super::schema::TICKET_ID_PATTERN;
use crate::Web;

/// The authenticated caller: whoever the bearer token acts as.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The actor commands are issued as.
    pub(crate) actor: Actor,
    /// The person behind it (an agent's owner).
    pub(crate) person: PersonId,
    /// The app acting through the caller's token: the audit records of its commands name it.
    pub(crate) app: App,
}

impl Caller {
    /// Whether the caller is an admin in person (an agent is never one, whoever owns it).
    pub(crate) fn is_admin(&self) -> bool {
        matches!(self.actor, Actor::Person { .. })
            && self.app.rules().directory.person(&self.person).is_some_and(|p| p.admin)
    }
}

impl FromRequestParts<Web> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthenticated("this endpoint needs an `Authorization: Bearer <token>` header"));
        };
        let token = value.to_str().ok().and_then(bearer_token).ok_or_else(|| {
            ApiError::unauthenticated("the Authorization header must be `Bearer <token>` with a Docket API token")
        })?;
        // Inside the nested API router the URI has lost its `/api/v1` prefix.
        let path = parts.extensions.get::<OriginalUri>().map_or(parts.uri.path(), |uri| uri.0.path());
        let what = format!("{} {path}", parts.method);
        let credential =
            web.app.authenticate_presented(token, "api", docket_http::peer(&parts.extensions), &what).await?;
        match credential.actor.person_id().cloned() {
            Some(person) => Ok(Caller { app: web.app.with_token(&credential.token), actor: credential.actor, person }),
            None => Err(ApiError::unauthenticated("the token does not act as a person")),
        }
    }
}

/// The token of `Bearer <token>` (the scheme is case-insensitive), if there is one.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A JSON request body of type `T`. Unknown fields, syntax errors and wrong types are refused
/// with `invalid_json` and serde's own explanation; a body that is not JSON with 415.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = is_json(req.headers());
        let bytes = read_body(req, state).await?;
        if !is_json {
            return Err(not_json());
        }
        parse_json(&bytes).map(JsonBody)
    }
}

/// Like [`JsonBody`], but an empty body (with any content type, or none) or JSON `null` means
/// `T::default()`.
#[derive(Debug)]
pub(crate) struct OptionalJsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = is_json(req.headers());
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        if !is_json {
            return Err(not_json());
        }
        parse_json::<Option<T>>(&bytes).map(|body| OptionalJsonBody(body.unwrap_or_default()))
    }
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the request body is too large")
        } else {
            ApiError::bad_request("invalid_body", rejection.body_text())
        }
    })
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "the request body does not have the expected fields",
            _ => "the request body is not valid JSON",
        };
        ApiError::bad_request("invalid_json", format!("{what}: {e}"))
            .with_details(json!({ "line": e.line(), "column": e.column() }))
    })
}

fn not_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "the request body must be JSON, sent with `Content-Type: application/json`",
    )
}

/// Whether the content type is `application/json` or `application/…+json`.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A ticket id from the `{id}` path segment. Anything but exactly an id (`DKT-x`, ` DKT-1`)
/// is refused with `invalid_ticket_id`; a well-formed id of no ticket is a 404 later on.
#[derive(Debug)]
pub(crate) struct TicketPath(pub(crate) TicketId);

impl<S: Send + Sync> FromRequestParts<S> for TicketPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_ticket_id", e.body_text()))?;
        ticket_id(&raw).map(TicketPath)
    }
}

/// `raw` as a ticket id, exactly as [`TICKET_ID_PATTERN`] says. Chat forgives surrounding
/// whitespace; a path does not.
fn ticket_id(raw: &str) -> Result<TicketId, ApiError> {
    TicketId::parse(raw).ok().filter(|_| raw.trim() == raw).ok_or_else(|| {
        let shown: String = raw.chars().take(40).collect();
        ApiError::bad_request(
            "invalid_ticket_id",
            format!("`{shown}` is not a ticket id (expected something like DKT-42)"),
        )
        .with_details(json!({ "pattern": TICKET_ID_PATTERN }))
    })
}

/// A path segment naming something other than a ticket (a workflow id).
#[derive(Debug)]
pub(crate) struct IdPath(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))?;
        Ok(IdPath(raw))
    }
}

/// The query string as name–value pairs, so names may repeat (`state=a&state=b`). Handlers
/// say which names they take; any other name is refused, so a typo is not silently ignored.
#[derive(Debug, Default)]
pub(crate) struct QueryPairs(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
        Ok(QueryPairs(pairs))
    }
}

impl QueryPairs {
    /// Refuses names not in `known`.
    pub(crate) fn only(&self, known: &[&str]) -> Result<&Self, ApiError> {
        match self.0.iter().find(|(name, _)| !known.contains(&name.as_str())) {
            Some((name, _)) => Err(ApiError::bad_request(
                "invalid_query",
                format!("unknown query parameter `{name}` (this endpoint takes {})", known.join(", ")),
            )
            .with_details(json!({ "param": name, "known": known }))),
            None => Ok(self),
        }
    }

    /// Every value of `name`, in order.
    pub(crate) fn all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.0.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The last value of `name`, if given and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.last(name).filter(|v| !v.trim().is_empty())
    }

    /// The last value of `name`, if given, even if empty.
    pub(crate) fn last(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// `name` as a whole number in `range`, `default` if absent. Present but empty, signed,
    /// spaced or out of range is refused: the document says an integer in this range.
    pub(crate) fn number(
        &self,
        name: &str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, ApiError> {
        match self.last(name) {
            None => Ok(default),
            Some(text) => whole_number(text, range).map_err(|message| {
                ApiError::bad_request("invalid_query", format!("`{name}` must be {message}"))
                    .with_details(json!({ "param": name }))
            }),
        }
    }
}

/// `text` as a whole number in `range`: decimal digits only. The error says what it must be.
pub(crate) fn whole_number(text: &str, range: std::ops::RangeInclusive<u64>) -> Result<u64, String> {
    let expected = || format!("a whole number from {} to {}", range.start(), range.end());
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(expected());
    }
    text.parse::<u64>().ok().filter(|n| range.contains(n)).ok_or_else(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_whatever_the_scheme_case() {
        assert_eq!(bearer_token("Bearer dkt_abc"), Some("dkt_abc"));
        assert_eq!(bearer_token("bearer   dkt_abc "), Some("dkt_abc"));
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    proptest::proptest! {
        /// The path pattern the document publishes accepts exactly the ids the API does.
        #[test]
        fn the_ticket_id_pattern_is_what_the_api_accepts(
            raw in proptest::prop_oneof![
                "[A-Za-z]{0,18}-[0-9]{0,21}",
                "[ \t\n]?[a-zA-Z]{1,3}[-_ ]?[0-9+]{1,3}[ \n]?",
                "\\PC{0,24}",
            ]
        ) {
            let pattern = regex::Regex::new(TICKET_ID_PATTERN).unwrap();
            proptest::prop_assert_eq!(pattern.is_match(&raw), ticket_id(&raw).is_ok(), "{:?}", raw);
        }
    }

    #[test]
    fn whole_numbers_are_digits_in_range() {
        assert_eq!(whole_number("0", 0..=5), Ok(0));
        assert_eq!(whole_number("005", 0..=5), Ok(5));
        for refused in ["", " 1", "1 ", "+1", "-1", "6", "1.0", "99999999999999999999999"] {
            assert!(whole_number(refused, 0..=5).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn json_content_types() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        for (value, json) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(is_json(&headers), json, "{value}");
        }
    }
}
