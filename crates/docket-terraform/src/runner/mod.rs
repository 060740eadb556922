//! The `terraform` runner.
//!
//! Planned: `init -input=false` when the folder has no `.terraform` yet (its output is shown
//! only if it fails), `plan -input=false -out=FILE -var NAME=VALUE…` (its output is the plan's
//! text), then `show -json FILE`, read into structured changes (never logged: it holds
//! sensitive values in the clear). The file is kept under its SHA-256, which goes into the plan
//! the digest covers.
//!
//! Run: the planned hash names the file; it is read back and hashed again, and only then
//! `apply -input=false FILE` applies exactly it. Terraform's own reason fails the step: "Saved
//! plan is stale" when the state moved since the plan, and retrying the ticket plans it again.

mod process;
mod saved;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use docket_app::{LogStream, Mode, StepJob, StepLog, StepRunner};
use docket_core::PlanFacts;
use docket_core::plan::ChangeCounts;
use docket_core::ticket::StepOutcome;
use tokio_util::sync::CancellationToken;

use self::process::{Ended, Invocation, MAX_CAPTURE, Output, Watch, run};
use crate::action::TerraformAction;
use crate::plan_json;
use crate::section::Settings;

/// Where programs are looked up when the step's environment has no `PATH`.
const FALLBACK_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// Terraform's words when the state changed after the plan was made.
pub const STALE: &str = "Saved plan is stale";

/// Runs `terraform` steps.
#[derive(Clone, Debug)]
pub struct TerraformRunner {
    settings: Settings,
}

impl TerraformRunner {
    /// A runner with `settings`.
    pub fn new(settings: Settings) -> Self {
        Self { settings }
    }
}

/// A step ready to run its commands.
struct Ready<'a> {
    program: PathBuf,
    dir: PathBuf,
    env: BTreeMap<String, String>,
    ticket: String,
    watch: Watch<'a>,
}

#[async_trait]
impl StepRunner for TerraformRunner {
    fn kind(&self) -> &'static str {
        "terraform"
    }

    async fn run(&self, job: StepJob<'_>, log: &dyn StepLog, cancel: CancellationToken) -> StepOutcome {
        let Some(action) = job.action.spec::<TerraformAction>() else {
            return fail(log, format!("the terraform runner cannot run `{}` steps", job.action.kind()));
        };
        if cancel.is_cancelled() {
            return fail(log, "cancelled before Terraform started");
        }
        let timeout = action.timeout.map_or(job.default_timeout, |t| t.to_std());
        let watch = Watch { timeout, grace: self.settings.interrupt_grace.to_std(), cancel: &cancel, log };
        let ready = match prepare(action, &job, watch) {
            Ok(ready) => ready,
            Err(message) => return fail(log, message),
        };
        if let Err(outcome) = self.init_if_needed(&ready).await {
            return outcome;
        }
        match job.mode {
            Mode::Plan => self.plan(action, &job, &ready).await,
            Mode::Run => self.apply(&job, &ready).await,
        }
    }
}

impl TerraformRunner {
    /// `init`, when the folder has not been initialized (no `.terraform`).
    async fn init_if_needed(&self, ready: &Ready<'_>) -> Result<(), StepOutcome> {
        if ready.dir.join(".terraform").is_dir() {
            return Ok(());
        }
        let args = vec!["init".to_owned(), "-input=false".to_owned(), "-no-color".to_owned()];
        let (ended, output) = run(ready.call(args, false, true), &ready.watch).await;
        let log = ready.watch.log;
        match ended {
            Ended::Exited(status) if status.success() => {
                log.line(LogStream::System, "initialized the working folder (terraform init)");
                Ok(())
            }
            other => {
                for (stream, line) in &output.lines {
                    log.line(*stream, line);
                }
                Err(ended_badly(log, "init", other, &output))
            }
        }
    }

