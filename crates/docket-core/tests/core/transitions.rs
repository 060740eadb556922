//! Every transition and every refusal of the ticket state machine, as a table.

use docket_core::ticket::{RunOutcome, StepOutcome};
use docket_core::*;
use jiff::Timestamp;

use crate::fixtures::*;

/// How a row's ticket is prepared before the command under test.
#[derive(Clone, Copy, Debug)]
enum Setup {
    Planning,
    Awaiting,
    AwaitingHigh,
    AwaitingHighSreDone,
    ChangesRequested,
    Queued,
    QueuedAuto,
    Running,
    StepZeroRunning,
    StepZeroDone,
    AllStepsDone,
    Failed,
    Interrupted,
    Succeeded,
    Cancelled,
    CancelledWhileStepRuns,
    Rejected,
    Expired,
    Denied,
}

fn prepare(world: &World, setup: Setup) -> Driven {
    let t = tuesday();
    let mut d = Driven::request(world, if matches!(setup, Setup::QueuedAuto) { "staging" } else { "prod" }, t);
    let sys = Actor::System;
    let step_done = |d: &mut Driven, i: usize| {
        d.run(world, Command::StartStep { index: i }, &sys, t).unwrap();
        d.run(world, Command::FinishStep { index: i, outcome: StepOutcome::Succeeded, output: None }, &sys, t).unwrap();
    };
    match setup {
        Setup::Planning => {}
        Setup::Awaiting | Setup::AwaitingHigh => d.plan(world, t),
        Setup::AwaitingHighSreDone => {
            d.plan(world, t);
            d.approve(world, "bob", t).unwrap();
        }
        Setup::ChangesRequested => {
            d.plan(world, t);
            d.run(world, Command::RequestChanges { reason: "use 1.4.3".into() }, &who("bob"), t).unwrap();
        }
        Setup::QueuedAuto => d.plan(world, t),
        Setup::Denied => d.plan(world, saturday()),
        Setup::Rejected => {
            d.plan(world, t);
            d.run(world, Command::Reject { reason: "no".into() }, &who("bob"), t).unwrap();
        }
        Setup::Expired => {
            d.plan(world, t);
            d.run(world, Command::Expire, &sys, t + minutes(24 * 60)).unwrap();
        }
        _ => {
            d.plan(world, t);
            d.approve(world, "bob", t).unwrap();
            if matches!(setup, Setup::Queued) {
                return d;
            }
            if matches!(setup, Setup::Cancelled) {
                d.run(world, Command::Cancel { reason: None }, &who("alice"), t).unwrap();
                return d;
            }
            d.run(world, Command::StartRun, &sys, t).unwrap();
            match setup {
                Setup::Running => {}
                Setup::StepZeroRunning => {
                    d.run(world, Command::StartStep { index: 0 }, &sys, t).unwrap();
                }
                Setup::CancelledWhileStepRuns => {
                    d.run(world, Command::StartStep { index: 0 }, &sys, t).unwrap();
                    d.run(world, Command::Cancel { reason: Some("wrong tag".into()) }, &who("alice"), t).unwrap();
                }
                Setup::StepZeroDone => step_done(&mut d, 0),
                Setup::AllStepsDone | Setup::Succeeded => {
                    (0..3).for_each(|i| step_done(&mut d, i));
                    if matches!(setup, Setup::Succeeded) {
                        d.run(world, Command::FinishRun { outcome: RunOutcome::Succeeded }, &sys, t).unwrap();
                    }
                }
                Setup::Failed => {
                    d.run(world, Command::StartStep { index: 0 }, &sys, t).unwrap();
                    let failed = StepOutcome::Failed { exit_code: Some(1), message: "exit 1".into() };
                    d.run(world, Command::FinishStep { index: 0, outcome: failed, output: None }, &sys, t).unwrap();
                    let outcome = RunOutcome::Failed { step: 0, message: "rollout failed".into() };
                    d.run(world, Command::FinishRun { outcome }, &sys, t).unwrap();
                }
                Setup::Interrupted => {
                    step_done(&mut d, 0);
                    d.run(world, Command::StartStep { index: 1 }, &sys, t).unwrap();
                    d.run(world, Command::FinishRun { outcome: RunOutcome::Interrupted { step: 1 } }, &sys, t).unwrap();
                }
                _ => unreachable!("{setup:?}"),
            }
        }
    }
    d
}

