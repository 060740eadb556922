//! A warning repeated in a flood is written once per interval, with how many were held back, so
//! a flood of bad input never becomes a flood of log lines.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lets one occurrence through per interval and counts the rest.
#[derive(Debug)]
pub struct Throttle {
    interval: Duration,
    /// When one was last let through, and how many were held back since. A std mutex: held for
    /// a comparison, never across an await.
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttle {
    /// At most one occurrence per `interval`.
    pub const fn new(interval: Duration) -> Self {
        Self { interval, state: Mutex::new((None, 0)) }
    }

    /// `Some(held back since the last one)` when this occurrence may be logged, else `None`.
    pub fn allow(&self) -> Option<u64> {
        self.allow_at(Instant::now())
    }

    fn allow_at(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (last, held) = &mut *state;
        match last {
            Some(at) if now.duration_since(*at) < self.interval => {
                *held += 1;
                None
            }
            _ => {
                *last = Some(now);
                Some(std::mem::take(held))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_interval_with_the_count_held_back() {
        let throttle = Throttle::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(throttle.allow_at(start), Some(0));
        assert_eq!(throttle.allow_at(start + Duration::from_secs(1)), None);
        assert_eq!(throttle.allow_at(start + Duration::from_secs(2)), None);
        assert_eq!(throttle.allow_at(start + Duration::from_secs(11)), Some(2));
    }
}
