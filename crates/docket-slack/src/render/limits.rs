//! Slack's Block Kit limits as a checker. Every render is checked by the tests (long plans,
//! many parameters, many choices); a render that breaks a limit is a bug, because Slack refuses
//! the whole message with `invalid_blocks`.

use serde_json::Value;

/// Blocks in a message.
pub const MESSAGE_BLOCKS: usize = 50;
/// Blocks in a modal.
pub const MODAL_BLOCKS: usize = 100;
/// The reported (undocumented) cap on the text of one message's blocks, with a margin.
pub const MESSAGE_TEXT_TOTAL: usize = 11_000;

/// Every limit `blocks` (and the fallback `text`) of a message break, in words.
pub fn check_message(text: &str, blocks: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if text.chars().count() > 4_000 {
        problems.push(format!("text has {} characters (> 4000)", text.chars().count()));
    }
    if text.trim().is_empty() {
        problems.push("text is empty".to_owned());
    }
    let list = blocks.as_array().map(Vec::as_slice).unwrap_or_default();
    if list.len() > MESSAGE_BLOCKS {
        problems.push(format!("{} blocks (> {MESSAGE_BLOCKS})", list.len()));
    }
    let mut total = 0;
    for block in list {
        check_block(block, &mut problems);
        total += text_in(block);
    }
    if total > MESSAGE_TEXT_TOTAL {
        problems.push(format!("{total} characters of block text (> {MESSAGE_TEXT_TOTAL})"));
    }
    problems
}

/// Every limit a modal view breaks, in words.
pub fn check_view(view: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let list = view.get("blocks").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if list.len() > MODAL_BLOCKS {
        problems.push(format!("{} blocks (> {MODAL_BLOCKS})", list.len()));
    }
    for key in ["title", "submit", "close"] {
        if let Some(t) = view.get(key) {
            limit(&mut problems, &format!("view {key}"), t, 24);
        }
    }
    if view.get("title").is_none() {
        problems.push("a modal needs a title".to_owned());
    }
    if let Some(meta) = view.get("private_metadata").and_then(Value::as_str) {
        len(&mut problems, "private_metadata", meta, 3_000);
    }
    if let Some(id) = view.get("callback_id").and_then(Value::as_str) {
        len(&mut problems, "callback_id", id, 255);
    }
    let size = serde_json::to_string(view).map(|s| s.len()).unwrap_or(0);
    if size > 250_000 {
        problems.push(format!("view is {size} bytes (> 250 kB)"));
    }
    let has_input = list.iter().any(|b| b.get("type").and_then(Value::as_str) == Some("input"));
    if has_input && view.get("submit").is_none() {
        problems.push("a modal with inputs needs a submit button".to_owned());
    }
    for block in list {
        check_block(block, &mut problems);
    }
    problems
}

fn check_block(block: &Value, problems: &mut Vec<String>) {
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("?");
    if let Some(id) = block.get("block_id").and_then(Value::as_str) {
        len(problems, "block_id", id, 255);
    }
    match kind {
        "header" => limit(problems, "header", block.get("text").unwrap_or(&Value::Null), 150),
        "section" => {
            if let Some(t) = block.get("text") {
                limit(problems, "section text", t, 3_000);
            }
            let fields = block.get("fields").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            if fields.len() > 10 {
                problems.push(format!("section with {} fields (> 10)", fields.len()));
            }
            for f in fields {
                limit(problems, "field", f, 2_000);
            }
            if block.get("text").is_none() && fields.is_empty() {
                problems.push("section without text or fields".to_owned());
            }
            if let Some(acc) = block.get("accessory") {
                check_element(acc, problems);
            }
        }
        "context" => {
            let elements = block.get("elements").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            if elements.is_empty() || elements.len() > 10 {
                problems.push(format!("context with {} elements (1 to 10)", elements.len()));
            }
            for e in elements {
                limit(problems, "context text", e, 3_000);
            }
        }
        "actions" => {
            let elements = block.get("elements").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            if elements.is_empty() || elements.len() > 25 {
                problems.push(format!("actions with {} elements (1 to 25)", elements.len()));
            }
            for e in elements {
                check_element(e, problems);
            }
        }
        "input" => {
            limit(problems, "input label", block.get("label").unwrap_or(&Value::Null), 2_000);
            if let Some(hint) = block.get("hint") {
                limit(problems, "input hint", hint, 2_000);
            }
            match block.get("element") {
                Some(e) => check_element(e, problems),
                None => problems.push("input without element".to_owned()),
            }
        }
        "divider" => {}
        other => problems.push(format!("unexpected block type {other}")),
    }
}

