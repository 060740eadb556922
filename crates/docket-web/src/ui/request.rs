//! The request form of a workflow (`/workflows/{id}/new`) and the amend form of a ticket
//! (`/tickets/{id}/amend`, submitted to `POST /tickets/{id}/amend`): one field per parameter,
//! built from its type. The app validates what is sent; when it refuses parameters, the form
//! comes back with each message next to its field and every value kept.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use docket_app::{AppError, Earlier, OnceKey, Pruned, Requested};
use docket_core::ticket::Origin;
use docket_core::{FieldError, ParamKind, ParamSpec, ParamValue, RawParams, Refusal, TicketId, Workflow, WorkflowId};

use super::auth::Viewer;
use super::form::FormData;
use super::markdown;
use super::page::{Chrome, UiError, render};
use super::session;
use super::ticket::parse_id;
use crate::Web;

/// Form field names are the parameter names with this prefix, so they never clash with `csrf`.
pub(crate) const FIELD_PREFIX: &str = "p.";
/// The form field holding a request form's own key.
const ONCE: &str = "once";
/// What request forms' keys opened: the surface-state scope, each key kept two days (far
/// longer than anyone goes back to a form and sends it again), then forgotten by a prune run
/// with the first form after the server starts and every thousand after it.
static FORMS: Pruned = Pruned::new("web.forms", std::time::Duration::from_secs(2 * 24 * 3600), 1_000);

/// One field of the form.
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) label: String,
    /// As HTML (see `markdown`).
    pub(crate) help: String,
    pub(crate) kind: &'static str,
    pub(crate) required: bool,
    pub(crate) value: String,
    pub(crate) choices: Vec<(String, String)>,
    pub(crate) error: Option<String>,
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    chrome: Chrome,
    /// As HTML (see `markdown`).
    description: String,
    action: String,
    heading: String,
    submit: String,
    back: String,
    fields: Vec<Field>,
    problems: Vec<String>,
    /// A request form's own random key, sent back with it: the form opens one ticket however
    /// often it is sent (a double click, the browser sending it again).
    once: Option<String>,
}

/// A line that says what a parameter accepts, in Markdown (the help as written, the rules in
/// words, a pattern as code).
pub(crate) fn constraint(spec: &ParamSpec) -> String {
    let mut parts = Vec::new();
    match &spec.kind {
        ParamKind::String { pattern, min_length, max_length } => {
            if let Some(p) = pattern {
                parts.push(format!("matches {}", markdown::code_span(p.as_str())));
            }
            lengths(&mut parts, *min_length, *max_length);
        }
        ParamKind::Text { min_length, max_length } => lengths(&mut parts, *min_length, *max_length),
        ParamKind::Integer { min, max } => parts.push(match (min, max) {
            (Some(a), Some(b)) => format!("a whole number from {a} to {b}"),
            (Some(a), None) => format!("a whole number, at least {a}"),
            (None, Some(b)) => format!("a whole number, at most {b}"),
            (None, None) => "a whole number".to_owned(),
        }),
        ParamKind::Boolean | ParamKind::Choice { .. } => {}
    }
    let rule = parts.join(", ");
    match (&spec.help, rule.is_empty()) {
        (Some(help), true) => help.clone(),
        (Some(help), false) => format!("{help} ({rule})"),
        (None, _) => rule,
    }
}

/// Whether the form must have a value for the parameter (required, with no default to fall
/// back on).
pub(crate) fn must_fill(spec: &ParamSpec) -> bool {
    spec.required && spec.default.is_none()
}

fn lengths(parts: &mut Vec<String>, min: Option<usize>, max: Option<usize>) {
    if let Some(n) = min {
        parts.push(format!("at least {n} characters"));
    }
    if let Some(n) = max {
        parts.push(format!("at most {n} characters"));
    }
}

/// The form's fields for `workflow` with `values` (by parameter name) and `errors`.
pub(crate) fn fields(
    workflow: &Workflow,
    values: &dyn Fn(&str) -> Option<String>,
    errors: &[FieldError],
) -> Vec<Field> {
    workflow
        .params
        .iter()
        .map(|spec| {
            let default = spec.default.as_ref().map(ParamValue::to_string);
            let choices = match &spec.kind {
                ParamKind::Choice { choices } => choices.iter().map(|c| (c.value.clone(), c.label.clone())).collect(),
                _ => Vec::new(),
            };
            Field {
                name: spec.name.clone(),
                label: spec.label.clone(),
                help: markdown::inline(&constraint(spec)),
                kind: spec.kind.type_name(),
                required: must_fill(spec),
                value: values(&spec.name).or(default).unwrap_or_default(),
                choices,
                error: errors
                    .iter()
                    .filter(|e| e.param == spec.name)
                    .map(|e| e.message.clone())
                    .reduce(|a, b| format!("{a}; {b}")),
            }
        })
        .collect()
}

/// The parameters a form sent, as a request sends them (text; the app coerces).
pub(crate) fn raw_params(form: &FormData) -> RawParams {
    let mut raw = RawParams::new();
    for (name, value) in form.with_prefix(FIELD_PREFIX) {
        raw.insert(name.to_owned(), serde_json::Value::String(value.to_owned()));
    }
    raw
}

/// The values `form` sent, by parameter name.
fn sent(form: &FormData) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| form.get(&format!("{FIELD_PREFIX}{name}")).map(str::to_owned)
}

