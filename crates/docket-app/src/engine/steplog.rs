//! Step output on its way to people: redacted, capped per step, published live at once and
//! written to the store in small batches while the step runs; what is left at its end is
//! stored by the commit that records the step finished. The output is digested in order as it
//! is written (the last lines as they are handed over), so the step's audit record commits to it.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use docket_core::output::{OutputDigest, StepOutput};
use docket_core::{PlanFacts, StepResult, TicketId};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::live::LiveEvent;
use crate::ports::runner::StepLog;
use crate::ports::store::{LogLine, LogStream};
use crate::settings::RuleBook;

/// How often buffered lines are written while a step runs.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The log of one step of one run.
pub(crate) struct EngineLog {
    app: App,
    /// The rules in force when the step started: its output is redacted by them throughout,
    /// whatever a reload does meanwhile (and the lock is not taken per line).
    rules: Arc<RuleBook>,
    ticket: TicketId,
    run: u32,
    step: usize,
    /// The ticket's log position, shared by all steps of a run.
    seq: Arc<AtomicU64>,
    cap: usize,
    kept: AtomicUsize,
    truncated: AtomicBool,
    dropped: AtomicU64,
    // A std mutex: held only to push or take lines, never across an await. Lines are numbered
    // under it, so the buffer is always in log order.
    buffer: Mutex<Vec<LogLine>>,
    // Held across a flush, so batches are written and digested one at a time, in log order.
    flushing: tokio::sync::Mutex<()>,
    // A std mutex: held only to digest a batch that was stored.
    digest: Mutex<OutputDigest>,
    // A std mutex: held only to replace or take it.
    result: Mutex<Option<StepResult>>,
}

impl EngineLog {
    /// A log for step `step` of run `run`, continuing the ticket's numbering from `seq`.
    pub(crate) fn start(app: &App, ticket: &TicketId, run: u32, step: usize, seq: Arc<AtomicU64>) -> StepLogHandle {
        let log = Arc::new(EngineLog {
            app: app.clone(),
            rules: app.rules(),
            ticket: ticket.clone(),
            run,
            step,
            seq,
            cap: app.inner.settings.output_cap_bytes,
            kept: AtomicUsize::new(0),
            truncated: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            buffer: Mutex::new(Vec::new()),
            flushing: tokio::sync::Mutex::new(()),
            digest: Mutex::new(OutputDigest::new(run)),
            result: Mutex::new(None),
        });
        let stop = CancellationToken::new();
        // Not waited for: it stops at the step's end, and a flush it has begun holds
        // `flushing`, which the last flush waits for.
        drop(tokio::spawn(flush_loop(Arc::clone(&log), stop.clone())));
        StepLogHandle { log, stop }
    }

    fn push(&self, stream: LogStream, text: String) {
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        let line = LogLine {
            ticket: self.ticket.clone(),
            run: self.run,
            step: self.step,
            seq: self.seq.fetch_add(1, Ordering::SeqCst) + 1,
            stream,
            text,
            at: self.app.now(),
        };
        self.app.inner.live.publish(LiveEvent::Log(line.clone()));
        buffer.push(line);
    }

    async fn flush(&self) {
        let _one_at_a_time = self.flushing.lock().await;
        let lines = std::mem::take(&mut *self.buffer.lock().unwrap_or_else(PoisonError::into_inner));
        if lines.is_empty() {
            return;
        }
        match self.app.store().append_logs(&lines).await {
            Ok(()) => {
                let mut digest = self.digest.lock().unwrap_or_else(PoisonError::into_inner);
                for line in &lines {
                    digest.push(line.seq, line.stream.as_str(), &line.text);
                }
            }
            Err(error) => self.keep(lines, &error),
        }
    }

    /// Puts back lines that could not be written, before any pushed since, for the next flush.
    fn keep(&self, lines: Vec<LogLine>, error: &crate::StoreError) {
        tracing::warn!(%error, ticket = %self.ticket, "could not write step output; will retry");
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        let newer = std::mem::replace(&mut *buffer, lines);
        buffer.extend(newer);
    }
}

impl StepLog for EngineLog {
    fn line(&self, stream: LogStream, text: &str) {
        let text = self.rules.redactor.redact(text);
        let kept = self.kept.fetch_add(text.len() + 1, Ordering::SeqCst) + text.len() + 1;
        if kept > self.cap {
            self.dropped.fetch_add(1, Ordering::SeqCst);
            if !self.truncated.swap(true, Ordering::SeqCst) {
                let notice = format!(
                    "output limit of {} KiB for this step reached; further output is not kept",
                    self.cap / 1024
                );
                self.push(LogStream::System, notice);
            }
            return;
        }
        self.push(stream, text);
    }

