//! One workflow's reading of a request: which words name the workflow (its id, title, examples,
//! category and description), which are parameter values (found by the parameter's type wherever
//! they stand, helped by the words around them), which are filler, and which it cannot place.
//! The reading with the best score is the workflow the words most likely ask for.

use std::collections::BTreeSet;

use serde_json::Value;

use super::prepared::{Cues, ExampleWord, MatcherCache, Prepared};
use super::words::Word;
use crate::catalog::param::{ParamKind, ParamSpec, ParamValue, RawParams, check_value, coerce, find_choice};
use crate::catalog::workflow::Workflow;

/// A word of the workflow's id, title or examples.
const NAMING: i32 = 5;
/// The workflow's id written whole (`deploy-service`).
const WHOLE_ID: i32 = 8;
/// A word of its category.
const CATEGORY: i32 = 3;
/// A near miss of a naming word (`deplyo`).
const NEAR_MISS: i32 = 3;
/// A word of its description.
const DESCRIPTION: i32 = 1;
/// A choice named by value, label or alias; a value that fits the parameter's pattern.
const DISTINCT_VALUE: i32 = 4;
/// A whole number in range, a yes-or-no named by its parameter, a value after its cue.
const PLAIN_VALUE: i32 = 2;
/// Text or a string after the word that introduces it.
const CUED_TEXT: i32 = 3;
/// `name=value`.
const NAMED_VALUE: i32 = 6;
/// The value sits next to a word that introduces it (`version 1.4.2`, `to prod`, `5 workers`).
const CUE_BONUS: i32 = 2;
/// A word nothing in the workflow explains.
const UNKNOWN: i32 = 3;
/// A word that could be a value of the workflow but was not used (a second environment).
const UNUSED_VALUE: i32 = 2;
/// Spans of one parameter the search considers, best first.
const MAX_SPANS: usize = 32;
/// Assignments the search tries before it settles for the best found.
const SEARCH_BUDGET: usize = 20_000;
/// Words a pattern-checked value may span.
const MAX_SPAN_WORDS: usize = 8;

/// What one workflow makes of the words.
#[derive(Debug)]
pub(super) struct Reading<'w> {
    pub(super) workflow: &'w Workflow,
    pub(super) score: i32,
    /// Some word names the workflow (its id, title, examples or category, or a near miss).
    pub(super) named: bool,
    /// It named the workflow or found at least one value that fits.
    pub(super) evidence: bool,
    pub(super) params: RawParams,
    pub(super) problems: Vec<(String, String)>,
    /// Words it cannot place (including one it put in a parameter where it does not fit).
    pub(super) unknown: Vec<usize>,
    /// Of those, the ones not shown as any parameter's value.
    pub(super) not_understood: Vec<usize>,
    /// Words that would fit a parameter but were not used: a second value for one parameter.
    pub(super) unused: Vec<usize>,
    /// Words that are evidence for this workflow: naming words and values that fit.
    pub(super) claimed: BTreeSet<usize>,
    /// Of those, the words that name it.
    pub(super) naming: BTreeSet<usize>,
    pub(super) example: Option<&'w str>,
}

/// A possible value: words `start..end` as parameter `param`.
#[derive(Clone, Debug)]
struct Span {
    param: usize,
    start: usize,
    end: usize,
    value: Value,
    problem: Option<String>,
    score: i32,
}

