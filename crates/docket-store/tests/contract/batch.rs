//! SQLite's group commit, forced: a raw connection holds the write lock, so the writer waits in
//! `BEGIN` with one write while the writes under test queue up behind it; when the lock is let
//! go they all run in one transaction. Also: another store on the same file moving the audit
//! chain, background checkpoints, ticket numbers reserved a block at a time, closing, and the
//! in-memory store under load.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use docket_app::store_prelude::*;
use docket_app::{EndOfStep, QueueOp, StoreError};
use docket_core::Event;
use docket_core::audit;
use docket_store::SqliteStore;
use sqlx::{Connection as _, SqliteConnection};
use tokio::task::JoinHandle;

use crate::fixtures::*;

/// A store on a file of its own, and plain SQL on the same file.
struct Db {
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
}

impl Db {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("docket.db")).await.unwrap());
        Self { dir, store }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("docket.db")
    }

    async fn raw(&self) -> SqliteConnection {
        SqliteConnection::connect(&format!("sqlite://{}", self.path().display())).await.unwrap()
    }

    async fn int(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&mut self.raw().await).await.unwrap()
    }

    async fn chain(&self) -> Result<u64, audit::BrokenLink> {
        audit::verify(&self.store.audit(0, 10_000).await.unwrap())
    }

    /// Holds the write lock until [`Held::release`]; the writer's next transaction waits.
    async fn hold(&self) -> Held {
        let mut conn = self.raw().await;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await.unwrap();
        // The writer starts its next batch and waits for the lock with this write alone.
        let store = self.store.clone();
        let first = tokio::spawn(async move { store.append_audit(vec![loose_entry("test.first", at(0))]).await });
        tokio::time::sleep(Duration::from_millis(150)).await;
        Held { conn, first }
    }
}

struct Held {
    conn: SqliteConnection,
    first: JoinHandle<Result<Vec<audit::AuditRecord>, StoreError>>,
}

impl Held {
    /// Lets the writer go once the writes under test have had time to queue.
    async fn release(mut self) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        sqlx::query("ROLLBACK").execute(&mut self.conn).await.unwrap();
        self.first.await.unwrap().unwrap();
    }
}

fn spawn_commit(store: &Arc<SqliteStore>, change: docket_app::Change) -> JoinHandle<Result<u64, StoreError>> {
    let store = store.clone();
    tokio::spawn(async move { store.commit(change).await.map(|c| c.version) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_inside_a_batch_fails_alone() {
    let db = Db::new().await;
    let store = &db.store;
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
    let before = db.int("SELECT COUNT(*) FROM audit").await;

    let held = db.hold().await;
    let mut fresh = Vec::new();
    // Updates of the same kind share a batch; a stale one sits among them.
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
    assert_eq!(db.int("SELECT COUNT(*) FROM comments WHERE author = 'bob'").await, 12);
    assert_eq!(db.int("SELECT COUNT(*) FROM comments WHERE author = 'eve'").await, 0);
    assert_eq!(db.int("SELECT COUNT(*) FROM tickets").await, 14 + 6);
    assert_eq!(db.int("SELECT COUNT(*) FROM tickets WHERE requester = 'mallory'").await, 0);
    assert_eq!(db.int("SELECT COUNT(*) FROM run_queue").await, 1);
    // The first write, 12 comments, 6 new tickets and 3 loose entries, 1 queued event.
    let expected = before + 1 + 12 + 6 + 3 + 1;
    assert_eq!(db.chain().await, Ok(expected as u64));
}

/// Changes made once per delivery, in one batch: of those for one delivery exactly one is
/// written; the others' neighbours are not disturbed; a change that fails on its own (a stale
/// version) leaves its delivery unrecorded, so the delivery is not spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_in_a_batch_are_recorded_with_their_changes_alone() {
    let db = Db::new().await;
    let store = &db.store;
    let tk = Tk::open(&**store, 1, "deploy-service", "alice").await;
    let stale = tk.clone();
    let mut tk2 = tk.clone();
    tk2.commit(&**store, vec![comment("bob", "moved on", at(1))], at(1)).await;
    let once = |change: docket_app::Change, key: &'static str| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .commit_once(change, docket_app::Delivery { scope: "slack.seen", key, note: "" })
                .await
                .map(|c| c.version)
        })
    };

    let held = db.hold().await;
    let same: Vec<_> =
        (10..18).map(|n| once(Tk::opening(n, "deploy-service", "alice", vec![], at(2)), "sig:same")).collect();
    let distinct: Vec<_> = [(20, "sig:a"), (21, "sig:b"), (22, "sig:c")]
        .into_iter()
        .map(|(n, key)| once(Tk::opening(n, "deploy-service", "alice", vec![], at(2)), key))
        .collect();
    let late = once(stale.change(vec![comment("eve", "stale", at(2))], at(2)), "sig:stale");
    held.release().await;

    let mut written = 0;
    for task in same {
        match task.await.unwrap() {
            Ok(_) => written += 1,
            Err(error) => assert!(matches!(error, StoreError::Delivered(ref k) if k == "sig:same"), "{error}"),
        }
    }
    assert_eq!(written, 1);
    for task in distinct {
        assert_eq!(task.await.unwrap().unwrap(), 1);
    }
    assert!(matches!(late.await.unwrap(), Err(StoreError::Conflict(_))));
    assert_eq!(store.state_get("slack.seen", "sig:stale").await.unwrap(), None);
    assert_eq!(db.int("SELECT COUNT(*) FROM tickets").await, 1 + 1 + 3);
    assert_eq!(db.int("SELECT COUNT(*) FROM surface_state WHERE scope = 'slack.seen'").await, 1 + 3);
    assert_eq!(db.int("SELECT COUNT(*) FROM comments WHERE author = 'eve'").await, 0);
    db.chain().await.unwrap();
}

