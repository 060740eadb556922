//! `/`: the viewer's open requests, what waits for their approval, and recent runs.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use docket_app::TicketFilter;
use docket_core::TicketState;

use super::auth::Viewer;
use super::page::{Chrome, UiError, ok};
use super::view::TicketRow;
use crate::Web;

/// Tickets shown under "waiting for my approval".
const AWAITING_SHOWN: usize = 50;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    mine: Vec<TicketRow>,
    to_approve: Vec<TicketRow>,
    runs: Vec<TicketRow>,
}

/// `GET /`
pub(crate) async fn page(State(web): State<Web>, viewer: Viewer) -> Result<Response, UiError> {
    let open: Vec<TicketState> = TicketState::ALL.into_iter().filter(|s| !s.is_terminal()).collect();
    let mine = web
        .app
        .tickets(&TicketFilter {
            states: open,
            requester: Some(viewer.person.clone()),
            limit: 20,
            ..Default::default()
        })
        .await?;
    let to_approve =
        web.app.waiting_for(&viewer.actor, AWAITING_SHOWN).await?.iter().map(|t| TicketRow::new(&web.app, t)).collect();
    let runs = web
        .app
        .tickets(&TicketFilter {
            states: vec![TicketState::Running, TicketState::Succeeded, TicketState::Failed, TicketState::Interrupted],
            limit: 10,
            ..Default::default()
        })
        .await?;
    ok(&HomePage {
        chrome: Chrome::new(&web, &viewer),
        mine: mine.tickets.iter().map(|t| TicketRow::new(&web.app, t)).collect(),
        to_approve,
        runs: runs.tickets.iter().map(|t| TicketRow::new(&web.app, t)).collect(),
    })
}
