//! Endpoints for whoever runs Docket: `/healthz` (the process answers), `/readyz` (the store
//! answers) and `/metrics` (Prometheus text). None needs a token: they say nothing about
//! tickets beyond counts.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use docket_core::TicketState;

use crate::Web;
use crate::api::{ApiError, NotFound, Route, Unavailable, Verb, route};

/// The operational routes.
pub(crate) fn routes() -> Vec<Route> {
    vec![
        route(Verb::Get, "/healthz", healthz),
        route(Verb::Get, "/readyz", readyz),
        route(Verb::Get, "/metrics", metrics),
    ]
}

/// Always 200 while the process serves requests.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    security(()),
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain"))
)]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// 200 when the store answers, else 503 with the error (its detail goes to the log).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    security(()),
    responses(
        (status = 200, description = "`ready`", body = String, content_type = "text/plain"),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn readyz(State(web): State<Web>) -> Response {
    match web.app.ready().await {
        Ok(()) => "ready".into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// Prometheus text. Gauges that describe stored state are set from the store just before
/// rendering; the app records its own histograms and counters as things happen.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    security(()),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4.", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 404, response = NotFound),
    )
)]
pub(crate) async fn metrics(State(web): State<Web>) -> Response {
    let Some(handle) = &web.metrics else {
        return ApiError::not_found("metrics are not enabled on this server").into_response();
    };
    match web.app.stats().await {
        Ok(stats) => {
            for state in TicketState::ALL {
                let count = stats.tickets_by_state.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n);
                metrics::gauge!("docket_tickets", "state" => state.as_str()).set(count as f64);
            }
            metrics::gauge!("docket_queue_depth").set(stats.queue_depth as f64);
            let lag = stats.oldest_undelivered.map_or(0.0, |oldest| {
                let age = web.app.clock_now().duration_since(oldest);
                age.as_secs_f64().max(0.0)
            });
            metrics::gauge!("docket_outbox_lag_seconds").set(lag);
        }
        // Still render what the app recorded; the stale gauges are better than no metrics.
        Err(error) => tracing::warn!(%error, "could not read counts for /metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}
