//! Stages approved in a ticketing system (`from: [system:jira]`): only an approval given there
//! counts for them, by anyone known but the requester, bound to the digest and round like any
//! other; an approval given there counts for no other stage.

use docket_core::policy::{PolicySet, RuleOutcome};
use docket_core::{Command, Refusal, TicketState};

use crate::fixtures::{Driven, World, rule, stage, tuesday, who};

fn world(from: &[&str]) -> World {
    let mut world = World::new(docket_core::catalog::workflow::Risk::Low);
    world.policies = PolicySet {
        rules: vec![rule(
            "production",
            r#"params.environment == "prod""#,
            RuleOutcome::Stages(vec![stage("change", from, 1, None)]),
        )],
    };
    world
}

fn awaiting(world: &World) -> Driven {
    let mut driven = Driven::request(world, "prod", tuesday());
    driven.plan(world, tuesday());
    assert_eq!(driven.ticket.state, TicketState::AwaitingApproval);
    driven
}

fn approve_in(driven: &mut Driven, world: &World, system: &str, person: &str) -> Result<(), Refusal> {
    let command = Command::ApproveIn { system: system.to_owned(), digest: driven.digest(), comment: None };
    driven.run(world, command, &who(person), tuesday()).map(drop)
}

#[test]
fn an_approval_given_in_the_named_system_satisfies_its_stage() {
    let world = world(&["system:servicenow"]);
    let mut driven = awaiting(&world);
    approve_in(&mut driven, &world, "servicenow", "dave").unwrap();
    assert_eq!(driven.ticket.state, TicketState::Queued);
    let review = driven.ticket.reviews.last().unwrap();
    assert_eq!(review.via.as_deref(), Some("servicenow"));
    assert_eq!(review.stage.as_deref(), Some("change"));
}

#[test]
fn the_requester_cannot_approve_in_the_system_either() {
    let world = world(&["system:servicenow"]);
    let mut driven = awaiting(&world);
    assert!(matches!(approve_in(&mut driven, &world, "servicenow", "alice"), Err(Refusal::OwnTicket { .. })));
    assert_eq!(driven.ticket.state, TicketState::AwaitingApproval);
}

#[test]
fn a_chat_approval_does_not_count_for_a_system_stage_nor_another_system() {
    let world = world(&["system:jira"]);
    let mut driven = awaiting(&world);
    assert!(matches!(driven.approve(&world, "bob", tuesday()), Err(Refusal::NotEligible { .. })));
    assert!(matches!(approve_in(&mut driven, &world, "servicenow", "bob"), Err(Refusal::NotEligible { .. })));
    assert_eq!(driven.ticket.state, TicketState::AwaitingApproval);
}

#[test]
fn an_approval_in_a_system_does_not_count_for_a_people_stage() {
    let world = world(&["group:sre"]);
    let mut driven = awaiting(&world);
    assert!(matches!(approve_in(&mut driven, &world, "jira", "bob"), Err(Refusal::NotEligible { .. })));
}

#[test]
fn an_approval_in_a_system_binds_to_the_digest_it_saw() {
    let world = world(&["system:jira"]);
    let mut driven = awaiting(&world);
    let stale = docket_core::Digest::of("other", "v", &Default::default(), driven.ticket.plan.as_ref().unwrap());
    let command = Command::ApproveIn { system: "jira".to_owned(), digest: stale, comment: None };
    assert!(matches!(driven.run(&world, command, &who("bob"), tuesday()), Err(Refusal::StaleDigest { .. })));
}

fn reject_in(driven: &mut Driven, world: &World, system: &str, person: &str) -> Result<(), Refusal> {
    let command = Command::RejectIn { system: system.to_owned(), reason: format!("rejected in {system}") };
    driven.run(world, command, &who(person), tuesday()).map(drop)
}

#[test]
fn a_rejection_given_in_the_named_system_rejects_the_ticket() {
    let world = world(&["system:jira"]);
    let mut driven = awaiting(&world);
    reject_in(&mut driven, &world, "jira", "dave").unwrap();
    assert_eq!(driven.ticket.state, TicketState::Rejected);
    let review = driven.ticket.reviews.last().unwrap();
    assert_eq!((review.via.as_deref(), review.verdict), (Some("jira"), docket_core::ticket::Verdict::Reject));
    assert_eq!(review.comment.as_deref(), Some("rejected in jira"));
}

#[test]
fn a_rejection_in_a_system_follows_the_rule_for_rejections() {
    // Not the requester's, not in another system, and only while approval is awaited.
    let world = world(&["system:jira"]);
    let mut driven = awaiting(&world);
    assert!(matches!(reject_in(&mut driven, &world, "jira", "alice"), Err(Refusal::OwnTicket { .. })));
    assert!(matches!(reject_in(&mut driven, &world, "servicenow", "dave"), Err(Refusal::NotEligible { .. })));
    assert_eq!(driven.ticket.state, TicketState::AwaitingApproval);
    // Stages of people: those people may reject there, nobody else.
    let world = self::world(&["group:sre"]);
    let mut driven = awaiting(&world);
    assert!(matches!(reject_in(&mut driven, &world, "jira", "dave"), Err(Refusal::NotEligible { .. })));
    reject_in(&mut driven, &world, "jira", "bob").unwrap();
    assert_eq!(driven.ticket.state, TicketState::Rejected);
    assert!(matches!(reject_in(&mut driven, &world, "jira", "carol"), Err(Refusal::WrongState { .. })));
}
