//! `/tickets/{id}`: the page chat messages link to, laid out like a CI run page — a header
//! with the id, title and state; the parameters and the plan (dry-run diffs shown as diffs);
//! why it needs approval, stage by stage, with who may approve and who is on call; the
//! approvals and comments in order; one collapsible log pane per step, followed live; the
//! ticket's audit records; and the actions the viewer may take now.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use docket_app::{App, TicketAction};
use docket_core::ticket::{RunOutcome, StepOutcome, Verdict};
use docket_core::{PersonId, Ticket, TicketId};
use serde::Deserialize;

use super::auth::Viewer;
use super::form::UiQuery;
use super::page::{Chrome, UiError, render};
use super::results::{ResultPane, panes, shown_results};
use super::view::{tone, when, when_exact};
use crate::Web;

/// Log lines shown on the page; the rest are in the API.
const LOG_LINES: u32 = 5_000;

#[derive(Debug)]
struct PlanStep {
    name: String,
    command: String,
    output: Vec<(&'static str, String)>,
    /// "2 to add, 1 to destroy", when the step reported structured changes.
    summary: String,
    changes: Vec<ChangeRow>,
}

/// One structured change in full: before → after.
#[derive(Debug)]
struct ChangeRow {
    verb: String,
    target: String,
    marked: bool,
    before: String,
    after: String,
}

#[derive(Debug)]
struct Stage {
    name: String,
    from: String,
    needed: u32,
    approved_by: String,
    eligible: String,
    on_call: String,
    satisfied: bool,
    current: bool,
}

#[derive(Debug)]
struct Approval {
    rule: String,
    /// As HTML (see `markdown`): the policy's words quote rules and conditions as code.
    explanation: String,
    respond_by: String,
    stages: Vec<Stage>,
}

#[derive(Debug)]
struct Entry {
    at: String,
    who: String,
    what: String,
    text: String,
    tone: &'static str,
}

#[derive(Debug)]
struct StepPane {
    index: usize,
    name: String,
    status: &'static str,
    lines: Vec<(&'static str, String)>,
}

impl StepPane {
    /// What an empty log pane says instead of being an empty box.
    fn note(&self) -> &'static str {
        note(self.status)
    }
}

/// What an empty log pane of a step in `status` says (the page's script says the same).
fn note(status: &str) -> &'static str {
    match status {
        "pending" => "Not started",
        "running" => "Running; no output yet",
        _ => "No output",
    }
}

#[derive(Debug)]
struct RunPane {
    number: u32,
    outcome: String,
    steps: Vec<StepPane>,
}

/// What changes as people act on a ticket, rendered by the page and again, as a fragment, each
/// time the ticket's event stream says it changed: the state with its headline, and the side
/// column (the viewer's actions, the parameters, why it needs approval, approvals and comments,
/// the audit records). The plan and the logs are the page's own.
#[derive(Debug)]
struct Panels {
    id: String,
    state: &'static str,
    state_label: String,
    tone: &'static str,
    headline: String,
    closing_reason: String,
    params: Vec<(String, String)>,
    /// The ticket's records in ticketing systems: (system, key, web address or empty).
    records: Vec<(String, String, String)>,
    digest: String,
    digest_short: String,
    approval: Option<Approval>,
    timeline: Vec<Entry>,
    audit: Vec<(String, String)>,
    actions: Vec<&'static str>,
    /// The page shows a plan other than the current one: approving is not offered until it is
    /// reloaded, and the page says so.
    plan_changed: bool,
}

impl Panels {
    fn can(&self, action: &str) -> bool {
        self.actions.contains(&action)
    }

    /// Whether the actions panel has anything in it (comments are made in the timeline).
    fn has_buttons(&self) -> bool {
        self.actions.iter().any(|a| *a != "comment")
    }
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    chrome: Chrome,
    panels: Panels,
    id: String,
    title: String,
    workflow: String,
    requester: String,
    created: String,
    plan: Vec<PlanStep>,
    digest: String,
    digest_short: String,
    runs: Vec<RunPane>,
    results: Vec<ResultPane>,
    /// The results shown, as `run:step` pairs (the page's script asks for the results again
    /// when the event stream announces one not among them).
    results_shown: String,
    live: bool,
    last_seq: u64,
}

