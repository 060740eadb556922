//! OpenID Connect sign-in: the authorization code flow with PKCE (S256), `state` and `nonce`,
//! against any provider that publishes a discovery document (Okta, Entra ID, Google,
//! Keycloak, Sign in with Slack). The discovery document is fetched when first needed and
//! kept. The signing keys are kept in the outbound toolkit's [`KeySet`]: fetched when first
//! needed, again every day, and — at most once a minute — when a token names a key that is not
//! known (the provider rotated them); while the provider is unreachable the keys held serve
//! for up to a week.
//!
//! The callback's `iss` parameter (RFC 9207) must name the provider's issuer when the
//! provider says it sends one, or when it is there. The client secret goes to the token
//! endpoint with HTTP Basic, the standard's default, unless the provider takes only the form
//! body.
//!
//! - `token`: checking the ID token (signature against the provider's keys, issuer,
//!   audience, expiry, nonce).
//! - `userinfo`: asking the UserInfo endpoint for the email when the ID token leaves it out
//!   (certified providers do, when they issue an access token for UserInfo).

mod token;
mod userinfo;

use base64::Engine as _;
use docket_app::outbound::{KeyError, KeyPolicy, KeySet, Keys};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use tokio::sync::Mutex;

pub(crate) use token::Claims;

/// How the web UI signs people in.
#[derive(Clone)]
pub struct OidcOptions {
    /// The provider's issuer URL (`https://accounts.google.com`, `https://slack.com`,
    /// `https://login.microsoftonline.com/{tenant}/v2.0`, …); its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// Docket's client id at the provider.
    pub client_id: String,
    /// Docket's client secret at the provider.
    pub client_secret: String,
    /// The scopes asked for (`openid` is always included).
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for OidcOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcOptions")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Why a sign-in did not work.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoginError {
    /// The provider could not be reached or answered nonsense.
    #[error("the sign-in provider is unavailable: {0}")]
    Provider(String),
    /// The code was refused at the token endpoint.
    #[error("the sign-in provider refused the sign-in code: {0}")]
    Exchange(String),
    /// The ID token did not check out.
    #[error("the sign-in provider's ID token is not valid: {0}")]
    Token(String),
    /// The callback's `iss` parameter is missing or names another issuer (RFC 9207).
    #[error("the sign-in response did not come from the configured provider: {0}")]
    Issuer(String),
    /// The UserInfo endpoint failed or answered something Docket cannot use.
    #[error("the sign-in provider's UserInfo answer is not usable: {0}")]
    UserInfo(String),
}

/// The parts of the discovery document Docket uses.
#[derive(Clone, Debug, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// RFC 9207: the provider puts `iss` in every authorization response.
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// A checked sign-in: the ID token's claims, and the access token for UserInfo.
pub(crate) struct SignedIn {
    /// The ID token's claims.
    pub(crate) claims: Claims,
    /// The access token, if the provider issued one; used only to call UserInfo, never kept.
    access_token: Option<String>,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("claims", &self.claims)
            .field("access_token", &self.access_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// What a sign-in started with, kept until the provider sends the browser back.
#[derive(Clone, Debug, serde::Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The PKCE verifier.
    pub(crate) verifier: String,
    /// The nonce the ID token must carry.
    pub(crate) nonce: String,
    /// Where to go after signing in.
    pub(crate) next: String,
    /// When the sign-in must have come back by.
    pub(crate) expires: jiff::Timestamp,
}

/// A configured provider.
#[derive(Debug)]
pub(crate) struct Provider {
    options: OidcOptions,
    redirect_uri: String,
    http: reqwest::Client,
    metadata: Mutex<Option<Metadata>>,
    keys: KeySet<Jwk, String>,
}

impl Provider {
    /// A provider sending browsers back to `{public_url}/auth/callback`.
    pub(crate) fn new(options: OidcOptions, public_url: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            options,
            redirect_uri: format!("{public_url}/auth/callback"),
            http,
            metadata: Mutex::new(None),
            keys: KeySet::new("the sign-in provider", KeyPolicy::default()),
        }
    }

    /// The configured issuer URL.
    pub(crate) fn issuer(&self) -> &str {
        &self.options.issuer
    }

    /// The provider's name for the sign-in button (its issuer's host).
    pub(crate) fn name(&self) -> String {
        url::Url::parse(&self.options.issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| self.options.issuer.clone())
    }

