//! The request form: one input per workflow parameter, typed from its declaration
//! (`Input.ChoiceSet`, `Input.Toggle`, `Input.Text` with `regex` and `errorMessage`,
//! `Input.Number` with `min`/`max`), pre-filled from words that matched an example, and — after
//! a submission the server refused — each field's error right under it. The card checks
//! inputs in the client too, but the server validates again: a client is not to be trusted.

use docket_core::catalog::param::Choice;
use docket_core::{FieldError, ParamKind, ParamSpec, RawParams, Workflow};
use serde_json::{Value, json};

use super::{attention, card, clip, execute, subtle, text, title};

/// The verb of the form's submit button.
pub const SUBMIT_VERB: &str = "submit_request";
/// Input ids are the parameter's name after this prefix, so they never collide with `data`.
pub const INPUT_PREFIX: &str = "param.";
/// Choices offered per parameter.
const MAX_CHOICES: usize = 100;

/// How much a form shows; a workflow with many parameters gets a leaner form so the card stays
/// under Teams' size limit.
#[derive(Clone, Copy)]
struct Detail {
    help: bool,
    choices: usize,
}

const DETAILS: [Detail; 3] = [
    Detail { help: true, choices: MAX_CHOICES },
    Detail { help: false, choices: 25 },
    Detail { help: false, choices: 8 },
];
/// The size a form aims below (Teams' limit is 28 KB).
const FORM_BUDGET: usize = 24 * 1024;

/// The form for `workflow`, with `values` filled in and `errors` shown next to their fields.
pub fn request_form(workflow: &Workflow, values: &RawParams, errors: &[FieldError], note: Option<&str>) -> Value {
    let mut form = Value::Null;
    for detail in DETAILS {
        form = build(workflow, values, errors, note, detail, None);
        if serde_json::to_vec(&form).map_or(0, |b| b.len()) < FORM_BUDGET {
            return form;
        }
    }
    // Still too big: as many fields as fit, and the rest on the web form.
    let mut fields = workflow.params.len();
    while fields > 0 {
        fields /= 2;
        form = build(workflow, values, errors, note, DETAILS[2], Some(fields));
        if serde_json::to_vec(&form).map_or(0, |b| b.len()) < FORM_BUDGET {
            break;
        }
    }
    form
}

fn build(
    workflow: &Workflow,
    values: &RawParams,
    errors: &[FieldError],
    note: Option<&str>,
    detail: Detail,
    fields: Option<usize>,
) -> Value {
    let mut body = vec![title(&format!("Request: {}", clip(&workflow.title, 120)))];
    if !workflow.description.is_empty() {
        body.push(subtle(&clip(&workflow.description, 400)));
    }
    if let Some(note) = note {
        body.push(text(&clip(note, 400)));
    }
    let unknown: Vec<&FieldError> = errors.iter().filter(|e| workflow.param(&e.param).is_none()).collect();
    for error in unknown.iter().take(10) {
        body.push(attention(&clip(&error.to_string(), 300)));
    }
    let shown = fields.unwrap_or(workflow.params.len());
    for spec in workflow.params.iter().take(shown) {
        body.push(input(spec, values.get(&spec.name), detail.choices));
        if detail.help
            && let Some(help) = &spec.help
        {
            body.push(subtle(&clip(help, 200)));
        }
        for error in errors.iter().filter(|e| e.param == spec.name) {
            body.push(attention(&clip(&error.message, 300)));
        }
    }
    if shown < workflow.params.len() {
        let rest = workflow.params.len() - shown;
        body.push(attention(&format!(
            "This workflow has {rest} more parameters than fit on a card; request it on Docket's web page."
        )));
        return card(body, Vec::new());
    }
    let data = json!({ "workflow": workflow.id.to_string() });
    card(body, vec![execute("Request", SUBMIT_VERB, data, Some("positive"))])
}

