//! `wait_for_ticket`: holds the call until the ticket leaves the state the agent saw (or
//! finishes), at most ten minutes, sending a progress notification whenever it changes and a
//! heartbeat meanwhile, so an agent can wait for the human decision and then read the outcome.
//! Live events wake it at once; the store is read again every two seconds as well, so a change
//! another replica made is seen even if its wake-up is lost.

use std::time::Duration;

use docket_app::LiveEvent;
use docket_core::{Ticket, TicketState};
use rmcp::model::{CallToolResult, ProgressNotificationParam};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::tools::{Caller, app_error, ticket_id, tool_error};
use crate::views::{TicketOut, Waited};

/// The longest an agent may wait in one call.
pub const MAX_WAIT: Duration = Duration::from_secs(600);
/// How long a call waits when it does not say.
const DEFAULT_WAIT: Duration = Duration::from_secs(300);
/// How often the store is read again whatever the live events say.
const POLL: Duration = Duration::from_secs(2);
/// How often a progress notification says the ticket is still where it was.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// What to wait for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Until {
    /// The ticket leaves `state` (any change of state).
    #[default]
    Change,
    /// The ticket finishes: succeeded, failed, rejected, denied, expired, cancelled, …
    Finished,
}

/// `wait_for_ticket`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitInput {
    /// The ticket's id.
    pub id: String,
    /// The state you last saw; the call returns once the ticket is in another. Default: the
    /// state it is in when the call arrives.
    #[serde(default)]
    pub state: Option<String>,
    /// `change` (default): return when the state changes; `finished`: only when the ticket
    /// has finished.
    #[serde(default)]
    pub until: Until,
    /// The longest to wait, in seconds (1 to 600; 300 when not given).
    #[serde(default)]
    #[schemars(range(min = 1, max = 600))]
    pub timeout_seconds: Option<u64>,
}

pub(crate) async fn wait_for_ticket(
    caller: &Caller,
    input: WaitInput,
    ctx: &RequestContext<RoleServer>,
    stopping: &CancellationToken,
) -> Result<Result<Waited, CallToolResult>, ErrorData> {
    let id = match ticket_id(&input.id) {
        Ok(id) => id,
        Err(error) => return Ok(Err(error)),
    };
    let from = match input.state.as_deref().map(str::trim) {
        None => None,
        Some(text) => match TicketState::parse(text) {
            Some(state) => Some(state),
            None => {
                let states: Vec<&str> = TicketState::ALL.iter().map(|s| s.as_str()).collect();
                return Ok(Err(tool_error(
                    format!("`{text}` is not a ticket state (one of {})", states.join(", ")),
                    json!({ "code": "invalid_state" }),
                )));
            }
        },
    };
    let timeout =
        input.timeout_seconds.map_or(DEFAULT_WAIT, Duration::from_secs).clamp(Duration::from_secs(1), MAX_WAIT);
    // Subscribed before the first read, so a change between the two is not missed.
    let mut live = caller.app.subscribe();
    let mut ticket = match caller.app.ticket(&id).await {
        Ok(ticket) => ticket,
        Err(error) => return Ok(Err(app_error(error))),
    };
    let from = from.unwrap_or(ticket.state);
    let done = |t: &Ticket| match input.until {
        Until::Change => t.state != from,
        Until::Finished => t.state.is_terminal(),
    };
    let progress = Progress { token: ctx.meta.get_progress_token(), ctx, sent: 0 };
    let mut progress = progress;
    let deadline = tokio::time::Instant::now() + timeout;
    // Its timeout, or the server beginning to stop: either way the wait ends and the caller
    // asks again.
    let mut ended = std::pin::pin!(async {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            () = stopping.cancelled() => {}
        }
    });
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    let mut poll = tokio::time::interval_at(tokio::time::Instant::now() + POLL, POLL);
    let mut seen = ticket.state;
    loop {
        if done(&ticket) {
            return Ok(Ok(Waited { timed_out: false, ticket: TicketOut::read(&ticket, &caller.app).await }));
        }
        let read_again = tokio::select! {
            () = &mut ended => {
                return Ok(Ok(Waited { timed_out: true, ticket: TicketOut::read(&ticket, &caller.app).await }));
            }
            () = ctx.ct.cancelled() => return Err(ErrorData::internal_error("the wait was cancelled", None)),
            event = live.recv() => match event {
                Ok(event) => event.ticket().is_none_or(|t| *t == id) && !matches!(event, LiveEvent::Log(_)),
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => {
                    live = caller.app.subscribe();
                    true
                }
            },
            _ = poll.tick() => true,
            _ = heartbeat.tick() => {
                let summary = caller.app.summarize(&ticket);
                progress.send(format!("{}: still {}", ticket.id, summary.headline)).await;
                false
            }
        };
        if read_again {
            match caller.app.ticket(&id).await {
                Ok(now) => ticket = now,
                Err(error) => tracing::warn!(%error, ticket = %id, "could not read a ticket being waited for"),
            }
            if ticket.state != seen {
                seen = ticket.state;
                let summary = caller.app.summarize(&ticket);
                progress.send(format!("{}: {}", ticket.id, summary.headline)).await;
            }
        }
    }
}

/// Progress notifications for one call, when its client asked for them (a progress token).
struct Progress<'c> {
    token: Option<rmcp::model::ProgressToken>,
    ctx: &'c RequestContext<RoleServer>,
    sent: u32,
}

impl Progress<'_> {
    async fn send(&mut self, message: String) {
        let Some(token) = &self.token else { return };
        self.sent += 1;
        let note = ProgressNotificationParam::new(token.clone(), f64::from(self.sent)).with_message(message);
        if let Err(error) = self.ctx.peer.notify_progress(note).await {
            tracing::debug!(%error, "could not send a progress notification");
        }
    }
}
