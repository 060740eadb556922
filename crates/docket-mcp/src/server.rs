//! The MCP server: its tools, with their input and output schemas and honest annotations, and
//! who each call is made as — the credential the HTTP layer checked and put in the request.

use std::borrow::Cow;

use docket_app::{App, Credential};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::schema_for_output;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Implementation, ProtocolVersion, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use tokio_util::sync::CancellationToken;

use crate::tools::{
    self, Caller, CancelInput, CommentInput, ListWorkflows, LogsInput, RequestInput, TicketRef, structured,
};
use crate::views::{LogsOut, TicketOut, Waited, WorkflowList};
use crate::wait::{self, WaitInput};

/// The revisions served: the current one, and the two before it for older clients.
pub const PROTOCOL_VERSIONS: &[ProtocolVersion] =
    &[ProtocolVersion::V_2025_06_18, ProtocolVersion::V_2025_11_25, ProtocolVersion::V_2026_07_28];

const INSTRUCTIONS: &str = "Docket runs pre-approved, parameterized workflows (deploys, reports, \
infrastructure changes) as tickets. Call `list_workflows` to see what you may request and each \
workflow's parameters, then `request` one with a reason. A policy decides: some tickets run at \
once, others wait for people to approve the exact plan. You can never approve, reject or request \
changes, and the person you act for cannot approve your requests either. Use `wait_for_ticket` to \
wait for the decision and the run, `get_ticket` and `ticket_logs` to read the outcome, `comment` \
to explain, and `cancel` to withdraw a request you made.";

/// Docket as an MCP server, for one HTTP request (or one connection).
#[derive(Clone)]
pub struct DocketMcp {
    app: App,
    /// Cancelled when the server begins to stop (see [`DocketMcp::stopping_with`]).
    stopping: CancellationToken,
    tool_router: ToolRouter<Self>,
}

impl std::fmt::Debug for DocketMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocketMcp").finish_non_exhaustive()
    }
}

impl DocketMcp {
    /// The server over `app`; each call acts as the [`Credential`] in its HTTP request.
    pub fn new(app: App) -> Self {
        Self { app, stopping: CancellationToken::new(), tool_router: Self::tool_router() }
    }

    /// The same, whose waits (`wait_for_ticket`) end when `stopping` is cancelled: the server
    /// is stopping, and the caller should ask again.
    #[must_use]
    pub fn stopping_with(self, stopping: CancellationToken) -> Self {
        Self { stopping, ..self }
    }

    /// Whom the call in `ctx` is made as: the credential the HTTP layer checked.
    fn caller(&self, ctx: &RequestContext<RoleServer>) -> Result<Caller, ErrorData> {
        let credential = ctx
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Credential>())
            .ok_or_else(|| ErrorData::internal_error("the call carries no checked credential", None))?;
        Ok(Caller { app: self.app.with_token(&credential.token), actor: credential.actor.clone() })
    }
}

fn answer<T: serde::Serialize>(result: Result<T, CallToolResult>) -> Result<CallToolResult, ErrorData> {
    match result {
        Ok(out) => structured(&out),
        Err(error) => Ok(error),
    }
}

#[tool_router]
impl DocketMcp {
    /// The workflows you may request, each with its parameters' JSON Schema.
    #[tool(
        name = "list_workflows",
        description = "The workflows you may request: id, title, description, risk, category, plain-language \
                       examples, and a JSON Schema of each one's parameters (type, pattern, bounds, choices, \
                       default, help; `required` lists those without a default).",
        output_schema = schema_for_output::<WorkflowList>(),
        annotations(title = "List workflows", read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_workflows(
        &self,
        Parameters(_input): Parameters<ListWorkflows>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx)?;
        structured(&tools::list_workflows(&caller))
    }

    /// Opens a ticket.
    #[tool(
        name = "request",
        description = "Request a workflow: give `workflow` and `params` (see list_workflows) and a `reason` for \
                       the approvers, or the request in words as `text`. Returns the ticket: its state, plan, \
                       the policy's explanation (who must approve) and its URL. Invalid parameters come back as \
                       an error listing every field's problem; nothing is requested then, so fix them and call \
                       again. An approved or auto-approved ticket runs its steps, which may change real systems. \
                       Each call opens a new ticket.",
        output_schema = schema_for_output::<TicketOut>(),
        annotations(
            title = "Request a workflow",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn request(
        &self,
        Parameters(input): Parameters<RequestInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx)?;
        answer(tools::request(&caller, input).await)
    }

    /// A ticket as it is now.
    #[tool(
        name = "get_ticket",
        description = "A ticket as it is now: state, plan, the policy's decision, approval stages and who \
                       approved, comments, each run's step states, and what the steps left (a report's columns \
                       and first rows, a write's rows changed).",
        output_schema = schema_for_output::<TicketOut>(),
        annotations(title = "Get a ticket", read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_ticket(
        &self,
        Parameters(input): Parameters<TicketRef>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx)?;
        answer(tools::get_ticket(&caller, input).await)
    }

    /// Waits for a ticket to move on.
    #[tool(
        name = "wait_for_ticket",
        description = "Wait until the ticket leaves the state you saw (`until: change`, the default) or has \
                       finished (`until: finished`), for at most `timeout_seconds` (600 at most), sending progress \
                       notifications meanwhile; then returns the ticket. Use it after `request` to wait for the \
                       people who decide and for the run.",
        output_schema = schema_for_output::<Waited>(),
        annotations(title = "Wait for a ticket", read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn wait_for_ticket(
        &self,
        Parameters(input): Parameters<WaitInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx)?;
        answer(wait::wait_for_ticket(&caller, input, &ctx, &self.stopping).await?)
    }

    /// A ticket's run log.
    #[tool(
        name = "ticket_logs",
        description = "What a ticket's steps printed (secrets masked), after line `after`, oldest first; pass \
                       `next_after` back to read on.",
        output_schema = schema_for_output::<LogsOut>(),
        annotations(title = "Read a ticket's log", read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn ticket_logs(
        &self,
        Parameters(input): Parameters<LogsInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx)?;
        answer(tools::ticket_logs(&caller, input).await)
    }

    /// Comments on a ticket.
    #[tool(
        name = "comment",
        description = "Add a comment to a ticket, for the people following it. Each call adds one.",
        output_schema = schema_for_output::<TicketOut>(),
        annotations(
            title = "Comment on a ticket",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn comment(
        &self,
        Parameters(input): Parameters<CommentInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx)?;
        answer(tools::comment(&caller, input).await)
    }

    /// Withdraws a request.
    #[tool(
        name = "cancel",
        description = "Withdraw a ticket you requested; a run in progress is stopped. A finished ticket cannot be \
                       cancelled.",
        output_schema = schema_for_output::<TicketOut>(),
        annotations(
            title = "Cancel a ticket",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn cancel(
        &self,
        Parameters(input): Parameters<CancelInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = self.caller(&ctx)?;
        answer(tools::cancel(&caller, input).await)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DocketMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("docket", env!("CARGO_PKG_VERSION")).with_title("Docket"))
            .with_instructions(INSTRUCTIONS)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(PROTOCOL_VERSIONS)
    }
}
