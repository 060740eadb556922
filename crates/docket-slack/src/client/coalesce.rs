//! Coalesced edits: while an edit of one message waits for its budget (or a 429), later edits
//! of the same message replace its content instead of queueing, so only the latest content is
//! sent and the final state is always the one delivered.
//!
//! Cancel-safe: the caller that sends may be dropped at any await (the outbox gives a delivery
//! 30 s). Its guard then hands the send to a waiting caller, or forgets the message when nobody
//! waits, so a later edit of that message never waits on a sender that is gone.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::oneshot;

use super::{ApiError, SlackClient};

/// Edits waiting, by `channel/ts`.
#[derive(Debug, Default)]
pub(crate) struct Coalescer {
    /// A std mutex: held for map edits, never across an await.
    pending: Mutex<HashMap<String, Pending>>,
}

#[derive(Debug)]
struct Pending {
    /// The latest content.
    body: Value,
    /// Bumped by every replacement.
    version: u64,
    /// Callers whose content was replaced, waiting for the send that carries a later one (or
    /// for their turn to send it, if the sender goes away).
    waiters: Vec<oneshot::Sender<Turn>>,
}

/// What a waiting caller is told.
#[derive(Debug)]
enum Turn {
    /// A send that carried this caller's content (or a later one) ended so.
    Done(Result<(), ApiError>),
    /// The sender was dropped before it finished: this caller sends now.
    Yours,
}

impl Coalescer {
    pub(crate) async fn update(&self, client: &SlackClient, key: String, body: Value) -> Result<(), ApiError> {
        let waiter = {
            let mut pending = self.lock();
            match pending.get_mut(&key) {
                Some(entry) => {
                    let (tx, rx) = oneshot::channel();
                    entry.body = body;
                    entry.version += 1;
                    entry.waiters.push(tx);
                    Some(rx)
                }
                None => {
                    pending.insert(key.clone(), Pending { body, version: 0, waiters: Vec::new() });
                    None
                }
            }
        };
        if let Some(rx) = waiter {
            match rx.await {
                Ok(Turn::Done(result)) => return result,
                Ok(Turn::Yours) => {}
                // Only a guard that found no entry left drops a waiter unanswered.
                Err(_) => {
                    return Err(ApiError::Network {
                        method: "chat.update".to_owned(),
                        detail: "the edit was dropped".to_owned(),
                    });
                }
            }
        }
        let mut guard = Sender { coalescer: self, key: &key, finished: false };
        let result = self.send_latest(client, &key).await;
        guard.finished = true;
        result
    }

    /// Sends the latest content of `key` until what was sent is the latest, then answers every
    /// waiter with the outcome.
    async fn send_latest(&self, client: &SlackClient, key: &str) -> Result<(), ApiError> {
        loop {
            let channel = {
                let pending = self.lock();
                pending.get(key).and_then(|p| p.body.get("channel")).and_then(Value::as_str).map(str::to_owned)
            };
            client.inner.budgets.acquire("chat.update", channel.as_deref()).await;
            let Some((body, version)) = self.lock().get(key).map(|p| (p.body.clone(), p.version)) else {
                return Ok(());
            };
            let result = client.send("chat.update", super::Body::Json(&body), None).await.map(drop);
            let mut pending = self.lock();
            let newer = pending.get(key).is_some_and(|p| p.version != version);
            if newer && result.is_ok() {
                continue;
            }
            if let Some(entry) = pending.remove(key) {
                for waiter in entry.waiters {
                    let _ = waiter.send(Turn::Done(result.clone()));
                }
            }
            return result;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The sending caller's claim on a message. Dropped before the send finished, it passes the
/// send to the first waiter still listening, or forgets the message.
struct Sender<'a> {
    coalescer: &'a Coalescer,
    key: &'a str,
    finished: bool,
}

impl Drop for Sender<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut pending = self.coalescer.lock();
        let Some(entry) = pending.get_mut(self.key) else { return };
        while !entry.waiters.is_empty() {
            let next = entry.waiters.remove(0);
            if next.send(Turn::Yours).is_ok() {
                return;
            }
        }
        pending.remove(self.key);
    }
}
