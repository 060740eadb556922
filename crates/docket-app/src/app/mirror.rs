//! What an external record (a Jira issue, a ServiceNow change request) says about a ticket, the
//! same for every ticketing integration: the notes a change adds, in the app's words, and the
//! state it leaves. Comments that came *from* a system are marked when they are imported, so
//! they are never sent back to it (no echo), while other systems still get them.

use docket_core::ticket::ExternalLink;
use docket_core::{Actor, Command, Digest, Event, PersonId, Refusal, Ticket, TicketId, TicketState};
use sha2::{Digest as _, Sha256};

use super::App;
use super::chat::earns_reply;
use super::state::Pruned;
use crate::error::AppError;
use crate::ports::store::OutboxMessage;

/// What one change means for an external record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorChange {
    /// The states the change passed through, ending with the one it left the ticket in (not
    /// the ticket as it is now: a late delivery still moves the record through every state in
    /// order). An approval passes through `approved` on its way to `queued`.
    pub states: Vec<TicketState>,
    /// The notes to add, in order (comments in Jira, work notes in ServiceNow).
    pub notes: Vec<String>,
    /// Whether the change started a new planning round (an amend or a retry): earlier
    /// approvals no longer count, and the record goes back to waiting for approval.
    pub replanned: bool,
}

impl App {
    /// The notes and the state the change that queued `message` brings to the record in
    /// `system`: every event that earns a chat reply, in the app's words, except comments that
    /// were imported from `system` itself; a run's end carries the link to its logs.
    pub async fn mirror(
        &self,
        system: &str,
        message: &OutboxMessage,
        ticket: &Ticket,
    ) -> Result<MirrorChange, AppError> {
        let payload = &message.message.payload;
        let version = payload.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        let count = payload.get("events").and_then(serde_json::Value::as_u64).unwrap_or(0);
        let state = payload.get("state").and_then(serde_json::Value::as_str).and_then(TicketState::parse);
        let history = self.store().events(&ticket.id).await?;
        let end = usize::try_from(version).unwrap_or(usize::MAX).min(history.len());
        let start = end.saturating_sub(usize::try_from(count).unwrap_or(0));
        let mut change = MirrorChange { states: Vec::new(), notes: Vec::new(), replanned: false };
        for (event, _) in history.get(start..end).unwrap_or_default() {
            if matches!(event, Event::PlanningStarted { round } if *round > 1) {
                change.replanned = true;
            }
            if matches!(event, Event::Approved { .. }) {
                change.states.push(TicketState::Approved);
            }
            if !earns_reply(event) {
                continue;
            }
            if let Event::Commented(comment) = event
                && let Some(person) = comment.author.person_id()
                && self.recall(system, &imported_key(&ticket.id, person, &comment.text)).await?.is_some()
            {
                continue;
            }
            let Some(happening) = self.happening(ticket, event).await? else { continue };
            let mut note = happening.text;
            if matches!(event, Event::RunFinished { .. })
                && let Some(url) = self.ticket_url(&ticket.id)
            {
                note.push_str(&format!(" — logs: {url}"));
            }
            change.notes.push(note);
        }
        if let Some(state) = state
            && change.states.last() != Some(&state)
        {
            change.states.push(state);
        }
        Ok(change)
    }

    /// Adds a comment `person` wrote in `system` (a Jira comment, a ServiceNow work note) to
    /// the ticket, at most once per `remote_id` (the system's own id of that comment), and
    /// marks it so it is not sent back to `system`. `Ok(None)` when it was imported before.
    pub async fn import_comment(
        &self,
        system: &str,
        ticket: &TicketId,
        remote_id: &str,
        person: &PersonId,
        text: &str,
    ) -> Result<Option<Ticket>, AppError> {
        if !self.remember_first(system, &format!("comment:{ticket}:{remote_id}"), "").await? {
            return Ok(None);
        }
        // Marked before the commit, so the delivery of the change it causes sees the mark.
        self.remember(system, &imported_key(ticket, person, text.trim()), remote_id).await?;
        let actor = docket_core::Actor::person(person.clone());
        Ok(Some(self.comment(&actor, ticket, text.to_owned()).await?))
    }
}

impl App {
    /// Records that the record in `system` was brought up to date with `ticket` as it is now,
    /// so an approval given there binds to the plan it showed (its digest).
    pub async fn note_synced(&self, system: &str, ticket: &Ticket) -> Result<(), AppError> {
        match ticket.digest {
            Some(digest) => self.remember(system, &synced_key(&ticket.id), &digest.to_string()).await,
            None => Ok(()),
        }
    }

