//! The only file-system access in this crate: reading one file as UTF-8 text, and listing the
//! workflow files of a catalog folder.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Pos};

/// No configuration or workflow file is larger than this.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Catalog sub-folders deeper than this are not read (guards against link loops).
const MAX_FOLDER_DEPTH: usize = 8;

/// A file's path and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Where it came from; shown in messages.
    pub path: PathBuf,
    /// Its content.
    pub text: String,
}

impl Source {
    /// A source from text already in memory.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self { path: path.into(), text: text.into() }
    }
}

/// Reads `path` as UTF-8 text.
pub(crate) fn read(path: &Path) -> Result<Source, Diagnostic> {
    let whole = |message: String| Diagnostic::new(path, Pos::FILE, message, None);
    let size = std::fs::metadata(path).map_err(|e| whole(format!("cannot be read: {}", io_reason(&e))))?.len();
    if size > MAX_FILE_BYTES {
        return Err(whole(format!("is {size} bytes; files larger than {MAX_FILE_BYTES} bytes are refused")));
    }
    let bytes = std::fs::read(path).map_err(|e| whole(format!("cannot be read: {}", io_reason(&e))))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source { path: path.to_path_buf(), text }),
        Err(e) => {
            let prefix = e.as_bytes().get(..e.utf8_error().valid_up_to()).unwrap_or_default();
            let valid = std::str::from_utf8(prefix).unwrap_or("");
            let line = valid.matches('\n').count() + 1;
            let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(Diagnostic::new(path, Pos::new(line, column), "the file is not UTF-8 text", None))
        }
    }
}

/// Every `*.yaml` and `*.yml` file under `dir` (sub-folders included, hidden entries skipped),
/// in path order.
pub(crate) fn workflow_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut out = Vec::new();
    walk(dir, 0, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), Diagnostic> {
    let whole = |message: String| Diagnostic::new(dir, Pos::FILE, message, None);
    let entries = std::fs::read_dir(dir).map_err(|e| whole(format!("cannot be read: {}", io_reason(&e))))?;
    for entry in entries {
        let entry = entry.map_err(|e| whole(format!("cannot be read: {}", io_reason(&e))))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if depth < MAX_FOLDER_DEPTH {
                walk(&path, depth + 1, out)?;
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
    Ok(())
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "it does not exist".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}
