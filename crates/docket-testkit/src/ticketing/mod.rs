//! Fakes of the ticketing systems Docket mirrors tickets into, on loopback: Jira Cloud's REST
//! v3 ([`jira`]) and ServiceNow's Table API ([`servicenow`]). Each answers with the documented
//! shapes, checks its credentials, records every call, can be taken down or made to lose an
//! answer after doing the work (the window a crash leaves), and signs the webhooks it sends.

pub mod jira;
pub mod servicenow;
pub mod servicenow_oauth;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// `sha256=<hex HMAC-SHA256 of body>`, as Jira's `X-Hub-Signature` (and Docket's ServiceNow
/// business rule) signs a delivery.
pub fn hub_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A basic `Authorization` header's user and password, if it is one.
pub(crate) fn basic_auth(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}
