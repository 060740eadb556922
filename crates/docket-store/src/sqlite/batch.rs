//! One batch's transaction (see `writer` for the why): a lone write in one round trip when it
//! can be, otherwise `BEGIN` with the chain's head, the writes kind by kind in shared round trips
//! (each prepared while the one before it runs), and `COMMIT`; then every caller is answered.

use std::collections::VecDeque;

use docket_app::StoreError;
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteArguments;

use super::writer::{CHUNKS, Head, Job, Sql};
use crate::rows::{self, db_error};
use crate::settle::{Settle, same};

/// Starts the transaction and reads the chain's head in the same round trip.
const BEGIN: &str = "BEGIN IMMEDIATE; SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";

/// Undoes a failed round trip (its savepoint is named `op`); the transaction goes on.
const ROLLBACK_OP: &str = "ROLLBACK TO op; RELEASE op";

/// Runs one batch in one transaction and answers every caller. Returns whether it committed.
/// `known` is the chain's head after the last batch that committed, if known; it is updated.
pub(super) async fn write(conn: &mut SqliteConnection, mut jobs: Vec<Box<dyn Job>>, known: &mut Option<Head>) -> bool {
    let guess = known.take();
    if let (Some(head), 1) = (&guess, jobs.len())
        && let Some(job) = jobs.pop()
    {
        match lone(conn, job, head.clone()).await {
            Ok((done, head)) => {
                *known = Some(head);
                done.settle(Ok(()));
                return true;
            }
            Err(job) => jobs.push(job),
        }
    }
    let mut plan = Plan::new(jobs);
    let mut done: Vec<Box<dyn Settle>> = Vec::new();
    // The first round trip is prepared while `BEGIN` runs, after the head the last batch left.
    let mut guessed = guess.clone().unwrap_or_default();
    let (begun, first) = tokio::join!(biased; begin(conn), async {
        if guess.is_some() { plan.next(&mut guessed, &mut done) } else { None }
    });
    let mut head = match begun {
        Ok(head) => head,
        Err(error) => {
            first.into_iter().for_each(|chunk| plan.put_back(chunk));
            plan.jobs().for_each(|job| done.push(job.fail(same(&error))));
            done.into_iter().for_each(|p| p.settle(Ok(())));
            return false;
        }
    };
    let mut current = match first {
        Some(chunk) if guess.as_ref() == Some(&head) => {
            head = guessed;
            Some(chunk)
        }
        Some(chunk) => {
            plan.put_back(chunk);
            plan.next(&mut head, &mut done)
        }
        None => plan.next(&mut head, &mut done),
    };
    let mut lost = None;
    while let Some(mut chunk) = current.take() {
        let n = chunk.jobs.len();
        let query = sqlx::query_with(chunk.sql.text(n), std::mem::take(&mut chunk.args));
        // The next round trip is prepared while this one runs, as if this one succeeds.
        let (ran, next) = tokio::join!(biased; query.fetch_all(&mut *conn), async { plan.next(&mut head, &mut done) });
        match ran {
            Ok(found) if found.len() == n * chunk.sql.rows => {
                let mut found = found.into_iter();
                for job in chunk.jobs {
                    let rows = found.by_ref().take(chunk.sql.rows).collect();
                    done.push(job.done(Ok(rows)));
                }
                current = next;
            }
            Ok(found) => {
                let message = format!("a write returned {} rows, not {}", found.len(), n * chunk.sql.rows);
                next.into_iter().for_each(|next| plan.put_back(next));
                chunk.jobs.into_iter().for_each(|job| done.push(job.fail(StoreError::Corrupt(message.clone()))));
                lost = Some(StoreError::Corrupt(message));
            }
            Err(error) => {
                next.into_iter().for_each(|next| plan.put_back(next));
                head = chunk.start;
                if let Err(e) = sqlx::query(ROLLBACK_OP).execute(&mut *conn).await {
                    // The savepoint is gone: SQLite ended the whole transaction (an I/O error,
                    // a full disk), so nothing in this batch is durable.
                    let error = not_committed(e);
                    chunk.jobs.into_iter().for_each(|job| done.push(job.fail(same(&error))));
                    lost = Some(error);
                } else if n == 1 {
                    if let Some(job) = chunk.jobs.pop() {
                        done.push(job.done(Err(error)));
                    }
                    current = plan.next(&mut head, &mut done);
                } else {
                    // Which write failed is not known: each runs again alone, in its own savepoint.
                    plan.retry_alone(chunk.sql, chunk.jobs);
                    current = plan.next(&mut head, &mut done);
                }
            }
        }
    }
    let committed = match lost {
        Some(error) => {
            rollback(conn).await;
            Err(error)
        }
        None => match sqlx::query("COMMIT").execute(&mut *conn).await {
            Ok(_) => Ok(()),
            Err(e) => {
                rollback(conn).await;
                Err(not_committed(e))
            }
        },
    };
    match &committed {
        Ok(()) => *known = Some(head),
        Err(error) => {
            tracing::error!(%error, "a SQLite write batch was rolled back");
            // Writes the lost transaction never reached hear the same.
            plan.jobs().for_each(|job| done.push(job.fail(same(error))));
        }
    }
    done.into_iter().for_each(|p| p.settle(committed.as_ref().map(|_| ())));
    committed.is_ok()
}

