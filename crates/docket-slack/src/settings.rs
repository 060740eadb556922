//! The Slack surface's settings, filled by the binary from `docket.yaml`'s `slack` section.

use std::time::Duration;

/// How Docket talks to one Slack workspace.
#[derive(Clone)]
pub struct SlackSettings {
    /// Checks that HTTP requests come from Slack (v0 signatures).
    pub signing_secret: String,
    /// `xoxb-…`: posts and edits messages, opens modals.
    pub bot_token: String,
    /// `xapp-…`: Socket Mode instead of inbound HTTP, when set.
    pub app_token: Option<String>,
    /// The Web API's base URL, without a trailing slash (`https://slack.com/api`).
    pub api_url: String,
    /// The slash command (`/docket`).
    pub command: String,
    /// Where approval requests go when a policy names no Slack channel.
    pub approvals_channel: Option<String>,
    /// Where people reach Docket (`server.public_url`), for links and the manifest.
    pub public_url: Option<String>,
    /// Least time between two messages posted to one channel (Slack allows about one a
    /// second).
    pub channel_interval: Duration,
    /// How many times a call is tried again after a 429.
    pub max_rate_limit_retries: u32,
}

impl SlackSettings {
    /// Settings with Slack's defaults for everything but the two secrets.
    pub fn new(signing_secret: impl Into<String>, bot_token: impl Into<String>) -> Self {
        Self {
            signing_secret: signing_secret.into(),
            bot_token: bot_token.into(),
            app_token: None,
            api_url: "https://slack.com/api".to_owned(),
            command: "/docket".to_owned(),
            approvals_channel: None,
            public_url: None,
            channel_interval: Duration::from_secs(1),
            max_rate_limit_retries: 5,
        }
    }
}

impl std::fmt::Debug for SlackSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackSettings")
            .field("signing_secret", &"[redacted]")
            .field("bot_token", &"[redacted]")
            .field("app_token", &self.app_token.as_ref().map(|_| "[redacted]"))
            .field("api_url", &self.api_url)
            .field("command", &self.command)
            .field("approvals_channel", &self.approvals_channel)
            .field("public_url", &self.public_url)
            .field("channel_interval", &self.channel_interval)
            .finish()
    }
}
