//! The words of text answers: help, lists, status, misses.

use std::sync::Arc;

use docket_app::{App, TicketSummary};
use docket_core::{Ticket, Workflow};

use crate::render::blocks::escape;

pub(super) fn help(command: &str, workflows: &[Arc<Workflow>]) -> String {
    let mut out = format!(
        "*Docket* opens tickets that run pre-approved workflows.\n\
         • `{command}` — pick a workflow and fill in its form\n\
         • `{command} deploy api 1.4.2 to prod` — say what you want; the form opens filled in\n\
         • `{command} list` — your open tickets\n\
         • `{command} status DKT-42` — where a ticket stands\n\
         Mention @Docket in a thread to do the same there."
    );
    let examples: Vec<String> = workflows
        .iter()
        .filter_map(|w| w.examples.first().map(|e| format!("• *{}*: `{}`", escape(&w.title), escape(e.text()))))
        .take(10)
        .collect();
    if !examples.is_empty() {
        out.push_str("\n*You can ask for*\n");
        out.push_str(&examples.join("\n"));
    }
    out
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

pub(super) fn list(tickets: &[&Ticket], app: &App) -> String {
    if tickets.is_empty() {
        return "You have no open tickets.".to_owned();
    }
    let mut out = vec![format!("*Your open tickets* ({})", tickets.len())];
    for ticket in tickets.iter().take(20) {
        let s = app.summarize(ticket);
        out.push(format!("• {} — {}: {}", link(&s), escape(&s.title), escape(&s.headline)));
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
