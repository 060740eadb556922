//! What people type, read with the app's one set of chat commands: `/docket` (the picker),
//! `/docket deploy api 1.4.2 to prod` (the matcher → a pre-filled form, or the picker with
//! the best candidates and what was understood for each), `/docket help`, `list`, `mine`, `waiting`, `status DKT-42`. The same words work
//! in an @mention ([`understand`]).

mod text;

use std::sync::Arc;
use std::task::Poll;

use docket_app::ChatCommand;
use docket_core::catalog::matcher::{RequestMatch, match_request};
use docket_core::{Actor, PersonId, RawParams, TicketId, Workflow};
use docket_http::warn_throttled;
use serde_json::json;

use crate::Slack;
use crate::client::{ApiError, SlackClient, Trigger, view_dropped};
use crate::inbound::{Ack, CommandForm};
use crate::modals::Metadata;
use crate::modals::params::{Purpose, params_view};
use crate::modals::picker::picker_view;

/// What some words ask for.
#[derive(Debug)]
pub(crate) enum Opening {
    /// A modal to open (needs a trigger id).
    Modal(Modal),
    /// A text answer.
    Reply(String),
}

/// A modal some words asked for, rendered ([`Modal::render`]) only once it is sure to be
/// sent: a slash command's modal dropped over the `views.open` budget is never built.
#[derive(Debug)]
pub(crate) enum Modal {
    /// The workflow picker, with a note on what was understood.
    Picker { offered: Vec<Arc<Workflow>>, meta: Metadata, note: Option<String> },
    /// A workflow's form, pre-filled, with the problems found in the words.
    Form { workflow: Arc<Workflow>, params: RawParams, meta: Metadata, problems: Vec<(String, String)> },
}

impl Modal {
    /// The view, as Block Kit JSON.
    pub(crate) fn render(&self) -> serde_json::Value {
        match self {
            Modal::Picker { offered, meta, note } => picker_view(offered, meta, note.as_deref()),
            Modal::Form { workflow, params, meta, problems } => {
                params_view(workflow, params, meta, Purpose::Request, problems)
            }
        }
    }
}

impl Slack {
    /// A slash command: answered at once; a modal's turn in the `views.open` budget is taken
    /// here and the modal opened in a task after the answer (`open_modal`).
    pub(crate) async fn command(&self, form: CommandForm) -> Ack {
        let trigger = Trigger::received(form.trigger_id.as_str());
        let Some(actor) = self.actor_or_explain(&form.user_id, "use /docket").await else {
            return ephemeral(text::not_a_person(&self.settings().command));
        };
        let meta = Metadata { channel: Some(form.channel_id.clone()).filter(|c| !c.is_empty()), ..Metadata::default() };
        match self.understand(&actor, &form.text, meta).await {
            Opening::Reply(text) => ephemeral(text),
            Opening::Modal(modal) => {
                self.open_modal(trigger, modal, form).await;
                Ack::empty()
            }
        }
    }

    /// Opens a slash command's modal after the answer. Its turn in the `views.open` budget is
    /// taken here: a modal over the budget is dropped at once, without a task or its view ever
    /// built; one whose turn is later waits for it in a task, and is built only then.
    async fn open_modal(&self, trigger: Trigger, modal: Modal, form: CommandForm) {
        let client = self.client().clone();
        let mut turn = Box::pin(async move {
            let ok = client.view_turn(&trigger).await;
            (ok, client, trigger)
        });
        let slack = self.clone();
        match futures_util::poll!(turn.as_mut()) {
            Poll::Ready((false, ..)) => dropped(&view_dropped()),
            Poll::Ready((true, client, trigger)) => {
                self.app().after_answer(open_now(slack, client, trigger, modal, form));
            }
            Poll::Pending => {
                self.app().after_answer(async move {
                    match turn.await {
                        (true, client, trigger) => open_now(slack, client, trigger, modal, form).await,
                        (false, ..) => dropped(&view_dropped()),
                    }
                });
            }
        }
    }

