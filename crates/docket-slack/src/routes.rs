//! HTTP mode: `POST /slack/commands`, `/slack/interactions`, `/slack/events`. Each request's
//! v0 signature is checked over the raw body before anything is parsed; a failure (forged,
//! stale, replayed) is an opaque 401 and an audit record, and nothing else. Authentic but
//! malformed input is a 400 that changes nothing. Error bodies use Docket's JSON error shape.

use std::net::IpAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use docket_http::{Peer, RawBody, error_response};

use crate::Slack;
use crate::inbound::{Ack, CommandForm, Inbound, InboundError};
use crate::verify::verify;
use docket_http::warn_throttled;

/// Largest body accepted (Slack's payloads are a few kB; a view state can be larger).
const BODY_LIMIT: usize = 1024 * 1024;
/// The routes of HTTP mode, to merge into the server.
pub fn router(slack: Slack) -> Router {
    Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .route("/slack/events", post(events))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(slack)
}

async fn commands(
    State(slack): State<Slack>,
    Peer(peer): Peer,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    if let Err(refused) = authenticate(&slack, peer, &headers, &body).await {
        return refused;
    }
    answer(&slack, CommandForm::from_form(&body).map(Inbound::Command)).await
}

async fn interactions(
    State(slack): State<Slack>,
    Peer(peer): Peer,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    if let Err(refused) = authenticate(&slack, peer, &headers, &body).await {
        return refused;
    }
    answer(&slack, Inbound::interaction_from_form(&body)).await
}

async fn events(State(slack): State<Slack>, Peer(peer): Peer, headers: HeaderMap, RawBody(body): RawBody) -> Response {
    if let Err(refused) = authenticate(&slack, peer, &headers, &body).await {
        return refused;
    }
    answer(&slack, Inbound::event_from_json(&body)).await
}

async fn answer(slack: &Slack, inbound: Result<Inbound, InboundError>) -> Response {
    let result = match inbound {
        Ok(inbound) => slack.dispatch(inbound).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(Ack(None)) => StatusCode::OK.into_response(),
        Ok(Ack(Some(body))) => axum::Json(body).into_response(),
        Err(error) => {
            tracing::debug!(%error, "a malformed Slack request");
            error_response(StatusCode::BAD_REQUEST, "malformed_request", error.to_string())
        }
    }
}

/// Checks the signature and that this exact request was not seen before.
async fn authenticate(slack: &Slack, peer: Option<IpAddr>, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
    let app = slack.app();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature = header("x-slack-signature");
    let now = app.clock_now().as_second();
    let checked = verify(&slack.settings().signing_secret, header("x-slack-request-timestamp"), signature, body, now);
    if let Err(error) = checked {
        app.audit_rejected_credentials(crate::SCOPE, peer, &format!("request signature refused: {error}")).await;
        return Err(unauthenticated());
    }
    match slack.first_delivery(&format!("sig:{}", signature.unwrap_or_default())).await {
        Ok(true) => {}
        Ok(false) => {
            app.audit_rejected_credentials(crate::SCOPE, peer, "request replayed (its signature was already used)")
                .await;
            return Err(unauthenticated());
        }
        Err(error) => warn_throttled!(%error, "could not record a Slack signature; accepting the request"),
    }
    Ok(())
}

/// The opaque refusal of a request that is not Slack's: what was wrong goes to the audit only.
fn unauthenticated() -> Response {
    error_response(StatusCode::UNAUTHORIZED, "unauthenticated", "the request could not be authenticated")
}
