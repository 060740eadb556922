//! The [`App`] façade: one method per thing a person or the engine can do, each deciding with
//! core's rules and committing through the store. Surfaces hold an `App` (cheap to clone).

mod audit;
mod background;
mod chat;
mod commands;
mod commit;
mod following;
mod keyed;
mod mirror;
mod mirror_sync;
mod queries;
mod rejections;
mod relay;
mod reload;
mod sessions;
mod state;
mod summary;
mod tokens;
mod views;
mod words;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use docket_core::ticket::Rules;
use docket_core::{TicketId, Workflow, WorkflowId};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

pub use audit::AuditReport;
pub use chat::{
    ApprovalNotice, CHAT_ROWS, ChangeLine, ChangesBrief, ChatCommand, ChatHelp, ChatMessage, ChatTickets, LIST_LIMIT,
    TicketList, chat_messages, earns_reply,
};
pub(crate) use commit::Applied;
pub(crate) use following::Following;
pub use keyed::{Earlier, OnceKey, Requested};
pub use mirror::{MirrorChange, unknown_account_reason};
pub use mirror_sync::mirror_wants;
pub use relay::{Blocked, Reached};
pub use reload::ReloadOutcome;
pub use sessions::SessionChange;
pub use state::Pruned;
pub use summary::{Happening, TicketSummary, Tone, plan_lines};
pub use tokens::{Credential, MadeToken, NewToken, TOKEN_PREFIX, TokenAuthority, TokenLifetime, TokenRefusal};
pub use views::{ApprovalView, StageView, TicketAction, raw_params};
pub use words::{Understood, WordsMatch};

use crate::live::{LiveEvent, LiveHub};
use crate::ports::clock::Clock;
use crate::ports::notifier::Notifier;
use crate::ports::processes::Processes;
use crate::ports::reloader::Reloader;
use crate::ports::runner::StepRunner;
use crate::ports::store::Store;
use crate::settings::{RuleBook, Settings};

/// Everything the app is made of; the composition root fills it in.
pub struct AppParts {
    /// The rules.
    pub rules: RuleBook,
    /// Engine knobs.
    pub settings: Settings,
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// One runner per step kind.
    pub runners: Vec<Arc<dyn StepRunner>>,
    /// Where notifications go.
    pub notifiers: Vec<Arc<dyn Notifier>>,
    /// Where `now` comes from.
    pub clock: Arc<dyn Clock>,
    /// This host's step processes: recorded while they run, and ended on start-up when the
    /// server that started them is gone. `None` for an app that runs no steps.
    pub processes: Option<Arc<dyn Processes>>,
    /// Reads the configuration again for a reload (`SIGHUP`, `docket reload`). `None`: this
    /// app cannot reload.
    pub reloader: Option<Arc<dyn Reloader>>,
    /// When the configuration in `rules` was read: a reload another replica took after that
    /// is caught up (see `app/following.rs`). `None`: when the app is assembled.
    pub config_read: Option<jiff::Timestamp>,
}

impl std::fmt::Debug for AppParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppParts").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// The one door into Docket. Clones share everything.
#[derive(Clone)]
pub struct App {
    pub(crate) inner: Arc<Inner>,
    /// The API token this handle acts through (`App::with_token`), named in the audit.
    pub(crate) credential: Option<Arc<str>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("workflows", &self.rules().catalog.len()).finish_non_exhaustive()
    }
}

/// One runner per step kind, by kind.
pub(crate) type Runners = HashMap<&'static str, Arc<dyn StepRunner>>;

pub(crate) struct Inner {
    /// The rules in force: a reload swaps them whole, so a command decides by one version.
    /// A std lock: held to clone the `Arc`, never across an await.
    pub(crate) rules: RwLock<Arc<RuleBook>>,
    pub(crate) settings: Settings,
    pub(crate) store: Arc<dyn Store>,
    /// The runners in force, swapped with the rules (a step kind's settings may change).
    pub(crate) runners: RwLock<Arc<Runners>>,
    /// Workflow versions replaced by a reload, by id and version: tickets pinned to one keep it.
    pub(crate) pinned: Mutex<HashMap<(WorkflowId, String), Arc<Workflow>>>,
    pub(crate) reloader: Option<Arc<dyn Reloader>>,
    /// Held through a reload, so two never interleave.
    pub(crate) reloading: tokio::sync::Mutex<()>,
    /// When the configuration this replica runs was put in force: its start, or its last
    /// reload (see `following`).
    pub(crate) config_since: Mutex<jiff::Timestamp>,
    /// The last refusal to follow another replica's reload, so catching up the same one again
    /// with the same outcome records nothing new.
    pub(crate) caught_up: Mutex<Option<serde_json::Value>>,
    pub(crate) notifiers: Vec<Arc<dyn Notifier>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) processes: Option<Arc<dyn Processes>>,
    pub(crate) live: LiveHub,
    /// Wakes a worker: something was queued or a concurrency key freed up.
    pub(crate) work: Notify,
    /// The idle workers' watch for work nobody was told about.
    pub(crate) watch: crate::engine::Watch,
    /// Wakes the outbox dispatcher: something was committed with outbox rows.
    pub(crate) outbox: Notify,
    /// Runs in progress in this process, to cancel them. A std mutex: held for a map lookup,
    /// never across an await.
    pub(crate) running: Mutex<HashMap<TicketId, CancellationToken>>,
    /// This process's name on leases.
    pub(crate) holder: String,
    /// Failed authentications of the current minute, gathered so repeats are one record. A
    /// std mutex: held to count, never across an await.
    pub(crate) rejections: Mutex<rejections::Rejections>,
    /// Work begun after an answer, which a clean stop waits for (see `background`).
    pub(crate) after_answer: tokio_util::task::TaskTracker,
}

