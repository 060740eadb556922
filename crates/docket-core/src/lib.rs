//! Docket's rules as values. Every surface — Slack, Teams, the web, the REST API, MCP — calls
//! these same functions, so a request is validated, a policy decided and a self-approval
//! refused the same way everywhere.
//!
//! This crate does no IO, spawns nothing, and never reads the clock: `now` is an argument.
//!
//! - [`catalog`]: workflows, typed parameters and their validation, `{{param}}` templates.
//! - [`directory`]: people, groups, on-call rotations; [`agent`]: AI agents acting for people.
//! - [`policy`]: CEL rules that deny, auto-approve, or ask for approval stages, and say why.
//! - [`ticket`]: the state machine from (ticket, command, actor, now) to events or a refusal.
//! - [`plan`]: plans and the digest approvals bind to.
//! - [`audit`]: the hash-chained audit records and their verifier.
//! - [`result`]: what a step leaves for people to read: a result table, rows a write changed.

pub mod actor;
pub mod agent;
pub mod audit;
pub mod canonical;
pub mod catalog;
pub mod checkpoint;
pub mod directory;
pub mod duration;
pub mod id;
pub mod output;
pub mod plan;
pub mod policy;
pub mod redact;
pub mod result;
pub mod text;
pub mod ticket;

pub use actor::Actor;
pub use agent::{Agent, TokenSubject};
pub use catalog::Catalog;
pub use catalog::action::{Action, ActionSpec, ActionView, Detail};
pub use catalog::json_template::JsonTemplate;
pub use catalog::param::{
    FieldError, ParamErrors, ParamKind, ParamSpec, ParamValue, Params, RawParams, validate_params,
};
pub use catalog::workflow::{Risk, Step, Workflow};
pub use directory::{Directory, Person, Principal, Rotation};
pub use duration::Duration;
pub use id::{GroupId, PersonId, RotationId, TicketId, WorkflowId};
pub use plan::{Digest, Plan, PlanFacts, StepPlan};
pub use policy::{Decision, PolicySet};
pub use result::StepResult;
pub use ticket::{Command, Event, NewTicket, Refusal, Rules, Ticket, TicketState};

#[cfg(test)]
mod tests {
    /// The app shares loaded rules across worker threads.
    #[test]
    fn rules_are_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<crate::PolicySet>();
        assert_send_sync::<crate::Catalog>();
        assert_send_sync::<crate::Directory>();
        assert_send_sync::<crate::Ticket>();
    }
}
