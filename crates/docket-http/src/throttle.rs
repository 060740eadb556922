//! A warning repeated in a flood is written once per interval, with how many were held back, so
//! a flood of bad input never becomes a flood of log lines: [`Throttle`], and
//! [`warn_throttled!`](crate::warn_throttled) for a warning at one place in the code.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lets one occurrence through per interval and counts the rest.
#[derive(Debug)]
pub struct Throttle {
    interval: Duration,
    /// A std mutex: held for a comparison, never across an await.
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// When one was last let through.
    last: Option<Instant>,
    /// How many were held back since.
    held: u64,
    /// Whether a summary of those is due at the interval's end.
    summary_due: bool,
}

impl Throttle {
    /// At most one occurrence per `interval`.
    pub const fn new(interval: Duration) -> Self {
        Self { interval, state: Mutex::new(State { last: None, held: 0, summary_due: false }) }
    }

    /// `Some(held back since the last one)` when this occurrence may be logged, else `None`.
    pub fn allow(&self) -> Option<u64> {
        self.allow_at(Instant::now(), false).0
    }

    /// As [`Throttle::allow`], and when this is the first occurrence held back since one was
    /// let through, a line at the end of the interval says how many were held back, unless
    /// one let through by then said it already: a flood that stops still has its count
    /// written. `at` names the call site in that line. Without a Tokio runtime (nothing to
    /// wait on), the count waits for the next line let through, as with `allow`.
    pub fn allow_or_summarize(&'static self, at: &'static str) -> Option<u64> {
        let (allowed, summary_at) = self.allow_at(Instant::now(), true);
        if let Some(deadline) = summary_at {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(async move {
                        tokio::time::sleep(deadline.saturating_duration_since(Instant::now())).await;
                        self.summarize(at);
                    });
                }
                Err(_) => self.state().summary_due = false,
            }
        }
        allowed
    }

    /// Whether this occurrence may be logged (with the count held back), and, when `summarize`,
    /// when a summary is to be written if this occurrence makes one due.
    fn allow_at(&self, now: Instant, summarize: bool) -> (Option<u64>, Option<Instant>) {
        let mut state = self.state();
        match state.last {
            Some(at) if now.duration_since(at) < self.interval => {
                state.held += 1;
                let first = summarize && !std::mem::replace(&mut state.summary_due, true);
                (None, first.then(|| at + self.interval))
            }
            _ => {
                state.last = Some(now);
                (Some(std::mem::take(&mut state.held)), None)
            }
        }
    }

    /// Writes how many were held back since the last line, if any were.
    fn summarize(&self, at: &str) {
        let held_back = {
            let mut state = self.state();
            state.summary_due = false;
            std::mem::take(&mut state.held)
        };
        if held_back > 0 {
            tracing::warn!(held_back, at, "more of a repeated warning were held back in its interval");
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The least time between two lines of one kind, unless a call site says otherwise.
pub const FLOOD_INTERVAL: Duration = Duration::from_secs(10);

/// `tracing::warn!` at most once per interval from this call site (each use has its own
/// [`Throttle`]), with a `held_back` field: how many of the same were not written since the
/// last line. The first of a flood is written at once; a flood that goes on gets one line per
/// interval; where a flood stops, a last line at the end of its interval gives the count (on a
/// Tokio runtime; it names the call site as `at`). The interval is [`FLOOD_INTERVAL`] unless the first argument is `every = D;`;
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
        if let Some(held_back) = THROTTLE.allow_or_summarize(concat!(file!(), ":", line!())) {
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
        assert_eq!(throttle.allow_at(start, true), (Some(0), None));
        // The first one held back makes a summary due at the interval's end; later ones do not.
        assert_eq!(
            throttle.allow_at(start + Duration::from_secs(1), true),
            (None, Some(start + Duration::from_secs(10)))
        );
        assert_eq!(throttle.allow_at(start + Duration::from_secs(2), true), (None, None));
        assert_eq!(throttle.allow_at(start + Duration::from_secs(11), true), (Some(2), None));
    }
}
