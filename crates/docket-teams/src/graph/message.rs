//! A Graph `chatMessage` as the look-up needs it: its id (in a channel, the connector's
//! activity id), when it was made, which app posted it, its text and its Adaptive Cards.

use jiff::Timestamp;
use serde_json::Value;

use crate::activity::{CARD_CONTENT_TYPE, strip_tags};

/// One message Graph listed.
#[derive(Clone, Debug)]
pub(crate) struct GraphMessage {
    pub(crate) id: String,
    pub(crate) created: Timestamp,
    /// `from.application.id`: set when an app (a bot) posted it.
    pub(crate) app_id: Option<String>,
    /// `body.content` (HTML or text).
    pub(crate) content: String,
    /// Its Adaptive Cards (Graph gives each as a JSON string).
    pub(crate) cards: Vec<Value>,
}

impl GraphMessage {
    pub(crate) fn parse(value: &Value) -> Option<Self> {
        let id = value.get("id")?.as_str()?.to_owned();
        let created = value.get("createdDateTime")?.as_str()?.parse().ok()?;
        let app_id = value.pointer("/from/application/id").and_then(Value::as_str).map(str::to_owned);
        let content = value.pointer("/body/content").and_then(Value::as_str).unwrap_or_default().to_owned();
        let cards = value
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|a| a.get("contentType").and_then(Value::as_str) == Some(CARD_CONTENT_TYPE))
            .filter_map(|a| match a.get("content")? {
                Value::String(s) => serde_json::from_str(s).ok(),
                other => Some(other.clone()),
            })
            .collect();
        Some(Self { id, created, app_id, content, cards })
    }

    /// Whether one of its cards carries `tag` as the id of its first element.
    pub(crate) fn has_tag(&self, tag: &str) -> bool {
        self.cards.iter().any(|c| c.pointer("/body/0/id").and_then(Value::as_str) == Some(tag))
    }

    /// Whether its text is `text`, once Teams' HTML and the markdown it was rendered from are
    /// taken off both (tags dropped, the usual entities decoded, `*`, `_`, `` ` `` and `\`
    /// dropped, white space collapsed).
    pub(crate) fn says(&self, text: &str) -> bool {
        plain(&self.content) == plain(text)
    }
}

/// `html` (or markdown) as words separated by single spaces.
fn plain(html: &str) -> String {
    // Block ends and line breaks are tags: each one separates words.
    let out = strip_tags(html, " ");
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let unmarked: String = decoded.chars().filter(|c| !matches!(c, '*' | '_' | '`' | '\\')).collect();
    unmarked.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_matches_through_teams_html() {
        assert_eq!(plain("<p>DKT-1: approved by <b>Carol</b> &amp; run</p>"), "DKT-1: approved by Carol & run");
        assert_eq!(plain("**DKT-1**\n approved\\!"), plain("<p><strong>DKT-1</strong> approved!</p>"));
    }
}
