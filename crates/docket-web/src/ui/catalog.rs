//! `/catalog` (every workflow by category, with search) and `/workflows/{id}` (one workflow,
//! its parameters and steps, and its prior runs with their outcomes).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use docket_app::TicketFilter;
use docket_core::WorkflowId;
use serde::Deserialize;

use super::auth::Viewer;
use super::form::UiQuery;
use super::markdown;
use super::page::{Chrome, UiError, ok};
use super::view::TicketRow;
use crate::Web;

/// A workflow in the catalog.
#[derive(Debug)]
struct Entry {
    id: String,
    title: String,
    /// As HTML (see `markdown`).
    description: String,
    risk: &'static str,
    requestable: bool,
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    chrome: Chrome,
    q: String,
    category: String,
    categories: Vec<String>,
    sections: Vec<(String, Vec<Entry>)>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct CatalogQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
}

/// `GET /catalog?q=…&category=…`
pub(crate) async fn page(
    State(web): State<Web>,
    viewer: Viewer,
    UiQuery(query): UiQuery<CatalogQuery>,
) -> Result<Response, UiError> {
    let needle = query.q.trim().to_lowercase();
    let workflows = web.app.workflows();
    let mut categories: Vec<String> = workflows.iter().map(|w| w.category.clone()).collect();
    categories.sort();
    categories.dedup();
    let mut sections: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for w in &workflows {
        let haystack = format!("{} {} {} {}", w.id, w.title, w.description, w.category).to_lowercase();
        if !needle.is_empty() && !needle.split_whitespace().all(|word| haystack.contains(word)) {
            continue;
        }
        if !query.category.is_empty() && w.category != query.category {
            continue;
        }
        sections.entry(w.category.clone()).or_default().push(Entry {
            id: w.id.to_string(),
            title: w.title.clone(),
            description: markdown::inline(&w.description),
            risk: w.risk.as_str(),
            requestable: web.app.may_request(&viewer.actor, w),
        });
    }
    ok(&CatalogPage {
        chrome: Chrome::new(&web, &viewer),
        q: query.q,
        category: query.category,
        categories,
        sections: sections.into_iter().collect(),
    })
}

/// A parameter as the workflow page lists it.
#[derive(Debug)]
struct ParamRow {
    name: String,
    label: String,
    kind: &'static str,
    /// As HTML (see `markdown`), like `choices` and `default`.
    help: String,
    required: bool,
    /// A choice's values: `` `api`, `web` (Web front end) ``.
    choices: String,
    default: String,
}

#[derive(Template)]
#[template(path = "workflow.html")]
struct WorkflowPage {
    chrome: Chrome,
    id: String,
    title: String,
    description: String,
    category: String,
    risk: &'static str,
    requestable: bool,
    params: Vec<ParamRow>,
    steps: Vec<(String, String)>,
    runs: Vec<TicketRow>,
}

/// `GET /workflows/{id}`
pub(crate) async fn workflow(
    State(web): State<Web>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id = WorkflowId::new(id);
    let Some(w) = web.app.workflow(&id) else {
        return Err(UiError::NotFound(format!("There is no workflow `{id}` in the catalog.")));
    };
    let runs = web.app.tickets(&TicketFilter { workflow: Some(id.clone()), limit: 25, ..Default::default() }).await?;
    let params = w
        .params
        .iter()
        .map(|p| ParamRow {
            name: p.name.clone(),
            label: p.label.clone(),
            kind: p.kind.type_name(),
            help: markdown::inline(&super::request::constraint(p)),
            required: super::request::must_fill(p),
            choices: choices(p),
            default: p
                .default
                .as_ref()
                .map(|d| markdown::inline(&markdown::code_span(&d.to_string())))
                .unwrap_or_default(),
        })
        .collect();
    ok(&WorkflowPage {
        chrome: Chrome::new(&web, &viewer),
        id: w.id.to_string(),
        title: w.title.clone(),
        description: markdown::inline(&w.description),
        category: w.category.clone(),
        risk: w.risk.as_str(),
        requestable: web.app.may_request(&viewer.actor, &w),
        params,
        steps: w.steps.iter().map(|s| (s.name.clone(), s.action.kind().to_owned())).collect(),
        runs: runs.tickets.iter().map(|t| TicketRow::new(&web.app, t)).collect(),
    })
}

/// The values a choice parameter takes, each as code, with its label when it says more.
fn choices(param: &docket_core::ParamSpec) -> String {
    let docket_core::ParamKind::Choice { choices } = &param.kind else { return String::new() };
    let each: Vec<String> = choices
        .iter()
        .map(|c| {
            let value = markdown::code_span(&c.value);
            if c.label.is_empty() || c.label == c.value { value } else { format!("{value} ({})", c.label) }
        })
        .collect();
    markdown::inline(&each.join(", "))
}
