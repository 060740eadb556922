//! The terminal client: the commands that talk to a Docket server over its REST API (`request`,
//! `workflows`, `show`, `list`, `waiting`, `logs`, `approve`, `reject`, `request-changes`,
//! `amend`, `comment`, `cancel`, `retry`, `result`, `reload`). Output goes to a
//! `Write` handed down from here; errors go back to `main`, which prints them and exits 1.

mod commands;
mod credentials;
mod follow;
mod http;
mod list;
mod logs;
mod model;
mod params;
mod reload;
mod render;
mod results;
mod sse;
mod style;
mod tickets;
mod words;
mod workflows;

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::json;

use crate::cli::{Command, Remote, WorkflowsCommand};
use http::Api;
use style::Ui;

/// How a command ended, for the exit code: 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failure,
}

impl From<bool> for Outcome {
    fn from(ok: bool) -> Self {
        if ok { Outcome::Success } else { Outcome::Failure }
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Failure => ExitCode::FAILURE,
        }
    }
}

/// Runs a client command, writing to stdout (status lines of `logs --follow` to stderr).
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let ui = Ui::for_stdout();
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    let result = execute(command, &mut stdout, &mut stderr, &ui).await;
    let _ = stdout.flush();
    match result {
        Ok(outcome) => Ok(outcome.into()),
        // `docket logs X | head`: the reader has what it wanted.
        Err(error) if crate::is_broken_pipe(&error) => Ok(ExitCode::SUCCESS),
        Err(error) => Err(error),
    }
}

fn connect(remote: &Remote) -> anyhow::Result<Api> {
    let credentials = credentials::resolve(remote)?;
    let url = reqwest::Url::parse(&credentials.url).ok();
    if !url.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
        bail!("`{}` is not a server URL (for example http://127.0.0.1:8080)", credentials.url);
    }
    Ok(Api::new(credentials)?)
}

/// Runs `command` against the server its flags name.
pub(crate) async fn execute(
    command: Command,
    out: &mut dyn Write,
    status: &mut dyn Write,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    match command {
        Command::Request(args) => tickets::request(&connect(&args.remote)?, &args, out, ui).await,
        Command::Workflows(args) => {
            let remote = match &args.command {
                Some(WorkflowsCommand::Show(one)) => &one.remote,
                None => &args.remote,
            };
            workflows::run(&connect(remote)?, &args, out, ui).await
        }
        Command::Show(args) => tickets::show(&connect(&args.remote)?, &args.ticket, args.json, out, ui).await,
        Command::List(args) => list::list(&connect(&args.remote)?, &args, out, ui).await,
        Command::Waiting(args) => list::waiting(&connect(&args.remote)?, &args, out, ui).await,
        Command::Logs(args) => logs::logs(&connect(&args.remote)?, &args.ticket, args.follow, out, status, ui).await,
        Command::Approve(args) => tickets::approve(&connect(&args.remote)?, &args, out, ui).await,
        Command::Reject(args) => {
            let body = json!({ "reason": args.reason });
            tickets::decide(&connect(&args.remote)?, &args.ticket, "reject", &body, args.json, out, ui).await
        }
        Command::RequestChanges(args) => {
            let body = json!({ "reason": args.reason });
            tickets::decide(&connect(&args.remote)?, &args.ticket, "request-changes", &body, args.json, out, ui).await
        }
        Command::Amend(args) => commands::amend(&connect(&args.remote)?, &args, out, ui).await,
        Command::Comment(args) => commands::comment(&connect(&args.remote)?, &args, out, ui).await,
        Command::Cancel(args) => {
            let body = args.reason.as_ref().map_or_else(|| json!({}), |reason| json!({ "reason": reason }));
            tickets::decide(&connect(&args.remote)?, &args.ticket, "cancel", &body, args.json, out, ui).await
        }
        Command::Retry(args) => commands::retry(&connect(&args.remote)?, &args, out, ui).await,
        Command::Result(args) => results::result(&connect(&args.remote)?, &args, out, ui).await,
        Command::Reload(args) => reload::reload(&connect(&args.remote)?, &args, out, ui).await,
        _ => bail!("not a client command"),
    }
}

#[cfg(test)]
mod tests;
