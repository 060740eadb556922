//! Reconnection delays: exponential, bounded, with jitter so that many replicas (or both of
//! one server's connections) do not knock on Slack's door at the same instant.

use std::time::Duration;

/// The shape of the delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffSettings {
    /// The first delay (before jitter).
    pub base: Duration,
    /// No delay is longer than this.
    pub max: Duration,
}

impl Default for BackoffSettings {
    fn default() -> Self {
        Self { base: Duration::from_millis(500), max: Duration::from_secs(30) }
    }
}

/// Consecutive failures and the next delay. Each delay is drawn from the upper half of
/// `min(max, base · 2^failures)` ("equal jitter"): it grows, never exceeds `max`, and is never
/// shorter than half the nominal delay.
#[derive(Debug, Clone)]
pub struct Backoff {
    settings: BackoffSettings,
    failures: u32,
}

impl Backoff {
    /// No failures yet.
    pub fn new(settings: BackoffSettings) -> Self {
        Self { settings, failures: 0 }
    }

    /// How many delays were handed out since the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The delay before the next attempt; counts one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let nominal = self.nominal(self.failures);
        self.failures = self.failures.saturating_add(1);
        let half = nominal / 2;
        let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 { 0 } else { random_u64() % (spread + 1) };
        half + Duration::from_micros(jitter)
    }

    /// A connection worked: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// `min(max, base · 2^failures)`.
    fn nominal(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.min(31)).unwrap_or(u32::MAX);
        self.settings.base.checked_mul(factor).map_or(self.settings.max, |d| d.min(self.settings.max))
    }
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // Without randomness the delay is the lower bound: still bounded and growing.
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: BackoffSettings = BackoffSettings { base: Duration::from_millis(100), max: Duration::from_secs(5) };

    #[test]
    fn delays_grow_twofold_within_their_jitter_band_and_stop_at_max() {
        let mut backoff = Backoff::new(SETTINGS);
        let mut nominal = Duration::from_millis(100);
        for attempt in 0..40 {
            let delay = backoff.next_delay();
            assert!(
                delay >= nominal / 2 && delay <= nominal,
                "attempt {attempt}: {delay:?} outside {nominal:?}/2..={nominal:?}"
            );
            nominal = (nominal * 2).min(SETTINGS.max);
        }
        assert_eq!(backoff.failures(), 40);
        assert!(backoff.next_delay() <= SETTINGS.max);
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let delays: std::collections::BTreeSet<Duration> =
            (0..20).map(|_| Backoff::new(SETTINGS).next_delay()).collect();
        assert!(delays.len() > 1, "twenty first delays were all {delays:?}");
    }

    #[test]
    fn reset_starts_over_from_base() {
        let mut backoff = Backoff::new(SETTINGS);
        for _ in 0..6 {
            backoff.next_delay();
        }
        assert!(backoff.next_delay() >= Duration::from_millis(3200) / 2);
        backoff.reset();
        assert_eq!(backoff.failures(), 0);
        assert!(backoff.next_delay() <= SETTINGS.base);
    }

    #[test]
    fn huge_counts_and_zero_base_do_not_overflow() {
        let mut backoff =
            Backoff::new(BackoffSettings { base: Duration::from_secs(u64::MAX / 4), max: Duration::from_secs(60) });
        backoff.failures = u32::MAX;
        assert!(backoff.next_delay() <= Duration::from_secs(60));
        let mut zero = Backoff::new(BackoffSettings { base: Duration::ZERO, max: Duration::ZERO });
        assert_eq!(zero.next_delay(), Duration::ZERO);
    }
}
