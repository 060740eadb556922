//! What the matcher knows of a workflow before any words arrive: the words that name it (its
//! id, title, examples, category and description, by stem), the words that introduce each
//! parameter's value, and each choice's names as words. Worked out once per workflow, on the
//! first request read against it, and kept with it ([`MatcherCache`]): a request then costs
//! only the reading of its own words, however large the catalog.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use super::words::{self, is_filler};
use crate::catalog::example::ExampleToken;
use crate::catalog::param::{ParamKind, ParamSpec};
use crate::catalog::workflow::Workflow;
use crate::text::edit_distance;

/// What the matcher worked out about a workflow, kept with it for every later request. Empty
/// until the first request is read against the workflow; a clone starts empty again, so a copy
/// changed afterwards is worked out afresh. A workflow is not changed once it has been read.
#[derive(Default)]
pub struct MatcherCache(OnceLock<Prepared>);

impl Clone for MatcherCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for MatcherCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "MatcherCache(prepared)" } else { "MatcherCache(empty)" })
    }
}

impl MatcherCache {
    /// What the matcher knows of `workflow` (whose cache this is), worked out on first use.
    pub(super) fn of(workflow: &Workflow) -> &Prepared {
        let prepared = workflow.matcher.0.get_or_init(|| Prepared::of(workflow));
        debug_assert!(
            prepared.cues.len() == workflow.params.len() && prepared.examples.len() == workflow.examples.len(),
            "workflow `{}` was changed after it was read; clone it before changing it",
            workflow.id
        );
        prepared
    }
}

/// One workflow, ready for words.
#[derive(Debug)]
pub(super) struct Prepared {
    pub(super) vocabulary: Vocabulary,
    /// Per parameter, in order: the words that introduce its value.
    pub(super) cues: Vec<Cues>,
    /// Per parameter, in order: for a choice, each choice's names; empty for other kinds.
    pub(super) choices: Vec<Vec<ChoiceNames>>,
    /// Per example, in order: its tokens as the reading compares them.
    pub(super) examples: Vec<Vec<ExampleWord>>,
}

/// A token of an example, ready to compare with a request's words.
#[derive(Debug)]
pub(super) enum ExampleWord {
    /// A filler word: counts for nothing.
    Filler,
    /// Another word, by stem.
    Stem(String),
    /// A capture of the named parameter.
    Capture(String),
}

/// One choice of a parameter, as words to look for.
#[derive(Debug)]
pub(super) struct ChoiceNames {
    /// The value it stands for.
    pub(super) value: String,
    /// Its value, label and aliases, each as lowercase words (none empty).
    pub(super) names: Vec<Vec<String>>,
}

impl Prepared {
    fn of(workflow: &Workflow) -> Self {
        let vocabulary = Vocabulary::of(workflow);
        let cues = workflow.params.iter().map(|spec| cues(workflow, spec, &vocabulary)).collect();
        let choices = workflow.params.iter().map(choice_names).collect();
        let examples = workflow
            .examples
            .iter()
            .map(|example| {
                let token = |token: &ExampleToken| match token {
                    ExampleToken::Word(word) if is_filler(word) => ExampleWord::Filler,
                    ExampleToken::Word(word) => ExampleWord::Stem(words::stem(word)),
                    ExampleToken::Capture(name) => ExampleWord::Capture(name.clone()),
                };
                example.tokens().iter().map(token).collect()
            })
            .collect();
        Self { vocabulary, cues, choices, examples }
    }
}

/// A choice parameter's choices as words.
fn choice_names(spec: &ParamSpec) -> Vec<ChoiceNames> {
    let ParamKind::Choice { choices } = &spec.kind else { return Vec::new() };
    let words_of = |name: &String| -> Vec<String> { words::words(name).into_iter().map(|w| w.lower).collect() };
    choices
        .iter()
        .map(|choice| ChoiceNames {
            value: choice.value.clone(),
            names: std::iter::once(&choice.value)
                .chain([&choice.label])
                .chain(&choice.aliases)
                .map(words_of)
                .filter(|name| !name.is_empty())
                .collect(),
        })
        .collect()
}

