//! Docket for AI agents: an MCP server whose tools list the catalog, request tickets and
//! follow them, under the same policies, digest-bound approvals and audit as people. An agent
//! is an identity of its own (`agents` in `docket.yaml`) acting for one person: it may request
//! and watch, never decide, and its owner cannot approve its requests.
//!
//! - [`router`]: streamable HTTP at `POST /mcp` (bearer token, `Host` and `Origin` checked),
//!   stateless, so every replica serves it; revisions 2025-06-18, 2025-11-25 and 2026-07-28.
//! - [`proxy`]: the stdio transport of `docket mcp`, which speaks MCP on stdin and stdout
//!   and forwards each call to a server's `/mcp` with the agent's token, so the server that
//!   owns the database does the work.
//!
//! Inside: `server` (the tools and their annotations), `tools` and `wait` (what each does with
//! the app), `views` (the outputs, whose schemas are the tools' output schemas), `schema` (a
//! workflow's parameters as JSON Schema), `words` (requests in words, through the matcher),
//! `http` (the endpoint's checks).

mod http;
pub mod proxy;
mod schema;
mod server;
mod tools;
mod views;
mod wait;
mod words;

pub use http::{MCP_PATH, McpOptions, RESOURCE_METADATA_PATH, router};
pub use server::{DocketMcp, PROTOCOL_VERSIONS};
pub use tools::{CancelInput, CommentInput, ListWorkflows, LogsInput, RequestInput, TicketRef};
pub use views::{
    CommentOut, DecisionOut, LogLineOut, LogsOut, ResultOut, ReviewOut, RunOut, StageOut, StepOut, TicketOut, Waited,
    WorkflowList, WorkflowOut,
};
pub use wait::{MAX_WAIT, Until, WaitInput};
