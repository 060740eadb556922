//! CEL's tokens as its lexer reads them, for the size and depth bound that runs before the
//! parser: the bound must see exactly the brackets and operators the parser will, so what looks
//! like a string, a comment or an escaped name must be one by the same rules (those of the CEL
//! grammar cel 0.15 is generated from), and text the lexer cannot read must be skipped the way it
//! skips it: everything up to and including the character where no token could go on.

/// What the bound needs to know about a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token {
    /// A name, keyword, number, string or bytes literal.
    Operand,
    /// `(`, `[` or `{`.
    Open,
    /// `)`, `]` or `}`.
    Close,
    /// `&&`.
    And,
    /// `||`.
    Or,
    /// `,` or `:`, which separate arguments, items, entries and a choice's branches.
    Separator,
    /// `?`.
    Question,
    /// Any other operator: `==`, `!=`, `<`, `<=`, `>=`, `>`, `in`, `+`, `-`, `*`, `/`, `%`,
    /// `.`, `!`.
    Operator,
}

/// How far the lexer got from a start: the end of the longest token it can make there, if any,
/// and otherwise the byte where every way on failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reach {
    accept: Option<usize>,
    dead_at: usize,
}

impl Reach {
    fn accept(end: usize) -> Self {
        Self { accept: Some(end), dead_at: end }
    }

    fn dead(at: usize) -> Self {
        Self { accept: None, dead_at: at }
    }

    /// Both ways tried at once: the longer token, or the later failure.
    fn or(self, other: Self) -> Self {
        Self { accept: self.accept.max(other.accept), dead_at: self.dead_at.max(other.dead_at) }
    }
}

/// Calls `visit(offset, token)` for each token of `source`, in order. Whitespace and comments
/// are skipped, and so is text CEL's lexer cannot read (the parser reports it).
pub(super) fn tokens(source: &str, mut visit: impl FnMut(usize, Token)) {
    let b = source.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let next = b.get(i + 1).copied();
        let (reach, token) = match c {
            b'\t' | b' ' | b'\r' | b'\n' | b'\x0C' => {
                i += 1;
                continue;
            }
            b'/' if next == Some(b'/') => {
                i = b.get(i..).and_then(|rest| rest.iter().position(|&c| c == b'\n')).map_or(b.len(), |n| i + n);
                continue;
            }
            b'0'..=b'9' => (Reach::accept(number(b, i)), Token::Operand),
            b'.' if next.is_some_and(|c| c.is_ascii_digit()) => (Reach::accept(number(b, i)), Token::Operand),
            b'"' | b'\'' => (string(b, i, false), Token::Operand),
            b'`' => (escaped_name(b, i), Token::Operand),
            c if c.is_ascii_alphabetic() || c == b'_' => name_or_prefixed_string(b, i),
            b'=' | b'&' | b'|' => {
                let (second, token) = match c {
                    b'=' => (b'=', Token::Operator),
                    b'&' => (b'&', Token::And),
                    _ => (b'|', Token::Or),
                };
                let reach = if next == Some(second) { Reach::accept(i + 2) } else { Reach::dead(i + 1) };
                (reach, token)
            }
            b'!' | b'<' | b'>' => (Reach::accept(i + if next == Some(b'=') { 2 } else { 1 }), Token::Operator),
            b'+' | b'-' | b'*' | b'/' | b'%' | b'.' => (Reach::accept(i + 1), Token::Operator),
            b'(' | b'[' | b'{' => (Reach::accept(i + 1), Token::Open),
            b')' | b']' | b'}' => (Reach::accept(i + 1), Token::Close),
            b',' | b':' => (Reach::accept(i + 1), Token::Separator),
            b'?' => (Reach::accept(i + 1), Token::Question),
            _ => (Reach::dead(i), Token::Operand),
        };
        match reach.accept {
            Some(end) => {
                visit(i, token);
                i = end;
            }
            // The lexer drops what it read and the character it failed on, and starts again.
            None => i = next_char(b, reach.dead_at),
        }
    }
}

/// The byte after the character at `i` (the end at the end).
fn next_char(b: &[u8], i: usize) -> usize {
    let Some(&c) = b.get(i) else { return b.len() };
    let len = match c {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    };
    (i + len).min(b.len())
}

