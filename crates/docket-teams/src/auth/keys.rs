//! Bot Framework's signing keys: the OpenID metadata document names the key set (`jwks_uri`);
//! each key carries `endorsements`, the channels it may sign for, which generic JWK types
//! drop, so the key set is parsed here. Keys are cached, fetched again daily, and — at most
//! once per `unknown_key_refresh` — when a token names a key id the cache does not hold.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::AuthError;

/// Longest a metadata or key set fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// One signing key.
pub(crate) struct SigningKey {
    /// The RSA public key.
    pub(crate) decoding: DecodingKey,
    /// The channels (`msteams`, …) this key may sign tokens for.
    pub(crate) endorsements: Vec<String>,
}

#[derive(Deserialize)]
struct Metadata {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<RawKey>,
}

#[derive(Deserialize)]
struct RawKey {
    kty: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    #[serde(default)]
    endorsements: Vec<String>,
}

#[derive(Default)]
struct Cached {
    keys: HashMap<String, Arc<SigningKey>>,
    fetched: Option<Instant>,
}

/// The cache of signing keys.
pub(crate) struct KeyStore {
    http: reqwest::Client,
    metadata_url: String,
    refresh: Duration,
    unknown_refresh: Duration,
    // A tokio mutex: held across the fetch, so concurrent requests wait for one fetch rather
    // than each starting their own.
    cached: Mutex<Cached>,
}

impl KeyStore {
    pub(crate) fn new(http: reqwest::Client, metadata_url: &str, refresh: Duration, unknown_refresh: Duration) -> Self {
        Self {
            http,
            metadata_url: metadata_url.to_owned(),
            refresh,
            unknown_refresh,
            cached: Mutex::new(Cached::default()),
        }
    }

    /// The key with id `kid`.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<SigningKey>, AuthError> {
        let mut cached = self.cached.lock().await;
        let stale = cached.fetched.is_none_or(|at| at.elapsed() >= self.refresh);
        if stale {
            match self.fetch().await {
                Ok(keys) => *cached = Cached { keys, fetched: Some(Instant::now()) },
                // Keys fetched earlier stay usable while the publisher is unreachable.
                Err(error) if !cached.keys.is_empty() => {
                    tracing::warn!(%error, "could not refresh Bot Framework's signing keys; using the cached ones");
                }
                Err(error) => return Err(error),
            }
        }
        if let Some(key) = cached.keys.get(kid) {
            return Ok(Arc::clone(key));
        }
        let may_refetch = cached.fetched.is_none_or(|at| at.elapsed() >= self.unknown_refresh);
        if !stale && may_refetch {
            let keys = self.fetch().await?;
            *cached = Cached { keys, fetched: Some(Instant::now()) };
            if let Some(key) = cached.keys.get(kid) {
                return Ok(Arc::clone(key));
            }
        }
        Err(AuthError::UnknownKey(kid.chars().take(64).collect()))
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<SigningKey>>, AuthError> {
        let metadata: Metadata = self.get_json(&self.metadata_url).await?;
        let set: KeySet = self.get_json(&metadata.jwks_uri).await?;
        let keys: HashMap<_, _> = set.keys.into_iter().filter_map(parse_key).collect();
        tracing::info!(keys = keys.len(), "fetched Bot Framework's signing keys");
        Ok(keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, AuthError> {
        let unavailable = |e: reqwest::Error| AuthError::KeysUnavailable(format!("{url}: {}", e.without_url()));
        let response = self.http.get(url).timeout(FETCH_TIMEOUT).send().await.map_err(unavailable)?;
        let response = response.error_for_status().map_err(unavailable)?;
        response.json().await.map_err(unavailable)
    }
}

/// An RSA signing key with its id, or nothing for keys of other kinds or uses.
fn parse_key(raw: RawKey) -> Option<(String, Arc<SigningKey>)> {
    if raw.kty.as_deref() != Some("RSA") || raw.usage.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    let (kid, n, e) = (raw.kid?, raw.n?, raw.e?);
    // Checked here so a key that is not base64url is dropped rather than failing each token.
    URL_SAFE_NO_PAD.decode(&n).ok()?;
    URL_SAFE_NO_PAD.decode(&e).ok()?;
    let decoding = DecodingKey::from_rsa_components(&n, &e).ok()?;
    Some((kid, Arc::new(SigningKey { decoding, endorsements: raw.endorsements })))
}
