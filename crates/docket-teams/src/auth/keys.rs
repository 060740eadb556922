//! Bot Framework's signing keys: the OpenID metadata document names the key set (`jwks_uri`);
//! each key carries `endorsements`, the channels it may sign for, which generic JWK types
//! drop, so the key set is parsed here. The outbound toolkit's [`KeySet`] keeps them: fetched
//! again after `key_refresh` (a day) and — at most once per `unknown_key_refresh` (a minute) —
//! when a token names a key id the set does not hold; while fetches fail, the keys held serve
//! for up to a week.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use docket_app::outbound::{KeyError, KeyPolicy, KeySet, Keys};
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

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

/// The key set document.
#[derive(Deserialize)]
struct Jwks {
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

/// The cache of signing keys: the outbound toolkit's [`KeySet`], fetched through this
/// crate's HTTP client.
pub(crate) struct KeyStore {
    http: reqwest::Client,
    metadata_url: String,
    keys: KeySet<SigningKey, String>,
}

impl KeyStore {
    pub(crate) fn new(http: reqwest::Client, metadata_url: &str, refresh: Duration, unknown_refresh: Duration) -> Self {
        let keep = KeyPolicy::default().keep.max(refresh);
        let policy = KeyPolicy { refresh, unknown_key: unknown_refresh, keep };
        Self { http, metadata_url: metadata_url.to_owned(), keys: KeySet::new("Bot Framework", policy) }
    }

    /// The key with id `kid`.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<SigningKey>, AuthError> {
        self.keys.key(kid, || self.fetch()).await.map_err(|error| match error {
            KeyError::Unknown(kid) => AuthError::UnknownKey(kid),
            KeyError::Unavailable(detail) => AuthError::KeysUnavailable(detail),
        })
    }

    async fn fetch(&self) -> Result<Keys<SigningKey>, String> {
        let metadata: Metadata = self.get_json(&self.metadata_url).await?;
        let set: Jwks = self.get_json(&metadata.jwks_uri).await?;
        Ok(set.keys.into_iter().filter_map(parse_key).collect())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let unavailable = |e: reqwest::Error| format!("{url}: {}", e.without_url());
        let response = self.http.get(url).timeout(FETCH_TIMEOUT).send().await.map_err(unavailable)?;
        let response = response.error_for_status().map_err(unavailable)?;
        response.json().await.map_err(unavailable)
    }
}

/// An RSA signing key with its id, or nothing for keys of other kinds or uses.
fn parse_key(raw: RawKey) -> Option<(Option<String>, SigningKey)> {
    if raw.kty.as_deref() != Some("RSA") || raw.usage.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    let (kid, n, e) = (raw.kid?, raw.n?, raw.e?);
    // Checked here so a key that is not base64url is dropped rather than failing each token.
    URL_SAFE_NO_PAD.decode(&n).ok()?;
    URL_SAFE_NO_PAD.decode(&e).ok()?;
    let decoding = DecodingKey::from_rsa_components(&n, &e).ok()?;
    Some((Some(kid), SigningKey { decoding, endorsements: raw.endorsements }))
}
