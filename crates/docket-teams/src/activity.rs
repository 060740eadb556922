//! The Bot Framework activity fields Docket reads (inbound) and the activities it sends
//! (outbound). Unknown fields are ignored; fields Docket relies on are required.

use serde::Deserialize;
use serde_json::{Value, json};

/// The content type of an Adaptive Card attachment.
pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";

/// An inbound activity.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// `message`, `invoke`, `conversationUpdate`, `installationUpdate`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The activity's id.
    pub id: Option<String>,
    /// Where to answer; bound to the token's `serviceurl` claim.
    pub service_url: String,
    /// `msteams`; bound to the signing key's endorsements.
    pub channel_id: String,
    /// Who acted.
    pub from: Option<Account>,
    /// The conversation.
    pub conversation: Option<Conversation>,
    /// Teams' extras (tenant, team, channel).
    pub channel_data: Option<ChannelData>,
    /// A message's text (with `<at>…</at>` mentions).
    pub text: Option<String>,
    /// An invoke's value (`adaptiveCard/action`: `{action: {verb, data}, trigger}`).
    pub value: Option<Value>,
    /// An invoke's name.
    pub name: Option<String>,
    /// The message this activity relates to (a card's activity id for card actions).
    pub reply_to_id: Option<String>,
    /// Members added to the conversation.
    #[serde(default)]
    pub members_added: Vec<Account>,
    /// `add` or `remove`, for installation updates.
    pub action: Option<String>,
}

/// A user or bot.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// `29:…` for people (unique per bot), `28:…` for bots.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// The Entra (AAD) object id, which the directory's `teams` ids are.
    pub aad_object_id: Option<String>,
}

/// The conversation of an activity.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// `a:…` (1:1), `19:…@thread.tacv2` (channel; `;messageid=…` inside a thread), `19:…` (group).
    pub id: String,
    /// `personal`, `channel` or `groupChat`.
    pub conversation_type: Option<String>,
    /// The tenant.
    pub tenant_id: Option<String>,
}

/// Teams' channel data.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelData {
    /// The tenant.
    pub tenant: Option<IdOnly>,
    /// The team, in team scope.
    pub team: Option<TeamInfo>,
    /// The channel, in team scope.
    pub channel: Option<IdOnly>,
}

/// A team: `{id, aadGroupId}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamInfo {
    /// The team's thread id (its general channel's).
    pub id: String,
    /// Its Microsoft 365 group: the team's id in Graph.
    pub aad_group_id: Option<String>,
}

/// `{id}`.
#[derive(Clone, Debug, Deserialize)]
pub struct IdOnly {
    /// The id.
    pub id: String,
}

impl Activity {
    /// The tenant, from the conversation or the channel data.
    pub fn tenant_id(&self) -> Option<&str> {
        self.conversation
            .as_ref()
            .and_then(|c| c.tenant_id.as_deref())
            .or_else(|| self.channel_data.as_ref()?.tenant.as_ref().map(|t| t.id.as_str()))
    }

    /// Whether this is a 1:1 chat with the bot.
    pub fn is_personal(&self) -> bool {
        self.conversation.as_ref().is_some_and(|c| c.conversation_type.as_deref() == Some("personal"))
    }

    /// The message's text with mentions (`<at>Docket</at>`) and markup removed, trimmed.
    pub fn plain_text(&self) -> String {
        let text = self.text.as_deref().unwrap_or_default();
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("<at>") {
            out.push_str(&rest[..start]);
            rest = match rest[start..].find("</at>") {
                Some(end) => &rest[start + end + "</at>".len()..],
                None => "",
            };
        }
        out.push_str(rest);
        let without_tags = strip_tags(&out, "");
        without_tags.replace("&nbsp;", " ").split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Removes `<…>` markup Teams wraps messages in, putting `between` where each tag was.
pub(crate) fn strip_tags(text: &str, between: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for c in text.chars() {
        match c {
            '<' => inside = true,
            '>' if inside => {
                inside = false;
                out.push_str(between);
            }
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// The base id of a channel conversation: `19:…@thread.tacv2;messageid=…` → `19:…@thread.tacv2`.
pub fn base_conversation_id(id: &str) -> &str {
    id.split_once(";messageid=").map_or(id, |(base, _)| base)
}

/// A message activity carrying one Adaptive Card, with `summary` as the notification text.
pub fn card_message(card: Value, summary: &str) -> Value {
    json!({
        "type": "message",
        "summary": summary,
        "attachments": [{ "contentType": CARD_CONTENT_TYPE, "content": card }],
    })
}

/// A plain text (markdown) message.
pub fn text_message(text: &str) -> Value {
    json!({ "type": "message", "textFormat": "markdown", "text": text })
}

/// The answer to an `adaptiveCard/action` invoke that replaces the card.
pub fn card_response(card: Value) -> Value {
    json!({ "statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card })
}

/// The answer to an `adaptiveCard/action` invoke that fails.
pub fn error_response(status: u16, code: &str, message: &str) -> Value {
    json!({ "statusCode": status, "type": "application/vnd.microsoft.error", "value": { "code": code, "message": message } })
}
