//! What a step printed, as the audit trail commits to it: the SHA-256 of its stored lines (each
//! as `stream`, a tab, the redacted text and a newline, in order) and how many there were, so
//! `docket audit verify` can recompute it from the stored log and name a step whose output was
//! changed, removed or added to after the fact.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// A step's output, digested.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutput {
    /// SHA-256 of the lines, in hex.
    pub sha256: String,
    /// How many lines.
    pub lines: u64,
    /// The run it belongs to.
    pub run: u32,
    /// The ticket's log position of the step's first line (lines before it belong to earlier
    /// steps, or to an attempt of this step that was interrupted); 0 when it printed nothing.
    pub from_seq: u64,
}

/// Digests a step's lines one at a time, in the order they are stored.
#[derive(Clone, Debug, Default)]
pub struct OutputDigest {
    hasher: Sha256,
    lines: u64,
    run: u32,
    from_seq: u64,
}

impl OutputDigest {
    /// An empty digest of a step of run `run`.
    pub fn new(run: u32) -> Self {
        Self { run, ..Self::default() }
    }

    /// Adds the line at log position `seq` of `stream` (`stdout`, `stderr`, `system`).
    pub fn push(&mut self, seq: u64, stream: &str, text: &str) {
        if self.lines == 0 {
            self.from_seq = seq;
        }
        self.hasher.update(stream.as_bytes());
        self.hasher.update(b"\t");
        self.hasher.update(text.as_bytes());
        self.hasher.update(b"\n");
        self.lines += 1;
    }

    /// The digest of the lines so far.
    pub fn finish(&self) -> StepOutput {
        StepOutput {
            sha256: hex::encode(self.hasher.clone().finalize()),
            lines: self.lines,
            run: self.run,
            from_seq: self.from_seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_covers_every_line_its_stream_and_order() {
        let digest = |lines: &[(&str, &str)]| {
            let mut d = OutputDigest::new(1);
            for (i, (stream, text)) in lines.iter().enumerate() {
                d.push(10 + i as u64, stream, text);
            }
            d.finish()
        };
        let base = digest(&[("stdout", "a"), ("stderr", "b")]);
        assert_eq!((base.lines, base.from_seq, base.run), (2, 10, 1));
        assert_ne!(base, digest(&[("stderr", "b"), ("stdout", "a")]));
        assert_ne!(base, digest(&[("stdout", "a"), ("stdout", "b")]));
        assert_ne!(base.sha256, digest(&[("stdout", "a\tstderr"), ("stdout", "b")]).sha256);
        assert_eq!(digest(&[]).lines, 0);
    }
}
