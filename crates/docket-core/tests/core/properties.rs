//! Properties over random command sequences by random people: never approved without quorum on
//! the current digest; never a self-approval counted; nothing runs after reject, cancel or
//! expiry; a refused command changes nothing; replaying the events rebuilds the ticket.

use std::collections::BTreeSet;

use docket_core::policy::{Outcome, Requirement};
use docket_core::ticket::{RunOutcome, StepOutcome, Verdict};
use docket_core::*;
use jiff::Timestamp;
use proptest::prelude::*;

use crate::fixtures::*;

const PEOPLE: [&str; 8] = ["alice", "bob", "carol", "dave", "erin", "mallory", "olga", "zed"];

#[derive(Clone, Debug)]
enum Op {
    Approve { stale: bool },
    Reject,
    RequestChanges,
    Amend { environment: usize, version: usize },
    RecordPlan { variant: u8, fail: bool },
    Comment,
    Cancel,
    Expire,
    StartRun,
    StartStep(usize),
    FinishStep(usize, bool),
    FinishRun(u8, usize),
    Retry,
}

/// Who issues an op: a person by index, an AI agent, or Docket itself.
#[derive(Clone, Debug)]
enum Who {
    Person(usize),
    Agent(usize),
    System,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => prop::bool::weighted(0.2).prop_map(|stale| Op::Approve { stale }),
        1 => Just(Op::Reject),
        1 => Just(Op::RequestChanges),
        1 => (0..3usize, 0..2usize).prop_map(|(environment, version)| Op::Amend { environment, version }),
        3 => (0..3u8, any::<bool>()).prop_map(|(variant, fail)| Op::RecordPlan { variant, fail: fail && variant == 0 }),
        1 => Just(Op::Comment),
        1 => Just(Op::Cancel),
        1 => Just(Op::Expire),
        3 => Just(Op::StartRun),
        4 => (0..6usize).prop_map(Op::StartStep),
        4 => (0..6usize, prop::bool::weighted(0.8)).prop_map(|(i, ok)| Op::FinishStep(i, ok)),
        2 => (0..5u8, 0..3usize).prop_map(|(kind, step)| Op::FinishRun(kind, step)),
        1 => Just(Op::Retry),
    ]
}

/// Mostly the actor an op expects (Docket for run and plan ops, a person otherwise), sometimes
/// the wrong one: an agent, Docket, or a person.
fn who_for(op: &Op, person: usize, misfit: bool) -> Who {
    let system_op = matches!(
        op,
        Op::RecordPlan { .. } | Op::Expire | Op::StartRun | Op::StartStep(_) | Op::FinishStep(..) | Op::FinishRun(..)
    );
    match (system_op, misfit) {
        (true, false) => Who::System,
        (true, true) | (false, false) => Who::Person(person),
        (false, true) if person.is_multiple_of(2) => Who::Agent(person),
        (false, true) => Who::System,
    }
}

fn actor(w: &Who) -> Actor {
    match w {
        Who::Person(i) => Actor::person(PEOPLE[*i]),
        Who::Agent(i) => Actor::Agent { agent: "assistant".into(), on_behalf_of: PersonId::new(PEOPLE[*i]) },
        Who::System => Actor::System,
    }
}

fn plan(variant: u8) -> Plan {
    Plan {
        steps: vec![StepPlan {
            name: "rollout".into(),
            kind: "exec".into(),
            summary: "kubectl apply".into(),
            details: Vec::new(),
            action: serde_json::json!({"argv": ["kubectl", "apply"]}),
            output: Some(format!("diff variant {variant}")),
            facts: Default::default(),
        }],
    }
}

fn command(op: &Op, ticket: &Ticket) -> Command {
    let stale = Digest::parse(&"cd".repeat(32)).unwrap();
    match op {
        Op::Approve { stale: s } => {
            Command::Approve { digest: if *s { stale } else { ticket.digest.unwrap_or(stale) }, comment: None }
        }
        Op::Reject => Command::Reject { reason: "no".into() },
        Op::RequestChanges => Command::RequestChanges { reason: "change it".into() },
        Op::Amend { environment, version } => {
            let mut params = raw(["dev", "staging", "prod"][*environment]);
            params.insert("version".into(), ["1.4.2", "2.0.0"][*version].into());
            Command::Amend { params }
        }
        Op::RecordPlan { variant, fail } => {
            Command::RecordPlan { result: if *fail { Err("dry run failed".into()) } else { Ok(plan(*variant)) } }
        }
        Op::Comment => Command::Comment { text: "hello".into() },
        Op::Cancel => Command::Cancel { reason: None },
        Op::Expire => Command::Expire,
        Op::StartRun => Command::StartRun,
        Op::StartStep(i) => Command::StartStep { index: if *i >= 3 { next_step(ticket) } else { *i } },
        Op::FinishStep(i, ok) => Command::FinishStep {
            index: if *i >= 3 { next_step(ticket).saturating_sub(1) } else { *i },
            outcome: if *ok {
                StepOutcome::Succeeded
            } else {
                StepOutcome::Failed { exit_code: Some(2), message: "failed".into() }
            },
            output: None,
        },
        Op::FinishRun(kind, step) => Command::FinishRun {
            outcome: match kind {
                0 | 4 => RunOutcome::Succeeded,
                1 => RunOutcome::Failed { step: *step, message: "failed".into() },
                2 => RunOutcome::Interrupted { step: *step },
                _ => RunOutcome::Cancelled,
            },
        },
        Op::Retry => Command::Retry,
    }
}

