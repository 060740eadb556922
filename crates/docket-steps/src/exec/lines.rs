//! Turning a child's byte stream into log lines as it arrives: split on `\n`, drop a `\r`
//! before it, decode lossily, and cut lines longer than [`MAX_LINE_BYTES`].

use docket_app::{LogStream, StepLog};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The longest line handed to the log; longer ones are cut into pieces of this size.
pub(crate) const MAX_LINE_BYTES: usize = 16 * 1024;

/// How much is read from a pipe at once.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// Collects bytes and hands out complete lines. Lives outside the reading future so that a
/// partial last line can still be flushed when reading is stopped early.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Adds `bytes`, calling `emit` for every line they complete.
    pub(crate) fn push(&mut self, bytes: &[u8], mut emit: impl FnMut(&str)) {
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        loop {
            let rest = self.pending.get(start..).unwrap_or_default();
            match rest.iter().position(|&b| b == b'\n') {
                Some(end) if end <= MAX_LINE_BYTES => {
                    let line = rest.get(..end).unwrap_or_default();
                    emit(&String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)));
                    start += end + 1;
                }
                // Wait for one byte more than the limit, so a line of exactly the limit whose
                // newline arrives in the next read is not followed by an empty line.
                _ if rest.len() > MAX_LINE_BYTES => {
                    let cut = char_boundary_before(rest, MAX_LINE_BYTES);
                    emit(&String::from_utf8_lossy(rest.get(..cut).unwrap_or_default()));
                    start += cut;
                }
                _ => break,
            }
        }
        self.pending.drain(..start);
    }

    /// Emits what is left as a last line (output that did not end with a newline).
    pub(crate) fn finish(&mut self, mut emit: impl FnMut(&str)) {
        if !self.pending.is_empty() {
            emit(&String::from_utf8_lossy(&self.pending));
            self.pending.clear();
        }
    }
}

/// `limit`, moved back (by at most three bytes) so it does not fall inside a UTF-8 sequence.
fn char_boundary_before(bytes: &[u8], limit: usize) -> usize {
    let is_continuation = |i: usize| bytes.get(i).is_some_and(|b| b & 0xC0 == 0x80);
    (limit.saturating_sub(3)..=limit).rev().find(|&i| !is_continuation(i)).filter(|&i| i > 0).unwrap_or(limit)
}

/// Reads `reader` to its end, sending each line to `log` on `stream` as soon as it is complete.
/// A read error ends reading with a system line; the child then gets `EPIPE` if it writes more.
pub(crate) async fn pump(
    mut reader: impl AsyncRead + Unpin,
    lines: &mut LineSplitter,
    stream: LogStream,
    log: &dyn StepLog,
) {
    let mut buffer = vec![0; READ_BUFFER_BYTES];
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) => return,
            Ok(n) => lines.push(buffer.get(..n).unwrap_or_default(), |line| log.line(stream, line)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                log.line(LogStream::System, &format!("reading {} failed: {e}", stream.as_str()));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        let mut lines = LineSplitter::default();
        for chunk in chunks {
            lines.push(chunk, |l| out.push(l.to_owned()));
        }
        lines.finish(|l| out.push(l.to_owned()));
        out
    }

    #[test]
    fn splits_on_newlines_across_reads() {
        assert_eq!(split(&[b"a\nb", b"c\r\n", b"\n", b"tail"]), ["a", "bc", "", "tail"]);
        assert_eq!(split(&[b"only\n"]), ["only"]);
        assert!(split(&[]).is_empty());
    }

    #[test]
    fn a_carriage_return_is_dropped_only_before_a_newline() {
        assert_eq!(split(&[b"a\rb\r", b"\n"]), ["a\rb"]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(split(&[b"\xffok\n"]), ["\u{fffd}ok"]);
    }

    #[test]
    fn long_lines_are_cut_at_the_limit() {
        let long = vec![b'x'; MAX_LINE_BYTES * 2 + 10];
        let got = split(&[&long, b"\n"]);
        assert_eq!(got.iter().map(String::len).collect::<Vec<_>>(), [MAX_LINE_BYTES, MAX_LINE_BYTES, 10]);
    }

    #[test]
    fn a_line_of_exactly_the_limit_stays_whole_when_its_newline_comes_later() {
        let exact = vec![b'x'; MAX_LINE_BYTES];
        let got = split(&[&exact, b"\nnext\n"]);
        assert_eq!(got.iter().map(String::len).collect::<Vec<_>>(), [MAX_LINE_BYTES, 4]);
    }

    #[test]
    fn cuts_do_not_split_a_character() {
        let mut text = vec![b'x'; MAX_LINE_BYTES - 1];
        text.extend_from_slice("é".as_bytes());
        text.extend_from_slice(b"yz\n");
        let got = split(&[&text]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), MAX_LINE_BYTES - 1);
        assert_eq!(got[1], "éyz");
    }
}
