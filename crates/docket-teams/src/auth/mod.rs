//! Inbound authentication of Bot Framework requests: the bearer JWT is checked before the body
//! is read for meaning — RS256 only, signed by a key from the configured OpenID metadata, the
//! configured issuer, the bot's app id as audience, `exp` and `nbf` with five minutes of skew —
//! and then bound to the activity it came with: its `serviceurl` claim must equal the
//! activity's `serviceUrl`, and the signing key must be endorsed for the activity's channel.

mod keys;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::settings::TeamsSettings;
use keys::KeyStore;

/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 300;
/// Longest token accepted.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why a request was not authenticated. The text is safe to log and audit: it never holds the
/// token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("no bearer token")]
    Missing,
    /// Not a JWT, or parts that do not decode.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// An algorithm other than RS256 (`none`, HS256, …).
    #[error("token algorithm `{0}` is not accepted (RS256 only)")]
    Algorithm(String),
    /// A key id the published key set does not hold.
    #[error("token signed with unknown key `{0}`")]
    UnknownKey(String),
    /// The keys could not be fetched.
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
    /// The signature does not verify.
    #[error("token signature does not verify")]
    Signature,
    /// The wrong issuer.
    #[error("token issuer is not the configured one")]
    Issuer,
    /// Meant for another bot.
    #[error("token audience is not this bot's app id")]
    Audience,
    /// Past `exp` (plus skew).
    #[error("token expired")]
    Expired,
    /// Before `nbf` (less skew).
    #[error("token not yet valid")]
    NotYetValid,
    /// A required claim is missing.
    #[error("token lacks the `{0}` claim")]
    MissingClaim(String),
    /// The token was issued for another service URL than the activity's.
    #[error("token serviceurl claim does not match the activity's serviceUrl")]
    ServiceUrl,
    /// The signing key is not endorsed for the activity's channel.
    #[error("signing key is not endorsed for channel `{0}`")]
    Endorsement(String),
    /// The activity comes from another tenant than the configured `teams.tenant_id`.
    #[error("activity from tenant `{0}`, not the configured tenant")]
    Tenant(String),
}

impl AuthError {
    /// The HTTP status to answer with: 403 when a valid token does not fit its activity, 401
    /// otherwise.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::ServiceUrl | AuthError::Endorsement(_) | AuthError::Tenant(_) => 403,
            // Docket could not check the token; Bot Framework retries a 5xx.
            AuthError::KeysUnavailable(_) => 503,
            _ => 401,
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    serviceurl: Option<String>,
}

/// A token that verified; [`Verified::check_activity`] binds it to the activity.
#[derive(Debug)]
pub struct Verified {
    service_url: Option<String>,
    endorsements: Vec<String>,
}

impl Verified {
    /// Checks the token was issued for this activity's service URL and channel.
    pub fn check_activity(&self, service_url: &str, channel_id: &str) -> Result<(), AuthError> {
        if self.service_url.as_deref() != Some(service_url) {
            return Err(AuthError::ServiceUrl);
        }
        if !self.endorsements.iter().any(|e| e == channel_id) {
            return Err(AuthError::Endorsement(channel_id.chars().take(40).collect()));
        }
        Ok(())
    }
}

/// Verifies Bot Framework tokens.
pub struct Authenticator {
    keys: KeyStore,
    validation: Validation,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// An authenticator for `settings`' bot, fetching keys with `http`.
    pub fn new(settings: &TeamsSettings, http: reqwest::Client) -> Arc<Self> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = vec![Algorithm::RS256];
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_audience(&[settings.app_id.as_str()]);
        let keys =
            KeyStore::new(http, &settings.openid_metadata_url, settings.key_refresh, settings.unknown_key_refresh);
        Arc::new(Self { keys, validation })
    }

    /// Verifies the `Authorization` header's token.
    pub async fn verify(&self, authorization: Option<&str>) -> Result<Verified, AuthError> {
        let token = bearer(authorization)?;
        let header = header(token)?;
        if header.alg != "RS256" {
            return Err(AuthError::Algorithm(header.alg.chars().take(20).collect()));
        }
        let kid = header.kid.ok_or_else(|| AuthError::Malformed("no key id (`kid`) in the header".to_owned()))?;
        let key = self.keys.key(&kid).await?;
        let data =
            jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation).map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => AuthError::Signature,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    AuthError::Algorithm(header.alg.clone())
                }
                ErrorKind::InvalidIssuer => AuthError::Issuer,
                ErrorKind::InvalidAudience => AuthError::Audience,
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim.clone()),
                _ => AuthError::Malformed(e.to_string()),
            })?;
        Ok(Verified { service_url: data.claims.serviceurl, endorsements: key.endorsements.clone() })
    }
}

fn bearer(authorization: Option<&str>) -> Result<&str, AuthError> {
    let value = authorization.ok_or(AuthError::Missing)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Malformed("empty or oversized token".to_owned()));
    }
    Ok(token)
}

/// The token's header, read before any key is looked up so the algorithm is refused first.
fn header(token: &str) -> Result<Header, AuthError> {
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::Malformed("not three dot-separated parts".to_owned()));
    };
    let bytes = URL_SAFE_NO_PAD.decode(head).map_err(|_| AuthError::Malformed("header is not base64url".to_owned()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Malformed("header is not a JSON object with `alg`".to_owned()))
}
