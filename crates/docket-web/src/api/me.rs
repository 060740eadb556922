//! `/me`: who the caller's token acts as, as the directory knows them.

use axum::Json;
use axum::extract::State;

use super::error::ApiError;
use super::extract::Caller;
use super::schema::{Unauthenticated, Unavailable};
use super::view::PersonView;
use crate::Web;

/// Who the token acts as.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "meta",
    operation_id = "me",
    responses(
        (status = 200, description = "The caller.", body = PersonView),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn me(State(web): State<Web>, caller: Caller) -> Result<Json<PersonView>, ApiError> {
    let person = web
        .app
        .rules()
        .directory
        .person(&caller.person)
        .ok_or_else(|| ApiError::unauthenticated("the token's person is no longer in the directory"))?;
    Ok(Json(PersonView::from(person)))
}
