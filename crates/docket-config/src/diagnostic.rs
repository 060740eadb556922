//! What is wrong with a file and where: `path:line:column: message (hint)`, one per problem.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a file: 1-based line and column (columns count characters, not bytes).
///
/// Line 0 means "the file as a whole" (it could not be read, or it is missing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Pos {
    /// The position `line`:`column`.
    pub const fn new(line: usize, column: usize) -> Self {
        Self { line, column }
    }

    /// The whole file rather than a place in it.
    pub const FILE: Pos = Pos { line: 0, column: 0 };
}

/// One problem in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as it was named to the loader.
    pub path: PathBuf,
    /// 1-based line; 0 when the problem is about the whole file.
    pub line: usize,
    /// 1-based column, in characters; 0 when the problem is about the whole file.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A problem at `pos` in `path`.
    pub fn new(path: impl Into<PathBuf>, pos: Pos, message: impl Into<String>, hint: Option<String>) -> Self {
        Self { path: path.into(), line: pos.line, column: pos.column, message: message.into(), hint }
    }

    /// Where the problem is.
    pub fn pos(&self) -> Pos {
        Pos::new(self.line, self.column)
    }

    /// The same problem with its path shown relative to `base` (when it is inside `base`).
    pub fn relative_to(&self, base: &Path) -> Self {
        let path = self.path.strip_prefix(base).map(Path::to_path_buf).unwrap_or_else(|_| self.path.clone());
        Self { path, ..self.clone() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)?;
        } else {
            write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.column, self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Every error found while loading, sorted by path, line and column.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.errors))]
pub struct Diagnostics {
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Errors (and the warnings found alongside them), each list sorted by place; problems at the
    /// same place keep the order they were found in.
    pub fn new(mut errors: Vec<Diagnostic>, mut warnings: Vec<Diagnostic>) -> Self {
        sort(&mut errors);
        sort(&mut warnings);
        Self { errors, warnings }
    }

    /// The errors, sorted.
    pub fn errors(&self) -> &[Diagnostic] {
        &self.errors
    }

    /// Warnings found alongside the errors, sorted.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Whether there are no errors.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many errors each file has, in path order.
    pub fn per_file(&self) -> Vec<(&Path, usize)> {
        let mut out: Vec<(&Path, usize)> = Vec::new();
        for d in &self.errors {
            match out.last_mut() {
                Some((path, n)) if *path == d.path.as_path() => *n += 1,
                _ => out.push((&d.path, 1)),
            }
        }
        out
    }

    /// "1 error in docket.yaml", "7 errors in docket.yaml", or "86 errors in 6 files".
    pub fn summary(&self) -> String {
        let files = self.per_file();
        let errors = count(self.errors.len(), "error", "errors");
        match files.as_slice() {
            [(path, _)] => format!("{errors} in {}", path.display()),
            _ => format!("{errors} in {}", count(files.len(), "file", "files")),
        }
    }

    /// The same problems with paths shown relative to `base`.
    pub fn relative_to(&self, base: &Path) -> Self {
        let errors = self.errors.iter().map(|d| d.relative_to(base)).collect();
        let warnings = self.warnings.iter().map(|d| d.relative_to(base)).collect();
        Self::new(errors, warnings)
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

/// `n` and the noun for it: "1 file", "2 files".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Sorts by path, line and column, keeping the order of problems found at the same place.
pub(crate) fn sort(list: &mut [Diagnostic]) {
    list.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
}

fn render(list: &[Diagnostic]) -> String {
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// Collects the problems of one file as they are found.
#[derive(Debug)]
pub struct Report {
    path: PathBuf,
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) warnings: Vec<Diagnostic>,
}

impl Report {
    /// An empty report for `path`.
    pub(crate) fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), errors: Vec::new(), warnings: Vec::new() }
    }

    /// The file this report is about.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records an error.
    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(self.path.clone(), pos, message, None));
    }

    /// Records an error with a hint on how to fix it.
    pub fn error_hint(&mut self, pos: Pos, message: impl Into<String>, hint: impl Into<String>) {
        self.errors.push(Diagnostic::new(self.path.clone(), pos, message, Some(hint.into())));
    }

    /// Records an error with an optional hint.
    pub fn error_maybe(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        self.errors.push(Diagnostic::new(self.path.clone(), pos, message, hint));
    }

    /// Records a warning.
    pub fn warning(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        self.warnings.push(Diagnostic::new(self.path.clone(), pos, message, hint));
    }

    /// How many errors have been recorded so far; compare before and after to learn whether a
    /// part of the file was clean.
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }
}

/// "line 3", or "column 7 of this line" when `first` is on the same line as `here`.
pub(crate) fn first_at(first: Pos, here: Pos) -> String {
    if first.line == here.line {
        format!("column {} of this line", first.column)
    } else {
        format!("line {}", first.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_place_message_and_hint() {
        let d = Diagnostic::new("a.yaml", Pos::new(3, 7), "unknown key `nmae`", Some("did you mean `name`?".into()));
        assert_eq!(d.to_string(), "a.yaml:3:7: unknown key `nmae` (did you mean `name`?)");
        let whole = Diagnostic::new("dir", Pos::FILE, "cannot be read", None);
        assert_eq!(whole.to_string(), "dir: cannot be read");
    }

    #[test]
    fn sorts_by_path_line_and_column() {
        let at = |p: &str, l, c| Diagnostic::new(p, Pos::new(l, c), format!("{p}{l}{c}"), None);
        let all = Diagnostics::new(vec![at("b", 1, 1), at("a", 2, 1), at("a", 1, 9), at("a", 1, 2)], vec![]);
        let order: Vec<&str> = all.errors().iter().map(|d| d.message.as_str()).collect();
        assert_eq!(order, ["a12", "a19", "a21", "b11"]);
        assert_eq!(all.to_string().lines().count(), 4);
    }

    #[test]
    fn counts_errors_per_file() {
        let at = |p: &str| Diagnostic::new(p, Pos::new(1, 1), "x", None);
        let all = Diagnostics::new(vec![at("b"), at("a"), at("b"), at("b")], vec![]);
        let per_file: Vec<(String, usize)> =
            all.per_file().into_iter().map(|(p, n)| (p.display().to_string(), n)).collect();
        assert_eq!(per_file, [("a".to_owned(), 1), ("b".to_owned(), 3)]);
        assert_eq!(all.summary(), "4 errors in 2 files");
        assert_eq!(Diagnostics::new(vec![at("a")], vec![]).summary(), "1 error in a");
        assert_eq!(count(1, "workflow", "workflows"), "1 workflow");
    }
}
