//! PostgreSQL's group commit, forced: a raw connection holds the audit lock, so the writer waits
//! at the end of a batch of one write while the writes under test queue up behind it; when the
//! lock is let go they all run in one transaction (their rows share one `xmin`). Also: a
//! statement failing inside a batch, a batch failing at `COMMIT`, and two stores (two replicas)
//! writing at once.

use std::sync::Arc;
use std::time::Duration;

use docket_app::{QueueOp, Store, StoreError, TicketStore as _};
use docket_core::Event;
use docket_core::audit;
use docket_store::PgStore;
use sqlx::PgConnection;
use tokio::task::JoinHandle;

use crate::fixtures::*;
use crate::harness::Harness;

/// The audit lock's key (`postgres::audit::AUDIT_LOCK`).
const AUDIT_LOCK: i64 = 0x646f_636b_6574_0002;

/// Holds the audit lock until [`Held::release`]; the writer's next batch waits for it.
async fn hold(h: &Harness) -> Held {
    let mut conn = h.pg_connection().await;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(AUDIT_LOCK).execute(&mut conn).await.unwrap();
    // The writer starts a batch with this write alone and waits for the lock.
    let store = h.store.clone();
    let first = tokio::spawn(async move { store.append_audit(vec![loose_entry("test.first", at(0))]).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    Held { conn, first }
}

struct Held {
    conn: PgConnection,
    first: JoinHandle<Result<Vec<audit::AuditRecord>, StoreError>>,
}

impl Held {
    /// Lets the writer go once the writes under test have had time to queue.
    async fn release(mut self) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(AUDIT_LOCK).execute(&mut self.conn).await.unwrap();
        self.first.await.unwrap().unwrap();
    }
}

fn spawn_commit(store: &Arc<dyn Store>, change: docket_app::Change) -> JoinHandle<Result<u64, StoreError>> {
    let store = store.clone();
    tokio::spawn(async move { store.commit(change).await.map(|c| c.version) })
}

async fn chain(h: &Harness) -> Result<u64, audit::BrokenLink> {
    audit::verify(&h.store().audit(0, 10_000).await.unwrap())
}

pub(crate) async fn a_conflict_inside_a_batch_fails_alone(h: &Harness) {
    let store = &h.store;
    let mut current = Vec::new();
    let mut stale = Vec::new();
    for n in 1..=14u64 {
        let mut tk = Tk::open(&**store, n, "deploy-service", "alice").await;
        if n > 12 {
            stale.push(tk.clone());
            tk.commit(&**store, vec![needs_approval(at(60))], at(1)).await;
        }
        current.push(tk);
    }
    let before = h.int("SELECT COUNT(*) FROM audit").await;

    let held = hold(h).await;
    let mut fresh = Vec::new();
    for tk in &current[..6] {
        fresh.push(spawn_commit(store, tk.change(vec![comment("bob", "fresh", at(5))], at(5))));
    }
    let stale_a = spawn_commit(store, stale[0].change(vec![comment("eve", "stale", at(5))], at(5)));
    for tk in &current[6..12] {
        fresh.push(spawn_commit(store, tk.change(vec![comment("bob", "fresh", at(5))], at(5))));
    }
    let stale_b = spawn_commit(store, stale[1].change(vec![comment("eve", "stale", at(5))], at(5)));
    // New tickets, one of them taking a number in use; loose appends; a queue change.
    for n in 20..=25u64 {
        fresh.push(spawn_commit(store, Tk::opening(n, "deploy-service", "alice", vec![], at(6))));
    }
    let taken = spawn_commit(store, Tk::opening(7, "deploy-service", "mallory", vec![], at(6)));
    let mut queue = current[12].change(vec![Event::Queued], at(7));
    queue.queue = QueueOp::Enqueue { concurrency_key: None };
    fresh.push(spawn_commit(store, queue));
    let appends: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.append_audit(vec![loose_entry("test.loose", at(8))]).await })
        })
        .collect();
    held.release().await;

    for task in fresh {
        assert!(task.await.unwrap().is_ok());
    }
    for (task, ticket) in [(stale_a, id(13)), (stale_b, id(14)), (taken, id(7))] {
        assert!(matches!(task.await.unwrap(), Err(StoreError::Conflict(t)) if t == ticket));
    }
    for task in appends {
        assert_eq!(task.await.unwrap().unwrap().len(), 1);
    }
    assert_eq!(h.int("SELECT COUNT(*) FROM comments WHERE author = 'bob'").await, 12);
    assert_eq!(h.int("SELECT COUNT(*) FROM comments WHERE author = 'eve'").await, 0);
    assert_eq!(h.int("SELECT COUNT(*) FROM tickets").await, 14 + 6);
    assert_eq!(h.int("SELECT COUNT(*) FROM tickets WHERE requester = 'mallory'").await, 0);
    assert_eq!(h.int("SELECT COUNT(*) FROM run_queue").await, 1);
    // They were written by one transaction: the queued writes made one batch.
    let writers = "SELECT COUNT(DISTINCT xmin::text) FROM (SELECT xmin FROM comments WHERE author = 'bob' \
                   UNION ALL SELECT xmin FROM tickets WHERE number >= 20 UNION ALL SELECT xmin FROM run_queue) w";
    assert_eq!(h.int(writers).await, 1);
    // The first write, 12 comments, 6 new tickets and 3 loose entries, 1 queued event.
    let expected = before + 1 + 12 + 6 + 3 + 1;
    assert_eq!(chain(h).await, Ok(expected as u64));
}

