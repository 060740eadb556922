//! `/audit`: the hash-chained audit log for admins — exported as JSON lines a page at a time,
//! and verified end to end.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use docket_core::audit::{AuditRecord, BrokenLink};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Caller, QueryPairs};
use crate::Web;

/// Records per page unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 1000;
/// The most records one page may hold.
const MAX_PAGE: u32 = 10_000;

/// One audit record, as exported.
#[derive(Debug, Serialize)]
pub(crate) struct AuditRecordView<'a> {
    seq: u64,
    at: String,
    actor: &'a str,
    action: &'a str,
    ticket: Option<&'a str>,
    details: &'a Value,
    prev_hash: &'a str,
    hash: &'a str,
}

impl<'a> From<&'a AuditRecord> for AuditRecordView<'a> {
    fn from(record: &'a AuditRecord) -> Self {
        Self {
            seq: record.seq,
            at: record.entry.at.to_string(),
            actor: &record.entry.actor,
            action: &record.entry.action,
            ticket: record.entry.ticket.as_deref(),
            details: &record.entry.details,
            prev_hash: &record.prev_hash,
            hash: &record.hash,
        }
    }
}

/// Refuses anyone the directory does not mark `admin`.
fn admin_only(web: &Web, caller: &Caller) -> Result<(), ApiError> {
    let is_admin = web.app.rules().directory.person(&caller.person).is_some_and(|p| p.admin);
    if is_admin {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin_only",
            format!("only admins can read the audit log, and {} is not one", caller.person),
        ))
    }
}

/// `GET /audit?after=0&limit=1000` → `application/x-ndjson`, one record per line.
pub(crate) async fn records(State(web): State<Web>, caller: Caller, query: QueryPairs) -> Result<Response, ApiError> {
    admin_only(&web, &caller)?;
    let query = query.only(&["after", "limit"])?;
    let after = query.number("after", 0u64)?;
    let limit = query.number("limit", DEFAULT_PAGE)?;
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", format!("`limit` must be 1 to {MAX_PAGE}"))
            .with_details(json!({ "param": "limit" })));
    }
    let records = web.app.audit_records(after, limit).await?;
    let mut body = String::with_capacity(records.len() * 256);
    for record in &records {
        let line =
            serde_json::to_string(&AuditRecordView::from(record)).map_err(|e| ApiError::storage_unavailable(&e))?;
        body.push_str(&line);
        body.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// `GET /audit/verify`: recomputes the whole chain.
pub(crate) async fn verify(State(web): State<Web>, caller: Caller) -> Result<Json<Value>, ApiError> {
    admin_only(&web, &caller)?;
    let report = web.app.verify_audit().await?;
    Ok(Json(match report.broken {
        None => json!({ "intact": true, "records": report.records, "head": report.head }),
        Some(broken) => {
            let seq = match broken {
                BrokenLink::Gap { found, .. } => found,
                BrokenLink::PrevHash { seq } | BrokenLink::Hash { seq } => seq,
            };
            json!({
                "intact": false,
                "records": report.records,
                "broken": { "seq": seq, "message": broken.to_string() },
            })
        }
    }))
}
