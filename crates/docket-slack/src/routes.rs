//! HTTP mode: `POST /slack/commands`, `/slack/interactions`, `/slack/events`. Each request's
//! v0 signature is checked over the raw body before anything is parsed; a failure (forged,
//! stale, replayed) is an opaque 401 and an audit record, and nothing else. The signature is
//! recorded as seen before anything is done, except that a request form's submission records
//! it in the transaction that opens its ticket (one write instead of two): its person is looked
//! up and the request decided first, so a replay that reaches another replica before its
//! original is recorded may repeat a refusal's audit record, though never the ticket.
//! Authentic but malformed input is a 400 that changes nothing. Error bodies use Docket's JSON
//! error shape.

use std::net::IpAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use docket_http::{Peer, RawBody, error_response};

use crate::Slack;
use crate::inbound::{Ack, CommandForm, DeliveryKind, Inbound, InboundError, Unseen};
use crate::verify::verify;

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
    let read = |body: &[u8]| CommandForm::from_form(body).map(Inbound::Command);
    handle(&slack, peer, &headers, &body, read).await
}

async fn interactions(
    State(slack): State<Slack>,
    Peer(peer): Peer,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    handle(&slack, peer, &headers, &body, Inbound::interaction_from_form).await
}

async fn events(State(slack): State<Slack>, Peer(peer): Peer, headers: HeaderMap, RawBody(body): RawBody) -> Response {
    handle(&slack, peer, &headers, &body, Inbound::event_from_json).await
}

/// Authenticates a request, reads it with `read` and answers it. Its signature is recorded as
/// seen before anything is done, or with the ticket a request form opens (see `submissions`);
/// a body that cannot be read records it before it is refused.
async fn handle(
    slack: &Slack,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    body: &[u8],
    read: impl FnOnce(&[u8]) -> Result<Inbound, InboundError>,
) -> Response {
    let unseen = match authenticate(slack, peer, headers, body).await {
        Ok(unseen) => Some(unseen),
        Err(refused) => return refused,
    };
    let result = match read(body) {
        Ok(inbound) => slack.dispatch_unseen(inbound, unseen).await,
        Err(error) => slack.see(unseen).await.and(Err(error)),
    };
    match result {
        Ok(Ack(None)) => StatusCode::OK.into_response(),
        Ok(Ack(Some(body))) => axum::Json(body).into_response(),
        Err(error) => refuse(slack, peer, error).await,
    }
}

/// A replayed request is refused like a forged one; a malformed one is a 400.
async fn refuse(slack: &Slack, peer: Option<IpAddr>, error: InboundError) -> Response {
    if matches!(error, InboundError::Replayed) {
        slack.app().audit_rejected_credentials(crate::SCOPE, peer, &error.to_string()).await;
        return unauthenticated();
    }
    tracing::debug!(%error, "a malformed Slack request");
    error_response(StatusCode::BAD_REQUEST, "malformed_request", error.to_string())
}

/// Checks the signature; the request's key for the replay check, to be recorded as seen.
async fn authenticate(
    slack: &Slack,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Unseen, Response> {
    let app = slack.app();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature = header("x-slack-signature");
    let now = app.clock_now().as_second();
    let checked = verify(&slack.settings().signing_secret, header("x-slack-request-timestamp"), signature, body, now);
    if let Err(error) = checked {
        app.audit_rejected_credentials(crate::SCOPE, peer, &format!("request signature refused: {error}")).await;
        return Err(unauthenticated());
    }
    // Keyed by time first, so that the records of one moment sit side by side in the store's
    // index (a commit touches one page for a batch's records, not one page each). The
    // timestamp is signed, so a replay has the same key; the signature's hex digits are
    // lowercased, since the check takes either case.
    let ts = header("x-slack-request-timestamp").unwrap_or_default();
    let key = format!("sig:{ts}:{}", signature.unwrap_or_default().to_ascii_lowercase());
    Ok(Unseen { key, peer, kind: DeliveryKind::Signed })
}

/// The opaque refusal of a request that is not Slack's: what was wrong goes to the audit only.
fn unauthenticated() -> Response {
    error_response(StatusCode::UNAUTHORIZED, "unauthenticated", "the request could not be authenticated")
}
