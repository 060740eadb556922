//! Reading an `http` action from a workflow file: `http: {method, url, headers, body, expect,
//! timeout}`; the method defaults to GET.

use std::collections::BTreeMap;

use docket_config::plugin::{Fields, Node, StepContext, StepKind, duration, excerpt, int_in, list_of, text};
use docket_core::Action;
use docket_core::catalog::template::Template;
use docket_core::text::did_you_mean;

use super::action::HttpAction;
use crate::exec::named_templates;

/// The HTTP methods an `http` step may use.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The `http` step kind's decoder.
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpKind;

impl StepKind for HttpKind {
    fn name(&self) -> &'static str {
        "http"
    }

    fn decode(&self, node: &Node, cx: &mut StepContext<'_>) -> Option<Action> {
        http(node, cx).map(Action::new)
    }
}

fn http(node: &Node, cx: &mut StepContext<'_>) -> Option<HttpAction> {
    let keys = ["method", "url", "headers", "body", "expect", "timeout"];
    let fields = Fields::open(node, "http action", &keys, cx.report())?;
    let method = fields.opt("method", cx.report(), method).or("GET".to_owned());
    let url = fields.require("url", cx.report()).and_then(|n| url(n, cx));
    let headers = match fields.get("headers") {
        Some(n) => headers(n, cx),
        None => Some(BTreeMap::new()),
    };
    let body = match fields.get("body") {
        Some(n) => cx.json_template(n).map(Some),
        None => Some(None),
    };
    let expect = fields.opt("expect", cx.report(), |n, r| list_of(n, "status codes", r, |n, r| int_in(n, 100, 599, r)));
    let timeout = fields.opt("timeout", cx.report(), duration).optional();
    Some(HttpAction {
        method: method?,
        url: url?,
        headers: headers?,
        body: body?,
        expect: expect.or(Vec::new())?,
        timeout: timeout?,
    })
}

fn method(node: &Node, report: &mut docket_config::plugin::Report) -> Option<String> {
    let method = text(node, report)?.to_ascii_uppercase();
    if METHODS.contains(&method.as_str()) {
        return Some(method);
    }
    let hint = did_you_mean(&method, METHODS).unwrap_or_else(|| format!("methods are {}", METHODS.join(", ")));
    report.error_hint(node.pos, format!("unknown HTTP method `{}`", excerpt(&method)), hint);
    None
}

fn url(node: &Node, cx: &mut StepContext<'_>) -> Option<Template> {
    let source = text(node, cx.report())?;
    let url = cx.template(node)?;
    if !(source.starts_with("https://") || source.starts_with("http://")) {
        let message = format!("`{}` is not an http:// or https:// URL", excerpt(&source));
        cx.report().error_hint(node.pos, message, "parameters may fill in parts of a URL, not its scheme");
        return None;
    }
    Some(url)
}

fn headers(node: &Node, cx: &mut StepContext<'_>) -> Option<BTreeMap<String, Template>> {
    named_templates(node, "headers", cx, |name, key, report| {
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(token) {
            report.error(key.pos, format!("`{}` is not an HTTP header name", excerpt(name)));
        }
    })
}
