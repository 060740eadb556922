//! Reading: tickets, their events, logs and step results, and counts for metrics. Any known person may read
//! any ticket; the plan shows no secret-bearing values, and logs are redacted when written.

use docket_core::{Event, Ticket, TicketId};
use jiff::Timestamp;

use super::App;
use crate::error::AppError;
use crate::ports::results::StoredResult;
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

    /// The results a ticket's steps left (a report's table, the rows a write changed): for each
    /// step, the one of the latest run that kept one, in step order.
    pub async fn results(&self, id: &TicketId) -> Result<Vec<StoredResult>, AppError> {
        let all = self.store().results(id).await?;
        if all.is_empty() {
            self.load(id).await?;
        }
        let mut latest: std::collections::BTreeMap<usize, StoredResult> = std::collections::BTreeMap::new();
        for result in all {
            let newer = latest.get(&result.step).is_none_or(|kept| kept.run <= result.run);
            if newer {
                latest.insert(result.step, result);
            }
        }
        Ok(latest.into_values().collect())
    }

    /// The result step `step` (from 0) left in the latest run that kept one.
    pub async fn step_result(&self, id: &TicketId, step: usize) -> Result<Option<StoredResult>, AppError> {
        Ok(self.results(id).await?.into_iter().find(|r| r.step == step))
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