/// The index one past the last started step of the current run: "the next step", so that
/// generated sequences reach the end of a run often, not just by luck.
fn next_step(ticket: &Ticket) -> usize {
    ticket.last_run().and_then(|r| r.steps.last()).map_or(0, |s| s.index + 1)
}

/// An independent count of the approvals that hold at `now`: current round and digest, not
/// expired, not the requester's, eligible when given, each person in one stage only.
fn quorum_holds(world: &World, ticket: &Ticket, req: &Requirement, now: Timestamp) -> bool {
    let mut used = BTreeSet::new();
    req.stages.iter().all(|stage| {
        let mut n = 0;
        for r in &ticket.reviews {
            let counts = r.verdict == Verdict::Approve
                && r.stage.as_deref() == Some(stage.name.as_str())
                && r.round == ticket.round
                && ticket.digest.is_some()
                && r.digest == ticket.digest
                && r.person != ticket.requester
                && r.expires_at.is_some_and(|t| t > now)
                && world.directory.covered_by_any(&stage.from, &r.person, r.at)
                && !used.contains(&r.person);
            if counts {
                used.insert(r.person.clone());
                n += 1;
            }
        }
        n >= stage.count
    })
}

fn requirement(ticket: &Ticket) -> Option<&Requirement> {
    match ticket.decision.as_ref().map(|d| &d.outcome) {
        Some(Outcome::Approvals(r)) => Some(r),
        _ => None,
    }
}

fn check_sequence(risk: Risk, environment: usize, weekend: bool, ops: &[(Op, Who, i64)]) -> Result<(), TestCaseError> {
    let world = World::new(risk);
    let mut now = if weekend { saturday() } else { tuesday() };
    let mut d = Driven::request(&world, ["dev", "staging", "prod"][environment], now);
    // A request the policy denies without its plan (the weekend freeze) is never planned.
    if d.ticket.state == docket_core::TicketState::Planning {
        d.plan(&world, now);
    }
    for (op, w, advance) in ops {
        now += minutes(*advance);
        let before = d.ticket.clone();
        let cmd = command(op, &before);
        let result = docket_core::ticket::decide(&before, &cmd, &actor(w), &world.rules(), now);
        let Ok(events) = result else {
            continue; // nothing applied: a refusal changes nothing by construction
        };
        let mut after = before.clone();
        for e in &events {
            after.apply(e, now);
            d.log.push((e.clone(), now));
            match e {
                Event::Reviewed(r) if r.verdict == Verdict::Approve => {
                    prop_assert_ne!(&r.person, &before.requester, "self-approval accepted");
                    prop_assert_eq!(r.digest, before.digest, "approval not bound to the current digest");
                }
                Event::Approved { .. } => match requirement(&after) {
                    Some(req) => prop_assert!(
                        quorum_holds(&world, &after, req, now),
                        "approved without quorum: {:?}",
                        after.reviews
                    ),
                    None => prop_assert!(
                        matches!(after.decision.as_ref().map(|d| &d.outcome), Some(Outcome::AutoApprove { .. })),
                        "approved without a requirement or an auto-approval"
                    ),
                },
                Event::RunStarted { .. } | Event::StepStarted { .. } => {
                    prop_assert!(
                        !matches!(
                            before.state,
                            TicketState::Rejected
                                | TicketState::Cancelled
                                | TicketState::Expired
                                | TicketState::Denied
                                | TicketState::PlanFailed
                        ),
                        "{:?} after {:?}",
                        e,
                        before.state
                    );
                    if matches!(e, Event::RunStarted { .. }) {
                        prop_assert_eq!(before.state, TicketState::Queued);
                        if let Some(req) = requirement(&before) {
                            prop_assert!(
                                quorum_holds(&world, &before, req, now),
                                "ran without quorum on the current digest"
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(req) = requirement(&after) {
            for status in docket_core::ticket::quorum(&after, req, now) {
                prop_assert!(!status.approvers.contains(&after.requester), "requester counted");
            }
        }
        d.ticket = after;
    }
    let replayed = Ticket::replay(d.log.iter().map(|(e, t)| (e, *t))).unwrap();
    prop_assert_eq!(replayed, d.ticket, "replaying the events rebuilds the ticket");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_command_sequences_keep_the_invariants(
        risk in prop_oneof![Just(Risk::Low), Just(Risk::Medium), Just(Risk::High)],
        environment in prop_oneof![1 => Just(0usize), 2 => Just(1usize), 6 => Just(2usize)],
        weekend in prop::bool::weighted(0.05),
        ops in prop::collection::vec((op(), 0..PEOPLE.len(), prop::bool::weighted(0.15), prop_oneof![6 => Just(0i64), 3 => 1..20i64, 1 => 20..1500i64]), 1..40),
    ) {
        let ops: Vec<(Op, Who, i64)> = ops.into_iter().map(|(op, person, misfit, advance)| {
            let who = who_for(&op, person, misfit);
            (op, who, advance)
        }).collect();
        check_sequence(risk, environment, weekend, &ops)?;
    }
}
