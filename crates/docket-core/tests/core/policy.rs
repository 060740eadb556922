//! Policy decisions and their explanations.

use docket_core::policy::{self, Outcome, Variables};
use docket_core::*;
use jiff::Timestamp;

use crate::fixtures::*;

fn decide_for(world: &World, environment: &str, requester: &str, now: Timestamp) -> Decision {
    let params = validate_params(&world.workflow.params, &raw(environment)).unwrap();
    let person = PersonId::new(requester);
    let groups = world.directory.groups_of(&person);
    let vars = Variables::new(&world.workflow, &params, &person, &groups, now, &world.zone);
    policy::decide(&world.policies, &vars)
}

#[test]
fn decisions_explain_themselves() {
    let world = World::new(Risk::High);
    let d = decide_for(&world, "prod", "alice", tuesday());
    assert_eq!(
        d.explanation,
        r#"needs 1 approval from sre, then 1 approval from security because rule `production` matched: params.environment == "prod""#
    );
    let world = World::new(Risk::Medium);
    let d = decide_for(&world, "prod", "alice", tuesday());
    assert_eq!(
        d.explanation,
        r#"needs 1 approval from sre because rule `production` matched: params.environment == "prod"; stage `security` is not needed because workflow.risk == "high" is false"#
    );
    let d = decide_for(&world, "prod", "alice", saturday());
    assert!(matches!(d.outcome, Outcome::Deny { ref message } if message == "Production is frozen at weekends."));
    assert!(d.explanation.starts_with("denied because rule `weekend-freeze` matched"), "{}", d.explanation);
    let d = decide_for(&world, "staging", "alice", tuesday());
    assert!(matches!(d.outcome, Outcome::AutoApprove { .. }));
    assert_eq!(
        d.explanation,
        r#"approved automatically because rule `staging` matched: params.environment == "staging""#
    );
    let d = decide_for(&world, "dev", "alice", tuesday());
    assert_eq!(d.rule, None);
    assert!(matches!(d.outcome, Outcome::Deny { .. }), "no rule matched: denied by default");
}

#[test]
fn conditions_see_requester_time_and_workflow() {
    let mut world = World::new(Risk::Low);
    let when = r#"requester.id == "alice" && "dev" in requester.groups && now.hour == 10 && now.minute == 0
        && now.date == "2026-11-24" && now.time == "10:00" && now.weekday == "Tue"
        && workflow.id == "deploy-service" && workflow.category == "Deployments" && workflow.risk == "low""#;
    world.policies.rules.insert(
        0,
        policy::Rule {
            name: "everything-visible".into(),
            when: policy::Condition::compile(when).unwrap(),
            outcome: policy::RuleOutcome::AutoApprove,
            approval_ttl: Duration::from_secs(60),
            request_ttl: Duration::from_secs(60),
            notify: Default::default(),
            mirror: None,
        },
    );
    assert_eq!(decide_for(&world, "prod", "alice", tuesday()).rule.as_deref(), Some("everything-visible"));
    assert_eq!(decide_for(&world, "prod", "mallory", tuesday()).rule.as_deref(), Some("production"));
}

#[test]
fn a_rule_that_cannot_be_evaluated_denies() {
    let mut world = World::new(Risk::Low);
    world.policies.rules.insert(
        0,
        policy::Rule {
            name: "broken".into(),
            when: policy::Condition::compile(r#"params.version > 3"#).unwrap(),
            outcome: policy::RuleOutcome::AutoApprove,
            approval_ttl: Duration::from_secs(60),
            request_ttl: Duration::from_secs(60),
            notify: Default::default(),
            mirror: None,
        },
    );
    let d = decide_for(&world, "staging", "alice", tuesday());
    assert!(matches!(d.outcome, Outcome::Deny { .. }), "fail closed: {d:?}");
    assert!(d.explanation.contains("could not be evaluated"), "{}", d.explanation);
}

#[test]
fn a_parameter_the_workflow_lacks_does_not_match() {
    let mut world = World::new(Risk::Low);
    world.policies.rules.insert(
        0,
        policy::Rule {
            name: "db-only".into(),
            when: policy::Condition::compile(r#"params.database == "billing""#).unwrap(),
            outcome: policy::RuleOutcome::Deny("no".into()),
            approval_ttl: Duration::from_secs(60),
            request_ttl: Duration::from_secs(60),
            notify: Default::default(),
            mirror: None,
        },
    );
    assert_eq!(decide_for(&world, "staging", "alice", tuesday()).rule.as_deref(), Some("staging"));
}

#[test]
fn conditions_are_checked_when_compiled() {
    let err = policy::Condition::compile("1 +* 2").unwrap_err();
    assert_eq!((err.line, err.column), (1, 4), "at the `*`: {err:?}");
    let err = policy::Condition::compile(
        r#""parms" == "x" &&
  parms.environment == "prod""#,
    )
    .unwrap_err();
    assert_eq!((err.line, err.column), (2, 3), "at the identifier, not inside the string");
    assert_eq!(err.message, "unknown variable `parms`");
    assert_eq!(err.hint.as_deref(), Some("did you mean `params`?"));
    let err = policy::Condition::compile(r#"workflow.rsk == "high""#).unwrap_err();
    assert_eq!(
        (err.message.as_str(), err.hint.as_deref(), err.column),
        ("`workflow` has no field `rsk`", Some("did you mean `risk`?"), 10)
    );
    let c = policy::Condition::compile(r#"params.environment == "prod" && has(params.reason) && xparams.x == 1"#);
    assert!(c.is_err(), "xparams is not a variable");
    let c = policy::Condition::compile(r#"params.environment == "prod" && has(params.reason)"#).unwrap();
    let names: Vec<&str> = c.param_refs().into_iter().map(|(_, name)| name).collect();
    assert_eq!(names, ["environment", "reason"]);
}

#[test]
fn on_call_resolution_puts_the_on_call_person_first() {
    let world = World::new(Risk::Low);
    let from = vec![Principal::parse("group:sre").unwrap(), Principal::parse("oncall:sre-primary").unwrap()];
    let t = tuesday();
    let on_call = world.directory.rotation(&RotationId::new("sre-primary")).unwrap().on_call(t).unwrap().clone();
    let people = world.directory.resolve(&from, t);
    assert_eq!(people[0], on_call);
    assert_eq!(people.len(), 3, "bob, carol, erin once each: {people:?}");
}
