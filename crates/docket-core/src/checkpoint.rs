//! Signed checkpoints of the audit chain. A hash chain alone cannot see its own tail cut off,
//! nor a chain rebuilt and re-hashed from scratch: each still verifies. A checkpoint is the
//! chain's head at a moment (its sequence number and hash) signed with an Ed25519 key, so
//! anyone holding one can tell whether the chain still reaches that head unchanged: a missing
//! tail, a rewritten record or a replaced chain disagrees with it at a sequence number, and a
//! forged checkpoint does not verify with the key the auditor trusts.

use std::collections::BTreeMap;

use ed25519_compact::{KeyPair, PublicKey, Seed, Signature};
use serde::{Deserialize, Serialize};

use crate::audit::AuditRecord;

/// What a checkpoint's signature covers, before its fields: so a signature made for anything
/// else can never pass for a checkpoint's.
const DOMAIN: &str = "docket audit checkpoint v1";

/// The audit chain's head at a moment, signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The head's sequence number: the chain held this many records.
    pub seq: u64,
    /// The head record's hash.
    pub hash: String,
    /// When the checkpoint was made.
    pub at: jiff::Timestamp,
    /// The public key that signed it, in hex.
    pub key: String,
    /// The Ed25519 signature over the domain, `seq`, `hash` and `at`, in hex.
    pub signature: String,
}

impl Checkpoint {
    /// The bytes the signature covers.
    fn message(seq: u64, hash: &str, at: jiff::Timestamp) -> String {
        format!("{DOMAIN}\n{seq}\n{hash}\n{at}")
    }

    /// Whether the signature verifies with `trusted` (a public key in hex), or, with no trusted
    /// key, with the key the checkpoint names (which shows it is intact, not who made it).
    pub fn signed_by(&self, trusted: Option<&VerifyingKey>) -> bool {
        let key = match trusted {
            Some(key) => {
                if key.hex() != self.key {
                    return false;
                }
                key.0
            }
            None => match VerifyingKey::parse(&self.key) {
                Ok(key) => key.0,
                Err(_) => return false,
            },
        };
        let Ok(bytes) = hex::decode(&self.signature) else { return false };
        let Ok(signature) = Signature::from_slice(&bytes) else { return false };
        key.verify(Self::message(self.seq, &self.hash, self.at), &signature).is_ok()
    }
}

/// A key text that is not a key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be {len} hexadecimal digits (`docket audit keygen` makes a key pair)")]
pub struct KeyError {
    what: &'static str,
    len: usize,
}

/// The key checkpoints are signed with. Its `Debug` shows only the public half.
#[derive(Clone)]
pub struct SigningKey(KeyPair);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SigningKey").field(&self.verifying_key().hex()).finish()
    }
}

impl SigningKey {
    /// The key made from 32 random bytes (the caller brings the randomness).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(KeyPair::from_seed(Seed::new(seed)))
    }

    /// The key written as 64 hex digits (its seed), as `docket audit keygen` prints it.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let error = KeyError { what: "an audit signing key", len: 64 };
        let bytes = hex::decode(text.trim()).map_err(|_| error.clone())?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| error)?;
        Ok(Self::from_seed(seed))
    }

    /// The key as [`SigningKey::parse`] reads it. A secret: show it only to whoever made it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.sk.seed().as_ref())
    }

    /// The public half, which auditors keep.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.pk)
    }

    /// A checkpoint of the head `seq`/`hash`, made at `at`.
    pub fn sign(&self, seq: u64, hash: &str, at: jiff::Timestamp) -> Checkpoint {
        let signature = self.0.sk.sign(Checkpoint::message(seq, hash, at), None);
        Checkpoint {
            seq,
            hash: hash.to_owned(),
            at,
            key: self.verifying_key().hex(),
            signature: hex::encode(signature.as_ref()),
        }
    }
}

/// The public key that checks checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyingKey(PublicKey);

impl VerifyingKey {
    /// A public key written as 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let error = KeyError { what: "an audit public key", len: 64 };
        let bytes = hex::decode(text.trim()).map_err(|_| error.clone())?;
        PublicKey::from_slice(&bytes).map(Self).map_err(|_| error)
    }

    /// The key in hex.
    pub fn hex(&self) -> String {
        hex::encode(self.0.as_ref())
    }
}

