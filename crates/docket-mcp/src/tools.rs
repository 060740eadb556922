//! The tools' inputs, and what each does with the app. Every call is made as the caller's
//! token says (a person, or an agent acting for its owner), so core decides exactly as it does
//! for the REST API and the chats; a refusal comes back as a tool error in core's words.

use docket_app::{App, AppError};
use docket_core::ticket::Origin;
use docket_core::{Actor, RawParams, Refusal, TicketId, WorkflowId};
use rmcp::ErrorData;
use rmcp::model::{CallToolResult, ContentBlock};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::views::{LogLineOut, LogsOut, TicketOut, WorkflowList, WorkflowOut};
use crate::words;

/// `list_workflows` takes nothing.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListWorkflows {}

/// `request`: a workflow and its parameters (or the request in words).
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    /// The workflow's id, as `list_workflows` gives it.
    #[serde(default)]
    pub workflow: Option<String>,
    /// The parameters, as the workflow's `params` schema says. Defaults fill in what is left
    /// out.
    #[serde(default)]
    pub params: RawParams,
    /// Why this is needed, for the people who approve it.
    #[serde(default)]
    pub reason: Option<String>,
    /// Instead of `workflow` and `params`: the request in words ("deploy api 1.4.2 to
    /// prod"), read as chat reads it.
    #[serde(default)]
    pub text: Option<String>,
}

/// A ticket by id.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRef {
    /// The ticket's id, such as `DKT-42`.
    pub id: String,
}

/// `ticket_logs`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsInput {
    /// The ticket's id.
    pub id: String,
    /// Only lines after this position (0 for the start; `next_after` of the last call to
    /// read on).
    #[serde(default)]
    pub after: u64,
    /// At most this many lines (1 to 1000; 200 when not given).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
}

/// `comment`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// The ticket's id.
    pub id: String,
    /// The comment (1 to 4000 characters).
    pub text: String,
}

/// `cancel`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    /// The ticket's id; it must be one this agent requested.
    pub id: String,
    /// Why, for the people following the ticket.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Whom a call is made as, and the app acting through their token.
pub(crate) struct Caller {
    pub(crate) app: App,
    pub(crate) actor: Actor,
}

/// A structured result with its JSON as the text copy.
pub(crate) fn structured<T: Serialize>(out: &T) -> Result<CallToolResult, ErrorData> {
    let value = serde_json::to_value(out).map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
    Ok(CallToolResult::structured(value))
}

/// A tool error the agent can act on: the words, then the details as JSON.
pub(crate) fn tool_error(message: impl Into<String>, details: Value) -> CallToolResult {
    let mut content = vec![ContentBlock::text(message)];
    if !details.is_null() {
        content.push(ContentBlock::text(details.to_string()));
    }
    CallToolResult::error(content)
}

/// What a failed app call says to an agent. Bad parameters list every field's problem.
pub(crate) fn app_error(error: AppError) -> CallToolResult {
    match error {
        AppError::Refused(Refusal::InvalidParams(errors)) => {
            let lines: Vec<String> = errors.0.iter().map(|f| format!("- {}: {}", f.param, f.message)).collect();
            let fields: Vec<Value> =
                errors.0.iter().map(|f| json!({ "param": f.param, "message": f.message })).collect();
            tool_error(
                format!(
                    "The parameters were refused; nothing was requested. Fix each one and call `request` again:\n{}",
                    lines.join("\n")
                ),
                json!({ "code": "invalid_params", "fields": fields }),
            )
        }
        AppError::Refused(refusal) => tool_error(format!("Refused: {refusal}."), json!({ "code": refusal.code() })),
        AppError::NotFound(what) => tool_error(format!("{what} not found."), json!({ "code": "not_found" })),
        AppError::Store(error) => {
            tracing::error!(%error, "an MCP call could not reach the store");
            tool_error(
                "Docket's database is unavailable; nothing was changed. Try again shortly.",
                json!({ "code": "unavailable" }),
            )
        }
        other => tool_error(other.to_string(), json!({ "code": other.code() })),
    }
}

