//! Card actions (`adaptiveCard/action` invokes): a candidate's form opened, the request form's
//! submission, Approve /
//! Reject / Request changes, and automatic refreshes. Each answers with the card that replaces
//! the one clicked — validated again on the server, decided by core, refusals shown on the card
//! in core's words. A button carries the ticket, its digest and the stage, never authority.

use docket_app::{App, AppError, Earlier, OnceKey, Pruned, Requested};
use docket_core::ticket::Origin;
use docket_core::{Actor, Digest, Ticket, TicketId, validate_params};
use serde_json::{Map, Value};

use crate::activity::{Activity, card_response, error_response};
use crate::cards;
use crate::cards::approval::{COMMENT_INPUT, REFRESH_VERB};
use crate::cards::form::{SUBMIT_VERB, request_form, submitted_params};
use crate::cards::replies::OPEN_VERB;
use crate::people::{self, Who};
use crate::render;
use crate::routes::Shared;

/// What request forms opened, per card and person: the surface-state scope, each key kept a
/// day (past any retry of an invoke or a second click), then forgotten by a prune run with the
/// first form after the server starts and every thousand after it.
static FORMS: Pruned = Pruned::new("teams.forms", std::time::Duration::from_secs(24 * 3600), 1_000);

/// Answers one invoke with the card that replaces the clicked one (or an error).
pub(crate) async fn handle(shared: &Shared, activity: &Activity) -> Value {
    let action = activity.value.as_ref().and_then(|v| v.get("action"));
    let verb = action.and_then(|a| a.get("verb")).and_then(Value::as_str).unwrap_or_default();
    let empty = Map::new();
    let data = action.and_then(|a| a.get("data")).and_then(Value::as_object).unwrap_or(&empty);
    let actor = match people::resolve(&shared.app, activity.from.as_ref()).await {
        Who::Known(actor) => actor,
        Who::Unknown(message) => return card_response(cards::replies::note(&message)),
    };
    match verb {
        SUBMIT_VERB => submit(shared, activity, &actor, data).await,
        "approve" | "reject" | "request_changes" => decide(shared, &actor, verb, data).await,
        REFRESH_VERB => refresh(shared, &actor, data).await,
        OPEN_VERB => open_form(shared, &actor, data),
        _ => error_response(400, "unknown_verb", "Docket does not know this button"),
    }
}

/// A candidate chosen after words the matcher was not sure about: its request form, with the
/// values understood.
fn open_form(shared: &Shared, actor: &Actor, data: &Map<String, Value>) -> Value {
    let app = &shared.app;
    let workflow_id = data.get("workflow").and_then(Value::as_str).unwrap_or_default();
    let Some(workflow) = app.workflow(&workflow_id.into()).filter(|w| app.may_request(actor, w)) else {
        let note = format!("There is no workflow `{}` you may request.", cards::clip(workflow_id, 60));
        return card_response(cards::replies::note(&note));
    };
    let params =
        data.get("params").and_then(Value::as_object).map(|p| p.clone().into_iter().collect()).unwrap_or_default();
    card_response(request_form(&workflow, &params, &[], Some("Check the values and send the request.")))
}

/// The request form sent: validated here exactly as the app will, then requested.
async fn submit(shared: &Shared, activity: &Activity, actor: &Actor, data: &Map<String, Value>) -> Value {
    let app = &shared.app;
    let workflow_id = data.get("workflow").and_then(Value::as_str).unwrap_or_default();
    let Some(workflow) = app.workflow(&workflow_id.into()) else {
        return card_response(cards::replies::note(&format!(
            "There is no workflow `{}`.",
            cards::clip(workflow_id, 60)
        )));
    };
    let raw = submitted_params(data);
    if let Err(errors) = validate_params(&workflow.params, &raw) {
        let note = "Some values need fixing; see the messages under the fields.";
        return card_response(request_form(&workflow, &raw, &errors.0, Some(note)));
    }
    let origin = Origin {
        surface: "teams".to_owned(),
        channel: activity.conversation.as_ref().map(|c| c.id.clone()),
        thread: activity.reply_to_id.clone(),
        context: None,
    };
    // A form sent twice (a double click, a retried invoke) opens one ticket: the second is shown
    // the first's. Kept per person: a form replied in a channel can be filled in by anyone
    // there, each for a ticket of their own. The key is recorded with the ticket it opens, so a
    // copy sent at the same moment (on this server or another) opens nothing; a refused request
    // records nothing, and the form can be sent again once fixed.
    let form_key = activity.reply_to_id.as_deref().map(|id| format!("form:{id}:{actor}"));
    let once_key = form_key.as_deref().map(|key| OnceKey { kept: &FORMS, key, note: "" });
    match app.request_keyed(actor, &workflow.id, raw.clone(), origin, once_key).await {
        Ok(Requested::Opened(ticket) | Requested::Before(Earlier { ticket: Some(ticket), .. })) => {
            card_response(render::ticket_card(app, &ticket))
        }
        Ok(Requested::Before(Earlier { ticket: None, .. })) => {
            card_response(cards::replies::note("This form was sent already; its ticket is being opened."))
        }
        Err(AppError::Refused(docket_core::Refusal::InvalidParams(errors))) => {
            card_response(request_form(&workflow, &raw, &errors.0, Some("Some values need fixing.")))
        }
        Err(AppError::Refused(refusal)) => {
            card_response(request_form(&workflow, &raw, &[], Some(&refusal.to_string())))
        }
        Err(error) => {
            tracing::warn!(%error, "a Teams request failed");
            error_response(500, error.code(), "Docket could not take the request; try again")
        }
    }
}