    /// What `words` ask `actor` for: help, a list, a status, a form or the picker — read with
    /// the app's one set of chat commands.
    pub(crate) async fn understand(&self, actor: &Actor, words: &str, meta: Metadata) -> Opening {
        let app = self.app();
        let command = &self.settings().command;
        let words = match ChatCommand::parse(words) {
            ChatCommand::Pick => {
                return Opening::Modal(Modal::Picker { offered: app.requestable(actor), meta, note: None });
            }
            ChatCommand::Help => return Opening::Reply(text::help(command, &app.chat_help(actor))),
            ChatCommand::List(which) => {
                return Opening::Reply(match app.chat_list(actor, which).await {
                    Ok(list) => text::list(&list, command),
                    Err(error) => format!("Docket could not read the tickets: {error}"),
                });
            }
            ChatCommand::Status(Ok(id)) => return Opening::Reply(self.status(&id).await),
            ChatCommand::Status(Err(written)) => return Opening::Reply(text::not_an_id(&written, command)),
            ChatCommand::Request(words) => words,
        };
        let requestable = app.requestable(actor);
        let found = match match_request(requestable.iter().map(|w| &**w), &words) {
            RequestMatch::Found(m) => {
                let mut problems = m.problems;
                if !m.not_understood.is_empty() {
                    problems.push(("not understood".to_owned(), m.not_understood.join(" ")));
                }
                Some((m.workflow.id.clone(), m.params, problems))
            }
            RequestMatch::Unsure(candidates) => {
                if candidates.is_empty() {
                    return Opening::Reply(text::no_match(&words, command));
                }
                let offered: Vec<_> = candidates
                    .iter()
                    .filter_map(|m| requestable.iter().find(|w| w.id == m.workflow.id).cloned())
                    .collect();
                let note = text::candidates(&words, &candidates);
                let prefill = candidates.into_iter().map(|m| (m.workflow.id.to_string(), m.params)).collect();
                let meta = Metadata { prefill: Some(prefill), ..meta };
                return Opening::Modal(Modal::Picker { offered, meta, note: Some(note) });
            }
        };
        match found.and_then(|(id, params, problems)| app.workflow(&id).map(|w| (w, params, problems))) {
            Some((workflow, params, problems)) => {
                let meta = Metadata { workflow: Some(workflow.id.to_string()), ..meta };
                Opening::Modal(Modal::Form { workflow, params, meta, problems })
            }
            None => Opening::Modal(Modal::Picker { offered: requestable, meta, note: None }),
        }
    }

    /// The person behind Slack user `user`; `None` (audited) when Docket does not know them.
    pub(crate) async fn actor_or_explain(&self, user: &str, attempted: &str) -> Option<Actor> {
        self.explain_unresolved(user, attempted, self.people().resolve(self.app(), user).await).await
    }

    /// The actor `resolved` found for `user`; if none, the unknown user audited (or the failed
    /// lookup logged) as for [`Self::actor_or_explain`].
    pub(crate) async fn explain_unresolved(
        &self,
        user: &str,
        attempted: &str,
        resolved: Result<Option<PersonId>, ApiError>,
    ) -> Option<Actor> {
        match resolved {
            Ok(Some(person)) => Some(Actor::Person { id: person }),
            Ok(None) => {
                self.app().audit_unknown_chat_user(crate::SCOPE, user, attempted).await;
                None
            }
            Err(error) => {
                warn_throttled!(%error, "could not look up a Slack user");
                None
            }
        }
    }

    async fn status(&self, id: &TicketId) -> String {
        match self.app().ticket(id).await {
            Ok(ticket) => text::status(&self.app().summarize(&ticket)),
            Err(docket_app::AppError::NotFound(_)) => format!("There is no ticket {id}."),
            Err(error) => format!("Docket could not read {id}: {error}"),
        }
    }
}

/// One line per 10 s however many modals a flood drops.
fn dropped(error: &ApiError) {
    warn_throttled!(%error, "dropped a slash command's modal");
}

/// Builds and opens a slash command's modal once its turn has come.
async fn open_now(slack: Slack, client: SlackClient, trigger: Trigger, modal: Modal, form: CommandForm) {
    match client.open_view_now(&trigger, &modal.render()).await {
        Ok(_) => {}
        // Under a backlog of modals a "try again" would only join it.
        Err(error @ ApiError::TriggerExpired { .. }) => dropped(&error),
        Err(error) => {
            warn_throttled!(%error, "could not open a modal for a slash command");
            let _ = slack
                .client()
                .post_ephemeral(&form.channel_id, &form.user_id, None, "Docket could not open its form; try again.")
                .await;
        }
    }
}

/// A slash command's ephemeral answer.
fn ephemeral(text: String) -> Ack {
    Ack::json(json!({ "response_type": "ephemeral", "text": crate::render::blocks::cut(&text, 3_000) }))
}
