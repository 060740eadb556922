//! Small answers to messages, laid out from the app's answers: help (commands and the workflows
//! a person may request, with examples), a list of tickets, and what to do when words match no
//! workflow.

use docket_app::{ChatHelp, ChatTickets};
use docket_core::Workflow;
use serde_json::Value;

use super::{card, clip, facts, subtle, text, title};

/// Help: the commands, and the workflows the person may request with an example each.
pub fn help(help: &ChatHelp) -> Value {
    let commands: Vec<(String, String)> = help
        .commands
        .iter()
        .filter(|(words, _)| !words.is_empty())
        .map(|(words, what)| (words.clone(), what.clone()))
        .collect();
    let mut body = vec![
        title("Docket"),
        text("Ask for something in words and I answer with a form to check and send. You can also write:"),
        facts(&commands),
    ];
    if help.examples.is_empty() {
        body.push(subtle("There are no workflows you may request."));
    } else {
        body.push(text("**What you can ask for**"));
        let pairs: Vec<(String, String)> = help
            .examples
            .iter()
            .map(|(title, example)| (clip(title, 60), format!("“{}”", clip(example, 200))))
            .collect();
        body.push(facts(&pairs));
    }
    card(body, Vec::new())
}

/// A list of tickets.
pub fn ticket_list(list: &ChatTickets) -> Value {
    let mut body = vec![title(&list.title)];
    if list.tickets.is_empty() {
        body.push(text(&list.empty));
    } else {
        let pairs: Vec<(String, String)> = list
            .tickets
            .iter()
            .map(|s| (s.id.clone(), format!("{} — {}", clip(&s.title, 80), clip(&s.headline, 120))))
            .collect();
        body.push(facts(&pairs));
        if list.more {
            body.push(subtle("and more; write status DKT-42 for one, or see them all on the web"));
        }
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