/// A name (or keyword), unless `r`, `b` or `br` start a longer string or bytes literal.
fn name_or_prefixed_string(b: &[u8], i: usize) -> (Reach, Token) {
    let end = b.get(i..).and_then(|rest| rest.iter().position(|c| !(c.is_ascii_alphanumeric() || *c == b'_')));
    let end = end.map_or(b.len(), |n| i + n);
    let word = b.get(i..end).unwrap_or_default();
    let token = if word == b"in" { Token::Operator } else { Token::Operand };
    let mut reach = Reach::accept(end);
    let at = |k: usize| b.get(i + k).copied();
    let raw = |c: Option<u8>| matches!(c, Some(b'r' | b'R'));
    let quote = |c: Option<u8>| matches!(c, Some(b'"' | b'\''));
    if raw(at(0)) && quote(at(1)) {
        reach = reach.or(string(b, i + 1, true));
    }
    if matches!(at(0), Some(b'b' | b'B')) {
        if quote(at(1)) {
            reach = reach.or(string(b, i + 1, false));
        }
        if raw(at(1)) && quote(at(2)) {
            reach = reach.or(string(b, i + 2, true));
        }
    }
    // A literal longer than the name wins, and is an operand.
    let token = if reach.accept == Some(end) { token } else { Token::Operand };
    (reach, token)
}

/// A string literal whose quote is at `q`: the one-line form and, after three quotes, the
/// triple-quoted form, tried together.
fn string(b: &[u8], q: usize, raw: bool) -> Reach {
    let Some(&quote) = b.get(q) else { return Reach::dead(q) };
    let mut k = q + 1;
    // One line: up to the closing quote; a line break ends it unread.
    let one_line = loop {
        match b.get(k) {
            None => break Reach::dead(b.len()),
            Some(&c) if c == quote => break Reach::accept(k + 1),
            Some(b'\n' | b'\r') => break Reach::dead(k),
            Some(b'\\') if !raw => match escape(b, k) {
                Ok(end) => k = end,
                Err(at) => break Reach::dead(at),
            },
            Some(_) => k += 1,
        }
    };
    let triple_open = b.get(q + 1) == Some(&quote) && b.get(q + 2) == Some(&quote);
    if !triple_open {
        return one_line;
    }
    // Triple-quoted: up to the first three quotes not inside an escape, across lines.
    let mut k = q + 3;
    let triple = loop {
        match b.get(k) {
            None => break Reach::dead(b.len()),
            Some(&c) if c == quote && b.get(k + 1) == Some(&quote) && b.get(k + 2) == Some(&quote) => {
                break Reach::accept(k + 3);
            }
            Some(b'\\') if !raw => match escape(b, k) {
                Ok(end) => k = end,
                Err(at) => break Reach::dead(at),
            },
            Some(_) => k += 1,
        }
    };
    one_line.or(triple)
}

/// An escape at `k` (a backslash): its end, or the byte it fails on.
fn escape(b: &[u8], k: usize) -> Result<usize, usize> {
    let hex = |c: u8| c.is_ascii_hexdigit();
    let octal = |c: u8| (b'0'..=b'7').contains(&c);
    let digits = |from: usize, n: usize, ok: &dyn Fn(u8) -> bool| -> Result<usize, usize> {
        for j in from..from + n {
            match b.get(j) {
                Some(&c) if ok(c) => {}
                _ => return Err(j),
            }
        }
        Ok(from + n)
    };
    match b.get(k + 1) {
        Some(b'a' | b'b' | b'f' | b'n' | b'r' | b't' | b'v' | b'"' | b'\'' | b'\\' | b'?' | b'`') => Ok(k + 2),
        Some(b'0'..=b'3') => digits(k + 2, 2, &octal),
        Some(b'x' | b'X') => digits(k + 2, 2, &hex),
        Some(b'u') => digits(k + 2, 4, &hex),
        Some(b'U') => digits(k + 2, 8, &hex),
        _ => Err(k + 1),
    }
}

/// `` `name` ``: letters, digits, `_`, `.`, `-`, `/` and spaces between backticks.
fn escaped_name(b: &[u8], i: usize) -> Reach {
    let allowed = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'/' | b' ');
    let mut k = i + 1;
    while b.get(k).is_some_and(|&c| allowed(c)) {
        k += 1;
    }
    match b.get(k) {
        Some(b'`') if k > i + 1 => Reach::accept(k + 1),
        _ => Reach::dead(k.min(b.len())),
    }
}

