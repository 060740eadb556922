//! The one door into Docket. Every surface — REST, CLI, Slack, Teams, MCP — turns a user's
//! action into a call on [`App`] with a resolved [`docket_core::Actor`]; the app decides it
//! with core's rules and commits it through the [`Store`] in one transaction.
//!
//! - [`ports`]: what the app needs from outside ([`Store`], [`StepRunner`], [`Notifier`],
//!   [`Clock`], [`Processes`]), each with its contract.
//! - [`outbound`]: retries, `Retry-After`, rate limits, caches and signing keys for every
//!   client that calls another service.
//! - the engine (private): planning, workers with leases, the expiry scheduler, the outbox
//!   dispatcher and the live event hub.

pub mod outbound;
pub mod ports;

pub use ports::clock::{Clock, ManualClock, SystemClock};
pub use ports::notifier::{Notifier, NotifyError, Relay, RelayKind};
pub use ports::processes::{
    GroupEnd, ProcessId, ProcessLedger, ProcessStore, Processes, ServerProcess, StepGroup, StepProcess,
};
pub use ports::reloader::{ReloadRefused, Reloaded, Reloader};
pub use ports::results::{ResultStore, StoredResult};
pub use ports::runner::{Mode, StepJob, StepLog, StepRunner};
/// Every store port in scope at once (`use docket_app::store_prelude::*`), for code that calls
/// them on a `dyn Store`.
pub use ports::store::prelude as store_prelude;
pub use ports::store::{
    ApiToken, AuditStore, Change, Claim, Committed, Delivery, EndOfStep, HealthStore, LogLine, LogStore, LogStream,
    NewOutboxMessage, OutboxMessage, OutboxStore, QueueOp, Revocation, RunQueue, StateStore, Store, StoreError,
    StoreStats, StoredTicket, TicketFilter, TicketPage, TicketStore, TokenStore,
};
pub use ports::wakeup::{Wakeup, WakeupSink, Wakeups};

mod app;
mod engine;
mod error;
mod live;
mod settings;

pub use app::CHAT_ROWS;
pub use app::{
    App, AppParts, ApprovalNotice, ApprovalView, AuditReport, Happening, StageView, TOKEN_PREFIX, TicketAction,
    TicketSummary, Tone, plan_lines, raw_params,
};
pub use app::{Blocked, Earlier, MirrorChange, Reached, SessionChange, mirror_wants, unknown_account_reason};
pub use app::{ChangeLine, ChangesBrief};
pub use app::{ChatCommand, ChatHelp, ChatMessage, ChatTickets, LIST_LIMIT, TicketList, chat_messages, earns_reply};
pub use app::{Credential, MadeToken, NewToken, TokenAuthority, TokenLifetime, TokenRefusal};
pub use app::{OnceKey, Pruned, ReloadOutcome, Requested, Understood, WordsMatch};
pub use engine::Engine;
pub use error::AppError;
pub use live::LiveEvent;
pub use settings::{RuleBook, Settings};
