//! Deciding a command and committing its effects: core decides, then the ticket, its events,
//! their audit records, outbox rows and queue change go to the store in one transaction.
//! A concurrent change makes the commit fail as a whole; the command is then decided afresh on
//! the newer ticket.

use docket_core::audit::AuditEntry;
use docket_core::{Actor, Command, Event, Refusal, Ticket, TicketId, TicketState, ticket};
use jiff::Timestamp;

use super::App;
use crate::error::AppError;
use crate::live::LiveEvent;
use crate::ports::store::{Change, Delivery, EndOfStep, NewOutboxMessage, QueueOp, StoreError, StoredTicket};

/// How many times a command is decided again after losing a race.
const CONFLICT_RETRIES: usize = 8;

/// What a commit writes besides the command's own effects.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum Along<'a> {
    /// Nothing.
    #[default]
    Nothing,
    /// What is left of a step whose end the command records.
    EndOfStep(EndOfStep<'a>),
    /// The record of the delivery the command came by, which must be its first.
    Delivery(Delivery<'a>),
}

/// A committed command.
#[derive(Debug)]
pub(crate) struct Applied {
    pub(crate) ticket: Ticket,
    pub(crate) events: Vec<Event>,
    /// The ticket's version after the commit.
    pub(crate) version: u64,
}

impl Applied {
    /// The ticket as the store now has it, for a caller that goes on changing it.
    pub(crate) fn stored(&self) -> StoredTicket {
        StoredTicket { ticket: self.ticket.clone(), version: self.version }
    }
}

impl Applied {
    pub(crate) fn needs_planning(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::PlanningStarted { .. }))
    }
}

impl App {
    /// Decides `command` by `actor` on ticket `id` and commits it, retrying on a lost race.
    #[tracing::instrument(level = "info", name = "command", skip_all, fields(ticket = %id, actor = %actor))]
    pub(crate) async fn apply(&self, id: &TicketId, actor: &Actor, command: &Command) -> Result<Applied, AppError> {
        self.apply_all(id, actor, std::slice::from_ref(command)).await
    }

    /// Decides `commands` one after another on ticket `id` and commits all their events in one
    /// transaction (the engine starts a run and its first step together). If any is refused,
    /// nothing is committed.
    pub(crate) async fn apply_all(
        &self,
        id: &TicketId,
        actor: &Actor,
        commands: &[Command],
    ) -> Result<Applied, AppError> {
        self.apply_all_on(None, id, actor, commands, None).await
    }

