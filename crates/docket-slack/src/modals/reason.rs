//! The text form behind Reject, Request changes and Comment.

use serde_json::{Value, json};

use super::{Metadata, REASON};
use crate::render::blocks::{self, MODAL_TITLE, escape};

/// Longest reason accepted in the form (core checks its own limit too).
const MAX_REASON: u64 = 3_000;

/// The form for `action` (`reject`, `request_changes`, `comment`) on the ticket in `meta`.
pub(crate) fn reason_view(action: &str, ticket: &str, title: &str, meta: &Metadata) -> Value {
    let (heading, label, submit) = match action {
        "reject" => ("Reject", "Why is it rejected?", "Reject"),
        "request_changes" => ("Request changes", "What should change?", "Send back"),
        _ => ("Comment", "Comment", "Comment"),
    };
    json!({
        "type": "modal",
        "callback_id": REASON,
        "title": blocks::plain(heading, MODAL_TITLE),
        "submit": blocks::plain(submit, MODAL_TITLE),
        "close": blocks::plain("Cancel", MODAL_TITLE),
        "private_metadata": meta.encode(),
        "blocks": [
            blocks::section(&format!("*{}* · {}", escape(ticket), escape(title))),
            {
                "type": "input",
                "block_id": "reason",
                "label": blocks::plain(label, 2_000),
                "element": { "type": "plain_text_input", "action_id": "value", "multiline": true, "max_length": MAX_REASON },
            },
        ],
    })
}

/// The text typed in a reason form.
pub(crate) fn read_reason(state: &Value) -> String {
    state.pointer("/values/reason/value/value").and_then(Value::as_str).unwrap_or_default().trim().to_owned()
}
