//! Wake-ups between replicas: on PostgreSQL a second store on the same database hears each
//! committed change, stored log batch and announced reload of the first (and not its own),
//! nothing of a change that rolled back; it says when it first listens, and after its listening
//! connection is cut it listens again and says that it may have missed some. SQLite has nobody to hear (an announced reload
//! goes nowhere) and only waits for the stop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use docket_app::{LogLine, LogStream, Store, Wakeup};
use docket_core::{Event, TicketState};
use tokio_util::sync::CancellationToken;

use crate::fixtures::*;
use crate::harness::Harness;

type Heard = Arc<Mutex<Vec<Wakeup>>>;

/// Starts `store` listening; returns what it hears and the stop.
fn listening(store: Arc<dyn Store>) -> (Heard, CancellationToken, tokio::task::JoinHandle<()>) {
    let heard: Heard = Arc::default();
    let sink = heard.clone();
    let stop = CancellationToken::new();
    let until = stop.clone();
    let task = tokio::spawn(async move {
        store.listen(Box::new(move |w| sink.lock().unwrap().push(w)), until).await;
    });
    (heard, stop, task)
}

/// Waits until `heard` holds something `matches` accepts.
async fn hear(heard: &Heard, what: &str, matches: impl Fn(&Wakeup) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !heard.lock().unwrap().iter().any(&matches) {
        assert!(tokio::time::Instant::now() < deadline, "never heard {what}: {:?}", heard.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn line(tk: &Tk, seq: u64) -> LogLine {
    LogLine { ticket: tk.id().clone(), run: 1, step: 0, seq, stream: LogStream::Stdout, text: "x".into(), at: t0() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_hear_each_others_commits_and_a_cut_connection() {
    let h = Harness::postgres().await;
    let other = h.reopen().await;
    let (heard, stop, task) = listening(other.clone());
    // It says when it listens, before anything else.
    let store = h.store();
    hear(&heard, "that it listens", |w| *w == Wakeup::Listening).await;
    assert_eq!(heard.lock().unwrap().as_slice(), [Wakeup::Listening]);
    let mut one = Tk::open(store, 1, "deploy-service", "alice").await;
    hear(&heard, "a new ticket", |w| matches!(w, Wakeup::Ticket { ticket, .. } if ticket == one.id())).await;
    heard.lock().unwrap().clear();

    one.commit_queue(store, vec![Event::Queued], at(1), docket_app::QueueOp::Enqueue { concurrency_key: None }).await;
    hear(&heard, "a queued run", |w| {
        matches!(w, Wakeup::Ticket { ticket, state: TicketState::Queued, run: true, outbox: false, .. } if ticket == one.id())
    })
    .await;
    store.append_logs(&[line(&one, 1), line(&one, 2), line(&one, 3)]).await.unwrap();
    hear(&heard, "stored lines", |w| matches!(w, Wakeup::Logged { seq: 3, .. })).await;
    store.announce_reload("5f2a9c").await.unwrap();
    hear(&heard, "a reload", |w| matches!(w, Wakeup::Reloaded { digest } if digest == "5f2a9c")).await;

    // A stale commit rolls back and tells nobody; the listener's own commits are not heard.
    let mut stale = one.change(vec![comment("bob", "late", at(2))], at(2));
    stale.expected_version -= 1;
    assert!(store.commit(stale).await.is_err());
    Tk::open(&*other, 2, "deploy-service", "bob").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(heard.lock().unwrap().len(), 3, "{:?}", heard.lock().unwrap());

    // The listening connection is cut: it comes back and says it may have missed some.
    let cut = h
        .int(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = 'docket-listener' AND datname = current_database()",
        )
        .await;
    assert_eq!(cut, 1);
    hear(&heard, "that it may have missed some", |w| *w == Wakeup::Missed).await;
    one.commit_change(store, one.change(vec![comment("bob", "again", at(3))], at(3))).await.unwrap();
    hear(&heard, "a change after the cut", |w| matches!(w, Wakeup::Ticket { version, .. } if *version == one.version))
        .await;

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("stops when told").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_has_nobody_to_hear_and_stops_when_told() {
    let h = Harness::sqlite().await;
    let (heard, stop, task) = listening(h.store.clone());
    Tk::open(h.store(), 1, "deploy-service", "alice").await;
    h.store().announce_reload("5f2a9c").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("stops when told").unwrap();
    assert!(heard.lock().unwrap().is_empty());
}
