//! The server's side of the step supervisor (see `supervisor`): one supervisor per
//! [`Supervisor`] handle (and its clones), started when the first step needs it, connected by a
//! `SOCK_SEQPACKET` socket pair. Each step is a request with an id; a task reads the
//! supervisor's reports and hands each to its step.
//!
//! If the supervisor dies, its end of the socket closes: every group it started that the
//! server may still signal is killed here at once, the steps waiting on it learn that their
//! supervisor ended, those groups are never signalled again (their ids may be reused now), and
//! the next step starts a new supervisor.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd as _, BorrowedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use rustix::net::{AddressFamily, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketFlags, SocketType};
use tokio::io::Interest;
use tokio::net::UnixDatagram;
use tokio::sync::mpsc;

use crate::wire::{MAX_PACKET, Report, ToSupervisor};

/// The step supervisor of one server, started on first need; clones share it.
#[derive(Clone, Debug)]
pub struct Supervisor {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    program: PathBuf,
    current: Mutex<Option<Arc<Connection>>>,
}

impl PartialEq for Supervisor {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl Eq for Supervisor {}

impl Supervisor {
    /// A supervisor that runs `program` (the `docket` binary; `/proc/self/exe` names the
    /// running one even after it was replaced on disk) as `__supervise`, once a step needs it.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self { shared: Arc::new(Shared { program: program.into(), current: Mutex::new(None) }) }
    }

    /// The program it runs.
    pub fn program(&self) -> &Path {
        &self.shared.program
    }

    /// The live connection, starting the supervisor if there is none (or it died).
    pub(crate) fn connection(&self) -> io::Result<Arc<Connection>> {
        let mut current = self.shared.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(live) = current.as_ref().filter(|c| !c.is_dead()) {
            return Ok(Arc::clone(live));
        }
        let started = Connection::start(&self.shared.program)?;
        *current = Some(Arc::clone(&started));
        Ok(started)
    }
}

/// What the server knows of a step it asked the supervisor for.
#[derive(Debug)]
struct Slot {
    reports: mpsc::UnboundedSender<Report>,
    /// The group, once started, while the server may still signal it.
    group: Option<i32>,
    ended: bool,
    released: bool,
}

/// A running supervisor.
#[derive(Debug)]
pub(crate) struct Connection {
    /// The server's end of the packet socket pair. Tokio has no type for a `SOCK_SEQPACKET`
    /// socket; its datagram socket serves, since it only sends and receives whole packets with
    /// `send` and `recv` (and `sendmsg` here) on the descriptor it holds.
    socket: UnixDatagram,
    steps: Mutex<HashMap<u64, Slot>>,
    next: AtomicU64,
    dead: AtomicBool,
}