/// A round trip's worth of writes of one kind, chained and bound.
struct Chunk {
    sql: &'static Sql,
    jobs: Vec<Box<dyn Job>>,
    args: SqliteArguments,
    /// The head before it was chained.
    start: Head,
    /// Whether it is one of the writes that must run alone.
    alone: bool,
}

/// The writes of a kind waiting in a batch; the first `alone` of them run one at a time.
struct Kind {
    sql: &'static Sql,
    queue: VecDeque<Box<dyn Job>>,
    alone: usize,
}

/// The writes of a batch, kind by kind, in the order the kinds first came.
struct Plan {
    kinds: VecDeque<Kind>,
}

impl Plan {
    fn new(jobs: Vec<Box<dyn Job>>) -> Self {
        let mut kinds: VecDeque<Kind> = VecDeque::new();
        for job in jobs {
            let sql = job.sql();
            match kinds.iter_mut().find(|k| std::ptr::eq(k.sql, sql)) {
                Some(kind) => kind.queue.push_back(job),
                None => kinds.push_back(Kind { sql, queue: VecDeque::from([job]), alone: 0 }),
            }
        }
        Self { kinds }
    }

    /// The next round trip: as many writes of the first kind left as [`CHUNKS`] allows (or
    /// one, if it must run alone), chained after `head` (which moves past them) and bound.
    /// A write that cannot be prepared is answered into `done`.
    fn next(&mut self, head: &mut Head, done: &mut Vec<Box<dyn Settle>>) -> Option<Chunk> {
        loop {
            let kind = self.kinds.front_mut()?;
            if kind.queue.is_empty() {
                self.kinds.pop_front();
                continue;
            }
            let alone = kind.alone > 0;
            let n = if alone { 1 } else { CHUNKS.iter().copied().find(|&c| c <= kind.queue.len()).unwrap_or(1) };
            kind.alone = kind.alone.saturating_sub(1);
            let mut jobs: Vec<Box<dyn Job>> = kind.queue.drain(..n.min(kind.queue.len())).collect();
            let start = head.clone();
            let mut args = SqliteArguments::default();
            let prepared = jobs.iter_mut().try_for_each(|job| job.chain(head).and_then(|()| job.bind(&mut args)));
            match prepared {
                Ok(()) => return Some(Chunk { sql: kind.sql, jobs, args, start, alone }),
                Err(error) => {
                    *head = start;
                    if let [_] = jobs[..] {
                        // It fails alone, before reaching SQLite.
                        jobs.into_iter().for_each(|job| done.push(job.fail(same(&error))));
                    } else {
                        // Which write could not be prepared is not kept: each runs alone.
                        kind.alone += jobs.len();
                        jobs.into_iter().rev().for_each(|job| kind.queue.push_front(job));
                    }
                }
            }
        }
    }

