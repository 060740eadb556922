//! One open Socket Mode connection: reads frames, hands each envelope to the handler on a task
//! of its own (so a slow one delays nobody), sends the acknowledgements, pings, and reports a
//! `disconnect` to its slot while it keeps serving until it is retired or closed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use super::frame::{self, DisconnectReason, Envelope, Frame};
use super::{Handled, HandlerError, Shared};
use docket_http::warn_throttled;

/// A WebSocket to Slack.
pub(super) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a closing connection waits for acknowledgements still being prepared.
const DRAIN: Duration = Duration::from_secs(3);

/// Frames waiting to be written.
const OUTGOING: usize = 1024;

/// How a connection ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// Slack closed it, or it broke (the reason, for the log).
    Closed(String),
    /// Its replacement is open.
    Retired,
    /// Docket is stopping.
    Shutdown,
}

/// What ties a connection to its slot.
pub(super) struct Links {
    /// Told about a `disconnect` frame.
    pub(super) refresh: mpsc::Sender<DisconnectReason>,
    /// Cancelled when the replacement is open.
    pub(super) retire: CancellationToken,
    /// Cancelled when Docket stops.
    pub(super) shutdown: CancellationToken,
}

/// Serves `ws` until it closes, is retired, or Docket stops; then waits (briefly) for the
/// acknowledgements of envelopes in hand and closes the WebSocket.
pub(super) async fn serve(ws: Ws, shared: Arc<Shared>, links: Links, slot: usize) -> Ended {
    shared.open.fetch_add(1, Ordering::Relaxed);
    metrics::gauge!("docket_slack_socket_connections").increment(1.0);
    let (sink, mut stream) = ws.split();
    let (out, queue) = mpsc::channel::<Message>(OUTGOING);
    let writer = tokio::spawn(write_all(sink, queue));
    let ping_interval = shared.settings.ping_interval.max(Duration::from_millis(10));
    let mut ping = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
    let mut heard = Instant::now();
    let ended = loop {
        tokio::select! {
            biased;
            () = links.shutdown.cancelled() => break Ended::Shutdown,
            () = links.retire.cancelled() => break Ended::Retired,
            _ = ping.tick() => {
                if heard.elapsed() >= ping_interval * 3 {
                    break Ended::Closed("no answer to pings".to_owned());
                }
                if out.try_send(Message::Ping(Vec::new().into())).is_err() {
                    break Ended::Closed("the outgoing queue is full".to_owned());
                }
            }
            message = stream.next() => {
                heard = Instant::now();
                match message {
                    None => break Ended::Closed("closed".to_owned()),
                    Some(Err(e)) => break Ended::Closed(e.to_string()),
                    Some(Ok(Message::Close(frame))) => {
                        break Ended::Closed(frame.map_or_else(|| "closed by Slack".to_owned(), |f| format!("closed by Slack ({})", f.code)));
                    }
                    Some(Ok(Message::Text(text))) => on_text(text.as_str(), &shared, &out, &links, slot),
                    Some(Ok(_)) => {}
                }
            }
        }
    };
    drop(out);
    // The writer ends once every envelope task dropped its sender; it then closes the socket.
    if tokio::time::timeout(DRAIN, writer).await.is_err() {
        tracing::warn!(slot, "Socket Mode: acknowledgements still pending after {DRAIN:?}; closing anyway");
    }
    shared.open.fetch_sub(1, Ordering::Relaxed);
    metrics::gauge!("docket_slack_socket_connections").decrement(1.0);
    ended
}

