//! Call budgets: Slack's per-method rate tiers and about one message a second per channel,
//! kept as "next free instant" cells (GCRA): a call waits until its cell allows it, and short
//! bursts are allowed up to the tier's size.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Slack's documented tiers, as calls per minute, and the burst each allows.
fn tier(method: &str) -> (u32, u32) {
    match method {
        // Tier 2: ~20 per minute.
        "usergroups.users.list" | "conversations.list" => (20, 3),
        // Tier 3: ~50 per minute.
        "chat.update" | "users.lookupByEmail" | "conversations.open" | "chat.getPermalink" => (50, 10),
        // Tier 4: ~100 per minute.
        "chat.postEphemeral" | "users.info" | "views.open" | "views.update" | "views.push" => (100, 20),
        // chat.postMessage is "special": limited per channel, not per method.
        "chat.postMessage" => (600, 100),
        _ => (50, 10),
    }
}

/// One GCRA cell.
#[derive(Debug)]
struct Cell {
    /// When the cell is fully drained (theoretical arrival time).
    tat: Instant,
}

/// The budgets of one client.
#[derive(Debug)]
pub(crate) struct Budgets {
    channel_interval: Duration,
    /// Per method and per `channel:<id>`. A std mutex: held for a lookup, never across an
    /// await.
    cells: Mutex<HashMap<String, Cell>>,
}

impl Budgets {
    pub(crate) fn new(channel_interval: Duration) -> Self {
        Self { channel_interval, cells: Mutex::new(HashMap::new()) }
    }

    /// Waits until `method` may be called (and, for posts, until `channel` may get another
    /// message).
    pub(crate) async fn acquire(&self, method: &str, channel: Option<&str>) {
        let (per_minute, burst) = tier(method);
        let interval = Duration::from_secs(60) / per_minute.max(1);
        self.take(method.to_owned(), interval, burst, None).await;
        if method == "chat.postMessage"
            && let Some(channel) = channel
        {
            self.take(format!("channel:{channel}"), self.channel_interval, 1, None).await;
        }
    }

    /// Waits until `method` may be called, if that is no later than `deadline`; `false` (and
    /// no slot taken, so later calls do not queue behind it) if it would be later.
    pub(crate) async fn acquire_by(&self, method: &str, deadline: Instant) -> bool {
        let (per_minute, burst) = tier(method);
        let interval = Duration::from_secs(60) / per_minute.max(1);
        self.take(method.to_owned(), interval, burst, Some(deadline)).await
    }

    async fn take(&self, key: String, interval: Duration, burst: u32, deadline: Option<Instant>) -> bool {
        let wait = {
            let mut cells = self.cells.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let cell = cells.entry(key).or_insert(Cell { tat: now });
            let tolerance = interval * burst.saturating_sub(1);
            let start = cell.tat.max(now);
            let wait = (start.checked_sub(tolerance).unwrap_or(now)).saturating_duration_since(now);
            if deadline.is_some_and(|deadline| now + wait > deadline) {
                return false;
            }
            // Reserve the slot now, so concurrent callers queue behind each other.
            cell.tat = start + interval;
            wait
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_call_that_would_wait_past_its_deadline_takes_no_slot() {
        let budgets = Budgets::new(Duration::from_secs(1));
        let deadline = Instant::now() + Duration::from_secs(3);
        // views.open: 100 a minute (one per 0.6 s) in bursts of 20. The burst goes at once,
        // then one call every 0.6 s until the deadline; the rest are refused without waiting.
        let mut sent = 0;
        for _ in 0..40 {
            if budgets.acquire_by("views.open", deadline).await {
                sent += 1;
            }
        }
        assert_eq!(sent, 25);
        assert!(Instant::now() <= deadline);
        // The refused calls reserved nothing: the next call after the deadline waits one interval.
        let later = Instant::now() + Duration::from_secs(10);
        let before = Instant::now();
        assert!(budgets.acquire_by("views.open", later).await);
        assert!(Instant::now() - before <= Duration::from_millis(600));
    }
}
