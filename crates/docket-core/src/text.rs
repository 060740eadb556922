//! Small text helpers shared by messages: "did you mean" suggestions, and counts with their noun.

/// `n` and the noun for it: "1 record", "2 records", "0 records".
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Words longer than this are not treated as typos of a name (and are not compared, which keeps
/// the quadratic distance cheap whatever arrives).
const MAX_WORD_CHARS: usize = 64;

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
/// Swapping two neighbouring letters (`titel` for `title`) counts as one edit.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if word.chars().count() > MAX_WORD_CHARS {
        return None;
    }
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| c.chars().count() <= MAX_WORD_CHARS)
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// "did you mean `x`?" for the candidate [`closest`] to `word`, if there is one.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(|near| format!("did you mean `{near}`?"))
}

/// Edit distance between two short strings, case-insensitive: insertions, deletions,
/// substitutions and swaps of neighbouring characters each count as one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    // Rows for i-2, i-1 and i (optimal string alignment).
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(closest("enviroment", ["environment", "service"]), Some("environment"));
        assert_eq!(closest("colour", ["service", "version"]), None);
        assert_eq!(closest("titel", ["title", "steps"]), Some("title"));
        assert_eq!(closest(&"x".repeat(65), ["x"]), None);
        assert_eq!(did_you_mean("stepz", ["steps"]).as_deref(), Some("did you mean `steps`?"));
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("titel", "title"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("ABC", "abc"), 0);
    }
}