/// The end of the number at `i`: `12`, `0x1F`, `12u`, `1.5`, `1e-3`, `.5`. Where a longer
/// form breaks off (`1.`, `1e+`), the number ends where it was last whole.
fn number(b: &[u8], i: usize) -> usize {
    let digits_from = |k: usize, ok: fn(&u8) -> bool| {
        b.get(k..).and_then(|rest| rest.iter().position(|c| !ok(c))).map_or(b.len(), |n| k + n)
    };
    let is_digit: fn(&u8) -> bool = u8::is_ascii_digit;
    let uint = |k: usize| if matches!(b.get(k), Some(b'u' | b'U')) { k + 1 } else { k };
    let exponent = |k: usize| {
        if !matches!(b.get(k), Some(b'e' | b'E')) {
            return None;
        }
        let sign = usize::from(matches!(b.get(k + 1), Some(b'+' | b'-')));
        let first = k + 1 + sign;
        b.get(first).is_some_and(u8::is_ascii_digit).then(|| digits_from(first, is_digit))
    };
    if b.get(i) == Some(&b'.') {
        let end = digits_from(i + 1, is_digit);
        return exponent(end).unwrap_or(end);
    }
    // Only a lower-case `0x`: `0X1F` is `0` and the name `X1F`.
    if b.get(i) == Some(&b'0') && b.get(i + 1) == Some(&b'x') && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit) {
        return uint(digits_from(i + 2, u8::is_ascii_hexdigit));
    }
    let end = digits_from(i, is_digit);
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        let fraction = digits_from(end + 1, is_digit);
        return exponent(fraction).unwrap_or(fraction);
    }
    exponent(end).unwrap_or_else(|| uint(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(source: &str) -> Vec<(usize, Token)> {
        let mut out = Vec::new();
        tokens(source, |at, token| out.push((at, token)));
        out
    }

    fn kinds(source: &str) -> String {
        lex(source)
            .into_iter()
            .map(|(_, t)| match t {
                Token::Operand => 'a',
                Token::Open => '(',
                Token::Close => ')',
                Token::And => '&',
                Token::Or => '|',
                Token::Separator => ',',
                Token::Question => '?',
                Token::Operator => '+',
            })
            .collect()
    }

    #[test]
    fn reads_operators_names_and_numbers() {
        assert_eq!(kinds("params.x == 'a' && f(1, 2) in [3] || !y ? 1.5e3 : -0x1Fu"), "a+a+a&a(a,a)+(a)|+a?a,+a");
        assert_eq!(kinds("index in inx"), "a+a");
        assert_eq!(kinds("1e 1.x .5 1e+x 0X1F"), "aaa+aaaa+aaa", "a number ends where it was last whole");
        assert_eq!(lex("a  <= b"), [(0, Token::Operand), (3, Token::Operator), (6, Token::Operand)]);
    }

    #[test]
    fn strings_comments_and_escaped_names_hide_what_is_in_them() {
        assert_eq!(
            kinds(r#""((" + '))' + """a"(""" + '''))''' + r"\" + b"\x41(" + br'\q(' + "\u00e9(""#),
            "a+a+a+a+a+a+a+a"
        );
        assert_eq!(kinds("1 // (((\n+ 2"), "a+a");
        assert_eq!(kinds("`a.b/c-d e`((("), "a(((");
        assert_eq!(kinds("rb\"x\""), "aa", "`rb` is a name, not a prefix");
        assert_eq!(kinds("xr\"(\""), "aa");
        assert_eq!(kinds("1r\"(\""), "aa", "after a number, `r` starts a raw string");
    }

    #[test]
    fn text_the_lexer_cannot_read_is_skipped_as_it_skips_it() {
        // A bad escape ends the string where it fails; what follows is code again.
        assert_eq!(kinds(r#""a\q (( ""#), "((", "`\"a\\q` is dropped, the last quote is unclosed");
        // A line break ends a one-line string unread; the next line is code.
        assert_eq!(kinds("\"x'''\n(((\n'''"), "(((a", "the `'''` inside the broken string starts nothing");
        // An unclosed triple quote falls back to the empty string before it.
        assert_eq!(kinds("'''abc"), "a");
        assert_eq!(kinds("r'''abc"), "a");
        // A lone `=`, `&` or `|` is dropped with the character after it.
        assert_eq!(kinds("a =( b &( c |( d"), "aaaa");
        assert_eq!(kinds("`a//` + ((("), "a+(((", "an escaped name is not a comment");
        assert_eq!(kinds("`` ((("), "(((");
        assert_eq!(kinds("é @ (é"), "(");
        assert_eq!(kinds("\"é"), "");
    }
}
