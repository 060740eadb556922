//! Sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure behind https), its
//! SHA-256 kept in surface state with the person, the CSRF token and the expiry. Only the hash
//! is stored, so reading the database does not hand out sessions; the store is shared, so a
//! session works on every replica and survives restarts.

use axum::http::{HeaderMap, HeaderValue, header};
use docket_app::{App, AppError};
use docket_core::PersonId;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The surface-state scope of everything the web UI keeps.
pub(crate) const SCOPE: &str = "web";
/// The session cookie's name.
pub(crate) const COOKIE: &str = "docket_session";
/// How long a session lasts.
const LIFETIME: SignedDuration = SignedDuration::from_hours(12);

/// A signed-in browser.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Session {
    /// Who it acts as.
    pub(crate) person: PersonId,
    /// The token every form must send back.
    pub(crate) csrf: String,
    /// When it ends.
    pub(crate) expires: Timestamp,
}

/// 32 random bytes as hex.
pub(crate) fn random_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Invalid(format!("no randomness available: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The SHA-256 of `text` as hex.
pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn key(id: &str) -> String {
    format!("session:{}", sha256_hex(id))
}

/// Starts a session for `person`; returns the cookie value (the session id).
pub(crate) async fn create(app: &App, person: &PersonId) -> Result<String, AppError> {
    let id = random_token()?;
    let expires = app.clock_now().checked_add(LIFETIME).unwrap_or(Timestamp::MAX);
    let session = Session { person: person.clone(), csrf: random_token()?, expires };
    let json = serde_json::to_string(&session).map_err(|e| AppError::Invalid(e.to_string()))?;
    app.remember(SCOPE, &key(&id), &json).await?;
    Ok(id)
}

/// The live session with cookie value `id`, if there is one.
pub(crate) async fn load(app: &App, id: &str) -> Result<Option<Session>, AppError> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(json) = app.recall(SCOPE, &key(id)).await? else { return Ok(None) };
    let Ok(session) = serde_json::from_str::<Session>(&json) else { return Ok(None) };
    Ok((session.expires > app.clock_now()).then_some(session))
}

/// Ends `session`, whose cookie value is `id` (it is kept as expired until pruned).
pub(crate) async fn end(app: &App, id: &str, session: &Session) -> Result<(), AppError> {
    let ended = Session { expires: Timestamp::UNIX_EPOCH, ..session.clone() };
    let json = serde_json::to_string(&ended).map_err(|e| AppError::Invalid(e.to_string()))?;
    app.remember(SCOPE, &key(id), &json).await
}

/// The value of cookie `name` in the request, if sent.
pub(crate) fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, Secure when `secure`; `max_age`
/// in seconds (0 deletes it).
pub(crate) fn set_cookie(name: &str, value: &str, secure: bool, max_age: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("docket_invalid=; Max-Age=0"))
}

/// The `Set-Cookie` value of a new session.
pub(crate) fn session_cookie(id: &str, secure: bool) -> HeaderValue {
    set_cookie(COOKIE, id, secure, LIFETIME.as_secs())
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; docket_session=abc ; x_docket_session=no"));
        assert_eq!(read_cookie(&headers, COOKIE), Some("abc"));
        assert_eq!(read_cookie(&headers, "b"), None);
    }

    #[test]
    fn session_cookies_are_http_only_and_lax() {
        let cookie = session_cookie("abc", true);
        let text = cookie.to_str().unwrap();
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Lax") && text.ends_with("; Secure"), "{text}");
        assert!(!set_cookie("a", "b", false, 0).to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn token_comparison() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
    }
}
