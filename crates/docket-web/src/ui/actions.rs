//! `POST /tickets/{id}/{action}`: the forms of the ticket page. Each checks the session's CSRF
//! token, then goes through the app's command, which decides; a refusal comes back as the
//! ticket page with the app's reason at the top and nothing changed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use docket_app::AppError;
use docket_core::{Digest, Refusal};

use super::auth::Viewer;
use super::form::FormData;
use super::page::{Chrome, UiError};
use super::request::{amend_errors, raw_params};
use super::ticket::{parse_id, show};
use crate::Web;

/// `POST /tickets/{id}/{action}`
pub(crate) async fn submit(
    State(web): State<Web>,
    viewer: Viewer,
    Path((id, action)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, UiError> {
    act(web, viewer, &id, &action, form).await
}

/// `POST /tickets/{id}/amend` (its path is also the amend form's, so it has a route of its own).
pub(crate) async fn amend(
    State(web): State<Web>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, UiError> {
    act(web, viewer, &id, "amend", form).await
}

async fn act(web: Web, viewer: Viewer, id: &str, action: &str, form: FormData) -> Result<Response, UiError> {
    let id = parse_id(id)?;
    viewer.check_csrf(&web, &form, &format!("{action} {id}")).await?;
    let app = &web.app;
    let actor = &viewer.actor;
    let reason = || form.text("reason").unwrap_or_default();
    let result = match action {
        "approve" => {
            let digest = form
                .text("digest")
                .ok_or_else(|| UiError::BadRequest("The approval has no plan digest.".to_owned()))?;
            let digest =
                Digest::parse(&digest).map_err(|_| UiError::BadRequest("The plan digest is not valid.".to_owned()))?;
            app.approve(actor, &id, digest, form.text("comment")).await
        }
        "reject" => app.reject(actor, &id, reason()).await,
        "request_changes" => app.request_changes(actor, &id, reason()).await,
        "comment" => app.comment(actor, &id, form.text("text").unwrap_or_default()).await,
        "cancel" => app.cancel(actor, &id, form.text("reason")).await,
        "retry" => app.retry(actor, &id).await,
        "amend" => match app.amend(actor, &id, raw_params(&form)).await {
            Err(AppError::Refused(Refusal::InvalidParams(errors))) => {
                return amend_errors(&web, &viewer, &id, &form, &errors.0).await;
            }
            other => other,
        },
        other => return Err(UiError::NotFound(format!("There is no action `{other}` on tickets."))),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/tickets/{id}")).into_response()),
        Err(AppError::Refused(refusal)) => {
            let status = match refusal {
                Refusal::StaleDigest { .. } | Refusal::WrongState { .. } | Refusal::WorkflowChanged { .. } => {
                    StatusCode::CONFLICT
                }
                Refusal::BadText { .. } | Refusal::InvalidParams(_) => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::FORBIDDEN,
            };
            let chrome = Chrome::new(&web, &viewer).with_flash("error", refusal.to_string());
            show(&web, &viewer, &id, chrome, status).await
        }
        Err(other) => Err(other.into()),
    }
}