pub(crate) async fn a_failing_statement_inside_a_batch_fails_alone(h: &Harness) {
    let store = &h.store;
    let mut tickets = Vec::new();
    for n in 1..=8u64 {
        tickets.push(Tk::open(&**store, n, "deploy-service", "alice").await);
    }
    // A comment saying "boom" cannot be stored: the statement fails, not as a conflict.
    h.execute(
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.text = 'boom' THEN RAISE EXCEPTION 'no booms here'; END IF; RETURN NEW; END $$",
    )
    .await;
    h.execute("CREATE TRIGGER boom BEFORE INSERT ON comments FOR EACH ROW EXECUTE FUNCTION boom()").await;
    let before = h.int("SELECT COUNT(*) FROM audit").await;
    let once = |tk: &Tk, text: &str, key: &'static str| {
        let (store, change) = (store.clone(), tk.change(vec![comment("bob", text, at(5))], at(5)));
        tokio::spawn(async move {
            let delivery = docket_app::Delivery { scope: "slack.seen", key, note: "" };
            store.commit_once(change, delivery).await.map(|c| c.version)
        })
    };

    let held = hold(h).await;
    let mut fine = Vec::new();
    for tk in &tickets[..5] {
        fine.push(spawn_commit(store, tk.change(vec![comment("bob", "fine", at(5))], at(5))));
    }
    let boom = spawn_commit(store, tickets[5].change(vec![comment("bob", "boom", at(5))], at(5)));
    // Made once per delivery, in delivery order: the first applies, then the second fails, so
    // the first is rolled back with the batch and applied again in a savepoint of its own.
    let once_fine = once(&tickets[6], "fine", "sig:a");
    let once_boom = once(&tickets[7], "boom", "sig:b");
    held.release().await;

    for task in fine {
        assert_eq!(task.await.unwrap().unwrap(), 4);
    }
    assert!(matches!(boom.await.unwrap(), Err(StoreError::Unavailable(m)) if m.contains("no booms here")));
    assert_eq!(once_fine.await.unwrap().unwrap(), 4);
    assert!(matches!(once_boom.await.unwrap(), Err(StoreError::Unavailable(m)) if m.contains("no booms here")));
    assert_eq!(h.store().state_get("slack.seen", "sig:a").await.unwrap(), Some(tickets[6].id().to_string()));
    assert_eq!(h.store().state_get("slack.seen", "sig:b").await.unwrap(), None, "not spent");
    // (Each write ran again in a savepoint of its own, a subtransaction, so their rows do not
    // share one `xmin` here.)
    assert_eq!(h.int("SELECT COUNT(*) FROM comments").await, 6);
    assert_eq!(h.store().ticket(tickets[5].id()).await.unwrap().unwrap().version, 3);
    assert_eq!(h.store().ticket(tickets[7].id()).await.unwrap().unwrap().version, 3);
    assert_eq!(chain(h).await, Ok(before as u64 + 1 + 6));
}

pub(crate) async fn a_failed_commit_reaches_every_caller_in_the_batch(h: &Harness) {
    let store = &h.store;
    let mut tk = Tk::open(&**store, 1, "deploy-service", "alice").await;
    // A commit with an outbox message keyed `poison` breaks a deferred foreign key, which
    // PostgreSQL checks only at COMMIT.
    h.execute("CREATE TABLE poison (ticket TEXT REFERENCES tickets (id) DEFERRABLE INITIALLY DEFERRED)").await;
    h.execute(
        "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.key = 'poison' THEN INSERT INTO poison VALUES ('no-such-ticket'); END IF; RETURN NEW; END $$",
    )
    .await;
    h.execute("CREATE TRIGGER poison AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION poison()").await;
    let counts = "SELECT (SELECT COUNT(*) FROM tickets) * 1000 + (SELECT COUNT(*) FROM ticket_events)";
    let before = h.int(counts).await;
    let audit_before = h.int("SELECT COUNT(*) FROM audit").await;

    let held = hold(h).await;
    let mut doomed = Vec::new();
    for n in 10..=15u64 {
        doomed.push(spawn_commit(store, Tk::opening(n, "deploy-service", "alice", vec![], at(1))));
    }
    let mut bad = tk.change(vec![comment("bob", "poisoned", at(2))], at(2));
    bad.outbox.push(note("slack", tk.id(), "poison"));
    doomed.push(spawn_commit(store, bad));
    // A ticket opened once for a delivery, in the same batch: its record goes with it.
    doomed.push({
        let store = store.clone();
        let opening = Tk::opening(16, "deploy-service", "alice", vec![], at(1));
        tokio::spawn(async move {
            let delivery = docket_app::Delivery { scope: "slack.seen", key: "sig:doomed", note: "" };
            store.commit_once(opening, delivery).await.map(|c| c.version)
        })
    });
    let appended = {
        let store = store.clone();
        tokio::spawn(async move { store.append_audit(vec![loose_entry("test.doomed", at(3))]).await })
    };
    held.release().await;

    for task in doomed {
        let result = task.await.unwrap();
        assert!(matches!(&result, Err(StoreError::Unavailable(m)) if m.contains("not committed")), "{result:?}");
    }
    assert!(matches!(appended.await.unwrap(), Err(StoreError::Unavailable(_))));
    // Nothing any of them did is there; only the first write's audit record is new.
    assert_eq!(h.int(counts).await, before);
    assert_eq!(h.int("SELECT COUNT(*) FROM audit").await, audit_before + 1);
    assert_eq!(h.int("SELECT COUNT(*) FROM poison").await, 0);
    assert_eq!(store.state_get("slack.seen", "sig:doomed").await.unwrap(), None, "the delivery is not spent");

    // The writer goes on: the same change without the poison commits.
    tk.commit(&**store, vec![comment("bob", "cured", at(4))], at(4)).await;
    assert_eq!(chain(h).await, Ok(audit_before as u64 + 2));
}

