//! The workflow picker: a select of the workflows the person may request (grouped by category
//! when there are more than Slack's 100 options), or the closest workflows after a miss.

use std::collections::BTreeMap;
use std::sync::Arc;

use docket_core::Workflow;
use serde_json::{Value, json};

use super::{Metadata, PICK};
use crate::render::blocks::{self, BUTTON_TEXT, MODAL_TITLE, cut, escape};

/// Options in one select or group.
const MAX_OPTIONS: usize = 100;

/// The picker modal. `note` is shown above the select (why the picker and not a form).
pub(crate) fn picker_view(workflows: &[Arc<Workflow>], meta: &Metadata, note: Option<&str>) -> Value {
    let mut out = Vec::new();
    if let Some(note) = note {
        out.push(blocks::section(note));
    }
    if workflows.is_empty() {
        out.push(blocks::section(
            "There are no workflows you may request. Ask an admin to add you to a workflow's requesters.",
        ));
        return json!({
            "type": "modal",
            "callback_id": PICK,
            "title": blocks::plain("Open a ticket", MODAL_TITLE),
            "close": blocks::plain("Close", MODAL_TITLE),
            "private_metadata": meta.encode(),
            "blocks": out,
        });
    }
    let option = |w: &Workflow| blocks::option(&format!("{} ({})", w.title, w.id), w.id.as_str());
    let mut select = json!({
        "type": "static_select",
        "action_id": "value",
        "placeholder": blocks::plain("Choose a workflow", 150),
    });
    if workflows.len() <= MAX_OPTIONS {
        select["options"] = Value::Array(workflows.iter().map(|w| option(w)).collect());
    } else {
        let mut by_category: BTreeMap<&str, Vec<&Workflow>> = BTreeMap::new();
        for w in workflows {
            let category = if w.category.is_empty() { "Other" } else { w.category.as_str() };
            by_category.entry(category).or_default().push(w);
        }
        let mut groups = Vec::new();
        for (category, list) in by_category {
            for (i, chunk) in list.chunks(MAX_OPTIONS).enumerate() {
                let label = if i == 0 { category.to_owned() } else { format!("{category} ({})", i + 1) };
                groups.push(json!({
                    "label": blocks::plain(&label, BUTTON_TEXT),
                    "options": chunk.iter().map(|w| option(w)).collect::<Vec<_>>(),
                }));
            }
        }
        groups.truncate(MAX_OPTIONS);
        select["option_groups"] = Value::Array(groups);
    }
    out.push(json!({
        "type": "input",
        "block_id": "workflow",
        "label": blocks::plain("Workflow", 2_000),
        "element": select,
    }));
    if let Some(context) = &meta.context {
        out.push(blocks::context(&format!("About <{}|this message>", escape(context))));
    }
    json!({
        "type": "modal",
        "callback_id": PICK,
        "title": blocks::plain("Open a ticket", MODAL_TITLE),
        "submit": blocks::plain("Next", MODAL_TITLE),
        "close": blocks::plain("Cancel", MODAL_TITLE),
        "private_metadata": meta.encode(),
        "blocks": out,
    })
}

/// The picked workflow in a picker submission.
pub(crate) fn picked(state: &Value) -> Option<String> {
    state.pointer("/values/workflow/value/selected_option/value").and_then(Value::as_str).map(|s| cut(s, 200))
}
