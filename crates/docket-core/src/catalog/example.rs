//! Plain-language request patterns (`deploy {service} {version} to {environment}`).

/// One pattern of a workflow's `examples`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    text: String,
    tokens: Vec<ExampleToken>,
}

/// A word to match literally, or a capture that fills a parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExampleToken {
    /// A word, matched case-insensitively.
    Word(String),
    /// `{name}`: one word of the request becomes this parameter's value.
    Capture(String),
}

impl Example {
    /// Parses a pattern. Captures are `{name}` standing alone between spaces.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut tokens = Vec::new();
        for word in text.split_whitespace() {
            if let Some(inner) = word.strip_prefix('{') {
                let Some(name) = inner.strip_suffix('}') else {
                    return Err(if inner.contains('}') {
                        format!("`{word}`: a capture stands alone between spaces, like {{name}}")
                    } else {
                        format!("`{word}` opens `{{` without closing it")
                    });
                };
                if !super::template::is_param_name(name) {
                    return Err(format!("`{word}` is not a capture (write {{name}})"));
                }
                tokens.push(ExampleToken::Capture(name.to_owned()));
            } else if word.contains(['{', '}']) {
                return Err(format!("`{word}`: a capture stands alone between spaces, like {{name}}"));
            } else {
                tokens.push(ExampleToken::Word(word.to_lowercase()));
            }
        }
        if tokens.is_empty() {
            return Err("an example needs at least one word".to_owned());
        }
        Ok(Self { text: text.trim().to_owned(), tokens })
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Its words and captures.
    pub fn tokens(&self) -> &[ExampleToken] {
        &self.tokens
    }

    /// The parameter names it captures.
    pub fn captures(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().filter_map(|t| match t {
            ExampleToken::Capture(name) => Some(name.as_str()),
            ExampleToken::Word(_) => None,
        })
    }
}
