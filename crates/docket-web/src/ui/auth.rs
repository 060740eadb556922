//! The signed-in viewer of a page, read from the session cookie. Without a session a page
//! sends the browser to sign in; in `docket demo` the browser is signed in as the first sample
//! person instead, and the banner lets it switch.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect};
use docket_core::{Actor, PersonId};

use super::form::FormData;
use super::page::UiError;
use super::session::{self, Session};
use crate::Web;

/// Who is looking at a page.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    /// Their directory id.
    pub(crate) person: PersonId,
    /// Their display name.
    pub(crate) name: String,
    /// Whether they are an admin.
    pub(crate) admin: bool,
    /// Commands are issued as this actor.
    pub(crate) actor: Actor,
    /// The session's id, as the cookie carries it.
    pub(crate) session_id: String,
    /// The session (for its CSRF token).
    pub(crate) session: Session,
    /// The address the request came from, when known.
    pub(crate) peer: Option<std::net::IpAddr>,
    /// The page being shown (path and query), where the demo switch comes back to; `/` for a
    /// form's answer.
    pub(crate) here: String,
}

impl Viewer {
    /// Refuses a form that does not carry this session's CSRF token, and records the attempt.
    pub(crate) async fn check_csrf(&self, web: &Web, form: &FormData, what: &str) -> Result<(), UiError> {
        match form.get("csrf") {
            Some(token) if session::same_token(token, &self.session.csrf) => Ok(()),
            _ => {
                let detail = format!("a form without a valid CSRF token for {} ({what})", self.person);
                web.app.audit_rejected_credentials("web", self.peer, &detail).await;
                Err(UiError::Forbidden(
                    "This form was not sent from a Docket page you opened (its security token is missing or \
                     out of date). Nothing was changed; reload the page and try again."
                        .to_owned(),
                ))
            }
        }
    }
}

impl FromRequestParts<Web> for Viewer {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, UiError> {
        let uri = parts.extensions.get::<OriginalUri>().map_or(&parts.uri, |u| &u.0);
        let here = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        if let Some(id) = session::read_cookie(&parts.headers, session::COOKIE)
            && let Some(session) = session::load(&web.app, id).await?
            && let Some(mut viewer) = viewer(web, id, session, docket_http::peer(&parts.extensions))
        {
            if parts.method == Method::GET {
                viewer.here = here;
            }
            return Ok(viewer);
        }
        if parts.method != Method::GET {
            return Err(UiError::Forbidden(
                "You are not signed in (or your session has ended), so nothing was changed. Sign in and try again."
                    .to_owned(),
            ));
        }
        // Where to come back to after signing in.
        if web.ui.demo {
            return Err(UiError::Response(Box::new(demo_sign_in(web, &here).await?)));
        }
        Err(UiError::SignIn(here))
    }
}

/// The viewer of session `id`, if its person is still in the directory.
fn viewer(web: &Web, id: &str, session: Session, peer: Option<std::net::IpAddr>) -> Option<Viewer> {
    let rules = web.app.rules();
    let person = rules.directory.person(&session.person)?;
    Some(Viewer {
        person: person.id.clone(),
        name: person.name.clone(),
        admin: person.admin,
        actor: Actor::Person { id: person.id.clone() },
        session_id: id.to_owned(),
        session,
        peer,
        here: "/".to_owned(),
    })
}

/// `docket demo`: a session as the first sample person, then back to `here`.
async fn demo_sign_in(web: &Web, here: &str) -> Result<axum::response::Response, UiError> {
    let Some(first) = web.app.rules().directory.people().next().map(|p| p.id.clone()) else {
        return Err(UiError::Forbidden("The demo has no people to act as.".to_owned()));
    };
    let id = session::create(&web.app, &first).await?;
    let details = serde_json::json!({ "method": "demo" });
    web.app.audit_session("web", &first, docket_app::SessionChange::SignedIn, details).await;
    let mut response = Redirect::to(here).into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::session_cookie(&id, web.ui.secure));
    Ok(response)
}
