//! Every message and modal Docket renders stays within Block Kit's limits, for long plans, long
//! values, many parameters and many choices.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::sync::Arc;

use docket_app::{ApprovalView, Happening, StageView, TicketAction, TicketSummary, Tone};
use docket_core::catalog::param::{Choice, Pattern};
use docket_core::{ParamKind, ParamSpec, ParamValue, PersonId, Risk, TicketState, Workflow, WorkflowId};

use super::approval::{ApprovalContext, approval_message};
use super::limits::{check_message, check_view};
use super::reply::reply;
use super::ticket::ticket_message;
use crate::modals::Metadata;
use crate::modals::params::{Purpose, params_view};
use crate::modals::picker::picker_view;
use crate::modals::reason::reason_view;

fn long(n: usize) -> String {
    "x<&>".repeat(n / 4 + 1)
}

fn summary(params: usize, plan_lines: usize, risk: &str, state: TicketState) -> TicketSummary {
    TicketSummary {
        id: "DKT-123456".into(),
        title: long(300),
        workflow: "deploy".into(),
        state,
        headline: long(400),
        tone: Tone::Waiting,
        requester: long(200),
        requester_id: "alice".into(),
        params: (0..params).map(|i| (format!("param {i} {}", long(100)), long(5_000))).collect(),
        plan: (0..plan_lines).map(|i| format!("{i}. step — {}", long(400))).collect(),
        changes: None,
        digest: Some("ab".repeat(32)),
        risk: risk.into(),
        closing_reason: Some(long(10_000)),
        url: Some(format!("https://docket.example.com/{}", "p".repeat(500))),
        records: vec![("jira".into(), long(300))],
    }
}

fn view(stages: usize, people: usize) -> ApprovalView {
    ApprovalView {
        rule: Some(long(500)),
        explanation: long(5_000),
        stages: (0..stages)
            .map(|i| StageView {
                name: format!("stage-{i}-{}", long(100)),
                from: vec!["group:sre".into()],
                needed: 2,
                approved_by: (0..people).map(|p| PersonId::new(format!("a{p}"))).collect(),
                eligible: (0..people).map(|p| PersonId::new(format!("p{p}"))).collect(),
                on_call: Some(PersonId::new("p0")),
                satisfied: i == 0,
                current: i == 1,
            })
            .collect(),
        respond_by: None,
    }
}

fn assert_message(what: &str, message: &super::Message) {
    let problems = check_message(&message.text, &message.blocks);
    assert!(problems.is_empty(), "{what}: {problems:#?}");
}

#[test]
fn ticket_and_approval_messages_fit_for_long_plans_and_many_params() {
    for (params, plan) in [(0, 0), (3, 5), (100, 2_000), (300, 20)] {
        let s = summary(params, plan, "high", TicketState::AwaitingApproval);
        assert_message("ticket", &ticket_message(&s, &TicketAction::ALL));
        let name = |id: &str| format!("{id} {}", long(200));
        for closed in [None, Some(long(5_000))] {
            let cx = ApprovalContext { summary: &s, view: &view(10, 50), origin: long(300), name: &name, closed };
            let m = approval_message(&cx);
            assert_message("approval", &m);
        }
    }
}

#[test]
fn high_risk_approvals_ask_for_confirmation_and_buttons_carry_ticket_and_digest() {
    let s = summary(1, 1, "high", TicketState::AwaitingApproval);
    let name = |id: &str| id.to_owned();
    let m = approval_message(&ApprovalContext {
        summary: &s,
        view: &view(2, 2),
        origin: "in Slack".into(),
        name: &name,
        closed: None,
    });
    let actions = m.blocks.as_array().unwrap().iter().find(|b| b["type"] == "actions").unwrap();
    let approve = &actions["elements"][0];
    assert_eq!(approve["action_id"], "docket.approve");
    assert!(approve.get("confirm").is_some());
    let value: serde_json::Value = serde_json::from_str(approve["value"].as_str().unwrap()).unwrap();
    assert_eq!(value, serde_json::json!({ "ticket": "DKT-123456", "digest": "ab".repeat(32) }));
    let s = summary(1, 1, "medium", TicketState::AwaitingApproval);
    let m = approval_message(&ApprovalContext {
        summary: &s,
        view: &view(2, 2),
        origin: "in Slack".into(),
        name: &name,
        closed: None,
    });
    assert!(!m.blocks.to_string().contains("\"confirm\":{"));
}

#[test]
fn replies_fit_with_many_events_and_long_logs() {
    let happenings: Vec<Happening> = (0..40)
        .map(|i| Happening {
            text: format!("{i} {}", long(5_000)),
            tone: Tone::Bad,
            log_tail: (0..10).map(|_| long(2_000)).collect(),
            hint: Some(long(3_000)),
        })
        .collect();
    assert_message("reply", &reply(&happenings).unwrap());
    assert!(reply(&[]).is_none());
}

