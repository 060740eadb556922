//! Coalesced edits: while an edit of one message waits for its budget (or a 429), later edits
//! of the same message replace its content instead of queueing, so only the latest content is
//! sent and the final state is always the one delivered.

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
    /// Callers whose content was replaced, waiting for the send that carries a later one.
    waiters: Vec<oneshot::Sender<Result<(), ApiError>>>,
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
            return rx.await.unwrap_or_else(|_| {
                Err(ApiError::Network { method: "chat.update".to_owned(), detail: "the edit was dropped".to_owned() })
            });
        }
        // This caller sends, until the content it sent is the latest.
        loop {
            let channel = {
                let pending = self.lock();
                pending.get(&key).and_then(|p| p.body.get("channel")).and_then(Value::as_str).map(str::to_owned)
            };
            client.inner.budgets.acquire("chat.update", channel.as_deref()).await;
            let Some((body, version)) = self.lock().get(&key).map(|p| (p.body.clone(), p.version)) else {
                return Ok(());
            };
            let result = client.send("chat.update", super::Body::Json(&body), None).await.map(drop);
            let mut pending = self.lock();
            let newer = pending.get(&key).is_some_and(|p| p.version != version);
            if newer && result.is_ok() {
                continue;
            }
            if let Some(entry) = pending.remove(&key) {
                for waiter in entry.waiters {
                    let _ = waiter.send(result.clone());
                }
            }
            return result;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
