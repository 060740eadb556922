//! Agents as identities: what an agent may request, that its ticket counts its owner as the
//! requester, that it acts only on its own tickets, that policies read `requester.agent`, and a
//! property: no sequence of agent or owner actions counts an approval from either.

use docket_core::policy::{Condition, Outcome, RuleOutcome};
use docket_core::ticket::Verdict;
use docket_core::*;
use proptest::prelude::*;

use crate::fixtures::*;

fn bob_bot() -> Actor {
    Actor::Agent { agent: "bob-bot".into(), on_behalf_of: PersonId::new("bob") }
}

fn assistant() -> Actor {
    Actor::Agent { agent: "assistant".into(), on_behalf_of: PersonId::new("alice") }
}

fn new_ticket(world: &World, environment: &str) -> NewTicket {
    NewTicket {
        id: TicketId::new("DKT", 1),
        workflow: world.workflow.id.clone(),
        params: raw(environment),
        origin: Default::default(),
    }
}

#[test]
fn an_agent_requests_within_may_request_and_its_owners_rights() {
    let world = World::new(Risk::Medium);
    let rules = world.rules();
    let t = tuesday();
    let request = |actor: &Actor| ticket::request(&new_ticket(&world, "prod"), actor, &rules, t);
    // By id (assistant) and by category, case-insensitively (bob-bot lists "deployments").
    let events = request(&assistant()).unwrap();
    let Event::Requested { requester, requested_by, .. } = &events[0] else { panic!("{events:?}") };
    assert_eq!(requester.as_str(), "alice", "the owner is the requester");
    assert_eq!(requested_by, &assistant());
    assert!(request(&bob_bot()).is_ok());
    // An agent that is not declared, or that claims another owner, is refused.
    let ghost = Actor::Agent { agent: "ghost".into(), on_behalf_of: PersonId::new("alice") };
    assert_eq!(request(&ghost).unwrap_err().code(), "unknown_agent");
    let hijack = Actor::Agent { agent: "assistant".into(), on_behalf_of: PersonId::new("bob") };
    assert_eq!(request(&hijack).unwrap_err().code(), "unknown_agent");
    // Outside may_request.
    let mut other = World::new(Risk::Medium);
    other.workflow.id = WorkflowId::new("restart-pipeline");
    other.workflow.category = "Pipelines".into();
    let new = NewTicket { workflow: other.workflow.id.clone(), ..new_ticket(&other, "prod") };
    let refused = ticket::request(&new, &assistant(), &other.rules(), t).unwrap_err();
    assert_eq!(refused.code(), "agent_may_not_request");
    assert_eq!(
        refused.to_string(),
        "agent `assistant` may not request `restart-pipeline` (it may request: deploy-service)"
    );
    // Within may_request, the workflow's requesters still apply, checked against the owner.
    let mut dev_only = World::new(Risk::Medium);
    dev_only.workflow.requesters = Some(vec![Principal::parse("group:dev").unwrap()]);
    let refused = ticket::request(&new_ticket(&dev_only, "prod"), &bob_bot(), &dev_only.rules(), t).unwrap_err();
    assert_eq!(refused.code(), "not_a_requester");
}

#[test]
fn the_owner_cannot_approve_their_agents_ticket_and_the_agent_never_decides() {
    let world = World::new(Risk::Medium);
    let t = tuesday();
    let mut d = Driven::request_as(&world, &bob_bot(), "prod", t);
    d.plan(&world, t);
    assert_eq!(d.ticket.state, TicketState::AwaitingApproval);
    let digest = d.digest();
    let approve = Command::Approve { digest, comment: None };
    assert_eq!(d.run(&world, approve.clone(), &bob_bot(), t).unwrap_err().code(), "agent_cannot_decide");
    assert_eq!(d.run(&world, approve.clone(), &who("bob"), t).unwrap_err().code(), "own_ticket");
    let reject = Command::Reject { reason: "mine".into() };
    assert_eq!(d.run(&world, reject.clone(), &who("bob"), t).unwrap_err().code(), "own_ticket");
    assert_eq!(d.run(&world, reject, &bob_bot(), t).unwrap_err().code(), "agent_cannot_decide");
    d.run(&world, approve, &who("carol"), t).unwrap();
    assert_eq!(d.ticket.state, TicketState::Queued);
}

#[test]
fn an_agent_cancels_and_amends_only_its_own_requests() {
    let world = World::new(Risk::Medium);
    let t = tuesday();
    let cancel = Command::Cancel { reason: Some("not needed".into()) };
    // alice's own ticket: her agent may not cancel it.
    let mut own = Driven::request(&world, "prod", t);
    own.plan(&world, t);
    assert_eq!(own.run(&world, cancel.clone(), &assistant(), t).unwrap_err().code(), "not_agents_ticket");
    let mut amend = raw("prod");
    amend.insert("version".into(), "1.4.3".into());
    let amend = Command::Amend { params: amend };
    assert_eq!(own.run(&world, amend.clone(), &assistant(), t).unwrap_err().code(), "not_agents_ticket");
    // The agent's own ticket: it may; another agent may not; the owner may, as the requester.
    let mut by_agent = Driven::request_as(&world, &assistant(), "prod", t);
    by_agent.plan(&world, t);
    let other_agent = Actor::Agent { agent: "bob-bot".into(), on_behalf_of: PersonId::new("bob") };
    assert_eq!(by_agent.run(&world, cancel.clone(), &other_agent, t).unwrap_err().code(), "not_agents_ticket");
    by_agent.run(&world, amend, &assistant(), t).unwrap();
    by_agent.plan(&world, t);
    by_agent.run(&world, Command::Comment { text: "waiting".into() }, &assistant(), t).unwrap();
    by_agent.run(&world, cancel, &assistant(), t).unwrap();
    assert_eq!(by_agent.ticket.state, TicketState::Cancelled);
}