impl Connection {
    fn start(program: &Path) -> io::Result<Arc<Self>> {
        let (ours, theirs) =
            rustix::net::socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)?;
        rustix::io::ioctl_fionbio(&ours, true)?;
        // Its own process group, so a signal to the server's (a terminal's Ctrl-C) does not
        // reach it; the command, and with it this process's copy of its end, goes right after.
        let child = tokio::process::Command::new(program)
            .arg("__supervise")
            .env_clear()
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let connection = Arc::new(Self {
            socket: UnixDatagram::from_std(std::os::unix::net::UnixDatagram::from(ours))?,
            steps: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            dead: AtomicBool::new(false),
        });
        tokio::spawn(read_reports(Arc::clone(&connection), child));
        Ok(connection)
    }

    fn steps(&self) -> MutexGuard<'_, HashMap<u64, Slot>> {
        self.steps.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the supervisor has died (its groups were killed then).
    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// Sends request `body` with the step's output pipes; its reports arrive on the receiver.
    pub(crate) async fn request(
        &self,
        body: &[u8],
        output: [BorrowedFd<'_>; 2],
    ) -> io::Result<(u64, mpsc::UnboundedReceiver<Report>)> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::unbounded_channel();
        self.steps().insert(id, Slot { reports: sender, group: None, ended: false, released: false });
        let sent = self.send_request(id, body, output).await;
        if let Err(error) = sent {
            self.steps().remove(&id);
            return Err(error);
        }
        Ok((id, receiver))
    }

    async fn send_request(&self, id: u64, body: &[u8], output: [BorrowedFd<'_>; 2]) -> io::Result<()> {
        let total = u32::try_from(body.len()).map_err(|_| io::Error::other("the step's request is too long"))?;
        let room = MAX_PACKET - 16;
        let (first, mut rest) = body.split_at(body.len().min(room));
        self.send(&ToSupervisor::Start { id, total, part: first }.encode(), Some(&output)).await?;
        while !rest.is_empty() {
            let (part, after) = rest.split_at(rest.len().min(room));
            self.send(&ToSupervisor::More { id, part }.encode(), None).await?;
            rest = after;
        }
        Ok(())
    }

    async fn send(&self, packet: &[u8], fds: Option<&[BorrowedFd<'_>]>) -> io::Result<()> {
        let sent = self.socket.async_io(Interest::WRITABLE, || {
            let mut space = [std::mem::MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(2))];
            let mut control = SendAncillaryBuffer::new(&mut space);
            if let Some(fds) = fds
                && !control.push(SendAncillaryMessage::ScmRights(fds))
            {
                return Err(io::Error::other("no room for the step's output pipes"));
            }
            let flags = SendFlags::NOSIGNAL | SendFlags::DONTWAIT;
            Ok(rustix::net::sendmsg(self.socket.as_fd(), &[io::IoSlice::new(packet)], &mut control, flags)?)
        });
        sent.await.map(drop)
    }

    /// Nobody waits for step `id` any more (its start took too long): if it starts after all,
    /// it is ended at once.
    pub(crate) fn abandon(&self, id: u64) {
        self.steps().remove(&id);
    }

    /// Records that step `id` started as group `pgid`.
    fn started(&self, id: u64, pgid: u32) -> bool {
        let mut steps = self.steps();
        let Some(slot) = steps.get_mut(&id) else { return false };
        slot.group = i32::try_from(pgid).ok();
        true
    }

    /// The server will not signal step `id`'s group again: the supervisor may reap its leader.
    pub(crate) fn release(self: &Arc<Self>, id: u64) {
        {
            let mut steps = self.steps();
            if let Some(slot) = steps.get_mut(&id) {
                slot.released = true;
                slot.group = None;
                if slot.ended {
                    steps.remove(&id);
                }
            }
        }
        if self.is_dead() {
            return;
        }
        let packet = ToSupervisor::Release { id }.encode();
        let sent = self.socket.try_send(&packet);
        if sent.is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock) {
            // The supervisor is behind: the release goes as soon as there is room.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let me = Arc::clone(self);
                runtime.spawn(async move {
                    let _ = me.send(&packet, None).await;
                });
            }
        }
    }

    /// The supervisor is gone: every group the server may still signal is killed, and every
    /// step still waiting learns it.
    fn died(&self) {
        self.dead.store(true, Ordering::Release);
        let slots: Vec<Slot> = self.steps().drain().map(|(_, slot)| slot).collect();
        for group in slots.iter().filter_map(|s| s.group) {
            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
    }

    fn deliver(&self, id: u64, report: Report) {
        let mut steps = self.steps();
        let Some(slot) = steps.get_mut(&id) else { return };
        let _ = slot.reports.send(report);
        match report {
            Report::Started { .. } => {}
            Report::Failed(_) => {
                steps.remove(&id);
            }
            Report::Exited(_) => {
                slot.ended = true;
                if slot.released {
                    steps.remove(&id);
                }
            }
        }
    }
}

/// Hands each report to its step until the supervisor's end closes, then reaps it.
async fn read_reports(connection: Arc<Connection>, mut child: tokio::process::Child) {
    let mut buffer = [0u8; 64];
    loop {
        let length = match connection.socket.recv(&mut buffer).await {
            Ok(length) if length > 0 => length,
            _ => break,
        };
        let Some((id, report)) = buffer.get(..length).and_then(Report::decode) else { continue };
        if let Report::Started { pid, .. } = report
            && !connection.started(id, pid)
        {
            // Nobody waits for it any more (the start took too long): it is ended at once.
            if let Ok(group) = i32::try_from(pid) {
                let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
            }
            connection.release(id);
            continue;
        }
        connection.deliver(id, report);
    }
    connection.died();
    let _ = child.wait().await;
}

/// Step `id` of a connection, as its group holds it.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub(crate) connection: Arc<Connection>,
    pub(crate) id: u64,
}

impl Step {
    /// Whether the server may signal the step's group: not once the supervisor died.
    pub(crate) fn reachable(&self) -> bool {
        !self.connection.is_dead()
    }
}
