//! What a step's supervisor tells the server, one line each over the socket that is the
//! supervisor's stdin: the program started (its pid and start time, and the supervisor's own
//! start time), could not start (the `errno`), or ended (its raw wait status, so the server
//! reads an exit code or a signal exactly as if it had waited for the program itself). The
//! server never writes to the socket; its end closing is what tells the supervisor the server
//! is gone.

use std::io;

use docket_app::ProcessId;
use tokio::io::AsyncReadExt;
use tokio::net::UnixStream;

/// Longest line a supervisor sends, with room to spare.
const MAX_LINE: usize = 256;

/// One report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Report {
    /// The program started.
    Started {
        /// The program.
        program: ProcessId,
        /// When the supervisor itself started (it leads the group).
        supervisor_started: u64,
    },
    /// The program could not be started: the `errno` (0 if unknown).
    Failed(i32),
    /// The program ended, with this raw wait status.
    Exited(i32),
}

impl Report {
    /// The line that carries it, with its newline.
    pub(crate) fn line(&self) -> String {
        match self {
            Report::Started { program, supervisor_started } => {
                format!("started {} {} {supervisor_started}\n", program.pid, program.started)
            }
            Report::Failed(errno) => format!("failed {errno}\n"),
            Report::Exited(status) => format!("exited {status}\n"),
        }
    }

    /// Reads a line without its newline.
    pub(crate) fn parse(line: &str) -> Option<Self> {
        let mut words = line.split(' ');
        let report = match words.next()? {
            "started" => Report::Started {
                program: ProcessId { pid: words.next()?.parse().ok()?, started: words.next()?.parse().ok()? },
                supervisor_started: words.next()?.parse().ok()?,
            },
            "failed" => Report::Failed(words.next()?.parse().ok()?),
            "exited" => Report::Exited(words.next()?.parse().ok()?),
            _ => return None,
        };
        words.next().is_none().then_some(report)
    }
}

/// The server's end of the socket: reports as they arrive. Dropping it closes the socket,
/// which makes the supervisor end the step's group.
#[derive(Debug)]
pub(crate) struct Reports {
    socket: UnixStream,
    buffer: Vec<u8>,
}

impl Reports {
    pub(crate) fn new(socket: UnixStream) -> Self {
        Self { socket, buffer: Vec::new() }
    }

    /// The next report, or `None` once the supervisor has closed its end (it ended). Cancel
    /// safe: a partial line is kept for the next call.
    pub(crate) async fn next(&mut self) -> io::Result<Option<Report>> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let text = String::from_utf8_lossy(line.get(..end).unwrap_or_default());
                return Report::parse(&text)
                    .map(Some)
                    .ok_or_else(|| io::Error::other(format!("the step's supervisor said {text:?}")));
            }
            if self.buffer.len() > MAX_LINE {
                return Err(io::Error::other("the step's supervisor sent an overlong line"));
            }
            let mut chunk = [0u8; MAX_LINE];
            let n = self.socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            self.buffer.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_reads_back_as_itself() {
        let program = ProcessId { pid: 4242, started: u64::MAX };
        for report in [
            Report::Started { program, supervisor_started: 17 },
            Report::Failed(2),
            Report::Exited(-1),
            Report::Exited(9),
        ] {
            let line = report.line();
            assert_eq!(Report::parse(line.trim_end_matches('\n')), Some(report), "{line}");
        }
        for bad in ["", "started 1 2", "exited", "exited 1 2", "failed x", "hello 1"] {
            assert_eq!(Report::parse(bad), None, "{bad}");
        }
    }
}