#[test]
fn policies_read_requester_agent() {
    let mut world = World::new(Risk::Medium);
    world.policies.rules.insert(
        0,
        rule(
            "agents-need-security",
            r#"requester.agent != "" && params.environment == "staging""#,
            RuleOutcome::Stages(vec![stage("security", &["group:security"], 1, None)]),
        ),
    );
    let t = tuesday();
    let mut person = Driven::request(&world, "staging", t);
    person.plan(&world, t);
    assert_eq!(person.ticket.state, TicketState::Queued, "people's staging deploys are auto-approved");
    let mut agent = Driven::request_as(&world, &assistant(), "staging", t);
    agent.plan(&world, t);
    assert_eq!(agent.ticket.state, TicketState::AwaitingApproval, "an agent's needs security");
    let Some(Outcome::Approvals(req)) = agent.ticket.decision.as_ref().map(|d| &d.outcome) else { panic!() };
    assert_eq!(req.stages[0].name, "security");
    // The variable is known to the compiler: a misspelling is still refused.
    assert!(Condition::compile(r#"requester.agent == "assistant""#).is_ok());
    assert!(Condition::compile(r#"requester.agnet == "assistant""#).is_err());
}

#[derive(Clone, Debug)]
enum Act {
    Approve,
    Reject,
    RequestChanges,
    Amend(usize),
    Cancel,
    Comment,
    Plan(u8),
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        8 => Just(Act::Approve),
        1 => Just(Act::Reject),
        1 => Just(Act::RequestChanges),
        2 => (0..2usize).prop_map(Act::Amend),
        1 => Just(Act::Cancel),
        1 => Just(Act::Comment),
        3 => (0..3u8).prop_map(Act::Plan),
    ]
}

/// The agent, its owner, another agent of the owner's name, and (rarely) an eligible approver
/// who is neither, so tickets also move on.
fn actor(i: usize) -> Actor {
    match i {
        0 => bob_bot(),
        1 => who("bob"),
        2 => Actor::Agent { agent: "assistant".into(), on_behalf_of: PersonId::new("bob") },
        _ => who("erin"),
    }
}

fn command(act: &Act, ticket: &Ticket) -> Command {
    match act {
        Act::Approve => Command::Approve {
            digest: ticket.digest.unwrap_or(Digest::parse(&"cd".repeat(32)).unwrap()),
            comment: None,
        },
        Act::Reject => Command::Reject { reason: "no".into() },
        Act::RequestChanges => Command::RequestChanges { reason: "change it".into() },
        Act::Amend(v) => {
            let mut params = raw("prod");
            params.insert("version".into(), ["1.4.2", "2.0.0"][*v].into());
            Command::Amend { params }
        }
        Act::Cancel => Command::Cancel { reason: None },
        Act::Comment => Command::Comment { text: "hello".into() },
        Act::Plan(variant) => {
            let mut plan =
                docket_core::plan::render_plan(&World::new(Risk::High).workflow, &ticket.params, &Default::default());
            plan.steps[0].output = Some(format!("variant {variant}"));
            Command::RecordPlan { result: Ok(plan) }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the agent and its owner do, in any order, neither's approval is ever counted
    /// on the agent's ticket, and the agent never produces a review at all.
    #[test]
    fn no_approval_from_an_agent_or_its_owner_ever_counts(
        risk in prop_oneof![Just(Risk::Medium), Just(Risk::High)],
        acts in prop::collection::vec((act(), prop_oneof![4 => Just(0usize), 4 => Just(1usize), 1 => Just(2usize), 1 => Just(3usize)], 0..30i64), 1..40),
    ) {
        let world = World::new(risk);
        let mut now = tuesday();
        let mut d = Driven::request_as(&world, &bob_bot(), "prod", now);
        prop_assert_eq!(d.ticket.requester.as_str(), "bob");
        for (act, i, advance) in &acts {
            now += minutes(*advance);
            let who = if matches!(act, Act::Plan(_)) { Actor::System } else { actor(*i) };
            let before = d.ticket.clone();
            let Ok(events) = d.run(&world, command(act, &before), &who, now) else { continue };
            for e in &events {
                if let Event::Reviewed(review) = e {
                    prop_assert!(!matches!(who, Actor::Agent { .. }), "an agent's review was accepted: {:?}", review);
                    if review.verdict == Verdict::Approve {
                        prop_assert_ne!(review.person.as_str(), "bob", "the owner's approval was accepted");
                    }
                }
            }
            if let Some(Outcome::Approvals(req)) = d.ticket.decision.as_ref().map(|d| &d.outcome) {
                for status in docket_core::ticket::quorum(&d.ticket, req, now) {
                    prop_assert!(!status.approvers.iter().any(|p| p.as_str() == "bob"), "the owner was counted");
                }
            }
            prop_assert!(
                d.ticket.reviews.iter().all(|r| r.person.as_str() != "bob" || r.verdict != Verdict::Approve),
                "an approval by the owner is on record"
            );
        }
    }
}