/// Reads `words` (of `text`) as a request for `workflow`.
pub(super) fn read<'w>(workflow: &'w Workflow, text: &str, words: &[Word]) -> Reading<'w> {
    let prepared = MatcherCache::of(workflow);
    let (vocabulary, cues) = (&prepared.vocabulary, &prepared.cues[..]);
    let spans = spans(workflow, text, words, prepared);

    // How each word counts when no value covers it.
    let mut score = 0;
    let mut named = false;
    let mut naming = BTreeSet::new();
    let mut seen_stems = BTreeSet::new();
    let mut penalty = vec![0; words.len()];
    let fitting: BTreeSet<usize> = spans.iter().filter(|s| s.problem.is_none()).flat_map(|s| s.start..s.end).collect();
    for (i, word) in words.iter().enumerate() {
        let cue = cues.iter().any(|c| c.named.contains(&word.stem) || c.before.contains(&word.lower));
        if word.lower == workflow.id.as_str() {
            score += WHOLE_ID;
            named = true;
            naming.insert(i);
        } else if vocabulary.naming.contains(&word.stem) {
            if seen_stems.insert(word.stem.clone()) {
                score += NAMING;
            }
            named = true;
            naming.insert(i);
        } else if vocabulary.category.contains(&word.stem) {
            if seen_stems.insert(word.stem.clone()) {
                score += CATEGORY;
            }
            named = true;
            naming.insert(i);
        } else if vocabulary.description.contains(&word.stem) {
            if seen_stems.insert(word.stem.clone()) {
                score += DESCRIPTION;
            }
        } else if word.filler || word.negation || cue {
        } else if fitting.contains(&i) {
            penalty[i] = UNUSED_VALUE;
        } else if vocabulary.near_miss(&word.lower) {
            if seen_stems.insert(word.stem.clone()) {
                score += NEAR_MISS;
            }
            named = true;
            naming.insert(i);
        } else {
            penalty[i] = UNKNOWN;
        }
    }

    let mut claimed = naming.clone();
    let chosen = search(workflow.params.len(), &spans, &penalty);
    let mut covered = vec![false; words.len()];
    let mut params = RawParams::new();
    let mut problems = Vec::new();
    for span in chosen.iter().flatten().map(|&k| &spans[k]) {
        score += span.score;
        covered[span.start..span.end].iter_mut().for_each(|c| *c = true);
        let name = workflow.params[span.param].name.clone();
        match &span.problem {
            None => claimed.extend(span.start..span.end),
            Some(problem) => problems.push((name.clone(), problem.clone())),
        }
        params.insert(name, span.value.clone());
    }
    let uncovered = |weight: i32| -> Vec<usize> {
        (0..words.len()).filter(|&i| !covered[i] && penalty[i] == weight).collect::<Vec<_>>()
    };
    let unknown = uncovered(UNKNOWN);
    let unused = uncovered(UNUSED_VALUE);
    score -= UNKNOWN * i32::try_from(unknown.len()).unwrap_or(i32::MAX / 8);
    score -= UNUSED_VALUE * i32::try_from(unused.len()).unwrap_or(i32::MAX / 8);

    let mut reading = Reading {
        workflow,
        score,
        named,
        evidence: named || !claimed.is_empty(),
        params,
        problems,
        not_understood: unknown.clone(),
        unknown,
        unused,
        claimed,
        naming,
        example: None,
    };
    place_leftover(&mut reading, words, cues);
    reading.example = best_example(workflow, prepared, words, &reading.params);
    reading
}

