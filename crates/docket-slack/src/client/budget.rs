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
        self.take(method.to_owned(), interval, burst).await;
        if method == "chat.postMessage"
            && let Some(channel) = channel
        {
            self.take(format!("channel:{channel}"), self.channel_interval, 1).await;
        }
    }

    async fn take(&self, key: String, interval: Duration, burst: u32) {
        let wait = {
            let mut cells = self.cells.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let cell = cells.entry(key).or_insert(Cell { tat: now });
            let tolerance = interval * burst.saturating_sub(1);
            let start = cell.tat.max(now);
            // Reserve the slot now, so concurrent callers queue behind each other.
            cell.tat = start + interval;
            (start.checked_sub(tolerance).unwrap_or(now)).saturating_duration_since(now)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}
