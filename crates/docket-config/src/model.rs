//! The typed sections of `docket.yaml` that are settings rather than rules: server, storage,
//! catalog folder, time zone and ticket prefix; the plug-ins' sections as they read them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::plugin::Sections;

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
    /// `tokens`.
    pub tokens: TokenSettings,
    /// `run_as`: the user every workflow's steps run as unless the workflow says.
    pub run_as: Option<String>,
    /// Each top-level key's fingerprint: what a reload compares to name what changed.
    pub fingerprints: std::collections::BTreeMap<String, String>,
    /// A SHA-256 of the file as written (before `${VAR}`s are read, so no secret is in it),
    /// whatever its layout or comments.
    pub digest: String,
    /// The plug-ins' sections that were written (Slack, Teams, the web UI, databases), each as
    /// its plug-in's own type.
    pub sections: Sections,
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

/// `tokens`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenSettings {
    /// How long a new API token lives unless its maker says otherwise; `None`: it never expires.
    pub expires: Option<docket_core::Duration>,
}

impl Default for TokenSettings {
    /// Ninety days.
    fn default() -> Self {
        Self { expires: docket_core::Duration::parse("90d").ok() }
    }
}