/// The panels alone, for the page's script to put in place.
#[derive(Template)]
#[template(path = "ticket_live.html")]
struct LivePanels {
    chrome: Chrome,
    panels: Panels,
}

/// `GET /tickets/{id}`
pub(crate) async fn page(State(web): State<Web>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let chrome = Chrome::new(&web, &viewer);
    show(&web, &viewer, &id, chrome, StatusCode::OK).await
}

/// A ticket id from a path, or a 404 page saying why not.
pub(crate) fn parse_id(text: &str) -> Result<TicketId, UiError> {
    TicketId::parse(text).map_err(|e| UiError::NotFound(format!("`{text}` is not a ticket id: {e}")))
}

/// The ticket page of `id` in `chrome` (which may carry a message), with `status`.
pub(crate) async fn show(
    web: &Web,
    viewer: &Viewer,
    id: &TicketId,
    chrome: Chrome,
    status: StatusCode,
) -> Result<Response, UiError> {
    // Independent reads, so the page waits for the slowest, not for the sum.
    let (ticket, logs, history, results) =
        tokio::try_join!(web.app.ticket(id), web.app.logs(id, 0, LOG_LINES), web.app.history(id), web.app.results(id))?;
    let app = &web.app;
    let summary = app.summarize(&ticket);
    let mut lines: BTreeMap<(u32, usize), Vec<(&'static str, String)>> = BTreeMap::new();
    let mut last_seq = 0;
    for line in &logs {
        last_seq = line.seq;
        lines.entry((line.run, line.step)).or_default().push((line.stream.as_str(), line.text.clone()));
    }
    let run_in_progress = ticket.last_run().is_some_and(|r| r.finished_at.is_none());
    let page = TicketPage {
        chrome,
        panels: panels(app, viewer, &ticket, &history, None),
        id: ticket.id.to_string(),
        title: summary.title,
        workflow: ticket.workflow.to_string(),
        requester: summary.requester,
        created: when(app, ticket.created_at),
        plan: plan(&ticket),
        digest: summary.digest.unwrap_or_default(),
        digest_short: ticket.digest.map(|d| d.short()).unwrap_or_default(),
        runs: runs(app, &ticket, &mut lines),
        results_shown: shown_results(&results),
        results: panes(&ticket, &results),
        live: !ticket.state.is_terminal() || run_in_progress,
        last_seq,
    };
    render(&page, status)
}

/// The query of `/tickets/{id}/panels`.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Shown {
    /// The digest of the plan the page shows.
    #[serde(default)]
    digest: String,
}

/// `GET /tickets/{id}/panels?digest=…`: the panels of the ticket as they are now, for the
/// viewer (the page's script asks for them when the event stream says the ticket changed). If
/// the plan is no longer the one the page shows (`digest`), approving is not offered: an
/// approval binds to the plan the approver saw.
pub(crate) async fn live_panels(
    State(web): State<Web>,
    viewer: Viewer,
    Path(id): Path<String>,
    UiQuery(shown): UiQuery<Shown>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let (ticket, history) = tokio::try_join!(web.app.ticket(&id), web.app.history(&id))?;
    let panels = panels(&web.app, &viewer, &ticket, &history, Some(&shown.digest));
    render(&LivePanels { chrome: Chrome::new(&web, &viewer), panels }, StatusCode::OK)
}