    /// Puts back a prepared round trip that did not run, as it was.
    fn put_back(&mut self, chunk: Chunk) {
        self.requeue(chunk.sql, chunk.jobs, usize::from(chunk.alone));
    }

    /// Puts back the writes of a failed round trip, each to run alone, first.
    fn retry_alone(&mut self, sql: &'static Sql, jobs: Vec<Box<dyn Job>>) {
        let n = jobs.len();
        self.requeue(sql, jobs, n);
    }

    /// Puts `jobs` back at the front of their kind, the first `alone` of the kind's queue to
    /// run alone, and the kind first (it may have been done already).
    fn requeue(&mut self, sql: &'static Sql, jobs: Vec<Box<dyn Job>>, alone: usize) {
        let found = self.kinds.iter().position(|k| std::ptr::eq(k.sql, sql)).and_then(|i| self.kinds.remove(i));
        let mut kind = found.unwrap_or_else(|| Kind { sql, queue: VecDeque::new(), alone: 0 });
        kind.alone += alone;
        jobs.into_iter().rev().for_each(|job| kind.queue.push_front(job));
        self.kinds.push_front(kind);
    }

    /// Every write left.
    fn jobs(self) -> impl Iterator<Item = Box<dyn Job>> {
        self.kinds.into_iter().flat_map(|k| k.queue)
    }
}

/// A batch of one write, in one round trip: `BEGIN`, a check that the chain's head is still
/// `head`, the write, `COMMIT`. This is the common case on a quiet server, where it saves two
/// round trips. If anything fails (a conflict, a head another process moved, `BEGIN` or `COMMIT`
/// itself), it is all rolled back and the write is handed back to run the careful way, which
/// tells the failures apart.
async fn lone(
    conn: &mut SqliteConnection,
    mut job: Box<dyn Job>,
    head: Head,
) -> Result<(Box<dyn Settle>, Head), Box<dyn Job>> {
    let sql = job.sql();
    let mut args = SqliteArguments::default();
    let mut moved = head.clone();
    if head.bind(&mut args).and_then(|()| job.chain(&mut moved)).and_then(|()| job.bind(&mut args)).is_err() {
        return Err(job);
    }
    match sqlx::query_with(sql.lone(), args).fetch_all(&mut *conn).await {
        Ok(found) if found.len() == sql.rows => Ok((job.done(Ok(found)), moved)),
        // Committed, but not as written: never run it again.
        Ok(found) => {
            let message = format!("a write returned {} rows, not {}", found.len(), sql.rows);
            Ok((job.fail(StoreError::Corrupt(message)), moved))
        }
        Err(_) => {
            rollback(conn).await;
            Err(job)
        }
    }
}

/// `BEGIN IMMEDIATE` and the chain's head.
async fn begin(conn: &mut SqliteConnection) -> Result<Head, StoreError> {
    let head = sqlx::query(BEGIN)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)
        .and_then(|found| found.first().map(rows::audit_head).transpose());
    if head.is_err() {
        // BEGIN may have succeeded before the read failed.
        rollback(conn).await;
    }
    head.map(Head::from)
}

/// Ends a transaction that cannot commit. Fails harmlessly when SQLite already ended it.
async fn rollback(conn: &mut SqliteConnection) {
    let _ = sqlx::query("ROLLBACK").execute(conn).await;
}

