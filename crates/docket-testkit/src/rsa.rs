//! RSA keys (2048 bits) made in the test, and RS256 tokens signed with them, for the fake
//! identity providers (Bot Framework, OpenID Connect). Keys come from aws-lc-rs, which the
//! server already links through rustls; the compact token is put together here, not by the JWT
//! library the server verifies with.

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// How many distinct keys [`key`] hands out.
pub const KEYS: usize = 3;

/// One RSA key pair.
pub struct RsaKey {
    pair: KeyPair,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKey").field("bits", &(self.n.len() * 8)).finish_non_exhaustive()
    }
}

/// Key number `slot` (modulo [`KEYS`]): the same key for the same slot within a test binary,
/// distinct key material for distinct slots. Keys are made once, on first use.
pub fn key(slot: usize) -> &'static RsaKey {
    static POOL: OnceLock<Vec<RsaKey>> = OnceLock::new();
    let pool = POOL.get_or_init(|| (0..KEYS).map(|_| RsaKey::generate()).collect());
    &pool[slot % KEYS]
}

impl RsaKey {
    fn generate() -> Self {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        Self { n: trim(public.n), e: trim(public.e), pair }
    }

    /// The modulus, big-endian, without leading zeros (as a JWK's `n`).
    pub fn n(&self) -> &[u8] {
        &self.n
    }

    /// The public exponent, big-endian, without leading zeros (as a JWK's `e`).
    pub fn e(&self) -> &[u8] {
        &self.e
    }

    /// A compact JWS: `header` (which should say `"alg": "RS256"`) and `claims`, signed with
    /// RSASSA-PKCS1-v1_5 over SHA-256.
    pub fn sign_rs256(&self, header: &Value, claims: &Value) -> String {
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON"));
        let input = format!("{}.{}", part(header), part(claims));
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature)
            .expect("an RS256 signature");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

fn trim(bytes: Vec<u8>) -> Vec<u8> {
    bytes.into_iter().skip_while(|b| *b == 0).collect()
}