/// The panels of `ticket` for `viewer`; `shown` is the digest of the plan the page shows, when
/// the page is already open.
fn panels(
    app: &App,
    viewer: &Viewer,
    ticket: &Ticket,
    history: &[(docket_core::Event, jiff::Timestamp)],
    shown: Option<&str>,
) -> Panels {
    let summary = app.summarize(ticket);
    let current = summary.digest.clone().unwrap_or_default();
    let plan_changed = shown.is_some_and(|shown| shown != current);
    let mut actions: Vec<&'static str> =
        app.actions_for(ticket, &viewer.actor).into_iter().map(TicketAction::as_str).collect();
    if plan_changed {
        actions.retain(|a| *a != "approve");
    }
    Panels {
        id: ticket.id.to_string(),
        state: ticket.state.as_str(),
        state_label: ticket.state.to_string(),
        tone: tone(ticket.state),
        headline: summary.headline,
        closing_reason: summary.closing_reason.unwrap_or_default(),
        params: summary.params,
        records: ticket
            .links
            .iter()
            .map(|l| {
                let url = l.url.clone().filter(|u| u.starts_with("https://") || u.starts_with("http://"));
                (l.system.clone(), l.key.clone(), url.unwrap_or_default())
            })
            .collect(),
        digest: summary.digest.unwrap_or_default(),
        digest_short: ticket.digest.map(|d| d.short()).unwrap_or_default(),
        approval: approval(app, ticket),
        timeline: timeline(app, ticket),
        audit: history.iter().rev().map(|(event, at)| (when_exact(app, *at), event.action().to_owned())).collect(),
        actions,
        plan_changed,
    }
}

fn names(app: &App, people: &[PersonId]) -> String {
    people.iter().map(|p| app.person_name(p)).collect::<Vec<_>>().join(", ")
}

/// Each planned step with its rendered action and its dry run's output, lines marked as
/// added, removed or context the way a diff reads.
fn plan(ticket: &Ticket) -> Vec<PlanStep> {
    let Some(plan) = &ticket.plan else { return Vec::new() };
    plan.steps
        .iter()
        .map(|step| PlanStep {
            name: step.name.clone(),
            command: step.one_line(),
            output: step.output.iter().flat_map(|o| o.lines()).map(|l| (diff_class(l), l.to_owned())).collect(),
            summary: if step.facts.changes.is_empty() {
                String::new()
            } else {
                docket_core::plan::ChangeCounts::of(&step.facts.changes).summary()
            },
            changes: docket_core::plan::change::ordered(&step.facts.changes)
                .into_iter()
                .map(|c| ChangeRow {
                    verb: c.action.verb().to_owned(),
                    target: c.target.clone(),
                    marked: c.action.is_destructive(),
                    before: shown(&c.before),
                    after: shown(&c.after),
                })
                .collect(),
        })
        .collect()
}

/// A change's value as people read it: indented JSON, or "(none)".
fn shown(value: &serde_json::Value) -> String {
    if value.is_null() {
        return "(none)".to_owned();
    }
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// How a line of dry-run output reads in a diff.
fn diff_class(line: &str) -> &'static str {
    if line.starts_with("+++") || line.starts_with("---") || line.starts_with("diff ") {
        "meta"
    } else if line.starts_with("@@") {
        "hunk"
    } else if line.starts_with('+') {
        "add"
    } else if line.starts_with('-') {
        "del"
    } else if line.starts_with("~ ") {
        // A changed row of a SQL write's sample, a changed resource.
        "chg"
    } else {
        "ctx"
    }
}

fn approval(app: &App, ticket: &Ticket) -> Option<Approval> {
    let view = app.approval_view(ticket)?;
    Some(Approval {
        rule: view.rule.unwrap_or_default(),
        explanation: super::markdown::inline(&view.explanation),
        respond_by: view.respond_by.map(|t| when(app, t)).unwrap_or_default(),
        stages: view
            .stages
            .into_iter()
            .map(|s| Stage {
                name: s.name,
                from: s.from.join(", "),
                needed: s.needed,
                approved_by: names(app, &s.approved_by),
                eligible: names(app, &s.eligible),
                on_call: s.on_call.map(|p| app.person_name(&p)).unwrap_or_default(),
                satisfied: s.satisfied,
                current: s.current,
            })
            .collect(),
    })
}

