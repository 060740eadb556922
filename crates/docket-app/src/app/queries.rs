//! Reading: tickets, their events and logs, and counts for metrics. Any known person may read
//! any ticket; the plan shows no secret-bearing values, and logs are redacted when written.

use docket_core::{Event, Ticket, TicketId};
use jiff::Timestamp;

use super::App;
use crate::error::AppError;
use crate::ports::store::{LogLine, StoreStats, TicketFilter, TicketPage};

/// Longest page of log lines.
const MAX_LOG_PAGE: u32 = 10_000;

impl App {
    /// One ticket.
    pub async fn ticket(&self, id: &TicketId) -> Result<Ticket, AppError> {
        Ok(self.load(id).await?.ticket)
    }

    /// One ticket with its version (the number of events it has had).
    pub async fn ticket_with_version(&self, id: &TicketId) -> Result<(Ticket, u64), AppError> {
        let stored = self.load(id).await?;
        Ok((stored.ticket, stored.version))
    }

    /// Tickets matching `filter`, newest first, a page at a time.
    pub async fn tickets(&self, filter: &TicketFilter) -> Result<TicketPage, AppError> {
        Ok(self.store().tickets(filter).await?)
    }

    /// A ticket's history.
    pub async fn history(&self, id: &TicketId) -> Result<Vec<(Event, Timestamp)>, AppError> {
        let events = self.store().events(id).await?;
        // Every ticket has at least its request: only an empty history needs the ticket read
        // to tell "no such ticket".
        if events.is_empty() {
            self.load(id).await?;
        }
        Ok(events)
    }

    /// A ticket's log lines after `after` (0 for all), at most `limit` (capped at 10,000).
    pub async fn logs(&self, id: &TicketId, after: u64, limit: u32) -> Result<Vec<LogLine>, AppError> {
        let lines = self.store().logs(id, after, limit.clamp(1, MAX_LOG_PAGE)).await?;
        // Lines exist only for tickets; no lines needs the ticket read to tell "no such ticket".
        if lines.is_empty() {
            self.load(id).await?;
        }
        Ok(lines)
    }

    /// Counts for metrics and readiness.
    pub async fn stats(&self) -> Result<StoreStats, AppError> {
        Ok(self.store().stats().await?)
    }

    /// Whether the store answers.
    pub async fn ready(&self) -> Result<(), AppError> {
        Ok(self.store().ping().await?)
    }

    /// Now, by the app's clock (for surfaces that show ages and deadlines).
    pub fn clock_now(&self) -> Timestamp {
        self.now()
    }
}
