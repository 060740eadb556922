//! A workflow's `params`: typed declarations with their constraints, checked for sense (a valid
//! pattern, min ≤ max, unique choices) and for a default that passes its own rules.
//!
//! `required` defaults to `true`; a default counts as a given value, so a parameter with a
//! default never has to be typed in.
//!
//! A choice may have aliases, other words people use for it, read by the matcher: on the
//! parameter (`aliases: {prod: [production, prd]}`) or on the choice
//! (`{value: prod, aliases: [production]}`). An alias names one choice only.

use docket_core::catalog::param::{Choice, MAX_VALUE_BYTES, ParamKind, ParamSpec, ParamValue, Pattern, check_value};
use docket_core::catalog::template::is_param_name;

use std::collections::HashMap;

use crate::decode::{Fields, Seen, boolean, excerpt, int, int_in, list, nonempty, open_map, text};
use crate::diagnostic::{Pos, Report, first_at};
use crate::node::{Node, Value};
use docket_core::text::did_you_mean;

const KEYS: &[&str] = &[
    "name",
    "type",
    "label",
    "help",
    "required",
    "default",
    "pattern",
    "min_length",
    "max_length",
    "min",
    "max",
    "choices",
    "aliases",
];
const TYPES: [&str; 5] = ["string", "text", "integer", "boolean", "choice"];

/// The names declared in `params` (even by invalid declarations, so later references to them
/// are not reported twice) and the declarations, if they are all valid.
pub(crate) fn params(node: Option<&Node>, report: &mut Report) -> (Vec<String>, Option<Vec<ParamSpec>>) {
    let Some(node) = node else { return (Vec::new(), Some(Vec::new())) };
    let Some(items) = list(node, "parameters", report) else { return (Vec::new(), None) };
    let before = report.error_count();
    let mut names = Vec::new();
    let mut specs = Vec::new();
    let mut seen = Seen::default();
    for item in items {
        let Some(fields) = Fields::open(item, "parameter", KEYS, report) else { continue };
        let name = fields.req("name", report, param_name);
        if let (Some(name), Some(node)) = (&name, fields.get("name"))
            && seen.first(name, node.pos, "parameter", report)
        {
            names.push(name.clone());
        }
        if let Some(spec) = name.and_then(|name| spec(&fields, name, report)) {
            specs.push(spec);
        }
    }
    (names, (report.error_count() == before).then_some(specs))
}

fn param_name(node: &Node, report: &mut Report) -> Option<String> {
    let name = text(node, report)?;
    if is_param_name(&name) {
        return Some(name);
    }
    report.error_hint(
        node.pos,
        format!("`{}` is not a valid parameter name", excerpt(&name)),
        "use a letter, then letters, digits or `_` (at most 64)",
    );
    None
}

fn spec(fields: &Fields<'_>, name: String, report: &mut Report) -> Option<ParamSpec> {
    let before = report.error_count();
    let label = fields.opt("label", report, nonempty).or(name.clone());
    let help = fields.opt("help", report, text).optional();
    let required = fields.opt("required", report, boolean).or(true);
    let kind = kind(fields, report)?;
    let mut spec = ParamSpec { name, label: label?, help: help?, required: required?, default: None, kind };
    if let Some(node) = fields.get("default") {
        let value = match &spec.kind {
            ParamKind::Integer { .. } => int(node, report).map(ParamValue::Int),
            ParamKind::Boolean => boolean(node, report).map(ParamValue::Bool),
            _ => text(node, report).map(ParamValue::Str),
        }?;
        if let Err(why) = check_value(&spec, &value) {
            let message = match why.starts_with('`') {
                true => format!("the default {why}"),
                false => format!("the default `{}` {why}", excerpt(&value.to_string())),
            };
            report.error(node.pos, message);
        }
        spec.default = Some(value);
    }
    (report.error_count() == before).then_some(spec)
}

