//! A notifier for the demo's terminal: one line each time a ticket changes state, so the person
//! running the demo sees requests, approvals and runs as they happen.

use async_trait::async_trait;
use docket_app::{Notifier, NotifyError, OutboxMessage};
use docket_core::{Event, Ticket};

/// Prints ticket changes to stdout.
pub(super) struct ConsoleNotifier;

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
        _app: &docket_app::App,
        message: &OutboxMessage,
        ticket: &Ticket,
    ) -> Result<(), NotifyError> {
        let actions = message.message.payload.get("actions").and_then(|a| a.as_array()).map_or_else(String::new, |a| {
            a.iter().filter_map(|v| v.as_str()).map(|s| s.trim_start_matches("ticket.")).collect::<Vec<_>>().join(", ")
        });
        let state = message.message.payload.get("state").and_then(|s| s.as_str()).unwrap_or("?").replace('_', " ");
        let time = message.created_at.strftime("%H:%M:%S");
        #[allow(clippy::print_stdout, reason = "the demo's terminal is this notifier's channel")]
        {
            println!("{time}  {}  {state:<18} {} by {}  [{actions}]", ticket.id, ticket.workflow, ticket.requester);
        }
        Ok(())
    }
}
