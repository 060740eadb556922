//! `POST /teams/messages`, where Bot Framework delivers activities. The bearer token is verified
//! before the body is read for meaning, and with `teams.tenant_id` set only that tenant's
//! activities are accepted; a refused request gets 401 or 403 (503 when the signing keys cannot
//! be fetched, so Bot Framework tries again), an audit record, and nothing else; error bodies use
//! Docket's JSON error shape. Card actions (`adaptiveCard/action` invokes) are answered within
//! Teams' 5 s with the card that replaces the clicked one; messages are acknowledged at once and
//! answered through the connector.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use docket_app::App;
use docket_http::{Peer, RawBody, error_response as http_error};

use crate::activity::{Activity, error_response};
use crate::auth::{AuthError, Authenticator};
use crate::client::Connector;
use crate::conversations::Conversations;
use crate::{invoke, messages};

/// The path Bot Framework posts to (the bot's messaging endpoint).
pub const MESSAGES_PATH: &str = "/teams/messages";
/// Longest an invoke may take before Docket answers with an error (Teams waits 5 s).
const INVOKE_DEADLINE: Duration = Duration::from_millis(4_500);
/// Largest activity accepted.
const MAX_BODY: usize = 256 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) app: App,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) connector: Arc<Connector>,
    /// The only tenant accepted (`teams.tenant_id`), when set.
    pub(crate) tenant: Option<String>,
}

/// The router for `POST /teams/messages`.
pub(crate) fn router(shared: Shared) -> Router {
    Router::new()
        .route(MESSAGES_PATH, post(messages_endpoint))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

async fn messages_endpoint(
    State(shared): State<Shared>,
    Peer(peer): Peer,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let verified = match shared.auth.verify(authorization).await {
        Ok(verified) => verified,
        Err(error) => return refuse(&shared.app, peer, &error).await,
    };
    let activity: Activity = match serde_json::from_slice(&body) {
        Ok(activity) => activity,
        Err(error) => {
            tracing::warn!(%error, "a Teams activity that does not parse");
            return http_error(StatusCode::BAD_REQUEST, "malformed_activity", "the activity does not parse");
        }
    };
    if let Err(error) = verified.check_activity(&activity.service_url, &activity.channel_id) {
        return refuse(&shared.app, peer, &error).await;
    }
    if let Some(tenant) = shared.tenant.as_deref() {
        let from = activity.tenant_id().unwrap_or_default();
        if from != tenant {
            return refuse(&shared.app, peer, &AuthError::Tenant(from.chars().take(64).collect())).await;
        }
    }
    if let Err(error) = Conversations::new(shared.app.clone()).learn(&activity).await {
        tracing::warn!(%error, "could not keep a Teams conversation reference");
    }
    match activity.kind.as_str() {
        "message" => {
            let handling = shared.clone();
            shared.app.after_answer(async move { messages::handle(&handling, &activity).await });
            StatusCode::OK.into_response()
        }
        "invoke" if activity.name.as_deref() == Some("adaptiveCard/action") => {
            let answer = tokio::time::timeout(INVOKE_DEADLINE, invoke::handle(&shared, &activity)).await;
            let value =
                answer.unwrap_or_else(|_| error_response(503, "timeout", "Docket did not answer in time; try again"));
            axum::Json(value).into_response()
        }
        "invoke" => http_error(StatusCode::NOT_IMPLEMENTED, "not_implemented", "Docket answers no such invoke"),
        _ => StatusCode::OK.into_response(),
    }
}

async fn refuse(app: &App, peer: Option<std::net::IpAddr>, error: &AuthError) -> Response {
    tracing::warn!(%error, "refused a Teams request");
    app.audit_rejected_credentials("teams", peer, &error.to_string()).await;
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let (code, message) = match status {
        StatusCode::SERVICE_UNAVAILABLE => ("keys_unavailable", "the signing keys could not be fetched; try again"),
        StatusCode::FORBIDDEN => ("forbidden", "this bot does not serve that tenant"),
        _ => ("unauthenticated", "the request could not be authenticated"),
    };
    http_error(status, code, message)
}
