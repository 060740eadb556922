//! A rate limiter that serves callers in the order they came: per key (a channel, a
//! conversation, an API method) or one budget for everything (`RateLimiter<()>`), with bursts.
//!
//! Each key is a GCRA cell, its "theoretical arrival time": a caller reserves the next free
//! instant at once, under the lock, and then sleeps until it. So the first to arrive holds the
//! earliest instant and is served first, however the sleepers wake; and a caller can learn that
//! its turn would come too late before it takes one ([`RateLimiter::acquire_by`]).
//!
//! Written here, not taken from `governor`: its waiting (`until_ready`) polls again after a
//! jittered pause, so a caller that came later can win, and it cannot refuse a call whose turn
//! would come after a deadline without taking a slot; both are what the clients need.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Keys kept before drained ones (no different from a key never seen) are dropped.
const MAX_KEYS: usize = 10_000;
/// The furthest ahead a cell is pushed, so an absurd interval cannot overflow an instant.
const FURTHEST: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A budget: `burst` calls at once after a quiet spell, then one more every `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Calls allowed at once (0 counts as 1).
    pub burst: u32,
    /// Time for one more call to become allowed.
    pub interval: Duration,
}

impl Rate {
    /// `burst` at once, then one every `interval`.
    pub const fn new(burst: u32, interval: Duration) -> Self {
        Self { burst, interval }
    }

    /// `calls` a minute, `burst` at once.
    pub fn per_minute(calls: u32, burst: u32) -> Self {
        Self { burst, interval: Duration::from_secs(60) / calls.max(1) }
    }
}

/// Keyed budgets of one [`Rate`], first come first served within each key.
#[derive(Debug)]
pub struct RateLimiter<K = String> {
    rate: Rate,
    /// Key → the instant its budget is fully drained. A std mutex: held for arithmetic, never
    /// across an await.
    cells: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// Budgets of `rate`, one per key.
    pub fn new(rate: Rate) -> Self {
        Self { rate, cells: Mutex::new(HashMap::new()) }
    }

    /// The rate of every key.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Waits for `key`'s turn, and takes it.
    pub async fn acquire<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(at) = self.reserve(key, None) {
            tokio::time::sleep_until(at).await;
        }
    }

    /// Waits for `key`'s turn if it comes by `deadline`, and takes it; `false` at once, with
    /// nothing taken (so later callers do not queue behind it), if it would come later.
    pub async fn acquire_by<Q>(&self, key: &Q, deadline: Instant) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        match self.reserve(key, Some(deadline)) {
            Some(at) => {
                tokio::time::sleep_until(at).await;
                true
            }
            None => false,
        }
    }

    /// Reserves `key`'s next turn and says when it is; `None`, reserving nothing, when that is
    /// after `deadline`.
    fn reserve<Q>(&self, key: &Q, deadline: Option<Instant>) -> Option<Instant>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let now = Instant::now();
        let interval = self.rate.interval.min(FURTHEST);
        let tolerance = interval.saturating_mul(self.rate.burst.max(1) - 1);
        let mut cells = self.lock();
        if cells.len() >= MAX_KEYS {
            cells.retain(|_, drained| *drained > now);
        }
        let drained = cells.get(key).copied().unwrap_or(now).max(now);
        let turn = drained.checked_sub(tolerance).map_or(now, |t| t.max(now));
        if deadline.is_some_and(|deadline| turn > deadline) {
            return None;
        }
        let next = drained.checked_add(interval).unwrap_or(drained);
        match cells.get_mut(key) {
            Some(cell) => *cell = next,
            None => {
                cells.insert(key.to_owned(), next);
            }
        }
        Some(turn)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Instant>> {
        self.cells.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_one_per_interval() {
        let limiter: RateLimiter = RateLimiter::new(Rate::new(3, ms(100)));
        let started = Instant::now();
        let mut at = Vec::new();
        for _ in 0..6 {
            limiter.acquire("a").await;
            at.push(started.elapsed());
        }
        assert_eq!(at, [ms(0), ms(0), ms(0), ms(100), ms(200), ms(300)]);
        // After a quiet spell the burst is back.
        tokio::time::sleep(ms(1000)).await;
        let quiet = Instant::now();
        for _ in 0..3 {
            limiter.acquire("a").await;
        }
        assert_eq!(quiet.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn keys_have_budgets_of_their_own_and_one_key_can_be_global() {
        let limiter: RateLimiter = RateLimiter::new(Rate::new(1, ms(100)));
        limiter.acquire("busy").await;
        let started = Instant::now();
        limiter.acquire("quiet").await;
        assert_eq!(started.elapsed(), Duration::ZERO, "another key is not held up");
        limiter.acquire("busy").await;
        assert_eq!(started.elapsed(), ms(100));

        let global: RateLimiter<()> = RateLimiter::new(Rate::per_minute(600, 1));
        global.acquire(&()).await;
        global.acquire(&()).await;
        assert_eq!(started.elapsed(), ms(200));
    }

    /// Twenty callers contend for one key, arriving 7 ms apart while the key allows one call
    /// every 50 ms: most of them wait, and many wait for the same stretch. They are served
    /// exactly in the order they came (a limiter whose sleepers race for the next free slot
    /// when they wake would let a later caller win).
    #[tokio::test(start_paused = true)]
    async fn callers_are_served_in_the_order_they_came() {
        let limiter: Arc<RateLimiter> = Arc::new(RateLimiter::new(Rate::new(2, ms(50))));
        let served = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..20 {
            let (limiter, served) = (Arc::clone(&limiter), Arc::clone(&served));
            tasks.push(tokio::spawn(async move {
                limiter.acquire("one-channel").await;
                served.lock().unwrap().push((n, Instant::now()));
            }));
            tokio::time::sleep(ms(7)).await;
        }
        for task in tasks {
            task.await.unwrap();
        }
        let served = served.lock().unwrap().clone();
        let order: Vec<i32> = served.iter().map(|(n, _)| *n).collect();
        assert_eq!(order, (0..20).collect::<Vec<_>>());
        for pair in served.windows(2).skip(2) {
            assert!(pair[1].1 - pair[0].1 >= ms(50), "one per interval after the burst");
        }
    }

    /// A caller that comes at the very instant the next turn frees up does not take it from
    /// the caller that was waiting for it, even when it runs first at that instant.
    #[tokio::test(start_paused = true)]
    async fn a_newcomer_does_not_overtake_a_waiting_caller() {
        let limiter: Arc<RateLimiter> = Arc::new(RateLimiter::new(Rate::new(1, ms(50))));
        limiter.acquire("k").await;
        let served = Arc::new(Mutex::new(Vec::new()));
        let newcomer = {
            let (limiter, served) = (Arc::clone(&limiter), Arc::clone(&served));
            // Its timer is set first, so it runs first at 50 ms.
            tokio::spawn(async move {
                tokio::time::sleep(ms(50)).await;
                limiter.acquire("k").await;
                served.lock().unwrap().push("newcomer");
            })
        };
        tokio::task::yield_now().await;
        let waiting = {
            let (limiter, served) = (Arc::clone(&limiter), Arc::clone(&served));
            tokio::spawn(async move {
                limiter.acquire("k").await;
                served.lock().unwrap().push("waiting");
            })
        };
        newcomer.await.unwrap();
        waiting.await.unwrap();
        assert_eq!(*served.lock().unwrap(), ["waiting", "newcomer"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_turn_after_the_deadline_is_refused_and_takes_nothing() {
        let limiter: RateLimiter = RateLimiter::new(Rate::new(1, ms(600)));
        let deadline = Instant::now() + ms(1000);
        assert!(limiter.acquire_by("views.open", deadline).await);
        assert!(limiter.acquire_by("views.open", deadline).await, "its turn at 600 ms");
        assert!(!limiter.acquire_by("views.open", deadline).await, "1200 ms is too late");
        assert!(!limiter.acquire_by("views.open", deadline).await);
        assert_eq!(Instant::now() - (deadline - ms(1000)), ms(600), "refusals do not wait");
        // Nothing was reserved by the refusals: the next turn is one interval on.
        let later = Instant::now() + ms(5000);
        let before = Instant::now();
        assert!(limiter.acquire_by("views.open", later).await);
        assert_eq!(before.elapsed(), ms(600));
    }

    #[tokio::test(start_paused = true)]
    async fn drained_keys_are_forgotten_when_there_are_many() {
        let limiter: RateLimiter<u32> = RateLimiter::new(Rate::new(1, ms(10)));
        for key in 0..u32::try_from(MAX_KEYS).unwrap() {
            limiter.acquire(&key).await;
        }
        tokio::time::sleep(ms(20)).await;
        limiter.acquire(&u32::MAX).await;
        assert_eq!(limiter.lock().len(), 1, "only the new key is left");
        let zero = RateLimiter::<u32>::new(Rate::new(0, Duration::MAX));
        zero.acquire(&1).await;
        assert!(!zero.acquire_by(&1, Instant::now() + ms(1)).await, "an absurd interval does not overflow");
    }
}
