//! Formatting shared by the pages: times in the configured zone, state badges, and the row a
//! ticket gets in a list.

use docket_app::{App, Tone};
use docket_core::{Ticket, TicketState};
use jiff::Timestamp;

/// `2026-11-24 14:03` in the configured time zone.
pub(crate) fn when(app: &App, at: Timestamp) -> String {
    at.to_zoned_datetime(app.rules().zone.clone()).strftime("%Y-%m-%d %H:%M").to_string()
}

/// `2026-11-24 14:03:07` in the configured time zone.
pub(crate) fn when_exact(app: &App, at: Timestamp) -> String {
    at.to_zoned_datetime(app.rules().zone.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// The badge class of a state: how it feels (the app's [`Tone`], as chat shows it too).
pub(crate) fn tone(state: TicketState) -> &'static str {
    Tone::of(state).as_str()
}

/// A ticket in a list.
#[derive(Debug, Clone)]
pub(crate) struct TicketRow {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) params: String,
    pub(crate) state: &'static str,
    pub(crate) state_label: String,
    pub(crate) tone: &'static str,
    pub(crate) requester: String,
    pub(crate) updated: String,
}

impl TicketRow {
    pub(crate) fn new(app: &App, ticket: &Ticket) -> Self {
        let title = app.workflow(&ticket.workflow).map_or_else(|| ticket.workflow.to_string(), |w| w.title.clone());
        let params = ticket.params.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(" ");
        Self {
            id: ticket.id.to_string(),
            title,
            params,
            state: ticket.state.as_str(),
            state_label: ticket.state.to_string(),
            tone: tone(ticket.state),
            requester: app.requested_by(ticket),
            updated: when(app, ticket.updated_at),
        }
    }
}