/// The error every caller of a lost batch gets.
fn not_committed(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(format!("the write was not committed: {error}"))
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqliteRow;

    use super::*;
    use crate::sqlite::writer::{Write, job};

    static A: Sql = Sql::new("SELECT 1; ", 0);
    static B: Sql = Sql::new("SELECT 2; ", 0);

    /// A write of kind `.0` that answers its number `.1`.
    struct Numbered(&'static Sql, usize);

    impl Write for Numbered {
        type Output = usize;

        fn sql(&self) -> &'static Sql {
            self.0
        }

        fn bind(&self, _: &mut SqliteArguments) -> Result<(), StoreError> {
            Ok(())
        }

        fn output(self, _: Vec<SqliteRow>) -> Result<usize, StoreError> {
            Ok(self.1)
        }
    }

    type Answer = crate::sqlite::writer::Answer<usize>;

    /// A plan of `a` writes of kind A and `b` of kind B, interleaved B first.
    fn plan(a: usize, b: usize) -> (Plan, Vec<Answer>) {
        let mut jobs = Vec::new();
        let mut answers = Vec::new();
        for i in 0..a.max(b) {
            for (kind, count, offset) in [(&B, b, 1000), (&A, a, 0)] {
                if i < count {
                    let (job, answer) = job(Numbered(kind, offset + i));
                    jobs.push(job);
                    answers.push(answer);
                }
            }
        }
        (Plan::new(jobs), answers)
    }

    /// The kinds and sizes of the round trips the plan makes, answering each as it goes.
    fn sizes(plan: &mut Plan) -> Vec<(usize, usize)> {
        let mut head = Head::default();
        let mut done = Vec::new();
        let mut out = Vec::new();
        while let Some(chunk) = plan.next(&mut head, &mut done) {
            out.push((if std::ptr::eq(chunk.sql, &A) { 0 } else { 1 }, chunk.jobs.len()));
            chunk.jobs.into_iter().for_each(|job| job.done(Ok(Vec::new())).settle(Ok(())));
        }
        assert!(done.is_empty());
        out
    }

    #[test]
    fn writes_of_a_kind_share_round_trips_of_the_allowed_sizes() {
        let (mut plan, _answers) = plan(19, 3);
        // Kinds in the order they first came (B), the largest allowed size first.
        assert_eq!(sizes(&mut plan), [(1, 2), (1, 1), (0, 16), (0, 2), (0, 1)]);
    }

    #[test]
    fn a_failed_round_trip_runs_again_one_write_at_a_time_in_order() {
        let (mut plan, mut answers) = plan(11, 0);
        let mut head = Head::default();
        let mut done = Vec::new();
        let Some(first) = plan.next(&mut head, &mut done) else { panic!("a round trip") };
        assert_eq!(first.jobs.len(), 8);
        // The next round trip was prepared while the first ran; the first failed.
        let Some(next) = plan.next(&mut head, &mut done) else { panic!("a second round trip") };
        assert_eq!(next.jobs.len(), 2);
        plan.put_back(next);
        plan.retry_alone(first.sql, first.jobs);
        let mut order = Vec::new();
        let mut runs = Vec::new();
        while let Some(chunk) = plan.next(&mut head, &mut done) {
            runs.push(chunk.jobs.len());
            chunk.jobs.into_iter().for_each(|job| job.done(Ok(Vec::new())).settle(Ok(())));
        }
        for answer in &mut answers {
            order.push(answer.try_recv().ok().and_then(Result::ok));
        }
        assert_eq!(runs, [1, 1, 1, 1, 1, 1, 1, 1, 2, 1]);
        assert_eq!(order, (0..11).map(Some).collect::<Vec<_>>());
    }

    #[test]
    fn a_failed_batch_answers_every_write_with_its_error() {
        let (plan, mut answers) = plan(3, 2);
        let error = StoreError::Unavailable("the write was not committed: disk I/O error".into());
        let done: Vec<_> = plan.jobs().map(|job| job.done(Ok(Vec::new()))).collect();
        done.into_iter().for_each(|p| p.settle(Err(&error)));
        for answer in &mut answers {
            assert!(matches!(answer.try_recv(), Ok(Err(StoreError::Unavailable(m))) if m.contains("disk I/O")));
        }
    }
}