    fn result(&self, result: StepResult) {
        let result = result.masked(|text| self.rules.redactor.redact(text));
        *self.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
    }
}

async fn flush_loop(log: Arc<EngineLog>, stop: CancellationToken) {
    // The first batch a tick later: a short step's output goes in one write, at its end.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + FLUSH_EVERY, FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            _ = tick.tick() => log.flush().await,
        }
    }
}

/// A running step's log, and the signal that stops the task that writes it.
pub(crate) struct StepLogHandle {
    log: Arc<EngineLog>,
    stop: CancellationToken,
}

impl StepLogHandle {
    /// The log to hand to the runner.
    pub(crate) fn log(&self) -> &EngineLog {
        &self.log
    }

    /// What the step left for people to read, if anything (already redacted).
    pub(crate) fn take_result(&self) -> Option<StepResult> {
        self.log.result.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Notes a line of Docket's own.
    pub(crate) fn note(&self, text: &str) {
        self.log.push(LogStream::System, text.to_owned());
    }

    /// Stops the writing and hands over what is still buffered, to be stored with the step's
    /// end (one write instead of two, and nothing waited for in between), with the digest of
    /// all the step's output, those lines included.
    pub(crate) async fn finish(self) -> LogEnd {
        let dropped = self.log.dropped.load(Ordering::SeqCst);
        if dropped > 0 {
            self.log.push(LogStream::System, format!("{dropped} more lines were not kept"));
        }
        self.stop.cancel();
        // A batch being written is digested first: it comes before the lines left.
        let _one_at_a_time = self.log.flushing.lock().await;
        let lines = std::mem::take(&mut *self.log.buffer.lock().unwrap_or_else(PoisonError::into_inner));
        let mut digest = self.log.digest.lock().unwrap_or_else(PoisonError::into_inner);
        for line in &lines {
            digest.push(line.seq, line.stream.as_str(), &line.text);
        }
        LogEnd { output: digest.finish(), lines }
    }
}

/// A step's output at its end: the digest of all of it, and the lines not yet stored, which
/// the commit recording the step's end stores (the digest counts them as stored).
pub(crate) struct LogEnd {
    pub(crate) output: StepOutput,
    pub(crate) lines: Vec<LogLine>,
}

impl Drop for StepLogHandle {
    /// A step dropped before its end (the server stopping) stops its writer too.
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A log that keeps a dry run's output as text for the plan, redacted and capped, and what
/// the dry run found.
pub(crate) struct PlanLog {
    /// The rules in force when the dry run started, as for a step's log.
    rules: Arc<RuleBook>,
    cap: usize,
    // A std mutex: held only to append.
    text: Mutex<String>,
    truncated: AtomicBool,
    // A std mutex: held only to replace.
    facts: Mutex<PlanFacts>,
}

impl PlanLog {
    pub(crate) fn new(app: &App) -> Self {
        Self {
            rules: app.rules(),
            cap: app.inner.settings.plan_output_cap_bytes,
            text: Mutex::new(String::new()),
            truncated: AtomicBool::new(false),
            facts: Mutex::new(PlanFacts::default()),
        }
    }

    /// What the dry run found.
    pub(crate) fn take_facts(&self) -> PlanFacts {
        std::mem::take(&mut *self.facts.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn into_text(self) -> String {
        let mut text = self.text.into_inner().unwrap_or_else(PoisonError::into_inner);
        if self.truncated.load(Ordering::SeqCst) {
            text.push_str(&format!("[dry-run output cut at {} KiB]\n", self.cap / 1024));
        }
        text
    }
}

impl StepLog for PlanLog {
    fn line(&self, stream: LogStream, text: &str) {
        if stream == LogStream::System {
            // Docket's own notes (exit codes, timings) would make identical plans differ.
            return;
        }
        let text = self.rules.redactor.redact(text);
        let mut all = self.text.lock().unwrap_or_else(PoisonError::into_inner);
        if all.len() + text.len() + 1 > self.cap {
            self.truncated.store(true, Ordering::SeqCst);
            return;
        }
        all.push_str(&text);
        all.push('\n');
    }

    fn facts(&self, facts: PlanFacts) {
        *self.facts.lock().unwrap_or_else(PoisonError::into_inner) = facts;
    }
}
