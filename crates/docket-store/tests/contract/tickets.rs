//! Tickets: commit (create, update, conflicts, atomicity), reads, filters and paging, expiry
//! candidates, projections and ticket numbers.

use docket_app::{QueueOp, StoreError, TicketFilter};
use docket_core::audit::{self, GENESIS_HASH};
use docket_core::ticket::{RunOutcome, StepOutcome, Verdict};
use docket_core::{Event, PersonId, TicketState, WorkflowId};

use crate::fixtures::*;
use crate::harness::Harness;

pub(crate) async fn commit_creates_a_ticket_with_its_events_and_audit(h: &Harness) {
    let store = h.store();
    let change = Tk::opening(1, "deploy-service", "alice", vec![Event::PlanningStarted { round: 1 }, planned()], t0());
    let events = change.events.clone();
    let expected = change.ticket.clone();
    let committed = store.commit(change).await.unwrap();

    assert_eq!(committed.version, 3);
    assert_eq!(committed.audit.len(), 3);
    assert_eq!(committed.audit[0].seq, 1);
    assert_eq!(committed.audit[0].prev_hash, GENESIS_HASH);
    assert_eq!(committed.audit[2].entry.action, "ticket.planned");
    assert_eq!(audit::verify(&committed.audit), Ok(3));

    let stored = store.ticket(&id(1)).await.unwrap().unwrap();
    assert_eq!(stored.version, 3);
    assert_eq!(stored.ticket, expected);
    assert_eq!(stored.ticket.state, TicketState::Planning);
    let read = store.events(&id(1)).await.unwrap();
    assert_eq!(read, events.into_iter().map(|e| (e, t0())).collect::<Vec<_>>());
    assert_eq!(store.audit(0, 100).await.unwrap(), committed.audit);
    let actions = h.texts("SELECT action FROM ticket_events WHERE ticket = 'DKT-1' ORDER BY seq").await;
    assert_eq!(actions, ["ticket.requested", "ticket.planning_started", "ticket.planned"]);
}

pub(crate) async fn commit_appends_events_and_bumps_the_version(h: &Harness) {
    let store = h.store();
    let mut tk = Tk::open(store, 1, "deploy-service", "alice").await;
    let c = tk.commit(store, vec![needs_approval(at(60)), review("bob", Verdict::Approve, at(5))], at(5)).await;
    assert_eq!(c.version, 5);
    assert_eq!((c.audit[0].seq, c.audit[1].seq), (4, 5));
    let stored = store.ticket(tk.id()).await.unwrap().unwrap();
    assert_eq!(stored.version, 5);
    assert_eq!(stored.ticket, tk.ticket);
    assert_eq!(stored.ticket.reviews.len(), 1);
    let events = store.events(tk.id()).await.unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(events[4].1, at(5));
    assert!(matches!(events[3].0, Event::Decided { .. }));
}

pub(crate) async fn a_conflict_writes_nothing(h: &Harness) {
    let store = h.store();
    let mut tk = Tk::open(store, 1, "deploy-service", "alice").await;
    let stale = tk.clone();
    tk.commit(store, vec![needs_approval(at(60))], at(1)).await;
    let before = (
        h.int("SELECT COUNT(*) FROM audit").await,
        h.int("SELECT COUNT(*) FROM ticket_events").await,
        h.int("SELECT COUNT(*) FROM outbox").await,
        h.int("SELECT COUNT(*) FROM run_queue").await,
        h.int("SELECT COUNT(*) FROM comments").await,
    );

    // A stale version, with audit, outbox, queue and projection rows that must not appear.
    let mut change = stale.change(vec![comment("carol", "late", at(2))], at(2));
    change.outbox.push(note("slack", tk.id(), "thread"));
    change.queue = QueueOp::Enqueue { concurrency_key: None };
    assert!(matches!(store.commit(change).await, Err(StoreError::Conflict(t)) if &t == tk.id()));

    // Creating a ticket whose id is taken.
    let again = Tk::opening(1, "deploy-service", "mallory", vec![], at(3));
    assert!(matches!(store.commit(again).await, Err(StoreError::Conflict(t)) if t == id(1)));

    // Updating a ticket that does not exist.
    let mut ghost = Tk::opening(9, "deploy-service", "alice", vec![], at(3));
    ghost.expected_version = 4;
    assert!(matches!(store.commit(ghost).await, Err(StoreError::Conflict(t)) if t == id(9)));

    let after = (
        h.int("SELECT COUNT(*) FROM audit").await,
        h.int("SELECT COUNT(*) FROM ticket_events").await,
        h.int("SELECT COUNT(*) FROM outbox").await,
        h.int("SELECT COUNT(*) FROM run_queue").await,
        h.int("SELECT COUNT(*) FROM comments").await,
    );
    assert_eq!(before, after);
    let stored = store.ticket(tk.id()).await.unwrap().unwrap();
    assert_eq!((stored.version, &stored.ticket), (tk.version, &tk.ticket));
    assert!(store.ticket(&id(9)).await.unwrap().is_none());
    assert_eq!(audit::verify(&store.audit(0, 1000).await.unwrap()), Ok(4));

    // The current version still commits.
    tk.commit(store, vec![comment("carol", "on time", at(4))], at(4)).await;
    assert_eq!(store.ticket(tk.id()).await.unwrap().unwrap().version, 5);
}

