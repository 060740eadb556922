//! The audit chain: each record's hash covers its content and the previous record's hash, so
//! changing, removing or reordering any record breaks every link after it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// The `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, before it is placed in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When, as RFC 3339 in UTC.
    pub at: jiff::Timestamp,
    /// Who (`alice`, `docket`, `slack:U0STRANGER`).
    pub actor: String,
    /// What, as a dotted verb (`ticket.approved`, `slack.signature_rejected`).
    pub action: String,
    /// The ticket concerned, if any.
    pub ticket: Option<String>,
    /// Anything else worth keeping, already redacted.
    pub details: Value,
}

/// An entry placed in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1 with no gaps.
    pub seq: u64,
    /// The entry.
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// The previous record's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 of this record's canonical encoding, in hex.
    pub hash: String,
}

impl AuditRecord {
    /// Places `entry` after the record with `prev_seq` and `prev_hash` (use 0 and
    /// [`GENESIS_HASH`] for the first).
    pub fn chain(entry: AuditEntry, prev_seq: u64, prev_hash: &str) -> Self {
        let seq = prev_seq + 1;
        let hash = hash_record(seq, &entry, prev_hash);
        Self { seq, entry, prev_hash: prev_hash.to_owned(), hash }
    }
}

/// The hash of a record: SHA-256 over the canonical JSON of
/// `{action, actor, at, details, prev_hash, seq, ticket}`.
pub fn hash_record(seq: u64, entry: &AuditEntry, prev_hash: &str) -> String {
    let mut doc = Map::new();
    doc.insert("action".into(), Value::from(entry.action.as_str()));
    doc.insert("actor".into(), Value::from(entry.actor.as_str()));
    doc.insert("at".into(), Value::from(entry.at.to_string()));
    doc.insert("details".into(), entry.details.clone());
    doc.insert("prev_hash".into(), Value::from(prev_hash));
    doc.insert("seq".into(), Value::from(seq));
    doc.insert("ticket".into(), entry.ticket.as_deref().map_or(Value::Null, Value::from));
    let mut bytes = Vec::with_capacity(256);
    crate::canonical::write(&Value::Object(doc), &mut bytes);
    hex::encode(Sha256::digest(&bytes))
}

/// The first broken link of a chain, in words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BrokenLink {
    /// A record is missing or out of order.
    #[error("record {found}: expected record {expected} here (a record is missing or out of order)")]
    Gap {
        /// The seq that should be here.
        expected: u64,
        /// The seq found.
        found: u64,
    },
    /// A record's `prev_hash` is not its predecessor's hash.
    #[error("record {seq}: prev_hash does not match the hash of record {}", .seq - 1)]
    PrevHash {
        /// The record whose link is broken.
        seq: u64,
    },
    /// A record's content no longer matches its hash.
    #[error("record {seq}: content does not match its hash (it was changed after it was written)")]
    Hash {
        /// The changed record.
        seq: u64,
    },
}

/// Checks a chain one record at a time, so a store can stream it.
#[derive(Debug, Clone)]
pub struct Verifier {
    next_seq: u64,
    prev_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Self { next_seq: 1, prev_hash: GENESIS_HASH.to_owned() }
    }
}

impl Verifier {
    /// A verifier for a chain starting at record 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next record.
    pub fn push(&mut self, record: &AuditRecord) -> Result<(), BrokenLink> {
        if record.seq != self.next_seq {
            return Err(BrokenLink::Gap { expected: self.next_seq, found: record.seq });
        }
        if record.prev_hash != self.prev_hash {
            return Err(BrokenLink::PrevHash { seq: record.seq });
        }
        if hash_record(record.seq, &record.entry, &record.prev_hash) != record.hash {
            return Err(BrokenLink::Hash { seq: record.seq });
        }
        self.next_seq += 1;
        self.prev_hash.clone_from(&record.hash);
        Ok(())
    }

    /// How many records have been verified.
    pub fn verified(&self) -> u64 {
        self.next_seq - 1
    }

    /// The hash of the last verified record (the chain's head).
    pub fn head(&self) -> &str {
        &self.prev_hash
    }
}

/// Verifies a whole chain; returns how many records it holds.
pub fn verify<'a>(records: impl IntoIterator<Item = &'a AuditRecord>) -> Result<u64, BrokenLink> {
    let mut v = Verifier::new();
    for r in records {
        v.push(r)?;
    }
    Ok(v.verified())
}
