//! Messages to the bot (in a 1:1 chat, or with an @mention in a channel), read with the app's
//! one set of chat commands: `help`, `list`, `mine`, `waiting`, `status DKT-42`, or a request in
//! words, read by core's matcher and answered with the request form pre-filled with what it
//! understood, or with the best candidates as buttons when it is not sure.

use docket_app::ChatCommand;
use docket_core::FieldError;
use docket_core::catalog::matcher::{RequestMatch, match_request};
use serde_json::Value;

use crate::activity::{Activity, card_message};
use crate::cards;
use crate::people::{self, Who};
use crate::render;
use crate::routes::Shared;

/// Answers a message.
pub(crate) async fn handle(shared: &Shared, activity: &Activity) {
    let text = activity.plain_text();
    let card = answer(shared, activity, &text).await;
    let Some(conversation) = activity.conversation.as_ref() else { return };
    let message = card_message(card, "Docket");
    let sent = match &activity.id {
        Some(id) if !activity.is_personal() => {
            shared.connector.reply(&activity.service_url, &conversation.id, id, &message).await
        }
        _ => shared.connector.send(&activity.service_url, &conversation.id, &message).await,
    };
    if let Err(error) = sent {
        tracing::warn!(%error, "could not answer a Teams message");
    }
}

async fn answer(shared: &Shared, activity: &Activity, text: &str) -> Value {
    let app = &shared.app;
    let actor = match people::resolve(app, activity.from.as_ref()).await {
        Who::Known(actor) => actor,
        Who::Unknown(message) => return cards::replies::note(&message),
    };
    match ChatCommand::parse(text) {
        ChatCommand::Pick | ChatCommand::Help => cards::replies::help(&app.chat_help(&actor)),
        ChatCommand::List(which) => match app.chat_list(&actor, which).await {
            Ok(list) => cards::replies::ticket_list(&list),
            Err(error) => cards::replies::note(&format!("Docket could not list tickets: {error}")),
        },
        ChatCommand::Status(Err(written)) if written.is_empty() => {
            cards::replies::note("Say which ticket: write e.g. status DKT-42")
        }
        ChatCommand::Status(Err(written)) => cards::replies::note(&format!(
            "`{}` is not a ticket id; write e.g. status DKT-42",
            cards::clip(&written, 40)
        )),
        ChatCommand::Status(Ok(id)) => match app.ticket(&id).await {
            Ok(ticket) => render::ticket_card(app, &ticket),
            Err(error) => cards::replies::note(&error.to_string()),
        },
        ChatCommand::Request(words) => {
            let requestable = app.requestable(&actor);
            match match_request(requestable.iter().map(|w| &**w), &words) {
                RequestMatch::Found(found) => {
                    let errors: Vec<FieldError> = found
                        .problems
                        .iter()
                        .map(|(param, message)| FieldError { param: param.clone(), message: message.clone() })
                        .collect();
                    let mut note = match found.example {
                        Some(example) => format!("Read as “{example}”. Check the values and send the request."),
                        None => "Check the values and send the request.".to_owned(),
                    };
                    if !found.not_understood.is_empty() {
                        note.push_str(&format!(" Not understood: {}.", found.not_understood.join(" ")));
                    }
                    cards::form::request_form(found.workflow, &found.params, &errors, Some(&note))
                }
                RequestMatch::Unsure(candidates) => cards::replies::no_match(&words, &candidates),
            }
        }
    }
}
