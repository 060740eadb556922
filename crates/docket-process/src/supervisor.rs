//! The step supervisor: one small process per server, between the server and every step's
//! program, so a step's process group dies when the server dies, however it dies. The server
//! starts it once (as `docket __supervise`, in a process group of its own) with one end of a
//! `SOCK_SEQPACKET` socket pair as its stdin, and sends it each step to start (see `wire`): the
//! supervisor starts the program leading a new process group (argv passed through as given,
//! never a shell; stdin empty; the step's output pipes, sent over the socket, as its stdout and
//! stderr, of which it keeps no copy) and reports its pid and start time, and later how it
//! ended.
//!
//! It learns that a program ended without reaping it (`waitid` with `WNOWAIT`): the program
//! stays a zombie, so its pid — the group's id — is not reused while the server may still
//! signal the group (a timeout, a cancellation, the final `SIGKILL` to leftovers). It reaps it
//! once the server releases the step.
//!
//! The kernel closes the server's end of the socket when the server exits for any reason —
//! `SIGKILL`, a crash, the out-of-memory killer —, so end of file is the sign: the supervisor
//! sends every group it started `SIGTERM`, waits up to the grace for the programs, sends every
//! group `SIGKILL` and exits. If the supervisor itself dies, the server sees its end of file
//! and kills the groups itself.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt as _;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendFlags, SocketType};
use rustix::process::{WaitId, WaitIdOptions, WaitIdStatus, WaitOptions};

use crate::procfs;
use crate::wire::{MAX_PACKET, Report, Request, ToSupervisor};

/// Exit code when the supervisor was started wrongly (arguments, stdin).
const MISUSED: u8 = 125;

/// Stack of the thread that waits for one program.
const WAITER_STACK: usize = 64 * 1024;

/// A program started here.
#[derive(Debug)]
struct Started {
    pid: i32,
    grace: Duration,
    /// It ended (and is a zombie until reaped).
    ended: bool,
    /// The server will not signal its group again.
    released: bool,
}

/// A request still arriving.
#[derive(Debug)]
struct Arriving {
    total: usize,
    bytes: Vec<u8>,
    output: Vec<OwnedFd>,
}

/// What the main thread and the waiting threads share.
#[derive(Debug, Default)]
struct State {
    started: HashMap<u64, Started>,
}

#[derive(Debug)]
struct Shared {
    socket: OwnedFd,
    state: Mutex<State>,
    ended: Condvar,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells the server; a server that is gone is noticed by the main thread.
    fn tell(&self, id: u64, report: Report) {
        let _ = rustix::net::send(&self.socket, &report.encode(id), SendFlags::NOSIGNAL);
    }
}

/// Runs the supervisor with the arguments after `__supervise` (there are none); returns once
/// the server is gone and every group it started has been killed.
pub fn supervise(args: Vec<OsString>) -> ExitCode {
    if !args.is_empty() {
        return ExitCode::from(MISUSED);
    }
    let Ok(socket) = server_socket() else { return ExitCode::from(MISUSED) };
    let shared = Arc::new(Shared { socket, state: Mutex::new(State::default()), ended: Condvar::new() });
    serve(&shared);
    end_all(&shared);
    ExitCode::SUCCESS
}

/// Stdin, which must be the supervisor's end of a `SOCK_SEQPACKET` pair; it is taken over (a
/// copy not inherited by programs) and stdin becomes `/dev/null`.
fn server_socket() -> io::Result<OwnedFd> {
    let stdin = io::stdin();
    if rustix::net::sockopt::socket_type(stdin.as_fd())? != SocketType::SEQPACKET {
        return Err(io::Error::other("stdin is not a packet socket"));
    }
    let socket = rustix::io::fcntl_dupfd_cloexec(stdin.as_fd(), 3)?;
    let null = std::fs::File::open("/dev/null")?;
    nix::unistd::dup2_stdin(&null)?;
    Ok(socket)
}

/// Reads the server's packets until its end closes.
fn serve(shared: &Arc<Shared>) {
    let mut arriving: HashMap<u64, Arriving> = HashMap::new();
    let mut buffer = vec![0u8; MAX_PACKET + 64];
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(2))];
    loop {
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let received = rustix::net::recvmsg(
            &shared.socket,
            &mut [io::IoSliceMut::new(&mut buffer)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        );
        let length = match received {
            Ok(message) if message.bytes == 0 => return,
            Ok(message) => message.bytes,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return,
        };
        let mut fds = Vec::new();
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(received) = message {
                fds.extend(received);
            }
        }
        let Some(packet) = buffer.get(..length).and_then(ToSupervisor::decode) else { continue };
        match packet {
            ToSupervisor::Start { id, total, part } => {
                let mut request =
                    Arriving { total: usize::try_from(total).unwrap_or(usize::MAX), bytes: part.to_vec(), output: fds };
                if request.bytes.len() >= request.total {
                    start(shared, id, &mut request);
                } else {
                    arriving.insert(id, request);
                }
            }
            ToSupervisor::More { id, part } => {
                if let Some(request) = arriving.get_mut(&id) {
                    request.bytes.extend_from_slice(part);
                    if request.bytes.len() >= request.total
                        && let Some(mut request) = arriving.remove(&id)
                    {
                        start(shared, id, &mut request);
                    }
                }
            }
            ToSupervisor::Release { id } => release(shared, id),
        }
    }
}

