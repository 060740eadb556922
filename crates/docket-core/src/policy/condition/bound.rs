//! How big and how deep a condition may be, checked on the text before CEL's parser sees it: the
//! parser, the tree it builds and the evaluator all recurse, one stack frame (or several) per
//! level, so a condition nested thousands of levels deep would overflow a thread's stack (and
//! abort the process) when parsed or evaluated.
//!
//! The depth counted is an upper bound on the depth of the tree CEL builds. Within one bracket
//! group, a run of operators joined without `&&`, `||`, `,`, `:` or `?` (a *segment*) can nest
//! at most one level per operator, plus the deepest group inside it: `1 + 1 + … + 1` with N
//! operators is a tree N deep. A call or an index counts as an operator, and every bracket group
//! as one level. `&&` and `||` chains are built as balanced trees by CEL, so they add the
//! logarithm of their length; each `?` adds one.

use super::lex::{Token, tokens};

/// The deepest condition accepted. At this depth, evaluation needs about 110 KiB of stack and
/// parsing about 550 KiB (measured on the deepest shapes: operator chains, nested lists and
/// calls, nested `all`/`map` macros). Conditions are compiled while loading, on the main thread
/// (8 MiB) or a test thread (2 MiB), and evaluated on the server's worker threads (2 MiB); the
/// condition tests evaluate one at this limit on a 256 KiB stack. (Debug builds compile `cel` and
/// its parser optimized, see the workspace's Cargo.toml: unoptimized, they need some twenty
/// times as much.)
pub(super) const MAX_DEPTH: usize = 64;

/// The longest condition accepted, in bytes. Policies are a few lines; anything longer than
/// this is not a condition a person reviews.
pub(super) const MAX_BYTES: usize = 8 * 1024;

/// Groups nested deeper than this are counted without being remembered one by one: by then the
/// condition is far past [`MAX_DEPTH`], and memory stays small whatever the text.
const MAX_FRAMES: usize = 4096;

/// Why a condition is refused before parsing, and the byte offset to point at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum TooBig {
    /// It nests `depth` levels deep; `at` is where it first goes past the limit.
    Deep { depth: usize, at: usize },
    /// It is `bytes` long.
    Long { bytes: usize },
}

/// Checks `source` against [`MAX_DEPTH`] and [`MAX_BYTES`] in one pass over the text.
pub(super) fn check(source: &str) -> Result<(), TooBig> {
    let (depth, at) = depth(source);
    if depth > MAX_DEPTH {
        return Err(TooBig::Deep { depth, at });
    }
    if source.len() > MAX_BYTES {
        return Err(TooBig::Long { bytes: source.len() });
    }
    Ok(())
}

/// One bracket group being read (the outermost is the whole condition).
#[derive(Clone, Copy, Debug, Default)]
struct Frame {
    /// 1 for a bracket group, 0 for the whole condition.
    base: usize,
    /// Operators in the current segment.
    chain: usize,
    /// The deepest group closed in the current segment.
    child: usize,
    /// The deepest segment before the current one.
    best: usize,
    ands: usize,
    ors: usize,
    questions: usize,
}

impl Frame {
    fn cost(&self) -> usize {
        self.cost_with_child(self.child)
    }

    /// The cost if the current segment held a group `child` deep.
    fn cost_with_child(&self, child: usize) -> usize {
        let segment = self.chain.saturating_add(child.max(self.child));
        self.base
            .saturating_add(balanced_depth(self.ands))
            .saturating_add(balanced_depth(self.ors))
            .saturating_add(self.questions)
            .saturating_add(self.best.max(segment))
    }

    fn end_segment(&mut self) {
        self.best = self.best.max(self.chain.saturating_add(self.child));
        self.chain = 0;
        self.child = 0;
    }
}

/// How deep a balanced tree joining `operators + 1` terms is.
fn balanced_depth(operators: usize) -> usize {
    let bits = usize::BITS - operators.leading_zeros();
    usize::try_from(bits).unwrap_or(usize::MAX)
}

