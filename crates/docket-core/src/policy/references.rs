//! What a CEL condition's source refers to, found by scanning outside string literals: the
//! `variable.FIELD` references (for load-time checks) and where an identifier stands.

/// The fields of the variables conditions read, besides `params` (whose fields are the
/// workflow's parameters). [`super::Variables`] builds exactly these.
pub const FIELDS: [(&str, &[&str]); 4] = [
    ("workflow", &["id", "risk", "category"]),
    ("plan", &["creates", "updates", "replaces", "deletes", "targets", "rows_changed"]),
    ("requester", &["id", "groups", "agent"]),
    ("now", &["weekday", "hour", "minute", "date", "time"]),
];

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Calls `visit(offset, rest)` at each character outside string literals that starts a word
/// (not preceded by an identifier character or a `.`).
fn scan_words<'s>(source: &'s str, mut visit: impl FnMut(usize, &'s str) -> bool) {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut chars = source.char_indices();
    while let Some((i, c)) = chars.next() {
        let starts_word = !(is_ident(previous) || previous == '.');
        match quote {
            Some(_) if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if starts_word && !visit(i, source.get(i..).unwrap_or("")) => return,
            None => {}
        }
        previous = c;
    }
}

/// Each `variable.NAME` in `source` outside string literals, as (byte offset of `NAME`, `NAME`).
pub fn field_refs<'s>(source: &'s str, variable: &str) -> Vec<(usize, &'s str)> {
    let mut out = Vec::new();
    scan_words(source, |i, rest| {
        if let Some(after) = rest.strip_prefix(variable).and_then(|r| r.strip_prefix('.')) {
            let len = after.find(|c: char| !is_ident(c)).unwrap_or(after.len());
            if let Some(name) = after.get(..len).filter(|n| !n.is_empty()) {
                out.push((i + variable.len() + 1, name));
            }
        }
        true
    });
    out
}

/// The byte offset of the first `name` that stands alone as an identifier outside strings.
pub fn identifier_at(source: &str, name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    let mut found = None;
    scan_words(source, |i, rest| {
        let whole =
            rest.starts_with(name) && !rest.get(name.len()..).and_then(|r| r.chars().next()).is_some_and(is_ident);
        if whole {
            found = Some(i);
        }
        !whole
    });
    found
}

/// 1-based line and character column of byte `offset` in `source`.
pub(crate) fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_references_outside_strings_only() {
        let source = r#"workflow.risk == "workflow.x" && myworkflow.y || workflow.id in ['a\'workflow.z']"#;
        assert_eq!(field_refs(source, "workflow"), [(9, "risk"), (58, "id")]);
        assert_eq!(identifier_at(r#""parms" == parms.x"#, "parms"), Some(11));
        assert_eq!(identifier_at("xparms", "parms"), None);
        assert_eq!(line_column("a\nbc d", 5), (2, 4));
    }
}
