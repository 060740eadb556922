//! What the composition root tells the app: the rules (catalog, policies, directory) and the
//! engine's knobs, with defaults that suit one small server.

use std::collections::BTreeMap;
use std::time::Duration;

use docket_core::redact::Redactor;
use docket_core::{Catalog, Directory, PolicySet};
use jiff::tz::TimeZone;

/// The rules every command is decided by, as loaded from the configuration.
#[derive(Debug)]
pub struct RuleBook {
    /// Workflows.
    pub catalog: Catalog,
    /// Policy rules.
    pub policies: PolicySet,
    /// People, groups, rotations.
    pub directory: Directory,
    /// The zone policies read `now` in.
    pub zone: TimeZone,
    /// Secrets to keep out of logs, audit records and messages.
    pub redactor: Redactor,
    /// Ticket id prefix (`DKT`).
    pub ticket_prefix: String,
}

/// Engine knobs. `Settings::default()` is what `docket serve` uses unless told otherwise.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Concurrent runs in this process (tasks, not threads: most of a run is waiting).
    pub workers: usize,
    /// How long a claimed run is held without a heartbeat.
    pub lease: Duration,
    /// How often a running worker renews its lease.
    pub heartbeat: Duration,
    /// How often idle workers, the scheduler and the dispatcher look for work they were not
    /// told about (expired leases, deadlines, retries that came due).
    pub poll: Duration,
    /// Whether this process is the only one using the store (SQLite): on start-up it ends
    /// every lease at once, so runs cut short by a crash resume immediately.
    pub exclusive: bool,
    /// Timeout for steps that name none.
    pub default_step_timeout: Duration,
    /// Timeout for a step's `plan` dry run that names none.
    pub default_plan_timeout: Duration,
    /// Output kept per step; beyond it a notice is logged and the rest dropped.
    pub output_cap_bytes: usize,
    /// Dry-run output kept in a plan.
    pub plan_output_cap_bytes: usize,
    /// Variables every step gets besides its own `env` (at least `PATH`).
    pub base_env: BTreeMap<String, String>,
    /// Delivery attempts before the outbox gives up on a message.
    pub outbox_max_attempts: u32,
    /// Delivery attempts before the outbox gives up on a message to a ticketing system's mirror
    /// (Jira, ServiceNow): the organisation's record of the change waits out a long outage (with
    /// the 5-minute longest delay, about a day).
    pub outbox_mirror_max_attempts: u32,
    /// First retry delay; doubled each attempt up to `outbox_max_backoff`.
    pub outbox_backoff: Duration,
    /// Longest retry delay.
    pub outbox_max_backoff: Duration,
    /// Live event buffer per subscriber.
    pub live_capacity: usize,
    /// Where people reach this Docket (`server.public_url`, no trailing slash); chat messages
    /// link to its pages.
    pub public_url: Option<String>,
    /// How long a new API token lives unless its maker says otherwise (`tokens.expires`);
    /// `None`: tokens do not expire unless asked to.
    pub token_lifetime: Option<Duration>,
}

impl Settings {
    /// The knobs for a store shared by replicas (`shared`): what another replica commits
    /// arrives as a wake-up, so polling is only the fallback for a broken listening connection
    /// and for leases that lapse, every 2 s.
    #[must_use]
    pub fn sharing(self, shared: bool) -> Self {
        if !shared {
            return self;
        }
        Self { poll: Duration::from_secs(2), exclusive: false, ..self }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            workers: 16,
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(5),
            poll: Duration::from_millis(500),
            exclusive: true,
            default_step_timeout: Duration::from_secs(3600),
            default_plan_timeout: Duration::from_secs(300),
            output_cap_bytes: 1024 * 1024,
            plan_output_cap_bytes: 64 * 1024,
            base_env: BTreeMap::from([("PATH".to_owned(), "/usr/local/bin:/usr/bin:/bin".to_owned())]),
            outbox_max_attempts: 12,
            outbox_mirror_max_attempts: 300,
            outbox_backoff: Duration::from_secs(1),
            outbox_max_backoff: Duration::from_secs(300),
            live_capacity: 4096,
            public_url: None,
            token_lifetime: Some(Duration::from_secs(90 * 24 * 3600)),
        }
    }
}
