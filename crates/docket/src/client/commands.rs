//! The commands that change a ticket besides deciding on it: `amend` (some parameters, the
//! others kept), `comment` and `retry`. Each prints what it did and what happens next, or with
//! `--json` the ticket as the API answered.

use std::io::Write;

use serde_json::{Map, Value, json};

use super::Outcome;
use super::http::Api;
use super::params::{parse_pairs, to_params};
use super::render::{next_step, write_plan};
use super::style::Ui;
use crate::cli::{AmendArgs, CommentArgs, RetryArgs};

/// `docket amend ID name=value…`: the ticket's parameters with those changed, planned again.
pub(crate) async fn amend(api: &Api, args: &AmendArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    let pairs = parse_pairs(&args.params)?;
    let ticket = api.ticket(&args.ticket).await?;
    let workflow = api.workflow(&ticket.workflow).await?;
    let mut params: Map<String, Value> = ticket.params.into_iter().collect();
    params.extend(to_params(&pairs, &workflow.params));
    let (amended, raw) = api.act(&ticket.id, "amend", &json!({ "params": params })).await?;
    if args.json {
        writeln!(out, "{}", raw.trim_end())?;
        return Ok(Outcome::Success);
    }
    let changed: Vec<String> = pairs.iter().map(|(name, value)| format!("{name}={value}")).collect();
    writeln!(out, "{} amended: {}", ui.bold(&amended.id), changed.join(" "))?;
    writeln!(out, "state      {}", ui.state(&amended.state))?;
    write_plan(out, ui, &amended)?;
    writeln!(out, "next       {}", next_step(&amended))?;
    Ok(Outcome::Success)
}

/// `docket comment ID TEXT…`
pub(crate) async fn comment(api: &Api, args: &CommentArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    let text = args.text.join(" ");
    let (ticket, raw) = api.act(&args.ticket, "comment", &json!({ "text": text })).await?;
    if args.json {
        writeln!(out, "{}", raw.trim_end())?;
    } else {
        writeln!(out, "{}: comment added; {}", ui.bold(&ticket.id), next_step(&ticket))?;
    }
    Ok(Outcome::Success)
}

/// `docket retry ID`: a new round, planned and decided again.
pub(crate) async fn retry(api: &Api, args: &RetryArgs, out: &mut dyn Write, ui: &Ui) -> anyhow::Result<Outcome> {
    let (ticket, raw) = api.act(&args.ticket, "retry", &json!({})).await?;
    if args.json {
        writeln!(out, "{}", raw.trim_end())?;
        return Ok(Outcome::Success);
    }
    writeln!(out, "{} retried: planned again", ui.bold(&ticket.id))?;
    writeln!(out, "state      {}", ui.state(&ticket.state))?;
    write_plan(out, ui, &ticket)?;
    writeln!(out, "next       {}", next_step(&ticket))?;
    Ok(Outcome::Success)
}
