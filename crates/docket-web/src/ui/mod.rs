//! The web UI: server-rendered pages (askama templates, checked at compile time) that work
//! without JavaScript, plus a few lines of script that follow a ticket's live events.
//!
//! Sessions are a random id in an HttpOnly cookie whose SHA-256 is kept in surface state, so
//! they survive restarts and work on every replica; every form carries the session's CSRF
//! token. Who may do what is decided by the app: pages show the actions
//! [`docket_app::App::actions_for`] offers, and every form goes through the app's commands,
//! which refuse anyway.
//!
//! - `session`, `auth`, `form`: cookies and sessions, the signed-in viewer, form bodies.
//! - `oidc`, `login`: OpenID Connect sign-in (code + PKCE), sign-out, the demo switch.
//! - `home`, `catalog`, `request`, `tickets`, `ticket`, `actions`, `tokens`, `audit`: one module per
//!   page.
//! - `page`, `view`, `assets`, `live`: the page frame and errors, shared formatting, the
//!   stylesheet and script, and the cookie-authenticated event stream.

mod actions;
mod assets;
mod audit;
mod auth;
mod catalog;
mod form;
mod home;
mod live;
mod login;
mod markdown;
mod oidc;
mod page;
mod request;
mod results;
mod session;
mod ticket;
mod tickets;
mod tokens;
mod view;

use axum::Router;
use axum::routing::{get, post};
use docket_app::App;

pub use oidc::OidcOptions;

use crate::Web;

/// What the UI keeps besides the app.
#[derive(Debug)]
pub(crate) struct UiState {
    /// The OpenID Connect provider, when sign-in is configured.
    pub(crate) oidc: Option<oidc::Provider>,
    /// Whether this is `docket demo` (the act-as switch is on).
    pub(crate) demo: bool,
    /// Whether cookies are marked `Secure` (the public URL is https).
    pub(crate) secure: bool,
}

impl UiState {
    pub(crate) fn new(app: &App, oidc: Option<OidcOptions>, demo: bool) -> Self {
        let public_url = app.public_url().unwrap_or_default().to_owned();
        let secure = public_url.starts_with("https://");
        let oidc = oidc.map(|options| oidc::Provider::new(options, &public_url));
        Self { oidc, demo, secure }
    }
}

/// Every page, form target and asset of the UI.
pub(crate) fn router() -> Router<Web> {
    Router::new()
        .route("/", get(home::page))
        .route("/catalog", get(catalog::page))
        .route("/workflows/{id}", get(catalog::workflow))
        .route("/workflows/{id}/new", get(request::form).post(request::submit))
        .route("/tickets", get(tickets::page))
        .route("/tickets/{id}", get(ticket::page))
        .route("/tickets/{id}/events", get(live::stream))
        .route("/tickets/{id}/panels", get(ticket::live_panels))
        .route("/tickets/{id}/results", get(results::fragment))
        .route("/tickets/{id}/results.csv", get(results::csv))
        .route("/tickets/{id}/amend", get(request::amend_form).post(actions::amend))
        .route("/tickets/{id}/{action}", post(actions::submit))
        .route("/tokens", get(tokens::page).post(tokens::make))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/audit", get(audit::page))
        .route("/audit/export", get(audit::export))
        .route("/login", get(login::page))
        .route("/auth/callback", get(login::callback))
        .route("/logout", post(login::logout))
        .route("/demo/switch", post(login::switch))
        .route("/static/{file}", get(assets::serve))
}

pub(crate) use page::not_found;
