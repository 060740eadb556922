//! `{{param}}` templates and `{param}` example captures read from nodes: syntax errors and
//! references to parameters the workflow does not declare are reported where they are written.

use docket_core::catalog::example::Example;
use docket_core::catalog::template::Template;

use crate::decode::text;
use crate::diagnostic::Report;
use crate::node::Node;
use docket_core::text::did_you_mean;

/// A template whose placeholders must all name one of `params`.
pub fn template(node: &Node, params: &[String], report: &mut Report) -> Option<Template> {
    let source = text(node, report)?;
    let parsed = match Template::parse(&source) {
        Ok(t) => t,
        Err(e) => {
            report.error(node.locate(e.offset), e.message);
            return None;
        }
    };
    let before = report.error_count();
    for (offset, name) in placeholders(&source) {
        if !params.iter().any(|p| p == name) {
            let message = format!("unknown parameter `{{{{{name}}}}}`");
            report.error_maybe(node.locate(offset), message, known_params_hint(name, params));
        }
    }
    (report.error_count() == before).then_some(parsed)
}

/// A plain-language example whose captures must all name one of `params`.
pub(crate) fn example(node: &Node, params: &[String], report: &mut Report) -> Option<Example> {
    let source = text(node, report)?;
    let parsed = match Example::parse(&source) {
        Ok(e) => e,
        Err(message) => {
            // The message quotes the offending word: point at it.
            let word = message.split('`').nth(1).filter(|w| !w.is_empty());
            let offset = word.and_then(|w| source.find(w)).unwrap_or(0);
            report.error(node.locate(offset), message);
            return None;
        }
    };
    let before = report.error_count();
    let mut seen: Vec<&str> = Vec::new();
    let mut from = 0;
    for name in parsed.captures() {
        let capture = format!("{{{name}}}");
        let offset = source.get(from..).and_then(|rest| rest.find(&capture)).map_or(0, |i| from + i);
        from = offset + capture.len();
        if !params.iter().any(|p| p == name) {
            let message = format!("the example captures `{{{name}}}`, which is not a parameter");
            report.error_maybe(node.locate(offset), message, known_params_hint(name, params));
        } else if seen.contains(&name) {
            report.error(node.locate(offset), format!("the example captures `{{{name}}}` twice"));
        }
        seen.push(name);
    }
    (report.error_count() == before).then_some(parsed)
}

/// "did you mean …?", or the list of parameters there are.
pub(crate) fn known_params_hint(name: &str, params: &[String]) -> Option<String> {
    did_you_mean(name, params.iter().map(String::as_str)).or_else(|| {
        Some(if params.is_empty() {
            "this workflow declares no parameters".to_owned()
        } else {
            format!("this workflow's parameters are: {}", params.join(", "))
        })
    })
}

/// The byte offset of each `{{` and the name inside, for a text that parses as a template.
fn placeholders(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text.get(from..).and_then(|rest| rest.find("{{")) {
        let start = from + open;
        let Some(close) = text.get(start + 2..).and_then(|rest| rest.find("}}")) else { break };
        if let Some(name) = text.get(start + 2..start + 2 + close) {
            out.push((start, name.trim()));
        }
        from = start + 2 + close + 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_placeholder_with_its_offset() {
        assert_eq!(placeholders("a{{ x }}b{{y}}"), [(1, "x"), (9, "y")]);
        assert_eq!(placeholders("no braces"), []);
    }
}
