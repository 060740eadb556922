//! What an interrupted delivery may already have posted. A delivery that may have reached Teams
//! before it stopped (`OutboxMessage::may_have_been_delivered`) and has no activity id kept
//! looks for its message through Graph before posting: Docket's cards carry their surface-state
//! key as the id of their first element (`docket:<key>`, see [`tag`]); a text reply is known by
//! who posted it (this bot), where (the thread), its exact text and when (since the message was
//! committed, less a minute of clock skew). Found, it is kept and edited; where Graph may not be
//! read (no resource-specific consent: 403, 404; a 1:1 chat, whose `a:` id Graph does not know),
//! a warning (at most once a minute) says a second copy is possible, and the message is posted.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::activity::base_conversation_id;
use crate::graph::{GraphError, GraphMessage, Place};
use crate::notifier::{DeliveryError, TeamsNotifier};

/// Clock skew allowed between Docket and Teams.
const SKEW: SignedDuration = SignedDuration::from_secs(60);

/// The id Docket gives the first element of the card it keeps under `key`.
pub(crate) fn tag_of(key: &str) -> String {
    format!("docket:{key}")
}

/// Tags `card` with `key`: its first element gets [`tag_of`]`(key)` as its id, unless it
/// already has one (an input's), when the card stays untagged.
pub(crate) fn tag(card: &mut Value, key: &str) {
    if let Some(first) = card.get_mut("body").and_then(|b| b.get_mut(0)).and_then(Value::as_object_mut)
        && !first.contains_key("id")
    {
        first.insert("id".to_owned(), Value::String(tag_of(key)));
    }
}

/// What to look for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wanted<'a> {
    /// A card tagged with this key.
    Card(&'a str),
    /// A text message saying exactly this.
    Text(&'a str),
}

/// Where the message would be.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Whereabouts<'a> {
    /// The conversation written to (a channel thread as `19:…;messageid=…`).
    pub(crate) conversation: &'a str,
    /// `channel`, `groupChat` or `personal`, when known.
    pub(crate) kind: Option<&'a str>,
    /// The team's Graph id (its Microsoft 365 group), for a channel.
    pub(crate) team: Option<&'a str>,
    pub(crate) tenant: Option<&'a str>,
    /// The post it replies to, in a channel.
    pub(crate) parent: Option<&'a str>,
}

/// The activity id of the bot's earlier copy of `wanted`, posted since `since` (less
/// [`SKEW`]); `None` when there is none or Graph may not be read here.
pub(crate) async fn find(
    notifier: &TeamsNotifier,
    at: Whereabouts<'_>,
    wanted: Wanted<'_>,
    since: Timestamp,
) -> Result<Option<String>, DeliveryError> {
    let since = since.checked_sub(SKEW).unwrap_or(since);
    let base = base_conversation_id(at.conversation);
    let thread = at.parent.or_else(|| at.conversation.split_once(";messageid=").map(|(_, id)| id));
    let place = match (at.kind, at.team, thread) {
        (Some("channel"), Some(team), Some(parent)) => Place::Thread { team, channel: base, parent },
        (Some("channel"), Some(team), None) => Place::Channel { team, channel: base },
        (Some("channel"), None, _) => {
            docket_http::warn_throttled!(conversation = %base,
                "cannot look for an earlier copy: the channel's team is not known yet; posting (it may show twice)");
            return Ok(None);
        }
        // A 1:1 chat's Bot Framework id (`a:…`) is not its Graph chat id.
        _ if base.starts_with("a:") => {
            docket_http::warn_throttled!(conversation = %base,
                "cannot look for an earlier copy in a 1:1 chat through Graph; posting (it may show twice)");
            return Ok(None);
        }
        _ => Place::Chat { chat: base },
    };
    let messages = match notifier.graph.messages_since(at.tenant, place, since).await {
        Ok(messages) => messages,
        Err(error) if error.is_transient() => return Err(DeliveryError::Graph(error)),
        Err(error) => {
            unreadable(base, &error);
            return Ok(None);
        }
    };
    let app_id = notifier.settings.app_id.as_str();
    let ours = |m: &&GraphMessage| m.app_id.as_deref() == Some(app_id);
    let found = match wanted {
        Wanted::Card(key) => messages.iter().filter(ours).find(|m| m.has_tag(&tag_of(key))),
        Wanted::Text(text) => messages.iter().filter(ours).find(|m| m.says(text)),
    };
    Ok(found.map(|m| m.id.clone()))
}

fn unreadable(conversation: &str, error: &GraphError) {
    docket_http::warn_throttled!(%conversation, %error,
        "cannot look for an earlier copy through Graph (is the app's resource-specific consent granted?); posting (it may show twice)");
}