/// The depth bound of `source`, and the byte offset of the token where it first passes
/// [`MAX_DEPTH`] (0 if it never does).
fn depth(source: &str) -> (usize, usize) {
    let mut stack = vec![Frame::default()];
    // Groups opened past MAX_FRAMES: how many are open, and the most that were.
    let (mut hidden, mut hidden_peak) = (0usize, 0usize);
    let mut after_operand = false;
    let mut first_over: Option<usize> = None;
    tokens(source, |offset, token| {
        let n = stack.len();
        let Some(top) = stack.last_mut() else { return };
        if hidden > 0 {
            match token {
                Token::Open => {
                    hidden += 1;
                    hidden_peak = hidden_peak.max(hidden);
                }
                Token::Close => {
                    hidden -= 1;
                    if hidden == 0 {
                        top.child = top.child.max(hidden_peak);
                    }
                }
                _ => {}
            }
            return;
        }
        match token {
            Token::Operand => {}
            Token::Operator => top.chain = top.chain.saturating_add(1),
            Token::And => {
                top.ands = top.ands.saturating_add(1);
                top.end_segment();
            }
            Token::Or => {
                top.ors = top.ors.saturating_add(1);
                top.end_segment();
            }
            Token::Question => {
                top.questions = top.questions.saturating_add(1);
                top.end_segment();
            }
            Token::Separator => top.end_segment(),
            Token::Open => {
                // After an operand, a bracket is a call, an index or a message: one more node.
                if after_operand {
                    top.chain = top.chain.saturating_add(1);
                }
                if n >= MAX_FRAMES {
                    (hidden, hidden_peak) = (1, 1);
                } else {
                    stack.push(Frame { base: 1, ..Frame::default() });
                }
            }
            Token::Close => {
                // A closing bracket without an opening one is the parser's to report.
                if n > 1 {
                    close(&mut stack);
                }
            }
        }
        after_operand = matches!(token, Token::Operand | Token::Close);
        // The depth so far only grows, so the first token past the limit is where to point.
        if first_over.is_none() && path_cost(&stack) > MAX_DEPTH {
            first_over = Some(offset);
        }
    });
    if hidden > 0
        && let Some(top) = stack.last_mut()
    {
        top.child = top.child.max(hidden_peak);
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    (stack.first().map_or(0, Frame::cost), first_over.unwrap_or(0))
}

/// Closes the innermost group into the one around it.
fn close(stack: &mut Vec<Frame>) {
    if let Some(inner) = stack.pop()
        && let Some(outer) = stack.last_mut()
    {
        outer.child = outer.child.max(inner.cost());
    }
}

/// The depth the condition has so far, with the groups still open closed now. Only called while
/// it is within the limit, so the stack is at most [`MAX_DEPTH`] + 1 frames.
fn path_cost(stack: &[Frame]) -> usize {
    stack.iter().rev().fold(0, |inner, frame| frame.cost_with_child(inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(source: &str) -> usize {
        depth(source).0
    }

    #[test]
    fn operator_chains_count_one_level_per_operator() {
        assert_eq!(deep("1"), 0);
        assert_eq!(deep("1 + 2 * 3 > 0"), 3);
        let chain = |n: usize| format!("{} > 0", vec!["1"; n].join(" + "));
        assert_eq!(deep(&chain(3_000)), 3_000);
        let (depth, at) = depth(&chain(100));
        assert_eq!(depth, 100);
        assert_eq!(at, chain(100).match_indices('+').nth(MAX_DEPTH).map(|(i, _)| i).unwrap(), "the 65th operator");
    }

    #[test]
    fn brackets_calls_and_choices_add_levels() {
        assert_eq!(deep("((1))"), 2);
        assert_eq!(deep("f(x)"), 2, "the call and its argument group");
        assert_eq!(deep("[1, 2 + 3]"), 2);
        assert_eq!(deep("a ? b : c ? d : e"), 2);
        assert_eq!(deep("(1 + 2) + 3"), 3, "the `+` outside, the group, the `+` inside");
        assert_eq!(deep(&format!("{}1{}", "(".repeat(200), ")".repeat(200))), 200);
        assert_eq!(deep(&format!("{}1", "(".repeat(200))), 200, "unclosed groups count too");
        assert_eq!(deep("))) 1 + 1"), 1, "stray closing brackets are the parser's to report");
    }

    #[test]
    fn and_or_chains_are_balanced() {
        let clauses = |n: usize, op: &str| vec!["params.x == 1"; n].join(op);
        assert_eq!(deep(&clauses(2, " && ")), 1 + 2);
        assert_eq!(deep(&clauses(1_000, " && ")), 10 + 2);
        assert_eq!(deep(&clauses(1_000, " || ")), 10 + 2);
        let realistic = r#"params.environment == "prod" && requester.groups.exists(g, g == "sre") && now.weekday in ["Sat", "Sun"]"#;
        assert_eq!(deep(realistic), 2 + 5);
    }

    #[test]
    fn what_strings_and_comments_hold_does_not_count() {
        assert_eq!(deep(r#"params.x == "((((((" // ((((("#), 2);
    }

    #[test]
    fn groups_past_the_frame_cap_are_still_counted() {
        let n = MAX_FRAMES + 100;
        assert_eq!(deep(&format!("{}1{}", "(".repeat(n), ")".repeat(n))), n);
        assert_eq!(deep(&format!("{}1", "[".repeat(n))), n);
    }

    #[test]
    fn size_and_depth_are_checked_together() {
        assert_eq!(check("1 + 1"), Ok(()));
        let long = format!("params.x in [{}]", vec!["1"; MAX_BYTES].join(","));
        assert_eq!(check(&long), Err(TooBig::Long { bytes: long.len() }));
        let chain = format!("{} > 0", vec!["1"; 3_000].join(" + "));
        assert!(matches!(check(&chain), Err(TooBig::Deep { depth: 3_000, .. })), "depth is the better reason");
    }
}
