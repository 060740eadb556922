//! The one error type every route returns, and how app errors and refusals become HTTP
//! statuses. The body is always `{"error": {"code", "message", "details"}}`; messages are the
//! app's and core's words, never a database's.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docket_app::{AppError, StoreError};
use docket_core::Refusal;
use serde_json::{Value, json};

/// An error as the API reports it.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Value,
}

impl ApiError {
    /// An error with no details.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Value::Null }
    }

    /// Adds machine-readable details.
    pub(crate) fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// 400 with `code`.
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: the caller did not say who they are, or said it with a token nobody has.
    pub(crate) fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 404 for something that is not there.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503 for a store failure: the detail goes to the log, the caller learns only that it
    /// may try again.
    pub(crate) fn storage_unavailable(detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "the store failed while serving an API request");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "Docket's storage is unavailable right now; nothing was changed, try again shortly",
        )
    }

    /// The JSON body: `{"error": {"code", "message", "details"}}`.
    pub(crate) fn body(&self) -> Value {
        json!({ "error": { "code": self.code, "message": self.message, "details": self.details } })
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Refused(refusal) => refusal.into(),
            AppError::NotFound(what) => Self::not_found(format!("{what} not found")),
            AppError::Unauthenticated => Self::unauthenticated("unknown or revoked token"),
            AppError::Invalid(message) => Self::bad_request("invalid_request", message),
            AppError::Store(StoreError::Conflict(id)) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("ticket {id} was changed by someone else at the same moment; read it again and retry"),
            ),
            AppError::Store(other) => Self::storage_unavailable(&other),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let (status, details) = match &refusal {
            Refusal::InvalidParams(errors) => {
                let fields: Vec<Value> =
                    errors.0.iter().map(|f| json!({ "param": f.param, "message": f.message })).collect();
                (StatusCode::BAD_REQUEST, json!({ "fields": fields }))
            }
            Refusal::BadText { what, max } => (StatusCode::BAD_REQUEST, json!({ "field": what, "max_chars": max })),
            Refusal::UnknownPerson(person) => (StatusCode::FORBIDDEN, json!({ "person": person.as_str() })),
            Refusal::NotARequester { person, workflow, allowed } => (
                StatusCode::FORBIDDEN,
                json!({ "person": person.as_str(), "workflow": workflow.as_str(), "allowed": allowed }),
            ),
            Refusal::OwnTicket { action } | Refusal::AgentCannotDecide { action } | Refusal::SystemOnly { action } => {
                (StatusCode::FORBIDDEN, json!({ "action": action }))
            }
            Refusal::NotRequester { action, admins_too } => {
                (StatusCode::FORBIDDEN, json!({ "action": action, "admins_too": admins_too }))
            }
            Refusal::NotEligible { person, stage, approvers } => {
                (StatusCode::FORBIDDEN, json!({ "person": person.as_str(), "stage": stage, "approvers": approvers }))
            }
            Refusal::AlreadyApproved { person, stage } | Refusal::ApprovedAnotherStage { person, stage } => {
                (StatusCode::FORBIDDEN, json!({ "person": person.as_str(), "stage": stage }))
            }
            Refusal::UnknownWorkflow(workflow) => (StatusCode::NOT_FOUND, json!({ "workflow": workflow.as_str() })),
            Refusal::StaleDigest { current } => {
                (StatusCode::CONFLICT, json!({ "current_digest": current.to_string() }))
            }
            Refusal::WrongState { action, state } => {
                (StatusCode::CONFLICT, json!({ "action": action, "state": state.as_str() }))
            }
            Refusal::WorkflowChanged { workflow } => (StatusCode::CONFLICT, json!({ "workflow": workflow.as_str() })),
            Refusal::RequestExpired | Refusal::ApprovalExpired | Refusal::NotDue | Refusal::RunMismatch(_) => {
                (StatusCode::CONFLICT, Value::Null)
            }
        };
        Self { status, code: refusal.code(), message: refusal.to_string(), details }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use docket_core::{Digest, PersonId, TicketState};

    fn status_of(refusal: Refusal) -> (StatusCode, &'static str) {
        let e = ApiError::from(refusal);
        (e.status, e.code)
    }

    #[test]
    fn refusals_about_the_actor_are_forbidden_and_timing_is_a_conflict() {
        let bob = PersonId::new("bob");
        assert_eq!(status_of(Refusal::OwnTicket { action: "approve" }).0, StatusCode::FORBIDDEN);
        assert_eq!(
            status_of(Refusal::NotEligible {
                person: bob.clone(),
                stage: "lead".into(),
                approvers: "group:sre".into()
            }),
            (StatusCode::FORBIDDEN, "not_eligible")
        );
        assert_eq!(
            status_of(Refusal::AlreadyApproved { person: bob, stage: "lead".into() }),
            (StatusCode::FORBIDDEN, "already_approved")
        );
        assert_eq!(
            status_of(Refusal::WrongState { action: "approve", state: TicketState::Succeeded }),
            (StatusCode::CONFLICT, "wrong_state")
        );
        assert_eq!(status_of(Refusal::ApprovalExpired), (StatusCode::CONFLICT, "approval_expired"));
        let current = Digest::parse(&"ab".repeat(32)).unwrap();
        let stale = ApiError::from(Refusal::StaleDigest { current });
        assert_eq!(stale.details["current_digest"], "ab".repeat(32));
    }

    /// The whole table, so a change of status is a deliberate one.
    #[test]
    fn every_refusal_and_app_error_has_its_status() {
        use docket_core::{FieldError, ParamErrors, TicketId, WorkflowId};
        let p = || PersonId::new("erin");
        let digest = Digest::parse(&"cd".repeat(32)).unwrap();
        let cases: Vec<(AppError, u16, &str)> = vec![
            (Refusal::UnknownPerson(p()).into(), 403, "unknown_person"),
            (Refusal::UnknownWorkflow(WorkflowId::new("x")).into(), 404, "unknown_workflow"),
            (
                Refusal::NotARequester { person: p(), workflow: WorkflowId::new("x"), allowed: "group:sre".into() }
                    .into(),
                403,
                "not_a_requester",
            ),
            (
                Refusal::InvalidParams(ParamErrors(vec![FieldError { param: "a".into(), message: "b".into() }])).into(),
                400,
                "invalid_params",
            ),
            (Refusal::WrongState { action: "approve", state: TicketState::Denied }.into(), 409, "wrong_state"),
            (Refusal::OwnTicket { action: "approve" }.into(), 403, "own_ticket"),
            (Refusal::AgentCannotDecide { action: "approve" }.into(), 403, "agent_cannot_decide"),
            (Refusal::SystemOnly { action: "run" }.into(), 403, "system_only"),
            (
                Refusal::NotEligible { person: p(), stage: "s".into(), approvers: "a".into() }.into(),
                403,
                "not_eligible",
            ),
            (Refusal::StaleDigest { current: digest }.into(), 409, "stale_digest"),
            (Refusal::AlreadyApproved { person: p(), stage: "s".into() }.into(), 403, "already_approved"),
            (Refusal::ApprovedAnotherStage { person: p(), stage: "s".into() }.into(), 403, "approved_another_stage"),
            (Refusal::RequestExpired.into(), 409, "request_expired"),
            (Refusal::ApprovalExpired.into(), 409, "approval_expired"),
            (Refusal::NotRequester { action: "cancel", admins_too: true }.into(), 403, "not_requester"),
            (Refusal::WorkflowChanged { workflow: WorkflowId::new("x") }.into(), 409, "workflow_changed"),
            (Refusal::NotDue.into(), 409, "not_due"),
            (Refusal::BadText { what: "comment", max: 10 }.into(), 400, "bad_text"),
            (Refusal::RunMismatch("no".into()).into(), 409, "run_mismatch"),
            (AppError::NotFound("ticket DKT-1".into()), 404, "not_found"),
            (AppError::Unauthenticated, 401, "unauthenticated"),
            (AppError::Invalid("bad".into()), 400, "invalid_request"),
            (AppError::Store(StoreError::Conflict(TicketId::new("DKT", 1))), 409, "conflict"),
            (AppError::Store(StoreError::Unavailable("down".into())), 503, "storage_unavailable"),
            (AppError::Store(StoreError::Corrupt("bad row".into())), 503, "storage_unavailable"),
        ];
        for (error, status, code) in cases {
            let e = ApiError::from(error);
            assert_eq!((e.status.as_u16(), e.code), (status, code), "{}", e.message);
        }
    }

    #[test]
    fn store_failures_do_not_leak_their_detail() {
        let e = ApiError::from(AppError::Store(StoreError::Unavailable("SELECT * FROM secrets failed".into())));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!e.message.contains("SELECT"));
    }
}
