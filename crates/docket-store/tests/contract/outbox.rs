//! The outbox: messages committed with their change, delivered in order per thread, retried
//! later or given up.

use docket_app::{NewOutboxMessage, Store};
use docket_core::TicketId;

use crate::fixtures::*;
use crate::harness::Harness;

/// Commits a comment on `tk` that causes `messages`.
async fn notify(store: &dyn Store, tk: &mut Tk, messages: Vec<NewOutboxMessage>, minute: i64) {
    let mut change = tk.change(vec![comment("bob", "note", at(minute))], at(minute));
    change.outbox = messages;
    tk.commit_change(store, change).await.unwrap();
}

async fn due_keys(store: &dyn Store, minute: i64) -> Vec<(String, String)> {
    let due = store.due_outbox(at(minute), 100).await.unwrap();
    due.into_iter().map(|m| (m.message.notifier, m.message.key)).collect()
}

fn pair(notifier: &str, key: &str) -> (String, String) {
    (notifier.to_owned(), key.to_owned())
}

async fn id_of(store: &dyn Store, minute: i64, key: &str) -> u64 {
    let due = store.due_outbox(at(minute), 100).await.unwrap();
    due.iter().find(|m| m.message.key == key).map(|m| m.id).unwrap()
}

pub(crate) async fn each_thread_gets_its_messages_in_order(h: &Harness) {
    let store = h.store();
    let mut one = Tk::open(store, 1, "deploy-service", "alice").await;
    let mut two = Tk::open(store, 2, "deploy-service", "alice").await;
    let (t1, t2): (TicketId, TicketId) = (one.id().clone(), two.id().clone());
    assert!(store.due_outbox(at(1), 100).await.unwrap().is_empty());
    notify(store, &mut one, vec![note("slack", &t1, "request"), note("teams", &t1, "request")], 1).await;
    notify(store, &mut two, vec![note("slack", &t2, "request")], 1).await;
    notify(store, &mut one, vec![note("slack", &t1, "approved")], 2).await;

    // Messages are due from their commit time, oldest first, one per (notifier, ticket).
    assert!(store.due_outbox(at(0), 100).await.unwrap().is_empty());
    assert_eq!(
        due_keys(store, 2).await,
        [pair("slack", "request"), pair("teams", "request"), pair("slack", "request")]
    );
    let due = store.due_outbox(at(2), 100).await.unwrap();
    assert!(due.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(due[0].message, note("slack", &t1, "request"));
    assert_eq!((due[0].attempts, due[0].created_at), (0, at(1)));
    assert_eq!(store.due_outbox(at(2), 1).await.unwrap().len(), 1);

    store.outbox_delivered(due[0].id, at(3)).await.unwrap();
    let keys = due_keys(store, 3).await;
    assert_eq!(keys, [pair("teams", "request"), pair("slack", "request"), pair("slack", "approved")]);
    let now_due = store.due_outbox(at(3), 100).await.unwrap();
    assert_eq!(now_due[2].message.ticket, t1);
    // Delivering again changes nothing; delivered messages are never due again.
    store.outbox_delivered(due[0].id, at(4)).await.unwrap();
    for m in &now_due {
        store.outbox_delivered(m.id, at(4)).await.unwrap();
    }
    assert!(store.due_outbox(at(1000), 100).await.unwrap().is_empty());
    assert_eq!(h.int("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NOT NULL").await, 4);
}

pub(crate) async fn failures_retry_later_or_give_up(h: &Harness) {
    let store = h.store();
    let mut one = Tk::open(store, 1, "deploy-service", "alice").await;
    let t1 = one.id().clone();
    notify(store, &mut one, vec![note("slack", &t1, "first"), note("slack", &t1, "second")], 1).await;
    notify(store, &mut one, vec![note("teams", &t1, "other")], 1).await;
    let first = id_of(store, 1, "first").await;

    store.outbox_failed(first, "slack: rate limited", Some(at(10))).await.unwrap();
    // Not due before its retry time, and it still holds back the second message.
    assert_eq!(due_keys(store, 9).await, [pair("teams", "other")]);
    let again = store.due_outbox(at(10), 100).await.unwrap();
    assert_eq!((again[0].message.key.as_str(), again[0].attempts), ("first", 1));
    store.outbox_failed(first, "slack: rate limited", Some(at(20))).await.unwrap();
    assert_eq!(store.due_outbox(at(20), 100).await.unwrap()[0].attempts, 2);
    assert_eq!(h.texts("SELECT last_error FROM outbox WHERE attempts = 2").await, ["slack: rate limited"]);

    // Giving up: never due again, kept with its error, and the thread moves on.
    store.outbox_failed(first, "slack: channel_not_found", None).await.unwrap();
    assert_eq!(due_keys(store, 1000).await, [pair("slack", "second"), pair("teams", "other")]);
    assert_eq!(h.int("SELECT attempts FROM outbox WHERE last_error = 'slack: channel_not_found'").await, 3);
    assert_eq!(h.int("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL").await, 3);
    let oldest = store.stats().await.unwrap().oldest_undelivered;
    assert_eq!(oldest, Some(at(1)));
}

/// The tickets and keys of claimed messages, in the order given.
fn claimed_keys(messages: &[docket_app::OutboxMessage]) -> Vec<(TicketId, String)> {
    messages.iter().map(|m| (m.message.ticket.clone(), m.message.key.clone())).collect()
}

pub(crate) async fn a_ticket_is_claimed_by_one_holder_until_released_or_lapsed(h: &Harness) {
    let store = h.store();
    let mut one = Tk::open(store, 1, "deploy-service", "alice").await;
    let mut two = Tk::open(store, 2, "deploy-service", "alice").await;
    let mut three = Tk::open(store, 3, "deploy-service", "alice").await;
    let (t1, t2, t3) = (one.id().clone(), two.id().clone(), three.id().clone());
    assert!(store.claim_outbox("a", at(2), at(10), 100).await.unwrap().is_empty());
    notify(store, &mut one, vec![note("slack", &t1, "request"), note("teams", &t1, "request")], 1).await;
    notify(store, &mut one, vec![note("slack", &t1, "approved")], 1).await;
    notify(store, &mut two, vec![note("slack", &t2, "request")], 1).await;
    notify(store, &mut three, vec![note("slack", &t3, "request")], 1).await;

    // `limit` counts tickets; each ticket's due messages come whole, oldest first.
    let first = store.claim_outbox("a", at(2), at(10), 2).await.unwrap();
    let request = || "request".to_owned();
    assert_eq!(claimed_keys(&first), [(t1.clone(), request()), (t1.clone(), request()), (t2.clone(), request())]);
    assert!(first.iter().all(|m| m.claims == 1 && !m.may_have_been_delivered()));
    // Nobody else gets them, nor does the holder get them twice; the free ticket is still free.
    let other = store.claim_outbox("b", at(2), at(10), 100).await.unwrap();
    assert_eq!(claimed_keys(&other), [(t3.clone(), request())]);
    assert!(store.claim_outbox("a", at(3), at(10), 100).await.unwrap().is_empty());
    assert!(store.claim_outbox("c", at(3), at(10), 100).await.unwrap().is_empty());
    // Only the holder renews.
    assert!(store.renew_outbox("a", &t1, at(20)).await.unwrap());
    assert!(!store.renew_outbox("b", &t1, at(20)).await.unwrap());
    assert!(!store.renew_outbox("a", &id(99), at(20)).await.unwrap());

    // Released after one delivery: the next message of the thread is claimable at once.
    store.outbox_delivered(first[0].id, at(4)).await.unwrap();
    store.release_outbox("b", &t1).await.unwrap();
    assert!(store.claim_outbox("c", at(4), at(30), 100).await.unwrap().is_empty(), "only the holder releases");
    store.release_outbox("a", &t1).await.unwrap();
    let next = store.claim_outbox("c", at(4), at(30), 100).await.unwrap();
    assert_eq!(claimed_keys(&next), [(t1.clone(), request()), (t1.clone(), "approved".to_owned())]);
    // Teams' request was claimed before and not delivered: its first claimant may have posted it.
    assert_eq!(
        next.iter().map(|m| (m.claims, m.may_have_been_delivered())).collect::<Vec<_>>(),
        [(2, true), (1, false)]
    );

    // t2's and t3's claims lapse at 10 (renewed until 20 was t1's): anyone may take them, and
    // it counts.
    assert!(store.claim_outbox("c", at(9), at(30), 100).await.unwrap().is_empty());
    let taken = store.claim_outbox("c", at(10), at(30), 100).await.unwrap();
    assert_eq!(claimed_keys(&taken), [(t2.clone(), request()), (t3.clone(), request())]);
    assert!(taken.iter().all(docket_app::OutboxMessage::may_have_been_delivered));
    assert!(!store.renew_outbox("a", &t2, at(40)).await.unwrap());

    // Ending every lease (a single server starting) frees every claim.
    store.end_all_leases().await.unwrap();
    let all = store.claim_outbox("d", at(11), at(30), 100).await.unwrap();
    assert_eq!(all.len(), 4);

    // A ticket whose due messages all wait behind ones to be retried later is not claimed: a
    // claim with nothing to deliver would hold the ticket for a whole lease.
    store.end_all_leases().await.unwrap();
    for m in all.iter().filter(|m| m.message.ticket == t1) {
        store.outbox_failed(m.id, "timeout", Some(at(50))).await.unwrap();
    }
    notify(store, &mut one, vec![note("slack", &t1, "later")], 1).await;
    let claimed = store.claim_outbox("e", at(12), at(100), 100).await.unwrap();
    assert!(claimed.iter().all(|m| m.message.ticket != t1), "{:?}", claimed_keys(&claimed));
    let retried = store.claim_outbox("f", at(50), at(100), 100).await.unwrap();
    assert_eq!(retried.iter().filter(|m| m.message.ticket == t1).count(), 2, "{:?}", claimed_keys(&retried));
}

pub(crate) async fn concurrent_claimers_never_share_a_ticket(h: &Harness) {
    let mut expected = Vec::new();
    for n in 1..=12u64 {
        let mut tk = Tk::open(h.store(), n, "deploy-service", "alice").await;
        let ticket = tk.id().clone();
        notify(h.store(), &mut tk, vec![note("slack", &ticket, "request"), note("teams", &ticket, "request")], 1).await;
        expected.push(ticket);
    }
    let mut tasks = Vec::new();
    for holder in 0..6 {
        let store = h.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = store.claim_outbox(&format!("r{holder}"), at(2), at(60), 2).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed);
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    assert_eq!(claimed.len(), 24, "each message once: {:?}", claimed_keys(&claimed));
    assert!(claimed.iter().all(|m| m.claims == 1));
    let mut tickets: Vec<TicketId> = claimed.iter().map(|m| m.message.ticket.clone()).collect();
    tickets.sort();
    tickets.dedup();
    expected.sort();
    assert_eq!(tickets, expected);
}
