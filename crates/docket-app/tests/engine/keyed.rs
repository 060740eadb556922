//! A request made once per key (`App::request_keyed`): the first opens the ticket and records
//! the key with it; every later one, or one whose first is still being opened, is told what the
//! first left, and opens nothing; a refused request records nothing.

use std::time::Duration;

use docket_app::{Earlier, OnceKey, Pruned, Requested};
use docket_core::{Refusal, Ticket};
use docket_testkit::TestApp;

use crate::{api, deploy, person};

static KEPT: Pruned = Pruned::new("keys", Duration::from_secs(3600), 1_000);

/// The key `key`, with `note`, recorded in [`KEPT`].
fn once(key: &'static str, note: &'static str) -> Option<OnceKey<'static>> {
    Some(OnceKey { kept: &KEPT, key, note })
}

/// The tickets stored so far, however many.
async fn tickets(t: &TestApp) -> usize {
    t.app.tickets(&docket_app::TicketFilter::default()).await.unwrap().tickets.len()
}

fn before(requested: Requested) -> Earlier {
    match requested {
        Requested::Before(earlier) => earlier,
        Requested::Opened(ticket) => panic!("opened {} again", ticket.id),
    }
}

fn opened(requested: Requested) -> Ticket {
    match requested {
        Requested::Opened(ticket) => ticket,
        Requested::Before(earlier) => panic!("not opened: {earlier:?}"),
    }
}

#[tokio::test]
async fn a_key_opens_one_ticket_and_leads_to_it_after() {
    let t = TestApp::builder().without_engine().start().await;
    let (alice, deploy_id) = (person("alice"), "deploy".into());
    let request = |key: &'static str, note: &'static str, env: &'static str| {
        t.app.request_keyed(&alice, &deploy_id, deploy(env), api(), once(key, note))
    };

    let first = opened(request("k1", "fp", "prod").await.unwrap());
    let again = before(request("k1", "fp", "prod").await.unwrap());
    assert_eq!(again.note.as_deref(), Some("fp"));
    assert_eq!(again.ticket.map(|t| t.id), Some(first.id.clone()));
    // Another request under the same key is told the same: the surface words the mismatch.
    let other = before(request("k1", "other", "staging").await.unwrap());
    assert_eq!(other.note.as_deref(), Some("fp"), "the first request's note");
    assert_eq!(tickets(&t).await, 1);

    // Refused: nothing recorded, so the same key, fixed, opens its ticket.
    let refused = request("k2", "", "nowhere").await.unwrap_err();
    assert!(matches!(refused, docket_app::AppError::Refused(Refusal::InvalidParams(_))), "{refused:?}");
    assert_eq!(t.app.recall("keys", "k2").await.unwrap(), None);
    let fixed = opened(request("k2", "", "staging").await.unwrap());
    assert_ne!(fixed.id, first.id);
    t.stop().await;
}

#[tokio::test]
async fn a_key_whose_ticket_is_not_stored_yet_opens_nothing() {
    let t = TestApp::builder().without_engine().start().await;
    let (alice, deploy_id) = (person("alice"), "deploy".into());
    // What a store that writes the record just before the ticket leaves in between.
    t.app.remember("keys", "early", "DKT-999 fp").await.unwrap();
    t.app.remember("keys", "unreadable", "not an id").await.unwrap();

    let early =
        before(t.app.request_keyed(&alice, &deploy_id, deploy("prod"), api(), once("early", "fp")).await.unwrap());
    assert_eq!((early.note.as_deref(), early.ticket.is_none()), (Some("fp"), true));
    let unreadable =
        before(t.app.request_keyed(&alice, &deploy_id, deploy("prod"), api(), once("unreadable", "")).await.unwrap());
    assert_eq!((unreadable.note, unreadable.ticket.is_none()), (None, true));
    // Looked up before anything is decided: a copy that would now be refused is told the same.
    let not_decided =
        before(t.app.request_keyed(&alice, &deploy_id, deploy("nowhere"), api(), once("early", "fp")).await.unwrap());
    assert_eq!(not_decided.note.as_deref(), Some("fp"));
    assert_eq!(tickets(&t).await, 0);
    t.stop().await;
}
