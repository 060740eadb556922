//! A cache of answers from another service, each trusted for a while, with a bound on how many
//! are kept: moka's `future::Cache` with `time_to_live` and `max_capacity`. A "nobody" answer is
//! cached like any other (make the value an `Option`), so a name that matches no one does not
//! cost a call every time. Concurrent misses of one key share one lookup.
//!
//! moka keeps time with the standard clock, not tokio's: tests of expiry wait for real.

use std::future::Future;
use std::hash::Hash;
use std::time::Duration;

use moka::Equivalent;

/// The longest time to live moka accepts is 1,000 years; longer is capped to this.
const LONGEST: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Answers by key, each for `ttl` after it was stored, at most `capacity` of them (the least
/// useful go first when it is full). Cheap to clone; clones share the entries.
#[derive(Clone)]
pub struct TtlCache<K, V> {
    inner: moka::future::Cache<K, V>,
}

impl<K, V> std::fmt::Debug for TtlCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlCache").field("entries", &self.inner.entry_count()).finish_non_exhaustive()
    }
}

impl<K, V> TtlCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Entries live `ttl` after they were stored; at most `capacity` are kept.
    pub fn new(ttl: Duration, capacity: u64) -> Self {
        Self { inner: moka::future::Cache::builder().time_to_live(ttl.min(LONGEST)).max_capacity(capacity).build() }
    }

    /// The live entry for `key`.
    pub async fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        self.inner.get(key).await
    }

    /// Stores `value` for `key`, replacing what was there.
    pub async fn insert(&self, key: K, value: V) {
        self.inner.insert(key, value).await;
    }

    /// Forgets `key`.
    pub async fn invalidate<Q>(&self, key: &Q)
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        self.inner.invalidate(key).await;
    }

    /// The live entry for `key`, or what `lookup` finds, stored. Concurrent callers missing the
    /// same key wait for one lookup; a failed lookup stores nothing, and each of them gets its
    /// error.
    pub async fn get_or_try_insert_with<E, F>(&self, key: K, lookup: F) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
        E: Clone + Send + Sync + 'static,
    {
        self.inner.try_get_with(key, lookup).await.map_err(|shared| E::clone(&shared))
    }

    /// How many entries are kept (approximately: moka counts in the background).
    pub fn len(&self) -> u64 {
        self.inner.entry_count()
    }

    /// Whether no entry is kept (approximately, like [`TtlCache::len`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Finishes moka's pending bookkeeping (evictions, counts) now; for tests.
    pub async fn sync(&self) {
        self.inner.run_pending_tasks().await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn nobody_is_cached_too_and_entries_expire() {
        let cache: TtlCache<String, Option<String>> = TtlCache::new(Duration::from_millis(200), 100);
        let lookups = AtomicU32::new(0);
        let find = |who: &'static str| {
            let lookups = &lookups;
            async move {
                lookups.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(if who == "alice" { Some("U1".to_owned()) } else { None })
            }
        };
        for _ in 0..3 {
            assert_eq!(cache.get_or_try_insert_with("alice".to_owned(), find("alice")).await, Ok(Some("U1".into())));
            assert_eq!(cache.get_or_try_insert_with("mallory".to_owned(), find("mallory")).await, Ok(None));
        }
        assert_eq!(lookups.load(Ordering::SeqCst), 2, "one lookup each, nobody included");
        assert_eq!(cache.get("mallory").await, Some(None));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(cache.get("alice").await, None, "expired");
        assert_eq!(cache.get_or_try_insert_with("alice".to_owned(), find("alice")).await, Ok(Some("U1".into())));
        assert_eq!(lookups.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn failures_are_not_cached_and_concurrent_misses_share_one_lookup() {
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_secs(60), 100);
        let failed = cache.get_or_try_insert_with(1, async { Err::<u32, _>("down".to_owned()) }).await;
        assert_eq!(failed, Err("down".to_owned()));
        assert_eq!(cache.get(&1).await, None);

        let lookups = Arc::new(AtomicU32::new(0));
        let waiting: Vec<_> = (0..8)
            .map(|_| {
                let (cache, lookups) = (cache.clone(), Arc::clone(&lookups));
                tokio::spawn(async move {
                    cache
                        .get_or_try_insert_with(2, async {
                            lookups.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<_, String>(20)
                        })
                        .await
                })
            })
            .collect();
        for task in waiting {
            assert_eq!(task.await.unwrap(), Ok(20));
        }
        assert_eq!(lookups.load(Ordering::SeqCst), 1);
        cache.invalidate(&2).await;
        assert_eq!(cache.get(&2).await, None);
    }

    #[tokio::test]
    async fn the_size_is_bounded() {
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_secs(60), 50);
        for n in 0..500 {
            cache.insert(n, n).await;
        }
        cache.sync().await;
        assert!(cache.len() <= 50, "{} entries", cache.len());
        assert!(!cache.is_empty());
    }
}
