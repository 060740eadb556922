//! Realistic tickets and events built from core types, and [`Tk`], which folds events into a
//! ticket and commits them the way the app does (one audit entry per event).

use docket_app::{Change, Committed, NewOutboxMessage, QueueOp, Store, StoreError};
use docket_core::audit::AuditEntry;
use docket_core::plan::{Digest, Plan, StepPlan};
use docket_core::policy::{Decision, Notify, Outcome, Requirement, Stage};
use docket_core::ticket::{Comment, Origin, Review, RunOutcome, StepOutcome, Verdict};
use docket_core::{Actor, Duration, Event, Params, PersonId, Principal, Ticket, TicketId, WorkflowId};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

/// Tuesday 2026-11-24, 09:00 UTC, with nanoseconds so exact round trips are tested.
pub(crate) fn t0() -> Timestamp {
    "2026-11-24T09:00:00.123456789Z".parse().unwrap()
}

/// `t0` plus `n` minutes.
pub(crate) fn at(n: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(n)
}

pub(crate) fn id(number: u64) -> TicketId {
    TicketId::new("DKT", number)
}

pub(crate) fn params() -> Params {
    serde_json::from_value(json!({"environment": "prod", "service": "api", "version": "1.4.2", "replicas": 3})).unwrap()
}

pub(crate) fn requested(number: u64, workflow: &str, requester: &str) -> Event {
    Event::Requested {
        id: id(number),
        workflow: WorkflowId::new(workflow),
        version: "9f2c".into(),
        params: params(),
        requester: PersonId::new(requester),
        requested_by: Actor::person(requester),
        origin: Origin {
            surface: "slack".into(),
            channel: Some("C0DEPLOYS".into()),
            thread: Some("1732438800.000100".into()),
            context: None,
        },
    }
}

pub(crate) fn digest() -> Digest {
    Digest::parse(&"ab".repeat(32)).unwrap()
}

pub(crate) fn planned() -> Event {
    let plan = Plan {
        steps: vec![
            StepPlan {
                name: "rollout".into(),
                kind: "exec".into(),
                summary: "kubectl --context prod set image app=1.4.2".into(),
                details: vec![docket_core::Detail::code("Command", "kubectl --context prod set image app=1.4.2")],
                action: json!({"argv": ["kubectl", "--context", "prod", "set", "image", "app=1.4.2"], "env": [], "cwd": null}),
                output: Some("deployment.apps/api image updated (dry run)".into()),
                facts: Default::default(),
            },
            StepPlan {
                name: "bake".into(),
                kind: "wait".into(),
                summary: "wait 2m".into(),
                details: Vec::new(),
                action: json!({"duration": "2m"}),
                output: None,
                facts: Default::default(),
            },
        ],
    };
    Event::Planned { plan, digest: digest() }
}

/// The policy asks SRE for one approval; nobody answering by `respond_by` expires the ticket.
pub(crate) fn needs_approval(respond_by: Timestamp) -> Event {
    let requirement = Requirement {
        stages: vec![Stage { name: "sre".into(), from: vec![Principal::parse("group:sre").unwrap()], count: 1 }],
        approval_ttl: Duration::parse("30m").unwrap(),
        request_ttl: Duration::parse("24h").unwrap(),
        notify: Notify { targets: [("slack".to_owned(), "C0APPROVALS".to_owned())].into() },
    };
    Event::Decided {
        decision: Decision {
            rule: Some("production".into()),
            outcome: Outcome::Approvals(requirement),
            explanation: "needs 1 approval from sre because rule `production` matched".into(),
        },
        respond_by: Some(respond_by),
    }
}

pub(crate) fn review(person: &str, verdict: Verdict, when: Timestamp) -> Event {
    let approve = verdict == Verdict::Approve;
    Event::Reviewed(Review {
        person: PersonId::new(person),
        stage: approve.then(|| "sre".to_owned()),
        verdict,
        round: 1,
        digest: Some(digest()),
        comment: (!approve).then(|| "not during the incident".to_owned()),
        at: when,
        expires_at: approve.then(|| when + SignedDuration::from_mins(30)),
        via: None,
    })
}

pub(crate) fn comment(person: &str, text: &str, when: Timestamp) -> Event {
    Event::Commented(Comment { author: Actor::person(person), text: text.into(), at: when })
}

pub(crate) fn step_failed(index: usize, exit_code: i32) -> Event {
    Event::StepFinished {
        index,
        outcome: StepOutcome::Failed { exit_code: Some(exit_code), message: "exit 2".into() },
        output: None,
    }
}

