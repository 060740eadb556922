//! Asking the provider's UserInfo endpoint (OpenID Connect Core §5.3) for the email an ID
//! token left out. Certified providers put only `sub` in the ID token when they also issue an
//! access token for UserInfo, so matching people by email needs this call. The access token
//! goes as a Bearer header; the answer must be JSON (a signed `application/jwt` answer is
//! refused with the reason) and about the ID token's subject.

use axum::http::header;
use serde::Deserialize;

use super::{Claims, LoginError, Provider, SignedIn};

/// The most of a UserInfo answer read.
const LIMIT: usize = 1 << 20;

/// The UserInfo claims Docket reads.
#[derive(Debug, Deserialize)]
struct UserInfo {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
}

impl Provider {
    /// The ID token's claims completed from UserInfo: its email and `email_verified`, when it
    /// has an email. `None` when there is nothing to ask: the provider publishes no UserInfo
    /// endpoint, or issued no access token.
    pub(crate) async fn complete(&self, signed: &SignedIn) -> Result<Option<Claims>, LoginError> {
        let metadata = self.metadata().await?;
        let (Some(endpoint), Some(token)) = (&metadata.userinfo_endpoint, &signed.access_token) else {
            return Ok(None);
        };
        let failed = |e: reqwest::Error| LoginError::UserInfo(format!("{endpoint}: {e}"));
        let mut response = self
            .http
            .get(endpoint)
            .bearer_auth(token)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            // RFC 6750: a refused token says why in WWW-Authenticate.
            let why = response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(|v| format!(" ({})", v.chars().take(300).collect::<String>()))
                .unwrap_or_default();
            return Err(LoginError::UserInfo(format!("{endpoint} answered {status}{why}")));
        }
        let kind = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if kind == "application/jwt" {
            return Err(LoginError::UserInfo(
                "the provider answers with a signed JWT (application/jwt), which Docket does not read; \
                 set Docket's client at the provider to answer UserInfo with plain JSON \
                 (no userinfo_signed_response_alg)"
                    .to_owned(),
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > LIMIT {
                return Err(LoginError::UserInfo(format!("{endpoint} answered more than {LIMIT} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let info: UserInfo = serde_json::from_slice(&body)
            .map_err(|e| LoginError::UserInfo(format!("{endpoint} did not answer a JSON object with a `sub`: {e}")))?;
        if info.sub != signed.claims.sub {
            return Err(LoginError::UserInfo(format!(
                "it is about subject {}, not the ID token's subject {}",
                info.sub, signed.claims.sub
            )));
        }
        let mut claims = signed.claims.clone();
        if info.email.is_some() {
            claims.email = info.email;
            claims.email_verified = info.email_verified;
        }
        Ok(Some(claims))
    }
}
