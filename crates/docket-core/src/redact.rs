//! Redaction of secret values from anything Docket writes: logs, chat messages, audit records.

/// What replaces a secret.
pub const MASK: &str = "[redacted]";

/// Shorter values are not treated as secrets: masking every `1` or `db` would garble output
/// without protecting anything.
pub const MIN_SECRET_CHARS: usize = 4;

/// Replaces known secret values with [`MASK`].
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    // Longest first, so a secret that contains another is masked whole.
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor for `secrets`; values shorter than [`MIN_SECRET_CHARS`] are ignored.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.chars().count() >= MIN_SECRET_CHARS).collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Self { secrets }
    }

    /// `text` with every secret masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    /// Masks secrets in every string inside a JSON value.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) if self.secrets.iter().any(|secret| s.contains(secret.as_str())) => {
                *s = self.redact(s);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
            _ => {}
        }
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_longest_first_and_ignores_tiny_values() {
        let r = Redactor::new(["xoxb-123".to_owned(), "xoxb-123-456".to_owned(), "db".to_owned()]);
        assert_eq!(r.redact("token xoxb-123-456 and xoxb-123 on db"), "token [redacted] and [redacted] on db");
        let mut v = serde_json::json!({"a": ["xoxb-123"], "b": 1});
        r.redact_json(&mut v);
        assert_eq!(v, serde_json::json!({"a": ["[redacted]"], "b": 1}));
    }
}
