//! The checkpoint file: one JSON object per line, appended and synced, never rewritten. An
//! auditor copies it (or receives the POSTed copies) and later checks the chain against it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use docket_core::checkpoint::Checkpoint;

/// A checkpoint file that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be opened, written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a checkpoint.
    #[error("{path}:{line}: not a checkpoint ({detail})")]
    Line {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        detail: String,
    },
}

/// Appends `checkpoint` to the file at `path` as one line and syncs it to disk.
pub fn append(path: &Path, checkpoint: &Checkpoint) -> Result<(), FileError> {
    let io = |source| FileError::Io { path: path.to_path_buf(), source };
    let mut line = serde_json::to_vec(checkpoint).map_err(|e| io(std::io::Error::other(e)))?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
    file.write_all(&line).map_err(io)?;
    file.sync_data().map_err(io)
}

/// Every checkpoint in the file at `path`; blank lines are skipped, anything else that is not a
/// checkpoint is an error naming its line.
pub fn read_file(path: &Path) -> Result<Vec<Checkpoint>, FileError> {
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Io { path: path.to_path_buf(), source })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let checkpoint = serde_json::from_str(line).map_err(|e| FileError::Line {
            path: path.to_path_buf(),
            line: i + 1,
            detail: e.to_string(),
        })?;
        out.push(checkpoint);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use docket_core::checkpoint::SigningKey;

    use super::*;

    #[test]
    fn checkpoints_append_and_read_back_and_a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoints.jsonl");
        let key = SigningKey::from_seed([3; 32]);
        let first = key.sign(1, &"a".repeat(64), jiff::Timestamp::from_second(1).unwrap());
        let second = key.sign(5, &"b".repeat(64), jiff::Timestamp::from_second(2).unwrap());
        append(&path, &first).unwrap();
        append(&path, &second).unwrap();
        assert_eq!(read_file(&path).unwrap(), vec![first, second]);
        std::fs::write(&path, format!("{}\n\nnot json\n", std::fs::read_to_string(&path).unwrap())).unwrap();
        let error = read_file(&path).unwrap_err().to_string();
        assert!(
            error.ends_with("checkpoints.jsonl:5: not a checkpoint (expected ident at line 1 column 2)"),
            "{error}"
        );
    }
}
