//! Messages to the bot (in a 1:1 chat, or with an @mention in a channel): `help`, `list`,
//! `status DKT-42`, or a request in words, matched against the workflows' examples and
//! answered with the request form, pre-filled where the words matched.

use docket_app::TicketFilter;
use docket_core::catalog::matcher::{RequestMatch, match_request};
use docket_core::{FieldError, TicketId};
use serde_json::Value;

use crate::activity::{Activity, card_message};
use crate::cards;
use crate::people::{self, Who};
use crate::render;
use crate::routes::Shared;

/// Tickets shown by `list`.
const LIST_LIMIT: u32 = 10;

/// What a message asks for.
#[derive(Debug, PartialEq, Eq)]
enum Ask<'a> {
    Help,
    List,
    Status(&'a str),
    Request(&'a str),
}

fn ask(text: &str) -> Ask<'_> {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "" | "help" | "?" | "hi" | "hello" => Ask::Help,
        "list" | "my tickets" | "tickets" => Ask::List,
        _ => match lower.strip_prefix("status ") {
            Some(_) => Ask::Status(text.get("status ".len()..).unwrap_or_default().trim()),
            None => Ask::Request(text),
        },
    }
}

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
    let (actor, person) = match people::resolve(app, activity.from.as_ref()).await {
        Who::Known(actor, person) => (actor, person),
        Who::Unknown(message) => return cards::replies::note(&message),
    };
    match ask(text) {
        Ask::Help => {
            let requestable = app.requestable(&actor);
            cards::replies::help(&requestable.iter().map(|w| &**w).collect::<Vec<_>>())
        }
        Ask::List => {
            let filter = TicketFilter { requester: Some(person), limit: LIST_LIMIT, ..TicketFilter::default() };
            match app.tickets(&filter).await {
                Ok(page) => cards::replies::ticket_list(&page.tickets, &|t| {
                    app.workflow(&t.workflow).map_or_else(|| t.workflow.to_string(), |w| w.title.clone())
                }),
                Err(error) => cards::replies::note(&format!("Docket could not list tickets: {error}")),
            }
        }
        Ask::Status(id) => match TicketId::parse(id) {
            Err(_) => {
                cards::replies::note(&format!("`{}` is not a ticket id; write e.g. status DKT-42", cards::clip(id, 40)))
            }
            Ok(id) => match app.ticket(&id).await {
                Ok(ticket) => render::ticket_card(app, &ticket),
                Err(error) => cards::replies::note(&error.to_string()),
            },
        },
        Ask::Request(words) => {
            let requestable = app.requestable(&actor);
            match match_request(requestable.iter().map(|w| &**w), words) {
                RequestMatch::Found(found) => {
                    let errors: Vec<FieldError> = found
                        .problems
                        .iter()
                        .map(|(param, message)| FieldError { param: param.clone(), message: message.clone() })
                        .collect();
                    let note = format!("Matched “{}”. Check the values and send the request.", found.example);
                    cards::form::request_form(found.workflow, &found.params, &errors, Some(&note))
                }
                RequestMatch::Closest(closest) => cards::replies::no_match(words, &closest),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commands() {
        assert_eq!(ask("help"), Ask::Help);
        assert_eq!(ask("LIST"), Ask::List);
        assert_eq!(ask("status DKT-42"), Ask::Status("DKT-42"));
        assert_eq!(ask("deploy api 1.2.3 to prod"), Ask::Request("deploy api 1.2.3 to prod"));
    }
}