pub(crate) fn run_failed(step: usize) -> Event {
    Event::RunFinished { outcome: RunOutcome::Failed { step, message: "step 1 failed".into() } }
}

/// The audit entry the app writes for `event`.
pub(crate) fn entry_for(ticket: &TicketId, event: &Event, when: Timestamp) -> AuditEntry {
    AuditEntry {
        at: when,
        actor: "alice".into(),
        action: event.action().into(),
        ticket: Some(ticket.to_string()),
        details: json!({"event": event, "ratio": 0.1, "big": u64::MAX, "neg": -7, "text": "grüße ✓ \"quoted\""}),
    }
}

/// An audit entry that belongs to no ticket change.
pub(crate) fn loose_entry(action: &str, when: Timestamp) -> AuditEntry {
    AuditEntry {
        at: when,
        actor: "slack:U0STRANGER".into(),
        action: action.into(),
        ticket: None,
        details: json!({"reason": "bad signature", "attempt": 1.5e-7, "nested": {"z": [1, 2.25, null, true], "a": {}}}),
    }
}

/// A notification for `ticket`.
pub(crate) fn note(notifier: &str, ticket: &TicketId, key: &str) -> NewOutboxMessage {
    NewOutboxMessage {
        notifier: notifier.into(),
        ticket: ticket.clone(),
        key: key.into(),
        payload: json!({"actions": ["ticket.requested"], "n": 1}),
    }
}

/// A ticket as a test drives it: the folded ticket and its stored version.
#[derive(Clone, Debug)]
pub(crate) struct Tk {
    pub(crate) ticket: Ticket,
    pub(crate) version: u64,
}

impl Tk {
    /// The change that opens ticket `number` with `events` after its request (not committed).
    pub(crate) fn opening(number: u64, workflow: &str, requester: &str, events: Vec<Event>, when: Timestamp) -> Change {
        let first = requested(number, workflow, requester);
        let mut ticket = Ticket::from_request(&first, when).unwrap();
        let mut all = vec![first];
        for e in events {
            ticket.apply(&e, when);
            all.push(e);
        }
        let audit = all.iter().map(|e| entry_for(&ticket.id, e, when)).collect();
        Change { ticket, expected_version: 0, at: when, events: all, audit, outbox: Vec::new(), queue: QueueOp::None }
    }

    /// Opens ticket `number`: requested, planning, planned.
    pub(crate) async fn open(store: &dyn Store, number: u64, workflow: &str, requester: &str) -> Tk {
        let change =
            Self::opening(number, workflow, requester, vec![Event::PlanningStarted { round: 1 }, planned()], t0());
        Self::open_with(store, change).await
    }

    /// Commits an opening change.
    pub(crate) async fn open_with(store: &dyn Store, change: Change) -> Tk {
        let ticket = change.ticket.clone();
        let committed = store.commit(change).await.unwrap();
        Tk { ticket, version: committed.version }
    }

    /// The change that applies `events` at `when` (not committed).
    pub(crate) fn change(&self, events: Vec<Event>, when: Timestamp) -> Change {
        let mut ticket = self.ticket.clone();
        for e in &events {
            ticket.apply(e, when);
        }
        let audit = events.iter().map(|e| entry_for(&ticket.id, e, when)).collect();
        Change {
            ticket,
            expected_version: self.version,
            at: when,
            events,
            audit,
            outbox: Vec::new(),
            queue: QueueOp::None,
        }
    }

    /// Commits `change` and, if it was accepted, takes on its ticket and version.
    pub(crate) async fn commit_change(&mut self, store: &dyn Store, change: Change) -> Result<Committed, StoreError> {
        let ticket = change.ticket.clone();
        let committed = store.commit(change).await?;
        self.ticket = ticket;
        self.version = committed.version;
        Ok(committed)
    }

    /// Applies and commits `events` at `when`.
    pub(crate) async fn commit(&mut self, store: &dyn Store, events: Vec<Event>, when: Timestamp) -> Committed {
        let change = self.change(events, when);
        self.commit_change(store, change).await.unwrap()
    }

    /// Applies and commits `events` with a queue operation.
    pub(crate) async fn commit_queue(
        &mut self,
        store: &dyn Store,
        events: Vec<Event>,
        when: Timestamp,
        queue: QueueOp,
    ) {
        let mut change = self.change(events, when);
        change.queue = queue;
        self.commit_change(store, change).await.unwrap();
    }

    pub(crate) fn id(&self) -> &TicketId {
        &self.ticket.id
    }
}