/// The type and its constraints; keys that belong to another type are reported.
fn kind(fields: &Fields<'_>, report: &mut Report) -> Option<ParamKind> {
    let type_name = match fields.get("type") {
        None => "string".to_owned(),
        Some(node) => {
            let name = text(node, report)?;
            if !TYPES.contains(&name.as_str()) {
                let hint = did_you_mean(&name, TYPES).unwrap_or_else(|| format!("types are {}", TYPES.join(", ")));
                report.error_hint(node.pos, format!("unknown parameter type `{}`", excerpt(&name)), hint);
                return None;
            }
            name
        }
    };
    let applies: &[&str] = match type_name.as_str() {
        "string" => &["pattern", "min_length", "max_length"],
        "text" => &["min_length", "max_length"],
        "integer" => &["min", "max"],
        "choice" => &["choices", "aliases"],
        _ => &[],
    };
    let before = report.error_count();
    for key in ["pattern", "min_length", "max_length", "min", "max", "choices", "aliases"] {
        if let Some((k, _)) = fields.entry(key).filter(|_| !applies.contains(&key)) {
            let owners = match key {
                "pattern" => "string",
                "min_length" | "max_length" => "string and text",
                "min" | "max" => "integer",
                _ => "choice",
            };
            let message = format!("`{key}` does not apply to a {type_name} parameter");
            report.error_hint(k.pos, message, format!("it applies to type {owners}"));
        }
    }
    let max_len = i64::try_from(MAX_VALUE_BYTES).unwrap_or(i64::MAX);
    let length = |key: &str, report: &mut Report| fields.opt(key, report, |n, r| int_in::<usize>(n, 0, max_len, r));
    let kind = match type_name.as_str() {
        "string" | "text" => {
            let min_length = length("min_length", report).optional();
            let max_length = length("max_length", report).optional();
            let pattern = fields.opt("pattern", report, pattern).optional();
            let ordered = match (&min_length, &max_length) {
                (Some(lo), Some(hi)) => order(fields, "min_length", *lo, "max_length", *hi, report),
                _ => None,
            };
            let (min_length, max_length, pattern, ()) = (min_length?, max_length?, pattern?, ordered?);
            if type_name == "text" {
                ParamKind::Text { min_length, max_length }
            } else {
                ParamKind::String { pattern, min_length, max_length }
            }
        }
        "integer" => {
            let min = fields.opt("min", report, int).optional();
            let max = fields.opt("max", report, int).optional();
            let (min, max) = (min?, max?);
            order(fields, "min", min, "max", max, report)?;
            ParamKind::Integer { min, max }
        }
        "boolean" => ParamKind::Boolean,
        _ => {
            let mut choices = fields.req("choices", report, choices)?;
            if let Some(node) = fields.get("aliases") {
                aliases(node, &mut choices, report)?;
            }
            ParamKind::Choice { choices }
        }
    };
    (report.error_count() == before).then_some(kind)
}

/// Reports `low_key` greater than `high_key`.
fn order<T: PartialOrd + std::fmt::Display>(
    fields: &Fields<'_>,
    low_key: &str,
    low: Option<T>,
    high_key: &str,
    high: Option<T>,
    report: &mut Report,
) -> Option<()> {
    if let (Some(lo), Some(hi), Some(node)) = (low, high, fields.get(high_key))
        && lo > hi
    {
        report.error(node.pos, format!("`{high_key}` ({hi}) is less than `{low_key}` ({lo})"));
        return None;
    }
    Some(())
}

fn pattern(node: &Node, report: &mut Report) -> Option<Pattern> {
    let source = text(node, report)?;
    Pattern::new(&source)
        .map_err(|why| {
            let why = why.strip_prefix("error: ").unwrap_or(&why);
            report.error(node.pos, format!("invalid regular expression: {why}"));
        })
        .ok()
}

