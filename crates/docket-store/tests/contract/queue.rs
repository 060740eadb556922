//! The run queue: claim order, concurrency keys, leases and their recovery, and concurrent
//! claimers.

use std::collections::BTreeSet;

use docket_app::{Claim, QueueOp, Store};
use docket_core::{Event, TicketId};

use crate::fixtures::*;
use crate::harness::Harness;

fn key(k: &str) -> QueueOp {
    QueueOp::Enqueue { concurrency_key: Some(k.into()) }
}

fn keyless() -> QueueOp {
    QueueOp::Enqueue { concurrency_key: None }
}

/// Opens ticket `number` and queues it with `op`.
async fn queued(store: &dyn Store, number: u64, op: QueueOp) -> Tk {
    let mut tk = Tk::open(store, number, "deploy-service", "alice").await;
    tk.commit_queue(store, vec![Event::Queued], at(1), op).await;
    tk
}

fn claim(ticket: &TicketId, recovered: bool) -> Option<Claim> {
    Some(Claim { ticket: ticket.clone(), recovered })
}

pub(crate) async fn claims_take_the_oldest_and_keys_run_in_order(h: &Harness) {
    let store = h.store();
    assert_eq!(store.claim_run("w1", at(2), at(10)).await.unwrap(), None);
    let mut a = queued(store, 1, key("deploy/api/prod")).await;
    let b = queued(store, 2, key("deploy/api/prod")).await;
    let c = queued(store, 3, keyless()).await;
    let d = queued(store, 4, key("deploy/web/prod")).await;

    assert_eq!(store.claim_run("w1", at(2), at(10)).await.unwrap(), claim(a.id(), false));
    // b waits behind a (same key) even though a is claimed; c and d are free.
    assert_eq!(store.claim_run("w2", at(2), at(10)).await.unwrap(), claim(c.id(), false));
    assert_eq!(store.claim_run("w2", at(2), at(10)).await.unwrap(), claim(d.id(), false));
    assert_eq!(store.claim_run("w3", at(2), at(10)).await.unwrap(), None);

    // a's run ends and leaves the queue: b is next.
    a.commit_queue(store, vec![Event::RunStarted { number: 1 }], at(3), QueueOp::None).await;
    assert_eq!(store.claim_run("w3", at(3), at(10)).await.unwrap(), None);
    let finished = Event::RunFinished { outcome: docket_core::ticket::RunOutcome::Succeeded };
    a.commit_queue(store, vec![finished], at(4), QueueOp::Remove).await;
    assert_eq!(store.claim_run("w3", at(4), at(10)).await.unwrap(), claim(b.id(), false));
    assert_eq!(store.claim_run("w3", at(4), at(10)).await.unwrap(), None);
    assert_eq!(h.int("SELECT COUNT(*) FROM run_queue").await, 3);
}

pub(crate) async fn a_lapsed_lease_is_recovered_by_another_worker(h: &Harness) {
    let store = h.store();
    let a = queued(store, 1, keyless()).await;
    assert_eq!(store.claim_run("w1", at(2), at(5)).await.unwrap(), claim(a.id(), false));
    assert!(store.heartbeat(a.id(), "w1", at(8)).await.unwrap());
    // Still leased at 7: nobody else may take it.
    assert_eq!(store.claim_run("w2", at(7), at(20)).await.unwrap(), None);
    // The lease ends at 8; at 8 it is claimable, and the claim says it was recovered.
    assert_eq!(store.claim_run("w2", at(8), at(20)).await.unwrap(), claim(a.id(), true));
    assert!(!store.heartbeat(a.id(), "w1", at(30)).await.unwrap());
    assert!(store.heartbeat(a.id(), "w2", at(30)).await.unwrap());
    assert!(!store.heartbeat(&id(99), "w2", at(30)).await.unwrap());
    assert_eq!(store.claim_run("w1", at(29), at(40)).await.unwrap(), None);
    assert_eq!(store.claim_run("w3", at(30), at(40)).await.unwrap(), claim(a.id(), true));
}

