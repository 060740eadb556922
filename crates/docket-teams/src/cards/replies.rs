//! Small answers to messages, laid out from the app's answers: help (commands and the workflows
//! a person may request, with examples), a list of tickets, and the candidates when the
//! matcher is not sure which workflow some words ask for.

use docket_app::{ChatHelp, ChatTickets};
use docket_core::catalog::matcher::Matched;
use serde_json::{Value, json};

use super::{card, clip, execute, facts, subtle, text, title};

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

/// The verb of a candidate's button: it opens the request form with what was understood.
pub const OPEN_VERB: &str = "open_form";

/// Words the matcher was not sure about: the best candidates, each with what it understood
/// and a button that opens its form pre-filled; or, when nothing fits, where to look.
pub fn no_match(words: &str, candidates: &[Matched<'_>]) -> Value {
    let words = clip(&super::escape_markdown(words), 200);
    let mut body = Vec::new();
    let mut actions = Vec::new();
    if candidates.is_empty() {
        body.push(text(&format!("I could not match “{words}” to a workflow.")));
        body.push(subtle("Write **help** to see what you can ask for."));
        return card(body, actions);
    }
    body.push(text(&format!("I am not sure which workflow “{words}” asks for. Did you mean one of these?")));
    let pairs: Vec<(String, String)> = candidates
        .iter()
        .map(|m| {
            let understood: Vec<String> =
                m.params.iter().map(|(name, value)| format!("{name} {}", shown(value))).collect();
            let what = match (understood.is_empty(), m.example) {
                (false, _) => understood.join(", "),
                (true, Some(example)) => format!("“{example}”"),
                (true, None) => m.workflow.id.to_string(),
            };
            (clip(&m.workflow.title, 60), what)
        })
        .collect();
    body.push(facts(&pairs));
    for m in candidates {
        let data = json!({ "workflow": m.workflow.id.to_string(), "params": m.params });
        actions.push(execute(&clip(&m.workflow.title, 40), OPEN_VERB, data, None));
    }
    card(body, actions)
}

fn shown(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

/// A note card (unknown person, not found, errors people can act on).
pub fn note(message: &str) -> Value {
    card(vec![text(&clip(message, 1_000))], Vec::new())
}
