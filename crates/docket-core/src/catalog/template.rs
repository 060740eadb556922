//! `{{param}}` templates. A template renders into exactly one string — one argv element, one URL,
//! one header, one SQL argument — so a value can never become two arguments.

use std::fmt;

use super::param::Params;

/// A parsed template: literal text and parameter references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Param(String),
}

/// Why a template could not be parsed; `offset` is the byte offset in the source.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// Byte offset of the problem in the template's text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl Template {
    /// Parses `text`. `{{ name }}` refers to a parameter; spaces inside the braces are allowed.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let after_open = &rest[open + 2..];
            let Some(close) = after_open.find("}}") else {
                return Err(TemplateError {
                    offset: offset + open,
                    message: "`{{` is never closed with `}}`".to_owned(),
                });
            };
            let name = after_open[..close].trim();
            if !is_param_name(name) {
                return Err(TemplateError {
                    offset: offset + open,
                    message: format!(
                        "`{{{{{}}}}}` is not a parameter reference (write {{{{name}}}})",
                        &after_open[..close]
                    ),
                });
            }
            parts.push(Part::Param(name.to_owned()));
            let consumed = open + 2 + close + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// A template with no placeholders.
    pub fn literal(text: impl Into<String>) -> Self {
        Self { parts: vec![Part::Literal(text.into())] }
    }

    /// The parameter names this template reads, in order of appearance.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Param(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Whether the template has no placeholders.
    pub fn is_literal(&self) -> bool {
        self.placeholders().next().is_none()
    }

    /// Renders with `params`. A parameter without a value renders as empty text.
    pub fn render(&self, params: &Params) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Param(name) => {
                    if let Some(value) = params.get(name) {
                        use std::fmt::Write as _;
                        let _ = write!(out, "{value}");
                    }
                }
            }
        }
        out
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Literal(text) => f.write_str(text)?,
                Part::Param(name) => write!(f, "{{{{{name}}}}}")?,
            }
        }
        Ok(())
    }
}

/// Whether `name` can name a parameter: a letter, then letters, digits and `_`.
pub fn is_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::param::{ParamKind, ParamSpec, RawParams, validate_params};

    fn params(pairs: &[(&str, &str)]) -> Params {
        let specs: Vec<ParamSpec> = pairs
            .iter()
            .map(|(name, _)| ParamSpec {
                name: (*name).to_owned(),
                label: (*name).to_owned(),
                help: None,
                required: true,
                default: None,
                kind: ParamKind::Text { min_length: None, max_length: None },
            })
            .collect();
        let raw: RawParams = pairs.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v))).collect();
        validate_params(&specs, &raw).unwrap()
    }

    #[test]
    fn a_value_stays_one_string_whatever_it_contains() {
        let t = Template::parse("app=registry/{{ service }}:{{version}}").unwrap();
        let p = params(&[("service", "api; rm -rf / $(id) \"q\" 'x'"), ("version", "1 2")]);
        assert_eq!(t.render(&p), "app=registry/api; rm -rf / $(id) \"q\" 'x':1 2");
        assert_eq!(t.placeholders().collect::<Vec<_>>(), ["service", "version"]);
        assert_eq!(t.to_string(), "app=registry/{{service}}:{{version}}");
    }

    #[test]
    fn bad_templates_say_where() {
        assert_eq!(Template::parse("a {{x").unwrap_err().offset, 2);
        assert_eq!(Template::parse("ab {{x y}}").unwrap_err().offset, 3);
        assert!(Template::parse("{{}}").is_err());
        assert!(Template::parse("plain").unwrap().is_literal());
    }
}
