//! Jira as a ticketing integration: every ticket mirrored as a Jira issue and kept in sync.
//!
//! - [`section`]: the `jira` section of `docket.yaml` and a person's Jira account id.
//! - [`client`]: the REST calls (v3 on Cloud, v2 on Data Center), retried through the
//!   outbound toolkit.
//! - [`JiraNotifier`]: driven by the outbox; finds or creates the ticket's issue, comments
//!   each change and moves the issue to the mapped status.
//! - [`webhook`]: `POST /jira/webhook`, signed with `X-Hub-Signature`; comments come back, and
//!   decisions taken in Jira (a decision that does not count is answered in the issue).
//!
//! What Docket keeps, in surface state (scope `jira`): `issue:<ticket>` → `<id> <key>`,
//! `ticket:<key>` → the ticket, the notes each outbox message already sent, the deliveries and
//! comments already handled.

pub mod adf;
pub mod client;
pub mod section;
pub mod settings;
pub mod webhook;

mod notifier;
mod own;
mod refused;

use docket_core::TicketId;

pub use client::{Account, IssueRef, JiraClient, JiraError};
pub use notifier::JiraNotifier;
pub use section::JiraSection;
pub use settings::{Api, JiraSettings};
pub use webhook::{WEBHOOK_PATH, router};

/// The integration's name: its section, a person's id key, its notifier and its audit actions.
pub const SYSTEM: &str = "jira";

/// The surface-state key of a ticket's issue.
pub fn issue_key(ticket: &TicketId) -> String {
    format!("issue:{ticket}")
}

/// The surface-state key of the ticket an issue mirrors.
pub fn ticket_key(issue: &str) -> String {
    format!("ticket:{issue}")
}

/// The surface-state key of a comment Docket posted, so that it is not taken for a person's
/// when Jira sends it back.
pub(crate) fn posted_key(comment: &str) -> String {
    format!("posted:{comment}")
}