/// Every place a parameter's value could be.
fn spans(workflow: &Workflow, text: &str, words: &[Word], prepared: &Prepared) -> Vec<Span> {
    let vocabulary = &prepared.vocabulary;
    let mut out = Vec::new();
    for (p, spec) in workflow.params.iter().enumerate() {
        let cue = &prepared.cues[p];
        let introduced = |i: usize| cue.named.contains(&words[i].stem) || cue.before.contains(&words[i].lower);
        let bonus = |start: usize, end: usize| {
            let before = start.checked_sub(1).is_some_and(introduced);
            let after = words.get(end).is_some_and(|w| cue.named.contains(&w.stem));
            if before || after { CUE_BONUS } else { 0 }
        };
        let mut mine = Vec::new();
        let add = |start: usize, end: usize, written: &str, base: i32, mine: &mut Vec<Span>| {
            let (value, problem) = match typed(spec, written) {
                Ok(value) => (value, None),
                Err(problem) => (Value::String(written.to_owned()), Some(problem)),
            };
            let score = if problem.is_some() { 1 } else { base + bonus(start, end) };
            mine.push(Span { param: p, start, end, value, problem, score });
        };
        for (i, word) in words.iter().enumerate() {
            if let Some((name, value)) = word.raw.split_once('=')
                && name.eq_ignore_ascii_case(&spec.name)
                && !value.is_empty()
            {
                add(i, i + 1, value, NAMED_VALUE, &mut mine);
            }
        }
        match &spec.kind {
            ParamKind::Choice { .. } => {
                for choice in &prepared.choices[p] {
                    let mut placed = BTreeSet::new();
                    for name in &choice.names {
                        for start in 0..words.len().saturating_sub(name.len() - 1) {
                            let end = start + name.len();
                            if words[start..end].iter().zip(name).all(|(w, n)| w.lower == *n)
                                && placed.insert((start, end))
                            {
                                let extra = i32::try_from(name.len() - 1).unwrap_or(0);
                                add(start, end, &choice.value, DISTINCT_VALUE + extra, &mut mine);
                            }
                        }
                    }
                }
            }
            ParamKind::String { pattern, .. } => {
                if pattern.is_some() {
                    for (i, word) in words.iter().enumerate() {
                        if fits(spec, &word.raw) {
                            add(i, i + 1, &word.raw, DISTINCT_VALUE, &mut mine);
                        } else if let Some(bare) = version_number(&word.raw)
                            && fits(spec, bare)
                        {
                            add(i, i + 1, bare, DISTINCT_VALUE, &mut mine);
                        }
                    }
                }
                for c in (0..words.len()).filter(|&c| introduced(c)) {
                    let Some(first) = (c + 1..words.len()).find(|&i| !words[i].filler) else { continue };
                    if pattern.is_none() && fits(spec, &words[first].raw) && !vocabulary.names(&words[first].stem) {
                        add(first, first + 1, &words[first].raw, CUED_TEXT, &mut mine);
                    }
                    // Several words where the pattern allows them, after a word that names the
                    // parameter or at the end of an example.
                    if pattern.is_some() || cue.named.contains(&words[c].stem) || cue.last {
                        for end in (first + 2..=words.len().min(first + MAX_SPAN_WORDS)).rev() {
                            let written = &text[words[first].start..words[end - 1].end];
                            if fits(spec, written) {
                                add(first, end, written, CUED_TEXT, &mut mine);
                            }
                        }
                    }
                }
            }
            ParamKind::Text { .. } => {
                for c in (0..words.len()).filter(|&c| introduced(c)) {
                    for end in (c + 2..=words.len()).rev() {
                        let written = &text[words[c + 1].start..words[end - 1].end];
                        if fits(spec, written) {
                            add(c + 1, end, written, CUED_TEXT, &mut mine);
                        }
                    }
                }
            }
            ParamKind::Integer { .. } => {
                for (i, word) in words.iter().enumerate() {
                    if word.raw.parse::<i64>().is_ok() {
                        add(i, i + 1, &word.raw, PLAIN_VALUE, &mut mine);
                    }
                }
            }
            ParamKind::Boolean => {
                let negated = words.iter().enumerate().any(|(i, w)| {
                    cue.named.contains(&w.stem) && words[i.saturating_sub(3)..i].iter().any(|n| n.negation)
                });
                for i in (0..words.len()).filter(|&i| cue.named.contains(&words[i].stem)) {
                    let start = (i.saturating_sub(3)..i).find(|&n| words[n].negation).unwrap_or(i);
                    add(start, i + 1, if negated { "false" } else { "true" }, PLAIN_VALUE, &mut mine);
                }
            }
        }
        mine.sort_by_key(|s| (std::cmp::Reverse(s.score), std::cmp::Reverse(s.end - s.start), s.start));
        mine.truncate(MAX_SPANS);
        out.extend(mine);
    }
    out
}

/// `v1.4.2` without its `v`, when a digit follows it.
fn version_number(word: &str) -> Option<&str> {
    let rest = word.strip_prefix(['v', 'V'])?;
    rest.starts_with(|c: char| c.is_ascii_digit()).then_some(rest)
}

/// The assignment of spans to parameters (at most one each, never two on one word) with the
/// best score, where a word no span covers costs its `penalty`.
fn search(params: usize, spans: &[Span], penalty: &[i32]) -> Vec<Option<usize>> {
    let by_param: Vec<Vec<usize>> =
        (0..params).map(|p| (0..spans.len()).filter(|&k| spans[k].param == p).collect()).collect();
    let mut state = Search {
        spans,
        penalty,
        by_param: &by_param,
        covered: vec![false; penalty.len()],
        chosen: vec![None; params],
        best: (i32::MIN, vec![None; params]),
        budget: SEARCH_BUDGET,
    };
    state.go(0, 0);
    state.best.1
}

struct Search<'a> {
    spans: &'a [Span],
    penalty: &'a [i32],
    by_param: &'a [Vec<usize>],
    covered: Vec<bool>,
    chosen: Vec<Option<usize>>,
    best: (i32, Vec<Option<usize>>),
    budget: usize,
}

