//! Reading a request typed in words (`please deploy api 1.4.2 to production`) as a workflow
//! and its parameters. Every surface uses this one matcher — Slack, Teams, the CLI (through
//! the API) and AI agents (MCP's `request` with `text`) — so the same words mean the same thing
//! everywhere.
//!
//! Words may come in any order and any case. Each workflow reads the words on its own
//! ([`reading`]): its id, title, examples and category name it; a choice is recognised by its
//! value, label or aliases, a string by its pattern (`v1.4.2` also as `1.4.2` when the pattern
//! wants digits), a whole number by being one, a yes-or-no by its name (`without checkpoint`),
//! text after the word that introduces it (`because …`, `reason: …`, or the example's word
//! before it); a word next to a value's cue (`version 1.4.2`, `to prod`) helps place it; filler
//! words ("please", "can you", "the") count for nothing; any other word counts against the
//! reading. The best reading wins only when it is clearly best — it names the workflow (or its
//! values fit no other), leads the next by a margin, leaves at most two words unexplained, uses
//! every value it recognised, and leaves no word that another plausible workflow would explain —
//! otherwise the answer is the best two or three candidates, each with what it understood.
//! Nothing here guesses silently: a value that does not fit its parameter is kept and named.

mod prepared;
mod reading;
mod words;

pub use prepared::MatcherCache;

use crate::catalog::param::RawParams;
use crate::catalog::workflow::Workflow;
use reading::Reading;

/// How far the best reading must lead the next.
const MARGIN: i32 = 4;
/// How far it must lead when no word names the workflow (values alone: `api 1.4.2 to prod`).
const VALUES_ALONE: i32 = 10;
/// Words the best reading may leave unexplained (`asap`, `tonight`).
const MAX_UNKNOWN: usize = 2;
/// Candidates offered when unsure.
const MAX_CANDIDATES: usize = 3;
/// Candidates within this of the best are offered.
const CANDIDATE_WINDOW: i32 = 10;

/// A workflow with what the words said about its parameters.
#[derive(Clone, Debug)]
pub struct Matched<'w> {
    /// The workflow.
    pub workflow: &'w Workflow,
    /// The example the words follow most closely (none when the workflow has no examples).
    pub example: Option<&'w str>,
    /// Values understood, in their declared types where they fit, as typed where they do not.
    pub params: RawParams,
    /// Values that do not fit their parameter, with the reason.
    pub problems: Vec<(String, String)>,
    /// Words that were not understood, as typed.
    pub not_understood: Vec<String>,
}

/// What the words ask for.
#[derive(Clone, Debug)]
pub enum RequestMatch<'w> {
    /// Clearly this workflow: open its form (or ticket) with these values.
    Found(Matched<'w>),
    /// Not sure: the best candidates, best first, each with what was understood so far; empty
    /// when nothing in the words fits any workflow.
    Unsure(Vec<Matched<'w>>),
}

/// Reads `text` against `workflows` (pass only those the person may request).
pub fn match_request<'w>(workflows: impl IntoIterator<Item = &'w Workflow>, text: &str) -> RequestMatch<'w> {
    let words = words::words(text);
    if words.is_empty() {
        return RequestMatch::Unsure(Vec::new());
    }
    let mut readings: Vec<Reading<'w>> =
        workflows.into_iter().map(|w| reading::read(w, text, &words)).filter(|r| r.evidence).collect();
    readings.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.workflow.id.cmp(&b.workflow.id)));
    let Some(best) = readings.first() else { return RequestMatch::Unsure(Vec::new()) };
    let runner_up = readings.get(1).map_or(0, |r| r.score.max(0));
    let margin = best.score.saturating_sub(runner_up);
    // A word the best reading cannot place but that names another workflow, or is a value of
    // a rival with a case of its own ("… and restart orders"), means the words may ask for
    // something else too: that rival is a candidate whatever its score.
    let rivals: Vec<bool> = readings
        .iter()
        .enumerate()
        .map(|(k, r)| {
            k > 0 && best.unknown.iter().any(|i| r.naming.contains(i) || (r.score > 0 && r.claimed.contains(i)))
        })
        .collect();
    let sure = margin >= MARGIN
        && (best.named || margin >= VALUES_ALONE)
        && best.unknown.len() <= MAX_UNKNOWN
        && best.unused.is_empty()
        && !rivals.contains(&true);
    let floor = best.score.saturating_sub(CANDIDATE_WINDOW);
    let mut matched =
        readings.into_iter().zip(rivals).map(|(r, rival)| (r.score >= floor || rival, matched(r, &words)));
    if sure {
        return matched.next().map_or(RequestMatch::Unsure(Vec::new()), |(_, m)| RequestMatch::Found(m));
    }
    RequestMatch::Unsure(matched.filter(|(offered, _)| *offered).take(MAX_CANDIDATES).map(|(_, m)| m).collect())
}

fn matched<'w>(reading: Reading<'w>, words: &[words::Word]) -> Matched<'w> {
    Matched {
        workflow: reading.workflow,
        example: reading.example,
        params: reading.params,
        problems: reading.problems,
        not_understood: reading.not_understood.iter().map(|&i| words[i].raw.clone()).collect(),
    }
}
