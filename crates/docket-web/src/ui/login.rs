//! Signing in and out: `/login` (to the OpenID Connect provider, or a page saying how to get
//! access when none is configured), `/auth/callback` (back from the provider: state, code,
//! ID token, then the person by OIDC subject or email), `/logout`, and the demo's switch.
//! Every sign-in, sign-out and failed sign-in is audited.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use docket_app::SessionChange;
use serde::Deserialize;

use super::auth::Viewer;
use super::form::FormData;
use super::form::UiQuery;
use super::markdown;
use super::oidc::{LoginError, Pending};
use super::page::{UiError, render};
use super::session::{self, SCOPE};
use crate::Web;

/// The cookie that ties a sign-in's `state` to the browser that started it.
const LOGIN_COOKIE: &str = "docket_login";
/// How long a sign-in may take at the provider, in seconds.
const LOGIN_SECONDS: i64 = 600;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    title: String,
    /// The message as HTML (see `markdown`).
    message: String,
    provider: String,
}

/// A sign-in page saying `message`, given as HTML (`markdown::inline` of our own words,
/// `markdown::plain` of anything a provider said).
fn signin_page(status: StatusCode, title: &str, message: String, provider: String) -> Result<Response, UiError> {
    render(&SignInPage { title: title.to_owned(), message, provider }, status)
}

/// Only paths on this site, so a link cannot send people elsewhere after signing in.
fn local(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// `GET /login?next=…`
pub(crate) async fn page(
    State(web): State<Web>,
    headers: HeaderMap,
    UiQuery(query): UiQuery<LoginQuery>,
) -> Result<Response, UiError> {
    let next = local(query.next.as_deref());
    if web.ui.demo {
        return Ok(Redirect::to(&next).into_response());
    }
    if let Some(id) = session::read_cookie(&headers, session::COOKIE)
        && session::load(&web.app, id).await?.is_some()
    {
        return Ok(Redirect::to(&next).into_response());
    }
    let Some(provider) = &web.ui.oidc else {
        return signin_page(
            StatusCode::OK,
            "Sign in to Docket",
            markdown::inline(
                "Web sign-in is not set up on this server: an administrator adds an OpenID Connect provider \
                 under `web: { oidc: … }` in docket.yaml. Until then, use Docket from chat or with an API token \
                 (`docket token create --person you`).",
            ),
            String::new(),
        );
    };
    let state = session::random_token()?;
    let expires = web.app.clock_now().checked_add(jiff::SignedDuration::from_secs(LOGIN_SECONDS)).unwrap_or_default();
    let pending = Pending { verifier: session::random_token()?, nonce: session::random_token()?, next, expires };
    let url = match provider.authorize_url(&state, &pending).await {
        Ok(url) => url,
        Err(error) => {
            tracing::warn!(%error, "could not start a sign-in");
            return signin_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable",
                markdown::plain(&format!("{error}. Try again in a moment.")),
                provider.name(),
            );
        }
    };
    let json = serde_json::to_string(&pending).map_err(|e| UiError::Internal(e.to_string()))?;
    web.app.remember(SCOPE, &format!("login:{}", session::sha256_hex(&state)), &json).await?;
    let mut response = Redirect::to(&url).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::set_cookie(LOGIN_COOKIE, &state, web.ui.secure, LOGIN_SECONDS));
    Ok(response)
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The title of a refused callback's page.
const FAILED: &str = "Sign-in did not work";

/// A refused callback: a sign-in page with the reason, and an audit record.
struct Refuse<'a> {
    web: &'a Web,
    provider: String,
    peer: Option<std::net::IpAddr>,
}

impl Refuse<'_> {
    /// The page for a refusal saying `message` (HTML, see `signin_page`). `ends` says whether the sign-in in progress is over (the
    /// callback carried its state); a callback that did not is refused without touching it,
    /// so a forged or stray callback cannot end the genuine sign-in.
    async fn page(
        &self,
        status: StatusCode,
        title: &str,
        message: String,
        audit: String,
        ends: bool,
    ) -> Result<Response, UiError> {
        self.web.app.audit_rejected_credentials("web", self.peer, &audit).await;
        let mut response = signin_page(status, title, message, self.provider.clone())?;
        if ends {
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session::set_cookie(LOGIN_COOKIE, "", self.web.ui.secure, 0));
        }
        Ok(response)
    }
}

