//! ServiceNow as a ticketing integration: every ticket mirrored as a change request (or an
//! incident) and kept in sync.
//!
//! - [`section`]: the `servicenow` section of `docket.yaml` and a person's user name there.
//! - [`client`]: the Table API calls, retried through the outbound toolkit.
//! - [`ServiceNowNotifier`]: driven by the outbox; finds or creates the ticket's record, adds
//!   a work note per change and moves `state` along, closing with `close_code`.
//! - [`callback`]: `POST /servicenow/callback`, signed with `X-Hub-Signature`; comments,
//!   work notes and approvers' decisions come back (one that does not count gets a work note
//!   saying why).
//!
//! What Docket keeps, in surface state (scope `servicenow`): `record:<ticket>` → `<sys_id>
//! <number>`, `ticket:<sys_id>` → the ticket, the notes each outbox message already sent, the
//! deliveries and comments already handled.

pub mod callback;
pub mod client;
pub mod section;
pub mod settings;

mod notifier;
mod refused;
mod token;

use docket_core::TicketId;

pub use callback::{CALLBACK_PATH, router};
pub use client::{Record, ServiceNowClient, ServiceNowError};
pub use notifier::ServiceNowNotifier;
pub use section::ServiceNowSection;
pub use settings::{Grant, OAuthClient, ServiceNowSettings, Table};

/// The integration's name: its section, a person's id key, its notifier and its audit actions.
pub const SYSTEM: &str = "servicenow";

/// The surface-state key of a ticket's record.
pub fn record_key(ticket: &TicketId) -> String {
    format!("record:{ticket}")
}

/// The surface-state key of the ticket a record (by `sys_id`) mirrors.
pub fn ticket_key(sys_id: &str) -> String {
    format!("ticket:{sys_id}")
}
