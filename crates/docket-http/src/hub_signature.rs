//! The `X-Hub-Signature: sha256=…` scheme webhooks from ticketing systems use (Jira; the
//! ServiceNow callbacks Docket documents): the HMAC-SHA256 of the raw body keyed with a shared
//! secret, compared in constant time before anything is parsed. The MAC may be written as 64 hex
//! digits or as the 44 characters of base64 that ServiceNow's `generateMac` returns.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a delivery's signature was refused. Shown only in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature` header.
    #[error("missing header X-Hub-Signature")]
    Missing,
    /// Not `sha256=` + 64 hex digits or 44 base64 characters.
    #[error("malformed signature")]
    BadFormat,
    /// It does not match the body.
    #[error("signature mismatch")]
    Mismatch,
}

/// The header value for `body` signed with `secret` (hex).
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac(secret, body)))
}

/// Checks `signature` (the header's value, if any) against `body`.
pub fn verify(secret: &str, signature: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let signature = signature.ok_or(SignatureError::Missing)?;
    let given = signature.trim().strip_prefix("sha256=").and_then(decode).ok_or(SignatureError::BadFormat)?;
    if bool::from(mac(secret, body).as_slice().ct_eq(given.as_slice())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The MAC from 64 hex digits or 44 characters of base64.
fn decode(text: &str) -> Option<Vec<u8>> {
    match text.len() {
        64 => hex::decode(text).ok(),
        44 => base64::engine::general_purpose::STANDARD.decode(text).ok().filter(|b| b.len() == 32),
        _ => None,
    }
}

fn mac(secret: &str, body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else { return Vec::new() };
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_matches_its_body_only() {
        let signature = sign("s3cret", b"{\"a\":1}");
        assert_eq!(verify("s3cret", Some(&signature), b"{\"a\":1}"), Ok(()));
        assert_eq!(verify("s3cret", Some(&signature), b"{\"a\":2}"), Err(SignatureError::Mismatch));
        assert_eq!(verify("other", Some(&signature), b"{\"a\":1}"), Err(SignatureError::Mismatch));
        assert_eq!(verify("s3cret", None, b"{}"), Err(SignatureError::Missing));
        assert_eq!(verify("s3cret", Some("sha1=abc"), b"{}"), Err(SignatureError::BadFormat));
    }

    #[test]
    fn servicenows_base64_form_is_accepted() {
        let base64 = base64::engine::general_purpose::STANDARD.encode(mac("s3cret", b"{}"));
        assert_eq!(verify("s3cret", Some(&format!("sha256={base64}")), b"{}"), Ok(()));
    }
}
