//! API tokens, statistics, readiness, and reopening a store on an existing database.

use docket_app::{ApiToken, QueueOp, Revocation, StoreStats};
use docket_core::audit::AuditEntry;
use docket_core::{Event, PersonId, TicketState};

use crate::fixtures::*;
use crate::harness::Harness;

fn entry(action: &str, minute: i64) -> AuditEntry {
    AuditEntry {
        at: at(minute),
        actor: "erin".into(),
        action: action.into(),
        ticket: None,
        details: serde_json::json!({ "token": "tok_0123456789abcdef" }),
    }
}

pub(crate) async fn tokens_round_trip(h: &Harness) {
    let store = h.store();
    let token = ApiToken {
        id: "tok_0123456789abcdef".into(),
        hash: "9b74c9897bac770ffc029102a200c5de7d0c8bd5b8d5a1f0c7e0c1b9e7d5f2a1".into(),
        person: PersonId::new("alice"),
        agent: None,
        name: "laptop".into(),
        created_by: "erin".into(),
        created_at: at(0),
        expires_at: Some(at(90)),
        last_used_at: None,
        revoked: None,
    };
    assert_eq!(store.token(&token.hash).await.unwrap(), None);
    store.create_token(&token, vec![entry("token.created", 0)]).await.unwrap();
    assert_eq!(store.token(&token.hash).await.unwrap(), Some(token.clone()));
    assert_eq!(store.token_by_id(&token.id).await.unwrap(), Some(token.clone()));
    assert!(store.create_token(&token, vec![entry("token.created", 0)]).await.is_err());
    let same_id = ApiToken { hash: "00".repeat(32), ..token.clone() };
    assert!(store.create_token(&same_id, vec![]).await.is_err(), "ids are unique too");
    assert_eq!(store.token("not-a-hash").await.unwrap(), None);
    assert_eq!(store.token_by_id("tok_nobody").await.unwrap(), None);
    let audit = store.audit(0, 10).await.unwrap();
    assert_eq!(audit.iter().map(|r| r.entry.action.as_str()).collect::<Vec<_>>(), ["token.created"], "one record");

    let agents = ApiToken {
        id: "tok_fedcba9876543210".into(),
        hash: "11".repeat(32),
        agent: Some("deploy-bot".into()),
        created_at: at(1),
        expires_at: None,
        ..token.clone()
    };
    store.create_token(&agents, vec![entry("token.created", 1)]).await.unwrap();
    let listed = store.tokens().await.unwrap();
    assert_eq!(listed, [agents.clone(), token.clone()], "newest first");

    store.token_used(&token.id, at(5)).await.unwrap();
    let revocation = Revocation { at: at(6), by: "erin".into() };
    store.revoke_token(&token.id, &revocation, vec![entry("token.revoked", 6)]).await.unwrap();
    let later = Revocation { at: at(7), by: "mallory".into() };
    store.revoke_token(&token.id, &later, vec![entry("token.revoked", 7)]).await.unwrap();
    let stored = store.token_by_id(&token.id).await.unwrap().unwrap();
    assert_eq!(stored.last_used_at, Some(at(5)));
    assert_eq!(stored.revoked, Some(revocation), "the first revocation stands");
    assert_eq!(store.token(&agents.hash).await.unwrap().unwrap().revoked, None);
    assert_eq!(store.audit(0, 10).await.unwrap().len(), 4);
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
    assert_eq!(h.int("SELECT MAX(version) FROM docket_migrations").await, docket_store::SCHEMA_VERSION);
    assert_eq!(
        h.texts("SELECT name FROM docket_migrations ORDER BY version").await,
        [
            "0001_init",
            "0002_surface_state",
            "0003_replicas",
            "0004_step_processes",
            "0005_step_results",
            "0006_audit_checkpoints",
            "0007_token_lifecycle",
            "0008_outbox_claim_walk",
            "0009_form_keys",
            "0010_refusal_answers"
        ]
    );
    reopened.ping().await.unwrap();
}
