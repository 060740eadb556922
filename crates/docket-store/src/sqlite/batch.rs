//! One batch's transaction (see `writer` for the why): `BEGIN IMMEDIATE` and the chain's head,
//! the writes, `COMMIT`; then every caller is answered.
//!
//! A batch first runs its writes one after the other with nothing to undo one of them alone. If
//! one fails (a version conflict, a taken token hash), the transaction is rolled back and the
//! batch runs again in a new one, the careful way: each write in a savepoint of its own, so the
//! failure is undone alone and lands on its own write while its neighbours go on. (A batch of
//! one write is not run again: its failure is its answer.) Savepoints are kept for that second
//! run because they are not free: SQLite copies each page before the first change to it inside
//! a savepoint, so that it can undo it. One savepoint around a batch of eight slash commands'
//! delivery records copied about sixteen pages and took a fifth of the batch's time.
//!
//! Between the two runs the write lock is let go, so another process (a `docket` command) may
//! commit in between; the second run reads the chain's head again, and every write's own
//! conditions (versions, unique keys) are checked again against what is there then. If that
//! process holds the lock past the busy timeout, every write of the batch gets that error.

use docket_app::StoreError;
use rusqlite::{Connection, OptionalExtension};

use super::writer::{Args, Head, Job, Row, Sql, write_error};
use crate::rows::to_unsigned;
use crate::settle::{Settle, same};

/// The chain's head as the transaction stands.
const HEAD: &str = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";

/// Runs one batch in one transaction and answers every caller. Returns whether it committed.
pub(super) fn write(conn: &Connection, jobs: Vec<Box<dyn Job>>) -> bool {
    let mut done: Vec<Box<dyn Settle>> = Vec::with_capacity(jobs.len());
    let committed = match begin(conn) {
        Err(error) => {
            done.extend(jobs.into_iter().map(|job| job.fail(same(&error))));
            Err(error)
        }
        Ok(head) => match at_once(conn, jobs, head, &mut done) {
            Attempt::Ran => commit(conn),
            Attempt::Undone => {
                done.into_iter().for_each(|p| p.settle(Ok(())));
                return false;
            }
            Attempt::Again(jobs) => again(conn, jobs, &mut done),
        },
    };
    if let Err(error) = &committed {
        tracing::error!(%error, "a SQLite write batch was rolled back");
    }
    done.into_iter().for_each(|p| p.settle(committed.as_ref().map(|_| ())));
    committed.is_ok()
}

/// How a batch's first run ended.
enum Attempt {
    /// Every write ran; each caller's answer is in `done`.
    Ran,
    /// A write failed and the transaction was rolled back: these writes are to run again.
    Again(Vec<Box<dyn Job>>),
    /// The batch's one write failed and its transaction was rolled back; its answer is in `done`.
    Undone,
}

/// Runs the batch's writes one after the other, chained after `head`, with nothing to undo one
/// alone. A write that fails before reaching SQLite is answered into `done` at once and never
/// runs again. If one fails in SQLite, the whole transaction is rolled back: a lone write is
/// answered with its error, the writes of a larger batch are handed back to run again.
fn at_once(conn: &Connection, jobs: Vec<Box<dyn Job>>, mut head: Head, done: &mut Vec<Box<dyn Settle>>) -> Attempt {
    let mut ran: Vec<(Box<dyn Job>, Vec<Row>)> = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    while let Some(mut job) = jobs.next() {
        let (args, _) = match prepare(job.as_mut(), &mut head) {
            Ok(prepared) => prepared,
            Err(error) => {
                done.push(job.fail(error));
                continue;
            }
        };
        match run(conn, job.sql(), &args) {
            Ok(rows) if rows.len() == job.sql().rows => ran.push((job, rows)),
            failed => {
                rollback(conn);
                // The only write that reached SQLite: nothing else to run again.
                let lone = ran.is_empty() && jobs.as_slice().is_empty();
                if !lone {
                    return Attempt::Again(ran.into_iter().map(|(job, _)| job).chain([job]).chain(jobs).collect());
                }
                done.push(match failed {
                    Ok(rows) => {
                        let error = wrong_rows(&rows, job.sql());
                        job.fail(error)
                    }
                    Err(error) => job.done(Err(error)),
                });
                return Attempt::Undone;
            }
        }
    }
    done.extend(ran.into_iter().map(|(job, rows)| job.done(Ok(rows))));
    Attempt::Ran
}