    async fn plan(&self, action: &TerraformAction, job: &StepJob<'_>, ready: &Ready<'_>) -> StepOutcome {
        let log = ready.watch.log;
        let folder = saved::ticket_folder(&self.settings.plans, &ready.ticket);
        if let Err(e) = tokio::fs::create_dir_all(&folder).await {
            return fail(log, format!("the folder for saved plans, {}, cannot be made: {e}", folder.display()));
        }
        let written = folder.join(format!("{}.tfplan.new", safe(job.idempotency_key)));
        let mut args = vec!["plan".to_owned(), "-input=false".to_owned(), "-no-color".to_owned()];
        args.push(format!("-out={}", written.display()));
        for (name, value) in action.render_vars(job.params) {
            args.push("-var".to_owned());
            args.push(format!("{name}={value}"));
        }
        let (ended, output) = run(ready.call(args, false, false), &ready.watch).await;
        match ended {
            Ended::Exited(status) if status.success() => {}
            other => {
                let _ = tokio::fs::remove_file(&written).await;
                return ended_badly(log, "plan", other, &output);
            }
        }
        let (sha256, kept) = match saved::keep(&self.settings.plans, &ready.ticket, &written).await {
            Ok(kept) => kept,
            Err(e) => return fail(log, format!("Terraform wrote no plan file at {}: {e}", written.display())),
        };
        let show = vec!["show".to_owned(), "-json".to_owned(), "-no-color".to_owned(), kept.display().to_string()];
        let (ended, output) = run(ready.call(show, true, true), &ready.watch).await;
        match ended {
            Ended::Exited(status) if status.success() => {}
            other => {
                for (stream, line) in output.lines.iter().filter(|(s, _)| *s == LogStream::Stderr) {
                    log.line(*stream, line);
                }
                return ended_badly(log, "show", other, &output);
            }
        }
        if output.cut {
            return fail(
                log,
                format!("`show -json` printed more than {} MiB; the plan is too large", MAX_CAPTURE >> 20),
            );
        }
        let changes = match plan_json::parse(&output.stdout) {
            Ok(changes) => changes,
            Err(e) => return fail(log, e.to_string()),
        };
        let counts = ChangeCounts::of(&changes);
        log.line(LogStream::System, &format!("plan saved ({}): {}", &sha256[..12], counts.summary()));
        log.facts(PlanFacts { changes, saved_file: Some(sha256), ..PlanFacts::default() });
        StepOutcome::Succeeded
    }

    async fn apply(&self, job: &StepJob<'_>, ready: &Ready<'_>) -> StepOutcome {
        let log = ready.watch.log;
        let Some(sha256) = job.planned.and_then(|p| p.facts.saved_file.as_deref()).filter(|s| saved::is_sha256(s))
        else {
            return fail(log, "this step has no saved plan, so nothing was applied; retry the ticket to plan it");
        };
        let file = saved::kept_file(&self.settings.plans, &ready.ticket, sha256);
        match saved::hash_of(&file).await {
            Ok(found) if found == sha256 => {}
            Ok(_) => {
                return fail(
                    log,
                    "the saved plan file changed since it was approved, so nothing was applied; retry the ticket to plan again",
                );
            }
            Err(e) => {
                return fail(
                    log,
                    format!(
                        "the saved plan file {} cannot be read ({e}), so nothing was applied; retry the ticket to plan again",
                        file.display()
                    ),
                );
            }
        }
        log.line(LogStream::System, &format!("applying the approved plan {}", &sha256[..12]));
        let args =
            vec!["apply".to_owned(), "-input=false".to_owned(), "-no-color".to_owned(), file.display().to_string()];
        let (ended, output) = run(ready.call(args, false, false), &ready.watch).await;
        match ended {
            Ended::Exited(status) if status.success() => StepOutcome::Succeeded,
            other => ended_badly(log, "apply", other, &output),
        }
    }
}

impl Ready<'_> {
    fn call(&self, args: Vec<String>, capture: bool, quiet: bool) -> Invocation<'_> {
        Invocation { program: &self.program, args, env: &self.env, dir: &self.dir, capture, quiet }
    }
}

