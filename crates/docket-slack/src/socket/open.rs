//! `apps.connections.open`: trades the app-level token (`xapp-…`) for a single-use WebSocket
//! URL. Every connection, and every reconnection, asks for a fresh one.

use std::time::{Duration, SystemTime};

use docket_app::outbound::retry_after;
use serde::Deserialize;

use super::SocketError;

/// Asks Slack (at `api_url`) for a WebSocket URL.
pub(super) async fn open_url(http: &reqwest::Client, api_url: &str, app_token: &str) -> Result<String, SocketError> {
    let endpoint = format!("{}/apps.connections.open", api_url.trim_end_matches('/'));
    let response = http
        .post(&endpoint)
        .bearer_auth(app_token)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .map_err(|e| SocketError::Http(e.without_url().to_string()))?;
    if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
        // Seconds or an HTTP-date; a second when Slack gives none, five minutes at most.
        let wait = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, SystemTime::now()))
            .unwrap_or(Duration::from_secs(1));
        return Err(SocketError::RateLimited(wait.min(Duration::from_secs(300))));
    }
    if !response.status().is_success() {
        return Err(SocketError::Http(format!("apps.connections.open answered HTTP {}", response.status().as_u16())));
    }
    let answer: Answer =
        response.json().await.map_err(|e| SocketError::Http(format!("apps.connections.open: {}", e.without_url())))?;
    match answer {
        Answer { ok: true, url: Some(url), .. } => check_url(&url).map(|()| url),
        Answer { ok: true, url: None, .. } => Err(SocketError::Slack("no url in the answer".to_owned())),
        Answer { error, .. } => Err(SocketError::Slack(error.unwrap_or_else(|| "unknown_error".to_owned()))),
    }
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    url: Option<String>,
    error: Option<String>,
}

/// Slack hands out `wss://` URLs. Plain `ws://` is accepted only to a loopback address (a
/// local fake), so no connection carrying workspace data ever goes out unencrypted.
fn check_url(url: &str) -> Result<(), SocketError> {
    if url.starts_with("wss://") {
        return Ok(());
    }
    if let Some(rest) = url.strip_prefix("ws://") {
        let host = rest.split(['/', '?']).next().unwrap_or_default();
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Ok(());
        }
    }
    Err(SocketError::Slack("the WebSocket URL is neither wss:// nor a loopback ws://".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_wss_or_loopback_ws_urls_are_used() {
        for ok in [
            "wss://wss-primary.slack.com/link/?ticket=abc&app_id=A1",
            "ws://127.0.0.1:4567/link/?ticket=1",
            "ws://localhost:80/link",
            "ws://[::1]:9/x",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in ["ws://slack.example.com/link", "ws://127.0.0.1.evil.com/x", "http://127.0.0.1/", "ftp://x", ""] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
