//! Cards for a ticket as it is now: the ticket card, and an approval card for one stage and
//! one viewer. This is where the app's views (summary, approval stages, the actions core
//! would accept) meet the card layouts.

use docket_app::{App, AppError, ApprovalView, TicketAction, Tone};
use docket_core::{Actor, Ticket, TicketState};
use serde_json::Value;

use crate::cards;
use crate::cards::approval::{ApprovalCard, MAX_REFRESH_USERS};
use crate::conversations::Conversations;

/// The ticket card as the ticket is now (the key events of a change go in replies).
pub(crate) fn ticket_card(app: &App, ticket: &Ticket) -> Value {
    cards::ticket::ticket_card(&app.summarize(ticket), &[])
}

/// The approval card for `stage` of `round`, as `viewer` may see it (no buttons for `None`).
pub(crate) async fn approval_card(
    app: &App,
    ticket: &Ticket,
    round: u32,
    stage: &str,
    viewer: Option<&Actor>,
    notice: Option<String>,
) -> Result<Value, AppError> {
    let summary = app.summarize(ticket);
    let view = app.approval_view(ticket).unwrap_or_else(|| ApprovalView {
        rule: None,
        explanation: String::new(),
        stages: Vec::new(),
        respond_by: None,
    });
    let live = ticket.round == round && ticket.state == TicketState::AwaitingApproval;
    let this = view.stages.iter().find(|s| s.name == stage);
    let names = |ids: &[docket_core::PersonId]| ids.iter().map(|p| app.person_name(p)).collect::<Vec<_>>().join(", ");
    let status = match this {
        _ if ticket.round != round => {
            ("Superseded: the ticket was planned again, and approvals are asked afresh".to_owned(), Tone::Neutral)
        }
        Some(s) if s.satisfied && ticket.round == round => {
            (format!("Stage {stage} approved by {}", names(&s.approved_by)), Tone::Good)
        }
        Some(s) if live && s.current => (
            format!(
                "Waiting for {} approval(s) for stage {stage}",
                s.needed.saturating_sub(s.approved_by.len() as u32)
            ),
            Tone::Waiting,
        ),
        Some(_) if live => (format!("Stage {stage} waits for an earlier stage"), Tone::Waiting),
        _ => (summary.headline.clone(), summary.tone),
    };
    let stages = view
        .stages
        .iter()
        .map(|s| {
            let from = s.from.join(", ");
            let state = if s.satisfied {
                format!("approved by {}", names(&s.approved_by))
            } else if s.current {
                let on_call =
                    s.on_call.as_ref().map(|p| format!("on call: {}; ", app.person_name(p))).unwrap_or_default();
                format!("waiting — {on_call}may approve: {}", names(&s.eligible))
            } else {
                "not asked yet".to_owned()
            };
            format!("Stage {} ({} from {from}): {state}", s.name, s.needed)
        })
        .collect();
    let mut actions = Vec::new();
    if live && let Some(viewer) = viewer {
        let current = this.is_some_and(|s| s.current);
        actions = app
            .actions_for(ticket, viewer)
            .into_iter()
            .filter(|a| match a {
                TicketAction::Approve => current,
                TicketAction::Reject | TicketAction::RequestChanges => true,
                _ => false,
            })
            .collect();
    }
    let mut refresh_users = Vec::new();
    if live && let Some(s) = this.filter(|s| s.current) {
        let conversations = Conversations::new(app.clone());
        for person in &s.eligible {
            if refresh_users.len() >= MAX_REFRESH_USERS {
                break;
            }
            if let Some(reference) = conversations.person(person).await? {
                refresh_users.push(reference.user_id);
            }
        }
    }
    let card = ApprovalCard {
        summary: &summary,
        rule: view.rule.as_deref(),
        explanation: &view.explanation,
        stage,
        round,
        status,
        stages,
        actions,
        notice,
        refresh_users,
    };
    Ok(cards::approval::approval_card(&card))
}