/// Approve, reject or request changes; the answer is the clicker's copy of the card.
async fn decide(shared: &Shared, actor: &Actor, verb: &str, data: &Map<String, Value>) -> Value {
    let app = &shared.app;
    let Some((id, round, stage)) = card_target(data) else {
        return error_response(400, "bad_data", "the button's data does not name a ticket");
    };
    let comment = data.get(COMMENT_INPUT).and_then(Value::as_str).map(str::trim).filter(|c| !c.is_empty());
    let result = match verb {
        "approve" => {
            let digest = data.get("digest").and_then(Value::as_str).map(Digest::parse);
            match digest {
                Some(Ok(digest)) => app.approve(actor, &id, digest, comment.map(str::to_owned)).await,
                _ => return error_response(400, "bad_data", "the button's data has no plan digest"),
            }
        }
        "reject" => app.reject(actor, &id, comment.unwrap_or_default().to_owned()).await,
        _ => app.request_changes(actor, &id, comment.unwrap_or_default().to_owned()).await,
    };
    let (ticket, notice) = match result {
        Ok(ticket) => {
            let done = match verb {
                "approve" => format!("You approved stage {stage}."),
                "reject" => "You rejected this ticket.".to_owned(),
                _ => "You asked the requester for changes.".to_owned(),
            };
            (ticket, done)
        }
        Err(AppError::Refused(refusal)) => {
            let notice = match &refusal {
                docket_core::Refusal::BadText { .. } if verb != "approve" => {
                    "Write a reason in the comment box, then click again.".to_owned()
                }
                other => format!("Refused: {other}"),
            };
            match app.ticket(&id).await {
                Ok(ticket) => (ticket, notice),
                Err(error) => return error_response(404, error.code(), &error.to_string()),
            }
        }
        Err(error @ AppError::NotFound(_)) => return card_response(cards::replies::note(&error.to_string())),
        Err(error) => {
            tracing::warn!(%error, "a Teams decision failed");
            return error_response(500, error.code(), "Docket could not record that; try again");
        }
    };
    approval_answer(app, &ticket, round, &stage, actor, Some(notice)).await
}

/// An automatic refresh: the approval card as this viewer may use it.
async fn refresh(shared: &Shared, actor: &Actor, data: &Map<String, Value>) -> Value {
    let app = &shared.app;
    let Some((id, round, stage)) = card_target(data) else {
        return error_response(400, "bad_data", "the card's data does not name a ticket");
    };
    let ticket = match app.ticket(&id).await {
        Ok(ticket) => ticket,
        Err(error) => return error_response(404, error.code(), &error.to_string()),
    };
    approval_answer(app, &ticket, round, &stage, actor, None).await
}

/// The approval card for `stage` of `round` as `actor` may use it, as the invoke's answer.
async fn approval_answer(
    app: &App,
    ticket: &Ticket,
    round: u32,
    stage: &str,
    actor: &Actor,
    notice: Option<String>,
) -> Value {
    match render::ApprovalCards::new(app, ticket).await {
        Ok(cards) => card_response(cards.card(round, stage, Some(actor), notice)),
        Err(error) => error_response(500, error.code(), "Docket could not draw the card; try again"),
    }
}

/// The ticket, round and stage an approval card's data names.
fn card_target(data: &Map<String, Value>) -> Option<(TicketId, u32, String)> {
    let id = TicketId::parse(data.get("ticket")?.as_str()?).ok()?;
    let round = u32::try_from(data.get("round")?.as_u64()?).ok()?;
    let stage = data.get("stage")?.as_str()?.to_owned();
    Some((id, round, stage))
}