/// Reviews and comments, oldest first.
fn timeline(app: &App, ticket: &Ticket) -> Vec<Entry> {
    let mut entries: Vec<(jiff::Timestamp, Entry)> = Vec::new();
    for review in &ticket.reviews {
        let (what, tone) = match review.verdict {
            Verdict::Approve => (
                match &review.stage {
                    Some(stage) => format!("approved (stage {stage})"),
                    None => "approved".to_owned(),
                },
                "good",
            ),
            Verdict::Reject => ("rejected".to_owned(), "bad"),
            Verdict::RequestChanges => ("requested changes".to_owned(), "waiting"),
        };
        let earlier = if review.round == ticket.round { "" } else { " — an earlier plan" };
        entries.push((
            review.at,
            Entry {
                at: when(app, review.at),
                who: app.person_name(&review.person),
                what: format!("{what}{earlier}"),
                text: review.comment.clone().unwrap_or_default(),
                tone,
            },
        ));
    }
    for comment in &ticket.comments {
        let who = match comment.author.person_id() {
            Some(p) => app.person_name(p),
            None => comment.author.to_string(),
        };
        entries.push((
            comment.at,
            Entry {
                at: when(app, comment.at),
                who,
                what: "commented".to_owned(),
                text: comment.text.clone(),
                tone: "neutral",
            },
        ));
    }
    entries.sort_by_key(|(at, _)| *at);
    entries.into_iter().map(|(_, e)| e).collect()
}

/// Every run with a pane per step; the last (or the first to come) lists steps not started yet,
/// so live lines have somewhere to go.
fn runs(app: &App, ticket: &Ticket, lines: &mut BTreeMap<(u32, usize), Vec<(&'static str, String)>>) -> Vec<RunPane> {
    let steps: Vec<String> =
        app.workflow(&ticket.workflow).map(|w| w.steps.iter().map(|s| s.name.clone()).collect()).unwrap_or_default();
    let mut out: Vec<RunPane> = ticket
        .runs
        .iter()
        .map(|run| {
            let mut panes: Vec<StepPane> = run
                .steps
                .iter()
                .map(|s| StepPane {
                    index: s.index,
                    name: s.name.clone(),
                    status: match &s.outcome {
                        None => "running",
                        Some(StepOutcome::Succeeded) => "succeeded",
                        Some(StepOutcome::Failed { .. }) => "failed",
                    },
                    lines: lines.remove(&(run.number, s.index)).unwrap_or_default(),
                })
                .collect();
            if run.finished_at.is_none() {
                panes.extend(pending(&steps, panes.len()));
            }
            let outcome = match &run.outcome {
                None => "in progress".to_owned(),
                Some(RunOutcome::Succeeded) => "succeeded".to_owned(),
                Some(RunOutcome::Failed { message, .. }) => format!("failed: {message}"),
                Some(RunOutcome::Interrupted { step }) => format!("interrupted at step {}", step + 1),
                Some(RunOutcome::Cancelled) => "cancelled".to_owned(),
            };
            RunPane { number: run.number, outcome, steps: panes }
        })
        .collect();
    let waiting_for_run = !ticket.state.is_terminal() && ticket.last_run().is_none_or(|r| r.finished_at.is_some());
    if waiting_for_run {
        let number = ticket.runs.len() as u32 + 1;
        out.push(RunPane { number, outcome: "not started".to_owned(), steps: pending(&steps, 0).collect() });
    }
    out
}

/// Empty panes for the workflow's steps from `first` on, which have not started.
fn pending(steps: &[String], first: usize) -> impl Iterator<Item = StepPane> + '_ {
    steps.iter().enumerate().skip(first).map(|(index, name)| StepPane {
        index,
        name: name.clone(),
        status: "pending",
        lines: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::diff_class;

    #[test]
    fn dry_run_lines_are_marked_as_a_diff_reads() {
        assert_eq!(diff_class("+ create aws_s3_bucket.logs"), "add");
        assert_eq!(diff_class("- id=3: owner 'bob'"), "del");
        assert_eq!(diff_class("~ id=1: status 'open' → 'closed'"), "chg");
        assert_eq!(diff_class("~~ not a change"), "ctx");
        assert_eq!(diff_class("will change 2 rows in shop (SQLite)"), "ctx");
        assert_eq!(diff_class("--- a/file"), "meta");
    }
}