/// One input for `spec`, holding `value` if given.
fn input(spec: &ParamSpec, value: Option<&Value>, max_choices: usize) -> Value {
    let id = format!("{INPUT_PREFIX}{}", spec.name);
    let label = clip(&spec.label, 80);
    let value = value.map(as_text).or_else(|| spec.default.as_ref().map(ToString::to_string));
    let input = match &spec.kind {
        ParamKind::Choice { choices } => {
            // A value that is no choice (a mistyped word) is left out: its error shows below.
            let selected = value.as_deref().and_then(|v| docket_core::catalog::param::find_choice(choices, v));
            let mut shown: Vec<&Choice> = choices.iter().take(max_choices).collect();
            if let Some(selected) = selected
                && !shown.contains(&selected)
            {
                shown.push(selected);
            }
            let mut input = json!({
                "type": "Input.ChoiceSet",
                "style": "compact",
                "choices": shown.into_iter().map(choice).collect::<Vec<_>>(),
                "errorMessage": format!("Choose one of the options for {label}"),
            });
            if let (Some(selected), Some(object)) = (selected, input.as_object_mut()) {
                object.insert("value".to_owned(), json!(selected.value));
            }
            return finish(input, spec, &id, &label, None);
        }
        ParamKind::Boolean => json!({
            "type": "Input.Toggle",
            "title": label,
            "valueOn": "true",
            "valueOff": "false",
        }),
        ParamKind::Integer { min, max } => {
            let mut input = json!({ "type": "Input.Number", "errorMessage": integer_rule(*min, *max) });
            if let Some(object) = input.as_object_mut() {
                if let Some(min) = min {
                    object.insert("min".to_owned(), json!(min));
                }
                if let Some(max) = max {
                    object.insert("max".to_owned(), json!(max));
                }
            }
            input
        }
        ParamKind::String { pattern, min_length, max_length } => {
            let mut input = json!({ "type": "Input.Text", "errorMessage": text_rule(pattern.as_ref().map(|p| p.as_str()), *min_length, *max_length) });
            if let Some(object) = input.as_object_mut() {
                if let Some(pattern) = pattern {
                    object.insert("regex".to_owned(), json!(pattern.as_str()));
                }
                if let Some(max) = max_length {
                    object.insert("maxLength".to_owned(), json!(max));
                }
            }
            input
        }
        ParamKind::Text { min_length, max_length } => {
            let mut input = json!({ "type": "Input.Text", "isMultiline": true, "errorMessage": text_rule(None, *min_length, *max_length) });
            if let (Some(max), Some(object)) = (max_length, input.as_object_mut()) {
                object.insert("maxLength".to_owned(), json!(max));
            }
            input
        }
    };
    finish(input, spec, &id, &label, value)
}

/// The properties every input has: id, label, whether it is required, and its value.
fn finish(mut input: Value, spec: &ParamSpec, id: &str, label: &str, value: Option<String>) -> Value {
    if let Some(object) = input.as_object_mut() {
        object.insert("id".to_owned(), json!(id));
        object.insert("label".to_owned(), json!(label));
        object.insert("isRequired".to_owned(), json!(spec.required && spec.default.is_none()));
        if let Some(value) = value {
            let value = match &spec.kind {
                ParamKind::Integer { .. } => value.parse::<i64>().map_or_else(|_| json!(null), |n| json!(n)),
                _ => json!(clip(&value, 2_000)),
            };
            if !value.is_null() {
                object.insert("value".to_owned(), value);
            }
        }
    }
    input
}

fn choice(choice: &Choice) -> Value {
    json!({ "title": clip(&choice.label, 100), "value": choice.value })
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn integer_rule(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("Enter a whole number from {min} to {max}"),
        (Some(min), None) => format!("Enter a whole number of at least {min}"),
        (None, Some(max)) => format!("Enter a whole number of at most {max}"),
        (None, None) => "Enter a whole number".to_owned(),
    }
}

fn text_rule(pattern: Option<&str>, min: Option<usize>, max: Option<usize>) -> String {
    let mut rules = Vec::new();
    if let Some(pattern) = pattern {
        rules.push(format!("match {}", clip(pattern, 120)));
    }
    match (min, max) {
        (Some(min), Some(max)) => rules.push(format!("be {min} to {max} characters")),
        (Some(min), None) => rules.push(format!("be at least {min} characters")),
        (None, Some(max)) => rules.push(format!("be at most {max} characters")),
        (None, None) => {}
    }
    if rules.is_empty() { "Enter a value".to_owned() } else { format!("The value must {}", rules.join(" and ")) }
}

/// The raw parameters a form submission carries: input values by parameter, as text (core's
/// validation reads text for every type, as from any chat), empty inputs left out.
pub fn submitted_params(data: &serde_json::Map<String, Value>) -> RawParams {
    data.iter()
        .filter_map(|(key, value)| Some((key.strip_prefix(INPUT_PREFIX)?, as_text(value))))
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(name, text)| (name.to_owned(), Value::String(text)))
        .collect()
}
