//! Redaction of secret values from anything Docket writes or shows: plans, logs, chat messages,
//! audit records. A secret is also caught in the encodings it commonly travels in: percent-
//! encoded (in a URL or a form), JSON-escaped, and base64 (an echoed `Authorization: Basic …`
//! header carries `user:password` in base64, where the password starts at any byte offset).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// What replaces a secret.
pub const MASK: &str = "[redacted]";

/// Shorter values are not treated as secrets: masking every `1` or `db` would garble output
/// without protecting anything.
pub const MIN_SECRET_CHARS: usize = 4;

/// Fewest base64 characters masked as an encoded secret: shorter runs would match ordinary
/// text by chance (a 4-byte secret has no 8-character aligned run and is caught only as itself).
const MIN_BASE64_CHARS: usize = 8;

/// Replaces known secret values, and their common encodings, with [`MASK`].
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Every form of every secret, longest first.
    patterns: Vec<String>,
    /// All of `patterns` in one automaton; `None` when there are none (or, past limits no
    /// configuration reaches, when it could not be built: then each pattern is replaced in turn).
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    /// A redactor for `secrets`; values shorter than [`MIN_SECRET_CHARS`] are ignored.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        for secret in secrets.into_iter().filter(|s| s.chars().count() >= MIN_SECRET_CHARS) {
            patterns.extend(forms(&secret));
        }
        patterns.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        patterns.dedup();
        // Leftmost-longest: a secret that contains another is masked whole.
        let matcher = if patterns.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new().match_kind(MatchKind::LeftmostLongest).build(&patterns).ok()
        };
        Self { patterns, matcher }
    }

    /// `text` with every secret masked.
    pub fn redact(&self, text: &str) -> String {
        match &self.matcher {
            Some(matcher) if matcher.is_match(text) => {
                let mut out = String::with_capacity(text.len());
                matcher.replace_all_with(text, &mut out, |_, _, dst| {
                    dst.push_str(MASK);
                    true
                });
                out
            }
            Some(_) => text.to_owned(),
            None => {
                let mut out = text.to_owned();
                for pattern in &self.patterns {
                    if out.contains(pattern.as_str()) {
                        out = out.replace(pattern.as_str(), MASK);
                    }
                }
                out
            }
        }
    }

    /// Whether `text` holds a secret in any of the forms this redactor knows.
    pub fn finds_secret_in(&self, text: &str) -> bool {
        match &self.matcher {
            Some(matcher) => matcher.is_match(text),
            None => self.patterns.iter().any(|p| text.contains(p.as_str())),
        }
    }

    /// Masks secrets in every string inside a JSON value (object keys included).
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) if self.finds_secret_in(s) => *s = self.redact(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(map) => {
                if map.keys().any(|k| self.finds_secret_in(k)) {
                    let entries = std::mem::take(map);
                    *map = entries.into_iter().map(|(k, v)| (self.redact(&k), v)).collect();
                }
                map.values_mut().for_each(|v| self.redact_json(v));
            }
            _ => {}
        }
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// The forms of `secret` worth masking: itself, percent-encoded (strict, lower-case hex, and
/// form-style with `+` for spaces), JSON-escaped, and base64 (standard and URL-safe) at each of
/// the three byte alignments.
fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_owned()];
    out.push(percent_encode(secret, false, true));
    out.push(percent_encode(secret, false, false));
    out.push(percent_encode(secret, true, true));
    if let Ok(json) = serde_json::to_string(secret) {
        out.push(json.trim_matches('"').to_owned());
    }
    let bytes = secret.as_bytes();
    for skip in 0..3 {
        let Some(rest) = bytes.get(skip..) else { break };
        let whole = rest.len() / 3 * 3;
        let Some(aligned) = rest.get(..whole) else { continue };
        if whole / 3 * 4 < MIN_BASE64_CHARS {
            continue;
        }
        let standard = base64(aligned, STANDARD);
        out.push(standard.replace('+', "-").replace('/', "_"));
        out.push(standard);
    }
    out
}

/// Percent-encodes every byte outside RFC 3986's unreserved set; `form` writes a space as `+`.
fn percent_encode(text: &str, form: bool, upper: bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for &byte in text.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(byte)),
            b' ' if form => out.push('+'),
            _ if upper => out.push_str(&format!("%{byte:02X}")),
            _ => out.push_str(&format!("%{byte:02x}")),
        }
    }
    out
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 of whole 3-byte groups (the caller passes a multiple of three bytes, so there is no
/// padding: the characters of a partial group depend on the bytes around the secret).
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len() / 3 * 4);
    for group in bytes.chunks_exact(3) {
        let n = (u32::from(group[0]) << 16) | (u32::from(group[1]) << 8) | u32::from(group[2]);
        for shift in [18, 12, 6, 0] {
            out.push(char::from(alphabet[((n >> shift) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(bytes: &[u8]) -> String {
        let mut padded = bytes.to_vec();
        while !padded.len().is_multiple_of(3) {
            padded.push(0);
        }
        base64(&padded, STANDARD)
    }

    #[test]
    fn masks_longest_first_and_ignores_tiny_values() {
        let r = Redactor::new(["xoxb-123".to_owned(), "xoxb-123-456".to_owned(), "db".to_owned()]);
        assert_eq!(r.redact("token xoxb-123-456 and xoxb-123 on db"), "token [redacted] and [redacted] on db");
        let mut v = serde_json::json!({"a": ["xoxb-123"], "b": 1});
        r.redact_json(&mut v);
        assert_eq!(v, serde_json::json!({"a": ["[redacted]"], "b": 1}));
    }

    #[test]
    fn masks_a_secret_percent_encoded_in_a_url_or_a_form() {
        let r = Redactor::new(["p@ss w/rd!".to_owned()]);
        assert!(!r.redact("https://u:p%40ss%20w%2Frd%21@host/").contains("p%40ss"));
        assert!(!r.redact("https://u:p%40ss%20w%2frd%21@host/").contains("p%40ss"));
        assert!(!r.redact("pw=p%40ss+w%2Frd%21&x=1").contains("p%40ss"));
        assert!(!r.redact(r#"{"pw":"p@ss w/rd!"}"#).contains("ss w/"));
    }

    #[test]
    fn masks_a_secret_inside_base64_at_every_alignment() {
        let secret = "s3cr3t-t0ken-value";
        let r = Redactor::new([secret.to_owned()]);
        for user in ["", "a", "ab", "abc", "user"] {
            let basic = encode(format!("{user}:{secret}").as_bytes());
            let shown = r.redact(&format!("Authorization: Basic {basic}"));
            assert!(shown.contains(MASK), "{user:?}: {shown}");
            // What is left of the encoded secret is at most the partial groups at its edges.
            let left = shown.trim_start_matches("Authorization: Basic ").replace(MASK, "");
            assert!(left.len() <= 12, "{user:?}: {shown}");
        }
    }

    #[test]
    fn short_secrets_are_not_searched_for_in_base64() {
        let r = Redactor::new(["abcd".to_owned()]);
        assert_eq!(r.redact("YWJjZA== and abcd"), "YWJjZA== and [redacted]");
    }
}
