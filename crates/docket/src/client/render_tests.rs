//! Rendering tickets from JSON fixtures shaped like the API's views.

use super::*;
use crate::client::model::Ticket;

const AWAITING: &str = include_str!("fixtures/awaiting.json");
const FAILED: &str = include_str!("fixtures/failed.json");

fn ticket(json: &str) -> Ticket {
    serde_json::from_str(json).unwrap()
}

/// The awaiting fixture with `patch`'s top-level fields replaced.
fn awaiting_with(patch: serde_json::Value) -> Ticket {
    let mut value: serde_json::Value = serde_json::from_str(AWAITING).unwrap();
    for (key, field) in patch.as_object().unwrap() {
        value[key] = field.clone();
    }
    serde_json::from_value(value).unwrap()
}

fn ui() -> Ui {
    Ui::plain("2026-01-05T10:47:30Z")
}

fn shown(write: impl Fn(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_new_ticket_shows_its_plan_digest_and_what_happens_next() {
    let t = ticket(AWAITING);
    assert_eq!(
        shown(|o| write_created(o, &ui(), &t, true)),
        "DKT-42 opened: Deploy a service (deploy-service)
state      awaiting_approval
plan       digest 3f5a9c0e12ab
  1. rollout (exec)
     kubectl --context prod set image deployment/api app=registry.example.com/api:1.4.2
     │ -  image: api:1.4.1
     │ +  image: api:1.4.2
  2. bake (wait)
     wait 2m
  3. notify (http)
     POST https://hooks.example.com/deploys
next       waiting for approval: stage lead (1 of group:sre), then security
"
    );
}

#[test]
fn show_has_params_stages_and_comments() {
    let t = ticket(AWAITING);
    let text = shown(|o| write_ticket(o, &ui(), &t));
    let expected_start = "DKT-42  Deploy a service (deploy-service@9c1d2e3f4a5b)
state      awaiting_approval  — waiting for approval: stage lead (1 of group:sre), then security
requester  alice
opened     2026-01-05 10:42 (5m ago)
respond by 2026-01-06 10:42
params
  environment  prod
  replicas     3
  service      api
  version      1.4.2
plan       digest 3f5a9c0e12ab
";
    assert!(text.starts_with(expected_start), "{text}");
    let expected_end = "approval   policy production needs approval
           params.environment == \"prod\" holds
  · lead      1 of group:sre; needs 1 more
  · security  1 of group:security; needs 1 more
comments
  2026-01-05 10:43 alice: needed for the 2pm launch
";
    assert!(text.ends_with(expected_end), "{text}");
}

#[test]
fn show_has_runs_with_step_status_exit_code_and_duration() {
    let t = ticket(FAILED);
    let text = shown(|o| write_ticket(o, &ui(), &t));
    assert!(text.contains("state      failed  — failed at step 2 smoke (exit 3): the query failed\n"), "{text}");
    assert!(text.contains("     reports: SELECT count(*) FROM deploys WHERE version = $1 [1.4.2]\n"), "{text}");
    assert!(text.contains("approval   policy everything-else approves automatically\n"), "{text}");
    let runs = "run 1      started 2026-01-05 10:44, failed in 1m 3s
  1. rollout  succeeded  12s
  2. smoke    failed     exit 3  51s  (2 attempts)  relation \"deploys\" does not exist
comments
  2026-01-05 10:45 system: run 1 failed
closed     run 1 failed at step smoke
";
    assert!(text.ends_with(runs), "{text}");
}

#[test]
fn stages_show_who_approved_and_who_is_still_needed() {
    let t = awaiting_with(serde_json::json!({
        "decision": {"rule": "production", "outcome": "approvals", "explanation": "", "stages": [
            {"name": "lead", "count": 2, "from": ["group:sre", "oncall:sre-primary"], "approvers": ["bob"], "satisfied": false},
            {"name": "security", "count": 1, "from": ["group:security"], "approvers": [], "satisfied": false}]},
        "reviews": [{"person": "bob", "verdict": "approve", "stage": "lead", "comment": "diff looks right", "at": "2026-01-05T10:44:00Z"}]
    }));
    let text = shown(|o| write_ticket(o, &ui(), &t));
    assert!(
        text.contains("  · lead      2 of group:sre, oncall:sre-primary; approved by bob; needs 1 more\n"),
        "{text}"
    );
    assert!(text.contains("  2026-01-05 10:44 bob approved: diff looks right\n"), "{text}");
    assert_eq!(
        next_step(&t),
        "waiting for approval: stage lead (1 of 2 from group:sre, oncall:sre-primary; approved by bob), then security"
    );
}

#[test]
fn what_happens_next_in_each_state() {
    let auto =
        serde_json::json!({"rule": "everything-else", "outcome": "auto_approve", "explanation": "", "stages": []});
    let t = awaiting_with(serde_json::json!({"state": "queued", "decision": auto}));
    assert_eq!(next_step(&t), "auto-approved; queued");
    assert_eq!(progress(&t), "queued…");
    let t = awaiting_with(serde_json::json!({"state": "approved", "decision": auto}));
    assert_eq!(next_step(&t), "auto-approved; starting");
    let run = serde_json::json!([{"number": 1, "started_at": "2026-01-05T10:44:00Z", "steps": [
        {"index": 0, "name": "rollout", "started_at": "2026-01-05T10:44:00Z", "finished_at": "2026-01-05T10:44:03Z",
         "outcome": {"status": "succeeded"}},
        {"index": 1, "name": "bake", "started_at": "2026-01-05T10:44:03Z"}]}]);
    let t = awaiting_with(serde_json::json!({"state": "running", "decision": auto, "runs": run}));
    assert_eq!(next_step(&t), "auto-approved; running step 2/3 bake");
    assert_eq!(progress(&t), "running step 2/3 bake…");
    let deny = serde_json::json!({"rule": "weekend-freeze", "outcome": "deny", "message": "Production is frozen at weekends."});
    let t = awaiting_with(serde_json::json!({"state": "denied", "decision": deny}));
    assert_eq!(next_step(&t), "denied by policy weekend-freeze: Production is frozen at weekends.");
    let t = awaiting_with(serde_json::json!({"state": "changes_requested", "reviews": [
        {"person": "bob", "verdict": "request_changes", "comment": "use 1.4.3", "at": "2026-01-05T10:44:00Z"}]}));
    assert_eq!(next_step(&t), "changes requested by bob: use 1.4.3");
    let t = awaiting_with(serde_json::json!({"state": "rejected", "closing_reason": "not this week"}));
    assert_eq!(next_step(&t), "rejected: not this week");
    let t = awaiting_with(serde_json::json!({"state": "cancelled"}));
    assert_eq!(next_step(&t), "cancelled");
    let t = awaiting_with(serde_json::json!({"state": "planning", "plan": null, "digest": null}));
    assert_eq!(progress(&t), "planning…");
    assert_eq!(shown(|o| write_plan(o, &ui(), &t)), "plan       (none yet)\n");
    assert_eq!(progress(&ticket(AWAITING)), "waiting for approval: stage lead (1 of group:sre), then security…");
}

#[test]
fn a_finished_ticket_shows_how_it_ended_not_what_it_waited_for() {
    let run = serde_json::json!([{"number": 1, "started_at": "2026-01-05T10:44:00Z", "finished_at": "2026-01-05T10:45:03Z",
        "outcome": {"status": "succeeded"}, "steps": [
        {"index": 0, "name": "rollout", "started_at": "2026-01-05T10:44:00Z", "finished_at": "2026-01-05T10:45:03Z",
         "outcome": {"status": "succeeded"}}]}]);
    let t = awaiting_with(serde_json::json!({"state": "succeeded", "runs": run,
        "respond_by": "2026-01-06T10:42:00Z", "start_by": "2026-01-05T11:44:00Z"}));
    let text = shown(|o| write_ticket(o, &ui(), &t));
    assert!(text.contains("\nstate      succeeded\n"), "{text}");
    assert!(text.contains("\nended      2026-01-05 10:45 (2m ago)\n"), "{text}");
    assert!(!text.contains("respond by") && !text.contains("start by"), "{text}");
    assert!(text.contains("approval   policy production required approval\n"), "{text}");
    assert!(!text.contains("needs 1 more"), "{text}");

    let t = awaiting_with(serde_json::json!({"state": "rejected", "closing_reason": "not this week"}));
    let text = shown(|o| write_ticket(o, &ui(), &t));
    assert!(text.contains("\nstate      rejected  — rejected: not this week\n"), "{text}");
    assert!(!text.contains("closed "), "the reason is said once: {text}");

    let t = awaiting_with(serde_json::json!({"state": "queued", "start_by": "2026-01-05T11:44:00Z"}));
    let text = shown(|o| write_ticket(o, &ui(), &t));
    assert!(text.contains("\nstart by   2026-01-05 11:44\n") && !text.contains("respond by"), "{text}");
}

#[test]
fn steps_still_to_run_are_counted_in_words() {
    let run = |finished: usize| {
        let steps: Vec<serde_json::Value> = (0..finished)
            .map(|i| {
                serde_json::json!({"index": i, "name": "s", "started_at": "2026-01-05T10:44:00Z",
                "finished_at": "2026-01-05T10:44:01Z", "outcome": {"status": "succeeded"}})
            })
            .collect();
        awaiting_with(serde_json::json!({"state": "running",
            "runs": [{"number": 1, "started_at": "2026-01-05T10:44:00Z", "steps": steps}]}))
    };
    assert!(shown(|o| write_ticket(o, &ui(), &run(1))).contains("  2 more steps to run\n"));
    assert!(shown(|o| write_ticket(o, &ui(), &run(2))).contains("  1 more step to run\n"));
    assert!(!shown(|o| write_ticket(o, &ui(), &run(3))).contains("to run"));
}

#[test]
fn actions_read_as_their_kind_says() {
    let step = |summary: &str| PlanStep {
        kind: "kubernetes".into(),
        summary: summary.into(),
        action: serde_json::json!({"a": 1}),
        ..PlanStep::default()
    };
    assert_eq!(
        action_text(&step("api in prod: registry/api:1.4.1 -> 1.4.2")),
        "api in prod: registry/api:1.4.1 -> 1.4.2"
    );
    // A plan stored before steps had a summary shows its kind and document.
    assert_eq!(action_text(&step("")), r#"kubernetes {"a":1}"#);
    assert_eq!(short_digest("abc"), "abc");
}

#[test]
fn a_ticket_shows_its_records_in_ticketing_systems() {
    let t = awaiting_with(serde_json::json!({"external": [
        {"system": "jira", "key": "OPS-7", "url": "https://acme.atlassian.net/browse/OPS-7"},
        {"system": "servicenow", "key": "CHG0030001", "url": null}]}));
    let text = shown(|o| write_ticket(o, &ui(), &t));
    assert!(text.contains("\njira       OPS-7  https://acme.atlassian.net/browse/OPS-7\n"), "{text}");
    assert!(text.contains("\nservicenow CHG0030001\n"), "{text}");
}
