//! Adaptive Cards (version 1.5, as Teams renders them) built from the app's neutral views: the
//! request form, the ticket card, the approval card, and small answers (help, lists). Cards
//! only lay out what the app says; every limit that keeps a card well under Teams' 28 KB is
//! applied here, and `check` verifies the result: compiled for tests and the `test-support`
//! feature only, never into the server.

pub mod approval;
#[cfg(any(test, feature = "test-support"))]
pub mod check;
pub mod form;
pub mod replies;
pub mod results;
pub mod ticket;

use docket_app::{ChangesBrief, Tone};
use serde_json::{Value, json};

/// The Adaptive Card version Teams supports.
pub const VERSION: &str = "1.5";
/// The largest card Teams accepts; Docket stays well under it.
pub const MAX_CARD_BYTES: usize = 28 * 1024;
/// Plan lines shown on a card; the rest is on the ticket's page.
pub const MAX_PLAN_LINES: usize = 25;
/// Characters of plan shown on a card.
pub const MAX_PLAN_CHARS: usize = 3_000;
/// Characters of any one value shown.
pub const MAX_VALUE_CHARS: usize = 300;
/// Label/value pairs shown in one fact set.
pub const MAX_FACTS: usize = 30;
/// Characters of values in one fact set.
pub const MAX_FACTS_CHARS: usize = 5_000;

/// A card with `body` and `actions`.
pub fn card(body: Vec<Value>, actions: Vec<Value>) -> Value {
    let mut card = json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": VERSION,
        "body": body,
        "msteams": { "width": "Full" },
    });
    if !actions.is_empty()
        && let Some(object) = card.as_object_mut()
    {
        object.insert("actions".to_owned(), Value::Array(actions));
    }
    card
}

/// A wrapping text block.
pub fn text(content: &str) -> Value {
    json!({ "type": "TextBlock", "text": content, "wrap": true })
}

/// A title.
pub fn title(content: &str) -> Value {
    json!({ "type": "TextBlock", "text": content, "wrap": true, "size": "Medium", "weight": "Bolder" })
}

/// Small, quiet text (help under a field, footers).
pub fn subtle(content: &str) -> Value {
    json!({ "type": "TextBlock", "text": content, "wrap": true, "isSubtle": true, "size": "Small", "spacing": "None" })
}

/// Text coloured by how it feels.
pub fn toned(content: &str, tone: Tone) -> Value {
    json!({ "type": "TextBlock", "text": content, "wrap": true, "weight": "Bolder", "color": color(tone) })
}

/// A warning or error in red.
pub fn attention(content: &str) -> Value {
    json!({ "type": "TextBlock", "text": content, "wrap": true, "color": "Attention", "spacing": "Small" })
}

/// Label/value pairs (at most [`MAX_FACTS`]; a last fact says how many more there are).
pub fn facts(pairs: &[(String, String)]) -> Value {
    // Many facts share a budget, so a long list stays a reasonable size.
    let each = (MAX_FACTS_CHARS / pairs.len().clamp(1, MAX_FACTS)).clamp(40, MAX_VALUE_CHARS);
    let mut facts: Vec<Value> =
        pairs.iter().take(MAX_FACTS).map(|(t, v)| json!({ "title": clip(t, 60), "value": clip(v, each) })).collect();
    if pairs.len() > MAX_FACTS {
        facts.push(json!({ "title": "…", "value": format!("{} more on the ticket's page", pairs.len() - MAX_FACTS) }));
    }
    json!({ "type": "FactSet", "facts": facts })
}

/// The plan as monospace lines, cut to the card's limits, with a pointer to the whole plan.
pub fn plan(lines: &[String], url: Option<&str>) -> Vec<Value> {
    if lines.is_empty() {
        return Vec::new();
    }
    let mut shown = Vec::new();
    let mut chars = 0;
    for line in lines.iter().take(MAX_PLAN_LINES) {
        let line = clip(line, 200);
        chars += line.chars().count();
        if chars > MAX_PLAN_CHARS {
            break;
        }
        shown.push(line);
    }
    let mut out = vec![json!({ "type": "TextBlock", "text": "Plan", "weight": "Bolder", "spacing": "Medium" })];
    out.push(json!({
        "type": "TextBlock",
        "text": shown.iter().map(|l| escape_markdown(l)).collect::<Vec<_>>().join("\n\n"),
        "fontType": "Monospace",
        "wrap": true,
        "size": "Small",
        "spacing": "Small",
    }));
    if shown.len() < lines.len() {
        let more = lines.len() - shown.len();
        let note = match url {
            Some(url) => format!("{more} more lines — [see the whole plan]({url})"),
            None => format!("{more} more lines not shown"),
        };
        out.push(subtle(&note));
    }
    out
}

/// Structured changes shown on a card: lines, characters, characters a line.
pub const MAX_CHANGE_LINES: usize = 25;
/// Characters of change lines shown on a card.
pub const MAX_CHANGE_CHARS: usize = 2_500;
const MAX_CHANGE_LINE: usize = 150;

/// The app's change brief: the summary, then as many changes as fit — destroys and replaces
/// first, in the attention colour — then how many more there are, with a link to all of them.
pub fn changes(brief: &ChangesBrief, url: Option<&str>) -> Vec<Value> {
    let (shown, more) = brief.fit(MAX_CHANGE_LINES, MAX_CHANGE_CHARS, MAX_CHANGE_LINE);
    let mut out = vec![json!({
        "type": "TextBlock",
        "text": format!("Changes: {}", escape_markdown(&brief.summary)),
        "weight": "Bolder",
        "wrap": true,
        "spacing": "Medium",
    })];
    let marked = brief.lines.iter().take(shown.len()).filter(|l| l.marked).count();
    let (first, rest) = shown.split_at(marked.min(shown.len()));
    for (lines, color) in [(first, "Attention"), (rest, "Default")] {
        if !lines.is_empty() {
            out.push(json!({
                "type": "TextBlock",
                "text": lines.iter().map(|l| escape_markdown(l)).collect::<Vec<_>>().join("\n\n"),
                "fontType": "Monospace",
                "wrap": true,
                "size": "Small",
                "spacing": "Small",
                "color": color,
            }));
        }
    }
    if more > 0 {
        let words = ChangesBrief::more(more);
        out.push(subtle(&match url {
            Some(url) => format!("[{words}]({url})"),
            None => words,
        }));
    }
    out
}

/// A button that opens the ticket's page.
pub fn open_url(title: &str, url: &str) -> Value {
    json!({ "type": "Action.OpenUrl", "title": title, "url": url })
}

/// A button that sends an `adaptiveCard/action` invoke with `verb` and `data`.
pub fn execute(title: &str, verb: &str, data: Value, style: Option<&str>) -> Value {
    let mut action = json!({ "type": "Action.Execute", "title": title, "verb": verb, "data": data });
    if let (Some(style), Some(object)) = (style, action.as_object_mut()) {
        object.insert("style".to_owned(), Value::String(style.to_owned()));
    }
    action
}

/// The colour of a tone.
pub fn color(tone: Tone) -> &'static str {
    match tone {
        Tone::Neutral => "Default",
        Tone::Waiting => "Warning",
        Tone::Running => "Accent",
        Tone::Good => "Good",
        Tone::Bad => "Attention",
    }
}

/// At most `max` characters of `text`, with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Text shown as written, not as markdown.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '[' | ']' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