/// Where the chain and a checkpoint disagree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointFault {
    /// The checkpoint's signature does not verify: forged, signed with another key, or damaged.
    #[error(
        "the checkpoint of record {seq} made {at} is not signed by the trusted key (forged, signed with \
         another key, or damaged)"
    )]
    Forged {
        /// The record it names.
        seq: u64,
        /// When it says it was made.
        at: jiff::Timestamp,
    },
    /// The record the checkpoint names has another hash now.
    #[error(
        "record {seq} is not the record the checkpoint made {at} signed: the chain was rewritten or replaced \
         at or before record {seq}"
    )]
    Rewritten {
        /// The record that differs.
        seq: u64,
        /// When the checkpoint was made.
        at: jiff::Timestamp,
    },
    /// The chain ends before the record the checkpoint names.
    #[error("the chain ends at record {last}, but the checkpoint made {at} saw record {seq}: {}", missing(*.last, *.seq))]
    Missing {
        /// The record it names.
        seq: u64,
        /// The chain's last record.
        last: u64,
        /// When the checkpoint was made.
        at: jiff::Timestamp,
    },
}

/// "record 8 is missing", "records 8 to 10 are missing".
fn missing(last: u64, seq: u64) -> String {
    let first = last + 1;
    if first == seq { format!("record {seq} is missing") } else { format!("records {first} to {seq} are missing") }
}

impl CheckpointFault {
    /// The first sequence number that disagrees.
    pub fn seq(&self) -> u64 {
        match self {
            CheckpointFault::Forged { seq, .. } | CheckpointFault::Rewritten { seq, .. } => *seq,
            CheckpointFault::Missing { last, .. } => last + 1,
        }
    }
}

/// What checking a chain against checkpoints found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointReport {
    /// Checkpoints the chain agrees with.
    pub agreed: usize,
    /// Checkpoints past the point where the chain itself broke, so not compared.
    pub unchecked: usize,
    /// Every disagreement, by the sequence number where it starts.
    pub faults: Vec<CheckpointFault>,
    /// The newest checkpoint the chain agrees with, if any.
    pub newest: Option<Checkpoint>,
}

/// Compares a chain, streamed one record at a time, with a set of checkpoints.
#[derive(Debug, Default)]
pub struct CheckpointCheck {
    pending: BTreeMap<u64, Vec<Checkpoint>>,
    report: CheckpointReport,
}

impl CheckpointCheck {
    /// A check against `checkpoints`, whose signatures must verify with `trusted` (see
    /// [`Checkpoint::signed_by`]); the same checkpoint given twice counts once.
    pub fn new(checkpoints: impl IntoIterator<Item = Checkpoint>, trusted: Option<&VerifyingKey>) -> Self {
        let mut check = Self::default();
        for checkpoint in checkpoints {
            let same = check.pending.get(&checkpoint.seq).is_some_and(|held| held.contains(&checkpoint));
            if same {
                continue;
            }
            if checkpoint.signed_by(trusted) {
                check.pending.entry(checkpoint.seq).or_default().push(checkpoint);
            } else {
                check.report.faults.push(CheckpointFault::Forged { seq: checkpoint.seq, at: checkpoint.at });
            }
        }
        check
    }

    /// Looks at the next record of the chain (already verified as a link).
    pub fn observe(&mut self, record: &AuditRecord) {
        let Some(checkpoints) = self.pending.remove(&record.seq) else { return };
        for checkpoint in checkpoints {
            if checkpoint.hash == record.hash {
                self.report.agreed += 1;
                let newer = self.report.newest.as_ref().is_none_or(|n| n.seq <= checkpoint.seq);
                if newer {
                    self.report.newest = Some(checkpoint);
                }
            } else {
                self.report.faults.push(CheckpointFault::Rewritten { seq: record.seq, at: checkpoint.at });
            }
        }
    }

