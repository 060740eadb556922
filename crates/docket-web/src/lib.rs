//! Docket over HTTP: the REST API under `/api/v1` (JSON, with live ticket updates as
//! server-sent events and an OpenAPI document), the web UI (server-rendered pages with
//! OpenID Connect sign-in), and the operational endpoints `/healthz`, `/readyz` and `/metrics`.
//!
//! The web layer authenticates callers and translates between HTTP and the [`App`]; every
//! decision about who may do what is made by the app and core, so the API refuses exactly what
//! Slack, Teams and the CLI refuse, with the same words.
//!
//! - `api`: one module per resource (workflows, tickets, logs and events, audit), the view
//!   types the API promises, the error type every route returns, and the OpenAPI document.
//! - `ui`: the web pages people use: home, catalog, request forms, tickets with live logs,
//!   the audit trail; sessions, CSRF protection and sign-in.
//! - `ops`: health, readiness and metrics for whoever runs Docket.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use docket_app::App;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

mod api;
mod config;
mod ops;
mod ui;

pub use config::{WebConfig, WebSection};
pub use ui::OidcOptions;

/// How the HTTP surface is set up. `WebOptions::default()` serves no metrics and accepts
/// request bodies up to 256 KiB.
#[derive(Clone, Debug)]
pub struct WebOptions {
    /// Where `/metrics` reads from: the handle of the Prometheus recorder the binary installed
    /// globally. `None` turns `/metrics` off (404).
    pub metrics: Option<PrometheusHandle>,
    /// The largest request body accepted; larger ones are refused with 413.
    pub max_body_bytes: usize,
    /// Web sign-in through an OpenID Connect provider; `None` leaves the pages saying how to
    /// get access (API tokens still work for the API).
    pub oidc: Option<OidcOptions>,
    /// `docket demo` only: visitors act as a sample person, under a banner that lets them
    /// switch to any other. Never set by `docket serve`.
    pub demo: bool,
    /// Cancelled when the server begins to stop: live event streams end then, so an open ticket
    /// page does not hold the stop while requests drain.
    pub stopping: CancellationToken,
}

impl Default for WebOptions {
    fn default() -> Self {
        Self { metrics: None, max_body_bytes: 256 * 1024, oidc: None, demo: false, stopping: CancellationToken::new() }
    }
}

/// What every handler can reach.
#[derive(Clone, Debug)]
pub(crate) struct Web {
    /// The one door into Docket.
    pub(crate) app: App,
    /// The metrics recorder's handle, if metrics are on.
    pub(crate) metrics: Option<PrometheusHandle>,
    /// What the web UI needs besides the app: sign-in, cookies, the demo switch.
    pub(crate) ui: std::sync::Arc<ui::UiState>,
    /// Cancelled when the server begins to stop (see [`WebOptions::stopping`]).
    pub(crate) stopping: CancellationToken,
}

/// How often a server-sent event stream sends a keep-alive comment.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Where the REST API is mounted.
const API_PREFIX: &str = "/api/v1";

/// Every route [`router`] serves, as (method, path) with `{id}` for path parameters:
/// `("GET", "/api/v1/tickets/{id}")`. The OpenAPI document describes exactly these, which the
/// tests check; a binary can print them.
pub fn route_table() -> Vec<(&'static str, String)> {
    let api = api::routes().into_iter().map(|r| (r.verb.as_str(), format!("{API_PREFIX}{}", r.path)));
    let ops = ops::routes().into_iter().map(|r| (r.verb.as_str(), r.path.to_owned()));
    api.chain(ops).collect()
}

/// The HTTP surface of `app`: `/api/v1/…`, the web UI's pages, `/healthz`, `/readyz` and
/// `/metrics`. The binary serves it.
pub fn router(app: App, options: WebOptions) -> Router {
    let ui = std::sync::Arc::new(ui::UiState::new(&app, options.oidc, options.demo));
    let web = Web { app, metrics: options.metrics, ui, stopping: options.stopping };
    Router::new()
        .nest(API_PREFIX, api::router())
        .merge(ui::router())
        // The nested router's fallback does not see the bare prefix with a slash.
        .route("/api/v1/", axum::routing::any(api::no_route))
        .merge(api::table_router(ops::routes()))
        // Any other path: a page saying so, with the way back.
        .fallback(ui::not_found)
        .with_state(web)
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(TraceLayer::new_for_http())
}
