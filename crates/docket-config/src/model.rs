//! The typed sections of `docket.yaml` that are settings rather than rules: server, storage,
//! catalog folder, time zone, ticket prefix, databases, the Slack and Teams surfaces, and the web UI.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// A value that must never be printed: tokens, passwords, connection strings.
///
/// `Debug` and `Display` print `[redacted]`; [`Secret::expose`] hands out the value to the code
/// that needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(docket_core::redact::MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(docket_core::redact::MASK)
    }
}

/// The settings of `docket.yaml`. People, policies and workflows are loaded into
/// [`docket_core::Directory`], [`docket_core::PolicySet`] and [`docket_core::Catalog`] instead.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// `server`.
    pub server: Server,
    /// `storage`.
    pub storage: Storage,
    /// The workflow folder, resolved against the config file's folder (default `./workflows`).
    pub catalog: PathBuf,
    /// The IANA time zone policies and rotations read the clock in (default `UTC`).
    pub timezone: String,
    /// Ticket ids are `PREFIX-42` (default `DKT`).
    pub ticket_prefix: String,
    /// Databases that `sql` steps may name, by name.
    pub databases: BTreeMap<String, Secret>,
    /// The Slack surface, when configured.
    pub slack: Option<Slack>,
    /// The Microsoft Teams surface, when configured.
    pub teams: Option<Teams>,
    /// The web UI's settings (sign-in).
    pub web: Web,
}

/// `web`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Web {
    /// OpenID Connect sign-in, when configured.
    pub oidc: Option<Oidc>,
}

/// `web.oidc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Oidc {
    /// The provider's issuer URL, without a trailing slash.
    pub issuer: String,
    /// Docket's client id at the provider.
    pub client_id: String,
    /// Docket's client secret at the provider.
    pub client_secret: Secret,
    /// The scopes asked for (default `openid`, `email`, `profile`).
    pub scopes: Vec<String>,
}

/// `server`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// Address and port to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// The address people reach Docket at, for links in chat messages.
    pub public_url: Option<String>,
    /// Open connections at most (default: what the process's open-file limit leaves room for).
    pub max_connections: Option<usize>,
}

/// `storage`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storage {
    /// `sqlite://…` (default `sqlite://./docket.db`) or `postgres://…`.
    pub url: Secret,
}

/// `slack`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slack {
    /// Verifies that requests come from Slack.
    pub signing_secret: Secret,
    /// `xoxb-…`: posts and edits messages.
    pub bot_token: Secret,
    /// `xapp-…`: Socket Mode instead of inbound HTTP, when given.
    pub app_token: Option<Secret>,
    /// Slack's Web API (default `https://slack.com/api`; GovSlack or a fake in tests).
    pub api_url: String,
    /// The slash command (default `/docket`).
    pub command: String,
    /// Where approval requests go when a policy does not say.
    pub approvals_channel: Option<String>,
}

/// `teams`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Teams {
    /// The bot's Microsoft app id.
    pub app_id: String,
    /// The bot's client secret.
    pub app_password: Secret,
    /// The Entra tenant, for single-tenant bots.
    pub tenant_id: Option<String>,
    /// Where Bot Framework's signing keys are published.
    pub openid_metadata_url: String,
    /// Where the bot gets its tokens; `{tenant_id}` is replaced by the tenant id.
    pub token_url: String,
    /// The issuer inbound tokens must carry (default `https://api.botframework.com`; another
    /// for sovereign clouds or a fake in tests).
    pub issuer: String,
    /// Where approval requests go when a policy does not say.
    pub approvals_channel: Option<String>,
}
