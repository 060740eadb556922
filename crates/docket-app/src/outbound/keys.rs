//! Signing keys published by another service (a JWKS), kept for checking its tokens:
//!
//! - fetched when first needed and again `refresh` after the last good fetch;
//! - a token naming a key id the set does not hold fetches again, at most once per
//!   `unknown_key` (rotated keys are picked up quickly; tokens with made-up ids cannot make
//!   Docket hammer the publisher);
//! - callers that need a fetch at the same time wait for one and share its outcome;
//! - a failed fetch keeps the keys already held in use, until they are `keep` old, and is
//!   tried again no sooner than `unknown_key` later (at once when nothing usable is held).
//!
//! The fetch is a closure the caller passes with each lookup, so this module needs no HTTP
//! client, and the key type is the caller's (a parsed JWK, or a key with fields generic JWK
//! types drop). Written here: the crates that cache JWKS fetch them themselves, with their own
//! HTTP client and key type, and none limits the fetches an unknown key id causes.

use std::fmt::Display;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// When keys are fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Fetched again this long after the last good fetch, whatever happens.
    pub refresh: Duration,
    /// The least time between a fetch and one an unknown key id (or a failed fetch) causes.
    pub unknown_key: Duration,
    /// How long keys from a good fetch stay usable while later fetches fail.
    pub keep: Duration,
}