    /// The same, deciding first on `known` (the ticket as this caller last committed it, which
    /// saves reading it again); after a lost race, on the ticket read afresh. `end`: what is
    /// left of a step whose end the commands record, written with them.
    pub(crate) async fn apply_all_on(
        &self,
        mut known: Option<StoredTicket>,
        id: &TicketId,
        actor: &Actor,
        commands: &[Command],
        end: Option<EndOfStep<'_>>,
    ) -> Result<Applied, AppError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let stored = match known.take() {
                Some(stored) => stored,
                None => self.load(id).await?,
            };
            let now = self.now();
            // Amending and retrying take the catalog's version (core re-pins it); anything else
            // decides by the version the ticket pinned.
            let repins = commands.iter().any(|c| matches!(c, Command::Amend { .. } | Command::Retry));
            let workflow = if repins {
                self.workflow(&stored.ticket.workflow)
            } else {
                self.pinned_workflow(&stored.ticket.workflow, &stored.ticket.version)
            };
            let workflow = workflow.ok_or_else(|| {
                AppError::NotFound(format!("workflow `{}` (removed from the catalog)", stored.ticket.workflow))
            })?;
            let book = self.rules();
            let rules = book.for_workflow(&workflow);
            let mut scratch = stored.ticket.clone();
            let mut events = Vec::new();
            for command in commands {
                match ticket::decide(&scratch, command, actor, &rules, now) {
                    Ok(more) => {
                        for event in &more {
                            scratch.apply(event, now);
                        }
                        events.extend(more);
                    }
                    Err(refusal) => {
                        self.audit_refusal(Some(id), actor, command.name(), &refusal, now).await;
                        return Err(AppError::Refused(refusal));
                    }
                }
            }
            let along = end.map_or(Along::Nothing, Along::EndOfStep);
            match self.commit(Some(stored), events, actor, None, now, along).await {
                Err(AppError::Store(StoreError::Conflict(_))) if attempt < CONFLICT_RETRIES => continue,
                other => return other,
            }
        }
    }

    /// Commits `events` on top of `before` (or as a new ticket), with audit, outbox and queue,
    /// and what goes `along` with them. Events from index
    /// `docket_from` on are Docket's own (planning done in the same step as the request) and
    /// are audited as such.
    pub(crate) async fn commit(
        &self,
        before: Option<StoredTicket>,
        events: Vec<Event>,
        actor: &Actor,
        docket_from: Option<usize>,
        now: Timestamp,
        along: Along<'_>,
    ) -> Result<Applied, AppError> {
        let (mut ticket, expected_version, state_before) = match before {
            Some(stored) => {
                let state = stored.ticket.state;
                (stored.ticket, stored.version, Some(state))
            }
            None => {
                let first = events.first().and_then(|e| Ticket::from_request(e, now));
                let ticket = first.ok_or_else(|| AppError::Invalid("a new ticket starts with a request".into()))?;
                (ticket, 0, None)
            }
        };
        let skip = usize::from(state_before.is_none());
        for event in events.iter().skip(skip) {
            ticket.apply(event, now);
        }
        let queue = self.queue_op(&ticket, state_before, &events);
        let audit = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let by = if docket_from.is_some_and(|from| i >= from) { &Actor::System } else { actor };
                let mut entry = self.audit_entry(&ticket.id, by, e, now);
                if !matches!(by, Actor::System) {
                    entry.details = self.with_credential(entry.details);
                }
                entry
            })
            .collect();
        let version_after = expected_version + events.len() as u64;
        let outbox = self.outbox_for(&ticket, &events, actor, version_after);
        let has_outbox = !outbox.is_empty();
        let change =
            Change { ticket: ticket.clone(), expected_version, at: now, events: events.clone(), audit, outbox, queue };
        let queue = change.queue.clone();
        let committed = match along {
            Along::Nothing => self.store().commit(change).await?,
            Along::EndOfStep(end) => self.store().commit_end_of_step(change, end).await?,
            Along::Delivery(delivery) => self.store().commit_once(change, delivery).await?,
        };
        self.after_commit(&ticket, committed.version, &events, &queue, has_outbox, state_before);
        Ok(Applied { ticket, events, version: committed.version })
    }

    fn after_commit(
        &self,
        ticket: &Ticket,
        version: u64,
        events: &[Event],
        queue: &QueueOp,
        has_outbox: bool,
        state_before: Option<TicketState>,
    ) {
        let actions = events.iter().map(Event::action).collect();
        self.inner.live.publish(LiveEvent::Ticket {
            ticket: ticket.id.clone(),
            state: ticket.state,
            version,
            actions,
            // A copy of the ticket only for followers to show; none when nobody follows.
            committed: self.inner.live.has_subscribers().then(|| std::sync::Arc::new(ticket.clone())),
        });
        if *queue != QueueOp::None {
            self.inner.work.notify_one();
        }
        if has_outbox {
            self.inner.outbox.notify_one();
        }
        let cancelled = events.iter().any(|e| matches!(e, Event::Cancelled { .. }));
        if cancelled && state_before == Some(TicketState::Running) {
            let running = self.inner.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(token) = running.get(&ticket.id) {
                token.cancel();
            }
        }
        for event in events {
            metrics::counter!("docket_ticket_events_total", "action" => event.action()).increment(1);
        }
    }

    /// Where the ticket stands in the run queue after `events`.
    fn queue_op(&self, after: &Ticket, state_before: Option<TicketState>, events: &[Event]) -> QueueOp {
        for event in events {
            match event {
                Event::Queued => {
                    let concurrency_key = self
                        .pinned_workflow(&after.workflow, &after.version)
                        .and_then(|w| w.concurrency.as_ref().map(|t| format!("{}:{}", w.id, t.render(&after.params))));
                    return QueueOp::Enqueue { concurrency_key };
                }
                Event::RunFinished { .. } | Event::Expired { .. } => return QueueOp::Remove,
                // A running ticket keeps its place until its worker has stopped the process.
                Event::Cancelled { .. } if state_before != Some(TicketState::Running) => return QueueOp::Remove,
                _ => {}
            }
        }
        QueueOp::None
    }

    fn audit_entry(&self, id: &TicketId, actor: &Actor, event: &Event, at: Timestamp) -> AuditEntry {
        let mut details = serde_json::to_value(event).unwrap_or_default();
        if let Some(map) = details.as_object_mut() {
            // The action already says which event it is.
            map.remove("event");
        }
        self.rules().redactor.redact_json(&mut details);
        AuditEntry {
            at,
            actor: actor.to_string(),
            action: event.action().to_owned(),
            ticket: Some(id.to_string()),
            details,
        }
    }

    /// The notifications `events` cause. Each payload names the change: its audit actions,
    /// who acted, the state it left, and the ticket's version after it, so a notifier can read
    /// exactly these events back from the history (the last `events` of `version`).
    fn outbox_for(&self, ticket: &Ticket, events: &[Event], actor: &Actor, version: u64) -> Vec<NewOutboxMessage> {
        let actions: Vec<&str> = events.iter().map(Event::action).collect();
        let mut out = Vec::new();
        for notifier in &self.inner.notifiers {
            if notifier.mirrors() && !self.mirrored_to(ticket, notifier.name()) {
                continue;
            }
            for key in notifier.wants(ticket, events) {
                out.push(NewOutboxMessage {
                    notifier: notifier.name().to_owned(),
                    ticket: ticket.id.clone(),
                    key,
                    payload: serde_json::json!({
                        "actions": actions,
                        "state": ticket.state,
                        "by": actor.to_string(),
                        "version": version,
                        "events": events.len(),
                    }),
                });
            }
        }
        out
    }

    /// Whether `ticket` is mirrored to ticketing system `system`: to the systems both its
    /// workflow's `mirror` and the deciding policy rule's name, each naming every configured
    /// system when it says nothing (or is gone). While no rule has decided, a policy whose
    /// rules choose systems holds the ticket back from every system, so the record is made
    /// only where the decision allows.
    pub(crate) fn mirrored_to(&self, ticket: &Ticket, system: &str) -> bool {
        let rules = self.rules();
        let policies = &rules.policies;
        let by_workflow = self.pinned_workflow(&ticket.workflow, &ticket.version).is_none_or(|w| w.mirrors_to(system));
        let by_rule = match &ticket.decision {
            Some(decision) => decision
                .rule
                .as_deref()
                .and_then(|name| policies.rule(name))
                .and_then(|rule| rule.mirror.as_ref())
                .is_none_or(|systems| systems.iter().any(|s| s == system)),
            None => !policies.chooses_mirrors(),
        };
        by_workflow && by_rule
    }

    /// Records a refusal that says something about who is acting. Best effort: the refusal is
    /// returned to the caller either way, and a store failure here is logged.
    pub(crate) async fn audit_refusal(
        &self,
        ticket: Option<&TicketId>,
        actor: &Actor,
        command: &str,
        refusal: &Refusal,
        at: Timestamp,
    ) {
        metrics::counter!("docket_refusals_total", "code" => refusal.code()).increment(1);
        if !refusal.is_security_relevant() {
            return;
        }
        let entry = AuditEntry {
            at,
            actor: actor.to_string(),
            action: "ticket.refused".to_owned(),
            ticket: ticket.map(ToString::to_string),
            details: self.with_credential(serde_json::json!({
                "command": command,
                "code": refusal.code(),
                "reason": self.rules().redactor.redact(&refusal.to_string()),
            })),
        };
        if let Err(error) = self.store().append_audit(vec![entry]).await {
            tracing::error!(%error, "could not record a refused command in the audit log");
        }
    }

    pub(crate) async fn load(&self, id: &TicketId) -> Result<StoredTicket, AppError> {
        self.store().ticket(id).await?.ok_or_else(|| AppError::NotFound(format!("ticket {id}")))
    }
}