/// Runs again, in a transaction of its own, a batch whose first run failed: each write in a
/// savepoint of its own, so that the one that fails is undone alone.
fn again(conn: &Connection, jobs: Vec<Box<dyn Job>>, done: &mut Vec<Box<dyn Settle>>) -> Result<(), StoreError> {
    let head = match begin(conn) {
        Ok(head) => head,
        Err(error) => {
            done.extend(jobs.into_iter().map(|job| job.fail(same(&error))));
            return Err(error);
        }
    };
    match careful(conn, jobs, head, done) {
        Some(error) => {
            rollback(conn);
            Err(error)
        }
        None => commit(conn),
    }
}

/// `COMMIT`; a transaction that cannot commit is rolled back.
fn commit(conn: &Connection) -> Result<(), StoreError> {
    execute(conn, "COMMIT").map_err(|e| {
        rollback(conn);
        not_committed(e)
    })
}

/// Runs the batch's writes each in a savepoint of its own, chained after `head`, answering each
/// into `done`. Returns the error that lost the transaction, if one did.
fn careful(
    conn: &Connection,
    jobs: Vec<Box<dyn Job>>,
    mut head: Head,
    done: &mut Vec<Box<dyn Settle>>,
) -> Option<StoreError> {
    let mut lost: Option<StoreError> = None;
    for mut job in jobs {
        if let Some(error) = &lost {
            // The transaction is lost: writes it never reached hear the same.
            done.push(job.fail(same(error)));
            continue;
        }
        let (args, start) = match prepare(job.as_mut(), &mut head) {
            Ok(prepared) => prepared,
            Err(error) => {
                done.push(job.fail(error));
                continue;
            }
        };
        let sql = job.sql();
        match savepoint(conn, sql, &args) {
            Ok(Ok(rows)) if rows.len() == sql.rows => done.push(job.done(Ok(rows))),
            Ok(Ok(rows)) => {
                let error = wrong_rows(&rows, sql);
                done.push(job.fail(same(&error)));
                lost = Some(error);
            }
            Ok(Err(error)) => {
                head = start;
                done.push(job.done(Err(error)));
            }
            Err(error) => {
                // The savepoint could not be undone or released: SQLite ended the whole
                // transaction (an I/O error, a full disk), so nothing in this batch is durable.
                let error = not_committed(error);
                done.push(job.fail(same(&error)));
                lost = Some(error);
            }
        }
    }
    lost
}

/// Chains a write after `head` and binds its parameters: its parameters and the head before it.
/// A write that cannot be prepared fails alone, before reaching SQLite, and leaves `head` as it
/// was.
fn prepare(job: &mut dyn Job, head: &mut Head) -> Result<(Args, Head), StoreError> {
    let start = head.clone();
    let mut args = Args::new();
    match job.chain(head).and_then(|()| job.bind(&mut args)) {
        Ok(()) => Ok((args, start)),
        Err(error) => {
            *head = start;
            Err(error)
        }
    }
}

/// The error of a write that returned other than its kind's number of rows.
fn wrong_rows(rows: &[Row], sql: &Sql) -> StoreError {
    StoreError::Corrupt(format!("a write returned {} rows, not {}", rows.len(), sql.rows))
}

/// Runs one write in a savepoint: its rows, or its own error with everything it did undone.
/// The outer error is one that ended the transaction.
fn savepoint(conn: &Connection, sql: &'static Sql, args: &Args) -> rusqlite::Result<rusqlite::Result<Vec<Row>>> {
    execute(conn, "SAVEPOINT op")?;
    match run(conn, sql, args) {
        Ok(rows) => {
            execute(conn, "RELEASE op")?;
            Ok(Ok(rows))
        }
        Err(error) => {
            execute(conn, "ROLLBACK TO op")?;
            execute(conn, "RELEASE op")?;
            Ok(Err(error))
        }
    }
}

/// Runs a write's statements in order, each with its share of `args`; the rows they returned.
pub(super) fn run(conn: &Connection, sql: &'static Sql, args: &Args) -> rusqlite::Result<Vec<Row>> {
    let mut rows = Vec::with_capacity(sql.rows);
    let mut bound = 0;
    for text in sql.statements() {
        let mut statement = conn.prepare_cached(text)?;
        let wanted = statement.parameter_count();
        let Some(values) = args.get(bound..bound + wanted) else {
            return Err(rusqlite::Error::InvalidParameterCount(args.len(), bound + wanted));
        };
        bound += wanted;
        for (i, value) in values.iter().enumerate() {
            statement.raw_bind_parameter(i + 1, value)?;
        }
        let mut found = statement.raw_query();
        while let Some(row) = found.next()? {
            rows.push(Row::read(row)?);
        }
    }
    if bound != args.len() {
        return Err(rusqlite::Error::InvalidParameterCount(args.len(), bound));
    }
    Ok(rows)
}

