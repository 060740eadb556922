//! The Events API: `url_verification` is answered with its challenge; `event_callback`s are
//! de-duplicated by `event_id` (Slack retries when slow) and the bot's own messages ignored.
//! An @mention works like the slash command and answers in its thread.

use serde_json::{Value, json};

use super::{Ack, InboundError};
use crate::Slack;
use crate::commands::Opening;
use crate::modals::Metadata;
use crate::render::blocks::{self, cut};
use docket_http::warn_throttled;

impl Slack {
    pub(super) async fn event(&self, body: Value) -> Result<Ack, InboundError> {
        match body.get("type").and_then(Value::as_str) {
            Some("url_verification") => {
                let challenge =
                    body.get("challenge").and_then(Value::as_str).ok_or(InboundError::Missing("challenge"))?;
                Ok(Ack::json(json!({ "challenge": cut(challenge, 500) })))
            }
            Some("event_callback") => {
                let event_id = body.get("event_id").and_then(Value::as_str).ok_or(InboundError::Missing("event_id"))?;
                let event = body.get("event").filter(|e| e.is_object()).ok_or(InboundError::Missing("event"))?;
                let first =
                    self.first_delivery(&format!("event:{}", cut(event_id, 100))).await.unwrap_or_else(|error| {
                        warn_throttled!(%error, "could not record a Slack event id; handling it anyway");
                        true
                    });
                if !first || from_a_bot(&body, event) {
                    return Ok(Ack::empty());
                }
                if event.get("type").and_then(Value::as_str) == Some("app_mention") {
                    let slack = self.clone();
                    let event = event.clone();
                    let event_id = event_id.to_owned();
                    self.app().after_answer(async move { slack.mention(&event_id, &event).await });
                }
                Ok(Ack::empty())
            }
            Some(_) => Ok(Ack::empty()),
            None => Err(InboundError::Missing("type")),
        }
    }

    async fn mention(&self, event_id: &str, event: &Value) {
        let text = |p: &str| event.get(p).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        let (Some(user), Some(channel), Some(ts)) = (text("user"), text("channel"), text("ts")) else { return };
        let thread = text("thread_ts").unwrap_or(ts);
        let Some(actor) = self.actor_or_explain(&user, "mention Docket").await else {
            return self.tell(&user, Some(&channel), Some(&thread), &super::interactions::not_a_person()).await;
        };
        let words = strip_mentions(&text("text").unwrap_or_default());
        let meta = Metadata { channel: Some(channel.clone()), thread: Some(thread.clone()), ..Metadata::default() };
        let (words_out, blocks_out) = match self.understand(&actor, &words, meta).await {
            Opening::Reply(reply) => (reply.clone(), json!([blocks::section(&reply)])),
            Opening::Modal(modal) => {
                let view = modal.render();
                // A mention carries no trigger id: the form opens from a button.
                let key = format!("form:{}", cut(event_id, 100));
                if let Err(error) = self.app().remember(crate::SCOPE, &key, &view.to_string()).await {
                    tracing::warn!(%error, "could not keep a form for a mention");
                    return;
                }
                let button = blocks::button("docket.open_form", "Open the form", &cut(event_id, 100), Some("primary"));
                let words = format!("<@{user}>, here is the form for that.");
                (words.clone(), json!([blocks::section(&words), blocks::actions("docket.open_form", vec![button])]))
            }
        };
        if let Err(error) =
            self.client().post_message(&channel, Some(&thread), &cut(&words_out, 3_000), &blocks_out).await
        {
            warn_throttled!(%error, "could not answer a mention");
        }
    }
}

/// Whether the event comes from a bot (Docket's own messages included).
fn from_a_bot(body: &Value, event: &Value) -> bool {
    if event.get("bot_id").is_some() || event.get("subtype").and_then(Value::as_str) == Some("bot_message") {
        return true;
    }
    let own = body.pointer("/authorizations/0/user_id").and_then(Value::as_str);
    own.is_some() && own == event.get("user").and_then(Value::as_str)
}

/// The text without `<@U…>` mentions.
fn strip_mentions(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<@") {
        out.push_str(&rest[..start]);
        match rest[start..].find('>') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn mentions_are_stripped_anywhere() {
        assert_eq!(super::strip_mentions("<@U0BOT> deploy api 1.4.2 to prod"), "deploy api 1.4.2 to prod");
        assert_eq!(super::strip_mentions("hey <@U0BOT|docket>  help"), "hey help");
        assert_eq!(super::strip_mentions("<@U0BOT"), "");
    }
}
