//! Words shown the way a shell would need them, so a command line in a plan reads unambiguously
//! and can be copied: plain words as they are, others in single quotes.

/// `arg` quoted for a POSIX shell when it needs it.
pub(crate) fn quoted(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain { arg.to_owned() } else { format!("'{}'", arg.replace('\'', r"'\''")) }
}

/// `words` quoted and joined with spaces.
pub(crate) fn command_line(words: &[String]) -> String {
    words.iter().map(|w| quoted(w)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_and_others_are_quoted() {
        let words = ["kubectl", "--context", "prod", "it's here", ""].map(String::from);
        assert_eq!(command_line(&words), r#"kubectl --context prod 'it'\''s here' ''"#);
    }
}
