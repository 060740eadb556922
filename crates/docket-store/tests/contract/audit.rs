//! The audit chain: one chain across commits and loose appends, paging, exact round trips,
//! tamper detection at the right record, and concurrent appends.

use docket_core::audit::{self, AuditRecord, BrokenLink, GENESIS_HASH};
use docket_core::ticket::Verdict;
use jiff::Timestamp;
use serde_json::json;

use crate::fixtures::*;
use crate::harness::Harness;

async fn everything(h: &Harness) -> Vec<AuditRecord> {
    h.store().audit(0, 10_000).await.unwrap()
}

pub(crate) async fn the_chain_spans_commits_and_loose_appends(h: &Harness) {
    let store = h.store();
    assert!(store.append_audit(Vec::new()).await.unwrap().is_empty());
    let mut tk = Tk::open(store, 1, "deploy-service", "alice").await;
    let loose = store
        .append_audit(vec![loose_entry("slack.signature_rejected", at(1)), loose_entry("token.created", at(1))])
        .await
        .unwrap();
    assert_eq!(loose.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 5]);
    let committed = tk.commit(store, vec![needs_approval(at(60)), review("bob", Verdict::Approve, at(2))], at(2)).await;
    assert_eq!(committed.audit.iter().map(|r| r.seq).collect::<Vec<_>>(), [6, 7]);
    assert_eq!(committed.audit[0].prev_hash, loose[1].hash);

    let all = everything(h).await;
    assert_eq!(all.len(), 7);
    assert_eq!(all[0].prev_hash, GENESIS_HASH);
    assert_eq!(&all[3..5], &loose[..]);
    assert_eq!(&all[5..], &committed.audit[..]);
    assert_eq!(audit::verify(&all), Ok(7));

    // Pages.
    let page = store.audit(2, 3).await.unwrap();
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 4, 5]);
    assert_eq!(store.audit(5, 100).await.unwrap().len(), 2);
    assert!(store.audit(7, 100).await.unwrap().is_empty());
    assert!(store.audit(0, 0).await.unwrap().is_empty());
    assert!(store.audit(u64::MAX, 10).await.unwrap().is_empty());
    let mut verifier = audit::Verifier::new();
    let mut after = 0;
    loop {
        let page = store.audit(after, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in &page {
            verifier.push(r).unwrap();
        }
    }
    assert_eq!(verifier.verified(), 7);
    assert_eq!(verifier.head(), all[6].hash);
}

pub(crate) async fn audit_records_round_trip_exactly(h: &Harness) {
    let store = h.store();
    let odd_times: [Timestamp; 4] = [
        "2026-11-24T09:00:00Z".parse().unwrap(),
        "2026-11-24T09:00:00.1Z".parse().unwrap(),
        "2026-11-24T09:00:00.000000001Z".parse().unwrap(),
        "1999-12-31T23:59:59.999999999Z".parse().unwrap(),
    ];
    let details = [
        json!({"float": 0.1, "exp": 1e300, "tiny": 5e-324, "int": -9_007_199_254_740_993_i64, "max": u64::MAX}),
        json!({"z": 1, "a": [null, true, false, "", "\u{0007}\u{1F600}\\\"'"], "m": {"k": {"k": {}}}}),
        json!([1.0, 2.5, -0.0, 100]),
        json!("just text"),
    ];
    let entries: Vec<_> = odd_times
        .iter()
        .zip(details)
        .enumerate()
        .map(|(i, (at, details))| {
            let mut e = loose_entry("test.round_trip", *at);
            e.details = details;
            e.ticket = (i % 2 == 0).then(|| format!("DKT-{i}"));
            e
        })
        .collect();
    let written = store.append_audit(entries.clone()).await.unwrap();
    assert_eq!(written.iter().map(|r| r.entry.clone()).collect::<Vec<_>>(), entries);
    let read = everything(h).await;
    assert_eq!(read, written);
    assert_eq!(audit::verify(&read), Ok(4));
    // A reopened store reads the same and chains after it.
    let reopened = h.reopen().await;
    let more = reopened.append_audit(vec![loose_entry("test.after_reopen", odd_times[2])]).await.unwrap();
    assert_eq!(more[0].seq, 5);
    assert_eq!(more[0].prev_hash, written[3].hash);
    assert_eq!(audit::verify(&reopened.audit(0, 100).await.unwrap()), Ok(5));
}

pub(crate) async fn tampering_is_detected_at_the_changed_record(h: &Harness) {
    let store = h.store();
    let mut tk = Tk::open(store, 1, "deploy-service", "alice").await;
    tk.commit(store, vec![needs_approval(at(60))], at(1)).await;
    store.append_audit(vec![loose_entry("token.created", at(2))]).await.unwrap();
    assert_eq!(audit::verify(&everything(h).await), Ok(5));

    assert_eq!(h.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 3").await, 1);
    assert_eq!(audit::verify(&everything(h).await), Err(BrokenLink::Hash { seq: 3 }));
    h.execute("UPDATE audit SET actor = 'alice' WHERE seq = 3").await;
    assert_eq!(audit::verify(&everything(h).await), Ok(5));

    h.execute("UPDATE audit SET details = '{\"reason\":\"nothing to see\"}' WHERE seq = 5").await;
    assert_eq!(audit::verify(&everything(h).await), Err(BrokenLink::Hash { seq: 5 }));

    h.execute("DELETE FROM audit WHERE seq = 2").await;
    assert_eq!(audit::verify(&everything(h).await), Err(BrokenLink::Gap { expected: 2, found: 3 }));
}

pub(crate) async fn concurrent_appends_keep_one_chain(h: &Harness) {
    let mut tasks = Vec::new();
    for worker in 0..6u64 {
        let store = h.store.clone();
        tasks.push(tokio::spawn(async move {
            // Each worker also commits tickets of its own, so commits and loose appends interleave.
            let number = 100 + worker;
            let change = Tk::opening(number, "deploy-service", "alice", vec![], at(0));
            store.commit(change).await.unwrap();
            for _ in 0..5 {
                store.append_audit(vec![loose_entry("slack.signature_rejected", at(1))]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = everything(h).await;
    assert_eq!(audit::verify(&all), Ok(36));
}

pub(crate) async fn checkpoints_are_kept_once_and_name_the_head(h: &Harness) {
    let store = h.store();
    assert_eq!(store.audit_head().await.unwrap(), None);
    assert!(store.checkpoints().await.unwrap().is_empty());
    let records = store
        .append_audit(vec![loose_entry("token.created", at(1)), loose_entry("token.created", at(2))])
        .await
        .unwrap();
    let head = store.audit_head().await.unwrap().unwrap();
    assert_eq!(head, (2, records[1].hash.clone()));
    let key = docket_core::checkpoint::SigningKey::from_seed([9; 32]);
    let first = key.sign(head.0, &head.1, at(3));
    store.save_checkpoint(&first).await.unwrap();
    store.save_checkpoint(&first).await.unwrap();
    let later = key.sign(head.0, &head.1, at(4));
    store.save_checkpoint(&later).await.unwrap();
    let kept = store.checkpoints().await.unwrap();
    assert_eq!(kept, vec![first, later]);
    assert!(kept.iter().all(|c| c.signed_by(Some(&key.verifying_key()))));
}
