//! Messages tagged with the key Docket keeps them under, so a delivery that may already have
//! posted (its claimant died, or the answer was lost) finds its message instead of posting a
//! second one. The tag is Slack message metadata (`event_type` [`TAG_EVENT`], payload
//! `{"key": …}`), which `conversations.history` and `conversations.replies` return with
//! `include_all_metadata`; reading them needs the `channels:history`, `groups:history` and
//! `im:history` scopes.

use serde_json::{Value, json};

use super::{ApiError, SlackClient};

/// The metadata event type of Docket's messages.
pub const TAG_EVENT: &str = "docket_message";
/// Messages read per page, and pages read at most: the message was posted after its outbox
/// row was written, so the search starts there and is short.
const PAGE: &str = "200";
const MAX_PAGES: usize = 5;

impl SlackClient {
    /// Posts a message tagged with `key`; returns its `(channel, ts)`.
    pub async fn post_tagged(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
        blocks: &Value,
        key: &str,
    ) -> Result<(String, String), ApiError> {
        let metadata = json!({ "event_type": TAG_EVENT, "event_payload": { "key": key } });
        self.post(channel, thread_ts, text, blocks, Some(metadata)).await
    }

    /// The `(channel, ts)` of Docket's message tagged `key` in `channel` (in the thread
    /// `thread_ts`, if given) posted at or after `oldest` (a Slack timestamp), if there is one.
    pub async fn find_tagged(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        key: &str,
        oldest: &str,
    ) -> Result<Option<(String, String)>, ApiError> {
        let method = if thread_ts.is_some() { "conversations.replies" } else { "conversations.history" };
        let mut cursor = String::new();
        for _ in 0..MAX_PAGES {
            let mut fields =
                vec![("channel", channel), ("oldest", oldest), ("limit", PAGE), ("include_all_metadata", "true")];
            if let Some(thread) = thread_ts {
                fields.push(("ts", thread));
            }
            if !cursor.is_empty() {
                fields.push(("cursor", &cursor));
            }
            let answer = self.call_form(method, &fields).await?;
            let messages = answer.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            if let Some(found) = messages.iter().find(|m| tagged(m, key)) {
                let ts = found.get("ts").and_then(Value::as_str).unwrap_or_default();
                return Ok(Some((channel.to_owned(), ts.to_owned())));
            }
            let next = answer.pointer("/response_metadata/next_cursor").and_then(Value::as_str).unwrap_or_default();
            if next.is_empty() || answer.get("has_more").and_then(Value::as_bool) == Some(false) {
                return Ok(None);
            }
            next.clone_into(&mut cursor);
        }
        tracing::warn!(%channel, %key, "stopped looking for a message after {MAX_PAGES} pages");
        Ok(None)
    }
}

fn tagged(message: &Value, key: &str) -> bool {
    message.pointer("/metadata/event_type").and_then(Value::as_str) == Some(TAG_EVENT)
        && message.pointer("/metadata/event_payload/key").and_then(Value::as_str) == Some(key)
}
