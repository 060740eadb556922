//! Surface state: keyed values that surfaces keep, first-writer-wins inserts, prefix listing,
//! pruning by age, forgetting one entry while it holds a value, and deliveries recorded with
//! the change they asked for.

use docket_app::{Delivery, StoreError};

use crate::fixtures::*;
use crate::harness::Harness;

pub(crate) async fn surface_state_puts_lists_and_prunes(h: &Harness) {
    let store = h.store();
    assert_eq!(store.state_get("slack", "thread:DKT-1").await.unwrap(), None);
    store.state_put("slack", "thread:DKT-1", "C1/1.0", at(1)).await.unwrap();
    store.state_put("slack", "thread:DKT-1", "C1/2.0", at(2)).await.unwrap();
    assert_eq!(store.state_get("slack", "thread:DKT-1").await.unwrap().as_deref(), Some("C1/2.0"));
    // Scopes are apart.
    assert_eq!(store.state_get("teams", "thread:DKT-1").await.unwrap(), None);

    assert!(store.state_put_new("slack", "event:Ev1", "", at(3)).await.unwrap());
    assert!(!store.state_put_new("slack", "event:Ev1", "other", at(4)).await.unwrap());
    assert_eq!(store.state_get("slack", "event:Ev1").await.unwrap().as_deref(), Some(""));

    for key in ["copy:DKT-1:b", "copy:DKT-1:a", "copy:DKT-10:a", "copy%DKT-1:z", "copy_DKT-1:y"] {
        store.state_put("slack", key, key, at(5)).await.unwrap();
    }
    let listed = store.state_list("slack", "copy:DKT-1:", 100).await.unwrap();
    let keys: Vec<&str> = listed.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["copy:DKT-1:a", "copy:DKT-1:b"], "prefix is literal, not a pattern");
    assert_eq!(store.state_list("slack", "copy", 2).await.unwrap().len(), 2);

    // Entries stamped before 3 s: the thread (2 s); the event (3 s) stays.
    assert_eq!(store.state_prune("slack", at(3)).await.unwrap(), 1);
    assert_eq!(store.state_get("slack", "thread:DKT-1").await.unwrap(), None);
    assert!(store.state_get("slack", "event:Ev1").await.unwrap().is_some());

    // Forgotten only while it holds the value the caller put: a value put since stays.
    assert!(!store.state_forget("slack", "event:Ev1", "other").await.unwrap());
    assert!(store.state_get("slack", "event:Ev1").await.unwrap().is_some());
    assert!(store.state_forget("slack", "event:Ev1", "").await.unwrap());
    assert_eq!(store.state_get("slack", "event:Ev1").await.unwrap(), None);
    assert!(!store.state_forget("slack", "event:Ev1", "").await.unwrap(), "gone already");
    assert!(store.state_put_new("slack", "event:Ev1", "again", at(6)).await.unwrap(), "a key forgotten is new again");
}

pub(crate) async fn concurrent_first_writers_have_one_winner(h: &Harness) {
    let store = h.store.clone();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.state_put_new("slack", "event:race", &i.to_string(), at(1)).await.unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
}

