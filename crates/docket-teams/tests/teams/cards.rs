//! Every card Docket renders is an Adaptive Card 1.5 that Teams accepts and stays under 28 KB,
//! however long the plan or however many the parameters.

use docket_app::{Happening, TicketAction, TicketSummary, Tone};
use docket_core::{FieldError, RawParams, TicketState};
use docket_teams::cards::approval::{ApprovalCard, approval_card};
use docket_teams::cards::check::check;
use docket_teams::cards::form::request_form;
use docket_teams::cards::ticket::ticket_card;
use docket_teams::cards::{MAX_CARD_BYTES, replies};
use docket_testkit::TestApp;
use serde_json::{Value, json};

fn size(card: &Value) -> usize {
    serde_json::to_vec(card).unwrap().len()
}

#[allow(clippy::print_stderr, reason = "the sizes are shown with --nocapture")]
fn assert_fits(what: &str, card: &Value) {
    check(card).unwrap_or_else(|p| panic!("{what}: {p:#?}"));
    assert!(size(card) < MAX_CARD_BYTES, "{what}: {} bytes", size(card));
    eprintln!("{what}: {} bytes", size(card));
}

/// A workflow with `n` parameters of every type, long labels, help and choices.
fn big_workflow(n: usize) -> String {
    let mut yaml = String::from(
        "id: big\ntitle: A workflow with a great many parameters\ndescription: Many fields.\nexamples: [\"big {p0}\"]\nparams:\n",
    );
    let long = "x".repeat(300);
    for i in 0..n {
        let spec = match i % 5 {
            0 => {
                let choices: Vec<String> =
                    (0..150).map(|c| format!("{{value: v{c}, label: \"choice {c} {}\"}}", "y".repeat(80))).collect();
                format!("{{ name: p{i}, type: choice, choices: [{}], help: \"{long}\" }}", choices.join(", "))
            }
            1 => format!(
                "{{ name: p{i}, type: string, pattern: '^[a-z]{{1,40}}-\\d+$', max_length: 64, label: \"{long}\", help: \"{long}\" }}"
            ),
            2 => format!("{{ name: p{i}, type: text, required: false, max_length: 5000, help: \"{long}\" }}"),
            3 => format!("{{ name: p{i}, type: integer, min: 1, max: 100, default: 5 }}"),
            _ => format!("{{ name: p{i}, type: boolean, default: false }}"),
        };
        yaml.push_str(&format!("  - {spec}\n"));
    }
    yaml.push_str("steps:\n  - name: s\n    exec: [echo, hi]\n");
    yaml
}

#[tokio::test]
async fn forms_of_many_parameters_fit() {
    for n in [3, 12, 40, 120] {
        let t = TestApp::builder().without_engine().workflow("big.yaml", &big_workflow(n)).start().await;
        let workflow = t.app.workflow(&"big".into()).unwrap();
        let empty = request_form(&workflow, &RawParams::new(), &[], None);
        assert_fits(&format!("{n} params, empty"), &empty);
        let values: RawParams = (0..n).map(|i| (format!("p{i}"), json!("z".repeat(3000)))).collect();
        let errors: Vec<FieldError> =
            (0..n).map(|i| FieldError { param: format!("p{i}"), message: "wrong ".repeat(200) }).collect();
        let filled = request_form(&workflow, &values, &errors, Some(&"note ".repeat(500)));
        assert_fits(&format!("{n} params, filled with errors"), &filled);
        if n <= 12 {
            let inputs = filled["body"].as_array().unwrap().iter().filter(|e| e.get("id").is_some()).count();
            assert_eq!(inputs, n, "every parameter has its field");
            assert!(filled["actions"][0]["verb"] == "submit_request");
        }
        t.stop().await;
    }
}

fn summary(params: usize, plan_lines: usize) -> TicketSummary {
    TicketSummary {
        id: "DKT-4242".into(),
        title: "T".repeat(500),
        workflow: "big".into(),
        state: TicketState::Failed,
        headline: "Failed".into(),
        tone: Tone::Bad,
        requester: "Alice Ng".into(),
        requester_id: "alice".into(),
        params: (0..params).map(|i| (format!("label {i} {}", "l".repeat(100)), "v".repeat(2000))).collect(),
        plan: (0..plan_lines).map(|i| format!("{i}. step — {}", "p*[_]`".repeat(60))).collect(),
        changes: None,
        digest: Some("ab".repeat(32)),
        risk: "high".into(),
        closing_reason: Some("r".repeat(5000)),
        url: Some("https://docket.example.com/tickets/DKT-4242".into()),
        records: vec![("jira".into(), "OPS-4242".into())],
    }
}

#[test]
fn ticket_and_approval_cards_of_long_plans_fit() {
    let failure = Happening {
        text: "Step s failed: ".to_owned() + &"e".repeat(3000),
        tone: Tone::Bad,
        log_tail: (0..10).map(|i| format!("line {i} {}", "o".repeat(1000))).collect(),
        hint: Some("Read the whole log on the ticket's page.".into()),
    };
    for (params, lines) in [(0, 0), (3, 5), (40, 3000), (200, 20_000)] {
        let s = summary(params, lines);
        let card = ticket_card(&s, &[failure.clone(), failure.clone(), failure.clone(), failure.clone()]);
        assert_fits(&format!("ticket card {params}/{lines}"), &card);
        if lines > 100 {
            let text = card.to_string();
            assert!(text.contains("more lines — [see the whole plan](https://docket.example.com/tickets/DKT-4242)"));
        }
        let approval = ApprovalCard {
            summary: &s,
            rule: Some("production"),
            explanation: &"because ".repeat(300),
            stage: "lead",
            round: 3,
            status: ("Waiting for 1 approval for stage lead".into(), Tone::Waiting),
            stages: (0..20).map(|i| format!("Stage {i}: {}", "w".repeat(500))).collect(),
            actions: vec![TicketAction::Approve, TicketAction::Reject, TicketAction::RequestChanges],
            notice: Some("Refused: ".to_owned() + &"n".repeat(3000)),
            refresh_users: (0..100).map(|i| format!("29:user-{i}")).collect(),
        };
        let card = approval_card(&approval);
        assert_fits(&format!("approval card {params}/{lines}"), &card);
        assert_eq!(card["refresh"]["userIds"].as_array().unwrap().len(), 60);
        let verbs: Vec<&str> = card["actions"].as_array().unwrap().iter().filter_map(|a| a["verb"].as_str()).collect();
        assert_eq!(verbs, ["approve", "reject", "request_changes"]);
    }
}

