//! A ticket for people: its plan with the digest approvers sign, what happens next, the approval
//! stages, runs and comments. Pure functions of the API's view and a `Ui`.

use std::io::{self, Write};

use serde_json::Value;

use super::model::{Decision, PlanStep, Run, Stage, Ticket};
use super::style::{Ui, elapsed};

/// How much of a digest people see and may type.
pub(crate) const SHORT_DIGEST: usize = 12;

/// The first 12 hex digits of a digest.
pub(crate) fn short_digest(digest: &str) -> &str {
    digest.get(..SHORT_DIGEST).unwrap_or(digest)
}

/// One argument as a shell would need it quoted, for reading only: nothing here runs a shell.
/// A step's action on one line, as its kind reads it (the kind's own words, from the plan).
pub(crate) fn action_text(step: &PlanStep) -> String {
    if step.summary.is_empty() { format!("{} {}", step.kind, step.action) } else { step.summary.clone() }
}

/// A parameter value as typed: strings without quotes.
pub(crate) fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The plan, each step with its action and dry-run output, and the digest.
pub(crate) fn write_plan(out: &mut dyn Write, ui: &Ui, ticket: &Ticket) -> io::Result<()> {
    let Some(plan) = &ticket.plan else {
        return writeln!(out, "plan       {}", ui.dim("(none yet)"));
    };
    let digest = ticket.digest.as_deref().map_or_else(|| "-".to_owned(), |d| short_digest(d).to_owned());
    writeln!(out, "plan       digest {}", ui.bold(&digest))?;
    for (n, step) in plan.steps.iter().enumerate() {
        writeln!(out, "  {}. {} {}", n + 1, ui.bold(&step.name), ui.dim(&format!("({})", step.kind)))?;
        writeln!(out, "     {}", action_text(step))?;
        if let Some(output) = step.output.as_deref().filter(|o| !o.trim().is_empty()) {
            for line in output.trim_end().lines() {
                writeln!(out, "     {} {line}", ui.dim("│"))?;
            }
        }
    }
    Ok(())
}

/// A stage and who it needs: `lead (1 of group:sre)`, `lead (1 of 2 from group:sre; approved
/// by bob)`.
fn stage_text(stage: &Stage) -> String {
    let from = stage.from.join(", ");
    if stage.approvers.is_empty() {
        format!("{} ({} of {from})", stage.name, stage.count)
    } else {
        let have = stage.approvers.len();
        format!("{} ({have} of {} from {from}; approved by {})", stage.name, stage.count, stage.approvers.join(", "))
    }
}

/// The stages still to approve: `stage lead (1 of group:sre), then security`.
fn waiting_for(decision: Option<&Decision>) -> String {
    let pending: Vec<&Stage> = decision.map(|d| d.stages.iter().filter(|s| !s.satisfied).collect()).unwrap_or_default();
    match pending.split_first() {
        None => "waiting for approval".to_owned(),
        Some((first, rest)) => {
            let mut text = format!("waiting for approval: stage {}", stage_text(first));
            for stage in rest {
                text.push_str(", then ");
                text.push_str(&stage.name);
            }
            text
        }
    }
}

fn auto_approved(ticket: &Ticket) -> bool {
    ticket.decision.as_ref().is_some_and(|d| d.outcome == "auto_approve")
}

/// The running step as `step 2/3 bake`, from the last run.
fn current_step(ticket: &Ticket) -> Option<String> {
    let run = ticket.runs.last()?;
    let index = match run.steps.last() {
        Some(step) if step.finished_at.is_none() => step.index,
        Some(step) => step.index + 1,
        None => 0,
    };
    let name = ticket.step_name(index).or_else(|| run.steps.last().map(|s| s.name.as_str()))?;
    Some(format!("step {}/{} {name}", index + 1, ticket.step_count().max(index + 1)))
}

/// How the last run ended: `failed at step 2 bake (exit 1): message`.
fn run_result(ticket: &Ticket) -> Option<String> {
    let run = ticket.runs.last()?;
    let outcome = run.outcome.as_ref()?;
    let Some(index) = outcome.step else { return Some(outcome.status.clone()) };
    let step = run.steps.iter().find(|s| s.index == index);
    let name = ticket.step_name(index).or(step.map(|s| s.name.as_str())).unwrap_or("?");
    let preposition = if outcome.status == "interrupted" { "during" } else { "at" };
    let mut text = format!("{} {preposition} step {} {name}", outcome.status, index + 1);
    if let Some(code) = step.and_then(|s| s.outcome.as_ref()).and_then(|o| o.exit_code) {
        text.push_str(&format!(" (exit {code})"));
    }
    if let Some(message) = outcome.message.as_deref().filter(|m| !m.is_empty()) {
        text.push_str(": ");
        text.push_str(message);
    }
    Some(text)
}