    /// The findings, once the chain has been read up to `last`; `complete` says whether the
    /// chain was read to its end (not stopped at a broken link), so that checkpoints past
    /// `last` mean records are missing.
    pub fn finish(mut self, last: u64, complete: bool) -> CheckpointReport {
        for (seq, checkpoints) in std::mem::take(&mut self.pending) {
            for checkpoint in checkpoints {
                if complete && seq > last {
                    self.report.faults.push(CheckpointFault::Missing { seq, last, at: checkpoint.at });
                } else if complete {
                    // A record seq the chain never had (0): nothing to compare it with.
                    self.report.faults.push(CheckpointFault::Rewritten { seq, at: checkpoint.at });
                } else {
                    self.report.unchecked += 1;
                }
            }
        }
        self.report.faults.sort_by_key(CheckpointFault::seq);
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditEntry, AuditRecord, GENESIS_HASH};

    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let entry = AuditEntry {
                at: jiff::Timestamp::from_second(1_700_000_000 + i64::try_from(i).unwrap()).unwrap(),
                actor: "alice".into(),
                action: "ticket.requested".into(),
                ticket: None,
                details: serde_json::json!({ "n": i }),
            };
            let (seq, prev) = out.last().map_or((0, GENESIS_HASH.to_owned()), |r| (r.seq, r.hash.clone()));
            out.push(AuditRecord::chain(entry, seq, &prev));
        }
        out
    }

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_seed([byte; 32])
    }

    fn at() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000).unwrap()
    }

    fn check(records: &[AuditRecord], checkpoints: Vec<Checkpoint>, trusted: &SigningKey) -> CheckpointReport {
        let trusted = trusted.verifying_key();
        let mut check = CheckpointCheck::new(checkpoints, Some(&trusted));
        records.iter().for_each(|r| check.observe(r));
        check.finish(records.last().map_or(0, |r| r.seq), true)
    }

    #[test]
    fn a_chain_that_reaches_its_checkpoints_agrees() {
        let records = chain(10);
        let k = key(1);
        let cps = vec![k.sign(4, &records[3].hash, at()), k.sign(10, &records[9].hash, at())];
        let report = check(&records, cps, &k);
        assert_eq!(report.agreed, 2);
        assert!(report.faults.is_empty(), "{:?}", report.faults);
        assert_eq!(report.newest.map(|c| c.seq), Some(10));
    }

    #[test]
    fn a_cut_tail_is_missing_from_the_first_absent_record() {
        let records = chain(10);
        let k = key(1);
        let cps = vec![k.sign(10, &records[9].hash, at())];
        let report = check(&records[..7], cps, &k);
        assert_eq!(report.faults, vec![CheckpointFault::Missing { seq: 10, last: 7, at: at() }]);
        assert_eq!(report.faults[0].seq(), 8);
        assert!(report.faults[0].to_string().contains("records 8 to 10 are missing"));
    }

    #[test]
    fn a_chain_rebuilt_from_scratch_disagrees_at_the_checkpoint() {
        let records = chain(10);
        let k = key(1);
        let cps = vec![k.sign(5, &records[4].hash, at())];
        let mut rebuilt = chain(10);
        rebuilt.iter_mut().for_each(|r| r.hash = format!("{:0>64}", r.seq));
        let report = check(&rebuilt, cps, &k);
        assert_eq!(report.faults, vec![CheckpointFault::Rewritten { seq: 5, at: at() }]);
    }

    #[test]
    fn a_checkpoint_signed_with_another_key_is_forged() {
        let records = chain(3);
        let forged = key(2).sign(3, &records[2].hash, at());
        let report = check(&records, vec![forged], &key(1));
        assert_eq!(report.faults, vec![CheckpointFault::Forged { seq: 3, at: at() }]);
        let mut tampered = key(1).sign(3, &records[2].hash, at());
        tampered.seq = 2;
        let report = check(&records, vec![tampered], &key(1));
        assert_eq!(report.faults, vec![CheckpointFault::Forged { seq: 2, at: at() }]);
    }

    #[test]
    fn checkpoints_past_a_broken_link_are_left_unchecked() {
        let records = chain(10);
        let k = key(1);
        let trusted = k.verifying_key();
        let mut check = CheckpointCheck::new(vec![k.sign(9, &records[8].hash, at())], Some(&trusted));
        records[..4].iter().for_each(|r| check.observe(r));
        let report = check.finish(4, false);
        assert_eq!((report.unchecked, report.faults.len()), (1, 0));
    }

    #[test]
    fn keys_read_back_and_never_debug_print_their_secret() {
        let k = key(7);
        let again = SigningKey::parse(&k.to_hex()).unwrap();
        assert_eq!(again.verifying_key(), k.verifying_key());
        assert!(!format!("{k:?}").contains(&k.to_hex()));
        assert!(SigningKey::parse("abc").is_err());
        assert!(VerifyingKey::parse(&k.verifying_key().hex()).is_ok());
        assert!(VerifyingKey::parse("zz").is_err());
    }
}
