//! `/me`: who the caller's token acts as, as the directory knows them, and `/me/waiting`: the
//! tickets waiting for their approval now.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::Caller;
use super::schema::{Unauthenticated, Unavailable};
use super::view::{PersonView, TicketSummary};
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
    let rules = web.app.rules();
    let person = rules
        .directory
        .person(&caller.person)
        .ok_or_else(|| ApiError::unauthenticated("the token's person is no longer in the directory"))?;
    Ok(Json(PersonView::from(person)))
}

/// Tickets shown by `GET /me/waiting`.
const WAITING_SHOWN: usize = 100;

/// `GET /me/waiting`
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WaitingList)]
pub(crate) struct WaitingList {
    /// Newest first, at most 100.
    tickets: Vec<TicketSummary>,
    /// Whether more are waiting than shown.
    more: bool,
}

/// The tickets waiting for the caller's approval now: those where approving would be accepted
/// (the caller is eligible for the stage being asked and is not the requester).
#[utoipa::path(
    get,
    path = "/api/v1/me/waiting",
    tag = "tickets",
    operation_id = "waiting_for_me",
    responses(
        (status = 200, description = "The tickets, newest first.", body = WaitingList),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    )
)]
pub(crate) async fn waiting(State(web): State<Web>, caller: Caller) -> Result<Json<WaitingList>, ApiError> {
    let tickets = web.app.waiting_for(&caller.actor, WAITING_SHOWN + 1).await?;
    let more = tickets.len() > WAITING_SHOWN;
    let tickets = tickets.iter().take(WAITING_SHOWN).map(TicketSummary::from).collect();
    Ok(Json(WaitingList { tickets, more }))
}
