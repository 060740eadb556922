//! A notifier for the demo's terminal: one line each time a ticket changes state, so the person
//! running the demo sees requests, approvals and runs as they happen; and, while a ticket waits
//! for approval, the command that approves it, with the ticket's real id.

use std::io::Write as _;

use async_trait::async_trait;
use docket_app::{Notifier, NotifyError, OutboxMessage};
use docket_core::{Event, Ticket, TicketState};

/// Prints ticket changes to stdout.
pub(super) struct ConsoleNotifier {
    /// What client commands add to find the demo's tokens (`--credentials PATH`, or nothing).
    creds: String,
}

impl ConsoleNotifier {
    pub(super) fn new(creds: String) -> Self {
        Self { creds }
    }

    /// `DKT-7 waits for stage sre: docket approve DKT-7 --as bob`, for a ticket waiting for
    /// approval from someone the demo can act as.
    fn approve_hint(&self, app: &docket_app::App, ticket: &Ticket) -> Option<String> {
        if ticket.state != TicketState::AwaitingApproval {
            return None;
        }
        let view = app.approval_view(ticket)?;
        let stage = view.stages.iter().find(|s| s.current)?;
        let person = stage.eligible.first()?;
        Some(format!(
            "          {} waits for stage {}: docket approve {} --as {person}{}",
            ticket.id, stage.name, ticket.id, self.creds
        ))
    }
}

#[async_trait]
impl Notifier for ConsoleNotifier {
    fn name(&self) -> &str {
        "console"
    }

    fn wants(&self, _ticket: &Ticket, events: &[Event]) -> Vec<String> {
        let worth_a_line = events.iter().any(|e| {
            !matches!(e, Event::StepStarted { .. } | Event::StepFinished { .. } | Event::PlanningStarted { .. })
        });
        if worth_a_line { vec!["status".to_owned()] } else { Vec::new() }
    }

    async fn deliver(
        &self,
        app: &docket_app::App,
        message: &OutboxMessage,
        ticket: &Ticket,
    ) -> Result<(), NotifyError> {
        let actions = message.message.payload.get("actions").and_then(|a| a.as_array()).map_or_else(String::new, |a| {
            a.iter().filter_map(|v| v.as_str()).map(|s| s.trim_start_matches("ticket.")).collect::<Vec<_>>().join(", ")
        });
        let state = message.message.payload.get("state").and_then(|s| s.as_str()).unwrap_or("?").replace('_', " ");
        let time = message.created_at.strftime("%H:%M:%S");
        // The demo's terminal is this notifier's channel; a closed one (`docket demo | head`)
        // loses the lines, not the delivery.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{time}  {}  {state:<18} {} by {}  [{actions}]",
            ticket.id, ticket.workflow, ticket.requester
        );
        if let Some(hint) = self.approve_hint(app, ticket) {
            let _ = writeln!(out, "{hint}");
        }
        Ok(())
    }
}
