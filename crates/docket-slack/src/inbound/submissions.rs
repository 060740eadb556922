//! Modal submissions: the picker (→ the parameter form, as `response_action: update`), the
//! parameter form (checked by core's `validate_params`; errors go back under each field), the
//! amend form, and the reason form. A request is handed to the app in a task; the answer waits
//! up to two seconds for it, so a refusal still lands on the form. The request form's delivery
//! (an HTTP signature, a Socket Mode envelope id) is recorded as seen in the transaction that
//! opens the ticket; every other submission records it first, and a request form that opens
//! nothing records it before its answer (unless the store failed, which recorded nothing either).

use std::time::Duration;

use docket_app::{AppError, StoreError};
use docket_core::ticket::Origin;
use docket_core::{Actor, Refusal, TicketId, WorkflowId, validate_params};
use serde_json::{Map, Value, json};

use super::interactions::refusal_words;
use super::{Ack, DeliveryKind, InboundError, Unseen};
use crate::Slack;
use crate::modals::params::{Purpose, params_view, read_values};
use crate::modals::picker::picked;
use crate::modals::reason::read_reason;
use crate::modals::{AMEND, Metadata, PICK, REASON, REQUEST};
use crate::render::blocks::cut;

/// How long a submission waits for the app before answering (Slack allows 3 s).
const WAIT_FOR_APP: Duration = Duration::from_millis(2_000);
/// Longest error under one field.
const ERROR_CHARS: usize = 1_000;

impl Slack {
    /// A modal's submission. A delivery `unseen` yet is recorded with the ticket a request form
    /// opens; anything else records it before it acts or answers.
    pub(super) async fn submission(
        &self,
        user: Option<&str>,
        payload: &Value,
        unseen: Option<Unseen>,
    ) -> Result<Ack, InboundError> {
        let view = payload.get("view").filter(|v| v.is_object());
        let (Some(user), Some(view)) = (user, view) else {
            self.see(unseen).await?;
            return Err(InboundError::Missing(if user.is_none() { "user.id" } else { "view" }));
        };
        let callback = view.get("callback_id").and_then(Value::as_str).unwrap_or_default();
        let unseen = if callback == REQUEST {
            unseen
        } else {
            self.see(unseen).await?;
            None
        };
        let meta = Metadata::decode(view.get("private_metadata").and_then(Value::as_str).unwrap_or_default());
        let state = view.get("state").cloned().unwrap_or(Value::Null);
        let person = match self.people().resolve(self.app(), user).await {
            Ok(Some(person)) => person,
            unresolved => {
                self.see(unseen).await?;
                // Audits the unknown user (or logs the failed lookup); there is no actor.
                self.explain_unresolved(user, &format!("submit {callback}"), unresolved).await;
                return Ok(errors_on(first_input(view).as_deref(), &super::interactions::not_a_person()));
            }
        };
        let actor = Actor::Person { id: person };
        Ok(match callback {
            PICK => self.picked(&actor, &state, meta),
            REQUEST => self.submit_request(actor, user, view, &state, meta, unseen).await?,
            AMEND => self.submit_amend(&actor, view, &state, &meta).await,
            REASON => self.submit_reason(&actor, &state, &meta).await,
            _ => Ack::empty(),
        })
    }

    fn picked(&self, actor: &Actor, state: &Value, meta: Metadata) -> Ack {
        let workflow = picked(state).and_then(|id| self.app().workflow(&WorkflowId::new(id)));
        match workflow.filter(|w| self.app().may_request(actor, w)) {
            Some(workflow) => {
                let prefill =
                    meta.prefill.as_ref().and_then(|p| p.get(workflow.id.as_str())).cloned().unwrap_or_default();
                let meta = Metadata { workflow: Some(workflow.id.to_string()), prefill: None, ..meta };
                let view = params_view(&workflow, &prefill, &meta, Purpose::Request, &[]);
                Ack::json(json!({ "response_action": "update", "view": view }))
            }
            None => errors(&[("workflow".to_owned(), "Choose a workflow you may request.".to_owned())]),
        }
    }

