//! The words of a request: split where people put spaces, sentence punctuation dropped, each
//! with its place in the text (so a value of several words is taken as it was typed), its
//! lowercase form and a light stem (`restarted`, `restarting` and `restart` read alike).

/// At most this many words are read; a longer request is not a request typed in chat.
pub(super) const MAX_WORDS: usize = 120;

/// One word of the request.
#[derive(Clone, Debug)]
pub(super) struct Word {
    /// Where it sits in the text (bytes), without the punctuation around it.
    pub(super) start: usize,
    pub(super) end: usize,
    /// As typed.
    pub(super) raw: String,
    /// In lowercase.
    pub(super) lower: String,
    /// Its stem (see [`stem`]).
    pub(super) stem: String,
    /// It is a filler word ([`is_filler`]).
    pub(super) filler: bool,
    /// It negates what follows ([`is_negation`]).
    pub(super) negation: bool,
}

/// Words that carry no request by themselves: politeness, pronouns, articles, prepositions.
/// They never count against a reading, and the ones examples use (`to`, `in`, `for`) still
/// place the value after them.
const FILLERS: &[&str] = &[
    "a", "about", "again", "ahead", "all", "an", "and", "any", "are", "as", "asap", "at", "be", "by", "can", "could",
    "do", "docket", "done", "for", "from", "get", "give", "go", "have", "hello", "hey", "hi", "i", "i'd", "i'm", "in",
    "into", "is", "it", "just", "kindly", "let", "let's", "lets", "like", "me", "my", "need", "needs", "now", "of",
    "on", "onto", "our", "please", "pls", "plz", "quickly", "right", "run", "should", "so", "some", "thank", "thanks",
    "that", "the", "then", "there", "this", "thx", "to", "u", "up", "us", "wanna", "want", "we", "will", "with",
    "would", "you", "your",
];

/// Words that turn a yes-or-no parameter named after them into a no.
const NEGATIONS: &[&str] = &["no", "not", "without", "don't", "dont", "never", "skip", "skipping"];

/// Whether `lower` is a filler word.
pub(super) fn is_filler(lower: &str) -> bool {
    FILLERS.binary_search(&lower).is_ok()
}

/// Whether `lower` negates what follows.
pub(super) fn is_negation(lower: &str) -> bool {
    NEGATIONS.contains(&lower)
}

/// The words of `text`, at most [`MAX_WORDS`].
pub(super) fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                start = None;
                if let Some(word) = word(text, s, i) {
                    out.push(word);
                    if out.len() == MAX_WORDS {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The word between `start` and `end`, its punctuation dropped; `None` when nothing is left.
fn word(text: &str, start: usize, end: usize) -> Option<Word> {
    let piece = text.get(start..end)?;
    let leading = ['"', '\'', '`', '(', '[', '{', '<', '“', '‘', '«'];
    let trailing = ['"', '\'', '`', ')', ']', '}', '>', ',', '.', '!', '?', ';', ':', '”', '’', '»', '…'];
    let trimmed_start = piece.trim_start_matches(leading);
    let trimmed = trimmed_start.trim_end_matches(trailing);
    if trimmed.is_empty() {
        return None;
    }
    let start = start + (piece.len() - trimmed_start.len());
    let lower = trimmed.to_lowercase();
    let (filler, negation) = (is_filler(&lower), is_negation(&lower));
    Some(Word {
        start,
        end: start + trimmed.len(),
        raw: trimmed.to_owned(),
        stem: stem(&lower),
        lower,
        filler,
        negation,
    })
}

/// A light English stem of a lowercase word: a plural, `-ed` or `-ing` ending and a final `e`
/// are dropped, and a doubled last consonant made single (`shipped` → `ship`). Only the
/// catalog's own words are compared by stem, so it needs to be consistent, not right.
pub(super) fn stem(lower: &str) -> String {
    if !lower.is_ascii() || lower.len() < 4 {
        return lower.to_owned();
    }
    let mut s = lower;
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(rest) = s.strip_suffix(suffix)
            && rest.len() >= 3
            && !(suffix == "s" && rest.ends_with('s'))
        {
            s = rest;
            break;
        }
    }
    let mut s = s.to_owned();
    if s.len() > 3 && s.ends_with('e') {
        s.pop();
    }
    let bytes = s.as_bytes();
    if let [.., a, b] = bytes
        && a == b
        && !b"aeiou".contains(b)
        && s.len() > 3
    {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fillers_are_sorted_for_the_binary_search() {
        assert!(FILLERS.windows(2).all(|w| w[0] < w[1]), "FILLERS must stay sorted");
    }

    #[test]
    fn words_keep_their_place_and_drop_punctuation() {
        let text = "Deploy “api”, v1.4.2 to prod.";
        let read = words(text);
        let raw: Vec<&str> = read.iter().map(|w| w.raw.as_str()).collect();
        assert_eq!(raw, ["Deploy", "api", "v1.4.2", "to", "prod"]);
        assert_eq!(&text[read[2].start..read[2].end], "v1.4.2");
        assert_eq!(read[0].lower, "deploy");
        assert!(words(" , . ").is_empty());
        assert_eq!(words(&"a ".repeat(500)).len(), MAX_WORDS);
    }

    #[test]
    fn stems_read_forms_of_a_word_alike() {
        for (a, b) in [
            ("restart", "restarted"),
            ("restart", "restarting"),
            ("pipeline", "pipelines"),
            ("resize", "resizing"),
            ("ship", "shipped"),
            ("deploy", "deployed"),
            ("process", "processes"),
            ("worker", "workers"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} / {b}");
        }
        assert_ne!(stem("deploy"), stem("report"));
        assert_eq!(stem("über"), "über");
    }
}