impl Search<'_> {
    fn go(&mut self, param: usize, score: i32) {
        if self.budget == 0 {
            return;
        }
        if param == self.by_param.len() {
            self.budget -= 1;
            let left: i32 = (0..self.penalty.len()).filter(|&i| !self.covered[i]).map(|i| self.penalty[i]).sum();
            if score - left > self.best.0 {
                self.best = (score - left, self.chosen.clone());
            }
            return;
        }
        for &k in &self.by_param[param] {
            let span = &self.spans[k];
            if self.covered[span.start..span.end].iter().any(|c| *c) {
                continue;
            }
            self.covered[span.start..span.end].iter_mut().for_each(|c| *c = true);
            self.chosen[param] = Some(k);
            self.go(param + 1, score + span.score);
            self.chosen[param] = None;
            self.covered[span.start..span.end].iter_mut().for_each(|c| *c = false);
        }
        self.go(param + 1, score);
    }
}

/// One word nothing explains, and a parameter it was likely meant for (the one an example puts
/// after the word before it, else the only one still needed that has no default): it is shown
/// there, checked, so the person sees why it does not fit instead of losing it.
fn place_leftover(reading: &mut Reading<'_>, words: &[Word], cues: &[Cues]) {
    let [i] = reading.unknown[..] else { return };
    let workflow = reading.workflow;
    let open: Vec<usize> = (0..workflow.params.len())
        .filter(|&p| !reading.params.contains_key(&workflow.params[p].name))
        .filter(|&p| !matches!(workflow.params[p].kind, ParamKind::Boolean))
        .collect();
    let after =
        open.iter().copied().filter(|&p| i > 0 && cues[p].before.contains(&words[i - 1].lower)).collect::<Vec<_>>();
    let needed = open
        .iter()
        .copied()
        .filter(|&p| workflow.params[p].required && workflow.params[p].default.is_none())
        .collect::<Vec<_>>();
    let target = match (&after[..], &needed[..]) {
        ([p], _) | ([], [p]) => *p,
        _ => return,
    };
    let spec = &workflow.params[target];
    match typed(spec, &words[i].raw) {
        Ok(value) => {
            reading.params.insert(spec.name.clone(), value);
            reading.unknown.clear();
            reading.claimed.insert(i);
            reading.score += UNKNOWN;
        }
        Err(problem) => {
            reading.params.insert(spec.name.clone(), Value::String(words[i].raw.clone()));
            reading.problems.push((spec.name.clone(), problem));
        }
    }
    reading.not_understood.clear();
}

/// The example the reading follows most closely: its words present, its captures filled.
fn best_example<'w>(
    workflow: &'w Workflow,
    prepared: &Prepared,
    words: &[Word],
    params: &RawParams,
) -> Option<&'w str> {
    let mut best: Option<(i32, &str)> = None;
    for (example, tokens) in workflow.examples.iter().zip(&prepared.examples) {
        let mut score = 0;
        for token in tokens {
            score += match token {
                ExampleWord::Filler => 0,
                ExampleWord::Stem(stem) if words.iter().any(|w| w.stem == *stem) => 1,
                ExampleWord::Stem(_) => -1,
                ExampleWord::Capture(name) if params.contains_key(name) => 1,
                ExampleWord::Capture(_) => -1,
            };
        }
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, example.text()));
        }
    }
    best.map(|(_, text)| text)
}

/// Whether `written` fits `spec`: what `typed(spec, written).is_ok()` says, without building
/// the reason when it does not (most words tried against a pattern do not fit it).
fn fits(spec: &ParamSpec, written: &str) -> bool {
    match &spec.kind {
        ParamKind::String { pattern: Some(pattern), .. } if !pattern.is_match(written.trim()) => false,
        _ => typed(spec, written).is_ok(),
    }
}

/// A written value in its parameter's type, or why it does not fit.
pub(super) fn typed(spec: &ParamSpec, written: &str) -> Result<Value, String> {
    let written = match &spec.kind {
        ParamKind::Choice { choices } => find_choice(choices, written).map_or(written, |c| c.value.as_str()),
        _ => written,
    };
    let value = coerce(spec, &Value::String(written.to_owned()))?;
    check_value(spec, &value)?;
    Ok(match value {
        ParamValue::Bool(b) => Value::Bool(b),
        ParamValue::Int(i) => Value::from(i),
        ParamValue::Str(s) => Value::String(s),
    })
}