/// The words that introduce a parameter's value.
#[derive(Debug, Default)]
pub(super) struct Cues {
    /// Stems of its name's and label's words (`version`, `subnet`, `bit`).
    pub(super) named: BTreeSet<String>,
    /// Words written right before it in an example (`to` in `… to {environment}`).
    pub(super) before: BTreeSet<String>,
    /// It is the last capture of an example, so a string may take the rest of the words.
    pub(super) last: bool,
}

/// The words that name a workflow, by stem.
#[derive(Debug, Default)]
pub(super) struct Vocabulary {
    /// Its id's, title's and examples' words.
    pub(super) naming: BTreeSet<String>,
    /// The same in lowercase, for near misses.
    naming_words: Vec<String>,
    pub(super) category: BTreeSet<String>,
    pub(super) description: BTreeSet<String>,
}

impl Vocabulary {
    fn of(workflow: &Workflow) -> Self {
        let mut me = Vocabulary::default();
        let mut naming_text = workflow.id.as_str().replace(['-', '_'], " ");
        naming_text.push(' ');
        naming_text.push_str(&workflow.title);
        for example in &workflow.examples {
            for token in example.tokens() {
                if let ExampleToken::Word(word) = token {
                    naming_text.push(' ');
                    naming_text.push_str(word);
                }
            }
        }
        for word in words::words(&naming_text).into_iter().filter(|w| !is_filler(&w.lower)) {
            if me.naming.insert(word.stem) {
                me.naming_words.push(word.lower);
            }
        }
        for word in words::words(&workflow.category).into_iter().filter(|w| !is_filler(&w.lower)) {
            if !me.naming.contains(&word.stem) {
                me.category.insert(word.stem);
            }
        }
        for word in words::words(&workflow.description).into_iter().filter(|w| !is_filler(&w.lower)) {
            if !me.naming.contains(&word.stem) && !me.category.contains(&word.stem) {
                me.description.insert(word.stem);
            }
        }
        me
    }

    /// Whether `lower` is a likely typo of a naming word (one edit in five letters or more,
    /// two in eight or more). Only words of letters: `region7` is not a typo of `region1`.
    pub(super) fn near_miss(&self, lower: &str) -> bool {
        let length = lower.chars().count();
        if !(5..=32).contains(&length) || !lower.chars().all(char::is_alphabetic) {
            return false;
        }
        let allowed = if length >= 8 { 2 } else { 1 };
        self.naming_words
            .iter()
            .any(|n| n.chars().count() >= 5 && n.chars().all(char::is_alphabetic) && edit_distance(lower, n) <= allowed)
    }

    pub(super) fn names(&self, stem: &str) -> bool {
        self.naming.contains(stem) || self.category.contains(stem)
    }
}

/// The words that introduce `spec`'s value.
fn cues(workflow: &Workflow, spec: &ParamSpec, vocabulary: &Vocabulary) -> Cues {
    let mut cues = Cues::default();
    let own = format!("{} {}", spec.name.replace(['_', '-'], " "), spec.label);
    for word in words::words(&own) {
        // A yes-or-no parameter's cue is its value, so it must not be a word that names the
        // workflow (a `restart_all` flag would otherwise be set by every "restart").
        let naming = matches!(spec.kind, ParamKind::Boolean) && vocabulary.names(&word.stem);
        if !is_filler(&word.lower) && !naming {
            cues.named.insert(word.stem);
        }
    }
    if matches!(spec.kind, ParamKind::Text { .. }) {
        cues.named.insert(words::stem("because"));
    }
    for example in &workflow.examples {
        let tokens = example.tokens();
        for (i, token) in tokens.iter().enumerate() {
            if !matches!(token, ExampleToken::Capture(name) if *name == spec.name) {
                continue;
            }
            if let Some(ExampleToken::Word(before)) = i.checked_sub(1).and_then(|b| tokens.get(b)) {
                cues.before.insert(before.clone());
            }
            cues.last |= i + 1 == tokens.len();
        }
    }
    cues
}
