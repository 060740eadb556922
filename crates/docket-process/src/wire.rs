//! What the server and its step supervisor say to each other over their socket pair, a
//! `SOCK_SEQPACKET` pair: each packet arrives whole, with any descriptors sent along with it.
//! Every packet starts with a kind byte and the step's id (a little-endian `u64` the server
//! chooses), so packets of different steps may interleave.
//!
//! The server sends a step's request (`S`, with the write ends of the step's stdout and stderr
//! pipes attached, then `C` packets until the whole request has arrived) and, once it will no
//! longer signal the step's group, a release (`R`). The supervisor answers each request with
//! `P` (started: the program's pid and start time) or `F` (could not start: the `errno`), and
//! later `X` (the program ended: its raw wait status, so the server reads an exit code or a
//! signal exactly as if it had waited for the program itself).
//!
//! A request is a list of fields, each ended by a NUL byte (which no argument, environment
//! entry or path can hold): the grace in milliseconds, the user and group ids (empty: the
//! server's), the program's file, the working directory (empty: the supervisor's), the number
//! of arguments and the arguments (`argv[0]` first), the number of environment entries and
//! each entry's name and value.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt as _;
use std::time::Duration;

/// The most a packet holds; longer requests are sent in several.
pub(crate) const MAX_PACKET: usize = 32 * 1024;

/// Bytes before a packet's payload: the kind and the id.
const HEAD: usize = 9;

/// A packet from the server.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToSupervisor<'a> {
    /// The start of a request of `total` bytes (the step's output pipes come with it).
    Start { id: u64, total: u32, part: &'a [u8] },
    /// More of a request.
    More { id: u64, part: &'a [u8] },
    /// The server no longer signals the step's group: its leader may be reaped once it ended.
    Release { id: u64 },
}

/// A packet from the supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Report {
    /// The program started.
    Started {
        /// Its pid (it leads its own process group, whose id this is).
        pid: u32,
        /// When it started, in clock ticks since boot.
        started: u64,
    },
    /// The program could not be started: the `errno` (0 if unknown).
    Failed(i32),
    /// The program ended, with this raw wait status.
    Exited(i32),
}

fn head(kind: u8, id: u64) -> Vec<u8> {
    let mut packet = Vec::with_capacity(HEAD + 12);
    packet.push(kind);
    packet.extend_from_slice(&id.to_le_bytes());
    packet
}

fn split_head(packet: &[u8]) -> Option<(u8, u64, &[u8])> {
    let (&kind, rest) = packet.split_first()?;
    let (id, rest) = rest.split_first_chunk::<8>()?;
    Some((kind, u64::from_le_bytes(*id), rest))
}

impl<'a> ToSupervisor<'a> {
    /// The packet's bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            ToSupervisor::Start { id, total, part } => {
                let mut packet = head(b'S', *id);
                packet.extend_from_slice(&total.to_le_bytes());
                packet.extend_from_slice(part);
                packet
            }
            ToSupervisor::More { id, part } => {
                let mut packet = head(b'C', *id);
                packet.extend_from_slice(part);
                packet
            }
            ToSupervisor::Release { id } => head(b'R', *id),
        }
    }

    /// Reads a packet; `None` if it is none of the above.
    pub(crate) fn decode(packet: &'a [u8]) -> Option<Self> {
        let (kind, id, rest) = split_head(packet)?;
        match kind {
            b'S' => {
                let (total, part) = rest.split_first_chunk::<4>()?;
                Some(ToSupervisor::Start { id, total: u32::from_le_bytes(*total), part })
            }
            b'C' => Some(ToSupervisor::More { id, part: rest }),
            b'R' if rest.is_empty() => Some(ToSupervisor::Release { id }),
            _ => None,
        }
    }
}

impl Report {
    /// The packet that carries it for step `id`.
    pub(crate) fn encode(&self, id: u64) -> Vec<u8> {
        match self {
            Report::Started { pid, started } => {
                let mut packet = head(b'P', id);
                packet.extend_from_slice(&pid.to_le_bytes());
                packet.extend_from_slice(&started.to_le_bytes());
                packet
            }
            Report::Failed(errno) => {
                let mut packet = head(b'F', id);
                packet.extend_from_slice(&errno.to_le_bytes());
                packet
            }
            Report::Exited(status) => {
                let mut packet = head(b'X', id);
                packet.extend_from_slice(&status.to_le_bytes());
                packet
            }
        }
    }

    /// Reads a packet: the step's id and the report.
    pub(crate) fn decode(packet: &[u8]) -> Option<(u64, Self)> {
        let (kind, id, rest) = split_head(packet)?;
        let report = match kind {
            b'P' => {
                let (pid, rest) = rest.split_first_chunk::<4>()?;
                let started: [u8; 8] = rest.try_into().ok()?;
                Report::Started { pid: u32::from_le_bytes(*pid), started: u64::from_le_bytes(started) }
            }
            b'F' => Report::Failed(i32::from_le_bytes(rest.try_into().ok()?)),
            b'X' => Report::Exited(i32::from_le_bytes(rest.try_into().ok()?)),
            _ => return None,
        };
        Some((id, report))
    }
}