/// Starts a request's program and reports how that went.
fn start(shared: &Arc<Shared>, id: u64, arriving: &mut Arriving) {
    let request = Request::decode(&arriving.bytes);
    let (Some(request), [_, _]) = (request, arriving.output.as_slice()) else {
        shared.tell(id, Report::Failed(nix::libc::EINVAL));
        return;
    };
    let (Some(stderr), Some(stdout)) = (arriving.output.pop(), arriving.output.pop()) else { return };
    let Some((argv0, args)) = request.argv.split_first() else { return };
    let mut command = Command::new(&request.file);
    command
        .arg0(argv0)
        .args(args)
        .env_clear()
        .envs(request.env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .process_group(0);
    if let Some(dir) = &request.dir {
        command.current_dir(dir);
    }
    if let Some((uid, gid)) = request.user {
        command.uid(uid).gid(gid);
    }
    let spawned = command.spawn();
    // The command holds this process's copies of the output pipes: gone now, so output ends
    // when the step's processes close theirs.
    drop(command);
    let child = match spawned {
        Ok(child) => child,
        Err(error) => {
            shared.tell(id, Report::Failed(error.raw_os_error().unwrap_or(0)));
            return;
        }
    };
    let pid = child.id();
    // Never waited for through `child`: the thread below learns of its end without reaping.
    drop(child);
    let Ok(raw) = i32::try_from(pid) else { return };
    shared.state().started.insert(id, Started { pid: raw, grace: request.grace, ended: false, released: false });
    shared.tell(id, Report::Started { pid, started: procfs::started(pid).unwrap_or_default() });
    let waiter = Arc::clone(shared);
    let watching = std::thread::Builder::new().stack_size(WAITER_STACK).spawn(move || watch(&waiter, id, raw));
    if watching.is_err() {
        // No thread to wait with: the step cannot be watched, so it is ended here.
        let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
        watch(shared, id, raw);
    }
}

/// Waits for program `pid` of step `id` to end, without reaping it, and reports how.
fn watch(shared: &Shared, id: u64, pid: i32) {
    let Some(process) = rustix::process::Pid::from_raw(pid) else { return };
    let status = loop {
        match rustix::process::waitid(WaitId::Pid(process), WaitIdOptions::EXITED | WaitIdOptions::NOWAIT) {
            Ok(Some(status)) => break raw_status(&status),
            Ok(None) | Err(rustix::io::Errno::INTR) => {}
            Err(_) => break 0,
        }
    };
    shared.tell(id, Report::Exited(status));
    let mut state = shared.state();
    if let Some(started) = state.started.get_mut(&id) {
        started.ended = true;
        if started.released {
            reap(pid);
            state.started.remove(&id);
        }
    }
    shared.ended.notify_all();
}

/// The wait status `waitpid` would have given.
fn raw_status(status: &WaitIdStatus) -> i32 {
    match (status.exit_status(), status.terminating_signal()) {
        (Some(code), _) => (code & 0xff) << 8,
        (None, Some(signal)) => signal | if status.dumped() { 0x80 } else { 0 },
        (None, None) => 0,
    }
}

/// The server will not signal step `id`'s group again: its program is reaped once it ended.
fn release(shared: &Shared, id: u64) {
    let mut state = shared.state();
    if let Some(started) = state.started.get_mut(&id) {
        started.released = true;
        if started.ended {
            reap(started.pid);
            state.started.remove(&id);
        }
    }
}

fn reap(pid: i32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::waitpid(Some(pid), WaitOptions::empty());
    }
}

/// The server is gone: `SIGTERM` to every group started here, up to the longest grace for the
/// programs to end, then `SIGKILL` to every group (leftovers included: each program is still
/// unreaped, so its group's id is still its own).
fn end_all(shared: &Shared) {
    let mut state = shared.state();
    let mut grace = Duration::ZERO;
    for started in state.started.values().filter(|s| !s.ended) {
        let _ = killpg(Pid::from_raw(started.pid), Signal::SIGTERM);
        grace = grace.max(started.grace);
    }
    let deadline = Instant::now() + grace;
    while state.started.values().any(|s| !s.ended) {
        let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else { break };
        state = shared.ended.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
    }
    for started in state.started.values() {
        let _ = killpg(Pid::from_raw(started.pid), Signal::SIGKILL);
    }
}
