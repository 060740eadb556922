//! Retrying a call: a number of attempts, [`Backoff`] delays between them, and never sooner
//! than the server's `Retry-After`. A `Retry-After` longer than the longest delay ends the
//! retries at once: the caller does not sit on it, and a later, higher-level attempt (the
//! outbox's) takes over.
//!
//! [`retry`] runs the loop with backon (`Retryable`: its `when` hook asks the caller's verdict,
//! its `adjust` hook puts the `Retry-After` under the delay). [`Retries`] is the same rule for a
//! loop the caller writes itself, when it must also watch a deadline of its own.

use std::future::Future;
use std::time::Duration;

use backon::Retryable as _;

use super::backoff::{Backoff, Delays};

/// How often and how patiently a call is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The delays between attempts; `backoff.max` is also the longest `Retry-After` waited for.
    pub backoff: Backoff,
    /// Attempts in all, the first included (0 counts as 1).
    pub attempts: u32,
}

impl RetryPolicy {
    /// The rule for one call's attempts, for a hand-written loop.
    pub fn retries(&self) -> Retries {
        Retries { policy: *self, delays: self.backoff.delays(), failed: 0 }
    }

    fn attempts(&self) -> u32 {
        self.attempts.max(1)
    }
}

/// What a failed attempt calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again after the next delay, and not before the server's `Retry-After` if it gave one.
    Retry {
        /// The server's `Retry-After` ([`super::retry_after`]).
        after: Option<Duration>,
    },
    /// Try again at once (a credential was renewed); it still counts as an attempt.
    RetryNow,
    /// Trying again will not help.
    Stop,
}

/// One call's attempts, counted by a loop the caller writes.
#[derive(Debug, Clone)]
pub struct Retries {
    policy: RetryPolicy,
    delays: Delays,
    failed: u32,
}

impl Retries {
    /// An attempt failed: how long to wait before the next one — the next delay, or the
    /// server's `after` if that is longer — or `None` when no attempt is left or `after` is
    /// longer than the policy's longest delay.
    pub fn next_wait(&mut self, after: Option<Duration>) -> Option<Duration> {
        self.failed = self.failed.saturating_add(1);
        if self.failed >= self.policy.attempts() {
            return None;
        }
        floor(self.delays.next_delay(), after, self.policy.backoff.max)
    }

    /// Attempts that failed so far.
    pub fn failed(&self) -> u32 {
        self.failed
    }
}

/// `delay`, or `after` when longer; `None` when `after` is longer than `max`.
fn floor(delay: Duration, after: Option<Duration>, max: Duration) -> Option<Duration> {
    match after {
        Some(after) if after > max => None,
        Some(after) => Some(delay.max(after)),
        None => Some(delay),
    }
}

/// Runs `attempt` until it succeeds, `judge` says [`Verdict::Stop`], the attempts are used up
/// or the server asks for a longer wait than the policy's longest; returns the last error then.
pub async fn retry<T, E, A, Fut, J>(policy: RetryPolicy, attempt: A, judge: J) -> Result<T, E>
where
    A: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    J: Fn(&E) -> Verdict,
{
    let retries = usize::try_from(policy.attempts() - 1).unwrap_or(usize::MAX);
    let delays = policy.backoff.delays().take(retries);
    attempt
        .retry(delays)
        .when(|error| judge(error) != Verdict::Stop)
        .adjust(|error, next| match judge(error) {
            Verdict::RetryNow => next.map(|_| Duration::ZERO),
            Verdict::Retry { after } => floor(next?, after, policy.backoff.max),
            Verdict::Stop => None,
        })
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tokio::time::Instant;

    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        backoff: Backoff { base: Duration::from_millis(100), max: Duration::from_secs(10) },
        attempts: 4,
    };

    /// An attempt that fails with `verdicts` in turn, then succeeds; counts the attempts.
    fn scripted(verdicts: Vec<Verdict>) -> (AtomicU32, Vec<Verdict>) {
        (AtomicU32::new(0), verdicts)
    }

    async fn run(policy: RetryPolicy, script: &(AtomicU32, Vec<Verdict>)) -> Result<u32, Verdict> {
        let (count, verdicts) = script;
        retry(
            policy,
            || async {
                let n = count.fetch_add(1, Ordering::SeqCst);
                match verdicts.get(usize::try_from(n).unwrap()) {
                    Some(verdict) => Err(*verdict),
                    None => Ok(n + 1),
                }
            },
            |verdict| *verdict,
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_is_a_floor_under_the_backoff() {
        let script = scripted(vec![Verdict::Retry { after: Some(Duration::from_secs(7)) }]);
        let started = Instant::now();
        assert_eq!(run(POLICY, &script).await, Ok(2));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(7) && waited < Duration::from_secs(8), "{waited:?}");

        // Shorter than the delay: the delay wins.
        let script = scripted(vec![Verdict::Retry { after: Some(Duration::ZERO) }]);
        let started = Instant::now();
        assert_eq!(run(POLICY, &script).await, Ok(2));
        assert!(started.elapsed() >= Duration::from_millis(50), "{:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_attempts_with_growing_delays() {
        let again = Verdict::Retry { after: None };
        let script = scripted(vec![again; 10]);
        let started = Instant::now();
        assert_eq!(run(POLICY, &script).await, Err(again));
        assert_eq!(script.0.load(Ordering::SeqCst), 4, "four attempts in all");
        // Three delays: at least 50 + 100 + 200 ms, at most 100 + 200 + 400 ms.
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(350) && waited <= Duration::from_millis(700), "{waited:?}");
        let once = RetryPolicy { attempts: 0, ..POLICY };
        let script = scripted(vec![again; 10]);
        assert_eq!(run(once, &script).await, Err(again));
        assert_eq!(script.0.load(Ordering::SeqCst), 1, "zero attempts still makes one");
    }

    #[tokio::test(start_paused = true)]
    async fn stop_ends_at_once_and_retry_now_does_not_wait() {
        let script = scripted(vec![Verdict::Stop]);
        assert_eq!(run(POLICY, &script).await, Err(Verdict::Stop));
        assert_eq!(script.0.load(Ordering::SeqCst), 1);

        let script = scripted(vec![Verdict::RetryNow]);
        let started = Instant::now();
        assert_eq!(run(POLICY, &script).await, Ok(2));
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_longer_than_the_longest_delay_is_left_to_a_later_attempt() {
        let script = scripted(vec![Verdict::Retry { after: Some(Duration::from_secs(11)) }]);
        let started = Instant::now();
        assert!(run(POLICY, &script).await.is_err());
        assert_eq!(script.0.load(Ordering::SeqCst), 1);
        assert_eq!(started.elapsed(), Duration::ZERO, "it did not wait");
    }

    #[test]
    fn retries_count_attempts_and_keep_the_floor() {
        let mut retries = POLICY.retries();
        let first = retries.next_wait(Some(Duration::from_secs(2))).unwrap();
        assert_eq!(first, Duration::from_secs(2));
        let second = retries.next_wait(None).unwrap();
        assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200), "{second:?}");
        assert_eq!(retries.next_wait(Some(Duration::from_secs(60))), None, "longer than max");
        assert_eq!(retries.next_wait(None), None, "four attempts are used up");
        assert_eq!(retries.failed(), 4);
    }
}
