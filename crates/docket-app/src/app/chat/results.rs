//! Results in chat: the reply to a change that ends a run carries the results that run's steps
//! left (a report's table, the rows a write changed), so every chat shows them at the same
//! moment, under the same reply; each chat lays out the first rows ([`CHAT_ROWS`]) and offers
//! the whole table its own way.

use docket_core::{Event, Ticket};

use crate::app::App;
use crate::error::AppError;
use crate::ports::results::StoredResult;
use crate::ports::store::OutboxMessage;

/// Rows of a result table a chat shows in the thread; the whole kept table goes as a file or
/// a link.
pub const CHAT_ROWS: usize = 10;

impl App {
    /// The results to show with the reply to `message`'s change: those of the run the change
    /// ended, in step order; none when it ended no run.
    pub async fn results_of_change(
        &self,
        message: &OutboxMessage,
        ticket: &Ticket,
    ) -> Result<Vec<StoredResult>, AppError> {
        let payload = &message.message.payload;
        let version = payload.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        let count = payload.get("events").and_then(serde_json::Value::as_u64).unwrap_or(0);
        let history = self.store().events(&ticket.id).await?;
        let end = usize::try_from(version).unwrap_or(usize::MAX).min(history.len());
        let start = end.saturating_sub(usize::try_from(count).unwrap_or(0));
        let ended =
            history.get(start..end).unwrap_or_default().iter().any(|(e, _)| matches!(e, Event::RunFinished { .. }));
        if !ended {
            return Ok(Vec::new());
        }
        let runs = history.get(..end).unwrap_or_default().iter().filter(|(e, _)| matches!(e, Event::RunStarted { .. }));
        let run = u32::try_from(runs.count()).unwrap_or(u32::MAX);
        let results = self.store().results(&ticket.id).await?;
        Ok(results.into_iter().filter(|r| r.run == run).collect())
    }
}
