//! The parameter form, built from the workflow's parameter types: a choice is a select, a
//! boolean a checkbox, text a multi-line input, a string an input with its rule as a hint, an
//! integer a number input with its range. Values typed in chat (the matcher's captures) or the
//! ticket's current values (amend) pre-fill it; submissions are read back into raw parameters
//! for core's validation.

use docket_core::{ParamKind, ParamSpec, RawParams, Workflow};
use serde_json::{Value, json};

use super::{AMEND, Metadata, REQUEST};
use crate::render::blocks::{self, BUTTON_TEXT, MODAL_TITLE, cut, escape};

/// Input blocks in one form (a modal holds 100 blocks; two are the description).
const MAX_INPUTS: usize = 95;
/// Options in one select or group.
const MAX_OPTIONS: usize = 100;
/// What the inputs of one form may take of a view's 250 kB.
const MAX_VIEW_BYTES: usize = 200_000;

/// Whether the form opens a ticket or amends one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Request,
    Amend,
}

/// The parameter form for `workflow`, pre-filled with `prefill`; `problems` (from the
/// matcher) are shown above the fields.
pub(crate) fn params_view(
    workflow: &Workflow,
    prefill: &RawParams,
    meta: &Metadata,
    purpose: Purpose,
    problems: &[(String, String)],
) -> Value {
    let mut out = Vec::new();
    let mut intro = format!("*{}*", escape(&workflow.title));
    if !workflow.description.is_empty() {
        intro.push_str(&format!("\n{}", escape(&workflow.description)));
    }
    out.push(blocks::section(&intro));
    let mut notes = vec![format!("Risk: {}", workflow.risk.as_str())];
    if let Some(context) = &meta.context {
        notes.push(format!("About <{}|this message>", escape(context)));
    }
    for (param, problem) in problems.iter().take(3) {
        notes.push(format!(":warning: {}: {}", escape(param), escape(problem)));
    }
    out.push(blocks::context(&notes.join(" · ")));
    // A view is at most 250 kB: selects with very many choices become text inputs until the
    // form fits (core checks the value either way).
    let mut inputs = Vec::new();
    for (cap, text) in [(MAX_OPTIONS * MAX_OPTIONS, 2_000), (1_000, 2_000), (MAX_OPTIONS, 500), (25, 150), (0, 100)] {
        inputs = workflow
            .params
            .iter()
            .take(MAX_INPUTS)
            .map(|spec| input(spec, prefill.get(&spec.name), cap, text))
            .collect();
        let size: usize = inputs.iter().map(|b| b.to_string().len()).sum();
        if size < MAX_VIEW_BYTES {
            break;
        }
    }
    out.extend(inputs);
    if workflow.params.len() > MAX_INPUTS {
        out.push(blocks::context(&format!(
            "{} more parameters take their defaults here; use the web page to set them.",
            workflow.params.len() - MAX_INPUTS
        )));
    }
    let (callback, title, submit) = match purpose {
        Purpose::Request => (REQUEST, "Open a ticket", "Open ticket"),
        Purpose::Amend => (AMEND, "Change parameters", "Plan again"),
    };
    json!({
        "type": "modal",
        "callback_id": callback,
        "title": blocks::plain(title, MODAL_TITLE),
        "submit": blocks::plain(submit, MODAL_TITLE),
        "close": blocks::plain("Cancel", MODAL_TITLE),
        "private_metadata": meta.encode(),
        "blocks": out,
    })
}

