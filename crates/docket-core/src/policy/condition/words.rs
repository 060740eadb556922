//! CEL's parse errors in words: the parser's messages name grammar tokens (`mismatched input
//! '<EOF>' expecting {…}`) or, for some failures, are a debug dump of an error value
//! (`OtherError(ParseError { … msg: "…" … })`). People get a sentence and, where it helps, a hint.

/// A parse error's `message` in words, and a hint. `rest` is the condition from the error's
/// position on, to tell an unclosed string from a bad escape.
pub(super) fn explain(message: &str, rest: &str) -> (String, Option<String>) {
    let inner = inner_message(message);
    let message = inner.strip_prefix("Syntax error: ").unwrap_or(&inner);
    let message = message.split(" expecting ").next().unwrap_or(message);
    let said = |m: &str| (m.to_owned(), None);
    let hinted = |m: &str, h: &str| (m.to_owned(), Some(h.to_owned()));
    if let Some(token) = message.strip_prefix("mismatched input ").or_else(|| message.strip_prefix("extraneous input "))
    {
        return unexpected(unquote(token));
    }
    if let Some(rest) = message.strip_prefix("missing ") {
        let (what, before) = rest.split_once(" at ").unwrap_or((rest, "'<EOF>'"));
        let (what, before) = (unquote(what), unquote(before));
        return if before == "<EOF>" {
            said(&format!("`{what}` is missing at the end"))
        } else {
            said(&format!("`{what}` is missing before `{before}`"))
        };
    }
    if let Some(text) = message.strip_prefix("token recognition error at: ") {
        return unreadable(unquote(text), rest);
    }
    if let Some(text) = message.strip_prefix("no viable alternative at input ") {
        return said(&format!("cannot make sense of `{}`", unquote(text)));
    }
    if let Some(word) = message.strip_prefix("reserved identifier: ") {
        return hinted(&format!("`{word}` is a reserved word in CEL"), "use another name");
    }
    if message.contains("`_?_:_`") {
        return hinted("a `?` needs a `:` and a second value", "write `condition ? value : other`");
    }
    if message.starts_with("Incomplete ") || message.starts_with("No `") {
        return said("the expression is incomplete");
    }
    if message.to_lowercase().contains("recursion limit") {
        return said("it nests too deeply for CEL's parser");
    }
    if message.starts_with("error recovery attempt limit exceeded") {
        return said("it has too many syntax errors to read on");
    }
    said(message)
}

/// The innermost `msg: "…"` of a debug dump, or `message` itself.
fn inner_message(message: &str) -> String {
    let mut current = message.to_owned();
    while let Some(start) = current.find("msg: \"") {
        let body = current.get(start + 6..).unwrap_or("");
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                '"' => break,
                c => out.push(c),
            }
        }
        current = out;
    }
    current
}

/// `'x'` → `x`.
fn unquote(token: &str) -> &str {
    let token = token.trim();
    token.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')).unwrap_or(token)
}

fn unexpected(token: &str) -> (String, Option<String>) {
    if token == "<EOF>" {
        return ("the expression ends too early".to_owned(), None);
    }
    let hint = match token {
        "and" => Some("CEL writes `&&` for and"),
        "or" => Some("CEL writes `||` for or"),
        "not" => Some("CEL writes `!` for not"),
        "=" => Some("compare with `==`"),
        _ => None,
    };
    (format!("unexpected {}", code(token)), hint.map(str::to_owned))
}

/// `token` in backticks, unless it has its own (an escaped name).
fn code(token: &str) -> String {
    if token.contains('`') { token.to_owned() } else { format!("`{token}`") }
}