/// What a row expects: the state after the command, or the refusal's code.
enum Expect {
    State(TicketState),
    Refused(&'static str),
}
use Expect::*;

fn approve_current() -> Command {
    // Replaced by the current digest in `run_row`.
    Command::Approve { digest: Digest::parse(&"0".repeat(64)).unwrap(), comment: Some("lgtm".into()) }
}

fn stale_approve() -> Command {
    Command::Approve { digest: Digest::parse(&"ab".repeat(32)).unwrap(), comment: None }
}

fn agent() -> Actor {
    Actor::Agent { agent: "assistant".into(), on_behalf_of: PersonId::new("bob") }
}

fn run_row(name: &str, risk: Risk, setup: Setup, command: Command, actor: Actor, at: Timestamp, expect: Expect) {
    let world = World::new(risk);
    let mut d = prepare(&world, setup);
    let command = match command {
        Command::Approve { digest, comment } if digest == Digest::parse(&"0".repeat(64)).unwrap() => {
            Command::Approve { digest: d.digest(), comment }
        }
        other => other,
    };
    let before = d.ticket.clone();
    let result = d.run(&world, command, &actor, at);
    match (expect, result) {
        (State(state), Ok(_)) => assert_eq!(d.ticket.state, state, "{name}: wrong state"),
        (State(state), Err(refusal)) => panic!("{name}: expected {state:?}, refused: {refusal}"),
        (Refused(code), Err(refusal)) => {
            assert_eq!(refusal.code(), code, "{name}: wrong refusal: {refusal}");
            assert_eq!(d.ticket, before, "{name}: a refusal must change nothing");
            assert!(!refusal.to_string().is_empty());
        }
        (Refused(code), Ok(events)) => panic!("{name}: expected refusal {code}, got {events:?}"),
    }
}

#[test]
fn every_transition_and_refusal() {
    use Setup::*;
    let t = tuesday();
    let later = |m: i64| t + minutes(m);
    let sys = Actor::System;
    let plan_ok = || Command::RecordPlan { result: Ok(Plan::default()) };
    let reject = |r: &str| Command::Reject { reason: r.into() };
    let changes = |r: &str| Command::RequestChanges { reason: r.into() };
    let cancel = || Command::Cancel { reason: None };
    let start_step = |i| Command::StartStep { index: i };
    let finish_step = |i| Command::FinishStep { index: i, outcome: StepOutcome::Succeeded, output: None };
    let finish_run = |o| Command::FinishRun { outcome: o };
    let amend = |env: &str| Command::Amend { params: raw(env) };
    let m = Risk::Medium;
    let h = Risk::High;
    #[rustfmt::skip]
    let rows: Vec<(&str, Risk, Setup, Command, Actor, Timestamp, Expect)> = vec![
        // planning
        ("plan recorded for prod on a weekday", m, Planning, plan_ok(), sys.clone(), t, State(TicketState::AwaitingApproval)),
        ("plan recorded for prod at the weekend", m, Planning, plan_ok(), sys.clone(), saturday(), State(TicketState::Denied)),
        ("plan failed", m, Planning, Command::RecordPlan { result: Err("kubectl diff failed".into()) }, sys.clone(), t, State(TicketState::PlanFailed)),
        ("a person cannot record plans", m, Planning, plan_ok(), who("alice"), t, Refused("system_only")),
        ("plan recorded twice", m, Awaiting, plan_ok(), sys.clone(), t, Refused("wrong_state")),
        ("cannot approve while planning", m, Planning, stale_approve(), who("bob"), t, Refused("wrong_state")),
        // approvals
        ("eligible approver approves", m, Awaiting, approve_current(), who("bob"), t, State(TicketState::Queued)),
        ("group member who is not on call approves", m, Awaiting, approve_current(), who("carol"), t, State(TicketState::Queued)),
        ("requester approves own ticket", m, Awaiting, approve_current(), who("alice"), t, Refused("own_ticket")),
        ("ineligible person approves", m, Awaiting, approve_current(), who("dave"), t, Refused("not_eligible")),
        ("unknown person approves", m, Awaiting, approve_current(), who("zed"), t, Refused("unknown_person")),
        ("AI agent approves", m, Awaiting, approve_current(), agent(), t, Refused("agent_cannot_decide")),
        ("Docket approves", m, Awaiting, approve_current(), sys.clone(), t, Refused("system_only")),
        ("approval of a stale digest", m, Awaiting, stale_approve(), who("bob"), t, Refused("stale_digest")),
        ("approval after the request TTL", m, Awaiting, approve_current(), who("bob"), later(24 * 60), Refused("request_expired")),
        ("first of two stages", h, AwaitingHigh, approve_current(), who("bob"), t, State(TicketState::AwaitingApproval)),
        ("second stage by security", h, AwaitingHighSreDone, approve_current(), who("dave"), t, State(TicketState::Queued)),
        ("second stage by the first stage's approver", h, AwaitingHighSreDone, approve_current(), who("bob"), t, Refused("approved_another_stage")),
        ("second stage by a non-security person", h, AwaitingHighSreDone, approve_current(), who("carol"), t, Refused("not_eligible")),
        ("sre is asked again once its approval expired", h, AwaitingHighSreDone, approve_current(), who("carol"), later(31), State(TicketState::AwaitingApproval)),
        ("security waits while sre's approval has expired", h, AwaitingHighSreDone, approve_current(), who("dave"), later(31), Refused("not_eligible")),
        ("approve a queued ticket", m, Queued, approve_current(), who("carol"), t, Refused("wrong_state")),
        // reject and request changes
        ("approver rejects", m, Awaiting, reject("not now"), who("carol"), t, State(TicketState::Rejected)),
        ("later-stage approver rejects", h, AwaitingHigh, reject("risky"), who("dave"), t, State(TicketState::Rejected)),
        ("requester rejects", m, Awaiting, reject("oops"), who("alice"), t, Refused("own_ticket")),
        ("ineligible person rejects", m, Awaiting, reject("no"), who("mallory"), t, Refused("not_eligible")),
        ("AI agent rejects", m, Awaiting, reject("no"), agent(), t, Refused("agent_cannot_decide")),
        ("reject without a reason", m, Awaiting, reject("  "), who("bob"), t, Refused("bad_text")),
        ("reject a running ticket", m, Running, reject("stop"), who("bob"), t, Refused("wrong_state")),
        ("approver requests changes", m, Awaiting, changes("use 1.4.3"), who("bob"), t, State(TicketState::ChangesRequested)),
        ("requester requests changes", m, Awaiting, changes("x"), who("alice"), t, Refused("own_ticket")),
        // amend
        ("requester amends after changes were requested", m, ChangesRequested, amend("prod"), who("alice"), t, State(TicketState::Planning)),
        ("requester amends while awaiting", m, Awaiting, amend("staging"), who("alice"), t, State(TicketState::Planning)),
        ("someone else amends", m, ChangesRequested, amend("prod"), who("bob"), t, Refused("not_requester")),
        ("amend with invalid parameters", m, ChangesRequested, Command::Amend { params: Default::default() }, who("alice"), t, Refused("invalid_params")),
        ("amend a queued ticket", m, Queued, amend("prod"), who("alice"), t, Refused("wrong_state")),
        // comments
        ("approver comments", m, Awaiting, Command::Comment { text: "looking".into() }, who("bob"), t, State(TicketState::AwaitingApproval)),
        ("agent comments", m, Running, Command::Comment { text: "watching".into() }, agent(), t, State(TicketState::Running)),
        ("comment on a finished ticket", m, Succeeded, Command::Comment { text: "thanks".into() }, who("alice"), t, State(TicketState::Succeeded)),
        ("unknown person comments", m, Awaiting, Command::Comment { text: "hi".into() }, who("zed"), t, Refused("unknown_person")),
        ("empty comment", m, Awaiting, Command::Comment { text: String::new() }, who("bob"), t, Refused("bad_text")),
        ("oversized comment", m, Awaiting, Command::Comment { text: "x".repeat(4001) }, who("bob"), t, Refused("bad_text")),
        // cancel
        ("requester cancels while awaiting", m, Awaiting, cancel(), who("alice"), t, State(TicketState::Cancelled)),
        ("requester cancels while planning", m, Planning, cancel(), who("alice"), t, State(TicketState::Cancelled)),
        ("requester cancels while queued", m, Queued, cancel(), who("alice"), t, State(TicketState::Cancelled)),
        ("requester cancels while running", m, StepZeroRunning, cancel(), who("alice"), t, State(TicketState::Cancelled)),
        ("admin cancels", m, Awaiting, cancel(), who("olga"), t, State(TicketState::Cancelled)),
        ("approver cancels", m, Awaiting, cancel(), who("bob"), t, Refused("not_requester")),
        ("cancel a finished ticket", m, Succeeded, cancel(), who("alice"), t, Refused("wrong_state")),
        ("cancel a rejected ticket", m, Rejected, cancel(), who("alice"), t, Refused("wrong_state")),
        // expiry
        ("request expires after its TTL", m, Awaiting, Command::Expire, sys.clone(), later(24 * 60), State(TicketState::Expired)),
        ("changes requested and never amended", m, ChangesRequested, Command::Expire, sys.clone(), later(24 * 60), State(TicketState::Expired)),
        ("request not yet due", m, Awaiting, Command::Expire, sys.clone(), later(60), Refused("not_due")),
        ("approved but not started within the approval TTL", m, Queued, Command::Expire, sys.clone(), later(30), State(TicketState::Expired)),
        ("approved and still within TTL", m, Queued, Command::Expire, sys.clone(), later(29), Refused("not_due")),
        ("a person expires a ticket", m, Awaiting, Command::Expire, who("bob"), later(24 * 60), Refused("system_only")),
        ("expire a running ticket", m, Running, Command::Expire, sys.clone(), later(24 * 60), Refused("wrong_state")),
        // runs
        ("worker starts an approved run", m, Queued, Command::StartRun, sys.clone(), t, State(TicketState::Running)),
        ("worker starts an auto-approved run", m, QueuedAuto, Command::StartRun, sys.clone(), t, State(TicketState::Running)),
        ("run starts after the approval expired", m, Queued, Command::StartRun, sys.clone(), later(30), Refused("approval_expired")),
        ("a person starts a run", m, Queued, Command::StartRun, who("bob"), t, Refused("system_only")),
        ("run after cancel", m, Cancelled, Command::StartRun, sys.clone(), t, Refused("wrong_state")),
        ("run after reject", m, Rejected, Command::StartRun, sys.clone(), t, Refused("wrong_state")),
        ("run after expiry", m, Expired, Command::StartRun, sys.clone(), t, Refused("wrong_state")),
        ("run after denial", m, Denied, Command::StartRun, sys.clone(), t, Refused("wrong_state")),
        ("run while awaiting approval", m, Awaiting, Command::StartRun, sys.clone(), t, Refused("wrong_state")),
        ("first step starts", m, Running, start_step(0), sys.clone(), t, State(TicketState::Running)),
        ("steps start in order", m, Running, start_step(1), sys.clone(), t, Refused("run_mismatch")),
        ("next step after success", m, StepZeroDone, start_step(1), sys.clone(), t, State(TicketState::Running)),
        ("a step that does not exist", m, StepZeroDone, start_step(7), sys.clone(), t, Refused("run_mismatch")),
        ("interrupted safe step resumes", m, StepZeroRunning, start_step(0), sys.clone(), t, State(TicketState::Running)),
        ("a step does not start after cancel", m, CancelledWhileStepRuns, start_step(1), sys.clone(), t, Refused("wrong_state")),
        ("killed step is recorded after cancel", m, CancelledWhileStepRuns, finish_step(0), sys.clone(), t, State(TicketState::Cancelled)),
        ("cancelled run is closed", m, CancelledWhileStepRuns, finish_run(RunOutcome::Cancelled), sys.clone(), t, State(TicketState::Cancelled)),
        ("step finishes", m, StepZeroRunning, finish_step(0), sys.clone(), t, State(TicketState::Running)),
        ("a step that is not running finishes", m, StepZeroDone, finish_step(1), sys.clone(), t, Refused("run_mismatch")),
        ("run succeeds", m, AllStepsDone, finish_run(RunOutcome::Succeeded), sys.clone(), t, State(TicketState::Succeeded)),
        ("run cannot succeed with steps left", m, StepZeroDone, finish_run(RunOutcome::Succeeded), sys.clone(), t, Refused("run_mismatch")),
        ("run fails", m, StepZeroRunning, finish_run(RunOutcome::Failed { step: 0, message: "boom".into() }), sys.clone(), t, State(TicketState::Failed)),
        ("run is interrupted", m, StepZeroDone, finish_run(RunOutcome::Interrupted { step: 1 }), sys.clone(), t, State(TicketState::Interrupted)),
        ("running run cannot end as cancelled without a cancel", m, Running, finish_run(RunOutcome::Cancelled), sys.clone(), t, Refused("run_mismatch")),
        ("a person finishes a run", m, AllStepsDone, finish_run(RunOutcome::Succeeded), who("bob"), t, Refused("system_only")),
        // retry
        ("requester retries a failed ticket", m, Failed, Command::Retry, who("alice"), t, State(TicketState::Planning)),
        ("requester retries an interrupted ticket", m, Interrupted, Command::Retry, who("alice"), t, State(TicketState::Planning)),
        ("someone else retries", m, Failed, Command::Retry, who("bob"), t, Refused("not_requester")),
        ("retry a success", m, Succeeded, Command::Retry, who("alice"), t, Refused("wrong_state")),
    ];
    let count = rows.len();
    for (name, risk, setup, command, actor, at, expect) in rows {
        run_row(name, risk, setup, command, actor, at, expect);
    }
    assert!(count >= 80, "the table shrank to {count} rows");
}

#[test]
fn requests_are_checked_before_a_ticket_exists() {
    let world = World::new(Risk::Medium);
    let t = tuesday();
    let new = |params| NewTicket {
        id: TicketId::new("DKT", 9),
        workflow: world.workflow.id.clone(),
        params,
        origin: Default::default(),
    };
    let rules = world.rules();
    let ok = ticket::request(&new(raw("prod")), &who("alice"), &rules, t).unwrap();
    assert!(matches!(ok.last(), Some(Event::PlanningStarted { round: 1 })));
    let by_agent = Actor::Agent { agent: "assistant".into(), on_behalf_of: PersonId::new("alice") };
    assert!(ticket::request(&new(raw("prod")), &by_agent, &rules, t).is_ok());
    let refused = |actor: &Actor, params| ticket::request(&new(params), actor, &rules, t).unwrap_err();
    assert_eq!(refused(&who("dave"), raw("prod")).code(), "not_a_requester");
    assert_eq!(refused(&who("zed"), raw("prod")).code(), "unknown_person");
    assert_eq!(refused(&Actor::System, raw("prod")).code(), "system_only");
    let mut bad = raw("moon");
    bad.insert("version".into(), "latest".into());
    bad.insert("colour".into(), "red".into());
    let Refusal::InvalidParams(errors) = refused(&who("alice"), bad) else { panic!("expected field errors") };
    let fields: Vec<&str> = errors.0.iter().map(|e| e.param.as_str()).collect();
    assert_eq!(fields, ["colour", "environment", "version"], "every field error at once: {errors}");
}

#[test]
fn amending_voids_earlier_approvals() {
    let world = World::new(Risk::High);
    let t = tuesday();
    let mut d = Driven::request(&world, "prod", t);
    d.plan(&world, t);
    d.approve(&world, "bob", t).unwrap();
    let old_digest = d.digest();
    d.run(&world, Command::RequestChanges { reason: "bump".into() }, &who("dave"), t).unwrap();
    let mut params = raw("prod");
    params.insert("version".into(), "1.4.3".into());
    d.run(&world, Command::Amend { params }, &who("alice"), t).unwrap();
    d.plan(&world, t);
    assert_ne!(d.digest(), old_digest);
    assert_eq!(d.ticket.state, TicketState::AwaitingApproval);
    // bob's approval was on the old plan: sre is asked again, and bob may give it again.
    let req = match &d.ticket.decision.as_ref().unwrap().outcome {
        docket_core::policy::Outcome::Approvals(r) => r.clone(),
        other => panic!("{other:?}"),
    };
    let status = ticket::quorum(&d.ticket, &req, t);
    assert!(status.iter().all(|s| s.approvers.is_empty()));
    // The old digest is refused with the new one named.
    let stale = d.run(&world, Command::Approve { digest: old_digest, comment: None }, &who("bob"), t).unwrap_err();
    assert_eq!(stale, Refusal::StaleDigest { current: d.digest() });
    d.approve(&world, "bob", t).unwrap();
    d.approve(&world, "dave", t).unwrap();
    assert_eq!(d.ticket.state, TicketState::Queued);
}

#[test]
fn same_parameters_after_amend_still_need_fresh_approvals() {
    let world = World::new(Risk::High);
    let t = tuesday();
    let mut d = Driven::request(&world, "prod", t);
    d.plan(&world, t);
    d.approve(&world, "bob", t).unwrap();
    d.run(&world, Command::Amend { params: raw("prod") }, &who("alice"), t).unwrap();
    d.plan(&world, t);
    // Identical plan, identical digest, but a new round: bob's approval does not carry over.
    d.approve(&world, "dave", t).unwrap_err();
    d.approve(&world, "erin", t).unwrap();
    assert_eq!(d.ticket.state, TicketState::AwaitingApproval, "security still needs its approval");
}

#[test]
fn a_changed_workflow_needs_an_amendment() {
    let mut world = World::new(Risk::Medium);
    let t = tuesday();
    let mut d = Driven::request(&world, "prod", t);
    d.plan(&world, t);
    world.workflow.version = "v2".into();
    assert_eq!(d.approve(&world, "bob", t).unwrap_err().code(), "workflow_changed");
    d.run(&world, Command::Amend { params: raw("prod") }, &who("alice"), t).unwrap();
    assert_eq!(d.ticket.version, "v2");
    d.plan(&world, t);
    d.approve(&world, "bob", t).unwrap();
    assert_eq!(d.ticket.state, TicketState::Queued);
}

#[test]
fn unsafe_steps_are_never_repeated_after_an_interruption() {
    let world = World::new(Risk::Medium);
    let t = tuesday();
    let mut d = Driven::request(&world, "staging", t);
    d.plan(&world, t);
    let sys = Actor::System;
    d.run(&world, Command::StartRun, &sys, t).unwrap();
    d.run(&world, Command::StartStep { index: 0 }, &sys, t).unwrap();
    // Crash during the safe step: it resumes.
    d.run(&world, Command::StartStep { index: 0 }, &sys, t).unwrap();
    assert_eq!(d.ticket.runs[0].steps[0].attempts, 2);
    d.run(&world, Command::FinishStep { index: 0, outcome: StepOutcome::Succeeded, output: None }, &sys, t).unwrap();
    d.run(&world, Command::StartStep { index: 1 }, &sys, t).unwrap();
    // Crash during the unsafe step: the state machine refuses to repeat it.
    let refusal = d.run(&world, Command::StartStep { index: 1 }, &sys, t).unwrap_err();
    assert!(refusal.to_string().contains("retry: safe"), "{refusal}");
    d.run(&world, Command::FinishRun { outcome: RunOutcome::Interrupted { step: 1 } }, &sys, t).unwrap();
    assert_eq!(d.ticket.state, TicketState::Interrupted);
}