pub(crate) async fn concurrent_commits_on_one_version_let_one_win(h: &Harness) {
    let tk = Tk::open(h.store(), 1, "deploy-service", "alice").await;
    let mut tasks = Vec::new();
    for i in 0..6 {
        let store = h.store.clone();
        let change = tk.change(vec![comment("bob", &format!("comment {i}"), at(i))], at(i));
        tasks.push(tokio::spawn(async move { store.commit(change).await }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(c) => {
                won += 1;
                assert_eq!(c.version, 4);
            }
            Err(StoreError::Conflict(t)) => assert_eq!(&t, tk.id()),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(h.int("SELECT COUNT(*) FROM ticket_events").await, 4);
    assert_eq!(audit::verify(&h.store().audit(0, 100).await.unwrap()), Ok(4));
}

/// Seven tickets: numbers 1..=7, alternating workflows and requesters, some awaiting approval.
async fn seven(h: &Harness) {
    for n in 1..=7u64 {
        let workflow = if n % 2 == 0 { "sql-report" } else { "deploy-service" };
        let requester = if n % 3 == 0 { "mallory" } else { "alice" };
        let mut extra = vec![Event::PlanningStarted { round: 1 }, planned()];
        if n >= 4 {
            extra.push(needs_approval(at(60)));
        }
        Tk::open_with(h.store(), Tk::opening(n, workflow, requester, extra, t0())).await;
    }
}

fn numbers(page: &docket_app::TicketPage) -> Vec<u64> {
    page.tickets.iter().map(|t| t.id.number()).collect()
}

pub(crate) async fn tickets_filter_and_page_newest_first(h: &Harness) {
    seven(h).await;
    let store = h.store();
    let all = store.tickets(&TicketFilter::default()).await.unwrap();
    assert_eq!(numbers(&all), [7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(all.next, None);

    let filter = |f: TicketFilter| async move { store.tickets(&f).await.unwrap() };
    let awaiting = filter(TicketFilter { states: vec![TicketState::AwaitingApproval], ..Default::default() }).await;
    assert_eq!(numbers(&awaiting), [7, 6, 5, 4]);
    let two_states = TicketFilter { states: vec![TicketState::Planning, TicketState::Expired], ..Default::default() };
    assert_eq!(numbers(&filter(two_states).await), [3, 2, 1]);
    let sql = filter(TicketFilter { workflow: Some(WorkflowId::new("sql-report")), ..Default::default() }).await;
    assert_eq!(numbers(&sql), [6, 4, 2]);
    let mallory = filter(TicketFilter { requester: Some(PersonId::new("mallory")), ..Default::default() }).await;
    assert_eq!(numbers(&mallory), [6, 3]);
    let combined = TicketFilter {
        states: vec![TicketState::AwaitingApproval],
        workflow: Some(WorkflowId::new("deploy-service")),
        requester: Some(PersonId::new("alice")),
        ..Default::default()
    };
    assert_eq!(numbers(&filter(combined).await), [7, 5]);
    let nobody = filter(TicketFilter { requester: Some(PersonId::new("zed")), ..Default::default() }).await;
    assert!(nobody.tickets.is_empty() && nobody.next.is_none());

    // Pages of three: a full page has a cursor; the last, short page has none.
    let mut seen = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let page = filter(TicketFilter { limit: 3, before, ..Default::default() }).await;
        pages += 1;
        seen.extend(numbers(&page));
        match page.next {
            Some(n) => {
                assert_eq!(page.tickets.len(), 3);
                assert_eq!(Some(n), page.tickets.last().map(|t| t.id.number()));
                before = Some(n);
            }
            None => break,
        }
    }
    assert_eq!(seen, [7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(pages, 3);

    // An exact last page still carries a cursor, which then yields an empty page.
    let page = filter(TicketFilter { limit: 4, before: Some(5), ..Default::default() }).await;
    assert_eq!(numbers(&page), [4, 3, 2, 1]);
    let rest = filter(TicketFilter { limit: 4, before: page.next, ..Default::default() }).await;
    assert!(rest.tickets.is_empty() && rest.next.is_none());
}

pub(crate) async fn a_zero_limit_means_the_default_page(h: &Harness) {
    let store = h.store();
    for n in 1..=52u64 {
        Tk::open_with(store, Tk::opening(n, "deploy-service", "alice", vec![], t0())).await;
    }
    let page = store.tickets(&TicketFilter::default()).await.unwrap();
    assert_eq!(page.tickets.len(), 50);
    assert_eq!(page.next, Some(3));
    let rest = store.tickets(&TicketFilter { before: page.next, ..Default::default() }).await.unwrap();
    assert_eq!(numbers(&rest), [2, 1]);
    let huge = store.tickets(&TicketFilter { limit: u32::MAX, ..Default::default() }).await.unwrap();
    assert_eq!(huge.tickets.len(), 52);
}

pub(crate) async fn due_for_expiry_finds_lapsed_deadlines_only(h: &Harness) {
    let store = h.store();
    let planning = vec![Event::PlanningStarted { round: 1 }, planned()];
    let open = |n: u64, extra: Vec<Event>| {
        let mut events = planning.clone();
        events.extend(extra);
        Tk::opening(n, "deploy-service", "alice", events, t0())
    };
    // 1: awaiting, respond_by passed. 2: awaiting, respond_by still ahead.
    Tk::open_with(store, open(1, vec![needs_approval(at(10))])).await;
    Tk::open_with(store, open(2, vec![needs_approval(at(120))])).await;
    // 3: changes requested, respond_by passed exactly at `now`.
    let mut three = Tk::open_with(store, open(3, vec![needs_approval(at(30))])).await;
    three.commit(store, vec![review("bob", Verdict::RequestChanges, at(1))], at(1)).await;
    // 4: approved, start_by passed. 5: queued, start_by passed. 6: running, start_by passed.
    let approved = |start_by| vec![needs_approval(at(100)), Event::Approved { start_by: Some(start_by) }];
    Tk::open_with(store, open(4, approved(at(20)))).await;
    let mut five = approved(at(25));
    five.push(Event::Queued);
    Tk::open_with(store, open(5, five)).await;
    let mut six = approved(at(5));
    six.extend([Event::Queued, Event::RunStarted { number: 1 }]);
    Tk::open_with(store, open(6, six)).await;
    // 7: approved, start_by ahead. 8: planning, no deadline.
    Tk::open_with(store, open(7, approved(at(90)))).await;
    Tk::open_with(store, open(8, vec![])).await;

    let due = store.due_for_expiry(at(30), 100).await.unwrap();
    let mut numbers: Vec<u64> = due.iter().map(|t| t.number()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 3, 4, 5]);
    assert_eq!(store.due_for_expiry(at(30), 2).await.unwrap().len(), 2);
    assert!(store.due_for_expiry(at(0), 100).await.unwrap().is_empty());
    // One nanosecond before the deadline is not yet due.
    let just_before = at(10) - jiff::SignedDuration::from_nanos(1);
    assert!(store.due_for_expiry(just_before, 100).await.unwrap().is_empty());
    assert_eq!(store.due_for_expiry(at(10), 100).await.unwrap(), [id(1)]);
}

pub(crate) async fn tickets_in_state_lists_oldest_first(h: &Harness) {
    seven(h).await;
    let store = h.store();
    assert_eq!(store.tickets_in_state(TicketState::Planning, 10).await.unwrap(), [id(1), id(2), id(3)]);
    assert_eq!(store.tickets_in_state(TicketState::AwaitingApproval, 2).await.unwrap(), [id(4), id(5)]);
    assert!(store.tickets_in_state(TicketState::Running, 10).await.unwrap().is_empty());
}

pub(crate) async fn projections_follow_the_events(h: &Harness) {
    let store = h.store();
    let mut tk = Tk::open(store, 1, "deploy-service", "alice").await;
    tk.commit(
        store,
        vec![
            needs_approval(at(60)),
            review("mallory", Verdict::Reject, at(1)),
            review("bob", Verdict::Approve, at(2)),
            Event::Approved { start_by: Some(at(30)) },
            Event::Queued,
            comment("carol", "watching the dashboards", at(2)),
        ],
        at(2),
    )
    .await;
    tk.commit(
        store,
        vec![Event::RunStarted { number: 1 }, Event::StepStarted { index: 0, name: "rollout".into() }],
        at(3),
    )
    .await;
    // A crash: the step is started again, then fails, and the run with it.
    tk.commit(store, vec![Event::StepStarted { index: 0, name: "rollout".into() }], at(4)).await;
    tk.commit(store, vec![step_failed(0, 2), run_failed(0)], at(5)).await;

    let approvals = h.texts("SELECT person, stage, verdict, digest, comment FROM approvals ORDER BY seq").await;
    let digest = digest().to_string();
    assert_eq!(
        approvals,
        [format!("mallory|-|reject|{digest}|not during the incident"), format!("bob|sre|approve|{digest}|-")]
    );
    assert_eq!(h.int("SELECT round FROM approvals WHERE person = 'bob'").await, 1);
    assert_eq!(h.texts("SELECT expires_at FROM approvals WHERE person = 'bob'").await, [at(32).to_string()]);
    assert_eq!(
        h.texts("SELECT author, text, at FROM comments").await,
        [format!("carol|watching the dashboards|{}", at(2))]
    );
    assert_eq!(h.texts("SELECT started_at, finished_at FROM runs").await, [format!("{}|{}", at(3), at(5))]);
    let outcome = h.texts("SELECT CAST(outcome AS TEXT) FROM runs").await.remove(0);
    let outcome: RunOutcome = serde_json::from_str(&outcome).unwrap();
    assert_eq!(outcome, RunOutcome::Failed { step: 0, message: "step 1 failed".into() });
    assert_eq!(h.int("SELECT attempts FROM run_steps WHERE run = 1 AND step = 0").await, 2);
    assert_eq!(h.int("SELECT exit_code FROM run_steps WHERE run = 1 AND step = 0").await, 2);
    assert_eq!(
        h.texts("SELECT name, started_at, finished_at FROM run_steps").await,
        [format!("rollout|{}|{}", at(4), at(5))]
    );
    let step: StepOutcome =
        serde_json::from_str(&h.texts("SELECT CAST(outcome AS TEXT) FROM run_steps").await.remove(0)).unwrap();
    assert!(matches!(step, StepOutcome::Failed { exit_code: Some(2), .. }));

    // A second run keeps the first.
    tk.commit(
        store,
        vec![Event::RunStarted { number: 2 }, Event::StepStarted { index: 0, name: "rollout".into() }],
        at(6),
    )
    .await;
    assert_eq!(h.int("SELECT COUNT(*) FROM runs").await, 2);
    assert_eq!(h.int("SELECT COUNT(*) FROM run_steps WHERE finished_at IS NULL AND run = 2").await, 1);
}

pub(crate) async fn ticket_numbers_are_never_reused(h: &Harness) {
    let store = h.store();
    let a = store.next_ticket_number().await.unwrap();
    let b = store.next_ticket_number().await.unwrap();
    let c = store.next_ticket_number().await.unwrap();
    assert!(a >= 1 && a < b && b < c, "{a} {b} {c}");
    // A ticket made with a number ahead of the counter keeps that number from being handed out.
    Tk::open_with(store, Tk::opening(c + 10, "deploy-service", "alice", vec![], t0())).await;
    let d = store.next_ticket_number().await.unwrap();
    assert!(d > c + 10, "{d}");
    // Numbers allocated but never used stay used after a restart (the restarted server's store
    // hands out every number from here on).
    let reopened = h.reopen().await;
    let e = reopened.next_ticket_number().await.unwrap();
    assert!(e > d, "{e} after {d}");

    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = reopened.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..10 {
                got.push(store.next_ticket_number().await.unwrap());
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let count = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), count);
    assert!(all[0] > e);
}

pub(crate) async fn numbers_given_back_at_a_stop_are_dense_and_never_reused(h: &Harness) {
    let store = h.store();
    let a = store.next_ticket_number().await.unwrap();
    let b = store.next_ticket_number().await.unwrap();
    Tk::open_with(store, Tk::opening(b, "deploy-service", "alice", vec![], t0())).await;
    store.release_numbers().await.unwrap();
    // The store still hands out numbers after giving some back, and never one it handed out.
    let c = store.next_ticket_number().await.unwrap();
    assert!(a < b && b < c, "{a} {b} {c}");
    store.release_numbers().await.unwrap();
    let reopened = h.reopen().await;
    let d = reopened.next_ticket_number().await.unwrap();
    assert_eq!(d, c + 1, "the next start continues from the last number used");
}

pub(crate) async fn missing_tickets_read_as_nothing(h: &Harness) {
    let store = h.store();
    assert!(store.ticket(&id(404)).await.unwrap().is_none());
    assert!(store.events(&id(404)).await.unwrap().is_empty());
    assert!(store.tickets(&TicketFilter::default()).await.unwrap().tickets.is_empty());
    assert!(store.due_for_expiry(at(0), 10).await.unwrap().is_empty());
}
