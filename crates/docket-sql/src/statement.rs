//! Reading SQL text without parsing it: where its statements end, which `$n` placeholders it
//! uses, and the same text with placeholders in another engine's style. Quotes (`'…'`, `"…"`,
//! `` `…` ``), PostgreSQL dollar quotes (`$tag$…$tag$`) and comments (`-- …`, `/* … */`) are
//! skipped, so a `;` or `$1` inside them counts for nothing.

/// One piece of SQL text: code (where `;` and `$n` mean something) or a quoted string or comment.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Code(&'a str),
    Opaque(&'a str),
}

/// Splits `sql` into code and opaque pieces.
fn pieces(sql: &str) -> Vec<Piece<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let end = match bytes[i] {
            b'\'' | b'"' | b'`' => Some(quoted_end(bytes, i)),
            b'-' if bytes.get(i + 1) == Some(&b'-') => Some(line_end(bytes, i)),
            b'/' if bytes.get(i + 1) == Some(&b'*') => Some(comment_end(bytes, i)),
            b'$' => dollar_tag(sql, i).map(|tag| dollar_end(sql, i, tag)),
            _ => None,
        };
        match end {
            Some(end) => {
                if start < i {
                    out.push(Piece::Code(&sql[start..i]));
                }
                out.push(Piece::Opaque(&sql[i..end]));
                start = end;
                i = end;
            }
            None => i += 1,
        }
    }
    if start < sql.len() {
        out.push(Piece::Code(&sql[start..]));
    }
    out
}

/// The end of a quoted string starting at `at` (a doubled quote stays inside; backslash escapes
/// are MySQL's and are honoured too).
fn quoted_end(bytes: &[u8], at: usize) -> usize {
    let quote = bytes[at];
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote != b'`' => i += 2,
            c if c == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn line_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| at + p + 1)
}

fn comment_end(bytes: &[u8], at: usize) -> usize {
    bytes[at + 2..].windows(2).position(|w| w == b"*/").map_or(bytes.len(), |p| at + 2 + p + 2)
}

/// `$tag$` (or `$$`) starting at `at`: a PostgreSQL dollar quote, not a placeholder.
fn dollar_tag(sql: &str, at: usize) -> Option<&str> {
    let rest = &sql[at + 1..];
    let close = rest.find('$')?;
    let tag = &rest[..close];
    let is_tag =
        tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !tag.starts_with(|c: char| c.is_ascii_digit());
    is_tag.then(|| &sql[at..at + close + 2])
}

fn dollar_end(sql: &str, at: usize, tag: &str) -> usize {
    let body = at + tag.len();
    sql[body..].find(tag).map_or(sql.len(), |p| body + p + tag.len())
}

/// How many statements `sql` holds: text between `;` that is not only blanks and comments.
pub(crate) fn statement_count(sql: &str) -> usize {
    let mut count = 0;
    let mut current_has_code = false;
    for piece in pieces(sql) {
        match piece {
            Piece::Code(code) => {
                for (n, part) in code.split(';').enumerate() {
                    if n > 0 {
                        count += usize::from(current_has_code);
                        current_has_code = false;
                    }
                    current_has_code |= !part.trim().is_empty();
                }
            }
            Piece::Opaque(text) => current_has_code |= !(text.starts_with("--") || text.starts_with("/*")),
        }
    }
    count + usize::from(current_has_code)
}

/// Each `$n` placeholder in code, in order of appearance, with its byte range.
fn placeholders(sql: &str) -> Vec<(usize, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for piece in pieces(sql) {
        let (text, code) = match piece {
            Piece::Code(t) => (t, true),
            Piece::Opaque(t) => (t, false),
        };
        if code {
            let bytes = text.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'$' {
                    let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                    if digits > 0
                        && let Ok(n) = text[i + 1..i + 1 + digits].parse::<usize>()
                    {
                        out.push((n, offset + i..offset + i + 1 + digits));
                        i += 1 + digits;
                        continue;
                    }
                }
                i += 1;
            }
        }
        offset += text.len();
    }
    out
}

