//! Watching a started process: stream its output, enforce the timeout, obey cancellation, and
//! make sure nothing of the step outlives it.
//!
//! When the program exits, its output is drained until both pipes close — or for at most the
//! kill grace, if something it started in the background still holds them — and then whatever
//! is left in its process group is killed. On timeout or cancellation the group gets `SIGTERM`,
//! then `SIGKILL` after the grace; reading stops shortly after, even if a process that left the
//! group still holds a pipe, so the runner always returns.

use std::pin::pin;
use std::process::ExitStatus;
use std::time::Duration;

use docket_app::{LogStream, StepLog};
use tokio::time::{sleep, timeout};
use tokio_util::sync::CancellationToken;

use super::lines::{LineSplitter, pump};
use docket_process::Launched;

/// After the final `SIGKILL`: how long to wait for the leader to be reaped …
const REAP_LIMIT: Duration = Duration::from_secs(5);
/// … and how long to keep reading what the killed processes had already written.
const LAST_READ: Duration = Duration::from_millis(200);

/// How the process ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// The program exited (or died of a signal) by itself.
    Exited(ExitStatus),
    /// The timeout passed; the group was killed.
    TimedOut,
    /// The run was cancelled; the group was killed.
    Cancelled,
    /// Waiting for the process failed; the group was killed.
    Lost(std::io::Error),
}

/// What the supervisor needs besides the process.
pub(crate) struct Watch<'a> {
    pub(crate) timeout: Duration,
    pub(crate) grace: Duration,
    pub(crate) cancel: &'a CancellationToken,
    pub(crate) log: &'a dyn StepLog,
}

/// Runs a started program to its end, streaming its output to the log.
pub(crate) async fn supervise(launched: Launched, watch: Watch<'_>) -> Ending {
    let Launched { mut leader, mut group, stdout, stderr, .. } = launched;
    let log = watch.log;
    let mut out_lines = LineSplitter::default();
    let mut err_lines = LineSplitter::default();
    let ending = {
        let mut pumps = pin!(async {
            tokio::join!(
                pump(stdout, &mut out_lines, LogStream::Stdout, log),
                pump(stderr, &mut err_lines, LogStream::Stderr, log),
            );
        });
        let mut pumps_done = false;
        let mut deadline = pin!(sleep(watch.timeout));
        let first = loop {
            tokio::select! {
                status = leader.wait() => break status.map(Ending::Exited).unwrap_or_else(Ending::Lost),
                () = &mut pumps, if !pumps_done => pumps_done = true,
                () = &mut deadline => break Ending::TimedOut,
                () = watch.cancel.cancelled() => break Ending::Cancelled,
            }
        };
        match first {
            Ending::Exited(status) => {
                if !pumps_done {
                    pumps_done = tokio::select! {
                        () = &mut pumps => true,
                        () = sleep(watch.grace) => false,
                        () = watch.cancel.cancelled() => false,
                    };
                }
                // A program started directly is reaped by now, but its pid cannot be reused while
                // the group still has members, so this reaches only the step's own leftovers (or
                // nobody: ESRCH). A supervisor is still there, and goes with them.
                group.kill();
                leader.reap(REAP_LIMIT).await;
                if !pumps_done {
                    log.line(
                        LogStream::System,
                        "processes started in the background kept the output open after the program exited; \
                         process group killed",
                    );
                    let _ = timeout(LAST_READ, &mut pumps).await;
                }
                Ending::Exited(status)
            }
            stopped => {
                group.terminate();
                let mut exited = false;
                let mut grace = pin!(sleep(watch.grace));
                while !(exited && pumps_done) {
                    tokio::select! {
                        _ = leader.wait(), if !exited => exited = true,
                        () = &mut pumps, if !pumps_done => pumps_done = true,
                        () = &mut grace => break,
                    }
                }
                group.kill();
                leader.reap(REAP_LIMIT).await;
                if !pumps_done {
                    let _ = timeout(LAST_READ, &mut pumps).await;
                }
                stopped
            }
        }
    };
    out_lines.finish(|line| log.line(LogStream::Stdout, line));
    err_lines.finish(|line| log.line(LogStream::Stderr, line));
    ending
}
