//! The audit chain: appends, verification, and the first broken link named.

use docket_core::audit::{AuditEntry, AuditRecord, BrokenLink, GENESIS_HASH, Verifier, verify};
use serde_json::json;

fn chain(n: u64) -> Vec<AuditRecord> {
    let mut out: Vec<AuditRecord> = Vec::new();
    for i in 0..n {
        let entry = AuditEntry {
            at: jiff::Timestamp::from_second(1_790_000_000 + i as i64).unwrap(),
            actor: if i % 2 == 0 { "alice".into() } else { "docket".into() },
            action: "ticket.commented".into(),
            ticket: Some(format!("DKT-{i}")),
            details: json!({"text": format!("note {i}"), "n": i}),
        };
        let (seq, prev) = out.last().map_or((0, GENESIS_HASH.to_owned()), |r| (r.seq, r.hash.clone()));
        out.push(AuditRecord::chain(entry, seq, &prev));
    }
    out
}

#[test]
fn an_intact_chain_verifies() {
    let records = chain(50);
    assert_eq!(verify(&records), Ok(50));
    let mut v = Verifier::new();
    records.iter().for_each(|r| v.push(r).unwrap());
    assert_eq!(v.head(), records[49].hash);
}

#[test]
fn the_first_broken_link_is_named() {
    let mut changed = chain(10);
    changed[3].entry.details = json!({"text": "rewritten"});
    assert_eq!(verify(&changed), Err(BrokenLink::Hash { seq: 4 }));
    assert_eq!(
        BrokenLink::Hash { seq: 4 }.to_string(),
        "record 4: content does not match its hash (it was changed after it was written)"
    );

    let mut rehashed = chain(10);
    rehashed[3].entry.actor = "mallory".into();
    rehashed[3].hash = docket_core::audit::hash_record(4, &rehashed[3].entry, &rehashed[3].prev_hash);
    assert_eq!(verify(&rehashed), Err(BrokenLink::PrevHash { seq: 5 }), "re-hashing one record breaks the next link");

    let mut removed = chain(10);
    removed.remove(6);
    assert_eq!(verify(&removed), Err(BrokenLink::Gap { expected: 7, found: 8 }));

    let mut swapped = chain(10);
    swapped.swap(2, 3);
    assert_eq!(verify(&swapped), Err(BrokenLink::Gap { expected: 3, found: 4 }));
}

#[test]
fn the_hash_is_sha256_of_documented_canonical_json() {
    let records = chain(1);
    let r = &records[0];
    let doc = json!({
        "seq": 1, "at": r.entry.at.to_string(), "actor": "alice", "action": "ticket.commented",
        "ticket": "DKT-0", "details": {"text": "note 0", "n": 0}, "prev_hash": GENESIS_HASH,
    });
    let canonical = docket_core::canonical::to_string(&doc);
    assert!(canonical.starts_with(r#"{"action":"ticket.commented","actor":"alice","at":""#), "{canonical}");
    use sha2::Digest as _;
    assert_eq!(r.hash, hex::encode(sha2::Sha256::digest(canonical.as_bytes())));
}
