//! Matching a request typed in words (`deploy api 1.4.2 to prod`) against the workflows'
//! `examples`. Every surface uses this one matcher — Slack, Teams, the CLI and AI agents — so
//! the same words open the same form everywhere.
//!
//! An example matches when its words appear in order, case-insensitively, and each `{capture}`
//! takes one word (the last capture of a `text` or `string` parameter takes the rest of the
//! line). Captured values are checked against the parameter: a choice is matched to its value
//! or label in any case, and a value that fails its check still pre-fills the form (where the
//! person sees why) but ranks the example below one whose captures all pass.

use std::cmp::Reverse;

use super::example::ExampleToken;
use super::param::{ParamKind, ParamSpec, ParamValue, RawParams, check_value, coerce};
use super::workflow::Workflow;
use crate::text::edit_distance;

/// Closest workflows offered when nothing matches.
const MAX_SUGGESTIONS: usize = 3;

/// One workflow matched by one of its examples.
#[derive(Clone, Debug)]
pub struct Matched<'w> {
    /// The workflow.
    pub workflow: &'w Workflow,
    /// The example as written.
    pub example: &'w str,
    /// Values captured, in their declared types where they passed their checks, as text where
    /// they did not.
    pub params: RawParams,
    /// Captures whose value failed its parameter's check, with the reason.
    pub problems: Vec<(String, String)>,
}

/// What the words matched.
#[derive(Clone, Debug)]
pub enum RequestMatch<'w> {
    /// An example matched.
    Found(Matched<'w>),
    /// Nothing matched; these workflows are the closest, best first (maybe none).
    Closest(Vec<&'w Workflow>),
}

/// Matches `text` against the examples of `workflows` (pass only those the person may request).
pub fn match_request<'w>(workflows: impl IntoIterator<Item = &'w Workflow>, text: &str) -> RequestMatch<'w> {
    let words = words(text);
    let workflows: Vec<&Workflow> = workflows.into_iter().collect();
    let mut best: Option<((Reverse<usize>, usize), Matched<'w>)> = None;
    for workflow in &workflows {
        for example in &workflow.examples {
            let Some(found) = match_example(workflow, example.tokens(), example.text(), &words) else { continue };
            // Fewer problems first, then more literal words (a more specific example).
            let literal = example.tokens().iter().filter(|t| matches!(t, ExampleToken::Word(_))).count();
            let score = (Reverse(found.problems.len()), literal);
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, found));
            }
        }
    }
    match best {
        Some((_, found)) => RequestMatch::Found(found),
        None => RequestMatch::Closest(closest(&workflows, &words)),
    }
}

/// The words of a request, with sentence punctuation around them dropped.
fn words(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .map(|w| w.trim_end_matches([',', '!', '?', ';', ':']).trim_end_matches('.'))
        .map(|w| w.trim_matches(['"', '\'', '`']))
        .filter(|w| !w.is_empty())
        .collect()
}

fn match_example<'w>(
    workflow: &'w Workflow,
    tokens: &[ExampleToken],
    example: &'w str,
    words: &[&str],
) -> Option<Matched<'w>> {
    let mut params = RawParams::new();
    let mut problems = Vec::new();
    let mut at = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            ExampleToken::Word(word) => {
                if !words.get(at)?.eq_ignore_ascii_case(word) && words.get(at)?.to_lowercase() != *word {
                    return None;
                }
                at += 1;
            }
            ExampleToken::Capture(name) => {
                let spec = workflow.param(name)?;
                let last = i + 1 == tokens.len();
                let rest_of_line = last && matches!(spec.kind, ParamKind::Text { .. } | ParamKind::String { .. });
                let value = if rest_of_line { words.get(at..)?.join(" ") } else { (*words.get(at)?).to_owned() };
                if value.is_empty() {
                    return None;
                }
                at = if rest_of_line { words.len() } else { at + 1 };
                match typed(spec, &value) {
                    Ok(json) => params.insert(name.clone(), json),
                    Err(problem) => {
                        problems.push((name.clone(), problem));
                        params.insert(name.clone(), serde_json::Value::String(value))
                    }
                };
            }
        }
    }
    (at == words.len()).then_some(Matched { workflow, example, params, problems })
}

/// A captured word in its parameter's type, or why it does not fit.
fn typed(spec: &ParamSpec, word: &str) -> Result<serde_json::Value, String> {
    let word = match &spec.kind {
        ParamKind::Choice { choices } => choices
            .iter()
            .find(|c| c.value.eq_ignore_ascii_case(word) || c.label.eq_ignore_ascii_case(word))
            .map_or(word, |c| c.value.as_str()),
        _ => word,
    };
    let value = coerce(spec, &serde_json::Value::String(word.to_owned()))?;
    check_value(spec, &value)?;
    Ok(match value {
        ParamValue::Bool(b) => serde_json::Value::Bool(b),
        ParamValue::Int(i) => serde_json::Value::from(i),
        ParamValue::Str(s) => serde_json::Value::String(s),
    })
}

/// Workflows that share words with the request (in their id, title or examples), or whose id
/// is a near miss of its first word; best first.
fn closest<'w>(workflows: &[&'w Workflow], words: &[&str]) -> Vec<&'w Workflow> {
    let asked: Vec<String> = words.iter().map(|w| w.to_lowercase()).filter(|w| w.len() > 2).collect();
    let mut scored: Vec<(usize, &'w Workflow)> = workflows
        .iter()
        .map(|w| {
            let mut vocabulary: Vec<String> = w.id.as_str().split(['-', '_']).map(str::to_lowercase).collect();
            vocabulary.extend(w.title.split_whitespace().map(str::to_lowercase));
            for example in &w.examples {
                for token in example.tokens() {
                    if let ExampleToken::Word(word) = token {
                        vocabulary.push(word.clone());
                    }
                }
            }
            let shared = asked.iter().filter(|a| vocabulary.iter().any(|v| v == *a)).count();
            let near = asked.first().is_some_and(|first| {
                vocabulary.iter().any(|v| v.len() > 3 && edit_distance(first, v) <= 2 && first != v)
            });
            (shared * 2 + usize::from(near), *w)
        })
        .filter(|(score, _)| *score > 0)
        .collect();
    scored.sort_by_key(|(score, w)| (Reverse(*score), w.id.clone()));
    scored.into_iter().take(MAX_SUGGESTIONS).map(|(_, w)| w).collect()
}