impl App {
    /// Assembles an app. Nothing runs until [`App::start`].
    pub fn new(parts: AppParts) -> Self {
        let runners = parts.runners.into_iter().map(|r| (r.kind(), r)).collect();
        let mut nonce = [0u8; 4];
        // A holder name only needs to differ between processes; a failed read leaves zeros.
        let _ = getrandom::fill(&mut nonce);
        let holder = format!("docket-{}-{}", std::process::id(), hex::encode(nonce));
        let live = LiveHub::new(parts.settings.live_capacity);
        Self {
            inner: Arc::new(Inner {
                rules: RwLock::new(Arc::new(parts.rules)),
                settings: parts.settings,
                store: parts.store,
                runners: RwLock::new(Arc::new(runners)),
                pinned: Mutex::new(HashMap::new()),
                reloader: parts.reloader,
                reloading: tokio::sync::Mutex::new(()),
                config_since: Mutex::new(parts.config_read.unwrap_or_else(|| parts.clock.now())),
                caught_up: Mutex::new(None),
                notifiers: parts.notifiers,
                clock: parts.clock,
                processes: parts.processes,
                live,
                work: Notify::new(),
                watch: crate::engine::Watch::default(),
                outbox: Notify::new(),
                running: Mutex::new(HashMap::new()),
                holder,
                rejections: Mutex::new(rejections::Rejections::default()),
                after_answer: tokio_util::task::TaskTracker::new(),
            }),
            credential: None,
        }
    }

    /// Every workflow in the catalog, by id.
    pub fn workflows(&self) -> Vec<Arc<Workflow>> {
        self.rules().catalog.iter().cloned().collect()
    }

    /// One workflow, as the catalog has it now.
    pub fn workflow(&self, id: &WorkflowId) -> Option<Arc<Workflow>> {
        self.rules().catalog.get(id).cloned()
    }

    /// The version of workflow `id` a ticket pinned (`version`): the catalog's when it is that
    /// one, else the one a reload replaced if this server had it, else the catalog's (which
    /// core then refuses to run or approve as a changed workflow).
    pub fn pinned_workflow(&self, id: &WorkflowId, version: &str) -> Option<Arc<Workflow>> {
        let current = self.workflow(id);
        if current.as_ref().is_some_and(|w| w.version == version) {
            return current;
        }
        let pinned = self.inner.pinned.lock().unwrap_or_else(PoisonError::into_inner);
        pinned.get(&(id.clone(), version.to_owned())).cloned().or(current)
    }

    /// The rules in force now (directory, policies, zone, ticket prefix). A reload replaces
    /// them; what this returns stays as it was, so use one for one decision.
    pub fn rules(&self) -> Arc<RuleBook> {
        Arc::clone(&self.inner.rules.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The step runners in force now.
    pub(crate) fn runners(&self) -> Arc<Runners> {
        Arc::clone(&self.inner.runners.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The engine knobs in force.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Live ticket changes and log lines, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.inner.live.subscribe()
    }

    /// The last thing a clean stop does, once no request is served and the engine has stopped:
    /// gives back the ticket numbers the store reserved and did not use, so the next start
    /// continues from the last ticket (DKT-5, then DKT-6; not DKT-37).
    pub async fn close(&self) -> Result<(), crate::AppError> {
        self.store().release_numbers().await?;
        Ok(())
    }

    /// The store, for the engine and for administrative commands.
    pub(crate) fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    pub(crate) fn now(&self) -> jiff::Timestamp {
        self.inner.clock.now()
    }
}

impl RuleBook {
    /// Core's view of these rules for `workflow`.
    pub(crate) fn for_workflow<'a>(&'a self, workflow: &'a Workflow) -> Rules<'a> {
        Rules { workflow, policies: &self.policies, directory: &self.directory, zone: &self.zone }
    }
}
