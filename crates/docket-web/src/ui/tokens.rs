//! `/tokens`: the viewer's own API tokens and their agents', each with its maker, last use,
//! expiry and a revoke button; and a form to make one, whose secret is shown once. What the
//! viewer may do is the app's decision, as everywhere.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use docket_app::{ApiToken, NewToken, TokenAuthority, TokenLifetime};
use docket_core::TokenSubject;

use super::auth::Viewer;
use super::form::FormData;
use super::page::{Chrome, UiError, ok};
use super::view::when;
use crate::Web;

#[derive(Debug)]
struct Row {
    id: String,
    whom: String,
    name: String,
    created_by: String,
    created: String,
    last_used: String,
    expires: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    rows: Vec<Row>,
    /// A token just made: its secret, shown this once.
    made: Option<String>,
}

/// `GET /tokens`
pub(crate) async fn page(State(web): State<Web>, viewer: Viewer) -> Result<Response, UiError> {
    render(&web, &viewer, None, None).await
}

/// `POST /tokens`: makes a token for the viewer (`name`, `expires`: `30d`, `90d`, `never` or the
/// default).
pub(crate) async fn make(State(web): State<Web>, viewer: Viewer, form: FormData) -> Result<Response, UiError> {
    viewer.check_csrf(&web, &form, "make a token").await?;
    let lifetime = match form.text("expires").as_deref().map(str::trim) {
        None | Some("" | "default") => TokenLifetime::Default,
        Some("never") => TokenLifetime::Never,
        Some(text) => match docket_core::Duration::parse(text) {
            Ok(d) if d.as_millis() > 0 => TokenLifetime::For(d.to_std()),
            _ => return Err(UiError::BadRequest(format!("`{text}` is not a lifetime such as 30d or never."))),
        },
    };
    let new = NewToken {
        subject: TokenSubject::Person(viewer.person.clone()),
        name: form.text("name").unwrap_or_default(),
        lifetime,
    };
    match web.app.create_token(&TokenAuthority::Actor(viewer.actor.clone()), new).await {
        Ok(made) => {
            let flash = format!("Token {} made. Copy it now: it is not shown again.", made.record.id);
            render(&web, &viewer, Some(("info", flash)), Some(made.secret)).await
        }
        Err(error) => render(&web, &viewer, Some(("error", error.to_string())), None).await,
    }
}

/// `POST /tokens/{id}/revoke`
pub(crate) async fn revoke(
    State(web): State<Web>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, UiError> {
    viewer.check_csrf(&web, &form, &format!("revoke token {id}")).await?;
    let flash = match web.app.revoke_token(&TokenAuthority::Actor(viewer.actor.clone()), &id).await {
        Ok(token) => ("info", format!("Token {} ({}) is revoked; it no longer works anywhere.", token.id, token.name)),
        Err(error) => ("error", error.to_string()),
    };
    render(&web, &viewer, Some(flash), None).await
}

async fn render(
    web: &Web,
    viewer: &Viewer,
    flash: Option<(&'static str, String)>,
    made: Option<String>,
) -> Result<Response, UiError> {
    let by = TokenAuthority::Actor(viewer.actor.clone());
    // Their own, not everyone's: an admin manages others' tokens through the API or the CLI.
    let tokens = web.app.tokens(&by, Some(&viewer.person)).await?;
    let now = web.app.clock_now();
    let rows = tokens.iter().map(|t| row(web, t, now)).collect();
    let mut chrome = Chrome::new(web, viewer);
    if let Some((kind, text)) = flash {
        chrome = chrome.with_flash(kind, text);
    }
    ok(&TokensPage { chrome, rows, made })
}

fn row(web: &Web, token: &ApiToken, now: jiff::Timestamp) -> Row {
    let status = if token.revoked.is_some() {
        "revoked"
    } else if token.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "active"
    };
    Row {
        id: token.id.clone(),
        whom: token.agent.as_ref().map_or_else(|| "you".to_owned(), |a| format!("agent {}", web.app.agent_name(a))),
        name: token.name.clone(),
        created_by: token.created_by.clone(),
        created: when(&web.app, token.created_at),
        last_used: token.last_used_at.map_or_else(|| "never".to_owned(), |t| when(&web.app, t)),
        expires: token.expires_at.map_or_else(|| "never".to_owned(), |t| when(&web.app, t)),
        status,
    }
}
