//! What the Teams surface needs to know, handed in by the binary from `docket.yaml`'s `teams`
//! section (this crate reads no environment and no files).

use std::time::Duration;

/// Bot Framework's issuer for tokens sent to bots.
pub const BOT_FRAMEWORK_ISSUER: &str = "https://api.botframework.com";
/// The scope of tokens the bot asks for to call the connector.
pub const BOT_FRAMEWORK_SCOPE: &str = "https://api.botframework.com/.default";
/// The scope of tokens the bot asks for to read Microsoft Graph (what resource-specific consent
/// granted the app where it is installed).
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The Teams surface's settings.
#[derive(Clone)]
pub struct TeamsSettings {
    /// The bot's Microsoft app id: the audience of inbound tokens, the client id outbound.
    pub app_id: String,
    /// The bot's client secret (never logged).
    pub app_password: String,
    /// The Entra tenant of a single-tenant bot.
    pub tenant_id: Option<String>,
    /// Where Bot Framework's OpenID metadata (and through it the signing keys) is published.
    pub openid_metadata_url: String,
    /// Where the bot gets its client-credentials tokens.
    pub token_url: String,
    /// The issuer inbound tokens must carry.
    pub issuer: String,
    /// Where approval requests go when a policy names no Teams conversation.
    pub approvals_channel: Option<String>,
    /// Where people reach Docket (`server.public_url`), for links and the app manifest.
    pub public_url: Option<String>,
    /// How often the signing keys are fetched again, whatever happens.
    pub key_refresh: Duration,
    /// How soon after the last fetch an unknown key id may cause another fetch (a minute, as
    /// for every signing-key set Docket keeps).
    pub unknown_key_refresh: Duration,
    /// How outbound calls are retried.
    pub retry: RetryPolicy,
    /// How fast one conversation is written to.
    pub pacing: Pacing,
    /// How fast the bot writes at all, every conversation together (Teams allows 30 a second
    /// per app and tenant; one bucket for all tenants stays under it).
    pub app_pacing: Pacing,
    /// Microsoft Graph, read to find a message an interrupted delivery may have posted.
    pub graph_url: String,
    /// Where the bot gets its Graph tokens; `{tenant_id}` is replaced by the bot's tenant (or,
    /// for a multi-tenant bot, the conversation's).
    pub graph_token_url: String,
}

impl TeamsSettings {
    /// Settings for bot `app_id` with Bot Framework's public endpoints and the usual limits.
    pub fn new(app_id: impl Into<String>, app_password: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            app_password: app_password.into(),
            tenant_id: None,
            openid_metadata_url: "https://login.botframework.com/v1/.well-known/openidconfiguration".to_owned(),
            token_url: "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token".to_owned(),
            issuer: BOT_FRAMEWORK_ISSUER.to_owned(),
            approvals_channel: None,
            public_url: None,
            key_refresh: Duration::from_secs(24 * 60 * 60),
            unknown_key_refresh: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            pacing: Pacing::default(),
            app_pacing: Pacing { burst: 30, interval: Duration::from_millis(34) },
            graph_url: "https://graph.microsoft.com".to_owned(),
            graph_token_url: "https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token".to_owned(),
        }
    }

    /// The bot's id in conversations (`28:<app id>`).
    pub fn bot_id(&self) -> String {
        format!("28:{}", self.app_id)
    }
}

impl std::fmt::Debug for TeamsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamsSettings")
            .field("app_id", &self.app_id)
            .field("app_password", &"[redacted]")
            .field("tenant_id", &self.tenant_id)
            .field("openid_metadata_url", &self.openid_metadata_url)
            .field("token_url", &self.token_url)
            .field("issuer", &self.issuer)
            .field("approvals_channel", &self.approvals_channel)
            .field("public_url", &self.public_url)
            .field("graph_url", &self.graph_url)
            .field("graph_token_url", &self.graph_token_url)
            .finish_non_exhaustive()
    }
}

/// Retries of connector calls answered 429, 412, 502 or 504 (or not answered at all).
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The first pause; each next one doubles, drawn from the upper half of that (equal
    /// jitter), and never shorter than the `Retry-After` Teams sent.
    pub base: Duration,
    /// The longest pause. A `Retry-After` longer than this ends the retries (the outbox tries
    /// the message again later).
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 5, base: Duration::from_millis(500), max: Duration::from_secs(30) }
    }
}

/// Writes per conversation: a steady rate with a burst, below Teams' limits (7 per second,
/// 60 per 30 seconds per conversation).
#[derive(Clone, Copy, Debug)]
pub struct Pacing {
    /// Writes allowed at once after a quiet spell.
    pub burst: u32,
    /// Time for one more write to become allowed.
    pub interval: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self { burst: 7, interval: Duration::from_secs(1) }
    }
}
