//! The rows a change writes besides the ticket: its events, and the projections derived from
//! them (approvals, comments, runs, run steps) so people can query them with SQL. Both
//! backends write these rows; only the SQL differs. SQLite inserts each kind from a JSON array of
//! rows, hence `Serialize` (field names are the keys its SQL reads).

use std::collections::BTreeSet;

use docket_app::{Change, StoreError};
use docket_core::Event;
use docket_core::ticket::{StepOutcome, Verdict};
use serde::Serialize;

use crate::rows::{time_text, to_i64, to_json};

/// A `ticket_events` row.
#[derive(Debug, Serialize)]
pub(crate) struct EventRow {
    pub(crate) seq: i64,
    pub(crate) at: String,
    pub(crate) action: &'static str,
    pub(crate) body: String,
}

/// An `approvals` row (every review: approvals, rejections and change requests).
#[derive(Debug, Serialize)]
pub(crate) struct ApprovalRow {
    pub(crate) seq: i64,
    pub(crate) person: String,
    pub(crate) stage: Option<String>,
    pub(crate) verdict: &'static str,
    pub(crate) round: i64,
    pub(crate) digest: Option<String>,
    pub(crate) comment: Option<String>,
    pub(crate) at: String,
    pub(crate) expires_at: Option<String>,
}

/// A `comments` row.
#[derive(Debug, Serialize)]
pub(crate) struct CommentRow {
    pub(crate) seq: i64,
    pub(crate) author: String,
    pub(crate) text: String,
    pub(crate) at: String,
}

/// A `runs` row, as the run stands after the change.
#[derive(Debug, Serialize)]
pub(crate) struct RunRow {
    pub(crate) number: i64,
    pub(crate) started_at: String,
    pub(crate) finished_at: Option<String>,
    pub(crate) outcome: Option<String>,
}

/// A `run_steps` row, as the step stands after the change.
#[derive(Debug, Serialize)]
pub(crate) struct StepRow {
    pub(crate) run: i64,
    pub(crate) step: i64,
    pub(crate) name: String,
    pub(crate) attempts: i64,
    pub(crate) started_at: String,
    pub(crate) finished_at: Option<String>,
    pub(crate) outcome: Option<String>,
    pub(crate) exit_code: Option<i64>,
}

/// Everything a change writes about its ticket besides the ticket row. Runs come before
/// steps, so a step's run exists when the step is written.
#[derive(Debug, Default)]
pub(crate) struct ChangeRows {
    pub(crate) events: Vec<EventRow>,
    pub(crate) approvals: Vec<ApprovalRow>,
    pub(crate) comments: Vec<CommentRow>,
    pub(crate) runs: Vec<RunRow>,
    pub(crate) steps: Vec<StepRow>,
}

fn verdict(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Approve => "approve",
        Verdict::Reject => "reject",
        Verdict::RequestChanges => "request_changes",
    }
}

/// The rows `change` writes. Runs and steps are written as they stand in the changed ticket
/// (the fold of every event), for each run and step an event of the change touched.
pub(crate) fn rows(change: &Change) -> Result<ChangeRows, StoreError> {
    let mut out = ChangeRows::default();
    let at = time_text(change.at);
    let ticket = &change.ticket;

    // The run in progress before the change: the last one not started by it.
    let started_here = change.events.iter().filter(|e| matches!(e, Event::RunStarted { .. })).count();
    let mut current_run =
        ticket.runs.len().checked_sub(started_here + 1).and_then(|i| ticket.runs.get(i)).map(|r| r.number);
    let mut runs = BTreeSet::new();
    let mut steps = BTreeSet::new();

    for (i, event) in change.events.iter().enumerate() {
        let seq = to_i64(change.expected_version, "ticket version")?
            .checked_add(to_i64(i, "event index")?)
            .and_then(|s| s.checked_add(1))
            .ok_or_else(|| StoreError::Unavailable("ticket version overflow".into()))?;
        out.events.push(EventRow { seq, at: at.clone(), action: event.action(), body: to_json(event, "event")? });
        match event {
            Event::Reviewed(review) => out.approvals.push(ApprovalRow {
                seq,
                person: review.person.to_string(),
                stage: review.stage.clone(),
                verdict: verdict(review.verdict),
                round: i64::from(review.round),
                digest: review.digest.map(|d| d.to_string()),
                comment: review.comment.clone(),
                at: time_text(review.at),
                expires_at: review.expires_at.map(time_text),
            }),
            Event::Commented(comment) => out.comments.push(CommentRow {
                seq,
                author: comment.author.to_string(),
                text: comment.text.clone(),
                at: time_text(comment.at),
            }),
            Event::RunStarted { number } => {
                current_run = Some(*number);
                runs.insert(*number);
            }
            Event::StepStarted { index, .. } | Event::StepFinished { index, .. } => {
                if let Some(run) = current_run {
                    runs.insert(run);
                    steps.insert((run, *index));
                }
            }
            Event::RunFinished { .. } => runs.extend(current_run),
            _ => {}
        }
    }

    for number in runs {
        let Some(run) = ticket.runs.iter().find(|r| r.number == number) else { continue };
        out.runs.push(RunRow {
            number: i64::from(number),
            started_at: time_text(run.started_at),
            finished_at: run.finished_at.map(time_text),
            outcome: run.outcome.as_ref().map(|o| to_json(o, "run outcome")).transpose()?,
        });
    }
    for (number, index) in steps {
        let step =
            ticket.runs.iter().find(|r| r.number == number).and_then(|r| r.steps.iter().find(|s| s.index == index));
        let Some(step) = step else { continue };
        out.steps.push(StepRow {
            run: i64::from(number),
            step: to_i64(index, "step index")?,
            name: step.name.clone(),
            attempts: i64::from(step.attempts),
            started_at: time_text(step.started_at),
            finished_at: step.finished_at.map(time_text),
            outcome: step.outcome.as_ref().map(|o| to_json(o, "step outcome")).transpose()?,
            exit_code: match &step.outcome {
                Some(StepOutcome::Failed { exit_code, .. }) => exit_code.map(i64::from),
                _ => None,
            },
        });
    }
    Ok(out)
}
