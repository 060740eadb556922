//! Signing keys and tokens made in the test, as Bot Framework makes them: RSA keys (2048 bits)
//! published as a JWK set with `endorsements`, and RS256 tokens with `iss`, `aud`, `exp`,
//! `nbf` and `serviceurl` claims. Tests also forge tokens Docket must refuse: `none`, HS256
//! keyed with the public key, the wrong key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::rsa::{RsaKey, key};

/// The issuer of Bot Framework's tokens to bots.
pub const ISSUER: &str = "https://api.botframework.com";

/// One RSA signing key.
#[derive(Clone)]
pub struct SigningKey {
    /// Its key id.
    pub kid: String,
    /// The channels it may sign for.
    pub endorsements: Vec<String>,
    key: &'static RsaKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("endorsements", &self.endorsements).finish()
    }
}

impl SigningKey {
    /// Key number `slot` (0, 1 or 2: distinct key material; a test binary makes the keys once
    /// and hands them out under different ids) under id `kid`, endorsed for `endorsements`.
    pub fn new(slot: usize, kid: &str, endorsements: &[&str]) -> Self {
        Self {
            kid: kid.to_owned(),
            endorsements: endorsements.iter().map(|e| (*e).to_owned()).collect(),
            key: key(slot),
        }
    }

    /// The key as a JWK, with `endorsements` as Bot Framework publishes it.
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": URL_SAFE_NO_PAD.encode(self.key.n()),
            "e": URL_SAFE_NO_PAD.encode(self.key.e()),
            "x5c": [],
            "endorsements": self.endorsements,
        })
    }

    /// An RS256 token over `claims`, with this key's id.
    pub fn sign(&self, claims: &Value) -> String {
        self.key.sign_rs256(&json!({ "typ": "JWT", "alg": "RS256", "kid": self.kid }), claims)
    }

    /// A forged token: HS256, keyed with this key's public modulus (the classic algorithm
    /// confusion attack), with this key's id.
    pub fn sign_hs256_with_public_key(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(self.key.n())).expect("an HS256 token")
    }

    /// A forged token with `alg: none` and no signature.
    pub fn unsigned(&self, claims: &Value) -> String {
        let header = json!({ "alg": "none", "typ": "JWT", "kid": self.kid });
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON"));
        format!("{}.{}.", part(&header), part(claims))
    }
}

/// The claims of a Bot Framework token for bot `app_id` about `service_url`, valid from a
/// minute ago for an hour.
pub fn claims(app_id: &str, service_url: &str) -> Value {
    let now = jiff::Timestamp::now().as_second();
    json!({
        "serviceurl": service_url,
        "nbf": now - 60,
        "exp": now + 3600,
        "iss": ISSUER,
        "aud": app_id,
    })
}
