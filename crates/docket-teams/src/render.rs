//! Cards for a ticket as it is now: the ticket card, and the approval cards for one stage and
//! one viewer. This is where the app's views (summary, approval stages, the actions core
//! would accept) meet the card layouts.

use docket_app::{App, AppError, ApprovalView, TicketAction, TicketSummary, Tone};
use docket_core::{Actor, PersonId, Ticket, TicketState};
use serde_json::Value;

use crate::cards;
use crate::cards::approval::{ApprovalCard, MAX_REFRESH_USERS};
use crate::conversations::Conversations;

/// The ticket card as the ticket is now (the key events of a change go in replies).
pub(crate) fn ticket_card(app: &App, ticket: &Ticket) -> Value {
    cards::ticket::ticket_card(&app.summarize(ticket), &[])
}

/// What every approval card of one ticket shares — its summary, where its stages stand, and
/// whose clients refresh the current stage's copies — worked out once, however many copies
/// are drawn from it.
pub(crate) struct ApprovalCards<'a> {
    app: &'a App,
    ticket: &'a Ticket,
    summary: TicketSummary,
    view: ApprovalView,
    /// The `29:` ids of the current stage's approvers the bot knows.
    refresh_users: Vec<String>,
}

impl<'a> ApprovalCards<'a> {
    /// The shared parts of `ticket`'s approval cards.
    pub(crate) async fn new(app: &'a App, ticket: &'a Ticket) -> Result<Self, AppError> {
        let view = app.approval_view(ticket).unwrap_or_else(|| ApprovalView {
            rule: None,
            explanation: String::new(),
            stages: Vec::new(),
            respond_by: None,
        });
        let mut refresh_users = Vec::new();
        if let Some(current) = view.stages.iter().find(|s| s.current) {
            let conversations = Conversations::new(app.clone());
            for person in &current.eligible {
                if refresh_users.len() >= MAX_REFRESH_USERS {
                    break;
                }
                if let Some(reference) = conversations.person(person).await? {
                    refresh_users.push(reference.user_id);
                }
            }
        }
        Ok(Self { app, ticket, summary: app.summarize(ticket), view, refresh_users })
    }

    /// Where each stage stands, as the approval view says.
    pub(crate) fn view(&self) -> &ApprovalView {
        &self.view
    }

    /// The card for `stage` of `round`, as `viewer` may see it (no buttons for `None`).
    pub(crate) fn card(&self, round: u32, stage: &str, viewer: Option<&Actor>, notice: Option<String>) -> Value {
        let (app, ticket, summary) = (self.app, self.ticket, &self.summary);
        let live = ticket.round == round && ticket.state == TicketState::AwaitingApproval;
        let this = self.view.stages.iter().find(|s| s.name == stage);
        let status = match (this, app.approval_outcome(ticket, round)) {
            _ if ticket.round != round => {
                ("Superseded: the ticket was planned again, and approvals are asked afresh".to_owned(), Tone::Neutral)
            }
            // The round is over: how it ended, in the words every chat uses.
            (_, Some(outcome)) => (outcome, summary.tone),
            (Some(s), None) if s.satisfied => {
                (format!("Stage {stage} approved by {}", self.names(&s.approved_by)), Tone::Good)
            }
            (Some(s), None) if live && s.current => (
                format!(
                    "Waiting for {} for stage {stage}",
                    docket_core::text::count(
                        s.needed.saturating_sub(s.approved_by.len() as u32),
                        "approval",
                        "approvals"
                    )
                ),
                Tone::Waiting,
            ),
            (Some(_), None) if live => (format!("Stage {stage} waits for an earlier stage"), Tone::Waiting),
            _ => (summary.headline.clone(), summary.tone),
        };
        let stages = self
            .view
            .stages
            .iter()
            .map(|s| {
                let from = s.from.join(", ");
                let state = if s.satisfied {
                    format!("approved by {}", self.names(&s.approved_by))
                } else if s.current {
                    let on_call =
                        s.on_call.as_ref().map(|p| format!("on call: {}; ", app.person_name(p))).unwrap_or_default();
                    format!("waiting — {on_call}may approve: {}", self.names(&s.eligible))
                } else {
                    "not asked yet".to_owned()
                };
                format!("Stage {} ({} from {from}): {state}", s.name, s.needed)
            })
            .collect();
        let current = live && this.is_some_and(|s| s.current);
        let actions = match viewer {
            Some(viewer) if live => app
                .actions_for(ticket, viewer)
                .into_iter()
                .filter(|a| match a {
                    TicketAction::Approve => current,
                    TicketAction::Reject | TicketAction::RequestChanges => true,
                    _ => false,
                })
                .collect(),
            _ => Vec::new(),
        };
        let card = ApprovalCard {
            summary,
            rule: self.view.rule.as_deref(),
            explanation: &self.view.explanation,
            stage,
            round,
            status,
            stages,
            actions,
            notice,
            refresh_users: if current { self.refresh_users.clone() } else { Vec::new() },
        };
        cards::approval::approval_card(&card)
    }

    fn names(&self, ids: &[PersonId]) -> String {
        ids.iter().map(|p| self.app.person_name(p)).collect::<Vec<_>>().join(", ")
    }
}
