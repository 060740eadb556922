//! CEL conditions read from a scalar: compile errors (including misspelt variables and fields,
//! which docket-core refuses) placed at the exact character in the file, and the `params.NAME`
//! each condition reads collected for checking against the catalog.

use docket_core::policy::Condition;

use crate::diagnostic::{Pos, Report};
use crate::node::Node;

/// A CEL condition; compile errors are placed inside the scalar when its layout allows.
pub(crate) fn condition(node: &Node, params: &mut Vec<(String, Pos)>, report: &mut Report) -> Option<Condition> {
    let source = crate::decode::text(node, report)?;
    match Condition::compile(&source) {
        Ok(condition) => {
            for (offset, name) in condition.param_refs() {
                params.push((name.to_owned(), node.locate(offset)));
            }
            Some(condition)
        }
        Err(e) => {
            let at = node.locate(byte_offset(&source, e.line, e.column));
            let message = format!("invalid condition: {}", cel_message(&e.message));
            match e.hint {
                Some(hint) => report.error_hint(at, message, hint),
                None => report.error(at, message),
            }
            None
        }
    }
}

/// The byte offset of 1-based `line` and character `column` in `text`.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let rest = text.get(line_start..).unwrap_or("");
    line_start + rest.chars().take(column.saturating_sub(1)).map(char::len_utf8).sum::<usize>()
}

/// Shortens the parser's messages: "mismatched input '<EOF>' expecting {…}" becomes "the
/// expression ends too early".
fn cel_message(message: &str) -> String {
    let message = message.strip_prefix("Syntax error: ").unwrap_or(message);
    let message = message.split(" expecting ").next().unwrap_or(message);
    for prefix in ["mismatched input ", "extraneous input ", "token recognition error at: "] {
        if let Some(token) = message.strip_prefix(prefix) {
            let token = token.trim_matches('\'');
            return if token == "<EOF>" {
                "the expression ends too early".to_owned()
            } else {
                format!("unexpected `{token}`")
            };
        }
    }
    message.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_line_and_column_to_bytes() {
        assert_eq!(byte_offset("ab\ncé d", 2, 3), 3 + 3);
        assert_eq!(byte_offset("abc", 1, 1), 0);
        assert_eq!(byte_offset("abc", 9, 9), 3);
    }

    #[test]
    fn shortens_parser_messages() {
        assert_eq!(
            cel_message("Syntax error: mismatched input '<EOF>' expecting {'['}"),
            "the expression ends too early"
        );
        assert_eq!(cel_message("Syntax error: extraneous input '*' expecting {'['}"), "unexpected `*`");
    }
}
