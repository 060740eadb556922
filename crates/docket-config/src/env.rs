//! `${VAR}` in string values: replaced by the variable's value from the environment the caller
//! passes in, and remembered as a secret. `$${VAR}` is the literal text `${VAR}`.

use crate::diagnostic::Report;
use crate::node::{Node, Value};
use crate::scalar::{Layout, Style};

/// Looks up an environment variable. Only the binary reads the real environment; everything
/// else is handed a function, so tests can supply their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One problem in one string: the byte offset of the `${` and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// `text` with every `${VAR}` replaced, or `None` when it has none. Values read are pushed to
/// `secrets`.
pub(crate) fn interpolate(text: &str, env: Env<'_>, secrets: &mut Vec<String>) -> Result<Option<String>, Vec<Problem>> {
    if !text.contains('$') {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    let mut problems = Vec::new();
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        let offset = text.len() - rest.len() + dollar;
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar..];
        if let Some(escaped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = escaped;
        } else if let Some(inner) = after.strip_prefix("${") {
            let Some(close) = inner.find('}') else {
                problems.push(Problem { offset, message: "`${` is never closed with `}`".to_owned() });
                break;
            };
            let name = &inner[..close];
            if !is_var_name(name) {
                let message = format!(
                    "`${{{name}}}` is not an environment variable reference (write ${{NAME}}, or $${{ for a literal ${{)"
                );
                problems.push(Problem { offset, message });
            } else if let Some(value) = env(name) {
                out.push_str(&value);
                secrets.push(value);
            } else {
                problems.push(Problem { offset, message: format!("environment variable `{name}` is not set") });
            }
            rest = &inner[close + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    if problems.is_empty() { Ok(Some(out)) } else { Err(problems) }
}

/// Interpolates every string value in `node` (keys are left alone), reporting each missing
/// variable where it is written.
pub(crate) fn apply(node: &mut Node, env: Env<'_>, report: &mut Report, secrets: &mut Vec<String>) {
    let pos = node.pos;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|item| apply(item, env, report, secrets)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, value)| apply(value, env, report, secrets)),
        Value::Scalar(scalar) => match interpolate(&scalar.text, env, secrets) {
            Ok(None) => {}
            Ok(Some(text)) => {
                // An empty result stays text rather than becoming YAML's null.
                if text.is_empty() {
                    scalar.style = Style::Quoted;
                }
                scalar.text = text;
                scalar.layout = Layout::Opaque;
            }
            Err(problems) => {
                for problem in problems {
                    report.error(scalar.locate(pos, problem.offset), problem.message);
                }
            }
        },
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "xoxb-1".to_owned())
    }

    #[test]
    fn replaces_escapes_and_collects_secrets() {
        let mut secrets = Vec::new();
        let got = interpolate("a ${TOKEN} $${TOKEN} $x $", &env, &mut secrets).unwrap();
        assert_eq!(got.as_deref(), Some("a xoxb-1 ${TOKEN} $x $"));
        assert_eq!(secrets, ["xoxb-1"]);
        assert_eq!(interpolate("plain", &env, &mut secrets), Ok(None));
    }

    #[test]
    fn reports_each_problem_at_its_offset() {
        let problems = interpolate("x ${MISSING} ${1A} ${OPEN", &env, &mut Vec::new()).unwrap_err();
        let offsets: Vec<usize> = problems.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, [2, 13, 19]);
        assert_eq!(problems[0].message, "environment variable `MISSING` is not set");
    }
}
