//! Running one Terraform command: argv only (never a shell), a cleared environment, a process
//! group of its own started as the runner's `Launch` says (in a server, under the step
//! supervisor, so it dies with the server; each command's group is recorded while it runs),
//! output streamed to the step's log line by line (or, for `show -json`, read whole and never
//! logged: it holds sensitive values in the clear). On cancel or timeout the group gets
//! `SIGINT` — Terraform's own signal to stop gracefully, finishing what is in flight and
//! writing its state — and `SIGKILL` after the interrupt grace.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use docket_app::{LogStream, ProcessLedger, StepLog};
use docket_process::{Launch, Launched, Program, launch};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio_util::sync::CancellationToken;

/// Longest line written to the log; the rest of a longer one is cut.
const MAX_LINE: usize = 16 * 1024;
/// Most output read whole (`show -json` of a very large plan).
pub(crate) const MAX_CAPTURE: u64 = 256 * 1024 * 1024;

/// One command to run.
pub(crate) struct Invocation<'a> {
    pub(crate) program: &'a Path,
    pub(crate) args: Vec<String>,
    pub(crate) env: &'a BTreeMap<String, String>,
    pub(crate) dir: &'a Path,
    /// Read stdout whole instead of logging it.
    pub(crate) capture: bool,
    /// Keep the lines instead of logging them (they are logged only if the command fails).
    pub(crate) quiet: bool,
}

/// Limits and signals.
pub(crate) struct Watch<'a> {
    pub(crate) timeout: Duration,
    pub(crate) grace: Duration,
    pub(crate) cancel: &'a CancellationToken,
    pub(crate) log: &'a dyn StepLog,
    /// How to start it.
    pub(crate) launch: &'a Launch,
    /// Where each command's process group is recorded while it runs.
    pub(crate) processes: Option<&'a dyn ProcessLedger>,
}

/// How a command ended.
#[derive(Debug)]
pub(crate) enum Ended {
    /// It exited by itself.
    Exited(ExitStatus),
    /// It was interrupted on cancel.
    Cancelled,
    /// It was interrupted when its time ran out.
    TimedOut,
    /// It could not be started or waited for.
    Failed(String),
}

/// What a command printed that the runner needs.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// stdout, when captured.
    pub(crate) stdout: Vec<u8>,
    /// Whether the captured stdout was cut at [`MAX_CAPTURE`].
    pub(crate) cut: bool,
    /// Every line, when quiet.
    pub(crate) lines: Vec<(LogStream, String)>,
    /// Terraform's error summaries: the text after `Error: ` on the lines that start with it.
    pub(crate) errors: Vec<String>,
}

/// Runs `call` to its end.
pub(crate) async fn run(call: Invocation<'_>, watch: &Watch<'_>) -> (Ended, Output) {
    let mut output = Output::default();
    let mut argv = vec![call.program.display().to_string()];
    argv.extend(call.args.iter().cloned());
    // Terraform runs as the server: its saved plans and working copies are in Docket's folder.
    let program = Program { file: call.program, argv: &argv, env: call.env, dir: Some(call.dir), user: None };
    let Launched { mut leader, mut group, stdout, stderr, identity } =
        match launch(watch.launch, program, watch.grace).await {
            Ok(launched) => launched,
            Err(e) => return (Ended::Failed(format!("{} could not be started: {e}", call.program.display())), output),
        };
    if let Some(ledger) = watch.processes
        && let Err(error) = ledger.started(identity).await
    {
        watch.log.line(LogStream::System, &format!("could not record Terraform's process group: {error}"));
    }
    let collected = std::sync::Mutex::new(Vec::new());
    let note = |stream: LogStream, line: String| {
        if call.quiet {
            if let Ok(mut lines) = collected.lock() {
                lines.push((stream, line));
            }
        } else {
            watch.log.line(stream, &line);
        }
    };
    let errors = std::sync::Mutex::new(Vec::new());
    let seen = |stream: LogStream, line: String| {
        if let Some(summary) = line.trim_start_matches(['│', '╷', ' ']).strip_prefix("Error: ")
            && let Ok(mut errors) = errors.lock()
        {
            errors.push(summary.trim().to_owned());
        }
        note(stream, line);
    };
    let mut captured = (Vec::new(), false);
    let ended = {
        let out = async {
            if call.capture {
                captured = read_capped(stdout).await;
            } else {
                pump(stdout, LogStream::Stdout, &seen).await;
            }
        };
        let err = pump(stderr, LogStream::Stderr, &seen);
        let io = async { tokio::join!(out, err) };
        let wait = async {
            let (status, _) = tokio::join!(leader.wait(), io);
            status
        };
        tokio::pin!(wait);
        let stop = tokio::select! {
            status = &mut wait => Some(status),
            () = tokio::time::sleep(watch.timeout) => None,
            () = watch.cancel.cancelled() => None,
        };
        match stop {
            Some(Ok(status)) => Ended::Exited(status),
            Some(Err(e)) => Ended::Failed(format!("could not wait for the process: {e}")),
            None => {
                let why = if watch.cancel.is_cancelled() { Ended::Cancelled } else { Ended::TimedOut };
                group.interrupt();
                watch.log.line(LogStream::System, "interrupt sent; waiting for Terraform to stop");
                if tokio::time::timeout(watch.grace, &mut wait).await.is_err() {
                    group.kill();
                    watch.log.line(LogStream::System, "Terraform did not stop in time; process group killed");
                    let _ = tokio::time::timeout(Duration::from_secs(5), &mut wait).await;
                }
                why
            }
        }
    };
    // Whatever the command left in its group goes with it (a supervisor too), then the leader
    // is reaped.
    group.kill();
    leader.reap(Duration::from_secs(5)).await;
    output.stdout = captured.0;
    output.cut = captured.1;
    output.lines = collected.into_inner().unwrap_or_default();
    output.errors = errors.into_inner().unwrap_or_default();
    (ended, output)
}

async fn pump(stream: impl AsyncRead + Unpin, which: LogStream, seen: &impl Fn(LogStream, String)) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                buf.truncate(MAX_LINE);
                seen(which, String::from_utf8_lossy(&buf).into_owned());
            }
        }
    }
}

async fn read_capped(stream: impl AsyncRead + Unpin) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut limited = stream.take(MAX_CAPTURE + 1);
    let _ = limited.read_to_end(&mut out).await;
    let cut = out.len() as u64 > MAX_CAPTURE;
    if cut {
        // Drain the rest so the program is not blocked writing.
        let _ = tokio::io::copy(&mut limited.into_inner(), &mut tokio::io::sink()).await;
    }
    (out, cut)
}