/// The highest `$n` used (0 when none).
pub(crate) fn highest_placeholder(sql: &str) -> usize {
    placeholders(sql).into_iter().map(|(n, _)| n).max().unwrap_or(0)
}

/// `sql` with `$n` rewritten for an engine that binds `?` in order (MySQL), and the argument
/// number each `?` takes (`$2 … $1 … $2` binds arguments 2, 1, 2).
pub(crate) fn question_marks(sql: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(sql.len());
    let mut order = Vec::new();
    let mut last = 0;
    for (n, range) in placeholders(sql) {
        out.push_str(&sql[last..range.start]);
        out.push('?');
        order.push(n);
        last = range.end;
    }
    out.push_str(&sql[last..]);
    (out, order)
}

/// `sql` with its `$n` numbered again from `$1`, in order of first appearance, and the argument
/// number each new placeholder takes: a part of a statement (its `WHERE`) run on its own binds
/// only the arguments it uses (`a = $3 or b = $1 or c = $3` is `a = $1 or b = $2 or c = $1`
/// taking arguments 3 and 1).
pub(crate) fn renumbered(sql: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(sql.len());
    let mut taken: Vec<usize> = Vec::new();
    let mut last = 0;
    for (n, range) in placeholders(sql) {
        let k = match taken.iter().position(|&t| t == n) {
            Some(i) => i + 1,
            None => {
                taken.push(n);
                taken.len()
            }
        };
        out.push_str(&sql[last..range.start]);
        out.push_str(&format!("${k}"));
        last = range.end;
    }
    out.push_str(&sql[last..]);
    (out, taken)
}

/// `sql` with `$n` rewritten as SQLite's numbered `?n`.
pub(crate) fn numbered_question_marks(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    for (n, range) in placeholders(sql) {
        out.push_str(&sql[last..range.start]);
        out.push_str(&format!("?{n}"));
        last = range.end;
    }
    out.push_str(&sql[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_statements_outside_strings_and_comments() {
        assert_eq!(statement_count("select 1"), 1);
        assert_eq!(statement_count("select 1;"), 1);
        assert_eq!(statement_count("select 1; -- done\n"), 1);
        assert_eq!(statement_count("select ';'; "), 1);
        assert_eq!(statement_count("select 1; select 2"), 2);
        assert_eq!(statement_count("update t set a = $1; drop table x; --"), 2);
        assert_eq!(statement_count("select $$ a; b $$, $x$;$x$"), 1);
        assert_eq!(statement_count("/* ; */ select 1 /* ; */"), 1);
        assert_eq!(statement_count("select 'it''s; fine'"), 1);
        assert_eq!(statement_count(""), 0);
    }

    #[test]
    fn finds_placeholders_outside_strings() {
        assert_eq!(highest_placeholder("select * from t where a = $1 and b = $12"), 12);
        assert_eq!(highest_placeholder("select '$5' where x = $2 -- $9"), 2);
        assert_eq!(highest_placeholder("select $tag$ $7 $tag$"), 0);
        assert_eq!(highest_placeholder("select 1"), 0);
    }

    #[test]
    fn rewrites_placeholders_for_other_engines() {
        let (sql, order) = question_marks("select $2, '$1', $1, $2");
        assert_eq!(sql, "select ?, '$1', ?, ?");
        assert_eq!(order, [2, 1, 2]);
        assert_eq!(numbered_question_marks("select $2 where a = $10"), "select ?2 where a = ?10");
    }

    #[test]
    fn numbers_placeholders_again_from_one() {
        let (sql, taken) = renumbered("a = $3 or b = '$2' or c = $1 or d = $3");
        assert_eq!(sql, "a = $1 or b = '$2' or c = $2 or d = $1");
        assert_eq!(taken, [3, 1]);
        assert_eq!(renumbered("x = 1"), ("x = 1".to_owned(), vec![]));
    }
}