impl Default for KeyPolicy {
    /// A day, a minute, a week.
    fn default() -> Self {
        Self {
            refresh: Duration::from_secs(24 * 60 * 60),
            unknown_key: Duration::from_secs(60),
            keep: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}

/// One fetch's keys, each under its key id (`kid`) if it has one.
#[derive(Debug)]
pub struct Keys<K> {
    entries: Vec<(Option<String>, Arc<K>)>,
}

impl<K> Default for Keys<K> {
    fn default() -> Self {
        Self { entries: Vec::new() }
    }
}

impl<K> FromIterator<(Option<String>, K)> for Keys<K> {
    fn from_iter<I: IntoIterator<Item = (Option<String>, K)>>(iter: I) -> Self {
        Self { entries: iter.into_iter().map(|(kid, key)| (kid, Arc::new(key))).collect() }
    }
}

impl<K> Keys<K> {
    /// The first key with id `kid`.
    pub fn get(&self, kid: &str) -> Option<&Arc<K>> {
        self.entries.iter().find(|(id, _)| id.as_deref() == Some(kid)).map(|(_, key)| key)
    }

    /// The key, when there is exactly one (a token without a key id may use it).
    pub fn only(&self) -> Option<&Arc<K>> {
        match self.entries.as_slice() {
            [(_, key)] => Some(key),
            _ => None,
        }
    }

    /// Every key with its id.
    pub fn iter(&self) -> impl Iterator<Item = (Option<&str>, &Arc<K>)> {
        self.entries.iter().map(|(kid, key)| (kid.as_deref(), key))
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Why no key was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError<E> {
    /// The set holds no key with this id, and may not be fetched again yet.
    #[error("no signing key with id `{0}`")]
    Unknown(String),
    /// No usable keys: the fetch failed so.
    #[error("signing keys unavailable: {0}")]
    Unavailable(E),
}

/// The key set of one publisher. `E` is what its fetch fails with.
#[derive(Debug)]
pub struct KeySet<K, E> {
    /// Names the publisher in log lines.
    label: &'static str,
    policy: KeyPolicy,
    state: Mutex<State<K, E>>,
    /// Held across a fetch, so one runs at a time and the others wait for its outcome.
    turn: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct State<K, E> {
    keys: Option<Arc<Keys<K>>>,
    /// When `keys` were fetched.
    fetched: Option<Instant>,
    /// When a fetch last ended, well or not.
    tried: Option<Instant>,
    /// Why the last fetch failed, if it did.
    failure: Option<E>,
    /// Fetches ended so far: a waiter that sees it change shares that fetch's outcome.
    fetches: u64,
}

impl<K, E: Clone + Display> KeySet<K, E> {
    /// An empty set, fetched when first needed.
    pub fn new(label: &'static str, policy: KeyPolicy) -> Self {
        let state = State { keys: None, fetched: None, tried: None, failure: None, fetches: 0 };
        Self { label, policy, state: Mutex::new(state), turn: tokio::sync::Mutex::new(()) }
    }

    /// The key with id `kid`, fetching the set with `fetch` when the rules above call for it.
    pub async fn key<F, Fut>(&self, kid: &str, fetch: F) -> Result<Arc<K>, KeyError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Keys<K>, E>>,
    {
        let keys = self.current(Some(kid), fetch).await?;
        keys.get(kid).cloned().ok_or_else(|| KeyError::Unknown(kid.chars().take(64).collect()))
    }

    /// Every key, fetched with `fetch` when none are held or they are due for a refresh.
    pub async fn keys<F, Fut>(&self, fetch: F) -> Result<Arc<Keys<K>>, KeyError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Keys<K>, E>>,
    {
        self.current(None, fetch).await
    }

    async fn current<F, Fut>(&self, kid: Option<&str>, fetch: F) -> Result<Arc<Keys<K>>, KeyError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Keys<K>, E>>,
    {
        let seen = {
            let state = self.lock();
            if !self.should_fetch(&state, kid, Instant::now()) {
                return self.answer(&state, kid);
            }
            state.fetches
        };
        let _turn = self.turn.lock().await;
        {
            let state = self.lock();
            // A fetch ended while this caller waited: its outcome is this caller's too.
            if state.fetches != seen || !self.should_fetch(&state, kid, Instant::now()) {
                return self.answer(&state, kid);
            }
        }
        let outcome = fetch().await;
        let now = Instant::now();
        let mut state = self.lock();
        state.fetches += 1;
        state.tried = Some(now);
        match outcome {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "fetched {}'s signing keys", self.label);
                state.keys = Some(Arc::new(keys));
                state.fetched = Some(now);
                state.failure = None;
            }
            Err(error) => {
                if self.usable(&state, now).is_some() {
                    tracing::warn!(%error, "could not fetch {}'s signing keys; using the ones held", self.label);
                } else {
                    tracing::warn!(%error, "could not fetch {}'s signing keys", self.label);
                }
                state.failure = Some(error);
            }
        }
        self.answer(&state, kid)
    }

    /// Whether a lookup of `kid` (or of the whole set) fetches now.
    fn should_fetch(&self, state: &State<K, E>, kid: Option<&str>, now: Instant) -> bool {
        let Some(keys) = self.usable(state, now) else { return true };
        let since = |at: Option<Instant>| at.map_or(Duration::MAX, |at| now.saturating_duration_since(at));
        let recently_tried = since(state.tried) < self.policy.unknown_key;
        if since(state.fetched) >= self.policy.refresh {
            // Due; after a failed attempt, not again right away.
            return state.failure.is_none() || !recently_tried;
        }
        kid.is_some_and(|kid| keys.get(kid).is_none()) && !recently_tried
    }

    /// The keys held, unless they are too old to use.
    fn usable(&self, state: &State<K, E>, now: Instant) -> Option<Arc<Keys<K>>> {
        let fetched = state.fetched?;
        let keys = state.keys.as_ref()?;
        (now.saturating_duration_since(fetched) < self.policy.keep).then(|| Arc::clone(keys))
    }

    fn answer(&self, state: &State<K, E>, kid: Option<&str>) -> Result<Arc<Keys<K>>, KeyError<E>> {
        match (self.usable(state, Instant::now()), &state.failure) {
            (Some(keys), _) => Ok(keys),
            (None, Some(failure)) => Err(KeyError::Unavailable(failure.clone())),
            (None, None) => Err(KeyError::Unknown(kid.unwrap_or_default().chars().take(64).collect())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<K, E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    const POLICY: KeyPolicy = KeyPolicy {
        refresh: Duration::from_secs(3600),
        unknown_key: Duration::from_secs(60),
        keep: Duration::from_secs(4 * 3600),
    };

    /// A publisher whose key ids can change and which can be down; counts its fetches.
    #[derive(Default)]
    struct Publisher {
        kids: Mutex<Vec<&'static str>>,
        down: std::sync::atomic::AtomicBool,
        fetches: AtomicU32,
    }

    impl Publisher {
        fn with(kids: &[&'static str]) -> Self {
            let publisher = Self::default();
            publisher.publish(kids);
            publisher
        }

        fn publish(&self, kids: &[&'static str]) {
            *self.kids.lock().unwrap() = kids.to_vec();
        }

        fn down(&self, down: bool) {
            self.down.store(down, Ordering::SeqCst);
        }

        fn fetches(&self) -> u32 {
            self.fetches.load(Ordering::SeqCst)
        }

        async fn fetch(&self) -> Result<Keys<String>, String> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            if self.down.load(Ordering::SeqCst) {
                return Err("connection refused".to_owned());
            }
            let kids = self.kids.lock().unwrap().clone();
            Ok(kids.into_iter().map(|kid| (Some(kid.to_owned()), format!("key {kid}"))).collect())
        }
    }

    async fn key(set: &KeySet<String, String>, publisher: &Publisher, kid: &str) -> Result<String, KeyError<String>> {
        set.key(kid, || publisher.fetch()).await.map(|key| key.as_str().to_owned())
    }

    fn later(by: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(by)
    }

    #[tokio::test(start_paused = true)]
    async fn keys_are_fetched_once_and_concurrent_callers_share_the_fetch() {
        let set = Arc::new(KeySet::new("test", POLICY));
        let publisher = Arc::new(Publisher::with(&["k1", "k2"]));
        let callers: Vec<_> = (0..10)
            .map(|n| {
                let (set, publisher) = (Arc::clone(&set), Arc::clone(&publisher));
                tokio::spawn(async move { key(&set, &publisher, if n % 2 == 0 { "k1" } else { "k2" }).await })
            })
            .collect();
        for caller in callers {
            assert!(caller.await.unwrap().is_ok());
        }
        assert_eq!(publisher.fetches(), 1);
        assert_eq!(key(&set, &publisher, "k1").await, Ok("key k1".to_owned()));
        assert_eq!(publisher.fetches(), 1, "cached");
    }

    #[tokio::test(start_paused = true)]
    async fn keys_are_fetched_again_on_schedule() {
        let set = KeySet::new("test", POLICY);
        let publisher = Publisher::with(&["k1"]);
        key(&set, &publisher, "k1").await.unwrap();
        later(Duration::from_secs(3500)).await;
        key(&set, &publisher, "k1").await.unwrap();
        assert_eq!(publisher.fetches(), 1);
        later(Duration::from_secs(200)).await;
        publisher.publish(&["k2"]);
        assert_eq!(set.keys(|| publisher.fetch()).await.unwrap().get("k2").map(|k| k.as_str()), Some("key k2"));
        assert_eq!(publisher.fetches(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_key_id_fetches_at_most_once_per_interval() {
        let set = KeySet::new("test", POLICY);
        let publisher = Publisher::with(&["k1"]);
        key(&set, &publisher, "k1").await.unwrap();
        // Within the interval of the first fetch: refused without a fetch.
        publisher.publish(&["k1", "k2"]);
        assert_eq!(key(&set, &publisher, "k2").await, Err(KeyError::Unknown("k2".to_owned())));
        assert_eq!(publisher.fetches(), 1);
        later(Duration::from_secs(60)).await;
        assert_eq!(key(&set, &publisher, "k2").await, Ok("key k2".to_owned()));
        assert_eq!(publisher.fetches(), 2);
        // Made-up ids, however many, fetch once a minute at most.
        for n in 0..150 {
            let made_up = format!("forged-{n}");
            assert!(matches!(key(&set, &publisher, &made_up).await, Err(KeyError::Unknown(_))));
            later(Duration::from_secs(1)).await;
        }
        assert_eq!(publisher.fetches(), 4, "two more in two and a half minutes");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_fetch_keeps_the_old_keys_until_they_are_too_old() {
        let set = KeySet::new("test", POLICY);
        let publisher = Publisher::with(&["k1"]);
        key(&set, &publisher, "k1").await.unwrap();
        publisher.down(true);
        later(POLICY.refresh).await;
        assert_eq!(key(&set, &publisher, "k1").await, Ok("key k1".to_owned()), "served while the publisher is down");
        assert_eq!(publisher.fetches(), 2);
        assert_eq!(key(&set, &publisher, "k1").await, Ok("key k1".to_owned()));
        assert_eq!(publisher.fetches(), 2, "not tried again at once");
        later(POLICY.unknown_key).await;
        key(&set, &publisher, "k1").await.unwrap();
        assert_eq!(publisher.fetches(), 3, "tried again after the interval");
        later(POLICY.keep).await;
        assert_eq!(key(&set, &publisher, "k1").await, Err(KeyError::Unavailable("connection refused".to_owned())));
        // With nothing usable, every lookup tries (one at a time), and a recovery is seen at once.
        publisher.down(false);
        assert_eq!(key(&set, &publisher, "k1").await, Ok("key k1".to_owned()));
    }

    #[tokio::test(start_paused = true)]
    async fn callers_waiting_on_a_failed_fetch_share_its_error() {
        let set = Arc::new(KeySet::new("test", POLICY));
        let publisher = Arc::new(Publisher::with(&["k1"]));
        publisher.down(true);
        let callers: Vec<_> = (0..5)
            .map(|_| {
                let (set, publisher) = (Arc::clone(&set), Arc::clone(&publisher));
                tokio::spawn(async move { key(&set, &publisher, "k1").await })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.await.unwrap(), Err(KeyError::Unavailable("connection refused".to_owned())));
        }
        assert_eq!(publisher.fetches(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_set_of_one_key_serves_tokens_without_an_id() {
        let set = KeySet::new("test", POLICY);
        let publisher = Publisher::with(&["k1"]);
        let keys = set.keys(|| publisher.fetch()).await.unwrap();
        assert_eq!(keys.only().map(|k| k.as_str()), Some("key k1"));
        assert_eq!(keys.iter().map(|(kid, _)| kid).collect::<Vec<_>>(), [Some("k1")]);
        let two: Keys<u8> = [(None, 1), (Some("b".to_owned()), 2)].into_iter().collect();
        assert_eq!((two.only(), two.len(), two.get("b").map(|k| **k)), (None, 2, Some(2)));
    }
}
