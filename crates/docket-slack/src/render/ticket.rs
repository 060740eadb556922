//! The ticket message: one per ticket in the channel (or DM) where it was asked, edited as the
//! ticket changes — id, workflow, parameters, requester, state, plan and a link.

use docket_app::{TicketAction, TicketSummary, Tone};
use serde_json::Value;

use super::blocks::{self, FALLBACK_TEXT, cut, escape};
use super::{ButtonValue, Message};

/// Plan characters shown in a ticket message; the web page has the rest.
const PLAN_CHARS: usize = 1_500;

/// The emoji of a tone.
pub(crate) fn emoji(tone: Tone) -> &'static str {
    match tone {
        Tone::Neutral => ":large_blue_circle:",
        Tone::Waiting => ":hourglass_flowing_sand:",
        Tone::Running => ":arrows_counterclockwise:",
        Tone::Good => ":white_check_mark:",
        Tone::Bad => ":x:",
    }
}

/// `<url|label>` when there is a URL, else the label.
pub(crate) fn link(url: Option<&str>, label: &str) -> String {
    match url {
        Some(url) => format!("<{url}|{}>", escape(label)),
        None => escape(label),
    }
}

/// The ticket message, with buttons for the `actions` the requester may take now (amend,
/// cancel, retry; approvals have their own message).
pub(crate) fn ticket_message(summary: &TicketSummary, actions: &[TicketAction]) -> Message {
    let mut out: Vec<Value> = Vec::new();
    out.push(blocks::header(&format!("{} · {}", summary.id, summary.title)));
    let mut status =
        format!("{} *{}*\nRequested by {}", emoji(summary.tone), escape(&summary.headline), escape(&summary.requester));
    if let Some(reason) = &summary.closing_reason {
        status.push_str(&format!("\n>{}", escape(&cut(reason, 500)).replace('\n', "\n>")));
    }
    out.push(blocks::section(&status));
    let mut pairs = vec![("Workflow".to_owned(), summary.workflow.clone())];
    pairs.extend(summary.records.iter().cloned());
    pairs.extend(summary.params.iter().cloned());
    out.extend(blocks::fields(&pairs).into_iter().take(10));
    if !summary.plan.is_empty() {
        out.push(blocks::section(&format!("*Plan*\n{}", blocks::code(&summary.plan, PLAN_CHARS))));
    }
    let mut footer = Vec::new();
    if let Some(digest) = &summary.digest {
        footer.push(format!("Plan digest `{}`", cut(digest, 12)));
    }
    if summary.url.is_some() {
        footer.push(link(summary.url.as_deref(), &format!("Open {} in Docket", summary.id)));
    }
    if !footer.is_empty() {
        out.push(blocks::context(&footer.join(" · ")));
    }
    let value = ButtonValue { ticket: summary.id.clone(), digest: summary.digest.clone() }.encode();
    let buttons: Vec<Value> = actions
        .iter()
        .filter_map(|action| match action {
            TicketAction::Amend => Some(blocks::button("docket.amend", "Change parameters", &value, Some("primary"))),
            TicketAction::Retry => Some(blocks::button("docket.retry", "Retry", &value, None)),
            TicketAction::Cancel => Some(blocks::button("docket.cancel", "Cancel ticket", &value, Some("danger"))),
            _ => None,
        })
        .collect();
    if !buttons.is_empty() {
        out.push(blocks::actions(&format!("ticket:{}", summary.id), buttons));
    }
    let text = cut(&format!("{} {}: {}", summary.id, summary.title, summary.headline), FALLBACK_TEXT);
    Message::new(text, Value::Array(out))
}

/// Adds a line under a ticket or approval message saying why it came here: the surface it
/// belongs to (`surface`) could not reach the reader.
pub(crate) fn relayed_note(mut message: Message, surface: &str) -> Message {
    let note = format!(
        ":information_source: Docket could not reach you in {} (the bot is blocked there), so it tells you here.",
        escape(&surface_name(surface))
    );
    if let Value::Array(items) = &mut message.blocks {
        items.push(blocks::context(&note));
    }
    message
}

/// A surface's name as people write it.
fn surface_name(surface: &str) -> String {
    match surface {
        "teams" => "Microsoft Teams".to_owned(),
        "web" => "the web".to_owned(),
        other => other.to_owned(),
    }
}
