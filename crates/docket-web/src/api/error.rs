//! The one error type every route returns, and how app errors and refusals become HTTP
//! statuses. The body is always `{"error": {"code", "message", "details"}}`; messages are the
//! app's and core's words, never a database's.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docket_app::{AppError, ReloadRefused, StoreError};
use docket_core::Refusal;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::schema::{ErrorCode, error_details};

/// One row of the error table: a code, its status, and when it is answered.
#[derive(Debug)]
pub(crate) struct CodeInfo {
    /// The stable code.
    pub(crate) code: &'static str,
    /// The HTTP status it comes with.
    pub(crate) status: u16,
    /// When, in words (the OpenAPI document lists these under each status).
    pub(crate) when: &'static str,
}

const fn code(code: &'static str, status: u16, when: &'static str) -> CodeInfo {
    CodeInfo { code, status, when }
}

/// Every code the API, and the HTTP server in front of it, answers with. The tests check that
/// every error built here has its row, with its status.
pub(crate) const CODES: &[CodeInfo] = &[
    code("invalid_params", 400, "parameter values the workflow refuses; each in `details.fields`"),
    code("bad_text", 400, "a comment, reason or text that is blank or too long"),
    code("invalid_json", 400, "malformed JSON, a wrong type, a missing or unknown field"),
    code("invalid_body", 400, "the request body could not be read"),
    code("invalid_digest", 400, "a digest that is not 64 hex digits"),
    code("invalid_ticket_id", 400, "a path segment that is not a ticket id such as `DKT-42`"),
    code("invalid_query", 400, "an unknown query parameter, or a value that is not what it must be"),
    code("invalid_last_event_id", 400, "a `Last-Event-ID` that is not the `seq` of a log line"),
    code("invalid_path", 400, "a path segment that could not be read"),
    code("invalid_request", 400, "a request the app refuses as malformed"),
    code(
        "invalid_idempotency_key",
        400,
        "an `Idempotency-Key` that is not 1–255 visible ASCII characters but `\"`, or several",
    ),
    code("unauthenticated", 401, "no `Authorization: Bearer` header, or a token nobody has"),
    code("unknown_person", 403, "the token's person is not in the directory"),
    code("not_a_requester", 403, "the caller may not request this workflow"),
    code("own_ticket", 403, "people do not decide on their own tickets"),
    code("agent_cannot_decide", 403, "agents do not approve or reject"),
    code("unknown_agent", 403, "the token's agent is not declared, or no longer acts for its person"),
    code("agent_may_not_request", 403, "the agent's `may_request` does not list this workflow"),
    code("not_agents_ticket", 403, "an agent acts only on the tickets it requested"),
    code("agents_cannot", 403, "agents do not manage tokens"),
    code("not_your_tokens", 403, "only admins manage other people's tokens"),
    code("system_only", 403, "only Docket itself does this"),
    code("not_eligible", 403, "the caller is not an approver of the current stage"),
    code("already_approved", 403, "the caller approved this stage already"),
    code("approved_another_stage", 403, "the caller approved another stage of this ticket"),
    code("not_requester", 403, "only the requester (or an admin, where allowed) does this"),
    code("admin_only", 403, "only admins read the audit log or reload the configuration"),
    code("not_found", 404, "no such ticket, or no such route"),
    code("unknown_workflow", 404, "no such workflow"),
    code("method_not_allowed", 405, "the path does not take this method"),
    code("body_timeout", 408, "the request body did not arrive in time"),
    code("stale_digest", 409, "the plan changed since it was read; `details.current_digest`"),
    code("wrong_state", 409, "the ticket is not in a state for this; `details.state`"),
    code("workflow_changed", 409, "the workflow changed since the ticket was planned"),
    code("request_expired", 409, "the request waited too long for approval"),
    code("approval_expired", 409, "the approval is too old to run on"),
    code("not_due", 409, "the ticket is not due to expire"),
    code("run_mismatch", 409, "a run command that does not fit the run in progress"),
    code("conflict", 409, "someone changed the ticket at the same moment; read it again and retry"),
    code("delivered_before", 409, "the same delivery was made before, and was not done again"),
    code("idempotency_key_in_use", 409, "a request with the same `Idempotency-Key` is still being handled"),
    code("body_too_large", 413, "the request body is larger than the server accepts"),
    code("unsupported_media_type", 415, "the body is not sent with `Content-Type: application/json`"),
    code(
        "reload_refused",
        422,
        "the configuration on disk has errors (`details.errors`, each `file:line:column: message`) or changes \
         what only a restart takes on (`details.restart`); the running configuration stays",
    ),
    code("idempotency_key_reused", 422, "the `Idempotency-Key` was sent before with another request"),
    code("storage_unavailable", 503, "the store did not answer; nothing was changed"),
    code("server_busy", 503, "the server has as many connections open as it may"),
];

