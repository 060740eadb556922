//! Structured plans: the digest covers the changes, policies read `plan.*`, and a decision that
//! does not need the plan is taken before planning (a denied request is never planned).

use docket_core::plan::{Change, ChangeAction};
use docket_core::policy::{self, Condition, Outcome, RuleOutcome, Variables};
use docket_core::*;
use serde_json::json;

use crate::fixtures::*;

fn planned(changes: Vec<Change>, rows: Option<u64>) -> Plan {
    let world = World::new(Risk::Medium);
    let params = validate_params(&world.workflow.params, &raw("prod")).unwrap();
    let mut plan = docket_core::plan::render_plan(&world.workflow, &params, &redact::Redactor::default());
    plan.steps[0].facts = PlanFacts { changes, rows_changed: rows, saved_file: Some("ab".repeat(32)) };
    plan
}

fn change(target: &str, action: ChangeAction) -> Change {
    Change { target: target.into(), action, before: json!({"size": 1}), after: json!({"size": 2}) }
}

#[test]
fn the_digest_covers_changes_and_the_saved_file() {
    let world = World::new(Risk::Medium);
    let params = validate_params(&world.workflow.params, &raw("prod")).unwrap();
    let digest = |plan: &Plan| Digest::of("deploy", "v1", &params, plan);
    let base = planned(vec![change("a.b", ChangeAction::Update)], None);
    let mut other_value = base.clone();
    other_value.steps[0].facts.changes[0].after = json!({"size": 3});
    let mut other_action = base.clone();
    other_action.steps[0].facts.changes[0].action = ChangeAction::Replace;
    let mut other_file = base.clone();
    other_file.steps[0].facts.saved_file = Some("cd".repeat(32));
    for changed in [&other_value, &other_action, &other_file] {
        assert_ne!(digest(&base), digest(changed));
    }
    assert_eq!(digest(&base), digest(&base.clone()));
}

#[test]
fn secrets_in_changes_are_masked_before_a_plan_exists() {
    let world = World::new(Risk::Medium);
    let params = validate_params(&world.workflow.params, &raw("prod")).unwrap();
    let redactor = redact::Redactor::new(["s3cr3t-value".to_owned()]);
    let facts = PlanFacts {
        changes: vec![Change {
            target: "x.s3cr3t-value".into(),
            action: ChangeAction::Create,
            before: json!(null),
            after: json!({"password": "s3cr3t-value"}),
        }],
        ..PlanFacts::default()
    };
    let step = StepPlan::with_facts(&world.workflow.steps[0], &params, None, facts, &redactor);
    let text = serde_json::to_string(&step).unwrap();
    assert!(!text.contains("s3cr3t-value"), "{text}");
}

#[test]
fn policies_read_the_plan() {
    let world = World::new(Risk::Medium);
    let params = validate_params(&world.workflow.params, &raw("dev")).unwrap();
    let person = PersonId::new("alice");
    let plan = planned(
        vec![
            change("aws_db.main", ChangeAction::Delete),
            change("aws_vpc.x", ChangeAction::Replace),
            change("aws_s3.y", ChangeAction::Create),
            change("aws_s3.z", ChangeAction::NoOp),
            change("data.q", ChangeAction::Read),
        ],
        Some(7),
    );
    let vars = Variables::new(&world.workflow, &params, &person, &[], tuesday(), &world.zone).with_plan(&plan);
    for (condition, expected) in [
        ("plan.deletes == 1 && plan.replaces == 1 && plan.creates == 1 && plan.updates == 0", true),
        ("plan.rows_changed == 7", true),
        (r#"plan.targets == ["aws_db.main", "aws_vpc.x", "aws_s3.y"]"#, true),
        (r#"plan.targets.exists(t, t.startsWith("aws_db."))"#, true),
        ("plan.deletes > 1", false),
    ] {
        assert_eq!(Condition::compile(condition).unwrap().eval(&vars), Ok(expected), "{condition}");
    }
    let typo = Condition::compile("plan.delets > 0").unwrap_err();
    assert!(typo.message.contains("`plan` has no field `delets`"), "{}", typo.message);
}

fn plan_policies() -> PolicySet {
    PolicySet {
        rules: vec![
            rule(
                "weekend-freeze",
                r#"now.weekday in ["Sat", "Sun"]"#,
                RuleOutcome::Deny("Nothing changes at weekends.".into()),
            ),
            rule(
                "nothing-changes",
                "plan.creates + plan.updates + plan.replaces + plan.deletes == 0",
                RuleOutcome::AutoApprove,
            ),
            rule(
                "default",
                "true",
                RuleOutcome::Stages(vec![
                    stage("sre", &["group:sre"], 1, None),
                    stage("security", &["group:security"], 1, Some("plan.deletes > 0")),
                ]),
            ),
        ],
    }
}

#[test]
fn decisions_that_need_no_plan_are_taken_before_it() {
    let mut world = World::new(Risk::Medium);
    world.policies = plan_policies();
    let params = validate_params(&world.workflow.params, &raw("dev")).unwrap();
    let person = PersonId::new("alice");
    let weekend = Variables::new(&world.workflow, &params, &person, &[], saturday(), &world.zone);
    let before = policy::decide_before_plan(&world.policies, &weekend).expect("the freeze needs no plan");
    assert!(matches!(before.outcome, Outcome::Deny { .. }));
    let weekday = Variables::new(&world.workflow, &params, &person, &[], tuesday(), &world.zone);
    assert_eq!(policy::decide_before_plan(&world.policies, &weekday), None, "the next rule reads the plan");

    // Planned: an all-no-op plan is approved at once; a delete asks security too.
    let quiet = planned(vec![change("a", ChangeAction::NoOp)], None);
    let d = policy::decide(&world.policies, &with_plan(&world, &params, &person, &quiet));
    assert!(matches!(d.outcome, Outcome::AutoApprove { .. }), "{}", d.explanation);
    let deleting = planned(vec![change("a", ChangeAction::Delete)], None);
    let d = policy::decide(&world.policies, &with_plan(&world, &params, &person, &deleting));
    let Outcome::Approvals(req) = d.outcome else { panic!("{}", d.explanation) };
    assert_eq!(req.stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["sre", "security"]);
}

#[test]
fn a_request_denied_without_its_plan_is_never_planned() {
    let mut world = World::new(Risk::Medium);
    world.policies = plan_policies();
    let d = Driven::request(&world, "dev", saturday());
    assert_eq!(d.ticket.state, TicketState::Denied);
    assert_eq!(d.ticket.plan, None);
    assert_eq!(d.ticket.closing_reason.as_deref(), Some("Nothing changes at weekends."));
    let d = Driven::request(&world, "dev", tuesday());
    assert_eq!(d.ticket.state, TicketState::Planning, "a weekday request waits for its plan");
}

fn with_plan(world: &World, params: &Params, person: &PersonId, plan: &Plan) -> Variables {
    Variables::new(&world.workflow, params, person, &[], tuesday(), &world.zone).with_plan(plan)
}
