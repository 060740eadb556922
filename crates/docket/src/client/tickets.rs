//! The commands on one ticket: open one (`request`, by workflow and `name=value` or in words),
//! look at it (`show`), and decide on it (`approve`, `reject`, `request-changes`, `cancel`).

use std::io::Write;

use anyhow::bail;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use super::Outcome;
use super::follow::{Ended, Follower, Sinks};
use super::http::{Api, ClientError};
use super::model::Ticket;
use super::params::{parse_pairs, to_params};
use super::render::{next_step, short_digest, write_created, write_plan, write_ticket};
use super::style::Ui;
use super::words;
use crate::cli::{ApproveArgs, RequestArgs};

/// States in which a ticket will do nothing more and did not do what was asked.
const UNSUCCESSFUL: &[&str] = &["plan_failed", "denied", "failed", "interrupted", "rejected", "expired", "cancelled"];

/// `docket request WORKFLOW name=value…`, or `docket request "WORDS…"`.
pub(crate) async fn request(api: &Api, args: &RequestArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    let (workflow, params) = if words::in_words(&args.workflow, &args.params) {
        words::resolve(api, &words::text(&args.workflow, &args.params), out, ui, !args.json).await?
    } else {
        by_name(api, &args.workflow, &args.params).await?
    };
    let (ticket, raw, new) = api.create(&workflow, &params, args.idempotency_key.as_deref()).await?;
    let unsuccessful = UNSUCCESSFUL.contains(&ticket.state.as_str());
    if args.json {
        writeln!(out, "{}", raw.trim_end())?;
        return Ok(Outcome::from(!unsuccessful));
    }
    write_created(out, ui, &ticket, new)?;
    if unsuccessful {
        return Ok(Outcome::Failure);
    }
    if !args.wait || ticket.state == "awaiting_approval" {
        return Ok(Outcome::Success);
    }
    let mut follower = Follower::new(ui, true);
    follower.shown(&ticket);
    let mut sinks = Sinks { logs: out, status: None };
    let ended = follower.run(api, &ticket.id, &mut sinks).await?;
    Ok(match ended {
        Ended::AwaitingApproval => Outcome::Success,
        Ended::Finished(state) => Outcome::from(state == "succeeded"),
    })
}

/// The workflow `id` and its parameters from `name=value` pairs, typed by the workflow.
async fn by_name(api: &Api, id: &str, args: &[String]) -> anyhow::Result<(String, Map<String, Value>)> {
    let pairs = parse_pairs(args)?;
    let workflow = match api.workflow(id).await {
        Ok(workflow) => workflow,
        Err(ClientError::Api(error)) if error.status == StatusCode::NOT_FOUND => {
            let known = api.workflows().await.map(|list| list.workflows).unwrap_or_default();
            if known.is_empty() {
                return Err(ClientError::Api(error).into());
            }
            let ids: Vec<&str> = known.iter().map(|w| w.id.as_str()).collect();
            bail!("{error}; the workflows you can request: {}", ids.join(", "));
        }
        Err(error) => return Err(error.into()),
    };
    let params = to_params(&pairs, &workflow.params);
    Ok((workflow.id, params))
}

/// `docket show ID [--json]`
pub(crate) async fn show(api: &Api, id: &str, raw: bool, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    if raw {
        let body = api.ticket_json(id).await?;
        writeln!(out, "{}", body.trim_end())?;
    } else {
        let ticket = api.ticket(id).await?;
        write_ticket(out, ui, &ticket)?;
        if ticket.runs.iter().any(|r| !r.steps.is_empty()) {
            let results = api.results(&ticket.id).await?;
            super::results::write_results(out, ui, &ticket.id, &results)?;
        }
    }
    Ok(Outcome::Success)
}

/// Whether the digest `prefix` someone typed is the start of `digest`.
fn digest_matches(digest: &str, prefix: &str) -> bool {
    let prefix = prefix.trim();
    !prefix.is_empty() && digest.to_ascii_lowercase().starts_with(&prefix.to_ascii_lowercase())
}

