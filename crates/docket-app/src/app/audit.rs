//! The audit chain as the app exposes it: export a page at a time, verify it end to end
//! against the signed checkpoints it can read, and sign a checkpoint of its head.

use docket_core::audit::{AuditRecord, BrokenLink, Verifier};
use docket_core::checkpoint::{Checkpoint, CheckpointCheck, CheckpointReport, SigningKey, VerifyingKey};

use super::App;
use crate::error::AppError;

/// Records read per store call while verifying.
const VERIFY_PAGE: u32 = 2_000;

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Records checked.
    pub records: u64,
    /// The hash of the last record (the chain's head).
    pub head: String,
    /// The first broken link, if any; records after it were not checked.
    pub broken: Option<BrokenLink>,
    /// How the chain compares with the checkpoints: those kept in the store and any given.
    pub checkpoints: CheckpointReport,
    /// Whether checkpoint signatures were checked against a trusted key (otherwise each against
    /// the key it names, which shows it is intact but not who made it).
    pub trusted_key: bool,
}

impl AuditReport {
    /// Whether nothing is wrong: every link holds and every checkpoint agrees.
    pub fn intact(&self) -> bool {
        self.broken.is_none() && self.checkpoints.faults.is_empty()
    }
}

impl App {
    /// Audit records with `seq > after`, at most `limit` (capped at 10,000).
    pub async fn audit_records(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, AppError> {
        Ok(self.store().audit(after, limit.clamp(1, 10_000)).await?)
    }

    /// Recomputes every hash in the chain and names the first broken link, and compares the
    /// chain with the checkpoints kept in the store (each checked against the key it names).
    pub async fn verify_audit(&self) -> Result<AuditReport, AppError> {
        self.verify_audit_with(Vec::new(), None).await
    }

    /// [`App::verify_audit`], also against `extra` checkpoints (a file kept elsewhere), with
    /// every checkpoint's signature checked against `trusted` when it is given.
    pub async fn verify_audit_with(
        &self,
        extra: Vec<Checkpoint>,
        trusted: Option<&VerifyingKey>,
    ) -> Result<AuditReport, AppError> {
        let mut checkpoints = self.store().checkpoints().await?;
        checkpoints.extend(extra);
        let mut check = CheckpointCheck::new(checkpoints, trusted);
        let mut verifier = Verifier::new();
        let mut after = 0;
        let mut broken = None;
        'pages: loop {
            let page = self.store().audit(after, VERIFY_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for record in &page {
                if let Err(link) = verifier.push(record) {
                    broken = Some(link);
                    break 'pages;
                }
                check.observe(record);
            }
        }
        let checkpoints = check.finish(verifier.verified(), broken.is_none());
        Ok(AuditReport {
            records: verifier.verified(),
            head: verifier.head().to_owned(),
            broken,
            checkpoints,
            trusted_key: trusted.is_some(),
        })
    }

    /// Signs a checkpoint of the chain's head now and keeps it in the store; `None` while the
    /// chain is empty or its head is still `unless` (the head the last checkpoint named).
    pub async fn checkpoint_audit(
        &self,
        key: &SigningKey,
        unless: Option<&(u64, String)>,
    ) -> Result<Option<Checkpoint>, AppError> {
        let Some((seq, hash)) = self.store().audit_head().await? else { return Ok(None) };
        if unless.is_some_and(|(s, h)| *s == seq && *h == hash) {
            return Ok(None);
        }
        let checkpoint = key.sign(seq, &hash, self.now());
        self.store().save_checkpoint(&checkpoint).await?;
        Ok(Some(checkpoint))
    }
}
