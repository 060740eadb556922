//! Block Kit builders. Each cuts its text to Slack's limit for that place (with "…"), and
//! escapes text that people typed, so a parameter value can never become a mention or a link.

use serde_json::{Value, json};

/// Section text.
pub(crate) const SECTION_TEXT: usize = 3_000;
/// Header text.
pub(crate) const HEADER_TEXT: usize = 150;
/// A field of a section.
pub(crate) const FIELD_TEXT: usize = 2_000;
/// Button text, option text.
pub(crate) const BUTTON_TEXT: usize = 75;
/// Option values.
pub(crate) const OPTION_VALUE: usize = 150;
/// The `text` sent with blocks (chat.update's limit).
pub(crate) const FALLBACK_TEXT: usize = 4_000;
/// Modal titles and submit/close labels.
pub(crate) const MODAL_TITLE: usize = 24;

/// `text` cut to at most `max` characters, ending with "…" when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Escapes `&`, `<` and `>` for mrkdwn, so typed text shows as typed.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Plain text.
pub(crate) fn plain(text: &str, max: usize) -> Value {
    json!({ "type": "plain_text", "text": cut(nonempty(text), max), "emoji": true })
}

/// mrkdwn text (already escaped where needed).
pub(crate) fn mrkdwn(text: &str, max: usize) -> Value {
    json!({ "type": "mrkdwn", "text": cut(nonempty(text), max) })
}

/// Slack refuses empty texts.
fn nonempty(text: &str) -> &str {
    if text.trim().is_empty() { " " } else { text }
}

pub(crate) fn header(text: &str) -> Value {
    json!({ "type": "header", "text": plain(text, HEADER_TEXT) })
}

pub(crate) fn section(text: &str) -> Value {
    json!({ "type": "section", "text": mrkdwn(text, SECTION_TEXT) })
}

/// A section of up to 10 (label, value) fields; values are escaped here.
pub(crate) fn fields(pairs: &[(String, String)]) -> Vec<Value> {
    pairs
        .chunks(10)
        .map(|chunk| {
            let fields: Vec<Value> = chunk
                .iter()
                .map(|(label, value)| mrkdwn(&format!("*{}*\n{}", escape(label), escape(value)), FIELD_TEXT))
                .collect();
            json!({ "type": "section", "fields": fields })
        })
        .collect()
}

pub(crate) fn context(text: &str) -> Value {
    json!({ "type": "context", "elements": [mrkdwn(text, SECTION_TEXT)] })
}

/// An actions block (at most 25 elements).
pub(crate) fn actions(block_id: &str, elements: Vec<Value>) -> Value {
    let elements: Vec<Value> = elements.into_iter().take(25).collect();
    json!({ "type": "actions", "block_id": cut(block_id, 255), "elements": elements })
}

/// A button; `style` is `primary` or `danger`.
pub(crate) fn button(action_id: &str, text: &str, value: &str, style: Option<&str>) -> Value {
    let mut b = json!({
        "type": "button",
        "action_id": cut(action_id, 255),
        "text": plain(text, BUTTON_TEXT),
        "value": value,
    });
    if let Some(style) = style {
        b["style"] = json!(style);
    }
    b
}

/// A confirmation dialog for a button.
pub(crate) fn confirm(title: &str, text: &str, yes: &str) -> Value {
    json!({
        "title": plain(title, 100),
        "text": mrkdwn(text, 300),
        "confirm": plain(yes, 30),
        "deny": plain("Cancel", 30),
        "style": "primary",
    })
}

/// A select option.
pub(crate) fn option(label: &str, value: &str) -> Value {
    json!({ "text": plain(label, BUTTON_TEXT), "value": cut(value, OPTION_VALUE) })
}

/// A preformatted block of lines, cut to fit a section.
pub(crate) fn code(lines: &[String], max: usize) -> String {
    let budget = max.min(SECTION_TEXT).saturating_sub(8);
    let mut body = String::new();
    let mut shown = 0;
    for line in lines {
        let line = escape(&line.replace("```", "'''"));
        if body.chars().count() + line.chars().count() + 1 > budget.saturating_sub(40) {
            break;
        }
        body.push_str(&line);
        body.push('\n');
        shown += 1;
    }
    if shown < lines.len() {
        body.push_str(&format!("… {} more lines", lines.len() - shown));
    }
    format!("```{}```", cut(body.trim_end(), budget))
}
