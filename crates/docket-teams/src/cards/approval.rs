//! The approval card: what is asked (ticket, plan, parameters), the rule that requires it,
//! where each stage stands, and — for a viewer core would let act — Approve, Reject and
//! Request changes with a comment box. The copy posted to a channel shows no buttons; each
//! approver's client refreshes it (`refresh.userIds`) to the copy made for them.

use docket_app::{TicketAction, TicketSummary, Tone};
use serde_json::{Value, json};

use super::{attention, card, changes, clip, execute, facts, open_url, plan, subtle, title, toned};

/// The verb of the automatic refresh.
pub const REFRESH_VERB: &str = "refresh";
/// The id of the comment / reason box.
pub const COMMENT_INPUT: &str = "comment";
/// Stages listed on a card.
const MAX_STAGE_LINES: usize = 10;
/// Most users an automatic refresh may name.
pub const MAX_REFRESH_USERS: usize = 60;

/// What one copy of an approval card shows.
#[derive(Debug)]
pub struct ApprovalCard<'a> {
    /// The ticket.
    pub summary: &'a TicketSummary,
    /// The rule that asked for approval, and its explanation.
    pub rule: Option<&'a str>,
    /// The policy's explanation.
    pub explanation: &'a str,
    /// The stage this card asks for.
    pub stage: &'a str,
    /// The planning round it asks in.
    pub round: u32,
    /// Where this stage stands, in words.
    pub status: (String, Tone),
    /// Every stage, one line each.
    pub stages: Vec<String>,
    /// What the viewer may do now (empty for the shared copy, or when the round is over).
    pub actions: Vec<TicketAction>,
    /// Said to the viewer (a refusal, the outcome of their click).
    pub notice: Option<String>,
    /// Who should see their own copy: `29:` ids of the stage's approvers.
    pub refresh_users: Vec<String>,
}

/// The card for `a`.
pub fn approval_card(a: &ApprovalCard<'_>) -> Value {
    let s = a.summary;
    let mut body =
        vec![title(&format!("Approval: {} · {}", s.id, clip(&s.title, 100))), toned(&a.status.0, a.status.1)];
    if let Some(brief) = &s.changes {
        body.extend(changes(brief, s.url.as_deref()));
    }
    let rule = a.rule.map_or_else(|| a.explanation.to_owned(), |r| format!("Rule `{r}`: {}", a.explanation));
    body.push(subtle(&clip(&rule, 400)));
    let mut pairs = vec![("Requested by".to_owned(), s.requester.clone())];
    pairs.extend(s.params.iter().cloned());
    pairs.push(("Risk".to_owned(), s.risk.clone()));
    if let Some(digest) = &s.digest {
        pairs.push(("Plan digest".to_owned(), clip(digest, 16)));
    }
    body.push(facts(&pairs));
    body.extend(plan(&s.plan, s.url.as_deref()));
    for line in a.stages.iter().take(MAX_STAGE_LINES) {
        body.push(subtle(&clip(line, 300)));
    }
    if let Some(notice) = &a.notice {
        body.push(attention(&clip(notice, 500)));
    }
    let data =
        |verb: &str| json!({ "ticket": s.id, "digest": s.digest, "round": a.round, "stage": a.stage, "action": verb });
    let mut actions = Vec::new();
    let may = |x: TicketAction| a.actions.contains(&x);
    if may(TicketAction::Approve) || may(TicketAction::Reject) || may(TicketAction::RequestChanges) {
        body.push(json!({
            "type": "Input.Text",
            "id": COMMENT_INPUT,
            "label": "Comment (a reason is required to reject or request changes)",
            "isMultiline": true,
            "maxLength": 2000,
        }));
        if may(TicketAction::Approve) {
            actions.push(execute("Approve", "approve", data("approve"), Some("positive")));
        }
        if may(TicketAction::Reject) {
            actions.push(execute("Reject", "reject", data("reject"), Some("destructive")));
        }
        if may(TicketAction::RequestChanges) {
            actions.push(execute("Request changes", "request_changes", data("request_changes"), None));
        }
    } else if !a.refresh_users.is_empty() {
        body.push(subtle("Approvers of this stage see Approve and Reject on their own copy of this card."));
    }
    if let Some(url) = &s.url {
        actions.push(open_url("Open in Docket", url));
    }
    let mut out = card(body, actions);
    if !a.refresh_users.is_empty()
        && let Some(object) = out.as_object_mut()
    {
        let users: Vec<&String> = a.refresh_users.iter().take(MAX_REFRESH_USERS).collect();
        let action = json!({
            "type": "Action.Execute",
            "verb": REFRESH_VERB,
            "data": { "ticket": s.id, "round": a.round, "stage": a.stage },
        });
        object.insert("refresh".to_owned(), json!({ "action": action, "userIds": users }));
    }
    out
}