fn find(web: &Web, id: &WorkflowId) -> Result<std::sync::Arc<Workflow>, UiError> {
    web.app.workflow(id).ok_or_else(|| UiError::NotFound(format!("There is no workflow `{id}` in the catalog.")))
}

/// `GET /workflows/{id}/new`
pub(crate) async fn form(State(web): State<Web>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    let workflow = find(&web, &WorkflowId::new(id))?;
    let mut page = new_page(&web, &viewer, &workflow, fields(&workflow, &|_| None, &[]), Vec::new());
    page.once = Some(session::random_token()?);
    render(&page, StatusCode::OK)
}

fn new_page(web: &Web, viewer: &Viewer, workflow: &Workflow, fields: Vec<Field>, problems: Vec<String>) -> RequestPage {
    RequestPage {
        once: None,
        chrome: Chrome::new(web, viewer),
        description: markdown::inline(&workflow.description),
        action: format!("/workflows/{}/new", workflow.id),
        heading: format!("Request: {}", workflow.title),
        submit: "Request".to_owned(),
        back: format!("/workflows/{}", workflow.id),
        fields,
        problems,
    }
}

/// `POST /workflows/{id}/new`: the app validates the parameters (every error at once) and
/// refuses invalid ones; they come back next to their fields.
pub(crate) async fn submit(
    State(web): State<Web>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, UiError> {
    viewer.check_csrf(&web, &form, &format!("request {id}")).await?;
    let workflow = find(&web, &WorkflowId::new(id))?;
    let origin = Origin { surface: "web".to_owned(), ..Origin::default() };
    let values = sent(&form);
    let once = form.get(ONCE).filter(|k| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()));
    // Kept per person: one person's key never stands for another's form.
    let key = once.map(|once| format!("form:{}:{once}", viewer.actor));
    let raw = raw_params(&form);
    let again = |fields: Vec<Field>, problems: Vec<String>| {
        let mut page = new_page(&web, &viewer, &workflow, fields, problems);
        page.once = once.map(str::to_owned);
        page
    };
    // Sent before (the browser's back button, a reload, a double click): to the ticket it
    // opened. The key is recorded with the ticket it opens; a refused request records nothing,
    // and the form, fixed, can be sent again.
    let once_key = key.as_deref().map(|key| OnceKey { kept: &FORMS, key, note: "" });
    match web.app.request_keyed(&viewer.actor, &workflow.id, raw, origin, once_key).await {
        Ok(Requested::Opened(ticket) | Requested::Before(Earlier { ticket: Some(ticket), .. })) => {
            Ok(Redirect::to(&format!("/tickets/{}", ticket.id)).into_response())
        }
        // Sent twice at once: the first copy is still opening its ticket (or its record cannot
        // be read).
        Ok(Requested::Before(Earlier { ticket: None, .. })) => {
            let mut page = again(fields(&workflow, &values, &[]), Vec::new());
            page.chrome = page.chrome.with_flash("info", "This form was sent already; its ticket is being opened.");
            render(&page, StatusCode::CONFLICT)
        }
        Err(AppError::Refused(Refusal::InvalidParams(errors))) => {
            let page = again(fields(&workflow, &values, &errors.0), stray(&workflow, &errors.0));
            render(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(AppError::Refused(refusal)) => {
            let mut page = again(fields(&workflow, &values, &[]), Vec::new());
            page.chrome = page.chrome.with_flash("error", refusal.to_string());
            render(&page, StatusCode::FORBIDDEN)
        }
        Err(other) => Err(other.into()),
    }
}

/// Errors about names that are not fields of the form.
fn stray(workflow: &Workflow, errors: &[FieldError]) -> Vec<String> {
    errors.iter().filter(|e| workflow.param(&e.param).is_none()).map(ToString::to_string).collect()
}

/// `GET /tickets/{id}/amend`
pub(crate) async fn amend_form(
    State(web): State<Web>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    amend_page(&web, &viewer, &parse_id(&id)?, None, &[]).await
}

/// The amend form again, after the app refused the values `form` sent: `errors` next to
/// their fields, every value kept.
pub(crate) async fn amend_errors(
    web: &Web,
    viewer: &Viewer,
    id: &TicketId,
    form: &FormData,
    errors: &[FieldError],
) -> Result<Response, UiError> {
    amend_page(web, viewer, id, Some(form), errors).await
}

/// The amend form of ticket `id`, filled from `form` when it was sent, else from the ticket.
async fn amend_page(
    web: &Web,
    viewer: &Viewer,
    id: &TicketId,
    form: Option<&FormData>,
    errors: &[FieldError],
) -> Result<Response, UiError> {
    let ticket = web.app.ticket(id).await?;
    let workflow = find(web, &ticket.workflow)?;
    let fields = match form {
        Some(form) => fields(&workflow, &sent(form), errors),
        None => fields(&workflow, &|name| ticket.params.get(name).map(ParamValue::to_string), errors),
    };
    let page = RequestPage {
        chrome: Chrome::new(web, viewer),
        description: markdown::plain("Amending re-plans the ticket; approvals given so far no longer count."),
        action: format!("/tickets/{id}/amend"),
        heading: format!("Amend {id}: {}", workflow.title),
        submit: "Amend and re-plan".to_owned(),
        back: format!("/tickets/{id}"),
        fields,
        problems: stray(&workflow, errors),
        once: None,
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(&page, status)
}
