//! Slack's v0 request signature: HMAC-SHA256 over `v0:{timestamp}:{raw body}` keyed with the
//! signing secret, compared in constant time, with the timestamp within five minutes of now
//! (either way). Checked on the raw bytes before anything is parsed.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far a request's timestamp may be from now, in seconds.
pub const WINDOW_SECS: i64 = 5 * 60;

/// Why a request's signature was refused. Shown only in the audit log, never to the caller.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header is missing.
    #[error("missing header {0}")]
    Missing(&'static str),
    /// The timestamp is not a number.
    #[error("malformed timestamp")]
    BadTimestamp,
    /// The timestamp is outside the window.
    #[error("timestamp {skew}s away from now (window {WINDOW_SECS}s)")]
    Stale {
        /// Seconds between the request's timestamp and now.
        skew: i64,
    },
    /// The signature is not `v0=` + 64 hex digits.
    #[error("malformed signature")]
    BadFormat,
    /// The signature does not match.
    #[error("signature mismatch")]
    Mismatch,
}

/// The `X-Slack-Signature` value Slack sends for `body` at `timestamp`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    format!("v0={}", hex::encode(mac(secret, timestamp, body)))
}

/// Checks a request: `timestamp` and `signature` are the header values (if present), `now`
/// the current Unix time in seconds.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing("X-Slack-Request-Timestamp"))?;
    let signature = signature.ok_or(SignatureError::Missing("X-Slack-Signature"))?;
    let when: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    let skew = now.saturating_sub(when);
    if skew.saturating_abs() > WINDOW_SECS {
        return Err(SignatureError::Stale { skew });
    }
    let given = signature
        .strip_prefix("v0=")
        .filter(|hex| hex.len() == 64)
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureError::BadFormat)?;
    let expected = mac(secret, timestamp, body);
    if bool::from(expected.as_slice().ct_eq(given.as_slice())) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else { return Vec::new() };
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

    use super::*;

    /// The worked example from Slack's documentation on verifying requests.
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

    #[test]
    fn slacks_documented_example_verifies() {
        let signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(sign(SECRET, TS, BODY.as_bytes()), signature);
        assert_eq!(verify(SECRET, Some(TS), Some(signature), BODY.as_bytes(), 1_531_420_618 + 10), Ok(()));
    }

    #[test]
    fn a_changed_byte_a_wrong_secret_or_a_stale_time_is_refused() {
        let now = 1_531_420_618;
        let good = sign(SECRET, TS, BODY.as_bytes());
        let mut body = BODY.as_bytes().to_vec();
        body[10] ^= 1;
        assert_eq!(verify(SECRET, Some(TS), Some(&good), &body, now), Err(SignatureError::Mismatch));
        assert_eq!(verify("other", Some(TS), Some(&good), BODY.as_bytes(), now), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(SECRET, Some(TS), Some(&good), BODY.as_bytes(), now + 301),
            Err(SignatureError::Stale { skew: 301 })
        );
        assert_eq!(
            verify(SECRET, Some(TS), Some(&good), BODY.as_bytes(), now - 301),
            Err(SignatureError::Stale { skew: -301 })
        );
        assert!(verify(SECRET, Some(TS), Some(&good), BODY.as_bytes(), now + 300).is_ok());
        assert_eq!(
            verify(SECRET, None, Some(&good), BODY.as_bytes(), now),
            Err(SignatureError::Missing("X-Slack-Request-Timestamp"))
        );
        assert_eq!(
            verify(SECRET, Some(TS), None, BODY.as_bytes(), now),
            Err(SignatureError::Missing("X-Slack-Signature"))
        );
        assert_eq!(verify(SECRET, Some("soon"), Some(&good), BODY.as_bytes(), now), Err(SignatureError::BadTimestamp));
        assert_eq!(verify(SECRET, Some(TS), Some("v1=00"), BODY.as_bytes(), now), Err(SignatureError::BadFormat));
        assert_eq!(verify(SECRET, Some(TS), Some(&good[..60]), BODY.as_bytes(), now), Err(SignatureError::BadFormat));
    }
}