fn workflow(params: usize, choices: usize) -> Workflow {
    let kinds = |i: usize| match i % 5 {
        0 => ParamKind::Choice {
            choices: (0..choices)
                .map(|c| Choice::new(format!("v{c}-{}", "y".repeat(200)), format!("{c} {}", long(200))))
                .collect(),
        },
        1 => ParamKind::Boolean,
        2 => ParamKind::Text { min_length: Some(1), max_length: Some(100_000) },
        3 => ParamKind::Integer { min: Some(-5), max: Some(5) },
        _ => ParamKind::String {
            pattern: Some(Pattern::new(&format!("^{}$", "a".repeat(3_000))).unwrap()),
            min_length: None,
            max_length: Some(10),
        },
    };
    Workflow {
        id: WorkflowId::new("deploy"),
        version: "v".into(),
        title: long(500),
        description: long(10_000),
        category: long(300),
        risk: Risk::High,
        requesters: None,
        examples: Vec::new(),
        params: (0..params)
            .map(|i| ParamSpec {
                name: format!("p{i}"),
                label: long(3_000),
                help: Some(long(3_000)),
                required: i % 2 == 0,
                default: (i % 3 == 0).then(|| ParamValue::Str(long(5_000))),
                kind: kinds(i),
            })
            .collect(),
        mirror: None,
        matcher: Default::default(),
        concurrency: None,
        steps: Vec::new(),
        run_as: None,
    }
}

#[test]
fn modals_fit_for_many_params_and_many_choices() {
    let meta = Metadata { context: Some(long(10_000)), channel: Some("C1".into()), ..Metadata::default() };
    for (params, choices) in [(1, 1), (5, 100), (5, 101), (150, 250), (10, 20_000)] {
        let w = workflow(params, choices);
        for purpose in [Purpose::Request, Purpose::Amend] {
            let problems: Vec<(String, String)> = (0..10).map(|i| (format!("p{i}"), long(1_000))).collect();
            let v = params_view(&w, &Default::default(), &meta, purpose, &problems);
            let found = check_view(&v);
            assert!(found.is_empty(), "{params} params, {choices} choices: {found:#?}");
        }
    }
    let many: Vec<Arc<Workflow>> = (0..250)
        .map(|i| {
            let mut w = workflow(0, 0);
            w.id = WorkflowId::new(format!("w{i}"));
            w.category = format!("c{}", i % 3);
            Arc::new(w)
        })
        .collect();
    for n in [0, 1, 100, 101, 250] {
        let found = check_view(&picker_view(&many[..n], &meta, Some(&long(5_000))));
        assert!(found.is_empty(), "{n} workflows: {found:#?}");
    }
    for action in ["reject", "request_changes", "comment"] {
        let found = check_view(&reason_view(action, "DKT-1", &long(5_000), &meta));
        assert!(found.is_empty(), "{action}: {found:#?}");
    }
}

#[test]
fn the_checker_catches_what_slack_refuses() {
    let blocks = serde_json::json!((0..51).map(|_| serde_json::json!({ "type": "divider" })).collect::<Vec<_>>());
    assert!(!check_message("x", &blocks).is_empty());
    let header = serde_json::json!([{ "type": "header", "text": { "type": "plain_text", "text": "h".repeat(151) } }]);
    assert!(!check_message("x", &header).is_empty());
    assert!(!check_message("", &serde_json::json!([])).is_empty());
}

fn brief(n: usize) -> docket_app::ChangesBrief {
    use docket_core::plan::{Change, ChangeAction, StepPlan};
    let changes = (0..n)
        .map(|i| {
            let action = if i % 50 == 7 { ChangeAction::Delete } else { ChangeAction::Create };
            Change::new(format!("module.m{i}.aws_instance.web[\"{}\"]", long(60)), action)
        })
        .collect();
    let step = StepPlan {
        name: "net".into(),
        kind: "terraform".into(),
        summary: String::new(),
        details: Vec::new(),
        action: serde_json::Value::Null,
        output: None,
        facts: docket_core::PlanFacts { changes, ..docket_core::PlanFacts::default() },
    };
    docket_app::ChangesBrief::of(&docket_core::Plan { steps: vec![step] }).unwrap()
}

#[test]
fn approval_messages_lead_with_the_changes_destroys_first_within_limits() {
    let name = |id: &str| id.to_owned();
    for n in [1, 12, 500] {
        // A realistic ticket around the changes (the message's total text budget is shared).
        let mut s = summary(0, 3, "high", TicketState::AwaitingApproval);
        s.params = vec![("Environment".into(), "prod".into())];
        (s.title, s.headline, s.requester, s.closing_reason) =
            ("Network".into(), "Waiting".into(), "Alice".into(), None);
        s.changes = Some(brief(n));
        let mut v = view(2, 2);
        (v.rule, v.explanation) = (Some("infrastructure".into()), "needs 1 approval from sre".into());
        let m = approval_message(&ApprovalContext {
            summary: &s,
            view: &v,
            origin: "in Slack".into(),
            name: &name,
            closed: None,
        });
        assert_message("approval with changes", &m);
        let blocks = m.blocks.as_array().unwrap();
        let at = blocks
            .iter()
            .position(|b| b["text"]["text"].as_str().is_some_and(|t| t.starts_with("*Changes:*")))
            .unwrap();
        assert!(at <= 2, "the changes come right after who asks for what");
        let text = blocks[at]["text"]["text"].as_str().unwrap();
        let first = text.lines().nth(1).unwrap();
        if n > 7 {
            assert!(first.starts_with("*⚠ destroy module.m"), "{first}");
        }
        if n == 500 {
            assert!(text.starts_with("*Changes:* 490 to add, 10 to destroy"), "{text}");
            assert!(
                text.contains("more changes on the ticket&#39;s page")
                    || text.contains("more changes on the ticket's page"),
                "{text}"
            );
        }
    }
}
