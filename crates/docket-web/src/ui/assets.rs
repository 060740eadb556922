//! `/static/…`: the stylesheet and the script, compiled into the binary (no build step).

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::page::UiError;

const CSS: &str = include_str!("../../static/docket.css");
const JS: &str = include_str!("../../static/docket.js");

/// `GET /static/{file}`
pub(crate) async fn serve(Path(file): Path<String>) -> Result<Response, UiError> {
    let (body, kind) = match file.as_str() {
        "docket.css" => (CSS, "text/css; charset=utf-8"),
        "docket.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return Err(UiError::NotFound(format!("There is no file `{file}`."))),
    };
    let mut response = ([(header::CONTENT_TYPE, kind)], body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}
