//! Rendering an `http` action into a request: method, URL (http and https only), headers,
//! JSON body and the idempotency key. Each problem is a one-line message for a failed outcome;
//! header values never appear in one, since they often carry credentials.

use super::action::HttpAction;
use docket_app::StepJob;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

/// The header that carries the job's idempotency key unless the workflow sets it itself.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// A request ready to send.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Vec<u8>>,
}

/// Renders `http` for `job`.
pub(crate) fn prepare(http: &HttpAction, job: &StepJob<'_>) -> Result<Prepared, String> {
    let method_text = http.method.trim().to_ascii_uppercase();
    let method =
        Method::from_bytes(method_text.as_bytes()).map_err(|_| format!("{:?} is not an HTTP method", http.method))?;

    let url_text = http.url.render(job.params);
    let url = Url::parse(url_text.trim()).map_err(|e| format!("the URL {url_text:?} is not valid: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("only http and https URLs are allowed, not {}: URLs", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("the URL {url_text:?} has no host"));
    }

    let mut headers = HeaderMap::new();
    for (name, template) in &http.headers {
        let header =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a valid header name"))?;
        let value = HeaderValue::from_str(&template.render(job.params))
            .map_err(|_| format!("the value of header {name} has characters HTTP does not allow (a line break?)"))?;
        headers.insert(header, value);
    }
    if !headers.contains_key(IDEMPOTENCY_KEY) {
        let key = HeaderValue::from_str(job.idempotency_key)
            .map_err(|_| "the idempotency key cannot be sent as a header".to_owned())?;
        headers.insert(HeaderName::from_static(IDEMPOTENCY_KEY), key);
    }

    let body = match &http.body {
        None => None,
        Some(template) => {
            let bytes = serde_json::to_vec(&template.render(job.params))
                .map_err(|e| format!("the JSON body could not be written: {e}"))?;
            if !headers.contains_key(CONTENT_TYPE) {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Some(bytes)
        }
    };
    Ok(Prepared { method, url, headers, body })
}

/// The URL as shown in logs and messages: without a user name or password.
pub(crate) fn shown(url: &Url) -> String {
    let mut url = url.clone();
    // Both fail only for URLs that cannot have credentials, which then have none to hide.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}
