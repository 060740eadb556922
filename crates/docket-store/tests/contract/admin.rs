//! API tokens, statistics, readiness, and reopening a store on an existing database.

use docket_app::{ApiToken, QueueOp, StoreStats};
use docket_core::{Event, PersonId, TicketState};

use crate::fixtures::*;
use crate::harness::Harness;

pub(crate) async fn tokens_round_trip(h: &Harness) {
    let store = h.store();
    let token = ApiToken {
        hash: "9b74c9897bac770ffc029102a200c5de7d0c8bd5b8d5a1f0c7e0c1b9e7d5f2a1".into(),
        person: PersonId::new("alice"),
        name: "laptop".into(),
        created_at: at(0),
    };
    assert_eq!(store.token(&token.hash).await.unwrap(), None);
    store.create_token(&token).await.unwrap();
    assert_eq!(store.token(&token.hash).await.unwrap(), Some(token.clone()));
    assert!(store.create_token(&token).await.is_err());
    assert_eq!(store.token("not-a-hash").await.unwrap(), None);
}

pub(crate) async fn stats_count_states_queue_and_undelivered(h: &Harness) {
    let store = h.store();
    store.ping().await.unwrap();
    assert_eq!(store.stats().await.unwrap(), StoreStats::default());
    Tk::open(store, 1, "deploy-service", "alice").await;
    Tk::open(store, 2, "deploy-service", "alice").await;
    let mut three = Tk::open(store, 3, "deploy-service", "alice").await;
    let mut change = three.change(vec![needs_approval(at(60))], at(5));
    change.outbox = vec![note("slack", three.id(), "request")];
    three.commit_change(store, change).await.unwrap();
    let mut four = Tk::open(store, 4, "deploy-service", "alice").await;
    four.commit_queue(store, vec![Event::Queued], at(6), QueueOp::Enqueue { concurrency_key: None }).await;

    let stats = store.stats().await.unwrap();
    assert_eq!(
        stats.tickets_by_state,
        [(TicketState::Planning, 2), (TicketState::AwaitingApproval, 1), (TicketState::Queued, 1)]
    );
    assert_eq!(stats.queue_depth, 1);
    assert_eq!(stats.oldest_undelivered, Some(at(5)));
    store.claim_run("w", at(7), at(8)).await.unwrap();
    assert_eq!(store.stats().await.unwrap().queue_depth, 0);
}

pub(crate) async fn reopening_keeps_everything_and_migrates_once(h: &Harness) {
    let store = h.store();
    let tk = Tk::open(store, 1, "deploy-service", "alice").await;
    let reopened = h.reopen().await;
    let again = h.reopen().await;
    assert_eq!(reopened.ticket(tk.id()).await.unwrap().unwrap().ticket, tk.ticket);
    assert_eq!(again.audit(0, 10).await.unwrap().len(), 3);
    assert_eq!(h.int("SELECT COUNT(*) FROM docket_migrations").await, docket_store::SCHEMA_VERSION);
    assert_eq!(
        h.texts("SELECT name FROM docket_migrations ORDER BY version").await,
        ["0001_init", "0002_surface_state", "0003_replicas", "0004_step_processes"]
    );
    reopened.ping().await.unwrap();
}