pub(crate) async fn ending_all_leases_makes_claims_recoverable_now(h: &Harness) {
    let store = h.store();
    let a = queued(store, 1, key("k")).await;
    let b = queued(store, 2, keyless()).await;
    let c = queued(store, 3, keyless()).await;
    assert_eq!(store.claim_run("old", at(2), at(60)).await.unwrap(), claim(a.id(), false));
    assert_eq!(store.claim_run("old", at(2), at(60)).await.unwrap(), claim(b.id(), false));
    assert_eq!(store.stats().await.unwrap().queue_depth, 1);

    assert_eq!(store.end_all_leases().await.unwrap(), 2);
    assert_eq!(store.end_all_leases().await.unwrap(), 0);
    assert!(!store.heartbeat(a.id(), "old", at(70)).await.unwrap());
    assert_eq!(store.stats().await.unwrap().queue_depth, 3);
    assert_eq!(store.claim_run("new", at(3), at(60)).await.unwrap(), claim(a.id(), true));
    assert_eq!(store.claim_run("new", at(3), at(60)).await.unwrap(), claim(b.id(), true));
    assert_eq!(store.claim_run("new", at(3), at(60)).await.unwrap(), claim(c.id(), false));
}

pub(crate) async fn enqueueing_again_moves_to_the_back(h: &Harness) {
    let store = h.store();
    let mut a = queued(store, 1, keyless()).await;
    let b = queued(store, 2, keyless()).await;
    assert_eq!(store.claim_run("w1", at(2), at(60)).await.unwrap(), claim(a.id(), false));
    // a is queued again (a retried run): unclaimed, behind b, and not a recovery.
    a.commit_queue(store, vec![comment("alice", "again", at(3))], at(3), keyless()).await;
    assert_eq!(store.claim_run("w2", at(3), at(60)).await.unwrap(), claim(b.id(), false));
    assert_eq!(store.claim_run("w2", at(3), at(60)).await.unwrap(), claim(a.id(), false));
}

pub(crate) async fn concurrent_claimers_never_share_a_run(h: &Harness) {
    let mut expected = BTreeSet::new();
    for n in 1..=12u64 {
        let op = if n % 4 == 0 { key(&format!("k{n}")) } else { keyless() };
        expected.insert(queued(h.store(), n, op).await.id().clone());
    }
    let mut tasks = Vec::new();
    for worker in 0..6 {
        let store = h.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(c) = store.claim_run(&format!("w{worker}"), at(2), at(60)).await.unwrap() {
                assert!(!c.recovered);
                mine.push(c.ticket);
                tokio::task::yield_now().await;
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    let distinct: BTreeSet<_> = claimed.iter().cloned().collect();
    assert_eq!(claimed.len(), 12, "{claimed:?}");
    assert_eq!(distinct, expected);
}

pub(crate) async fn one_leader_at_a_time(h: &Harness) {
    let store = h.store();
    assert!(store.lead("scheduler", "a", at(1), at(5)).await.unwrap());
    assert!(!store.lead("scheduler", "b", at(2), at(6)).await.unwrap());
    // Another role is another lease.
    assert!(store.lead("reminders", "b", at(2), at(6)).await.unwrap());
    // The leader renews its own term; the term ends at 8, and at 8 another may take it.
    assert!(store.lead("scheduler", "a", at(3), at(8)).await.unwrap());
    assert!(!store.lead("scheduler", "b", at(7), at(12)).await.unwrap());
    assert!(store.lead("scheduler", "b", at(8), at(12)).await.unwrap());
    // The old leader cannot renew a term that is no longer its own.
    assert!(!store.lead("scheduler", "a", at(9), at(14)).await.unwrap());

    // Of many candidates for a free role at once, exactly one wins.
    let mut tasks = Vec::new();
    for candidate in 0..8 {
        let store = h.store.clone();
        tasks.push(tokio::spawn(async move {
            store.lead("retention", &format!("r{candidate}"), at(20), at(30)).await.unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
}