/// Makes any commit with an outbox message keyed `poison` fail at `COMMIT`: the trigger writes a
/// row breaking a deferred foreign key, which SQLite checks only when the transaction commits.
async fn poison(db: &Db) {
    let mut raw = db.raw().await;
    sqlx::raw_sql(
        "CREATE TABLE poison (ticket TEXT REFERENCES tickets (id) DEFERRABLE INITIALLY DEFERRED); \
         CREATE TRIGGER poison AFTER INSERT ON outbox WHEN NEW.key = 'poison' \
         BEGIN INSERT INTO poison VALUES ('no-such-ticket'); END",
    )
    .execute(&mut raw)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_reaches_every_caller_in_the_batch() {
    let db = Db::new().await;
    let store = &db.store;
    let mut tk = Tk::open(&**store, 1, "deploy-service", "alice").await;
    poison(&db).await;
    let counts = "SELECT (SELECT COUNT(*) FROM tickets) * 1000000 + (SELECT COUNT(*) FROM ticket_events) * 1000 \
                  + (SELECT value FROM counters WHERE name = 'ticket_number')";
    let before = db.int(counts).await;
    let audit_before = db.int("SELECT COUNT(*) FROM audit").await;

    let held = db.hold().await;
    let mut doomed = Vec::new();
    for n in 10..=15u64 {
        doomed.push(spawn_commit(store, Tk::opening(n, "deploy-service", "alice", vec![], at(1))));
    }
    let mut bad = tk.change(vec![comment("bob", "poisoned", at(2))], at(2));
    bad.outbox.push(note("slack", tk.id(), "poison"));
    doomed.push(spawn_commit(store, bad));
    let numbered = {
        let store = store.clone();
        tokio::spawn(async move { store.next_ticket_number().await })
    };
    let appended = {
        let store = store.clone();
        tokio::spawn(async move { store.append_audit(vec![loose_entry("test.doomed", at(3))]).await })
    };
    held.release().await;

    for task in doomed {
        let result = task.await.unwrap();
        assert!(matches!(&result, Err(StoreError::Unavailable(m)) if m.contains("not committed")), "{result:?}");
    }
    assert!(matches!(numbered.await.unwrap(), Err(StoreError::Unavailable(_))));
    assert!(matches!(appended.await.unwrap(), Err(StoreError::Unavailable(_))));
    // Nothing any of them did is there; only the first write's audit record is new.
    assert_eq!(db.int(counts).await, before);
    assert_eq!(db.int("SELECT COUNT(*) FROM audit").await, audit_before + 1);
    assert_eq!(db.int("SELECT COUNT(*) FROM poison").await, 0);

    // The writer goes on: the same change without the poison commits.
    tk.commit(&**store, vec![comment("bob", "cured", at(4))], at(4)).await;
    assert_eq!(db.chain().await, Ok(audit_before as u64 + 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_write_that_fails_at_commit_is_refused() {
    let db = Db::new().await;
    let store = &db.store;
    let tk = Tk::open(&**store, 1, "deploy-service", "alice").await;
    poison(&db).await;
    let mut bad = tk.change(vec![comment("bob", "poisoned", at(2))], at(2));
    bad.outbox.push(note("slack", tk.id(), "poison"));
    assert!(matches!(store.commit(bad).await, Err(StoreError::Unavailable(m)) if m.contains("not committed")));
    assert_eq!(db.int("SELECT COUNT(*) FROM comments").await, 0);
    assert_eq!(store.ticket(tk.id()).await.unwrap().unwrap().version, tk.version);
    assert_eq!(db.chain().await, Ok(3));
}

/// A step's end and its last lines are one transaction on SQLite: a commit that conflicts
/// stores none of the lines it carried, alone or in a batch beside one that commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_conflicts_stores_none_of_its_lines() {
    let db = Db::new().await;
    let store = &db.store;
    let tk = Tk::open(&**store, 1, "deploy-service", "alice").await;
    let other = Tk::open(&**store, 2, "deploy-service", "alice").await;
    let line = |ticket: u64, seq: u64| docket_app::LogLine {
        ticket: id(ticket),
        run: 1,
        step: 0,
        seq,
        stream: docket_app::LogStream::Stdout,
        text: format!("line {seq}"),
        at: at(1),
    };
    let stale = Tk { ticket: tk.ticket.clone(), version: tk.version + 1 };
    let refused = store
        .commit_end_of_step(
            stale.change(vec![comment("bob", "stale", at(1))], at(1)),
            EndOfStep { lines: &[line(1, 1)], ended: None },
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));
    assert_eq!(db.int("SELECT COUNT(*) FROM step_logs").await, 0);

    // Both wait behind the held lock and run in one batch.
    let held = db.hold().await;
    let (stale_lines, fine_lines) = ([line(1, 2)], [line(2, 1)]);
    let stale_end = EndOfStep { lines: &stale_lines, ended: None };
    let stale = store.commit_end_of_step(stale.change(vec![comment("bob", "stale", at(2))], at(2)), stale_end);
    let fine_end = EndOfStep { lines: &fine_lines, ended: None };
    let fine = store.commit_end_of_step(other.change(vec![comment("bob", "fine", at(2))], at(2)), fine_end);
    let (stale, fine, ()) = tokio::join!(stale, fine, held.release());
    assert!(matches!(stale, Err(StoreError::Conflict(_))));
    fine.unwrap();
    assert_eq!(db.int("SELECT COUNT(*) FROM step_logs").await, 1);
    assert_eq!(store.logs(&id(2), 0, 10).await.unwrap(), [line(2, 1)]);
}

async fn open_second(path: &Path) -> SqliteStore {
    SqliteStore::open(path).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_follow_a_chain_another_store_moved() {
    let db = Db::new().await;
    let a = &db.store;
    let b = open_second(&db.path()).await;
    let mut tk = Tk::open(&**a, 1, "deploy-service", "alice").await;
    for round in 0..3 {
        b.append_audit(vec![loose_entry("token.created", at(round))]).await.unwrap();
        a.append_audit(vec![loose_entry("slack.signature_rejected", at(round))]).await.unwrap();
        tk.commit(&**a, vec![comment("bob", "again", at(round))], at(round)).await;
        Tk::open(&b, 10 + round as u64, "deploy-service", "alice").await;
    }
    assert_eq!(db.chain().await, Ok(3 + 3 * (1 + 1 + 1 + 3)));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_checkpoint_copies_the_wal_into_the_database() {
    let db = Db::new().await;
    let size = || std::fs::metadata(db.path()).map(|m| m.len()).unwrap_or(0);
    let start = size();
    // Far fewer WAL pages than the writer's own checkpoint threshold.
    for n in 1..=40u64 {
        Tk::open(&*db.store, n, "deploy-service", "alice").await;
    }
    let mut waited = Duration::ZERO;
    while size() <= start && waited < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    assert!(size() > start, "the database file is still {start} bytes after {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_numbers_are_reserved_a_block_at_a_time() {
    let db = Db::new().await;
    let counter = "SELECT value FROM counters WHERE name = 'ticket_number'";
    let mut numbers = Vec::new();
    for _ in 0..33 {
        numbers.push(db.store.next_ticket_number().await.unwrap());
    }
    assert_eq!(numbers, (1..=33).collect::<Vec<u64>>());
    // Two writes reserved them, 32 each; the rest of the second block is reserved, not used.
    assert_eq!(db.int(counter).await, 64);
    // A ticket's commit leaves the counter alone when it is ahead of the number.
    Tk::open(&*db.store, numbers[0], "deploy-service", "alice").await;
    assert_eq!(db.int(counter).await, 64);
    // A restarted server skips the numbers the last one had reserved.
    let reopened = open_second(&db.path()).await;
    assert_eq!(reopened.next_ticket_number().await.unwrap(), 65);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_gives_unused_numbers_back() {
    let db = Db::new().await;
    let counter = "SELECT value FROM counters WHERE name = 'ticket_number'";
    for expected in 1..=5 {
        assert_eq!(db.store.next_ticket_number().await.unwrap(), expected);
    }
    assert_eq!(db.int(counter).await, 32);
    db.store.release_numbers().await.unwrap();
    assert_eq!(db.int(counter).await, 5, "the counter is back at the last number handed out");
    // Released twice, or with nothing reserved: nothing changes.
    db.store.release_numbers().await.unwrap();
    assert_eq!(db.int(counter).await, 5);
    // The same store goes on with a block of its own; a restart continues densely.
    assert_eq!(db.store.next_ticket_number().await.unwrap(), 6);
    db.store.release_numbers().await.unwrap();
    let reopened = open_second(&db.path()).await;
    assert_eq!(reopened.next_ticket_number().await.unwrap(), 7);

    // A second process reserved after this one: giving back would hand its numbers out twice.
    let second = open_second(&db.path()).await;
    assert_eq!(second.next_ticket_number().await.unwrap(), 39);
    reopened.release_numbers().await.unwrap();
    assert_eq!(db.int(counter).await, 70, "the second process's block stays reserved");
    assert_eq!(second.next_ticket_number().await.unwrap(), 40);
    second.release_numbers().await.unwrap();
    assert_eq!(db.int(counter).await, 40);
}

#[tokio::test]
async fn writes_after_close_are_refused() {
    let db = Db::new().await;
    Tk::open(&*db.store, 1, "deploy-service", "alice").await;
    db.store.close().await;
    // Every connection is closed, the checkpoint task's too: the last one removed the WAL.
    assert!(!db.dir.path().join("docket.db-wal").exists());
    let again = Tk::opening(2, "deploy-service", "alice", vec![], t0());
    assert!(matches!(db.store.commit(again).await, Err(StoreError::Unavailable(m)) if m.contains("closed")));
    // What was committed before the close is there for the next open.
    let reopened = open_second(&db.path()).await;
    assert!(reopened.ticket(&id(1)).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_memory_store_takes_concurrent_writes_and_reads() {
    let store = Arc::new(SqliteStore::in_memory().await.unwrap());
    let mut tasks = Vec::new();
    for task in 0..12u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..5 {
                let tk = Tk::open(&*store, 1 + task * 5 + k, "deploy-service", "alice").await;
                assert_eq!(store.ticket(tk.id()).await.unwrap().unwrap().version, 3);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(audit::verify(&store.audit(0, 10_000).await.unwrap()), Ok(12 * 5 * 3));
}
