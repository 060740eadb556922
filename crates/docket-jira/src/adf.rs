//! Bodies as Jira reads them: Atlassian Document Format for Cloud (REST v3), plain text for
//! Data Center (REST v2). Docket writes paragraphs of plain text and links, nothing more.

use serde_json::{Value, json};

use crate::settings::Api;

/// One paragraph of a body: text, with an optional link on all of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Para {
    /// The words.
    pub text: String,
    /// Where they link to.
    pub link: Option<String>,
}

impl Para {
    /// A paragraph of plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: text.into(), link: None }
    }

    /// A paragraph that links to `url`.
    pub fn link(text: impl Into<String>, url: impl Into<String>) -> Self {
        Self { text: text.into(), link: Some(url.into()) }
    }
}

/// The body for `api`: an ADF document (`{"type":"doc","version":1,…}`) or a string.
pub fn body(api: Api, paras: &[Para]) -> Value {
    match api {
        Api::Cloud => {
            let content: Vec<Value> = paras.iter().filter(|p| !p.text.is_empty()).map(paragraph).collect();
            json!({"type": "doc", "version": 1, "content": content})
        }
        Api::DataCenter => Value::String(
            paras
                .iter()
                .map(|p| match &p.link {
                    Some(url) => format!("[{}|{url}]", p.text),
                    None => p.text.clone(),
                })
                .collect::<Vec<_>>()
                .join("\n\n"),
        ),
    }
}

fn paragraph(para: &Para) -> Value {
    let mut node = json!({"type": "text", "text": para.text});
    if let Some(url) = &para.link {
        node["marks"] = json!([{"type": "link", "attrs": {"href": url}}]);
    }
    json!({"type": "paragraph", "content": [node]})
}

/// The plain text of a body Jira sent: an ADF document's text nodes, paragraphs on lines of
/// their own, or the string itself (webhooks and REST v2 send strings).
pub fn plain_text(body: &Value) -> String {
    match body {
        Value::String(text) => text.clone(),
        Value::Object(_) => {
            let mut out = String::new();
            collect(body, &mut out);
            out.trim().to_owned()
        }
        _ => String::new(),
    }
}

fn collect(node: &Value, out: &mut String) {
    if node.get("type").and_then(Value::as_str) == Some("text")
        && let Some(text) = node.get("text").and_then(Value::as_str)
    {
        out.push_str(text);
    }
    if node.get("type").and_then(Value::as_str) == Some("hardBreak") {
        out.push('\n');
    }
    for child in node.get("content").and_then(Value::as_array).into_iter().flatten() {
        collect(child, out);
    }
    if node.get("type").and_then(Value::as_str) == Some("paragraph") {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_bodies_are_adf_documents_and_read_back() {
        let doc = body(Api::Cloud, &[Para::text("Approved by Bob"), Para::link("DKT-1", "https://d/tickets/DKT-1")]);
        assert_eq!(doc["type"], "doc");
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["content"][1]["content"][0]["marks"][0]["attrs"]["href"], "https://d/tickets/DKT-1");
        assert_eq!(plain_text(&doc), "Approved by Bob\nDKT-1");
    }

    #[test]
    fn data_center_bodies_are_wiki_markup_strings() {
        let text = body(Api::DataCenter, &[Para::text("a"), Para::link("b", "https://x")]);
        assert_eq!(text, Value::String("a\n\n[b|https://x]".to_owned()));
    }
}