/// What every error response carries: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody {
    #[schema(inline)]
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_params`, `own_ticket`, `stale_digest`.
    #[schema(value_type = ErrorCode)]
    code: &'static str,
    /// What went wrong, in words a person can act on. Never internal detail.
    message: String,
    #[schema(schema_with = error_details)]
    details: Value,
}

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

    /// The stable code.
    #[cfg(test)]
    pub(crate) fn code(&self) -> &'static str {
        self.code
    }

    /// The JSON body: `{"error": {"code", "message", "details"}}`.
    pub(crate) fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail { code: self.code, message: self.message.clone(), details: self.details.clone() },
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Refused(refusal) => refusal.into(),
            AppError::NotFound(what) => Self::not_found(format!("{what} not found")),
            AppError::Unauthenticated => Self::unauthenticated("unknown or revoked token"),
            AppError::TokenRefused(why) => Self::unauthenticated(why.to_string()),
            AppError::Invalid(message) => Self::bad_request("invalid_request", message),
            AppError::Store(StoreError::Conflict(id)) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("ticket {id} was changed by someone else at the same moment; read it again and retry"),
            ),
            // No API call is made once per delivery yet.
            AppError::Store(StoreError::Delivered(_)) => Self::new(
                StatusCode::CONFLICT,
                "delivered_before",
                "this request was delivered before, and was not done again",
            ),
            AppError::Store(other) => Self::storage_unavailable(&other),
            AppError::ReloadRefused(refused) => {
                let details = match &refused {
                    ReloadRefused::Invalid(errors) => json!({ "errors": errors }),
                    ReloadRefused::NeedsRestart(keys) => json!({ "restart": keys }),
                    ReloadRefused::Failed(_) | ReloadRefused::Unsupported => serde_json::Value::Null,
                };
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "reload_refused", refused.to_string()).with_details(details)
            }
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
            Refusal::OwnTicket { action }
            | Refusal::AgentCannotDecide { action }
            | Refusal::SystemOnly { action }
            | Refusal::NotAgentsTicket { action }
            | Refusal::AgentsCannot { action }
            | Refusal::NotYourTokens { action }
            | Refusal::AdminsOnly { action } => (StatusCode::FORBIDDEN, json!({ "action": action })),
            Refusal::UnknownAgent { agent, person } => {
                (StatusCode::FORBIDDEN, json!({ "agent": agent, "person": person.as_str() }))
            }
            Refusal::AgentMayNotRequest { agent, workflow, allowed } => {
                (StatusCode::FORBIDDEN, json!({ "agent": agent, "workflow": workflow.as_str(), "allowed": allowed }))
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
            (AppError::Store(StoreError::Delivered("sig:1:v0=ab".into())), 409, "delivered_before"),
            (AppError::Store(StoreError::Unavailable("down".into())), 503, "storage_unavailable"),
            (AppError::Store(StoreError::Corrupt("bad row".into())), 503, "storage_unavailable"),
        ];
        for (error, status, code) in cases {
            let e = ApiError::from(error);
            assert_eq!((e.status.as_u16(), e.code), (status, code), "{}", e.message);
            assert!(
                CODES.iter().any(|row| (row.code, row.status) == (code, status)),
                "{code} ({status}) is missing from the error table the OpenAPI document lists"
            );
        }
    }

    #[test]
    fn store_failures_do_not_leak_their_detail() {
        let e = ApiError::from(AppError::Store(StoreError::Unavailable("SELECT * FROM secrets failed".into())));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!e.message.contains("SELECT"));
    }
}