/// `GET /auth/callback?code=…&state=…&iss=…`
pub(crate) async fn callback(
    State(web): State<Web>,
    docket_http::Peer(peer): docket_http::Peer,
    headers: HeaderMap,
    UiQuery(query): UiQuery<Callback>,
) -> Result<Response, UiError> {
    let Some(provider) = &web.ui.oidc else {
        return Err(UiError::NotFound("Web sign-in is not set up on this server.".to_owned()));
    };
    let refuse = Refuse { web: &web, provider: provider.name(), peer };
    let not_started =
        "This sign-in was not started from this browser, was already used, or took too long. Start again.";
    // Only the state this browser's cookie holds reaches the sign-in in progress.
    let expected = session::read_cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    let Some(state) = query.state.as_deref() else {
        let audit = "sign-in callback without a state".to_owned();
        return refuse
            .page(StatusCode::BAD_REQUEST, FAILED, markdown::plain("The provider sent no state."), audit, false)
            .await;
    };
    if expected.is_empty() || !session::same_token(state, expected) {
        let audit = "sign-in callback with an unknown or reused state: not the one this browser started".to_owned();
        return refuse.page(StatusCode::BAD_REQUEST, FAILED, markdown::plain(not_started), audit, false).await;
    }
    let key = format!("login:{}", session::sha256_hex(state));
    let now = web.app.clock_now();
    let pending = web.app.recall(SCOPE, &key).await?.and_then(|json| serde_json::from_str::<Pending>(&json).ok());
    let pending = pending.filter(|p| p.expires > now);
    // Each sign-in is finished at most once.
    let first = pending.is_some() && web.app.remember_first(SCOPE, &format!("{key}:used"), "1").await?;
    let (Some(pending), true) = (pending, first) else {
        let audit = "sign-in callback with an unknown or reused state".to_owned();
        return refuse.page(StatusCode::BAD_REQUEST, FAILED, markdown::plain(not_started), audit, true).await;
    };
    if let Err(error) = provider.check_issuer(query.iss.as_deref()).await {
        tracing::warn!(%error, "a sign-in response from another issuer");
        return refuse
            .page(
                StatusCode::BAD_REQUEST,
                FAILED,
                markdown::plain(&format!("{error}.")),
                format!("sign-in failed: {error}"),
                true,
            )
            .await;
    }
    if let Some(error) = &query.error {
        let description = query.error_description.clone().unwrap_or_default();
        let message = format!("The sign-in provider said: {error} {description}");
        let audit = format!("sign-in refused by the provider: {error}");
        return refuse.page(StatusCode::UNAUTHORIZED, FAILED, markdown::plain(&message), audit, true).await;
    }
    let Some(code) = query.code.as_deref() else {
        let audit = "sign-in callback without a code".to_owned();
        return refuse
            .page(StatusCode::BAD_REQUEST, FAILED, markdown::plain("The provider sent no code."), audit, true)
            .await;
    };
    let failed = |error: LoginError| {
        tracing::warn!(%error, "a sign-in failed");
        let message = markdown::plain(&format!("{error}."));
        refuse.page(StatusCode::UNAUTHORIZED, FAILED, message, format!("sign-in failed: {error}"), true)
    };
    let signed = match provider.finish(code, &pending).await {
        Ok(signed) => signed,
        Err(error) => return failed(error).await,
    };
    let directory = &web.app.rules().directory;
    let mut claims = signed.claims.clone();
    let mut userinfo = false;
    let by_subject = directory.by_subject(&claims.sub);
    // Without a subject match, the email decides; a provider that left it out of the ID
    // token is asked for it.
    if by_subject.is_none() && claims.verified_email().is_none() {
        match provider.complete(&signed).await {
            Ok(Some(completed)) => (claims, userinfo) = (completed, true),
            Ok(None) => {}
            Err(error) => return failed(error).await,
        }
    }
    let (person, matched_by) = match by_subject {
        Some(person) => (Some(person), "oidc_subject"),
        None => (claims.verified_email().and_then(|e| directory.by_email(e)), "email"),
    };
    let Some(person) = person else {
        let who = claims.verified_email().map_or_else(|| format!("subject {}", claims.sub), str::to_owned);
        let message = markdown::inline(&format!(
            "You signed in as {}, but nobody in Docket's directory has that email or sign-in subject. \
             Ask an administrator to add you to `people` in docket.yaml.",
            markdown::code_span(&who)
        ));
        let audit = format!("sign-in by someone not in the directory: {who}");
        return refuse.page(StatusCode::FORBIDDEN, "You are not in Docket's people", message, audit, true).await;
    };
    let id = session::create(&web.app, &person.id).await?;
    let details = serde_json::json!({
        "method": "oidc",
        "issuer": provider.issuer(),
        "subject": claims.sub,
        "matched_by": matched_by,
        "userinfo": userinfo,
    });
    web.app.audit_session("web", &person.id, SessionChange::SignedIn, details).await;
    // Sessions last hours and sign-ins minutes: whatever is older than two days is over.
    if let Err(error) = web.app.forget_older(SCOPE, std::time::Duration::from_secs(2 * 24 * 3600)).await {
        tracing::warn!(%error, "could not prune old sessions");
    }
    let mut response = Redirect::to(&pending.next).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, session::session_cookie(&id, web.ui.secure));
    headers.append(header::SET_COOKIE, session::set_cookie(LOGIN_COOKIE, "", web.ui.secure, 0));
    Ok(response)
}