/// What happens next, or how it ended, in one line.
pub(crate) fn next_step(ticket: &Ticket) -> String {
    let reason = || ticket.closing_reason.as_deref().filter(|r| !r.is_empty());
    let with_reason = |what: &str| reason().map_or_else(|| what.to_owned(), |r| format!("{what}: {r}"));
    let approved = if auto_approved(ticket) { "auto-approved" } else { "approved" };
    match ticket.state.as_str() {
        "requested" | "planning" => "planning the run".to_owned(),
        "awaiting_approval" => waiting_for(ticket.decision.as_ref()),
        "approved" => format!("{approved}; starting"),
        "queued" => format!("{approved}; queued"),
        "running" => match current_step(ticket) {
            Some(step) => format!("{approved}; running {step}"),
            None => format!("{approved}; running"),
        },
        "denied" => {
            let decision = ticket.decision.as_ref();
            let rule = decision.and_then(|d| d.rule.as_deref()).map(|r| format!(" by policy {r}")).unwrap_or_default();
            let message = decision.and_then(|d| d.message.as_deref()).or_else(reason);
            message.map_or_else(|| format!("denied{rule}"), |m| format!("denied{rule}: {m}"))
        }
        "changes_requested" => {
            let review = ticket.reviews.iter().rev().find(|r| r.verdict == "request_changes");
            match review {
                Some(r) => format!("changes requested by {}: {}", r.person, r.comment.as_deref().unwrap_or("")),
                None => with_reason("changes requested"),
            }
        }
        "failed" | "interrupted" => run_result(ticket).unwrap_or_else(|| with_reason(&ticket.state)),
        "plan_failed" => with_reason("planning failed"),
        other => with_reason(other),
    }
}

/// The one-line status shown while following a ticket.
pub(crate) fn progress(ticket: &Ticket) -> String {
    match ticket.state.as_str() {
        "requested" | "planning" => "planning…".to_owned(),
        "awaiting_approval" => format!("{}…", waiting_for(ticket.decision.as_ref())),
        "approved" => "approved; starting…".to_owned(),
        "queued" => "queued…".to_owned(),
        "running" => current_step(ticket).map_or_else(|| "running…".to_owned(), |s| format!("running {s}…")),
        _ => next_step(ticket),
    }
}

/// What `docket request` prints for a ticket it opened (`new`), or that an earlier request with
/// the same key opened.
pub(crate) fn write_created(out: &mut dyn Write, ui: &Ui, ticket: &Ticket, new: bool) -> io::Result<()> {
    let opened = if new { "opened" } else { "opened before with this key" };
    writeln!(out, "{} {opened}: {} ({})", ui.bold(&ticket.id), ticket.title, ticket.workflow)?;
    writeln!(out, "state      {}", ui.state(&ticket.state))?;
    write_plan(out, ui, ticket)?;
    writeln!(out, "next       {}", next_step(ticket))
}

/// States in which a ticket will do nothing more.
const FINAL: &[&str] =
    &["succeeded", "failed", "interrupted", "plan_failed", "denied", "rejected", "expired", "cancelled"];

/// `docket show`: a ticket, with what matters for the state it is in: deadlines only while
/// they can still pass, when it ended once it has, what is still needed only while it waits.
pub(crate) fn write_ticket(out: &mut dyn Write, ui: &Ui, ticket: &Ticket) -> io::Result<()> {
    let version = short_digest(&ticket.version);
    writeln!(out, "{}  {} {}", ui.bold(&ticket.id), ticket.title, ui.dim(&format!("({}@{version})", ticket.workflow)))?;
    let next = next_step(ticket);
    if next == ticket.state {
        writeln!(out, "state      {}", ui.state(&ticket.state))?;
    } else {
        writeln!(out, "state      {}  {}", ui.state(&ticket.state), ui.dim(&format!("— {next}")))?;
    }
    if ticket.requested_by_name.is_empty() {
        writeln!(out, "requester  {}", ticket.requester)?;
    } else {
        writeln!(out, "requester  {}", ticket.requested_by_name)?;
    }
    writeln!(out, "opened     {} ({} ago)", ui.datetime(&ticket.created_at), ui.age(&ticket.created_at))?;
    let state = ticket.state.as_str();
    match (state, &ticket.respond_by, &ticket.start_by) {
        ("awaiting_approval", Some(at), _) => writeln!(out, "respond by {}", ui.datetime(at))?,
        ("approved" | "queued", _, Some(at)) => writeln!(out, "start by   {}", ui.datetime(at))?,
        _ if FINAL.contains(&state) => {
            let ended = ticket.runs.last().and_then(|r| r.finished_at.as_deref()).unwrap_or(&ticket.updated_at);
            writeln!(out, "ended      {} ({} ago)", ui.datetime(ended), ui.age(ended))?;
        }
        _ => {}
    }
    if !ticket.params.is_empty() {
        writeln!(out, "params")?;
        let width = ticket.params.keys().map(|k| k.chars().count()).max().unwrap_or(0);
        for (name, value) in &ticket.params {
            writeln!(out, "  {name:<width$}  {}", value_text(value))?;
        }
    }
    for record in &ticket.external {
        let url = record.url.as_deref().map(|u| format!("  {}", ui.dim(u))).unwrap_or_default();
        writeln!(out, "{:<10} {}{url}", record.system, record.key)?;
    }
    write_plan(out, ui, ticket)?;
    write_decision(out, ui, ticket)?;
    for run in &ticket.runs {
        write_run(out, ui, ticket, run)?;
    }
    if !ticket.comments.is_empty() {
        writeln!(out, "comments")?;
        for comment in &ticket.comments {
            writeln!(out, "  {} {}: {}", ui.dim(&ui.datetime(&comment.at)), comment.author.name(), comment.text)?;
        }
    }
    // The state line already says a reason it shows.
    if let Some(reason) = ticket.closing_reason.as_deref().filter(|r| !r.is_empty() && !next.contains(*r)) {
        writeln!(out, "closed     {reason}")?;
    }
    Ok(())
}