/// `docket approve ID [--digest PREFIX] [--comment TEXT]`: shows the plan being approved and
/// approves exactly that plan's digest.
pub(crate) async fn approve(api: &Api, args: &ApproveArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    let ticket = api.ticket(&args.ticket).await?;
    let Some(digest) = ticket.digest.clone() else {
        bail!("{} has no plan to approve (it is {})", ticket.id, ticket.state);
    };
    if let Some(prefix) = &args.digest
        && !digest_matches(&digest, prefix)
    {
        bail!(
            "not approved: the plan's digest is now {}, not {}; look at it again with `docket show {}`",
            short_digest(&digest),
            prefix.trim(),
            ticket.id
        );
    }
    if !args.json {
        writeln!(out, "Approving {}: {} (requested by {})", ui.bold(&ticket.id), ticket.title, ticket.requester)?;
        write_plan(out, ui, &ticket)?;
    }
    let mut body = json!({ "digest": digest });
    if let Some(comment) = &args.comment {
        body["comment"] = json!(comment);
    }
    let (approved, raw) = api.act(&ticket.id, "approve", &body).await?;
    if args.json {
        writeln!(out, "{}", raw.trim_end())?;
    } else {
        writeln!(out, "{}", approval_result(&approved))?;
    }
    Ok(Outcome::Success)
}

/// What an approval achieved: `approved stage lead; waiting for stage security (…)` or
/// `fully approved; queued`.
pub(crate) fn approval_result(ticket: &Ticket) -> String {
    let stage = ticket.reviews.iter().rev().find(|r| r.verdict == "approve").and_then(|r| r.stage.as_deref());
    let approved = stage.map_or_else(|| "approved".to_owned(), |s| format!("approved stage {s}"));
    match ticket.state.as_str() {
        "awaiting_approval" => {
            let waiting = next_step(ticket);
            let waiting = waiting.strip_prefix("waiting for approval: ").unwrap_or(&waiting);
            format!("{approved}; waiting for {waiting}")
        }
        "approved" => "fully approved; starting".to_owned(),
        "queued" => "fully approved; queued".to_owned(),
        "running" | "succeeded" => format!("fully approved; {}", ticket.state),
        other => format!("{approved}; the ticket is {other}"),
    }
}

/// `reject`, `request-changes` and `cancel`: POSTs `body` and prints the ticket's new state,
/// or with `json` the ticket as the API answered.
pub(crate) async fn decide(
    api: &Api,
    id: &str,
    action: &str,
    body: &serde_json::Value,
    json: bool,
    out: &mut dyn Write,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    let (ticket, raw) = api.act(id, action, body).await?;
    if json {
        writeln!(out, "{}", raw.trim_end())?;
    } else {
        writeln!(out, "{}: {}", ui.bold(&ticket.id), next_step(&ticket))?;
    }
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_digest_must_start_the_current_one() {
        let digest = "3f5a9c0e12ab".repeat(5);
        assert!(digest_matches(&digest, "3f5a9c"));
        assert!(digest_matches(&digest, " 3F5A9C0E12AB "));
        assert!(!digest_matches(&digest, "3f5a9d"));
        assert!(!digest_matches(&digest, ""));
    }

    #[test]
    fn approval_results_say_what_is_left() {
        let partly: Ticket = serde_json::from_str(
            r#"{"state": "awaiting_approval",
                "reviews": [{"person": "bob", "verdict": "approve", "stage": "lead"}],
                "decision": {"outcome": "approvals", "stages": [
                    {"name": "lead", "count": 1, "from": ["group:sre"], "approvers": ["bob"], "satisfied": true},
                    {"name": "security", "count": 1, "from": ["group:security"], "approvers": [], "satisfied": false}]}}"#,
        )
        .unwrap();
        assert_eq!(approval_result(&partly), "approved stage lead; waiting for stage security (1 of group:security)");
        let fully: Ticket = serde_json::from_str(r#"{"state": "queued"}"#).unwrap();
        assert_eq!(approval_result(&fully), "fully approved; queued");
    }
}