fn on_text(text: &str, shared: &Arc<Shared>, out: &mpsc::Sender<Message>, links: &Links, slot: usize) {
    match frame::parse(text) {
        Ok(Frame::Hello) => tracing::debug!(slot, "Socket Mode: hello again"),
        Ok(Frame::Disconnect(reason)) => {
            tracing::info!(slot, reason = reason.as_str(), "Socket Mode: Slack will close this connection");
            metrics::counter!("docket_slack_socket_disconnects_total", "reason" => reason.as_str().to_owned())
                .increment(1);
            // The slot holds the receiver while this connection is its current one.
            let _ = links.refresh.try_send(reason);
        }
        Ok(Frame::Envelope(envelope)) => {
            // Started here, as it is read: a stop that begins next waits for it.
            let to_ack = ToAck::of(&envelope);
            let handler = shared.handler.clone();
            let handling = shared.handler.start(Box::pin(async move { handler.handle(envelope).await }));
            tokio::spawn(answer(to_ack, handling, out.clone(), shared.settings.ack_deadline));
        }
        Err(malformed) => {
            warn_throttled!(slot, problem = %malformed.problem, "Socket Mode: ignored a malformed frame");
            metrics::counter!("docket_slack_socket_envelopes_total", "outcome" => "malformed").increment(1);
            if let Some(id) = malformed.envelope_id {
                // Acknowledged, so Slack does not send what Docket cannot read again.
                let _ = out.try_send(Message::text(frame::ack(&id, None)));
            }
        }
    }
}

/// Handles one envelope and sends its acknowledgement: with the handler's answer, empty for a
/// repeat or a refusal, none if it could not be recorded as seen, and empty if the handler
/// takes longer than `deadline` (the handling goes on, and an envelope it then cannot record
/// is logged and counted: acknowledged already, it is not sent again).
async fn answer(
    to_ack: ToAck,
    mut handling: JoinHandle<Result<Handled, HandlerError>>,
    out: mpsc::Sender<Message>,
    deadline: Duration,
) {
    let ToAck { id, accepts, retry } = to_ack;
    let (payload, outcome) = match tokio::time::timeout(deadline, &mut handling).await {
        Ok(Ok(Ok(Handled::Answered(payload)))) => (payload, "handled"),
        Ok(Ok(Ok(Handled::Repeat))) => {
            tracing::debug!(envelope = %id, retry, "Socket Mode: a repeated envelope, acknowledged again");
            (None, "repeat")
        }
        Ok(Ok(Ok(Handled::Unrecorded(e)))) => {
            warn_throttled!(envelope = %id, error = %e, "Socket Mode: could not record the envelope; left for Slack to send again");
            metrics::counter!("docket_slack_socket_envelopes_total", "outcome" => "unrecorded").increment(1);
            return;
        }
        Ok(Ok(Err(e))) => {
            warn_throttled!(envelope = %id, error = %e, "Socket Mode: envelope refused");
            (None, "refused")
        }
        Ok(Err(e)) => {
            tracing::error!(envelope = %id, error = %e, "Socket Mode: the envelope's handler failed");
            (None, "failed")
        }
        Err(_) => {
            warn_throttled!(envelope = %id, "Socket Mode: not answered within {deadline:?}; acknowledged empty");
            let late = id.clone();
            tokio::spawn(async move {
                if let Ok(Ok(Handled::Unrecorded(e))) = handling.await {
                    warn_throttled!(envelope = %late, error = %e, "Socket Mode: could not record an envelope acknowledged late; it was not handled");
                    metrics::counter!("docket_slack_socket_envelopes_total", "outcome" => "unrecorded_late")
                        .increment(1);
                }
            });
            (None, "late")
        }
    };
    metrics::counter!("docket_slack_socket_envelopes_total", "outcome" => outcome).increment(1);
    let payload = payload.filter(|_| accepts);
    let _ = out.send(Message::text(frame::ack(&id, payload))).await;
}

/// What the acknowledgement of an envelope needs of it once its handling has started.
struct ToAck {
    id: String,
    accepts: bool,
    retry: u64,
}

impl ToAck {
    fn of(envelope: &Envelope) -> Self {
        Self { id: envelope.id.clone(), accepts: envelope.accepts_response_payload, retry: envelope.retry_attempt }
    }
}

/// Writes queued frames until every sender is gone, then closes the WebSocket.
async fn write_all(mut sink: futures_util::stream::SplitSink<Ws, Message>, mut queue: mpsc::Receiver<Message>) {
    while let Some(message) = queue.recv().await {
        if sink.send(message).await.is_err() {
            return;
        }
    }
    let _ = sink.close().await;
}
