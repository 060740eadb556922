//! The approval request: posted in the policy's approvals channel and sent to each eligible
//! approver — who asks for what, where and why, the rule that requires it, the stages, and the
//! plan (cut, with a link to all of it). While the ticket waits it has buttons; once decided
//! every copy is edited to show the outcome without them.

use docket_app::{ApprovalView, ChangesBrief, TicketSummary};
use docket_core::TicketState;
use serde_json::Value;

use super::blocks::{self, FALLBACK_TEXT, cut, escape};
use super::ticket::{emoji, link};
use super::{ButtonValue, Message};

/// Plan characters shown in an approval request.
const PLAN_CHARS: usize = 2_000;
/// Structured changes shown in an approval request: lines, characters, characters a line.
const CHANGE_LINES: usize = 40;
const CHANGE_CHARS: usize = 2_000;
const CHANGE_LINE_CHARS: usize = 150;

/// What an approval request shows besides the ticket.
pub(crate) struct ApprovalContext<'a> {
    /// The ticket.
    pub(crate) summary: &'a TicketSummary,
    /// Why and who.
    pub(crate) view: &'a ApprovalView,
    /// Where it was asked, in words (`in <#C0DEV>`, `from the web`).
    pub(crate) origin: String,
    /// People's names, by id.
    pub(crate) name: &'a dyn Fn(&str) -> String,
    /// Set once the round is over: what ended it (the copy then has no buttons).
    pub(crate) closed: Option<String>,
}

impl std::fmt::Debug for ApprovalContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalContext").field("ticket", &self.summary.id).finish_non_exhaustive()
    }
}

/// The approval request, with buttons while the ticket waits for approval.
pub(crate) fn approval_message(cx: &ApprovalContext<'_>) -> Message {
    let s = cx.summary;
    let open = s.state == TicketState::AwaitingApproval && cx.closed.is_none();
    let mut out: Vec<Value> = Vec::new();
    let title =
        if open { format!("Approval needed: {} · {}", s.id, s.title) } else { format!("{} · {}", s.id, s.title) };
    out.push(blocks::header(&title));
    out.push(blocks::section(&format!(
        "*{}* asks to run *{}* {}\n{} {}",
        escape(&s.requester),
        escape(&s.title),
        cx.origin,
        emoji(s.tone),
        escape(&s.headline)
    )));
    if let Some(changes) = &s.changes {
        out.push(blocks::section(&changes_text(changes, s.url.as_deref())));
    }
    out.extend(blocks::fields(&s.params).into_iter().take(10));
    let rule = cx.view.rule.as_deref().map(|r| format!("Policy rule `{}`: ", escape(r))).unwrap_or_default();
    out.push(blocks::section(&format!("*Why approval is needed*\n{rule}{}", escape(&cx.view.explanation))));
    out.push(blocks::section(&stages(cx)));
    if !s.plan.is_empty() {
        let whole = s.url.as_deref().map(|u| format!("\n<{u}|See the whole plan>")).unwrap_or_default();
        out.push(blocks::section(&format!("*Plan* (risk: {})\n{}{whole}", s.risk, blocks::code(&s.plan, PLAN_CHARS))));
    }
    if let Some(note) = &cx.closed {
        out.push(blocks::section(&format!(":lock: *{}*", escape(&cut(note, 1_000)))));
    }
    let mut footer = Vec::new();
    if let Some(digest) = &s.digest {
        footer.push(format!("Plan digest `{}`", cut(digest, 12)));
    }
    footer.push(link(s.url.as_deref(), &format!("Open {} in Docket", s.id)));
    out.push(blocks::context(&footer.join(" · ")));
    if open {
        let value = ButtonValue { ticket: s.id.clone(), digest: s.digest.clone() }.encode();
        let mut approve = blocks::button("docket.approve", "Approve", &value, Some("primary"));
        if s.risk == "high" {
            approve["confirm"] = blocks::confirm(
                "Approve a high-risk change?",
                &format!("{} will run *{}* with the plan shown.", escape(&s.id), escape(&s.title)),
                "Approve",
            );
        }
        out.push(blocks::actions(
            &format!("approval:{}", s.id),
            vec![
                approve,
                blocks::button("docket.reject", "Reject", &value, Some("danger")),
                blocks::button("docket.request_changes", "Request changes", &value, None),
                blocks::button("docket.comment", "Comment", &value, None),
            ],
        ));
    }
    let text = match (&cx.closed, open) {
        (_, true) => format!("{} asks for approval of {} ({})", s.requester, s.id, s.title),
        (Some(note), false) => format!("{} {}: {note}", s.id, s.title),
        (None, false) => format!("{} {}: {}", s.id, s.title, s.headline),
    };
    Message::new(cut(&text, FALLBACK_TEXT), Value::Array(out))
}

/// The app's change brief: the summary, then as many changes as fit (destroys and replaces
/// first, in bold), then how many more there are, with a link to all of them.
pub(crate) fn changes_text(changes: &ChangesBrief, url: Option<&str>) -> String {
    // Escaping can make a line several times longer: the budget counts what Slack receives.
    let (candidates, _) = changes.fit(CHANGE_LINES, usize::MAX, CHANGE_LINE_CHARS);
    let mut lines = vec![format!("*Changes:* {}", escape(&changes.summary))];
    let mut used = lines[0].chars().count();
    for (text, line) in candidates.iter().zip(&changes.lines) {
        let shown = if line.marked { format!("*{}*", escape(text)) } else { escape(text) };
        if used + shown.chars().count() + 1 > CHANGE_CHARS {
            break;
        }
        used += shown.chars().count() + 1;
        lines.push(shown);
    }
    let more = changes.lines.len() - (lines.len() - 1);
    if more > 0 {
        let words = escape(&ChangesBrief::more(more));
        lines.push(match url {
            Some(url) => format!("<{}|{words}>", cut(url, 500)),
            None => words,
        });
    }
    cut(&lines.join("\n"), blocks::SECTION_TEXT)
}

fn stages(cx: &ApprovalContext<'_>) -> String {
    let mut lines = vec!["*Stages*".to_owned()];
    for stage in &cx.view.stages {
        let mark = if stage.satisfied {
            ":white_check_mark:"
        } else if stage.current {
            ":point_right:"
        } else {
            ":white_circle:"
        };
        let approved: Vec<String> = stage.approved_by.iter().map(|p| escape(&(cx.name)(p.as_str()))).collect();
        let mut line = format!("{mark} *{}* — {} of {}", escape(&stage.name), approved.len(), stage.needed);
        if !approved.is_empty() {
            line.push_str(&format!(", approved by {}", approved.join(", ")));
        }
        if !stage.satisfied {
            let who: Vec<String> = stage
                .eligible
                .iter()
                .take(8)
                .map(|p| {
                    let name = escape(&(cx.name)(p.as_str()));
                    if stage.on_call.as_ref() == Some(p) { format!("{name} (on call)") } else { name }
                })
                .collect();
            if !who.is_empty() {
                let more = stage.eligible.len().saturating_sub(8);
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                line.push_str(&format!("; can approve: {}{more}", who.join(", ")));
            }
        }
        lines.push(line);
    }
    lines.join("\n")
}
