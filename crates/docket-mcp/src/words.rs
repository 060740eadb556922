//! `request` with `text`: the request in words, read by the matcher every chat uses (core's
//! `match_request`, over the workflows this caller may request). This is the one place the
//! MCP server calls the matcher: a better matcher changes this file alone. When the words do not
//! name one workflow with every parameter, nothing is requested and the agent is told what was
//! understood and which workflows come closest, so it can call again with `workflow` and
//! `params`.

use docket_app::App;
use docket_core::catalog::matcher::{RequestMatch, match_request};
use docket_core::{Actor, RawParams, WorkflowId};
use rmcp::model::CallToolResult;
use serde_json::json;

use crate::tools::tool_error;

/// The workflow and parameters `text` asks for, or a tool error saying what was understood.
pub(crate) fn read(app: &App, actor: &Actor, text: &str) -> Result<(WorkflowId, RawParams), CallToolResult> {
    let requestable = app.requestable(actor);
    match match_request(requestable.iter().map(|w| &**w), text) {
        RequestMatch::Found(found) if found.problems.is_empty() => Ok((found.workflow.id.clone(), found.params)),
        RequestMatch::Found(found) => {
            let problems: Vec<String> = found.problems.iter().map(|(p, why)| format!("- {p}: {why}")).collect();
            Err(tool_error(
                format!(
                    "The words read as `{}` (\"{}\"), but some values were refused; nothing was requested. \
                     Call `request` with `workflow: \"{}\"` and corrected `params`:\n{}",
                    found.workflow.id,
                    found.example,
                    found.workflow.id,
                    problems.join("\n")
                ),
                json!({ "code": "invalid_params", "workflow": found.workflow.id, "understood": found.params }),
            ))
        }
        RequestMatch::Closest(closest) => {
            let candidates: Vec<String> = closest.iter().take(3).map(|w| format!("- {} ({})", w.id, w.title)).collect();
            let message = if candidates.is_empty() {
                "The words match no workflow you may request; nothing was requested. See `list_workflows`.".to_owned()
            } else {
                format!(
                    "The words did not name one workflow with all its parameters; nothing was requested. \
                     The closest are:\n{}\nCall `request` with `workflow` and `params` (see `list_workflows`).",
                    candidates.join("\n")
                )
            };
            let ids: Vec<&str> = closest.iter().take(3).map(|w| w.id.as_str()).collect();
            Err(tool_error(message, json!({ "code": "no_match", "candidates": ids })))
        }
    }
}
