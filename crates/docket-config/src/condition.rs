//! CEL conditions read from a scalar: compile errors and misspelt fields placed at the exact
//! character in the file, and the `params.NAME` each condition reads collected for checking.

use docket_core::policy::Condition;

use crate::diagnostic::{Pos, Report, did_you_mean};
use crate::node::Node;

/// A CEL condition; compile errors are placed inside the scalar when its layout allows.
pub(crate) fn condition(node: &Node, params: &mut Vec<(String, Pos)>, report: &mut Report) -> Option<Condition> {
    let source = crate::decode::text(node, report)?;
    match Condition::compile(&source) {
        Ok(condition) => {
            let before = report.error_count();
            let mut seen: Vec<&str> = Vec::new();
            for (offset, name) in fields_of(&source, "params") {
                if !seen.contains(&name) {
                    params.push((name.to_owned(), node.locate(offset)));
                    seen.push(name);
                }
            }
            for (variable, known) in FIELDS {
                for (offset, name) in fields_of(&source, variable) {
                    if !known.contains(&name) {
                        let hint = did_you_mean(name, known.iter().copied())
                            .unwrap_or_else(|| format!("it has {}", known.join(", ")));
                        report.error_hint(node.locate(offset), format!("`{variable}` has no field `{name}`"), hint);
                    }
                }
            }
            (report.error_count() == before).then_some(condition)
        }
        Err(e) => {
            let unknown_variable = e.message.starts_with("unknown variable");
            // docket-core reports the column of an unknown variable as a byte offset + 1, and
            // the parser's own columns one too far (cel already counts from 1).
            let offset = if unknown_variable {
                let name = e.message.split('`').nth(1).unwrap_or("");
                identifier_at(&source, name).unwrap_or(e.column.saturating_sub(1))
            } else {
                byte_offset(&source, e.line, e.column.saturating_sub(1))
            };
            report.error(node.locate(offset), format!("invalid condition: {}", cel_message(&e.message)));
            None
        }
    }
}

/// The fields of the variables conditions read, besides `params` (see
/// `docket_core::policy::Variables`). A missing field makes a condition silently false, so a
/// misspelt one is a load error.
const FIELDS: [(&str, &[&str]); 3] = [
    ("workflow", &["id", "risk", "category"]),
    ("requester", &["id", "groups"]),
    ("now", &["weekday", "hour", "minute", "date", "time"]),
];

/// Each `variable.NAME` in `source` outside string literals: the byte offset of `NAME`, and
/// `NAME`.
fn fields_of<'s>(source: &'s str, variable: &str) -> Vec<(usize, &'s str)> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut chars = source.char_indices();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(_) if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if !(previous.is_ascii_alphanumeric() || previous == '_' || previous == '.') => {
                let rest = source.get(i..).unwrap_or("");
                if let Some(after) = rest.strip_prefix(variable).and_then(|r| r.strip_prefix('.')) {
                    let name_len =
                        after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                    if let Some(name) = after.get(..name_len).filter(|n| !n.is_empty()) {
                        out.push((i + variable.len() + 1, name));
                    }
                }
            }
            None => {}
        }
        previous = c;
    }
    out
}

/// The byte offset of the first `name` that stands alone as an identifier outside strings.
fn identifier_at(source: &str, name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut chars = source.char_indices();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(_) if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if !(ident(previous) || previous == '.')
                && source.get(i..).is_some_and(|rest| rest.starts_with(name))
                && !source.get(i + name.len()..).and_then(|r| r.chars().next()).is_some_and(ident) =>
            {
                return Some(i);
            }
            None => {}
        }
        previous = c;
    }
    None
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
    fn compile_error_columns_are_as_this_crate_expects() {
        // If docket-core starts reporting cel's column unchanged, `condition` must stop
        // subtracting one.
        let e = Condition::compile("1 +* 2").unwrap_err();
        assert_eq!(e.column, 5, "the `*` is at column 4; docket-core reports one more");
    }

    #[test]
    fn finds_field_references_outside_strings() {
        let found = fields_of(
            r#"workflow.risk == "workflow.x" && myworkflow.y || workflow.id in ['a\'workflow.z']"#,
            "workflow",
        );
        assert_eq!(found, [(9, "risk"), (58, "id")]);
    }

    /// Keeps [`FIELDS`] in step with the variables docket-core builds.
    #[test]
    fn known_fields_exist() {
        use docket_core::catalog::workflow::Risk;
        use docket_core::policy::Variables;
        let workflow = docket_core::Workflow {
            id: "w".into(),
            version: String::new(),
            title: String::new(),
            description: String::new(),
            category: "General".into(),
            risk: Risk::Low,
            requesters: None,
            examples: vec![],
            params: vec![],
            concurrency: None,
            steps: vec![],
        };
        let vars = Variables::new(
            &workflow,
            &Default::default(),
            &"alice".into(),
            &[],
            jiff::Timestamp::UNIX_EPOCH,
            &jiff::tz::TimeZone::UTC,
        );
        for (variable, fields) in FIELDS {
            for field in fields {
                let condition = Condition::compile(&format!("has({variable}.{field})")).unwrap();
                assert_eq!(condition.eval(&vars), Ok(true), "{variable}.{field}");
            }
        }
        let missing = Condition::compile("has(workflow.nope)").unwrap();
        assert_eq!(missing.eval(&vars), Ok(false));
    }

    #[test]
    fn finds_a_standalone_identifier() {
        assert_eq!(identifier_at(r#"params.x == "x" && x"#, "x"), Some(19));
        assert_eq!(identifier_at("xy || x", "x"), Some(6));
        assert_eq!(identifier_at("a", "x"), None);
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