/// A ticket id as written, or a tool error saying what an id looks like.
pub(crate) fn ticket_id(raw: &str) -> Result<TicketId, CallToolResult> {
    TicketId::parse(raw.trim()).map_err(|_| {
        tool_error(
            format!("`{raw}` is not a ticket id (they look like DKT-42)."),
            json!({ "code": "invalid_ticket_id" }),
        )
    })
}

pub(crate) fn list_workflows(caller: &Caller) -> WorkflowList {
    let workflows = caller.app.requestable(&caller.actor).iter().map(|w| WorkflowOut::new(w)).collect();
    WorkflowList { workflows }
}

pub(crate) async fn request(caller: &Caller, input: RequestInput) -> Result<TicketOut, CallToolResult> {
    let (workflow, mut params) = match (input.workflow, input.text) {
        (Some(workflow), None) => (WorkflowId::new(workflow.trim()), input.params),
        (None, Some(text)) => words::read(&caller.app, &caller.actor, &text)?,
        (Some(_), Some(_)) => {
            return Err(tool_error(
                "Give either `workflow` with `params`, or `text`, not both.",
                json!({ "code": "invalid_request" }),
            ));
        }
        (None, None) => {
            return Err(tool_error(
                "Name the `workflow` (see `list_workflows`) with its `params`, or say the request in `text`.",
                json!({ "code": "invalid_request" }),
            ));
        }
    };
    let reason = input.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    // A workflow that asks for a reason gets it as that parameter; any other keeps it as the
    // ticket's first comment, so approvers read it either way.
    let as_param = caller.app.workflow(&workflow).is_some_and(|w| w.param("reason").is_some());
    let mut comment = None;
    if let Some(reason) = reason {
        if as_param && !params.contains_key("reason") {
            params.insert("reason".to_owned(), Value::String(reason));
        } else {
            comment = Some(reason);
        }
    }
    let origin = Origin { surface: "mcp".to_owned(), ..Origin::default() };
    let mut ticket = caller.app.request(&caller.actor, &workflow, params, origin).await.map_err(app_error)?;
    if let Some(reason) = comment {
        let text = format!("Reason: {reason}");
        match caller.app.comment(&caller.actor, &ticket.id, text).await {
            Ok(commented) => ticket = commented,
            Err(error) => {
                tracing::warn!(%error, ticket = %ticket.id, "could not add the request's reason as a comment")
            }
        }
    }
    Ok(TicketOut::new(&ticket, &caller.app))
}

pub(crate) async fn get_ticket(caller: &Caller, input: TicketRef) -> Result<TicketOut, CallToolResult> {
    let id = ticket_id(&input.id)?;
    let ticket = caller.app.ticket(&id).await.map_err(app_error)?;
    Ok(TicketOut::read(&ticket, &caller.app).await)
}

pub(crate) async fn ticket_logs(caller: &Caller, input: LogsInput) -> Result<LogsOut, CallToolResult> {
    let id = ticket_id(&input.id)?;
    let limit = input.limit.unwrap_or(200).clamp(1, 1000);
    let ticket = caller.app.ticket(&id).await.map_err(app_error)?;
    let mut lines = caller.app.logs(&id, input.after, limit + 1).await.map_err(app_error)?;
    let more = lines.len() > limit as usize;
    lines.truncate(limit as usize);
    let next_after = lines.last().map_or(input.after, |l| l.seq);
    let lines = lines.iter().map(|l| LogLineOut::new(l, &ticket, &caller.app)).collect();
    Ok(LogsOut { lines, next_after, more })
}

pub(crate) async fn comment(caller: &Caller, input: CommentInput) -> Result<TicketOut, CallToolResult> {
    let id = ticket_id(&input.id)?;
    let ticket = caller.app.comment(&caller.actor, &id, input.text).await.map_err(app_error)?;
    Ok(TicketOut::new(&ticket, &caller.app))
}

pub(crate) async fn cancel(caller: &Caller, input: CancelInput) -> Result<TicketOut, CallToolResult> {
    let id = ticket_id(&input.id)?;
    let ticket = caller.app.cancel(&caller.actor, &id, input.reason).await.map_err(app_error)?;
    Ok(TicketOut::new(&ticket, &caller.app))
}
