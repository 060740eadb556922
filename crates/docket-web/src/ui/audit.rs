//! `/audit` (admins): the audit chain filtered by ticket, actor and action, a page at a time;
//! whether the chain is intact (recomputed on request, since it reads every record); and
//! `/audit/export`, the filtered records as JSON lines.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use docket_core::audit::AuditRecord;
use serde::Deserialize;

use super::auth::Viewer;
use super::form::UiQuery;
use super::markdown;
use super::page::{Chrome, UiError, denied, ok};
use super::view::when_exact;
use crate::Web;
use crate::api::audit::AuditRecordView;

/// Records shown per page.
const SHOWN: usize = 100;
/// Records read per store call.
const READ: u32 = 2_000;
/// The most records one page looks through for matches.
const SCAN: u64 = 50_000;

#[derive(Debug, Deserialize, Default)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    after: u64,
    #[serde(default)]
    verify: Option<String>,
}

impl AuditQuery {
    fn matches(&self, record: &AuditRecord) -> bool {
        let e = &record.entry;
        (self.ticket.is_empty() || e.ticket.as_deref() == Some(self.ticket.trim()))
            && (self.actor.is_empty() || e.actor.contains(self.actor.trim()))
            && (self.action.is_empty() || e.action.contains(self.action.trim()))
    }

    fn filters(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("ticket", &self.ticket).append_pair("actor", &self.actor).append_pair("action", &self.action);
        q.finish()
    }
}

#[derive(Debug)]
struct Row {
    seq: u64,
    at: String,
    actor: String,
    action: String,
    ticket: String,
    details: String,
    hash: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    ticket: String,
    actor: String,
    action: String,
    rows: Vec<Row>,
    next: Option<String>,
    export: String,
    verify: String,
    chain: Option<(bool, String)>,
}

/// Admins only; anyone else gets the refusal in the page frame, told who the admins are (in the
/// demo: that they can switch to one in the banner).
fn admin_only(web: &Web, viewer: &Viewer) -> Result<(), UiError> {
    if viewer.admin {
        return Ok(());
    }
    let admins: Vec<String> = web
        .app
        .rules()
        .directory
        .people()
        .filter(|p| p.admin)
        .map(|p| format!("{} ({})", markdown::code_span(p.id.as_str()), p.name))
        .collect();
    let hint = match (admins.is_empty(), web.ui.demo) {
        (true, _) => {
            "Nobody is an admin yet: an administrator sets `admin: true` on a person in docket.yaml.".to_owned()
        }
        (false, true) => format!(
            "In this demo the admin is {}: switch to them in the banner above, and this page opens as theirs.",
            admins.join(", ")
        ),
        (false, false) => format!("Admins: {}.", admins.join(", ")),
    };
    let message = format!("Only admins can read the audit log, and {} is not one.", viewer.name);
    Err(denied(Chrome::new(web, viewer), message, markdown::inline(&hint)))
}

/// `GET /audit?ticket=…&actor=…&action=…&after=…&verify=1`
pub(crate) async fn page(
    State(web): State<Web>,
    viewer: Viewer,
    UiQuery(query): UiQuery<AuditQuery>,
) -> Result<Response, UiError> {
    admin_only(&web, &viewer)?;
    let mut rows = Vec::new();
    let mut after = query.after;
    let mut more = false;
    'scan: while after < query.after.saturating_add(SCAN) {
        let page = web.app.audit_records(after, READ).await?;
        for record in &page {
            after = record.seq;
            if query.matches(record) {
                rows.push(row(&web, record));
                if rows.len() >= SHOWN {
                    more = true;
                    break 'scan;
                }
            }
        }
        // A short page is the end of the log; a full one may have more after it.
        more = page.len() >= READ as usize;
        if !more {
            break;
        }
    }
    let chain = match &query.verify {
        Some(_) => {
            let report = web.app.verify_audit().await?;
            Some(match report.first_problem() {
                None => {
                    let records = docket_core::text::count(report.records, "record", "records");
                    (true, format!("Intact: {records}, head {}", short(&report.head)))
                }
                // The link says which record in its own words ("record 7: …").
                Some((_, problem)) => (false, format!("Broken at {problem}")),
            })
        }
        None => None,
    };
    let filters = query.filters();
    ok(&AuditPage {
        chrome: Chrome::new(&web, &viewer),
        next: more.then(|| format!("/audit?{filters}&after={after}")),
        export: format!("/audit/export?{filters}"),
        verify: format!("/audit?{filters}&verify=1"),
        ticket: query.ticket,
        actor: query.actor,
        action: query.action,
        rows,
        chain,
    })
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

fn row(web: &Web, record: &AuditRecord) -> Row {
    let e = &record.entry;
    Row {
        seq: record.seq,
        at: when_exact(&web.app, e.at),
        actor: e.actor.clone(),
        action: e.action.clone(),
        ticket: e.ticket.clone().unwrap_or_default(),
        details: e.details.to_string(),
        hash: short(&record.hash).to_owned(),
    }
}

/// `GET /audit/export?ticket=…&actor=…&action=…`: every matching record, as JSON lines.
pub(crate) async fn export(
    State(web): State<Web>,
    viewer: Viewer,
    UiQuery(query): UiQuery<AuditQuery>,
) -> Result<Response, UiError> {
    admin_only(&web, &viewer)?;
    let mut body = String::new();
    let mut after = 0;
    loop {
        let page = web.app.audit_records(after, READ).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in page.iter().filter(|r| query.matches(r)) {
            let line =
                serde_json::to_string(&AuditRecordView::from(record)).map_err(|e| UiError::Internal(e.to_string()))?;
            body.push_str(&line);
            body.push('\n');
        }
        if page.len() < READ as usize {
            break;
        }
    }
    let headers = [
        (header::CONTENT_TYPE, "application/x-ndjson"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"docket-audit.jsonl\""),
    ];
    Ok((headers, body).into_response())
}
