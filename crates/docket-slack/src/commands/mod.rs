//! What people type, read with the app's one set of chat commands: `/docket` (the picker),
//! `/docket deploy api 1.4.2 to prod` (the matcher → a pre-filled form, or the picker with
//! the best candidates and what was understood for each), `/docket help`, `list`, `mine`, `waiting`, `status DKT-42`. The same words work
//! in an @mention ([`understand`]).

mod text;

use docket_app::ChatCommand;
use docket_core::catalog::matcher::{RequestMatch, match_request};
use docket_core::{Actor, TicketId};
use serde_json::json;

use crate::Slack;
use crate::client::{ApiError, Trigger};
use crate::inbound::{Ack, CommandForm};
use crate::modals::Metadata;
use crate::modals::params::{Purpose, params_view};
use crate::modals::picker::picker_view;

/// What some words ask for.
#[derive(Debug)]
pub(crate) enum Opening {
    /// A modal to open (needs a trigger id).
    Modal(serde_json::Value),
    /// A text answer.
    Reply(String),
}

impl Slack {
    /// A slash command: answered at once; a modal is opened in a task right after.
    pub(crate) async fn command(&self, form: CommandForm) -> Ack {
        let trigger = Trigger::received(form.trigger_id.as_str());
        let Some(actor) = self.actor_or_explain(&form.user_id, "use /docket").await else {
            return ephemeral(text::not_a_person(&self.settings().command));
        };
        let meta = Metadata { channel: Some(form.channel_id.clone()).filter(|c| !c.is_empty()), ..Metadata::default() };
        match self.understand(&actor, &form.text, meta).await {
            Opening::Reply(text) => ephemeral(text),
            Opening::Modal(view) => {
                let slack = self.clone();
                tokio::spawn(async move {
                    match slack.client().open_view(&trigger, &view).await {
                        Ok(_) => {}
                        // Under a backlog of modals a "try again" would only join it.
                        Err(error @ ApiError::TriggerExpired { .. }) => {
                            tracing::warn!(%error, "dropped a slash command's modal");
                        }
                        Err(error) => {
                            tracing::warn!(%error, "could not open a modal for a slash command");
                            let _ = slack
                                .client()
                                .post_ephemeral(
                                    &form.channel_id,
                                    &form.user_id,
                                    None,
                                    "Docket could not open its form; try again.",
                                )
                                .await;
                        }
                    }
                });
                Ack::empty()
            }
        }
    }

    /// What `words` ask `actor` for: help, a list, a status, a form or the picker — read with
    /// the app's one set of chat commands.
    pub(crate) async fn understand(&self, actor: &Actor, words: &str, meta: Metadata) -> Opening {
        let app = self.app();
        let command = &self.settings().command;
        let words = match ChatCommand::parse(words) {
            ChatCommand::Pick => return Opening::Modal(picker_view(&app.requestable(actor), &meta, None)),
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
                return Opening::Modal(picker_view(&offered, &meta, Some(&note)));
            }
        };
        match found.and_then(|(id, params, problems)| app.workflow(&id).map(|w| (w, params, problems))) {
            Some((workflow, params, problems)) => {
                let meta = Metadata { workflow: Some(workflow.id.to_string()), ..meta };
                Opening::Modal(params_view(&workflow, &params, &meta, Purpose::Request, &problems))
            }
            None => Opening::Modal(picker_view(&requestable, &meta, None)),
        }
    }

    /// The person behind Slack user `user`; `None` (audited) when Docket does not know them.
    pub(crate) async fn actor_or_explain(&self, user: &str, attempted: &str) -> Option<Actor> {
        match self.people().resolve(self.app(), user).await {
            Ok(Some(person)) => Some(Actor::Person { id: person }),
            Ok(None) => {
                self.app().audit_unknown_chat_user(crate::SCOPE, user, attempted).await;
                None
            }
            Err(error) => {
                tracing::warn!(%error, "could not look up a Slack user");
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

/// A slash command's ephemeral answer.
fn ephemeral(text: String) -> Ack {
    Ack::json(json!({ "response_type": "ephemeral", "text": crate::render::blocks::cut(&text, 3_000) }))
}