/// A change made once per delivery records the delivery with itself: a second change for the
/// same delivery (a new ticket or an update) writes nothing at all.
pub(crate) async fn a_change_made_once_per_delivery_records_it_with_itself(h: &Harness) {
    let store = h.store();
    let first = Delivery { scope: "slack.seen", key: "sig:v0=a", note: "" };
    let opening = Tk::opening(1, "deploy-service", "alice", vec![], at(1));
    let committed = store.commit_once(opening.clone(), first).await.unwrap();
    assert_eq!(committed.version, 1);
    // The record holds the ticket the delivery opened.
    assert_eq!(store.state_get("slack.seen", "sig:v0=a").await.unwrap(), Some(id(1).to_string()));
    let tk = Tk { ticket: opening.ticket, version: committed.version };
    let counts = || async {
        (
            h.int("SELECT COUNT(*) FROM tickets").await,
            h.int("SELECT COUNT(*) FROM ticket_events").await,
            h.int("SELECT COUNT(*) FROM audit").await,
        )
    };
    let before = counts().await;

    // The same delivery again, opening another ticket or changing this one: nothing is written.
    let again = Tk::opening(2, "deploy-service", "alice", vec![], at(2));
    assert!(matches!(store.commit_once(again, first).await, Err(StoreError::Delivered(k)) if k == "sig:v0=a"));
    let update = tk.change(vec![comment("alice", "again", at(2))], at(2));
    assert!(matches!(store.commit_once(update.clone(), first).await, Err(StoreError::Delivered(_))));
    assert_eq!(counts().await, before);
    assert!(store.ticket(&id(2)).await.unwrap().is_none());

    // An update made once for a new delivery is written with it.
    let other = Delivery { scope: "slack.seen", key: "sig:v0=b", note: "fingerprint" };
    assert_eq!(store.commit_once(update, other).await.unwrap().version, 2);
    assert_eq!(store.ticket(tk.id()).await.unwrap().unwrap().version, 2);
    let kept = store.state_get("slack.seen", "sig:v0=b").await.unwrap().unwrap();
    assert_eq!(kept, format!("{} fingerprint", tk.id()));
    assert_eq!(Delivery::read(&kept), Some((tk.id().clone(), "fingerprint")));
}

/// Of several changes racing for one delivery, exactly one is written.
pub(crate) async fn concurrent_changes_for_one_delivery_have_one_winner(h: &Harness) {
    let mut tasks = Vec::new();
    for number in 1..=12 {
        let store = h.store.clone();
        tasks.push(tokio::spawn(async move {
            let opening = Tk::opening(number, "deploy-service", "alice", vec![], at(1));
            store.commit_once(opening, Delivery { scope: "slack.seen", key: "sig:v0=race", note: "" }).await
        }));
    }
    let mut written = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => written += 1,
            Err(StoreError::Delivered(key)) => assert_eq!(key, "sig:v0=race"),
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(written, 1);
    assert_eq!(h.int("SELECT COUNT(*) FROM tickets").await, 1);
    assert_eq!(h.int("SELECT COUNT(*) FROM ticket_events").await, 1);
}

/// A change made once that is not written (a stale version, a ticket id already taken) leaves
/// its delivery unrecorded: the delivery is not spent, and the same change, decided again on the
/// ticket as it now stands, is written with it.
pub(crate) async fn a_change_made_once_that_is_not_written_leaves_its_delivery_unspent(h: &Harness) {
    let store = h.store();
    let tk = Tk::open(store, 1, "deploy-service", "alice").await;
    let mut moved = tk.clone();
    moved.commit(store, vec![comment("bob", "moved on", at(1))], at(1)).await;
    let delivery = Delivery { scope: "slack.seen", key: "sig:v0=stale", note: "" };
    let stale = tk.change(vec![comment("alice", "from a stale read", at(2))], at(2));
    assert!(matches!(store.commit_once(stale, delivery).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.state_get("slack.seen", "sig:v0=stale").await.unwrap(), None, "not spent");
    let fresh = moved.change(vec![comment("alice", "decided again", at(3))], at(3));
    assert_eq!(store.commit_once(fresh, delivery).await.unwrap().version, moved.version + 1);
    assert_eq!(store.state_get("slack.seen", "sig:v0=stale").await.unwrap(), Some(tk.id().to_string()));

    // An opening whose id is taken writes nothing either.
    let taken = Delivery { scope: "slack.seen", key: "sig:v0=taken", note: "" };
    let again = Tk::opening(1, "deploy-service", "mallory", vec![], at(4));
    assert!(store.commit_once(again, taken).await.is_err());
    assert_eq!(store.state_get("slack.seen", "sig:v0=taken").await.unwrap(), None, "not spent");
    assert_eq!(h.int("SELECT COUNT(*) FROM tickets WHERE requester = 'mallory'").await, 0);
}