pub(crate) async fn two_replicas_writing_at_once_keep_one_chain(h: &Harness) {
    let a = h.store.clone();
    let b = h.reopen().await;
    let mut tasks = Vec::new();
    for task in 0..12u64 {
        let store = if task % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            for k in 0..4 {
                let mut tk = Tk::open(&*store, 1 + task * 4 + k, "deploy-service", "alice").await;
                tk.commit(&*store, vec![comment("bob", "hi", at(1))], at(1)).await;
                store.append_audit(vec![loose_entry("test.loose", at(2))]).await.unwrap();
            }
        }));
    }
    // Both replicas race for the same tickets too: exactly one commit of each pair wins.
    let shared: Vec<Tk> = {
        let mut v = Vec::new();
        for n in 100..110u64 {
            v.push(Tk::open(&*a, n, "deploy-service", "alice").await);
        }
        v
    };
    let mut races = Vec::new();
    for tk in &shared {
        races.push(spawn_commit(&a, tk.change(vec![comment("carol", "a", at(3))], at(3))));
        races.push(spawn_commit(&b, tk.change(vec![comment("carol", "b", at(3))], at(3))));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut won = 0;
    for r in races {
        match r.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(won, shared.len());
    assert_eq!(h.int("SELECT COUNT(*) FROM comments WHERE author = 'carol'").await, shared.len() as i64);
    // 48 tickets of 3 records, a comment and a loose entry each; 10 shared tickets and one comment each.
    assert_eq!(chain(h).await, Ok(48 * 5 + 10 * 4));
}

/// A store closed with writes queued commits them; later writes are refused.
pub(crate) async fn writes_after_close_are_refused(h: &Harness) {
    let store = PgStore::connect(&h.pg_url()).await.unwrap();
    Tk::open(&store, 1, "deploy-service", "alice").await;
    store.close().await;
    let again = Tk::opening(2, "deploy-service", "alice", vec![], t0());
    assert!(matches!(store.commit(again).await, Err(StoreError::Unavailable(_))));
    assert!(h.store().ticket(&id(1)).await.unwrap().is_some());
}

/// Two replicas taking copies of the same deliveries at once (each copy opening a ticket of its
/// own): each delivery opens exactly one ticket, however the replicas' batches interleave, and
/// the copies that lose hear `Delivered`, never an error.
pub(crate) async fn two_replicas_racing_for_the_same_deliveries_write_each_once(h: &Harness) {
    let stores = [h.store.clone(), h.reopen().await];
    let keys = ["sig:r1", "sig:r2", "sig:r3", "sig:r4"];
    let mut tasks = Vec::new();
    for copy in 0..6u64 {
        // Each replica's copies come in another order of the keys.
        for (i, key) in keys.iter().enumerate() {
            let store = stores[(copy % 2) as usize].clone();
            let key = if copy % 2 == 0 { *key } else { keys[keys.len() - 1 - i] };
            let number = 10 + copy * 10 + i as u64;
            tasks.push(tokio::spawn(async move {
                let opening = Tk::opening(number, "deploy-service", "alice", vec![], at(1));
                store.commit_once(opening, docket_app::Delivery { scope: "slack.seen", key, note: "" }).await
            }));
        }
    }
    let mut written = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => written += 1,
            Err(StoreError::Delivered(key)) => assert!(keys.contains(&key.as_str()), "{key}"),
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(written, keys.len());
    assert_eq!(h.int("SELECT COUNT(*) FROM tickets").await, keys.len() as i64);
    assert_eq!(h.int("SELECT COUNT(*) FROM surface_state WHERE scope = 'slack.seen'").await, keys.len() as i64);
    assert!(chain(h).await.is_ok());
}
