//! The frame around every page (who is signed in, the CSRF token, the demo banner, a flash
//! message) and the error pages: one `UiError` that every handler returns, shown as a page in
//! words with the right status, never with internals.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use docket_app::AppError;

use super::auth::Viewer;
use crate::Web;

/// What the frame shows.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    /// The viewer's name, when signed in.
    pub(crate) name: String,
    /// The viewer's id.
    pub(crate) person: String,
    /// The session's CSRF token, for every form on the page.
    pub(crate) csrf: String,
    /// Whether the viewer is an admin (the audit page is theirs).
    pub(crate) admin: bool,
    /// The demo's people (id, name), when the act-as switch is on.
    pub(crate) demo: Vec<(String, String)>,
    /// A message at the top of the page.
    pub(crate) flash: Option<Flash>,
    /// Where the demo switch comes back to: this page.
    pub(crate) next: String,
}

/// A message shown once at the top of a page.
#[derive(Debug, Clone)]
pub(crate) struct Flash {
    /// `error` or `info`.
    pub(crate) kind: &'static str,
    /// What to say.
    pub(crate) text: String,
}

impl Chrome {
    /// The frame for `viewer`.
    pub(crate) fn new(web: &Web, viewer: &Viewer) -> Self {
        let demo = if web.ui.demo {
            web.app.rules().directory.people().map(|p| (p.id.to_string(), p.name.clone())).collect()
        } else {
            Vec::new()
        };
        Self {
            name: viewer.name.clone(),
            person: viewer.person.to_string(),
            csrf: viewer.session.csrf.clone(),
            admin: viewer.admin,
            demo,
            flash: None,
            next: viewer.here.clone(),
        }
    }

    /// The same frame with a message.
    pub(crate) fn with_flash(mut self, kind: &'static str, text: impl Into<String>) -> Self {
        self.flash = Some(Flash { kind, text: text.into() });
        self
    }
}

/// Renders `template` as a page with `status`.
pub(crate) fn render(template: &impl Template, status: StatusCode) -> Result<Response, UiError> {
    let body = template.render().map_err(|e| UiError::Internal(format!("rendering a page: {e}")))?;
    let mut response = (status, Html(body)).into_response();
    page_headers(response.headers_mut());
    Ok(response)
}

/// Headers on every page: not cached (pages show who is signed in), never framed (no
/// clickjacking of an approve button), scripts, styles and forms from this site only.
fn page_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    );
}

/// Renders `template` as a 200 page.
pub(crate) fn ok(template: &impl Template) -> Result<Response, UiError> {
    render(template, StatusCode::OK)
}

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum UiError {
    /// Not signed in: go to `login` (with where to come back).
    SignIn(String),
    /// 400: the request makes no sense.
    BadRequest(String),
    /// 403: not allowed, or a form without its CSRF token.
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 503: the store is unavailable.
    Unavailable(String),
    /// 500: a bug; the text is logged, not shown.
    Internal(String),
    /// A ready response (a redirect that sets a cookie).
    Response(Box<Response>),
}

impl From<AppError> for UiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound(what) => UiError::NotFound(format!("There is no {what}.")),
            AppError::Unauthenticated | AppError::TokenRefused(_) => UiError::SignIn("/".to_owned()),
            AppError::Refused(refusal) => UiError::Forbidden(refusal.to_string()),
            AppError::Invalid(text) => UiError::BadRequest(text),
            other => UiError::Unavailable(other.to_string()),
        }
    }
}

/// A refusal inside the page frame: the viewer stays signed in where they are, and in the demo
/// keeps the banner that switches to someone who may.
#[derive(Template)]
#[template(path = "denied.html")]
struct DeniedPage {
    chrome: Chrome,
    title: &'static str,
    message: String,
    /// As HTML (see `markdown`).
    hint: String,
}

/// 403 in the frame of `chrome`, saying `message`, with `hint` (HTML) on what to do.
pub(crate) fn denied(chrome: Chrome, message: String, hint: String) -> UiError {
    match render(&DeniedPage { chrome, title: "Not allowed", message, hint }, StatusCode::FORBIDDEN) {
        Ok(response) => UiError::Response(Box::new(response)),
        Err(error) => error,
    }
}

/// 404 for a path that is no page, with the way back.
pub(crate) async fn not_found(uri: axum::http::Uri) -> UiError {
    let path: String = uri.path().chars().take(200).collect();
    UiError::NotFound(format!("There is no page at {path}."))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            UiError::SignIn(next) => {
                let target = format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                return Redirect::to(&target).into_response();
            }
            UiError::Response(response) => return *response,
            UiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "That did not work", m),
            UiError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m),
            UiError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
            UiError::Unavailable(m) => {
                tracing::warn!(error = %m, "a page could not be shown");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Docket is unavailable",
                    "The database did not answer; try again in a moment.".to_owned(),
                )
            }
            UiError::Internal(m) => {
                tracing::error!(error = %m, "a page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The page could not be shown; the error was logged.".to_owned(),
                )
            }
        };
        let page = ErrorPage { status: status.as_u16(), title, message: &message };
        let mut response = match page.render() {
            Ok(body) => (status, Html(body)).into_response(),
            Err(_) => (status, message).into_response(),
        };
        page_headers(response.headers_mut());
        response
    }
}