    async fn metadata(&self) -> Result<Metadata, LoginError> {
        let mut cached = self.metadata.lock().await;
        if let Some(metadata) = cached.as_ref() {
            return Ok(metadata.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.options.issuer.trim_end_matches('/'));
        let metadata: Metadata = self.get_json(&url).await?;
        if metadata.issuer.trim_end_matches('/') != self.options.issuer.trim_end_matches('/') {
            return Err(LoginError::Provider(format!(
                "the discovery document names issuer {}, not the configured {}",
                metadata.issuer, self.options.issuer
            )));
        }
        *cached = Some(metadata.clone());
        Ok(metadata)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, LoginError> {
        let response = self.http.get(url).send().await.map_err(|e| LoginError::Provider(format!("{url}: {e}")))?;
        if !response.status().is_success() {
            return Err(LoginError::Provider(format!("{url} answered {}", response.status())));
        }
        response.json().await.map_err(|e| LoginError::Provider(format!("{url}: {e}")))
    }

    /// The provider's signing keys. `unknown` is a key id a token named that the keys did not
    /// hold: the set is fetched again for it if the last fetch is a minute old.
    async fn keys(&self, unknown: Option<&str>) -> Result<JwkSet, LoginError> {
        let unavailable = |error: KeyError<String>| match error {
            KeyError::Unavailable(detail) => LoginError::Provider(detail),
            other => LoginError::Provider(other.to_string()),
        };
        if let Some(kid) = unknown {
            match self.keys.key(kid, || self.fetch_keys()).await {
                Ok(_) | Err(KeyError::Unknown(_)) => {}
                Err(error) => return Err(unavailable(error)),
            }
        }
        let keys = self.keys.keys(|| self.fetch_keys()).await.map_err(unavailable)?;
        Ok(JwkSet { keys: keys.iter().map(|(_, jwk)| Jwk::clone(jwk)).collect() })
    }

    /// The key set the discovery document names, each key under its `kid`.
    async fn fetch_keys(&self) -> Result<Keys<Jwk>, String> {
        // Kept as the detail of the `Provider` error each caller gets back.
        let detail = |error: LoginError| match error {
            LoginError::Provider(detail) => detail,
            other => other.to_string(),
        };
        let metadata = self.metadata().await.map_err(detail)?;
        let keys: JwkSet = self.get_json(&metadata.jwks_uri).await.map_err(detail)?;
        Ok(keys.keys.into_iter().map(|jwk| (jwk.common.key_id.clone(), jwk)).collect())
    }

    /// Where to send the browser to sign in, for a sign-in with `state` and `pending`.
    pub(crate) async fn authorize_url(&self, state: &str, pending: &Pending) -> Result<String, LoginError> {
        let metadata = self.metadata().await?;
        let mut url = url::Url::parse(&metadata.authorization_endpoint)
            .map_err(|e| LoginError::Provider(format!("the authorization endpoint is not a URL: {e}")))?;
        let mut scopes = vec!["openid".to_owned()];
        scopes.extend(self.options.scopes.iter().filter(|s| s.as_str() != "openid").cloned());
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.options.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &challenge(&pending.verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(url.into())
    }

    /// The token request's form body; the secret goes in it when `post`.
    fn token_request(&self, code: &str, verifier: &str, post: bool) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("code_verifier", verifier)
            .append_pair("client_id", &self.options.client_id);
        if post {
            form.append_pair("client_secret", &self.options.client_secret);
        }
        form.finish()
    }

    /// Checks the callback's `iss` parameter (RFC 9207, against mix-up attacks): when the
    /// provider says it sends one, or when one was sent, it must be exactly the issuer of the
    /// discovery document.
    pub(crate) async fn check_issuer(&self, iss: Option<&str>) -> Result<(), LoginError> {
        let metadata = self.metadata().await?;
        match iss {
            Some(iss) if iss == metadata.issuer => Ok(()),
            Some(iss) => Err(LoginError::Issuer(format!("it names issuer {iss}, not {}", metadata.issuer))),
            None if metadata.authorization_response_iss_parameter_supported => {
                Err(LoginError::Issuer("it carries no `iss` parameter, which this provider always sends".to_owned()))
            }
            None => Ok(()),
        }
    }

    /// Exchanges `code` for an ID token and checks it; returns its claims and the access token.
    pub(crate) async fn finish(&self, code: &str, pending: &Pending) -> Result<SignedIn, LoginError> {
        let metadata = self.metadata().await?;
        // client_secret_basic is the standard's default and how providers register a client
        // unless told otherwise (some refuse any other method); the form body only when the
        // provider does not take Basic but takes the body (Slack).
        let methods = metadata.token_endpoint_auth_methods_supported.as_deref().unwrap_or_default();
        let post =
            !methods.iter().any(|m| m == "client_secret_basic") && methods.iter().any(|m| m == "client_secret_post");
        let body = self.token_request(code, &pending.verifier, post);
        let mut request = self.http.post(&metadata.token_endpoint).header("accept", "application/json");
        if !post {
            let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(encode(&self.options.client_id), Some(encode(&self.options.client_secret)));
        }
        let response = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| LoginError::Provider(format!("the token endpoint: {e}")))?;
        let status = response.status();
        let body: serde_json::Value =
            response.json().await.map_err(|e| LoginError::Exchange(format!("{status}, not JSON: {e}")))?;
        if !status.is_success() {
            let error = body.get("error").and_then(|e| e.as_str()).unwrap_or("unknown error");
            return Err(LoginError::Exchange(format!("{status} {error}")));
        }
        let id_token = body
            .get("id_token")
            .and_then(|t| t.as_str())
            .ok_or_else(|| LoginError::Exchange("the answer has no id_token".to_owned()))?;
        let keys = self.keys(None).await?;
        let expect =
            token::Expect { issuer: &metadata.issuer, audience: &self.options.client_id, nonce: &pending.nonce };
        let claims = match token::verify(id_token, &keys, &expect) {
            Err(token::Problem::UnknownKey) => {
                let kid = jsonwebtoken::decode_header(id_token).ok().and_then(|header| header.kid);
                token::verify(id_token, &self.keys(Some(kid.as_deref().unwrap_or_default())).await?, &expect)
            }
            other => other,
        }
        .map_err(|p| LoginError::Token(p.to_string()))?;
        let access_token = body.get("access_token").and_then(|t| t.as_str()).map(str::to_owned);
        Ok(SignedIn { claims, access_token })
    }
}

/// The PKCE S256 challenge of `verifier`.
pub(crate) fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }
}