    /// `person` approved the ticket in `system` (its record reached the approved status there).
    /// Decided by core like any approval: it counts only for a stage whose `from` names the
    /// system, never the requester's, on the digest the record last showed ([`App::note_synced`]);
    /// a plan changed since is refused as stale.
    pub async fn approve_in(
        &self,
        system: &str,
        person: &PersonId,
        id: &TicketId,
        comment: Option<String>,
    ) -> Result<Ticket, AppError> {
        let synced = self.recall(system, &synced_key(id)).await?.and_then(|d| Digest::parse(&d).ok());
        let digest = match synced {
            Some(digest) => digest,
            None => {
                let current = self.load(id).await?.ticket.digest;
                let refusal = match current {
                    Some(current) => Refusal::StaleDigest { current },
                    None => Refusal::WrongState { action: "approve", state: TicketState::Planning },
                };
                return Err(AppError::Refused(refusal));
            }
        };
        let command = Command::ApproveIn { system: system.to_owned(), digest, comment };
        Ok(self.apply(id, &Actor::person(person.clone()), &command).await?.ticket)
    }
}

impl App {
    /// `person` rejected the ticket in `system` (its record reached the rejected status there),
    /// saying `reason`. Decided by core as any rejection: by a known person other than the
    /// requester, while the ticket awaits approval, who is eligible for a stage — one naming
    /// the system, or by the stage's approvers; recorded with `via`, audited, shown in chat.
    pub async fn reject_in(
        &self,
        system: &str,
        person: &PersonId,
        id: &TicketId,
        reason: String,
    ) -> Result<Ticket, AppError> {
        let command = Command::RejectIn { system: system.to_owned(), reason };
        Ok(self.apply(id, &Actor::person(person.clone()), &command).await?.ticket)
    }

    /// Records on the ticket its record in `system` (`OPS-123`, and where to open it), so
    /// chats, the web page, the API and the CLI show it; nothing when it is recorded already.
    pub async fn link_external(&self, id: &TicketId, link: ExternalLink) -> Result<Ticket, AppError> {
        let ticket = self.load(id).await?.ticket;
        if ticket.links.contains(&link) {
            return Ok(ticket);
        }
        Ok(self.apply(id, &Actor::System, &Command::Link(link)).await?.ticket)
    }
}

impl App {
    /// Why a decision taken in `system` (named as its users know it: `Jira`) does not count, in
    /// words for that system, where anyone who can see the record may read them: who may
    /// approve a stage is not named, and secrets are masked as everywhere else.
    pub fn refusal_for(&self, system: &str, refusal: &Refusal) -> String {
        let words = match refusal {
            Refusal::NotEligible { stage, .. } => {
                format!("stage `{stage}` does not take this decision from you in {system}")
            }
            Refusal::StaleDigest { .. } => {
                format!("the plan changed since {system} showed it; the record shows the new plan now")
            }
            other => other.to_string(),
        };
        self.rules().redactor.redact(&words)
    }

    /// Takes the one answer to a decision taken in a ticketing system that does not count: once
    /// per ticket, decider (`by`: a person's id, or the system's account no one has) and reason
    /// (`code`: the refusal's, or `unknown` for an account no one has), however often the
    /// decision is taken again while `answers` keeps its record (a scope of the system's own,
    /// such as `jira.refused`, pruned by age). The record's key when the answer is this caller's
    /// to give, to mark it by; `None` when it was taken before.
    pub async fn answer_refusal_once(
        &self,
        answers: &Pruned,
        ticket: &TicketId,
        by: &str,
        code: &str,
    ) -> Result<Option<String>, AppError> {
        let key = format!("refused:{ticket}:{by}:{code}");
        let taken = self.remember_first(answers.scope(), &key, "").await?;
        if taken {
            answers.count(self);
        }
        Ok(taken.then_some(key))
    }

    /// Gives back an answer taken with [`App::answer_refusal_once`] (its record's `key`) that
    /// could not be given, so the same decision taken again is answered then.
    pub async fn refusal_not_answered(&self, answers: &Pruned, key: &str) -> Result<(), AppError> {
        self.store().state_forget(answers.scope(), key, "").await?;
        Ok(())
    }
}

/// Why a decision taken in a ticketing system by an account no person in the directory has
/// does not count, in words for that system: `account` is what the system calls it (`Jira
/// account`), `linked_by` the name and value a person's entry links it with (`("account id",
/// "5b10…")`), or `None` when a person can only be found by the account's email.
pub fn unknown_account_reason(account: &str, linked_by: Option<(&str, &str)>) -> String {
    let head = format!("no one in Docket's directory has this {account}");
    match linked_by {
        Some((name, value)) => format!("{head}; an admin can link it to a person ({name} {value})"),
        None => format!("{head}; an admin can add the person with its email"),
    }
}

fn synced_key(ticket: &TicketId) -> String {
    format!("synced:{ticket}")
}

/// The mark an imported comment leaves: its ticket, author and text, hashed.
fn imported_key(ticket: &TicketId, person: &PersonId, text: &str) -> String {
    let hash = Sha256::digest(format!("{person}\n{text}").as_bytes());
    format!("imported:{ticket}:{}", hex::encode(&hash[..16]))
}
