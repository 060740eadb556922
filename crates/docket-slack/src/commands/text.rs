//! The words of text answers: help, lists, status, misses, the matcher's candidates.

use docket_app::{ChatHelp, ChatTickets, TicketSummary};
use docket_core::catalog::matcher::Matched;

use crate::render::blocks::escape;

pub(super) fn help(command: &str, help: &ChatHelp) -> String {
    let mut out = vec!["*Docket* opens tickets that run pre-approved workflows.".to_owned()];
    for (words, what) in &help.commands {
        let typed = if words.is_empty() { command.to_owned() } else { format!("{command} {words}") };
        out.push(format!("• `{}` — {}", escape(&typed), escape(what)));
    }
    out.push("Mention @Docket in a thread to do the same there.".to_owned());
    if !help.examples.is_empty() {
        out.push("*You can ask for*".to_owned());
        out.extend(
            help.examples.iter().map(|(title, example)| format!("• *{}*: `{}`", escape(title), escape(example))),
        );
    }
    out.join("\n")
}

pub(super) fn not_an_id(written: &str, command: &str) -> String {
    if written.is_empty() {
        format!("Say which ticket: `{command} status DKT-42`.")
    } else {
        format!(
            "`{}` is not a ticket id; write e.g. `{command} status DKT-42`.",
            escape(&crate::render::blocks::cut(written, 40))
        )
    }
}

pub(super) fn not_a_person(command: &str) -> String {
    format!(
        "You are not in Docket's people, so {command} cannot act for you. Ask a Docket admin to add your Slack id or email to the directory."
    )
}

pub(super) fn no_match(words: &str, command: &str) -> String {
    format!(
        "No workflow matches “{}”, and none is close. Try `{command}` alone to pick one, or `{command} help`.",
        escape(&crate::render::blocks::cut(words, 200))
    )
}

/// The picker's note when the matcher is not sure: each candidate with what it understood.
pub(super) fn candidates(words: &str, candidates: &[Matched<'_>]) -> String {
    let mut out = vec![format!(
        "Not sure which workflow “{}” asks for. Pick one; what was understood fills its form:",
        escape(&crate::render::blocks::cut(words, 200))
    )];
    for m in candidates {
        let understood: Vec<String> = m
            .params
            .iter()
            .map(|(name, value)| format!("{name} {}", value.as_str().map_or_else(|| value.to_string(), str::to_owned)))
            .collect();
        let understood = if understood.is_empty() { "nothing yet".to_owned() } else { understood.join(", ") };
        out.push(format!(
            "• *{}*: {}",
            escape(&crate::render::blocks::cut(&m.workflow.title, 80)),
            escape(&crate::render::blocks::cut(&understood, 300))
        ));
    }
    out.join("\n")
}

pub(super) fn list(list: &ChatTickets, command: &str) -> String {
    if list.tickets.is_empty() {
        return list.empty.clone();
    }
    let mut out =
        vec![format!("*{}* ({}{})", escape(&list.title), list.tickets.len(), if list.more { "+" } else { "" })];
    for s in &list.tickets {
        out.push(format!("• {} — {}: {}", link(s), escape(&s.title), escape(&s.headline)));
    }
    if list.more {
        out.push(format!("… and more; `{command} status DKT-42` shows one, the web shows them all"));
    }
    out.join("\n")
}

pub(super) fn status(s: &TicketSummary) -> String {
    let params: Vec<String> = s.params.iter().map(|(k, v)| format!("{}={}", escape(k), escape(v))).collect();
    let mut out = format!(
        "{} *{}* — {}\n{} · requested by {}",
        link(s),
        escape(&s.title),
        escape(&s.headline),
        params.join(", "),
        escape(&s.requester)
    );
    if let Some(reason) = &s.closing_reason {
        out.push_str(&format!("\n>{}", escape(reason)));
    }
    out
}

fn link(s: &TicketSummary) -> String {
    match &s.url {
        Some(url) => format!("<{url}|{}>", s.id),
        None => s.id.clone(),
    }
}
