//! A busy store: many tasks writing at once (commits, loose audit appends, log lines, claims),
//! as a server's requesters and workers do. Every row lands, ticket numbers stay unique, the audit chain stays one intact
//! chain, and a stale commit among them fails alone.

use std::collections::BTreeSet;

use docket_app::{LogLine, LogStream, QueueOp, StoreError};
use docket_core::audit;
use docket_core::{Event, TicketId};

use crate::fixtures::*;
use crate::harness::Harness;

fn line(ticket: &TicketId, seq: u64) -> LogLine {
    LogLine {
        ticket: ticket.clone(),
        run: 1,
        step: 0,
        seq,
        stream: LogStream::Stdout,
        text: format!("line {seq}"),
        at: t0(),
    }
}

pub(crate) async fn concurrent_writers_keep_every_row_and_one_chain(h: &Harness) {
    const TASKS: u64 = 16;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = h.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            let mut numbers = Vec::new();
            for k in 0..2 {
                numbers.push(store.next_ticket_number().await.unwrap());
                let number = 1 + task * 2 + k;
                let mut change =
                    Tk::opening(number, "deploy-service", "alice", vec![Event::PlanningStarted { round: 1 }], t0());
                change.outbox.push(note("slack", &change.ticket.id, "request"));
                let mut tk = Tk::open_with(&*store, change).await;
                tk.commit(&*store, vec![comment("bob", &format!("from task {task}"), at(1))], at(1)).await;
                tk.commit_queue(&*store, vec![Event::Queued], at(2), QueueOp::Enqueue { concurrency_key: None }).await;
                store.append_logs(&[line(tk.id(), 1), line(tk.id(), 2)]).await.unwrap();
                store.append_audit(vec![loose_entry("slack.signature_rejected", at(3))]).await.unwrap();
                if let Some(claim) = store.claim_run(&format!("w{task}"), at(4), at(20)).await.unwrap() {
                    claimed.push(claim.ticket);
                }
            }
            (claimed, numbers)
        }));
    }
    let mut claimed = Vec::new();
    let mut numbers = BTreeSet::new();
    for t in tasks {
        let (c, n) = t.await.unwrap();
        claimed.extend(c);
        numbers.extend(n);
    }
    // Ticket numbers are never handed out twice (tickets created with explicit numbers only
    // push the counter up).
    assert_eq!(numbers.len() as u64, TASKS * 2);

    let tickets = (TASKS * 2) as i64;
    assert_eq!(h.int("SELECT COUNT(*) FROM tickets").await, tickets);
    // Each ticket: requested, planning started, a comment, queued.
    assert_eq!(h.int("SELECT COUNT(*) FROM ticket_events").await, tickets * 4);
    assert_eq!(h.int("SELECT COUNT(*) FROM tickets WHERE version = 4").await, tickets);
    assert_eq!(h.int("SELECT COUNT(*) FROM comments").await, tickets);
    assert_eq!(h.int("SELECT COUNT(*) FROM outbox").await, tickets);
    assert_eq!(h.int("SELECT COUNT(*) FROM step_logs").await, tickets * 2);
    assert_eq!(h.int("SELECT COUNT(*) FROM run_queue").await, tickets);
    // Every claim took a different run.
    assert_eq!(claimed.iter().collect::<BTreeSet<_>>().len(), claimed.len());
    assert_eq!(h.int("SELECT COUNT(*) FROM run_queue WHERE holder IS NOT NULL").await, claimed.len() as i64);
    // One audit record per event and per loose entry, in one unbroken chain.
    let records = h.store().audit(0, 10_000).await.unwrap();
    assert_eq!(audit::verify(&records), Ok((tickets * 5) as u64));
}

pub(crate) async fn a_stale_commit_among_many_fails_alone(h: &Harness) {
    let store = h.store();
    let mut open = Vec::new();
    for n in 1..=24u64 {
        let mut tk = Tk::open(store, n, "deploy-service", "alice").await;
        if n > 16 {
            // Tickets 17..=24 move on, so a change made from their first version is stale.
            let stale = tk.clone();
            tk.commit(store, vec![needs_approval(at(60))], at(1)).await;
            open.push(stale);
        } else {
            open.push(tk);
        }
    }
    let before = h.int("SELECT COUNT(*) FROM audit").await;

    let mut tasks = Vec::new();
    for tk in open {
        let store = h.store.clone();
        let mut change = tk.change(vec![comment("carol", &format!("on {}", tk.id()), at(5))], at(5));
        change.outbox.push(note("slack", tk.id(), "comment"));
        tasks.push(tokio::spawn(async move { (tk.id().clone(), store.commit(change).await) }));
    }
    // Creating tickets whose ids are taken, and updating tickets that do not exist.
    for n in [3u64, 20, 100, 101] {
        let store = h.store.clone();
        let mut change = Tk::opening(n, "deploy-service", "mallory", vec![], at(6));
        if n >= 100 {
            change.expected_version = 3;
        }
        tasks.push(tokio::spawn(async move { (id(n), store.commit(change).await) }));
    }

    let mut won = BTreeSet::new();
    for task in tasks {
        let (ticket, result) = task.await.unwrap();
        match result {
            Ok(c) => {
                assert_eq!(c.version, 4, "{ticket}");
                won.insert(ticket.number());
            }
            Err(StoreError::Conflict(t)) => assert_eq!(t, ticket),
            Err(e) => panic!("{ticket}: unexpected error: {e}"),
        }
    }
    assert_eq!(won, (1..=16).collect());
    assert_eq!(h.int("SELECT COUNT(*) FROM comments").await, 16);
    assert_eq!(h.int("SELECT COUNT(*) FROM outbox").await, 16);
    assert_eq!(h.int("SELECT COUNT(*) FROM tickets").await, 24);
    assert_eq!(h.int("SELECT COUNT(*) FROM tickets WHERE requester = 'mallory'").await, 0);
    let records = store.audit(0, 10_000).await.unwrap();
    assert_eq!(audit::verify(&records), Ok((before + 16) as u64));
}
