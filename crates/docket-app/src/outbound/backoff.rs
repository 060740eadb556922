//! Delays between attempts: exponential, capped, with "equal jitter" — each delay is drawn from
//! the upper half of `min(max, base · 2^failures)`.
//!
//! Equal jitter rather than full jitter: full jitter (anywhere in `0..=nominal`) can draw a delay
//! near zero, so a client that keeps failing may knock again almost at once; equal jitter keeps
//! every delay at least half the nominal one (it still grows) while spreading replicas, and both
//! of one server's connections, over the other half.
//!
//! The arithmetic is written here, not taken from backon's `ExponentialBuilder`: the outbox needs
//! the delay of attempt *n* without keeping a sequence (the count is in the store), and backon's
//! jitter is additive (`d..2d`, applied after the cap) with `f32` arithmetic, so neither its band
//! nor its cap is exact. [`Delays`] is an iterator of durations, so backon's retry loop takes it
//! as its backoff ([`super::retry`]).

use std::time::Duration;

/// The shape of the delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay (before jitter).
    pub base: Duration,
    /// No delay is longer than this.
    pub max: Duration,
}

impl Default for Backoff {
    /// 500 ms, doubling, at most 30 s.
    fn default() -> Self {
        Self { base: Duration::from_millis(500), max: Duration::from_secs(30) }
    }
}

impl Backoff {
    /// `min(max, base · 2^failures)`, the delay before jitter.
    pub fn nominal(&self, failures: u32) -> Duration {
        let grown = 1u128.checked_shl(failures).and_then(|factor| self.base.as_nanos().checked_mul(factor));
        match grown {
            Some(nanos) if nanos < self.max.as_nanos() => from_nanos(nanos),
            _ => self.max,
        }
    }

    /// The delay after `failures` earlier failures: a random point in the upper half of
    /// [`Backoff::nominal`], both ends included.
    pub fn delay(&self, failures: u32) -> Duration {
        let nominal = self.nominal(failures);
        let half = nominal / 2;
        let spread = u64::try_from((nominal - half).as_nanos()).unwrap_or(u64::MAX);
        // Without randomness the delay is the lower bound: still bounded and growing.
        let random = getrandom::u64().unwrap_or(0);
        let jitter = if spread == 0 { 0 } else { random % spread.saturating_add(1) };
        half + Duration::from_nanos(jitter)
    }

    /// The delays of consecutive failures, starting from the first.
    pub fn delays(&self) -> Delays {
        Delays { backoff: *self, failures: 0 }
    }
}

fn from_nanos(nanos: u128) -> Duration {
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    let rest = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
    Duration::new(secs, rest)
}

/// Consecutive failures and the next delay. An endless iterator; [`Delays::reset`] starts over
/// (a connection that lived long enough, say).
#[derive(Debug, Clone)]
pub struct Delays {
    backoff: Backoff,
    failures: u32,
}

impl Delays {
    /// The delay before the next attempt; counts one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.backoff.delay(self.failures);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// How many delays were handed out since the start or the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Success: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

impl Iterator for Delays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        Some(self.next_delay())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: Backoff = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(5) };

    #[test]
    fn delays_grow_twofold_within_their_jitter_band_and_stop_at_max() {
        let mut delays = SHAPE.delays();
        let mut nominal = Duration::from_millis(100);
        for attempt in 0..40 {
            let delay = delays.next_delay();
            assert!(
                delay >= nominal / 2 && delay <= nominal,
                "attempt {attempt}: {delay:?} outside {nominal:?}/2..={nominal:?}"
            );
            nominal = (nominal * 2).min(SHAPE.max);
        }
        assert_eq!(delays.failures(), 40);
        assert!(delays.next_delay() <= SHAPE.max);
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let delays: std::collections::BTreeSet<Duration> = (0..20).map(|_| SHAPE.delay(0)).collect();
        assert!(delays.len() > 1, "twenty first delays were all {delays:?}");
    }

    #[test]
    fn reset_starts_over_from_base() {
        let mut delays = SHAPE.delays();
        for _ in 0..6 {
            delays.next_delay();
        }
        assert!(delays.next_delay() >= Duration::from_millis(3200) / 2);
        delays.reset();
        assert_eq!(delays.failures(), 0);
        assert!(delays.next_delay() <= SHAPE.base);
    }

    #[test]
    fn huge_counts_and_zero_base_do_not_overflow() {
        let huge = Backoff { base: Duration::from_secs(u64::MAX / 4), max: Duration::from_secs(60) };
        assert!(huge.delay(u32::MAX) <= Duration::from_secs(60));
        assert_eq!(huge.nominal(0), Duration::from_secs(60));
        let tiny = Backoff { base: Duration::from_nanos(1), max: Duration::MAX };
        assert_eq!(tiny.nominal(40), Duration::from_nanos(1 << 40), "no early stop below the cap");
        assert_eq!(tiny.nominal(200), Duration::MAX);
        let zero = Backoff { base: Duration::ZERO, max: Duration::ZERO };
        assert_eq!(zero.delays().next_delay(), Duration::ZERO);
        assert_eq!(Backoff { base: Duration::ZERO, max: Duration::from_secs(1) }.delay(90), Duration::ZERO);
    }

    #[test]
    fn the_delay_of_attempt_n_needs_no_sequence() {
        let shape = Backoff { base: Duration::from_secs(1), max: Duration::from_secs(300) };
        for (failures, nominal) in [(0, 1), (1, 2), (4, 16), (8, 256), (9, 300), (30, 300)] {
            let delay = shape.delay(failures);
            let nominal = Duration::from_secs(nominal);
            assert!(delay >= nominal / 2 && delay <= nominal, "{failures}: {delay:?} vs {nominal:?}");
        }
    }
}
