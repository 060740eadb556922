//! How a round of approval requests ended, in words — what every chat's approval messages say
//! once the round is over: "Approved by Bob Ruiz, Carol Diaz", "Rejected by Bob Ruiz: not now",
//! "Cancelled: …", or that an amendment replaced the request.

use docket_core::ticket::Verdict;
use docket_core::{Ticket, TicketState};

use super::super::App;

impl App {
    /// How round `round` of `ticket`'s approval requests ended; `None` while it is still open.
    pub fn approval_outcome(&self, ticket: &Ticket, round: u32) -> Option<String> {
        if ticket.round != round {
            return Some("The parameters changed, so this request was replaced by a new one.".to_owned());
        }
        if ticket.state == TicketState::AwaitingApproval {
            return None;
        }
        let last = ticket.reviews.iter().rev().find(|r| r.round == round && r.verdict != Verdict::Approve);
        if let Some(review) =
            last.filter(|_| matches!(ticket.state, TicketState::Rejected | TicketState::ChangesRequested))
        {
            let who = self.person_name(&review.person);
            let what = if review.verdict == Verdict::Reject { "Rejected" } else { "Changes requested" };
            return Some(match &review.comment {
                Some(c) => format!("{what} by {who}: {c}"),
                None => format!("{what} by {who}"),
            });
        }
        let approvers: Vec<String> = ticket
            .reviews
            .iter()
            .filter(|r| r.round == round && r.verdict == Verdict::Approve)
            .map(|r| self.person_name(&r.person))
            .collect();
        let summary = self.summarize(ticket);
        Some(match (ticket.state, &summary.closing_reason) {
            (TicketState::Cancelled | TicketState::Expired | TicketState::Denied, Some(reason)) => {
                format!("{}: {reason}", summary.headline)
            }
            (TicketState::Cancelled | TicketState::Expired | TicketState::Denied, None) => summary.headline,
            _ if !approvers.is_empty() => format!("Approved by {}", approvers.join(", ")),
            _ => summary.headline,
        })
    }
}