/// `POST /logout`
pub(crate) async fn logout(State(web): State<Web>, viewer: Viewer, form: FormData) -> Result<Response, UiError> {
    viewer.check_csrf(&web, &form, "sign out").await?;
    session::end(&web.app, &viewer.session_id, &viewer.session).await?;
    let details = serde_json::json!({ "method": "sign out" });
    web.app.audit_session("web", &viewer.person, SessionChange::SignedOut, details).await;
    if web.ui.demo {
        let mut response = Redirect::to("/").into_response();
        response.headers_mut().insert(header::SET_COOKIE, session::set_cookie(session::COOKIE, "", web.ui.secure, 0));
        return Ok(response);
    }
    let mut response =
        signin_page(StatusCode::OK, "Signed out", markdown::plain("You are signed out of Docket."), String::new())?;
    response.headers_mut().insert(header::SET_COOKIE, session::set_cookie(session::COOKIE, "", web.ui.secure, 0));
    Ok(response)
}

/// `POST /demo/switch` (`docket demo` only): act as another sample person.
pub(crate) async fn switch(State(web): State<Web>, viewer: Viewer, form: FormData) -> Result<Response, UiError> {
    if !web.ui.demo {
        return Err(UiError::NotFound("There is no demo switch on this server.".to_owned()));
    }
    viewer.check_csrf(&web, &form, "demo switch").await?;
    let wanted = form.text("person").unwrap_or_default();
    let rules = web.app.rules();
    let Some(person) = rules.directory.person(&wanted.as_str().into()) else {
        return Err(UiError::BadRequest(format!("There is no sample person `{wanted}`.")));
    };
    session::end(&web.app, &viewer.session_id, &viewer.session).await?;
    let out = serde_json::json!({ "method": "demo switch", "to": person.id.to_string() });
    web.app.audit_session("web", &viewer.person, SessionChange::SignedOut, out).await;
    let id = session::create(&web.app, &person.id).await?;
    let details = serde_json::json!({ "method": "demo switch", "from": viewer.person.to_string() });
    web.app.audit_session("web", &person.id, SessionChange::SignedIn, details).await;
    let mut response = Redirect::to(&local(form.get("next"))).into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::session_cookie(&id, web.ui.secure));
    Ok(response)
}
