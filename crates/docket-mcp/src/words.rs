//! `request` with `text`: the request in words, read by the matcher every chat uses
//! (`App::match_words`: core's `match_request` over the workflows this caller may request). This is the one place the
//! MCP server calls the matcher: a better matcher changes this file alone. When the words do not
//! name one workflow with every parameter, nothing is requested and the agent is told what was
//! understood and which workflows come closest, so it can call again with `workflow` and
//! `params`.

use docket_app::{App, WordsMatch};
use docket_core::{Actor, RawParams, WorkflowId};
use rmcp::model::CallToolResult;
use serde_json::json;

use crate::tools::tool_error;

/// The workflow and parameters `text` asks for, or a tool error saying what was understood.
pub(crate) fn read(app: &App, actor: &Actor, text: &str) -> Result<(WorkflowId, RawParams), CallToolResult> {
    match app.match_words(actor, text) {
        WordsMatch::Found(found) if found.problems.is_empty() => Ok((found.workflow.id.clone(), found.params)),
        WordsMatch::Found(found) => {
            let problems: Vec<String> =
                found.problems.iter().map(|p| format!("- {}: {}", p.param, p.message)).collect();
            let example = found.example.as_deref().map(|e| format!(" (\"{e}\")")).unwrap_or_default();
            Err(tool_error(
                format!(
                    "The words read as `{}`{example}, but some values were refused; nothing was requested. \
                     Call `request` with `workflow: \"{}\"` and corrected `params`:\n{}",
                    found.workflow.id,
                    found.workflow.id,
                    problems.join("\n")
                ),
                json!({ "code": "invalid_params", "workflow": found.workflow.id, "understood": found.params }),
            ))
        }
        WordsMatch::Unsure(candidates) => {
            let lines: Vec<String> = candidates
                .iter()
                .map(|c| {
                    let understood = serde_json::to_string(&c.params).unwrap_or_default();
                    format!("- {} ({}): understood {understood}", c.workflow.id, c.workflow.title)
                })
                .collect();
            let message = if lines.is_empty() {
                "The words match no workflow you may request; nothing was requested. See `list_workflows`.".to_owned()
            } else {
                format!(
                    "The words did not clearly name one workflow; nothing was requested. The closest are:\n{}\n\
                     Call `request` with `workflow` and `params` (see `list_workflows`).",
                    lines.join("\n")
                )
            };
            let ids: Vec<&str> = candidates.iter().map(|c| c.workflow.id.as_str()).collect();
            Err(tool_error(message, json!({ "code": "no_match", "candidates": ids })))
        }
    }
}
