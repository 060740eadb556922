//! The raw request body, for endpoints that must check a signature over the exact bytes before
//! parsing anything (Slack, Bot Framework, webhooks). A body over the route's limit
//! (`DefaultBodyLimit`) or one that cannot be read is refused with the JSON error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;

use crate::error::error_response;

/// The request body, read whole within the route's limit.
#[derive(Debug, Clone)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                error_response(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the request body is too large")
            } else {
                error_response(StatusCode::BAD_REQUEST, "invalid_body", rejection.body_text())
            }
        })
    }
}