    /// A request form: opens the ticket, recording `unseen` with it. An answer that opens
    /// nothing records `unseen` before it is given (but for a store's failure).
    async fn submit_request(
        &self,
        actor: Actor,
        user: &str,
        view: &Value,
        state: &Value,
        meta: Metadata,
        unseen: Option<Unseen>,
    ) -> Result<Ack, InboundError> {
        let Some(workflow) = meta.workflow.as_deref().and_then(|w| self.app().workflow(&WorkflowId::new(w))) else {
            self.see(unseen).await?;
            return Ok(errors_on(first_input(view).as_deref(), "This workflow is no longer in the catalog."));
        };
        let raw = read_values(&workflow, state);
        if let Err(problems) = validate_params(&workflow.params, &raw) {
            self.see(unseen).await?;
            return Ok(errors(&problems.0.into_iter().map(|e| (e.param, e.message)).collect::<Vec<_>>()));
        }
        if !self.app().may_request(&actor, &workflow) {
            self.see(unseen).await?;
            let words = format!("You may not request {}.", workflow.title);
            return Ok(errors_on(first_input(view).as_deref(), &words));
        }
        let origin = Origin {
            surface: crate::SCOPE.to_owned(),
            channel: meta.channel.clone(),
            thread: meta.thread.clone(),
            context: meta.context.clone(),
        };
        let peer = unseen.as_ref().and_then(|u| u.peer);
        // A signed request's replay is audited; an envelope Slack sends again is not a replay.
        let signed = unseen.as_ref().is_some_and(|u| u.kind == DeliveryKind::Signed);
        let slack = self.clone();
        let id = workflow.id.clone();
        // The task goes on if the answer stops waiting for it, so it records the delivery
        // itself when it opens nothing.
        let mut task = self.app().after_answer(async move {
            let Some(unseen) = unseen else { return Ok(slack.app().request(&actor, &id, raw, origin).await) };
            if slack.seen_before(&unseen) {
                return Err(InboundError::Replayed);
            }
            slack.taken(&unseen).await;
            let opened = slack.app().request_once(&actor, &id, raw, origin, slack.delivery(&unseen)).await;
            match opened {
                Err(AppError::Store(StoreError::Delivered(_))) => Err(InboundError::Replayed),
                // The store failed and nothing was opened: the delivery is left as it stands.
                Err(error @ AppError::Store(_)) => {
                    slack.not_taken(&unseen).await;
                    Ok(Err(error))
                }
                // Refused before its commit, which recorded nothing. An envelope that cannot be
                // recorded now is left for Slack to send again: this replica must not take that
                // for a repeat.
                Err(error) => match slack.see(Some(unseen.clone())).await {
                    Ok(()) => Ok(Err(error)),
                    Err(unrecorded @ InboundError::Unrecorded(_)) => {
                        slack.not_taken(&unseen).await;
                        Err(unrecorded)
                    }
                    Err(other) => Err(other),
                },
                Ok(ticket) => Ok(Ok(ticket)),
            }
        });
        let waited = tokio::time::timeout(WAIT_FOR_APP, &mut task).await;
        let error = match waited {
            Ok(Ok(Ok(Ok(_)))) => return Ok(Ack::json(json!({ "response_action": "clear" }))),
            Ok(Ok(Err(replayed))) => return Err(replayed),
            Ok(Ok(Ok(Err(error)))) => error,
            Ok(Err(join)) => {
                tracing::error!(%join, "a request task failed");
                return Ok(Ack::json(json!({ "response_action": "clear" })));
            }
            Err(_) => {
                // Answered before the task ended: a replay it finds is audited once it does.
                let slack = self.clone();
                self.app().after_answer(async move {
                    if let Ok(Err(replayed @ InboundError::Replayed)) = task.await
                        && signed
                    {
                        slack.app().audit_rejected_credentials(crate::SCOPE, peer, &replayed.to_string()).await;
                    }
                });
                return Ok(Ack::json(json!({ "response_action": "clear" })));
            }
        };
        if let AppError::Refused(Refusal::InvalidParams(problems)) = error {
            return Ok(errors(&problems.0.into_iter().map(|e| (e.param, e.message)).collect::<Vec<_>>()));
        }
        let words = match &error {
            AppError::Refused(refusal) => format!("Docket refused: {refusal}."),
            other => format!("Docket could not open the ticket: {other}."),
        };
        Ok(match first_input(view) {
            Some(block) => errors_on(Some(&block), &words),
            None => {
                self.tell(user, meta.channel.as_deref(), meta.thread.as_deref(), &words).await;
                Ack::json(json!({ "response_action": "clear" }))
            }
        })
    }

