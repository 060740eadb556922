//! Small answers to messages: help (commands and the workflows a person may request, with
//! examples), a person's recent tickets, and what to do when words match no workflow.

use docket_core::{Ticket, Workflow};
use serde_json::Value;

use super::{card, clip, facts, subtle, text, title};

/// Workflows listed in help.
const MAX_WORKFLOWS: usize = 15;

/// Help: the commands, and the workflows `requestable` with an example each.
pub fn help(requestable: &[&Workflow]) -> Value {
    let mut body = vec![
        title("Docket"),
        text(
            "Ask for something in words, e.g. **deploy api 1.4.2 to prod**, and I answer with a form to check and send.",
        ),
        facts(&[
            ("help".to_owned(), "this message".to_owned()),
            ("list".to_owned(), "your latest tickets".to_owned()),
            ("status DKT-42".to_owned(), "where a ticket stands".to_owned()),
        ]),
    ];
    if requestable.is_empty() {
        body.push(subtle("There are no workflows you may request."));
    } else {
        body.push(text("**What you can ask for**"));
        let pairs: Vec<(String, String)> = requestable
            .iter()
            .take(MAX_WORKFLOWS)
            .map(|w| {
                let example = w.examples.first().map_or_else(String::new, |e| format!(" — e.g. “{}”", e.text()));
                (clip(&w.title, 60), format!("{}{example}", w.id))
            })
            .collect();
        body.push(facts(&pairs));
        if requestable.len() > MAX_WORKFLOWS {
            body.push(subtle(&format!("and {} more", requestable.len() - MAX_WORKFLOWS)));
        }
    }
    card(body, Vec::new())
}

/// A person's latest tickets.
pub fn ticket_list(tickets: &[Ticket], titles: &dyn Fn(&Ticket) -> String) -> Value {
    let mut body = vec![title("Your latest tickets")];
    if tickets.is_empty() {
        body.push(text("You have no tickets yet."));
    } else {
        let pairs: Vec<(String, String)> =
            tickets.iter().map(|t| (t.id.to_string(), format!("{} — {}", titles(t), t.state))).collect();
        body.push(facts(&pairs));
    }
    card(body, Vec::new())
}

/// Words that matched no example: the closest workflows, if any.
pub fn no_match(words: &str, closest: &[&Workflow]) -> Value {
    let mut body =
        vec![text(&format!("I could not match “{}” to a workflow.", clip(&super::escape_markdown(words), 200)))];
    if closest.is_empty() {
        body.push(subtle("Write **help** to see what you can ask for."));
    } else {
        body.push(text("Did you mean one of these?"));
        let pairs: Vec<(String, String)> = closest
            .iter()
            .map(|w| {
                let example = w.examples.first().map_or_else(|| w.id.to_string(), |e| format!("“{}”", e.text()));
                (clip(&w.title, 60), example)
            })
            .collect();
        body.push(facts(&pairs));
    }
    card(body, Vec::new())
}

/// A note card (unknown person, not found, errors people can act on).
pub fn note(message: &str) -> Value {
    card(vec![text(&clip(message, 1_000))], Vec::new())
}