/// What to start, as the supervisor reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Request {
    /// Between `SIGTERM` and `SIGKILL` when the server is gone.
    pub(crate) grace: Duration,
    /// The user and group ids to run as; `None`: the supervisor's own.
    pub(crate) user: Option<(u32, u32)>,
    /// The file to execute.
    pub(crate) file: OsString,
    /// The working directory; `None`: the supervisor's.
    pub(crate) dir: Option<OsString>,
    /// The argv, `argv[0]` first; never empty.
    pub(crate) argv: Vec<OsString>,
    /// The whole environment.
    pub(crate) env: Vec<(OsString, OsString)>,
}

/// A request could not be encoded: a field holds a NUL byte, which `execve` cannot pass.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HoldsNul;

impl Request {
    /// The request's bytes.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, HoldsNul> {
        let mut out = Vec::with_capacity(256);
        let mut field = |bytes: &[u8]| {
            if bytes.contains(&0) {
                return Err(HoldsNul);
            }
            out.extend_from_slice(bytes);
            out.push(0);
            Ok(())
        };
        field(self.grace.as_millis().to_string().as_bytes())?;
        let (uid, gid) = self.user.map_or((String::new(), String::new()), |(u, g)| (u.to_string(), g.to_string()));
        field(uid.as_bytes())?;
        field(gid.as_bytes())?;
        field(self.file.as_encoded_bytes())?;
        field(self.dir.as_ref().map_or(&[][..], |d| d.as_encoded_bytes()))?;
        field(self.argv.len().to_string().as_bytes())?;
        for arg in &self.argv {
            field(arg.as_encoded_bytes())?;
        }
        field(self.env.len().to_string().as_bytes())?;
        for (name, value) in &self.env {
            field(name.as_encoded_bytes())?;
            field(value.as_encoded_bytes())?;
        }
        Ok(out)
    }

    /// Reads a request; `None` if it is not one.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let body = bytes.strip_suffix(&[0])?;
        let mut fields = body.split(|&b| b == 0);
        let mut next = || fields.next().map(|f| OsString::from_vec(f.to_vec()));
        let number = |field: Option<OsString>| -> Option<u64> { field?.to_str()?.parse().ok() };
        let grace = Duration::from_millis(number(next())?);
        let (uid, gid) = (next()?, next()?);
        let user = match (uid.is_empty(), gid.is_empty()) {
            (true, true) => None,
            _ => Some((uid.to_str()?.parse().ok()?, gid.to_str()?.parse().ok()?)),
        };
        let file = next()?;
        let dir = next().filter(|d| !d.is_empty());
        let argc = usize::try_from(number(next())?).ok()?;
        let argv = (0..argc).map(|_| next()).collect::<Option<Vec<_>>>()?;
        let envc = usize::try_from(number(next())?).ok()?;
        let env = (0..envc).map(|_| Some((next()?, next()?))).collect::<Option<Vec<_>>>()?;
        if file.is_empty() || argv.is_empty() || next().is_some() {
            return None;
        }
        Some(Self { grace, user, file, dir, argv, env })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            grace: Duration::from_millis(1500),
            user: Some((1000, 100)),
            file: "/bin/echo".into(),
            dir: Some("/tmp".into()),
            argv: vec!["echo".into(), String::new().into(), "two words".into()],
            env: vec![("PATH".into(), "/bin".into()), ("EMPTY".into(), String::new().into())],
        }
    }

    #[test]
    fn a_request_reads_back_as_itself() {
        for request in [request(), Request { user: None, dir: None, env: Vec::new(), ..request() }] {
            let bytes = request.encode().unwrap_or_default();
            assert_eq!(Request::decode(&bytes), Some(request));
        }
    }

    #[test]
    fn a_nul_byte_cannot_be_sent_and_a_broken_request_is_refused() {
        let nul = Request { argv: vec!["a\0b".into()], ..request() };
        assert_eq!(nul.encode(), Err(HoldsNul));
        let bytes = request().encode().unwrap_or_default();
        for broken in [&bytes[..bytes.len() - 1], &bytes[..10], b"", b"\0", &[bytes.as_slice(), b"extra\0"].concat()] {
            assert_eq!(Request::decode(broken), None, "{broken:?}");
        }
        let no_argv = Request { argv: Vec::new(), ..request() }.encode().unwrap_or_default();
        assert_eq!(Request::decode(&no_argv), None);
    }

    #[test]
    fn every_packet_reads_back_as_itself() {
        for packet in [
            ToSupervisor::Start { id: 7, total: 90_000, part: b"abc" },
            ToSupervisor::More { id: u64::MAX, part: b"" },
            ToSupervisor::Release { id: 3 },
        ] {
            assert_eq!(ToSupervisor::decode(&packet.encode()), Some(packet));
        }
        for report in
            [Report::Started { pid: 4242, started: u64::MAX }, Report::Failed(2), Report::Exited(-1), Report::Exited(9)]
        {
            assert_eq!(Report::decode(&report.encode(12)), Some((12, report)));
        }
        for bad in [&b""[..], b"S", b"R1234567", b"Q123456789", b"R123456789x", b"X12345678abc"] {
            assert_eq!(ToSupervisor::decode(bad), None, "{bad:?}");
            assert_eq!(Report::decode(bad), None, "{bad:?}");
        }
    }
}