fn input(spec: &ParamSpec, prefill: Option<&Value>, max_choices: usize, max_text: usize) -> Value {
    let given = prefill.cloned();
    let initial_text = given.as_ref().map(value_text).or_else(|| spec.default.as_ref().map(ToString::to_string));
    let mut hints: Vec<String> = spec.help.iter().cloned().collect();
    let element = match &spec.kind {
        ParamKind::Choice { choices } if choices.len() > max_choices => {
            hints.push(format!("Type one of the {} allowed values (the web form lists them)", choices.len()));
            json!({ "type": "plain_text_input", "action_id": "value" })
        }
        ParamKind::Choice { choices } => {
            let options: Vec<Value> = choices.iter().map(|c| blocks::option(&c.label, &c.value)).collect();
            let mut select = json!({ "type": "static_select", "action_id": "value" });
            if options.len() <= MAX_OPTIONS {
                select["options"] = Value::Array(options.clone());
            } else {
                let groups: Vec<Value> = options
                    .chunks(MAX_OPTIONS)
                    .take(MAX_OPTIONS)
                    .enumerate()
                    .map(|(i, chunk)| {
                        let first = chunk.first().and_then(|o| o.pointer("/text/text")).and_then(Value::as_str);
                        let label = format!("{} — from {}", i + 1, first.unwrap_or(""));
                        json!({ "label": blocks::plain(&label, BUTTON_TEXT), "options": chunk })
                    })
                    .collect();
                select["option_groups"] = Value::Array(groups);
            }
            let initial = initial_text.as_deref().and_then(|t| docket_core::catalog::param::find_choice(choices, t));
            if let Some(choice) = initial {
                select["initial_option"] = blocks::option(&choice.label, &choice.value);
            }
            select
        }
        ParamKind::Boolean => {
            let yes = blocks::option("Yes", "true");
            let mut boxes = json!({ "type": "checkboxes", "action_id": "value", "options": [yes] });
            if initial_text.as_deref().is_some_and(|t| matches!(t, "true" | "yes" | "on" | "1")) {
                boxes["initial_options"] = json!([yes]);
            }
            boxes
        }
        ParamKind::Text { min_length, max_length } => {
            length_hint(&mut hints, *min_length, *max_length);
            let mut e = json!({ "type": "plain_text_input", "action_id": "value", "multiline": true });
            if let Some(max) = max_length {
                e["max_length"] = json!((*max).min(3_000));
            }
            e
        }
        ParamKind::String { pattern, min_length, max_length } => {
            if let Some(p) = pattern {
                hints.push(format!("Must match {}", p.as_str()));
            }
            length_hint(&mut hints, *min_length, *max_length);
            let mut e = json!({ "type": "plain_text_input", "action_id": "value" });
            if let Some(max) = max_length {
                e["max_length"] = json!((*max).min(3_000));
            }
            e
        }
        ParamKind::Integer { min, max } => {
            let mut e = json!({ "type": "number_input", "action_id": "value", "is_decimal_allowed": false });
            match (min, max) {
                (Some(lo), Some(hi)) => hints.push(format!("A whole number from {lo} to {hi}")),
                (Some(lo), None) => hints.push(format!("A whole number, at least {lo}")),
                (None, Some(hi)) => hints.push(format!("A whole number, at most {hi}")),
                (None, None) => hints.push("A whole number".to_owned()),
            }
            if let Some(lo) = min {
                e["min_value"] = json!(lo.to_string());
            }
            if let Some(hi) = max {
                e["max_value"] = json!(hi.to_string());
            }
            e
        }
    };
    let mut element = element;
    if element.get("type").and_then(Value::as_str) != Some("static_select")
        && !matches!(spec.kind, ParamKind::Boolean)
        && let Some(text) = initial_text.filter(|t| !t.is_empty())
    {
        element["initial_value"] = json!(cut(&text, if max_text < 2_000 { max_text } else { 3_000 }));
    }
    let optional = !spec.required || spec.default.is_some() || matches!(spec.kind, ParamKind::Boolean);
    let mut block = json!({
        "type": "input",
        "block_id": cut(&spec.name, 255),
        "label": blocks::plain(&spec.label, max_text),
        "optional": optional,
        "element": element,
    });
    if !hints.is_empty() {
        block["hint"] = blocks::plain(&hints.join(" · "), max_text);
    }
    block
}

fn length_hint(hints: &mut Vec<String>, min: Option<usize>, max: Option<usize>) {
    match (min, max) {
        (Some(lo), Some(hi)) => hints.push(format!("{lo} to {hi} characters")),
        (Some(lo), None) => hints.push(format!("At least {lo} characters")),
        (None, Some(hi)) => hints.push(format!("At most {hi} characters")),
        (None, None) => {}
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The raw parameters in a submitted form's `view.state`, for core's validation. Fields left
/// empty are left out (so defaults apply); an unchecked boolean is `false`.
pub(crate) fn read_values(workflow: &Workflow, state: &Value) -> RawParams {
    let mut raw = RawParams::new();
    for spec in &workflow.params {
        let Some(field) = state.pointer(&format!("/values/{}/value", pointer_escape(&spec.name))) else { continue };
        let value = match &spec.kind {
            ParamKind::Boolean => {
                let checked = field.get("selected_options").and_then(Value::as_array).is_some_and(|o| !o.is_empty());
                Some(Value::Bool(checked))
            }
            ParamKind::Choice { .. } => field
                .pointer("/selected_option/value")
                .or_else(|| field.get("value"))
                .and_then(Value::as_str)
                .map(|s| Value::String(s.to_owned())),
            _ => field.get("value").and_then(Value::as_str).map(|s| Value::String(s.to_owned())),
        };
        if let Some(v) = value {
            raw.insert(spec.name.clone(), v);
        }
    }
    raw
}

/// Escapes a key for a JSON pointer.
fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
