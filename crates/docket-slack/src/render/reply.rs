//! Thread replies: the key events of one change ("Approved by Bob Ruiz (stage lead)", "Step
//! rollout failed" with the log tail and a hint).

use docket_app::Happening;
use serde_json::Value;

use super::Message;
use super::blocks::{self, FALLBACK_TEXT, cut, escape};
use super::ticket::emoji;

/// Happenings shown in one reply (each takes up to three blocks).
const MAX_SHOWN: usize = 15;

/// One reply for the happenings of one change; `None` when there is nothing to say.
pub(crate) fn reply(happenings: &[Happening]) -> Option<Message> {
    if happenings.is_empty() {
        return None;
    }
    let mut out: Vec<Value> = Vec::new();
    for h in happenings.iter().take(MAX_SHOWN) {
        out.push(blocks::section(&format!("{} {}", emoji(h.tone), escape(&h.text))));
        if !h.log_tail.is_empty() {
            out.push(blocks::section(&blocks::code(&h.log_tail, 2_000)));
        }
        if let Some(hint) = &h.hint {
            out.push(blocks::context(&format!(":bulb: {}", escape(hint))));
        }
    }
    if happenings.len() > MAX_SHOWN {
        out.push(blocks::context(&format!("… and {} more", happenings.len() - MAX_SHOWN)));
    }
    let text = happenings.iter().map(|h| h.text.as_str()).collect::<Vec<_>>().join("\n");
    Some(Message::new(cut(&text, FALLBACK_TEXT), Value::Array(out)))
}
