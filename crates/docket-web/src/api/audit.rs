//! `/audit`: the hash-chained audit log for admins — exported as JSON lines a page at a time,
//! and verified end to end.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use docket_core::audit::AuditRecord;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::error::ApiError;
use super::extract::{Caller, QueryPairs};
use super::logs::SeqPage;
use super::schema::{BadRequest, Forbidden, Unauthenticated, Unavailable, any_json};
use crate::Web;

/// One audit record, as exported.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditRecord)]
pub(crate) struct AuditRecordView<'a> {
    /// The record's place in the chain, from 1.
    #[schema(minimum = 1)]
    seq: u64,
    #[schema(format = DateTime)]
    at: String,
    /// Who acted (`alice`, `agent:…`, `system`).
    actor: &'a str,
    /// What happened (`ticket.approved`, `web.signed_in`, …).
    action: &'a str,
    /// The ticket it concerns, if any.
    ticket: Option<&'a str>,
    /// What else is worth keeping, as the action records it.
    #[schema(schema_with = any_json)]
    details: &'a Value,
    /// The hash of the record before (all zeros for the first).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    prev_hash: &'a str,
    /// This record's hash, over `prev_hash` and its canonical JSON.
    #[schema(pattern = "^[0-9a-f]{64}$")]
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

/// The result of checking the whole chain.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = AuditVerification)]
pub(crate) enum Verification {
    /// Every link holds.
    Intact {
        #[schema(schema_with = always_true)]
        intact: bool,
        /// Records verified.
        records: u64,
        /// The last record's hash (the chain's head).
        head: String,
    },
    /// A link is broken; records after it were not checked.
    Broken {
        #[schema(schema_with = always_false)]
        intact: bool,
        /// Records verified before the break.
        records: u64,
        broken: BrokenView,
    },
}

/// Where the chain breaks.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BrokenLink)]
pub(crate) struct BrokenView {
    /// The first record that does not check out.
    seq: u64,
    /// What is wrong with it.
    message: String,
}

fn always_true() -> Schema {
    ObjectBuilder::new().schema_type(Type::Boolean).enum_values(Some([true])).build().into()
}

fn always_false() -> Schema {
    ObjectBuilder::new().schema_type(Type::Boolean).enum_values(Some([false])).build().into()
}

/// Refuses anyone the directory does not mark `admin`.
fn admin_only(caller: &Caller) -> Result<(), ApiError> {
    let is_admin = caller.is_admin();
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

/// The audit log from `after` on, one record per line (admins only).
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    operation_id = "audit_records",
    params(SeqPage),
    responses(
        (status = 200, description = "One `AuditRecord` per line, oldest first.", body = AuditRecordView,
            content_type = "application/x-ndjson"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn records(State(web): State<Web>, caller: Caller, query: QueryPairs) -> Result<Response, ApiError> {
    admin_only(&caller)?;
    let SeqPage { after, limit } = SeqPage::read(&query)?;
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

/// Recomputes every hash of the chain (admins only).
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    tag = "audit",
    operation_id = "verify_audit",
    responses(
        (status = 200, description = "Whether the chain is intact.", body = Verification),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn verify(State(web): State<Web>, caller: Caller) -> Result<Json<Verification>, ApiError> {
    admin_only(&caller)?;
    let report = web.app.verify_audit().await?;
    Ok(Json(match report.first_problem() {
        None => Verification::Intact { intact: true, records: report.records, head: report.head },
        Some((seq, message)) => {
            Verification::Broken { intact: false, records: report.records, broken: BrokenView { seq, message } }
        }
    }))
}