/// The outcome of a command that did not succeed, with Terraform's own reason when it gave one.
fn ended_badly(log: &dyn StepLog, command: &str, ended: Ended, output: &Output) -> StepOutcome {
    let reason = output.errors.first().cloned();
    match ended {
        Ended::Exited(status) => {
            let code = status.code();
            let mut message = match (&reason, code) {
                (Some(reason), _) => format!("terraform {command} failed: {reason}"),
                (None, Some(code)) => format!("terraform {command} failed with exit code {code}"),
                (None, None) => format!("terraform {command} was killed ({status})"),
            };
            if reason.as_deref() == Some(STALE) {
                message.push_str(" — the state changed since this plan was made; retry the ticket to plan again");
            }
            log.line(LogStream::System, &message);
            StepOutcome::Failed { exit_code: code, message }
        }
        Ended::Cancelled => fail(log, format!("cancelled; terraform {command} was interrupted")),
        Ended::TimedOut => fail(log, format!("timed out; terraform {command} was interrupted")),
        Ended::Failed(why) => fail(log, format!("terraform {command}: {why}")),
    }
}

/// Renders the step and finds its program.
fn prepare<'a>(action: &TerraformAction, job: &StepJob<'_>, watch: Watch<'a>) -> Result<Ready<'a>, String> {
    let dir = action.dir.render(job.params);
    if dir.is_empty() {
        return Err("the Terraform folder rendered to empty text".to_owned());
    }
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(format!("{dir:?} is not a folder")),
        Err(e) => return Err(format!("the Terraform folder {dir:?} cannot be used: {e}")),
    }
    let mut env = job.base_env.clone();
    env.extend(action.env.iter().map(|(name, value)| (name.clone(), value.render(job.params))));
    env.insert("TF_IN_AUTOMATION".to_owned(), "1".to_owned());
    env.insert("TF_INPUT".to_owned(), "0".to_owned());
    env.remove("TF_WORKSPACE");
    if let Some(workspace) = &action.workspace {
        let workspace = workspace.render(job.params);
        if workspace.is_empty() {
            return Err("the workspace rendered to empty text".to_owned());
        }
        env.insert("TF_WORKSPACE".to_owned(), workspace);
    }
    env.insert("DOCKET_TICKET".to_owned(), job.ticket.to_string());
    for (name, value) in &env {
        if name.is_empty() || name.contains(['=', '\0']) || value.contains('\0') {
            return Err(format!("environment variable {name:?} cannot be passed (empty name, `=` or NUL)"));
        }
    }
    let vars = action.render_vars(job.params);
    if let Some((name, _)) = vars.iter().find(|(_, v)| v.contains('\0')) {
        return Err(format!("variable {name} contains a NUL byte"));
    }
    let dir = PathBuf::from(dir);
    let program = find_program(&action.binary, &env, &dir)?;
    Ok(Ready { program, dir, env, ticket: safe(&job.ticket.to_string()), watch })
}

/// A name with a `/` is a path (relative to the folder); any other is looked up in the step's
/// own `PATH`, never the server's.
fn find_program(name: &str, env: &BTreeMap<String, String>, dir: &Path) -> Result<PathBuf, String> {
    if name.contains('/') {
        let path = Path::new(name);
        return Ok(if path.is_relative() { dir.join(path) } else { path.to_path_buf() });
    }
    let search = env.get("PATH").map_or(FALLBACK_PATH, String::as_str);
    search
        .split(':')
        .filter(|d| d.starts_with('/'))
        .map(|d| Path::new(d).join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .ok_or_else(|| format!("program {name:?} not found in PATH ({search})"))
}

/// `text` as one file name: letters, digits, `-` and `_` only.
fn safe(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

fn fail(log: &dyn StepLog, message: impl Into<String>) -> StepOutcome {
    let message = message.into();
    log.line(LogStream::System, &message);
    StepOutcome::Failed { exit_code: None, message }
}