fn write_decision(out: &mut dyn Write, ui: &Ui, ticket: &Ticket) -> io::Result<()> {
    let Some(decision) = &ticket.decision else { return Ok(()) };
    let rule = decision.rule.as_deref().map(|r| format!("policy {r}")).unwrap_or_else(|| "policy".to_owned());
    let waiting = ticket.state == "awaiting_approval";
    let what = match decision.outcome.as_str() {
        "deny" => "denies",
        "auto_approve" => "approves automatically",
        _ if waiting || ticket.state == "changes_requested" => "needs approval",
        _ => "required approval",
    };
    writeln!(out, "approval   {rule} {what}")?;
    if !decision.explanation.is_empty() {
        writeln!(out, "           {}", ui.dim(&decision.explanation))?;
    }
    let width = decision.stages.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
    for stage in &decision.stages {
        let mark = if stage.satisfied { ui.green("✓") } else { ui.yellow("·") };
        let needed = usize::try_from(stage.count).unwrap_or(usize::MAX).saturating_sub(stage.approvers.len());
        let mut line = format!("  {mark} {:<width$}  {} of {}", stage.name, stage.count, stage.from.join(", "));
        if !stage.approvers.is_empty() {
            line.push_str(&format!("; approved by {}", stage.approvers.join(", ")));
        }
        if waiting && !stage.satisfied && needed > 0 {
            line.push_str(&format!("; needs {needed} more"));
        }
        writeln!(out, "{line}")?;
    }
    for review in ticket.reviews.iter().filter(|r| r.verdict != "approve" || r.comment.is_some()) {
        let verdict = match review.verdict.as_str() {
            "approve" => "approved",
            "reject" => "rejected",
            "request_changes" => "requested changes",
            other => other,
        };
        let comment = review.comment.as_deref().map(|c| format!(": {c}")).unwrap_or_default();
        writeln!(out, "  {} {} {verdict}{comment}", ui.dim(&ui.datetime(&review.at)), review.person)?;
    }
    Ok(())
}

fn write_run(out: &mut dyn Write, ui: &Ui, ticket: &Ticket, run: &Run) -> io::Result<()> {
    let status = run.outcome.as_ref().map_or("running", |o| o.status.as_str());
    let took = elapsed(&run.started_at, run.finished_at.as_deref()).map(|t| format!(" in {t}")).unwrap_or_default();
    writeln!(out, "run {}      started {}, {}{took}", run.number, ui.datetime(&run.started_at), ui.state(status))?;
    let width = run.steps.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
    for step in &run.steps {
        let status = step.outcome.as_ref().map_or("running", |o| o.status.as_str());
        let mut line = format!("  {}. {:<width$}  {:<9}", step.index + 1, step.name, status);
        if let Some(code) = step.outcome.as_ref().and_then(|o| o.exit_code) {
            line.push_str(&format!("  exit {code}"));
        }
        if let Some(took) = elapsed(&step.started_at, step.finished_at.as_deref()) {
            line.push_str(&format!("  {took}"));
        }
        if step.attempts > 1 {
            line.push_str(&format!("  ({} attempts)", step.attempts));
        }
        if let Some(message) = step.outcome.as_ref().and_then(|o| o.message.as_deref()).filter(|m| !m.is_empty()) {
            line.push_str(&format!("  {message}"));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    let pending = ticket.step_count().saturating_sub(run.steps.len());
    if pending > 0 && run.finished_at.is_none() {
        let more = crate::check::count(pending, "more step", "more steps");
        writeln!(out, "  {}", ui.dim(&format!("{more} to run")))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