fn check_element(element: &Value, problems: &mut Vec<String>) {
    if let Some(id) = element.get("action_id").and_then(Value::as_str) {
        len(problems, "action_id", id, 255);
    }
    if let Some(p) = element.get("placeholder") {
        limit(problems, "placeholder", p, 150);
    }
    match element.get("type").and_then(Value::as_str).unwrap_or("?") {
        "button" => {
            limit(problems, "button text", element.get("text").unwrap_or(&Value::Null), 75);
            if let Some(v) = element.get("value").and_then(Value::as_str) {
                len(problems, "button value", v, 2_000);
            }
        }
        "static_select" | "checkboxes" | "radio_buttons" => {
            let options = element.get("options").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let groups = element.get("option_groups").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            if options.is_empty() == groups.is_empty() {
                problems.push("a select needs options or option_groups (not both)".to_owned());
            }
            if options.len() > 100 || groups.len() > 100 {
                problems.push(format!("{} options / {} groups (> 100)", options.len(), groups.len()));
            }
            for o in options {
                check_option(o, problems);
            }
            for g in groups {
                limit(problems, "group label", g.get("label").unwrap_or(&Value::Null), 75);
                let opts = g.get("options").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                if opts.is_empty() || opts.len() > 100 {
                    problems.push(format!("option group with {} options (1 to 100)", opts.len()));
                }
                for o in opts {
                    check_option(o, problems);
                }
            }
            for key in ["initial_option"] {
                if let Some(o) = element.get(key) {
                    check_option(o, problems);
                }
            }
        }
        "plain_text_input" => {
            if let Some(v) = element.get("initial_value").and_then(Value::as_str) {
                len(problems, "initial_value", v, 3_000);
            }
            if let Some(m) = element.get("max_length").and_then(Value::as_u64)
                && m > 3_000
            {
                problems.push(format!("max_length {m} (> 3000)"));
            }
        }
        "number_input" => {}
        other => problems.push(format!("unexpected element type {other}")),
    }
    if let Some(c) = element.get("confirm") {
        limit(problems, "confirm title", c.get("title").unwrap_or(&Value::Null), 100);
        limit(problems, "confirm text", c.get("text").unwrap_or(&Value::Null), 300);
    }
}

fn check_option(option: &Value, problems: &mut Vec<String>) {
    limit(problems, "option text", option.get("text").unwrap_or(&Value::Null), 75);
    match option.get("value").and_then(Value::as_str) {
        Some(v) => len(problems, "option value", v, 150),
        None => problems.push("option without value".to_owned()),
    }
}

/// A text object (`{type, text}`) of at most `max` characters, not empty.
fn limit(problems: &mut Vec<String>, what: &str, text: &Value, max: usize) {
    match text.get("text").and_then(Value::as_str) {
        Some(t) if t.trim().is_empty() => problems.push(format!("{what} is empty")),
        Some(t) => len(problems, what, t, max),
        None => problems.push(format!("{what} is missing")),
    }
}

fn len(problems: &mut Vec<String>, what: &str, text: &str, max: usize) {
    let n = text.chars().count();
    if n > max {
        problems.push(format!("{what} has {n} characters (> {max})"));
    }
}

fn text_in(value: &Value) -> usize {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) if k == "text" => s.chars().count(),
                other => text_in(other),
            })
            .sum(),
        Value::Array(items) => items.iter().map(text_in).sum(),
        _ => 0,
    }
}