    async fn submit_amend(&self, actor: &Actor, view: &Value, state: &Value, meta: &Metadata) -> Ack {
        let Some(id) = meta.ticket.as_deref().and_then(|t| TicketId::parse(t).ok()) else { return Ack::empty() };
        let Ok(ticket) = self.app().ticket(&id).await else {
            return errors_on(first_input(view).as_deref(), &format!("There is no ticket {id}."));
        };
        let Some(workflow) = self.app().workflow(&ticket.workflow) else {
            return errors_on(first_input(view).as_deref(), "This workflow is no longer in the catalog.");
        };
        let raw = read_values(&workflow, state);
        if let Err(problems) = validate_params(&workflow.params, &raw) {
            return errors(&problems.0.into_iter().map(|e| (e.param, e.message)).collect::<Vec<_>>());
        }
        let app = self.app().clone();
        let actor = actor.clone();
        let ticket_id = id.clone();
        let mut task = self.app().after_answer(async move { app.amend(&actor, &ticket_id, raw).await });
        match tokio::time::timeout(WAIT_FOR_APP, &mut task).await {
            Ok(Ok(Err(AppError::Refused(Refusal::InvalidParams(problems))))) => {
                errors(&problems.0.into_iter().map(|e| (e.param, e.message)).collect::<Vec<_>>())
            }
            Ok(Ok(Err(error))) => errors_on(first_input(view).as_deref(), &refusal_words(&error, &id)),
            _ => Ack::json(json!({ "response_action": "clear" })),
        }
    }

    async fn submit_reason(&self, actor: &Actor, state: &Value, meta: &Metadata) -> Ack {
        let Some(id) = meta.ticket.as_deref().and_then(|t| TicketId::parse(t).ok()) else { return Ack::empty() };
        let reason = read_reason(state);
        let app = self.app();
        let result = match meta.action.as_deref() {
            Some("reject") => app.reject(actor, &id, reason).await,
            Some("request_changes") => app.request_changes(actor, &id, reason).await,
            Some("comment") => app.comment(actor, &id, reason).await,
            _ => return Ack::empty(),
        };
        match result {
            Ok(_) => Ack::json(json!({ "response_action": "clear" })),
            Err(error) => errors(&[("reason".to_owned(), refusal_words(&error, &id))]),
        }
    }
}

/// `response_action: errors` with one message per input block.
fn errors(problems: &[(String, String)]) -> Ack {
    let mut map = Map::new();
    for (block, message) in problems {
        map.entry(cut(block, 255)).or_insert_with(|| Value::String(cut(message, ERROR_CHARS)));
    }
    Ack::json(json!({ "response_action": "errors", "errors": map }))
}

/// An error under `block`, or none (an empty ack) when the form has no input.
fn errors_on(block: Option<&str>, message: &str) -> Ack {
    match block {
        Some(block) => errors(&[(block.to_owned(), message.to_owned())]),
        None => Ack::empty(),
    }
}

/// The block id of the view's first input block.
fn first_input(view: &Value) -> Option<String> {
    view.get("blocks")?
        .as_array()?
        .iter()
        .find(|b| b.get("type").and_then(Value::as_str) == Some("input"))
        .and_then(|b| b.get("block_id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}
