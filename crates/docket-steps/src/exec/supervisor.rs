//! The step supervisor: a small process between the server and a step's program, so the step's
//! process group dies when the server dies, however it dies. The server starts it (as
//! `docket __supervise GRACE_MS PROGRAM ARGV0 ARGS…`) leading a new process group, with the
//! step's environment, working directory and output pipes, and with one end of a socket pair as
//! its stdin. It starts the program in that group (argv passed through as given, never a
//! shell; stdin empty), hands the output pipes over to it (keeping none open itself, so output
//! ends when the step's processes close it) and reports on the socket (see `report`).
//!
//! The kernel closes the server's end of the socket when the server exits for any reason —
//! `SIGKILL`, a crash, the out-of-memory killer —, so end of file is the sign: the supervisor
//! sends the group `SIGTERM`, waits up to the grace for the program, then sends `SIGKILL` to
//! the group, itself included. A `SIGTERM` to the group while the server lives (a timeout or a
//! cancellation) is for the program: the supervisor catches it and stays to report how the
//! program ended. After reporting that, it waits for the server to kill the group (or to go
//! away), so the group exists, and its id is not reused, for as long as the server may signal it.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use docket_app::ProcessId;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, getpgrp, getpid};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::process::Command;
use tokio::signal::unix::{SignalKind, signal};

use super::procfs;
use super::report::Report;

/// Exit code when the supervisor was started wrongly (arguments, group, stdin).
const MISUSED: u8 = 125;
/// Exit code when the program could not be started (reported on the socket too).
const NOT_STARTED: u8 = 127;

/// What to run.
#[derive(Debug)]
struct Spec {
    grace: Duration,
    program: OsString,
    argv0: OsString,
    args: Vec<OsString>,
}

impl Spec {
    fn parse(args: Vec<OsString>) -> Option<Self> {
        let mut args = args.into_iter();
        let grace = Duration::from_millis(args.next()?.to_str()?.parse().ok()?);
        let program = args.next()?;
        let argv0 = args.next()?;
        Some(Self { grace, program, argv0, args: args.collect() })
    }
}

/// Runs the supervisor with the arguments after `__supervise`; returns when the program has
/// ended and the server no longer needs it (usually it is killed with the group instead).
pub fn supervise(args: Vec<OsString>) -> ExitCode {
    let Some(spec) = Spec::parse(args) else { return ExitCode::from(MISUSED) };
    // Ending "its" group must never reach whoever started it: only as a group leader.
    if getpgrp() != getpid() {
        return ExitCode::from(MISUSED);
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return ExitCode::from(MISUSED);
    };
    runtime.block_on(run(spec))
}

async fn run(spec: Spec) -> ExitCode {
    let Ok(mut server) = server_socket() else { return ExitCode::from(MISUSED) };
    // Caught, so a SIGTERM to the group leaves this process to report the program's end.
    let Ok(mut terminate) = signal(SignalKind::terminate()) else { return ExitCode::from(MISUSED) };
    let spawned = Command::new(&spec.program).arg0(&spec.argv0).args(&spec.args).stdin(Stdio::null()).spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            let _ = tell(&mut server, Report::Failed(error.raw_os_error().unwrap_or(0))).await;
            return ExitCode::from(NOT_STARTED);
        }
    };
    let pid = child.id().unwrap_or_default();
    let program = ProcessId { pid, started: procfs::started(pid).unwrap_or_default() };
    let supervisor_started = procfs::started(std::process::id()).unwrap_or_default();
    if tell(&mut server, Report::Started { program, supervisor_started }).await.is_err() {
        end_group(&mut child, spec.grace).await;
        return ExitCode::FAILURE;
    }
    release_output();
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            () = server_gone(&mut server) => {
                end_group(&mut child, spec.grace).await;
                return ExitCode::FAILURE;
            }
            _ = terminate.recv() => {}
        }
    };
    let raw = status.map_or(0, |s| s.into_raw());
    if tell(&mut server, Report::Exited(raw)).await.is_ok() {
        server_gone(&mut server).await;
    }
    // Whatever the program left behind goes with this process.
    let _ = killpg(getpgrp(), Signal::SIGKILL);
    ExitCode::SUCCESS
}

/// Stdin, which the server made one end of a socket pair.
fn server_socket() -> std::io::Result<UnixStream> {
    let fd = std::io::stdin().as_fd().try_clone_to_owned()?;
    let socket = std::os::unix::net::UnixStream::from(fd);
    // Anything but a connected socket (a terminal, a file) is refused here.
    socket.peer_addr()?;
    socket.set_nonblocking(true)?;
    UnixStream::from_std(socket)
}

async fn tell(server: &mut UnixStream, report: Report) -> std::io::Result<()> {
    server.write_all(report.line().as_bytes()).await
}

/// Returns once the server's end is closed (or unreadable). The server sends nothing; anything
/// read is ignored. Cancel safe.
async fn server_gone(server: &mut UnixStream) {
    let mut scratch = [0u8; 64];
    while let Ok(n) = server.read(&mut scratch).await {
        if n == 0 {
            return;
        }
    }
}

/// Points this process's stdout and stderr at `/dev/null`: the program has the pipes now, and
/// the server's reading ends when the program's processes close them.
fn release_output() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
}

/// The server is gone: `SIGTERM` to the group, up to `grace` for the program to end, then
/// `SIGKILL` to the group, this process included.
async fn end_group(child: &mut tokio::process::Child, grace: Duration) {
    let group: Pid = getpgrp();
    let _ = killpg(group, Signal::SIGTERM);
    let _ = tokio::time::timeout(grace, child.wait()).await;
    let _ = killpg(group, Signal::SIGKILL);
}
