//! The JSON error shape of every endpoint Docket serves: `{"error": {"code", "message",
//! "details"}}`. Chat platforms ignore error bodies; operators and API clients read them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The error document: a stable `code`, a `message` in words, and `details` (an object).
pub fn error_body(code: &str, message: &str, details: Value) -> Value {
    json!({ "error": { "code": code, "message": message, "details": details } })
}

/// A response with `status` and the error document, without details.
pub fn error_response(status: StatusCode, code: &str, message: impl AsRef<str>) -> Response {
    let mut response = (status, axum::Json(error_body(code, message.as_ref(), json!({})))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shape_has_code_message_and_details() {
        let body = error_body("body_too_large", "too large", json!({}));
        assert_eq!(body["error"]["code"], "body_too_large");
        assert_eq!(body["error"]["message"], "too large");
        assert!(body["error"]["details"].is_object());
    }
}
