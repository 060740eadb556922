//! Checking an ID token: RS256 only, signed by a key in the provider's key set, from the
//! expected issuer, for Docket's client id, not expired (a minute of leeway), not before its
//! time, and carrying the nonce this sign-in started with.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// The claims Docket reads.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Claims {
    /// The subject: the person's stable id at the provider.
    pub(crate) sub: String,
    /// Their email, if the provider shares it.
    #[serde(default)]
    pub(crate) email: Option<String>,
    /// Whether the provider checked it (a boolean, or "true"/"false" from some providers).
    #[serde(default)]
    pub(crate) email_verified: Option<serde_json::Value>,
    #[serde(default)]
    nonce: Option<String>,
}

impl Claims {
    /// The email, when the provider vouches for it (`email_verified: true`). An address the
    /// provider does not vouch for may be anyone's (Entra ID lets users set theirs), so it
    /// never matches a person; such people sign in by `oidc_subject`.
    pub(crate) fn verified_email(&self) -> Option<&str> {
        let verified = matches!(&self.email_verified, Some(serde_json::Value::Bool(true)))
            || matches!(&self.email_verified, Some(serde_json::Value::String(s)) if s == "true");
        if verified { self.email.as_deref() } else { None }
    }
}

/// What the token must say.
#[derive(Debug)]
pub(crate) struct Expect<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audience: &'a str,
    pub(crate) nonce: &'a str,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Problem {
    /// It names a key the provider does not publish (perhaps not yet fetched).
    #[error("it is signed with a key the provider does not publish")]
    UnknownKey,
    /// Anything else: the reason in words.
    #[error("{0}")]
    Invalid(String),
}

/// Checks `token` against `keys` and `expect`; returns its claims.
pub(crate) fn verify(token: &str, keys: &JwkSet, expect: &Expect<'_>) -> Result<Claims, Problem> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| Problem::Invalid(format!("unreadable header: {e}")))?;
    if header.alg != Algorithm::RS256 {
        return Err(Problem::Invalid(format!("it is signed with {:?}; only RS256 is accepted", header.alg)));
    }
    let jwk = match &header.kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or(Problem::UnknownKey)?;
    let key =
        DecodingKey::from_jwk(jwk).map_err(|e| Problem::Invalid(format!("the provider's key is unusable: {e}")))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[expect.issuer]);
    validation.set_audience(&[expect.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 60;
    validation.validate_nbf = true;
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| Problem::Invalid(e.to_string()))?;
    if data.claims.nonce.as_deref() != Some(expect.nonce) {
        return Err(Problem::Invalid("its nonce is not the one this sign-in started with".to_owned()));
    }
    Ok(data.claims)
}
