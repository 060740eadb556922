//! The `http` action: one request with a templated URL, headers and JSON body, and the statuses
//! that count as success.

use std::collections::BTreeMap;

use docket_core::catalog::template::Template;
use docket_core::{ActionSpec, ActionView, Detail, Duration, JsonTemplate, Params};
use serde_json::json;

/// `http`: one request.
#[derive(Clone, Debug)]
pub struct HttpAction {
    /// `GET`, `POST`, …
    pub method: String,
    /// Where to.
    pub url: Template,
    /// Header name → value.
    pub headers: BTreeMap<String, Template>,
    /// A JSON body whose strings may hold templates.
    pub body: Option<JsonTemplate>,
    /// Statuses that count as success; empty means any 2xx.
    pub expect: Vec<u16>,
    /// Gives up after this long.
    pub timeout: Option<Duration>,
}

impl ActionSpec for HttpAction {
    fn kind(&self) -> &'static str {
        "http"
    }

    fn templates(&self) -> Vec<&Template> {
        let mut all: Vec<&Template> = vec![&self.url];
        all.extend(self.headers.values());
        if let Some(body) = &self.body {
            body.collect_templates(&mut all);
        }
        all
    }

    /// Method, URL and body as they will be sent; headers by name only (their values are where
    /// credentials live).
    fn describe(&self, params: &Params) -> ActionView {
        let url = self.url.render(params);
        let body = self.body.as_ref().map(|b| b.render(params));
        let names: Vec<&String> = self.headers.keys().collect();
        let summary = format!("{} {url}", self.method);
        let mut details = vec![Detail::code("Request", summary.clone())];
        if !names.is_empty() {
            details.push(Detail::text("Headers", names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")));
        }
        if let Some(body) = &body {
            details.push(Detail::code("Body", serde_json::to_string_pretty(body).unwrap_or_default()));
        }
        if !self.expect.is_empty() {
            let statuses: Vec<String> = self.expect.iter().map(u16::to_string).collect();
            details.push(Detail::text("Expects", statuses.join(" or ")));
        }
        ActionView {
            summary,
            details,
            document: json!({ "method": self.method, "url": url, "headers": names, "body": body }),
        }
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}
