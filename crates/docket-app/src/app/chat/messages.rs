//! Which messages a change to a ticket causes in a chat — the same for every chat:
//!
//! - the **ticket message**, in the chat where the ticket was asked, edited as it changes;
//! - a **reply** under it with the key events of the change, when one of them
//!   [earns a reply](earns_reply): a review, the approval, a comment, a cancellation or expiry,
//!   a plan that failed, the run starting, a step failing, the run ending, an amendment or a
//!   retry. Steps that start or succeed do not: the ticket message and its live log show them,
//!   and a chat thread of a 40-step run would otherwise be 80 replies;
//! - the **approval requests** of the round: a stage opened (or a review landed on the stage
//!   being asked, so every copy shows where it stands), and the round closed — approved,
//!   rejected, sent back, cancelled, expired, or superseded by an amendment or a retry (then
//!   the previous round's copies close).

use docket_core::policy::Outcome;
use docket_core::ticket::{StepOutcome, Verdict};
use docket_core::{Event, Ticket};

use super::notices::ApprovalNotice;

/// One message a change needs in a chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatMessage {
    /// The ticket message where the ticket was asked.
    Ticket,
    /// A reply under the ticket message with the change's key events.
    Reply,
    /// An approval request of one round, opened or closed.
    Approval(ApprovalNotice),
}

impl ChatMessage {
    /// The outbox key (`ticket`, `reply`, `approvals:2:lead`, `approvals-done:2`).
    pub fn key(&self) -> String {
        match self {
            Self::Ticket => "ticket".to_owned(),
            Self::Reply => "reply".to_owned(),
            Self::Approval(notice) => notice.key(),
        }
    }

    /// Reads a key written by [`ChatMessage::key`] (and the older `thread` and `card`, which
    /// named the ticket message on Slack and Teams); `None` for any other key.
    pub fn parse(key: &str) -> Option<Self> {
        match key {
            "ticket" | "thread" | "card" => Some(Self::Ticket),
            "reply" => Some(Self::Reply),
            other => ApprovalNotice::parse(other).map(Self::Approval),
        }
    }
}

/// Whether `event` earns a reply under the ticket message.
pub fn earns_reply(event: &Event) -> bool {
    match event {
        Event::StepFinished { outcome, .. } => matches!(outcome, StepOutcome::Failed { .. }),
        Event::Reviewed(_)
        | Event::Approved { .. }
        | Event::Commented(_)
        | Event::Cancelled { .. }
        | Event::Expired { .. }
        | Event::PlanFailed { .. }
        | Event::RunStarted { .. }
        | Event::RunFinished { .. }
        | Event::Amended { .. }
        | Event::RetryRequested { .. } => true,
        Event::Requested { .. }
        | Event::PlanningStarted { .. }
        | Event::Planned { .. }
        | Event::Decided { .. }
        | Event::Queued
        | Event::StepStarted { .. }
        | Event::Linked(_) => false,
    }
}

/// The messages chat surface `surface` shows after `events` happened to `ticket`.
pub fn chat_messages(surface: &str, ticket: &Ticket, events: &[Event]) -> Vec<ChatMessage> {
    let mut out = Vec::new();
    if ticket.origin.surface == surface {
        out.push(ChatMessage::Ticket);
        if events.iter().any(earns_reply) {
            out.push(ChatMessage::Reply);
        }
    }
    let superseded = events.iter().any(|e| matches!(e, Event::Amended { .. } | Event::RetryRequested { .. }));
    if superseded && ticket.round > 1 {
        out.push(ChatMessage::Approval(ApprovalNotice::Closed { round: ticket.round - 1 }));
    }
    if let Some(opened) = ApprovalNotice::opened(ticket, events) {
        out.push(ChatMessage::Approval(opened));
    }
    let asked = ticket.decision.as_ref().is_some_and(|d| matches!(d.outcome, Outcome::Approvals(_)));
    let decided = events.iter().any(|e| match e {
        Event::Approved { .. } | Event::Cancelled { .. } | Event::Expired { .. } => true,
        Event::Reviewed(review) => review.verdict != Verdict::Approve,
        _ => false,
    });
    if decided && !superseded && asked {
        out.push(ChatMessage::Approval(ApprovalNotice::Closed { round: ticket.round }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_and_older_ticket_keys_are_the_ticket_message() {
        for message in [
            ChatMessage::Ticket,
            ChatMessage::Reply,
            ChatMessage::Approval(ApprovalNotice::Opened { round: 1, stage: "lead".into() }),
            ChatMessage::Approval(ApprovalNotice::Closed { round: 2 }),
        ] {
            assert_eq!(ChatMessage::parse(&message.key()), Some(message));
        }
        assert_eq!(ChatMessage::parse("thread"), Some(ChatMessage::Ticket));
        assert_eq!(ChatMessage::parse("card"), Some(ChatMessage::Ticket));
        assert_eq!(ChatMessage::parse("status"), None);
    }
}