/// `choices: [a, b]` or `choices: [{value: a, label: A, aliases: […]}]`: non-empty, values
/// unique, aliases naming one choice each.
fn choices(node: &Node, report: &mut Report) -> Option<Vec<Choice>> {
    let items = list(node, "choices", report)?;
    if items.is_empty() {
        report.error(node.pos, "a choice parameter needs at least one choice");
        return None;
    }
    let before = report.error_count();
    let mut seen = Seen::default();
    let mut out = Vec::new();
    let mut aliases: Vec<(usize, &Node)> = Vec::new();
    for item in items {
        let (value_node, label) = match &item.value {
            Value::Map(_) => {
                let Some(fields) = Fields::open(item, "choice", &["value", "label", "aliases"], report) else {
                    continue;
                };
                let Some(value_node) = fields.require("value", report) else { continue };
                if let Some(list) = fields.get("aliases") {
                    aliases.push((out.len(), list));
                }
                (value_node, fields.opt("label", report, nonempty).optional().flatten())
            }
            _ => (item, None),
        };
        let Some(value) = nonempty(value_node, report) else { continue };
        if value.chars().any(char::is_control) {
            report.error(value_node.pos, "a choice must be one line without control characters");
        }
        if seen.first(&value, value_node.pos, "choice", report) {
            out.push(Choice::new(value.clone(), label.unwrap_or(value)));
        }
    }
    if report.error_count() != before {
        return None;
    }
    let mut names = Names::of(&out);
    for (index, list) in aliases {
        alias_list(list, index, &mut out, &mut names, report);
    }
    (report.error_count() == before).then_some(out)
}

/// `aliases: {prod: [production, prd]}` on a choice parameter: each key a choice's value.
fn aliases(node: &Node, choices: &mut [Choice], report: &mut Report) -> Option<()> {
    let entries = open_map(node, "choices to their aliases", report)?;
    let before = report.error_count();
    let mut names = Names::of(choices);
    for (value, key, list) in entries {
        let Some(index) = choices.iter().position(|c| c.value == value) else {
            let values: Vec<&str> = choices.iter().map(|c| c.value.as_str()).collect();
            let hint = docket_core::text::did_you_mean(value, values.iter().copied())
                .unwrap_or_else(|| format!("the choices are {}", values.join(", ")));
            report.error_hint(key.pos, format!("`{}` is not one of the choices", excerpt(value)), hint);
            continue;
        };
        alias_list(list, index, choices, &mut names, report);
    }
    (report.error_count() == before).then_some(())
}

/// Every word that names a choice (value, label, alias) in lowercase, with the choice it names
/// and, for an alias read in the same list, where it was written.
struct Names(HashMap<String, (usize, Option<Pos>)>);

impl Names {
    fn of(choices: &[Choice]) -> Self {
        let mut names = HashMap::new();
        for (i, choice) in choices.iter().enumerate() {
            names.entry(choice.value.to_lowercase()).or_insert((i, None));
            names.entry(choice.label.to_lowercase()).or_insert((i, None));
            for alias in &choice.aliases {
                names.entry(alias.clone()).or_insert((i, None));
            }
        }
        Self(names)
    }
}

/// Reads a list of aliases for `choices[index]`, reporting any that already name a choice.
fn alias_list(node: &Node, index: usize, choices: &mut [Choice], names: &mut Names, report: &mut Report) {
    let Some(items) = list(node, "aliases", report) else { return };
    for item in items {
        let Some(alias) = nonempty(item, report) else { continue };
        if alias.chars().any(char::is_control) {
            report.error(item.pos, "an alias must be one line without control characters");
            continue;
        }
        let lower = alias.trim().to_lowercase();
        match names.0.get(&lower) {
            Some((owner, first)) => {
                let owner = &choices[*owner].value;
                let message = match first {
                    Some(first) => {
                        format!(
                            "alias `{}` is already given to `{owner}` (at {})",
                            excerpt(&alias),
                            first_at(*first, item.pos)
                        )
                    }
                    None => format!("alias `{}` already names the choice `{owner}`", excerpt(&alias)),
                };
                report.error(item.pos, message);
            }
            None => {
                names.0.insert(lower.clone(), (index, Some(item.pos)));
                choices[index].aliases.push(lower);
            }
        }
    }
}
