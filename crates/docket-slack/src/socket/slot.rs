//! One connection slot: connect (fresh URL, WebSocket, `hello`), serve, and replace the
//! connection — before it closes when Slack asks for a refresh, after a backoff when it drops.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use super::connection::{self, Ended, Links, Ws};
use super::frame::{self, Frame};
use super::{Shared, SocketError, open};
use docket_http::warn_throttled;

/// The largest frame accepted from Slack.
const MAX_FRAME: usize = 4 << 20;

/// A connection that was replaced and is finishing its acknowledgements.
struct Retiring {
    retire: CancellationToken,
    task: JoinHandle<Ended>,
}

/// Keeps one connection open until `shutdown`.
pub(super) async fn run(slot: usize, shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut backoff = shared.settings.backoff.delays();
    let mut retiring: Vec<Retiring> = Vec::new();
    'connect: loop {
        let ws = tokio::select! {
            () = shutdown.cancelled() => break 'connect,
            connected = connect(&shared) => connected,
        };
        let ws = match ws {
            Ok(ws) => ws,
            Err(e) => {
                let delay = match e {
                    // Never sooner than Slack's Retry-After.
                    SocketError::RateLimited(wait) => wait.max(backoff.next_delay()),
                    _ => backoff.next_delay(),
                };
                warn_throttled!(slot, error = %e, "Socket Mode: could not connect; trying again in {delay:?}");
                metrics::counter!("docket_slack_socket_connect_failures_total").increment(1);
                if pause(delay, &shutdown).await {
                    break 'connect;
                }
                continue 'connect;
            }
        };
        tracing::info!(slot, "Socket Mode: connected");
        metrics::counter!("docket_slack_socket_connects_total").increment(1);
        // Make before break: the connection this one replaces closes only now.
        for old in retiring.drain(..) {
            old.retire.cancel();
            tokio::spawn(async move {
                let _ = old.task.await;
            });
        }
        let (refresh, mut refreshes) = mpsc::channel(4);
        let retire = CancellationToken::new();
        let links = Links { refresh, retire: retire.clone(), shutdown: shutdown.clone() };
        let started = Instant::now();
        let mut task = tokio::spawn(connection::serve(ws, shared.clone(), links, slot));
        loop {
            tokio::select! {
                Some(reason) = refreshes.recv() => {
                    if reason.replace_at_once() {
                        retiring.push(Retiring { retire, task });
                        continue 'connect;
                    }
                    tracing::info!(slot, reason = reason.as_str(), "Socket Mode: reconnecting once Slack closes this connection");
                }
                ended = &mut task => {
                    let ended = ended.unwrap_or_else(|e| Ended::Closed(format!("the connection task failed: {e}")));
                    match ended {
                        Ended::Shutdown => break 'connect,
                        Ended::Retired => continue 'connect,
                        Ended::Closed(why) => {
                            if started.elapsed() >= shared.settings.stable_after {
                                backoff.reset();
                            }
                            let delay = backoff.next_delay();
                            warn_throttled!(slot, why = %why, "Socket Mode: connection lost; reconnecting in {delay:?}");
                            if pause(delay, &shutdown).await {
                                break 'connect;
                            }
                            continue 'connect;
                        }
                    }
                }
            }
        }
    }
    for old in retiring {
        old.retire.cancel();
        let _ = old.task.await;
    }
}

/// Sleeps for `delay`; `true` if Docket is stopping.
async fn pause(delay: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => true,
        () = tokio::time::sleep(delay) => false,
    }
}

/// A fresh URL, the WebSocket, and its `hello`.
async fn connect(shared: &Shared) -> Result<Ws, SocketError> {
    let url = open::open_url(&shared.http, &shared.settings.api_url, &shared.settings.app_token).await?;
    let config = WebSocketConfig::default().max_message_size(Some(MAX_FRAME)).max_frame_size(Some(MAX_FRAME));
    let limit = shared.settings.hello_timeout;
    let opening = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true);
    let (mut ws, _) = tokio::time::timeout(limit, opening)
        .await
        .map_err(|_| SocketError::WebSocket(format!("no connection within {limit:?}")))?
        .map_err(|e| SocketError::WebSocket(e.to_string()))?;
    tokio::time::timeout(limit, hello(&mut ws))
        .await
        .map_err(|_| SocketError::WebSocket(format!("no hello within {limit:?}")))??;
    Ok(ws)
}

/// Reads until `hello`.
async fn hello(ws: &mut Ws) -> Result<(), SocketError> {
    loop {
        match ws.next().await {
            None | Some(Ok(Message::Close(_))) => return Err(SocketError::WebSocket("closed before hello".to_owned())),
            Some(Err(e)) => return Err(SocketError::WebSocket(e.to_string())),
            Some(Ok(Message::Text(text))) => match frame::parse(text.as_str()) {
                Ok(Frame::Hello) => return Ok(()),
                Ok(Frame::Disconnect(reason)) => {
                    return Err(SocketError::WebSocket(format!("disconnect ({}) before hello", reason.as_str())));
                }
                // Slack says hello first; anything else before it is left for Slack to send again.
                Ok(Frame::Envelope(_)) | Err(_) => tracing::debug!("Socket Mode: a frame before hello, ignored"),
            },
            Some(Ok(_)) => {}
        }
    }
}