/// One statement without parameters or rows, kept prepared.
fn execute(conn: &Connection, text: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(text)?.execute([]).map(drop)
}

/// `BEGIN IMMEDIATE` and the chain's head.
fn begin(conn: &Connection) -> Result<Head, StoreError> {
    if !conn.is_autocommit() {
        // A transaction a failed `ROLLBACK` left open: end it, or no batch could begin again.
        rollback(conn);
    }
    execute(conn, "BEGIN IMMEDIATE").map_err(write_error)?;
    let head = conn
        .prepare_cached(HEAD)
        .and_then(|mut s| s.query_row([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))).optional())
        .map_err(write_error)
        .and_then(|head| head.map(|(seq, hash)| Ok((to_unsigned(seq, "audit seq")?, hash))).transpose());
    if head.is_err() {
        rollback(conn);
    }
    head.map(Head::from)
}

/// Ends a transaction that cannot commit. Fails harmlessly when SQLite already ended it.
fn rollback(conn: &Connection) {
    let _ = execute(conn, "ROLLBACK");
}

/// The error every caller of a lost batch gets.
fn not_committed(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("the write was not committed: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::writer::{Answer, Write, bind, job};

    static INSERT: Sql = Sql::new("INSERT INTO t (k) VALUES (?); SELECT changes() AS n; ", 1);

    /// Inserts key `.0`; answers the rows it changed.
    struct Insert(i64);

    impl Write for Insert {
        type Output = i64;

        fn sql(&self) -> &'static Sql {
            &INSERT
        }

        fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
            bind(args, self.0)
        }

        fn output(self, rows: Vec<Row>) -> Result<i64, StoreError> {
            changed(&rows)
        }
    }

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (k INTEGER PRIMARY KEY); CREATE TABLE audit (seq INTEGER PRIMARY KEY, hash TEXT);",
        )
        .unwrap();
        conn
    }

    fn batch(conn: &Connection, keys: &[i64]) -> (bool, Vec<Answer<i64>>) {
        let (jobs, answers): (Vec<_>, Vec<_>) = keys.iter().map(|&k| job(Insert(k))).unzip();
        (write(conn, jobs), answers)
    }

    /// The integers one query returns, in order.
    fn ints(conn: &Connection, query: &str) -> Vec<i64> {
        let mut s = conn.prepare(query).unwrap();
        s.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }

    fn keys(conn: &Connection) -> Vec<i64> {
        ints(conn, "SELECT k FROM t ORDER BY k")
    }

    /// What a test write answers: the rows its last statement changed.
    fn changed(rows: &[Row]) -> Result<i64, StoreError> {
        rows[0].try_get("n")
    }

    #[test]
    fn a_failed_write_is_undone_alone_and_its_neighbours_commit() {
        let conn = table();
        let (committed, mut answers) = batch(&conn, &[1, 2, 1, 3]);
        assert!(committed);
        let results: Vec<_> = answers.iter_mut().map(|a| a.try_recv().unwrap().ok()).collect();
        assert_eq!(results, [Some(1), Some(1), None, Some(1)]);
        assert_eq!(keys(&conn), [1, 2, 3]);
    }

    /// Inserts `.0` and then `.1`; answers the rows the second changed.
    struct Pair(i64, i64);

    static PAIR: Sql =
        Sql::new("INSERT INTO t (k) VALUES (?); INSERT INTO t (k) VALUES (?); SELECT changes() AS n; ", 1);

    impl Write for Pair {
        type Output = i64;

        fn sql(&self) -> &'static Sql {
            &PAIR
        }

        fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
            bind(args, self.0)?;
            bind(args, self.1)
        }

        fn output(self, rows: Vec<Row>) -> Result<i64, StoreError> {
            changed(&rows)
        }
    }

    #[test]
    fn a_write_that_fails_halfway_leaves_none_of_its_changes_and_its_neighbours_commit() {
        let conn = table();
        let (first, mut first_answer) = job(Insert(1));
        let (half, mut half_answer) = job(Pair(5, 1));
        let (last, mut last_answer) = job(Insert(2));
        assert!(write(&conn, vec![first, half, last]));
        assert_eq!(first_answer.try_recv().unwrap().ok(), Some(1));
        assert!(matches!(half_answer.try_recv(), Ok(Err(StoreError::Unavailable(m))) if m.contains("UNIQUE")));
        assert_eq!(last_answer.try_recv().unwrap().ok(), Some(1));
        assert_eq!(keys(&conn), [1, 2], "the failed write's first insert (5) stayed");
    }

    /// Appends `.0` audit records (none for 0) after the chain's head.
    struct Audited(usize, Vec<(u64, String)>);

    static AUDITED: Sql = Sql::new(
        "INSERT INTO audit (seq, hash) SELECT value ->> 0, value ->> 1 FROM json_each(?); SELECT changes() AS n; ",
        1,
    );

    impl Write for Audited {
        type Output = i64;

        fn sql(&self) -> &'static Sql {
            &AUDITED
        }

        fn chain(&mut self, head: &mut Head) -> Result<(), StoreError> {
            let entry = || docket_core::audit::AuditEntry {
                at: jiff::Timestamp::UNIX_EPOCH,
                actor: "docket".into(),
                action: "test.audited".into(),
                ticket: None,
                details: serde_json::Value::Null,
            };
            self.1 = head.chain((0..self.0).map(|_| entry()).collect()).into_iter().map(|r| (r.seq, r.hash)).collect();
            Ok(())
        }

        fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
            bind(args, serde_json::to_string(&self.1).unwrap_or_default())
        }

        fn output(self, rows: Vec<Row>) -> Result<i64, StoreError> {
            changed(&rows)
        }
    }

    #[test]
    fn the_chain_runs_on_across_a_write_without_records_and_a_batch_run_again() {
        let conn = table();
        assert!(batch(&conn, &[1]).0);
        let (audited, mut first) = job(Audited(2, Vec::new()));
        let (nothing, mut empty) = job(Audited(0, Vec::new()));
        let (taken, _) = job(Insert(1));
        let (after, mut last) = job(Audited(1, Vec::new()));
        assert!(write(&conn, vec![audited, nothing, taken, after]));
        assert_eq!(first.try_recv().unwrap().ok(), Some(2));
        assert_eq!(empty.try_recv().unwrap().ok(), Some(0));
        assert_eq!(last.try_recv().unwrap().ok(), Some(1), "the record after the empty write started the chain over");
        assert_eq!(ints(&conn, "SELECT seq FROM audit ORDER BY seq"), [1, 2, 3]);
    }

    #[test]
    fn a_lone_write_that_fails_gets_its_own_error_and_leaves_nothing_behind() {
        let conn = table();
        assert!(batch(&conn, &[1]).0);
        let (committed, mut answers) = batch(&conn, &[1]);
        assert!(!committed);
        assert!(matches!(answers[0].try_recv(), Ok(Err(StoreError::Unavailable(m))) if m.contains("UNIQUE")));
        assert!(conn.is_autocommit());
        assert!(batch(&conn, &[2]).0);
        assert_eq!(keys(&conn), [1, 2]);
    }

    #[test]
    fn a_batch_that_cannot_begin_answers_every_write_with_its_error() {
        let conn = table();
        // The chain's head cannot be read.
        conn.execute_batch("DROP TABLE audit").unwrap();
        let (committed, mut answers) = batch(&conn, &[1, 2]);
        assert!(!committed);
        for answer in &mut answers {
            assert!(matches!(answer.try_recv(), Ok(Err(StoreError::Unavailable(_)))));
        }
        assert!(conn.is_autocommit(), "the failed batch left its transaction open");
    }

    #[test]
    fn a_transaction_left_open_does_not_stop_the_next_batch() {
        let conn = table();
        conn.execute_batch("BEGIN; INSERT INTO t (k) VALUES (9)").unwrap();
        let (committed, mut answers) = batch(&conn, &[1]);
        assert!(committed);
        assert_eq!(answers[0].try_recv().unwrap().ok(), Some(1));
        assert_eq!(keys(&conn), [1]);
    }

    #[test]
    fn parameters_are_shared_out_across_statements_in_order() {
        static TWO: Sql = Sql::new("INSERT INTO t (k) VALUES (?); INSERT INTO t (k) VALUES (? + ?); ", 0);
        let conn = table();
        assert_eq!(run(&conn, &TWO, &vec![5.into(), 6.into(), 1.into()]).unwrap().len(), 0);
        assert_eq!(keys(&conn), [5, 7]);
        assert!(run(&conn, &TWO, &vec![8.into(), 9.into()]).is_err());
    }
}
