//! The audit chain as the app exposes it: export a page at a time, verify it end to end
//! against the signed checkpoints it can read and against the stored output of every step it
//! records, and sign a checkpoint of its head.

use docket_core::TicketId;
use docket_core::audit::{AuditRecord, BrokenLink, Verifier};
use docket_core::checkpoint::{Checkpoint, CheckpointCheck, CheckpointReport, SigningKey, VerifyingKey};
use docket_core::output::{OutputDigest, StepOutput};

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
    /// Steps whose stored output was compared with their audit record.
    pub outputs_checked: u64,
    /// Steps whose stored output is no longer what their audit record says.
    pub output_faults: Vec<OutputFault>,
}

/// A step whose stored output no longer matches the digest in its audit record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "record {record}: the output of step {step} of {ticket} (run {run}) is not what it was when the step \
     finished ({found} lines now, {recorded} then)"
)]
pub struct OutputFault {
    /// The audit record of the step's end.
    pub record: u64,
    /// The ticket.
    pub ticket: String,
    /// The run.
    pub run: u32,
    /// The step, from 1.
    pub step: usize,
    /// Lines recorded.
    pub recorded: u64,
    /// Lines stored now.
    pub found: u64,
}

/// A step's end as recorded, to compare with its stored output.
struct RecordedOutput {
    record: u64,
    ticket: TicketId,
    step: usize,
    output: StepOutput,
}

impl AuditReport {
    /// Whether nothing is wrong: every link holds and every checkpoint agrees.
    pub fn intact(&self) -> bool {
        self.broken.is_none() && self.checkpoints.faults.is_empty() && self.output_faults.is_empty()
    }

    /// The first thing wrong, as the sequence number of the audit record where it starts and a
    /// sentence: a broken link, else a checkpoint that disagrees, else a step's changed output.
    pub fn first_problem(&self) -> Option<(u64, String)> {
        if let Some(broken) = &self.broken {
            let seq = match broken {
                BrokenLink::Gap { found, .. } => *found,
                BrokenLink::PrevHash { seq } | BrokenLink::Hash { seq } => *seq,
            };
            return Some((seq, broken.to_string()));
        }
        if let Some(fault) = self.checkpoints.faults.first() {
            return Some((fault.seq(), fault.to_string()));
        }
        self.output_faults.first().map(|fault| (fault.record, fault.to_string()))
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
        let mut outputs = Vec::new();
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
                outputs.extend(recorded_output(record));
            }
        }
        let outputs_checked = outputs.len() as u64;
        let mut output_faults = Vec::new();
        for recorded in outputs {
            output_faults.extend(self.compare_output(recorded).await?);
        }
        let checkpoints = check.finish(verifier.verified(), broken.is_none());
        Ok(AuditReport {
            records: verifier.verified(),
            head: verifier.head().to_owned(),
            broken,
            checkpoints,
            trusted_key: trusted.is_some(),
            outputs_checked,
            output_faults,
        })
    }

    /// Digests the stored lines of a recorded step again, from its first line on.
    async fn compare_output(&self, recorded: RecordedOutput) -> Result<Option<OutputFault>, AppError> {
        let RecordedOutput { record, ticket, step, output } = recorded;
        let mut digest = OutputDigest::new(output.run);
        let mut after = output.from_seq.saturating_sub(1);
        'pages: loop {
            let page = self.store().logs(&ticket, after, VERIFY_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for line in &page {
                if line.run > output.run {
                    break 'pages;
                }
                if line.run == output.run && line.step == step {
                    digest.push(line.seq, line.stream.as_str(), &line.text);
                }
            }
        }
        let found = digest.finish();
        let same = found.sha256 == output.sha256 && found.lines == output.lines;
        Ok((!same).then(|| OutputFault {
            record,
            ticket: ticket.to_string(),
            run: output.run,
            step: step + 1,
            recorded: output.lines,
            found: found.lines,
        }))
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

/// The output digest a step's end record carries, if it is one and printed anything (a step
/// that printed nothing has no first line to start comparing from).
fn recorded_output(record: &AuditRecord) -> Option<RecordedOutput> {
    if record.entry.action != "run.step_finished" {
        return None;
    }
    let details = &record.entry.details;
    let output: StepOutput = serde_json::from_value(details.get("output")?.clone()).ok()?;
    let step = usize::try_from(details.get("index")?.as_u64()?).ok()?;
    let ticket = TicketId::parse(record.entry.ticket.as_deref()?).ok()?;
    (output.lines > 0).then_some(RecordedOutput { record: record.seq, ticket, step, output })
}
