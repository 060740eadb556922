//! Pacing: a token bucket per key (a burst, then one write per interval), so Docket stays under
//! Teams' limits instead of meeting 429s. The connector keeps one pacer keyed by conversation
//! and one with a single bucket for every write of the bot.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::settings::Pacing;

/// Buckets kept before full (idle) ones are dropped.
const MAX_BUCKETS: usize = 10_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets.
pub(crate) struct Pacer {
    pacing: Pacing,
    // A std mutex: held for arithmetic, never across an await.
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Pacer {
    pub(crate) fn new(pacing: Pacing) -> Self {
        Self { pacing, buckets: Mutex::new(HashMap::new()) }
    }

    /// Waits until `conversation` may be written to, and takes the write.
    pub(crate) async fn wait(&self, conversation: &str) {
        loop {
            let pause = self.take(conversation);
            match pause {
                None => return,
                Some(pause) => tokio::time::sleep(pause).await,
            }
        }
    }

    /// Takes a write if one is allowed; otherwise says how long until one is.
    fn take(&self, conversation: &str) -> Option<Duration> {
        let burst = f64::from(self.pacing.burst.max(1));
        let interval = self.pacing.interval.as_secs_f64();
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| {
                let refilled = b.tokens + now.duration_since(b.at).as_secs_f64() / interval.max(f64::EPSILON);
                refilled < burst
            });
        }
        let bucket = buckets.entry(conversation.to_owned()).or_insert(Bucket { tokens: burst, at: now });
        if interval > 0.0 {
            let refill = now.duration_since(bucket.at).as_secs_f64() / interval;
            bucket.tokens = (bucket.tokens + refill).min(burst);
        } else {
            bucket.tokens = burst;
        }
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return None;
        }
        Some(Duration::from_secs_f64((1.0 - bucket.tokens) * interval))
    }
}
