//! The small Markdown subset workflow descriptions, parameter help and sign-in messages are
//! written in — `code`, **bold** and [links](https://…) — as HTML, everything escaped. Anything
//! else (an unclosed backtick, a link to `javascript:`) stays the text it was. Templates show
//! the result with `|safe`; nothing else is ever marked safe.

use std::fmt::Write as _;

/// `text` as escaped HTML with code, bold and links.
pub(crate) fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some((html, after)) = code(rest).or_else(|| bold(rest)).or_else(|| link(rest)) {
            out.push_str(&html);
            rest = after;
            continue;
        }
        push_escaped(&mut out, c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `` `code` `` at the start of `text`: its HTML and what follows it.
fn code(text: &str) -> Option<(String, &str)> {
    let inner = text.strip_prefix('`')?;
    let end = inner.find('`').filter(|&end| end > 0)?;
    Some((format!("<code>{}</code>", escape(&inner[..end])), &inner[end + 1..]))
}

/// `**bold**` at the start of `text` (code and links inside it too).
fn bold(text: &str) -> Option<(String, &str)> {
    let inner = text.strip_prefix("**")?;
    let end = inner.find("**").filter(|&end| end > 0)?;
    Some((format!("<strong>{}</strong>", inline(&inner[..end])), &inner[end + 2..]))
}

/// `[words](url)` at the start of `text`, for web, mail and same-site addresses only.
fn link(text: &str) -> Option<(String, &str)> {
    let inner = text.strip_prefix('[')?;
    let close = inner.find("](")?;
    let (words, after) = (&inner[..close], &inner[close + 2..]);
    let end = after.find(')')?;
    let url = after[..end].trim();
    let allowed = ["https://", "http://", "mailto:"].iter().any(|p| url.starts_with(p))
        || (url.starts_with('/') && !url.starts_with("//"));
    if words.is_empty() || !allowed || url.contains(char::is_whitespace) {
        return None;
    }
    let mut html = String::new();
    let _ = write!(html, "<a href=\"{}\">{}</a>", escape(url), inline(words));
    Some((html, &after[end + 1..]))
}

/// `text` as escaped HTML, its Markdown left as typed: for words from elsewhere (a provider's
/// error), which must not become links.
pub(crate) fn plain(text: &str) -> String {
    escape(text)
}

/// `text` as a code span in Markdown, whatever it holds: for a value from elsewhere inside a
/// message of ours.
pub(crate) fn code_span(text: &str) -> String {
    format!("`{}`", text.replace('`', "'"))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::inline;

    #[test]
    fn code_bold_and_links_become_html() {
        assert_eq!(
            inline("Switches `current` to it, **then** checks [the docs](https://example.com/a?b=1&c=2)."),
            "Switches <code>current</code> to it, <strong>then</strong> checks \
             <a href=\"https://example.com/a?b=1&amp;c=2\">the docs</a>."
        );
        assert_eq!(inline("**run `make`**"), "<strong>run <code>make</code></strong>");
        assert_eq!(inline("see [tickets](/tickets)"), "see <a href=\"/tickets\">tickets</a>");
    }

    #[test]
    fn everything_else_is_escaped_text() {
        assert_eq!(inline("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(inline("`<b>`"), "<code>&lt;b&gt;</code>");
        assert_eq!(inline("[x](javascript:alert(1))"), "[x](javascript:alert(1))");
        assert_eq!(inline("[x](//evil.example)"), "[x](//evil.example)");
        assert_eq!(
            inline("[a\"b](https://x/\"onmouseover=\")"),
            "<a href=\"https://x/&quot;onmouseover=&quot;\">a&quot;b</a>"
        );
        assert_eq!(inline("an ` alone"), "an ` alone");
        assert_eq!(inline("** alone, and `` empty"), "** alone, and `` empty");
        assert_eq!(inline("it's 5 > 4 & ok"), "it&#39;s 5 &gt; 4 &amp; ok");
    }
}
