//! The ticket card: one per ticket in the conversation where it was asked, replaced in place as
//! the ticket changes — the state in words and colour, the parameters, the plan (cut, with a
//! link to the whole), why it ended, and the latest news.

use docket_app::{Happening, TicketSummary};
use serde_json::Value;

use super::{attention, card, clip, facts, open_url, plan, subtle, text, title, toned};

/// The card for `summary`, with the key events of the latest change under it.
pub fn ticket_card(summary: &TicketSummary, latest: &[Happening]) -> Value {
    let mut body =
        vec![title(&format!("{} · {}", summary.id, clip(&summary.title, 120))), toned(&summary.headline, summary.tone)];
    let mut pairs = vec![("Requested by".to_owned(), summary.requester.clone())];
    pairs.extend(summary.records.iter().cloned());
    pairs.extend(summary.params.iter().cloned());
    pairs.push(("Risk".to_owned(), summary.risk.clone()));
    body.push(facts(&pairs));
    body.extend(plan(&summary.plan, summary.url.as_deref()));
    if let Some(reason) = &summary.closing_reason {
        body.push(attention(&clip(reason, 500)));
    }
    for happening in latest.iter().rev().take(3).rev() {
        body.push(text(&clip(&happening.text, 300)));
        if !happening.log_tail.is_empty() {
            let tail: Vec<String> = happening.log_tail.iter().map(|l| clip(l, 160)).collect();
            body.push(subtle(&super::escape_markdown(&tail.join("\n\n"))));
        }
        if let Some(hint) = &happening.hint {
            body.push(subtle(hint));
        }
    }
    let actions = summary.url.as_deref().map(|url| vec![open_url("Open in Docket", url)]).unwrap_or_default();
    card(body, actions)
}

/// The text a reply carries for the key events of one change.
pub fn happenings_text(id: &str, happenings: &[Happening]) -> String {
    let mut lines = Vec::new();
    for h in happenings {
        lines.push(format!("**{id}** {}", super::escape_markdown(&clip(&h.text, 500))));
        if !h.log_tail.is_empty() {
            let tail: Vec<String> = h.log_tail.iter().map(|l| format!("    {}", clip(l, 160))).collect();
            lines.push(tail.join("\n"));
        }
        if let Some(hint) = &h.hint {
            lines.push(format!("_{hint}_"));
        }
    }
    lines.join("\n\n")
}
