//! The audit chain as the app exposes it: export a page at a time, and verify it end to end.

use docket_core::audit::{AuditRecord, BrokenLink, Verifier};

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
}

impl App {
    /// Audit records with `seq > after`, at most `limit` (capped at 10,000).
    pub async fn audit_records(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, AppError> {
        Ok(self.store().audit(after, limit.clamp(1, 10_000)).await?)
    }

    /// Recomputes every hash in the chain and names the first broken link.
    pub async fn verify_audit(&self) -> Result<AuditReport, AppError> {
        let mut verifier = Verifier::new();
        let mut after = 0;
        loop {
            let page = self.store().audit(after, VERIFY_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for record in &page {
                if let Err(broken) = verifier.push(record) {
                    return Ok(AuditReport {
                        records: verifier.verified(),
                        head: verifier.head().to_owned(),
                        broken: Some(broken),
                    });
                }
            }
        }
        Ok(AuditReport { records: verifier.verified(), head: verifier.head().to_owned(), broken: None })
    }
}
