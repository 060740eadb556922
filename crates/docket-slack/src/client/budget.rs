//! Call budgets: Slack's per-method rate tiers and about one message a second per channel, on
//! the outbound toolkit's [`RateLimiter`] (a call waits for its turn, callers are served in the
//! order they came, and short bursts are allowed up to the tier's size).

use std::time::Duration;

use docket_app::outbound::{Rate, RateLimiter};
use tokio::time::Instant;

/// Slack's documented tiers.
#[derive(Clone, Copy)]
enum Tier {
    /// ~20 per minute.
    Two,
    /// ~50 per minute (and every method not listed).
    Three,
    /// ~100 per minute.
    Four,
    /// chat.postMessage is "special": limited per channel, not per method.
    Post,
}

fn tier(method: &str) -> Tier {
    match method {
        "usergroups.users.list" | "conversations.list" => Tier::Two,
        "chat.update" | "users.lookupByEmail" | "conversations.open" | "chat.getPermalink" => Tier::Three,
        "chat.postEphemeral"
        | "users.info"
        | "views.open"
        | "views.update"
        | "views.push"
        | "files.getUploadURLExternal"
        | "files.completeUploadExternal" => Tier::Four,
        "chat.postMessage" => Tier::Post,
        _ => Tier::Three,
    }
}

/// The budgets of one client: one limiter per tier, keyed by method, and one keyed by channel.
#[derive(Debug)]
pub(crate) struct Budgets {
    tier2: RateLimiter,
    tier3: RateLimiter,
    tier4: RateLimiter,
    post: RateLimiter,
    channels: RateLimiter,
}

impl Budgets {
    pub(crate) fn new(channel_interval: Duration) -> Self {
        Self {
            tier2: RateLimiter::new(Rate::per_minute(20, 3)),
            tier3: RateLimiter::new(Rate::per_minute(50, 10)),
            tier4: RateLimiter::new(Rate::per_minute(100, 20)),
            post: RateLimiter::new(Rate::per_minute(600, 100)),
            channels: RateLimiter::new(Rate::new(1, channel_interval)),
        }
    }

    fn method(&self, method: &str) -> &RateLimiter {
        match tier(method) {
            Tier::Two => &self.tier2,
            Tier::Three => &self.tier3,
            Tier::Four => &self.tier4,
            Tier::Post => &self.post,
        }
    }

    /// Waits until `method` may be called (and, for posts, until `channel` may get another
    /// message).
    pub(crate) async fn acquire(&self, method: &str, channel: Option<&str>) {
        self.method(method).acquire(method).await;
        if method == "chat.postMessage"
            && let Some(channel) = channel
        {
            self.channels.acquire(channel).await;
        }
    }

    /// Waits until `method` may be called, if that is no later than `deadline`; `false` (and
    /// no turn taken, so later calls do not queue behind it) if it would be later.
    pub(crate) async fn acquire_by(&self, method: &str, deadline: Instant) -> bool {
        self.method(method).acquire_by(method, deadline).await
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
