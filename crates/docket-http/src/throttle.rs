//! A warning repeated in a flood is written once per interval, with how many were held back, so
//! a flood of bad input never becomes a flood of log lines: [`Throttle`], and
//! [`warn_throttled!`](crate::warn_throttled) for a warning at one place in the code.

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

/// The least time between two lines of one kind, unless a call site says otherwise.
pub const FLOOD_INTERVAL: Duration = Duration::from_secs(10);

/// `tracing::warn!` at most once per interval from this call site (each use has its own
/// [`Throttle`]), with a `held_back` field: how many of the same were not written since the
/// last line. The first of a flood is written at once; a flood that goes on gets one line per
/// interval. The interval is [`FLOOD_INTERVAL`] unless the first argument is `every = D;`;
/// the other arguments are `tracing::warn!`'s.
///
/// ```
/// # let error = "budget spent";
/// docket_http::warn_throttled!(%error, "dropped a modal");
/// docket_http::warn_throttled!(every = std::time::Duration::from_secs(60); %error, "could not record it");
/// ```
#[macro_export]
macro_rules! warn_throttled {
    (every = $every:expr; $($arg:tt)+) => {{
        static THROTTLE: $crate::Throttle = $crate::Throttle::new($every);
        if let Some(held_back) = THROTTLE.allow() {
            $crate::__tracing::warn!(held_back, $($arg)+);
        }
    }};
    ($($arg:tt)+) => {
        $crate::warn_throttled!(every = $crate::FLOOD_INTERVAL; $($arg)+)
    };
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