/// Text the lexer could not read: `text` is what it dropped, up to and including the character
/// it failed on; `rest` the condition from there on.
fn unreadable(text: &str, rest: &str) -> (String, Option<String>) {
    let hinted = |m: String, h: &str| (m, Some(h.to_owned()));
    let string = text.trim_start_matches(['b', 'B', 'r', 'R']).starts_with(['"', '\'']);
    if string {
        if text.ends_with(['\n', '\r']) {
            return hinted(
                "this string is not closed on its line".to_owned(),
                "close it, or use triple quotes (`'''…'''`) for text over several lines",
            );
        }
        // A backslash the text ends with was cut short by its end, not a bad escape.
        if let Some(at) = text.rfind('\\').filter(|at| at + 1 < text.len()) {
            let escape = text.get(at..).unwrap_or(text);
            return hinted(
                format!("`{escape}` is not an escape CEL knows"),
                "escapes are \\n, \\t, \\\\, \\\", \\', \\xHH and \\uHHHH; or write a raw string, r'…'",
            );
        }
        if rest.trim_end().len() <= text.len() {
            return hinted("this string is never closed".to_owned(), "end it with the quote it starts with");
        }
    }
    let shown = text.trim();
    let hint = match shown.chars().next() {
        Some('=') => Some("compare with `==`"),
        Some('&') => Some("CEL writes `&&` for and"),
        Some('|') => Some("CEL writes `||` for or"),
        _ => None,
    };
    let first = shown.chars().next().map_or(String::new(), String::from);
    (format!("unexpected {}", code(&first)), hint.map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(message: &str) -> String {
        let (said, hint) = explain(message, "");
        match hint {
            Some(hint) => format!("{said} ({hint})"),
            None => said,
        }
    }

    #[test]
    fn grammar_messages_become_sentences() {
        let expecting = " expecting {'[', '{', '(', '.', '-', '!', 'true', NUM_INT, IDENTIFIER}";
        assert_eq!(
            words(&format!("Syntax error: mismatched input '<EOF>'{expecting}")),
            "the expression ends too early"
        );
        assert_eq!(words(&format!("Syntax error: extraneous input '*'{expecting}")), "unexpected `*`");
        assert_eq!(
            words("Syntax error: mismatched input 'and' expecting {<EOF>, '==', '&&'}"),
            "unexpected `and` (CEL writes `&&` for and)"
        );
        assert_eq!(words("Syntax error: missing ')' at '<EOF>'"), "`)` is missing at the end");
        assert_eq!(words("Syntax error: token recognition error at: '= '"), "unexpected `=` (compare with `==`)");
        assert_eq!(words("Syntax error: token recognition error at: '@'"), "unexpected `@`");
        assert_eq!(words("reserved identifier: if"), "`if` is a reserved word in CEL (use another name)");
        assert_eq!(
            words("Incomplete `ExprContext` for `_?_:_` expression!"),
            "a `?` needs a `:` and a second value (write `condition ? value : other`)"
        );
        assert_eq!(words("invalid argument to has() macro"), "invalid argument to has() macro");
    }

    #[test]
    fn debug_dumps_are_unwrapped() {
        let dump = r#"Syntax error: OtherError(ParseError { source: None, pos: (1344, -1), msg: "Recursion limit of 96 exceeded", expr_id: 0, source_info: None })"#;
        assert_eq!(words(dump), "it nests too deeply for CEL's parser");
        assert_eq!(inner_message(r#"X { msg: "a \"b\" c" }"#), r#"a "b" c"#);
    }

    #[test]
    fn strings_the_lexer_cannot_read_say_why() {
        let (said, _) = explain("Syntax error: token recognition error at: '\"\\q'", "\"\\q\" == 1");
        assert_eq!(said, "`\\q` is not an escape CEL knows");
        let (said, _) = explain("Syntax error: token recognition error at: ''abc'", "'abc");
        assert_eq!(said, "this string is never closed");
        let (said, _) = explain("Syntax error: token recognition error at: ''a\\'", "'a\\");
        assert_eq!(said, "this string is never closed");
        assert_eq!(words("Syntax error: mismatched input '`y`' expecting <EOF>"), "unexpected `y`");
        let (said, _) = explain("Syntax error: token recognition error at: '\"abc\n'", "\"abc\nx");
        assert_eq!(said, "this string is not closed on its line");
    }
}
