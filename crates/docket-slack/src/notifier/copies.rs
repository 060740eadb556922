//! Where Docket's messages about a ticket are: `copy:<ticket>:<what>` → `{channel, ts, hash}`
//! in surface state, so edits find every copy and a retried delivery edits instead of posting
//! again. The hash of the last content sent lets an unchanged edit be skipped.

use docket_app::{App, NotifyError};
use docket_core::TicketId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::transient;
use crate::client::{ApiError, SlackClient};
use crate::render::Message;

/// One posted message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Copy {
    /// Channel id (a DM's `D…` id for DMs).
    #[serde(rename = "c")]
    pub(super) channel: String,
    /// Message timestamp.
    pub(super) ts: String,
    /// Hash of the content last sent.
    #[serde(rename = "h", default)]
    pub(super) hash: String,
}

pub(super) fn key(ticket: &TicketId, what: &str) -> String {
    format!("copy:{ticket}:{what}")
}

pub(super) fn hash(message: &Message) -> String {
    let mut h = Sha256::new();
    h.update(message.text.as_bytes());
    h.update(message.blocks.to_string().as_bytes());
    hex::encode(&h.finalize()[..12])
}

pub(super) async fn recall(app: &App, key: &str) -> Result<Option<Copy>, NotifyError> {
    Ok(app.recall(crate::SCOPE, key).await.map_err(transient)?.and_then(|v| serde_json::from_str(&v).ok()))
}

pub(super) async fn keep(app: &App, key: &str, copy: &Copy) -> Result<(), NotifyError> {
    let value = serde_json::to_string(copy).unwrap_or_default();
    app.remember(crate::SCOPE, key, &value).await.map_err(transient)
}

/// Every copy kept under keys starting with `prefix`.
pub(super) async fn recall_all(app: &App, prefix: &str) -> Result<Vec<(String, Copy)>, NotifyError> {
    let all = app.recall_all(crate::SCOPE, prefix).await.map_err(transient)?;
    Ok(all.into_iter().filter_map(|(k, v)| serde_json::from_str(&v).ok().map(|c| (k, c))).collect())
}

/// Edits the copy under `key` to `message`, unless it already shows it.
pub(super) async fn edit(
    app: &App,
    client: &SlackClient,
    key: &str,
    copy: &Copy,
    message: &Message,
) -> Result<(), NotifyError> {
    let hash = hash(message);
    if copy.hash == hash {
        return Ok(());
    }
    client.update_message(&copy.channel, &copy.ts, &message.text, &message.blocks).await?;
    keep(app, key, &Copy { hash, ..copy.clone() }).await
}

/// Posts `message` (in `thread`, if any) tagged with `key`, and keeps its copy under `key`.
///
/// `resumed` is set when this delivery may already have posted it (an earlier attempt failed
/// without an answer, or another replica held the claim and died): the message is then looked
/// up by its tag among the messages posted since then, and if it is there it is kept and
/// edited instead of posted again.
pub(super) async fn post(
    app: &App,
    client: &SlackClient,
    key: &str,
    channel: &str,
    thread: Option<&str>,
    message: &Message,
    resumed: Option<Timestamp>,
) -> Result<Copy, NotifyError> {
    if let Some(since) = resumed
        && let Some(copy) = find(client, key, channel, thread, since).await?
    {
        tracing::info!(%key, channel = %copy.channel, "found a message an earlier delivery posted; editing it");
        keep(app, key, &copy).await?;
        edit(app, client, key, &copy, message).await?;
        return Ok(Copy { hash: hash(message), ..copy });
    }
    let (channel, ts) = client.post_tagged(channel, thread, &message.text, &message.blocks, key).await?;
    let copy = Copy { channel, ts, hash: hash(message) };
    keep(app, key, &copy).await?;
    Ok(copy)
}

/// Docket's message tagged `key`, posted after `since` (less a minute of clock skew). A
/// channel Docket cannot read (not a member, or the app lacks a history scope) cannot be
/// searched: the message is posted, and a warning says why a duplicate is possible.
async fn find(
    client: &SlackClient,
    key: &str,
    channel: &str,
    thread: Option<&str>,
    since: Timestamp,
) -> Result<Option<Copy>, NotifyError> {
    let oldest = format!("{}.000000", since.as_second().saturating_sub(60).max(0));
    match client.find_tagged(channel, thread, key, &oldest).await {
        Ok(found) => Ok(found.map(|(channel, ts)| Copy { channel, ts, hash: String::new() })),
        Err(ApiError::Slack { error, .. }) if UNREADABLE.contains(&error.as_str()) => {
            tracing::warn!(%key, %channel, %error, "cannot look for an earlier copy; posting (it may show twice)");
            Ok(None)
        }
        Err(other) => Err(other.into()),
    }
}

/// Answers that mean the channel's history cannot be read by this app.
const UNREADABLE: [&str; 4] = ["not_in_channel", "missing_scope", "channel_not_found", "restricted_action"];
