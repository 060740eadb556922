//! Step results: what a step left for people to read besides its log (a report's table, the
//! rows a write changed), kept with the step so the web, the API, the CLI and the chats show it
//! after the run, on any replica.

use async_trait::async_trait;
use docket_core::{StepResult, TicketId};
use jiff::Timestamp;

use crate::ports::store::StoreError;

/// One step's result in one run.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredResult {
    /// The ticket.
    pub ticket: TicketId,
    /// The run, from 1.
    pub run: u32,
    /// The step's index in the workflow, from 0.
    pub step: usize,
    /// What it left (already redacted).
    pub result: StepResult,
    /// When it was kept.
    pub at: Timestamp,
}

/// Where step results are kept.
#[async_trait]
pub trait ResultStore: Send + Sync + 'static {
    /// Keeps a step's result, replacing any kept for the same (ticket, run, step): a step that
    /// runs again after an interruption leaves its latest result.
    async fn put_result(&self, result: &StoredResult) -> Result<(), StoreError>;

    /// A ticket's results, by run then step.
    async fn results(&self, ticket: &TicketId) -> Result<Vec<StoredResult>, StoreError>;
}
