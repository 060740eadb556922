//! `/me`: who the caller's token acts as, as the directory knows them.

use axum::Json;
use axum::extract::State;

use super::error::ApiError;
use super::extract::Caller;
use super::view::PersonView;
use crate::Web;

/// `GET /me`: who the token acts as.
pub(crate) async fn me(State(web): State<Web>, caller: Caller) -> Result<Json<PersonView>, ApiError> {
    let person = web
        .app
        .rules()
        .directory
        .person(&caller.person)
        .ok_or_else(|| ApiError::unauthenticated("the token's person is no longer in the directory"))?;
    Ok(Json(PersonView::from(person)))
}