fn brief(n: usize) -> docket_app::ChangesBrief {
    use docket_core::plan::{Change, ChangeAction, StepPlan};
    let changes = (0..n)
        .map(|i| {
            let action = if i % 50 == 7 { ChangeAction::Replace } else { ChangeAction::Update };
            Change::new(format!("module.m{i}.aws_instance.web[\"{}\"]", "*_[".repeat(30)), action)
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
fn approval_cards_lead_with_the_changes_replaces_first_within_limits() {
    for n in [1, 12, 500] {
        let mut s = summary(3, 3);
        s.changes = Some(brief(n));
        let approval = ApprovalCard {
            summary: &s,
            rule: Some("infrastructure"),
            explanation: "needs 1 approval from sre",
            stage: "sre",
            round: 1,
            status: ("Waiting for approval (stage sre)".into(), Tone::Waiting),
            stages: vec!["Stage sre: 0 of 1".into()],
            actions: vec![TicketAction::Approve, TicketAction::Reject, TicketAction::RequestChanges],
            notice: None,
            refresh_users: vec!["29:bob".into()],
        };
        let card = approval_card(&approval);
        assert_fits(&format!("approval card with {n} changes"), &card);
        let body = card["body"].as_array().unwrap();
        assert!(body[2]["text"].as_str().unwrap().starts_with("Changes: "), "the changes lead: {}", body[2]);
        if n > 7 {
            assert_eq!(body[3]["color"], "Attention");
            assert!(body[3]["text"].as_str().unwrap().starts_with("⚠ replace module.m"), "{}", body[3]);
        }
        if n == 500 {
            assert_eq!(body[2]["text"], "Changes: 490 to change, 10 to replace");
            assert!(
                card.to_string()
                    .contains("more changes on the ticket's page](https://docket.example.com/tickets/DKT-4242)")
            );
        }
    }
}

#[test]
fn small_answers_fit() {
    assert_fits("note", &replies::note(&"n".repeat(10_000)));
    assert_fits("help", &replies::help(&docket_app::ChatHelp { commands: Vec::new(), examples: Vec::new() }));
    let long = ("w".repeat(1_000), "e".repeat(10_000));
    assert_fits(
        "help",
        &replies::help(&docket_app::ChatHelp { commands: vec![long.clone(); 10], examples: vec![long; 10] }),
    );
    assert_fits("no match", &replies::no_match(&"w".repeat(10_000), &[]));
}

#[test]
fn the_checker_finds_what_teams_would_refuse() {
    let good = json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "TextBlock", "text": "hi" }] });
    assert_eq!(check(&good), Ok(()));
    let cases = [
        (json!({ "type": "AdaptiveCard", "version": "1.6", "body": [] }), "version"),
        (json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "Media" }] }), "unknown element type"),
        (json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "Table" }] }), "columns is not a list"),
        (
            json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "Table", "columns": [{ "width": 1 }],
                "rows": [{ "type": "TableRow", "cells": [{ "type": "TableCell", "items": [] }, { "type": "TableCell", "items": [] }] }] }] }),
            "at most 1 cells",
        ),
        (json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "TextBlock" }] }), "text is missing"),
        (
            json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "TextBlock", "text": "a", "colour": "red" }] }),
            "unknown property",
        ),
        (json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "Input.Text" }] }), "needs an id"),
        (
            json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "Input.Text", "id": "a" }, { "type": "Input.Toggle", "id": "a", "title": "t" }] }),
            "used twice",
        ),
        (
            json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "Input.Text", "id": "a", "regex": "x" }] }),
            "regex without errorMessage",
        ),
        (
            json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "Input.Number", "id": "n", "min": 5, "max": 1 }] }),
            "min is greater",
        ),
        (
            json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "Input.ChoiceSet", "id": "c", "choices": [{ "title": "a", "value": "a" }], "value": "b" }] }),
            "not one of the choices",
        ),
        (
            json!({ "type": "AdaptiveCard", "version": "1.5", "body": [], "actions": [{ "type": "Action.Http", "title": "x" }] }),
            "unknown action type",
        ),
        (
            json!({ "type": "AdaptiveCard", "version": "1.5", "body": [], "refresh": { "action": { "type": "Action.Submit" } } }),
            "not an Action.Execute",
        ),
        (
            json!({ "type": "AdaptiveCard", "version": "1.5", "body": [], "refresh": { "action": { "type": "Action.Execute", "verb": "r" }, "userIds": (0..61).map(|i| i.to_string()).collect::<Vec<_>>() } }),
            "at most 60",
        ),
        (
            json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "TextBlock", "text": "x".repeat(30_000) }] }),
            "bytes",
        ),
    ];
    for (card, problem) in cases {
        let problems = check(&card).expect_err(problem);
        assert!(problems.iter().any(|p| p.contains(problem)), "{problem}: {problems:?}");
    }
}
