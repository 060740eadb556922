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
//! One thread does all of it, waiting on the socket and on a pidfd per running program at
//! once (`poll`). A program's start and end cost no thread of their own, whose start would
//! compete for a core with the program at the very moment the step waits for it (on a busy
//! host, a new thread can wait a scheduler tick). The signal mask is left alone: a blocked
//! `SIGCHLD` read from a `signalfd` would be inherited by every program, since `Command` keeps
//! the signal mask. Ignored signals would be inherited too, through every `exec`: a server
//! started as `nohup docket serve &` runs with `SIGHUP`, `SIGINT` and `SIGQUIT` ignored, and a
//! Terraform step stopped with `SIGINT` would not hear it. So the supervisor catches those three
//! ([`INHERITED_IGNORED`], with a handler that does nothing: it ends only when the server's end
//! of the socket closes); a caught signal is back to its default in a program after `exec`.
//! Likewise the server runs with transparent huge pages turned off (for its allocator), a
//! setting every child inherits; the supervisor turns them back on, so programs get the host's
//! policy.
//! On a kernel without pidfds (before 5.3), running programs are looked at every
//! [`WITHOUT_PIDFD`] instead.
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
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendFlags, SocketType};
use rustix::process::{PidfdFlags, WaitId, WaitIdOptions, WaitIdStatus, WaitOptions};

use crate::procfs;
use crate::wire::{MAX_PACKET, Report, Request, ToSupervisor};

/// Exit code when the supervisor was started wrongly (arguments, stdin).
const MISUSED: u8 = 125;

/// Signals a server may have been started with ignored (by `nohup`, or a shell's `&`), caught
/// here so that the programs the supervisor starts get them at their default.
const INHERITED_IGNORED: [i32; 3] =
    [signal_hook::consts::SIGHUP, signal_hook::consts::SIGINT, signal_hook::consts::SIGQUIT];

/// How often running programs are looked at when one has no pidfd to wait on.
const WITHOUT_PIDFD: Duration = Duration::from_millis(5);

/// A program started here.
#[derive(Debug)]
struct Started {
    pid: i32,
    grace: Duration,
    /// It ended (and is a zombie until reaped).
    ended: bool,
    /// The server will not signal its group again.
    released: bool,
    /// Readable once it ended; dropped then (a zombie's stays readable). `None` without pidfds.
    pidfd: Option<OwnedFd>,
}

/// A request still arriving.
#[derive(Debug)]
struct Arriving {
    total: usize,
    bytes: Vec<u8>,
    output: Vec<OwnedFd>,
}

/// The supervisor: the server's socket and what it started.
#[derive(Debug)]
struct Supervisor {
    socket: OwnedFd,
    started: HashMap<u64, Started>,
    arriving: HashMap<u64, Arriving>,
}

/// Runs the supervisor with the arguments after `__supervise` (there are none); returns once
/// the server is gone and every group it started has been killed.
pub fn supervise(args: Vec<OsString>) -> ExitCode {
    if !args.is_empty() {
        return ExitCode::from(MISUSED);
    }
    give_programs_the_host_defaults();
    let Ok(socket) = server_socket() else { return ExitCode::from(MISUSED) };
    let mut supervisor = Supervisor { socket, started: HashMap::new(), arriving: HashMap::new() };
    supervisor.serve();
    supervisor.end_all();
    ExitCode::SUCCESS
}

/// Undoes, for the programs this supervisor starts, what the server passed on that they should
/// not inherit: ignored `SIGHUP`/`SIGINT`/`SIGQUIT` and transparent huge pages turned off.
/// Either may fail only on an unusual kernel; steps run either way.
fn give_programs_the_host_defaults() {
    let caught = Arc::new(AtomicBool::new(false));
    for signal in INHERITED_IGNORED {
        let _ = signal_hook::flag::register(signal, caught.clone());
    }
    let _ = nix::sys::prctl::set_thp_disable(false);
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

impl Supervisor {
    /// Tells the server; a server that is gone is noticed by reading the socket.
    fn tell(socket: &OwnedFd, id: u64, report: Report) {
        let _ = rustix::net::send(socket, &report.encode(id), SendFlags::NOSIGNAL);
    }

    /// Starts what the server asks and reports how programs end, until the server's end closes.
    fn serve(&mut self) {
        let mut buffer = vec![0u8; MAX_PACKET + 64];
        loop {
            let Ok(server) = self.wait(true, None) else { return };
            self.notice_ends();
            if server && !self.receive(&mut buffer) {
                return;
            }
        }
    }

    /// Waits until a program ends, the server sends something (if `server`), or `limit` passes
    /// (sooner while a running program has no pidfd). Whether the server sent something or
    /// closed its end.
    fn wait(&self, server: bool, limit: Option<Duration>) -> io::Result<bool> {
        let running = self.started.values().filter(|s| !s.ended);
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(1 + self.started.len());
        if server {
            fds.push(PollFd::new(&self.socket, PollFlags::IN));
        }
        let mut blind = false;
        for started in running {
            match &started.pidfd {
                Some(pidfd) => fds.push(PollFd::new(pidfd, PollFlags::IN)),
                None => blind = true,
            }
        }
        let limit = if blind { Some(limit.map_or(WITHOUT_PIDFD, |l| l.min(WITHOUT_PIDFD))) } else { limit };
        let timeout = limit.map(|d| Timespec {
            tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(d.subsec_nanos()),
        });
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(error) => return Err(error.into()),
        }
        Ok(server && fds.first().is_some_and(|socket| !socket.revents().is_empty()))
    }

    /// Reads and acts on one packet from the server. Whether the server is still there.
    fn receive(&mut self, buffer: &mut [u8]) -> bool {
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(2))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let received = rustix::net::recvmsg(
            &self.socket,
            &mut [io::IoSliceMut::new(buffer)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC | RecvFlags::DONTWAIT,
        );
        let length = match received {
            Ok(message) if message.bytes == 0 => return false,
            Ok(message) => message.bytes,
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => return true,
            Err(_) => return false,
        };
        let mut fds = Vec::new();
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(received) = message {
                fds.extend(received);
            }
        }
        let Some(packet) = buffer.get(..length).and_then(ToSupervisor::decode) else { return true };
        match packet {
            ToSupervisor::Start { id, total, part } => {
                let mut request =
                    Arriving { total: usize::try_from(total).unwrap_or(usize::MAX), bytes: part.to_vec(), output: fds };
                if request.bytes.len() >= request.total {
                    self.start(id, &mut request);
                } else {
                    self.arriving.insert(id, request);
                }
            }
            ToSupervisor::More { id, part } => {
                if let Some(request) = self.arriving.get_mut(&id) {
                    request.bytes.extend_from_slice(part);
                    if request.bytes.len() >= request.total
                        && let Some(mut request) = self.arriving.remove(&id)
                    {
                        self.start(id, &mut request);
                    }
                }
            }
            ToSupervisor::Release { id } => self.release(id),
        }
        true
    }

    /// Starts a request's program and reports how that went.
    fn start(&mut self, id: u64, arriving: &mut Arriving) {
        let request = Request::decode(&arriving.bytes);
        let (Some(request), [_, _]) = (request, arriving.output.as_slice()) else {
            Self::tell(&self.socket, id, Report::Failed(nix::libc::EINVAL));
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
                Self::tell(&self.socket, id, Report::Failed(error.raw_os_error().unwrap_or(0)));
                return;
            }
        };
        let pid = child.id();
        // Never waited for through `child`: its end is noticed without reaping it.
        drop(child);
        let Ok(raw) = i32::try_from(pid) else { return };
        // A program that ended already (a zombie) has a pidfd that is readable at once.
        let pidfd =
            rustix::process::Pid::from_raw(raw).and_then(|p| rustix::process::pidfd_open(p, PidfdFlags::empty()).ok());
        self.started.insert(id, Started { pid: raw, grace: request.grace, ended: false, released: false, pidfd });
        Self::tell(&self.socket, id, Report::Started { pid, started: procfs::started(pid).unwrap_or_default() });
    }

    /// Reports every program that ended since the last look, without reaping it (a released
    /// one is reaped and forgotten). Each running program is asked: one `waitid` each, and a
    /// server runs few steps at once.
    fn notice_ends(&mut self) {
        let mut gone = Vec::new();
        for (&id, started) in self.started.iter_mut().filter(|(_, s)| !s.ended) {
            let Some(process) = rustix::process::Pid::from_raw(started.pid) else { continue };
            let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | WaitIdOptions::NOHANG;
            let status = match rustix::process::waitid(WaitId::Pid(process), options) {
                Ok(Some(status)) => raw_status(&status),
                Ok(None) | Err(rustix::io::Errno::INTR) => continue,
                Err(_) => 0,
            };
            Self::tell(&self.socket, id, Report::Exited(status));
            started.ended = true;
            started.pidfd = None;
            if started.released {
                reap(started.pid);
                gone.push(id);
            }
        }
        for id in gone {
            self.started.remove(&id);
        }
    }

    /// The server will not signal step `id`'s group again: its program is reaped once it ended.
    fn release(&mut self, id: u64) {
        if let Some(started) = self.started.get_mut(&id) {
            started.released = true;
            if started.ended {
                reap(started.pid);
                self.started.remove(&id);
            }
        }
    }

    /// The server is gone: `SIGTERM` to every group started here, up to the longest grace for
    /// the programs to end, then `SIGKILL` to every group (leftovers included: each program is
    /// still unreaped, so its group's id is still its own).
    fn end_all(&mut self) {
        let mut grace = Duration::ZERO;
        for started in self.started.values().filter(|s| !s.ended) {
            let _ = killpg(Pid::from_raw(started.pid), Signal::SIGTERM);
            grace = grace.max(started.grace);
        }
        let deadline = Instant::now() + grace;
        self.notice_ends();
        while self.started.values().any(|s| !s.ended) {
            let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else { break };
            if self.wait(false, Some(left)).is_err() {
                break;
            }
            self.notice_ends();
        }
        for started in self.started.values() {
            let _ = killpg(Pid::from_raw(started.pid), Signal::SIGKILL);
        }
    }
}

/// The wait status `waitpid` would have given.
fn raw_status(status: &WaitIdStatus) -> i32 {
    match (status.exit_status(), status.terminating_signal()) {
        (Some(code), _) => (code & 0xff) << 8,
        (None, Some(signal)) => signal | if status.dumped() { 0x80 } else { 0 },
        (None, None) => 0,
    }
}

fn reap(pid: i32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::waitpid(Some(pid), WaitOptions::empty());
    }
}
