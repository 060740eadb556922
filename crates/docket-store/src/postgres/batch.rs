//! One batch's transaction (see `writer` for the why): `BEGIN`, every ticket commit in one
//! statement (see `commit`), each other write's statement (run claims last), then the audit
//! lock and the chain's head in one round trip, every applied write's audit records in one
//! statement, and `COMMIT`; then every caller is answered. If a statement fails, the
//! transaction is rolled back and run again with each write alone in a savepoint of its own.

use std::collections::HashSet;
use std::sync::LazyLock;

use docket_app::StoreError;
use docket_core::audit::AuditRecord;
use sqlx::{PgConnection, PgTransaction, Row as _};

use super::audit::AUDIT_LOCK;
use super::commit::Commit;
use super::writer::{Failure, Job, Settle, same};
use crate::rows::{self, AuditColumns, db_error};

/// Takes the audit lock (held until the transaction ends), then reads the chain's head: two
/// statements in one round trip (the simple protocol), so the read's snapshot is taken after
/// the lock is held and sees every append committed before.
static LOCK_AND_HEAD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT 1 AS locked FROM pg_advisory_xact_lock({AUDIT_LOCK}); \
         SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
    )
});

/// Appends a batch's audit records and keeps the sequence from handing out a ticket number a
/// ticket of the batch took (the lock makes the check and the bump one step).
const APPEND: &str = "WITH appended AS (\
    INSERT INTO audit (seq, at, actor, action, ticket, details, prev_hash, hash) \
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])) \
    SELECT setval('ticket_numbers', $9) FROM ticket_numbers \
    WHERE $9::bigint IS NOT NULL AND (last_value < $9 OR (NOT is_called AND last_value = $9))";

/// How a write of the batch went, before the commit.
enum Applied {
    Yes,
    No(StoreError),
}

/// Runs one batch in one transaction and answers every caller. Returns whether it committed.
pub(super) async fn write(conn: &mut PgConnection, mut jobs: Vec<Box<dyn Job>>) -> bool {
    // Writes of a batch may run in any order (none has been answered, so any order is one they
    // could have had); ticket order means two batches lock rows in the same order.
    jobs.sort_by(|a, b| a.key().cmp(&b.key()));
    match transaction(conn, &mut jobs).await {
        Ok(outcomes) => {
            let done: Vec<Box<dyn Settle>> = jobs
                .into_iter()
                .zip(outcomes)
                .map(|(job, outcome)| match outcome {
                    Ok(records) => job.done(records),
                    Err(error) => job.fail(error),
                })
                .collect();
            done.into_iter().for_each(|p| p.settle(Ok(())));
            true
        }
        Err(error) => {
            tracing::error!(%error, "a PostgreSQL write batch was rolled back");
            jobs.into_iter().for_each(|job| job.fail(same(&error)).settle(Ok(())));
            false
        }
    }
}

/// The batch's transaction: each write's result (its audit records, or its own error), once
/// committed; an error if nothing was committed.
async fn transaction(
    conn: &mut PgConnection,
    jobs: &mut [Box<dyn Job>],
) -> Result<Vec<Result<Vec<AuditRecord>, StoreError>>, StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(not_committed)?;
    let applied = match fast(&mut tx, jobs).await {
        Some(applied) => applied,
        None => {
            // A statement failed, so the transaction is aborted: start again, carefully.
            tx.rollback().await.map_err(not_committed)?;
            tx = sqlx::Connection::begin(&mut *conn).await.map_err(not_committed)?;
            careful(&mut tx, jobs).await?
        }
    };
    let records = append_audit(&mut tx, jobs, &applied).await?;
    tx.commit().await.map_err(not_committed)?;
    Ok(applied
        .into_iter()
        .zip(records)
        .map(|(applied, records)| match applied {
            Applied::Yes => Ok(records),
            Applied::No(error) => Err(error),
        })
        .collect())
}

/// The batch's commits in one statement (or a few, when two of them write one ticket), then
/// every other write's statement, in order; `None` as soon as one fails.
async fn fast(tx: &mut PgTransaction<'_>, jobs: &mut [Box<dyn Job>]) -> Option<Vec<Applied>> {
    let mut applied: Vec<Option<Applied>> = jobs.iter().map(|_| None).collect();
    // Rounds of commits with at most one per ticket: the statement sees the tickets as they
    // were before it, so a second write of a ticket runs in a later round.
    let mut rounds: Vec<(HashSet<&str>, Vec<usize>)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let Some(ticket) = job.commit().map(Commit::ticket) else { continue };
        match rounds.iter_mut().find(|(tickets, _)| !tickets.contains(ticket)) {
            Some((tickets, round)) => {
                tickets.insert(ticket);
                round.push(i);
            }
            None => rounds.push((HashSet::from([ticket]), vec![i])),
        }
    }
    let rounds: Vec<Vec<usize>> = rounds.into_iter().map(|(_, round)| round).collect();
    for round in rounds {
        let commits: Vec<&Commit> = round.iter().filter_map(|&i| jobs.get(i)?.commit()).collect();
        let written = super::commit::write(&mut **tx, &commits).await.ok()?;
        for ((&i, commit), written) in round.iter().zip(&commits).zip(written) {
            if let Some(slot) = applied.get_mut(i) {
                *slot = Some(if written { Applied::Yes } else { Applied::No(commit.conflict()) });
            }
        }
    }
    for (job, slot) in jobs.iter_mut().zip(applied.iter_mut()) {
        if slot.is_some() {
            continue;
        }
        *slot = Some(match job.apply(&mut **tx).await {
            Ok(()) => Applied::Yes,
            Err(Failure::Refused(error)) => Applied::No(error),
            Err(Failure::Failed(_)) => return None,
        });
    }
    applied.into_iter().collect()
}

/// Every write's statement in a savepoint of its own: one that fails is rolled back alone and
/// keeps its error.
async fn careful(tx: &mut PgTransaction<'_>, jobs: &mut [Box<dyn Job>]) -> Result<Vec<Applied>, StoreError> {
    let mut applied = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        sqlx::raw_sql("SAVEPOINT write").execute(&mut **tx).await.map_err(not_committed)?;
        match job.apply(&mut **tx).await {
            Ok(()) => applied.push(Applied::Yes),
            Err(Failure::Refused(error)) => applied.push(Applied::No(error)),
            Err(Failure::Failed(error)) => {
                sqlx::raw_sql("ROLLBACK TO SAVEPOINT write").execute(&mut **tx).await.map_err(not_committed)?;
                applied.push(Applied::No(error));
            }
        }
        sqlx::raw_sql("RELEASE SAVEPOINT write").execute(&mut **tx).await.map_err(not_committed)?;
    }
    Ok(applied)
}

/// Chains the applied writes' audit entries after the head, in the batch's order, and inserts
/// them; each write's records (none for a write that did not apply).
async fn append_audit(
    tx: &mut PgTransaction<'_>,
    jobs: &mut [Box<dyn Job>],
    applied: &[Applied],
) -> Result<Vec<Vec<AuditRecord>>, StoreError> {
    let mut entries = Vec::with_capacity(jobs.len());
    let mut number: Option<i64> = None;
    for (job, applied) in jobs.iter_mut().zip(applied) {
        if let Applied::Yes = applied {
            entries.push(job.take_audit());
            number = number.max(job.number());
        } else {
            entries.push(Vec::new());
        }
    }
    if number.is_none() && entries.iter().all(Vec::is_empty) {
        return Ok(entries.into_iter().map(|_| Vec::new()).collect());
    }
    let found = sqlx::raw_sql(sqlx::AssertSqlSafe(LOCK_AND_HEAD.as_str())).fetch_all(&mut **tx).await.map_err(not_committed)?;
    let mut head =
        found.iter().find(|row| row.try_column("hash").is_ok()).map(rows::audit_head).transpose()?;
    let mut columns = Columns::default();
    let mut records = Vec::with_capacity(entries.len());
    for entries in entries {
        let chained = rows::chain(entries, head.clone());
        for record in &chained {
            columns.push(AuditColumns::new(record)?);
        }
        if let Some(last) = chained.last() {
            head = Some((last.seq, last.hash.clone()));
        }
        records.push(chained);
    }
    sqlx::query(APPEND)
        .bind(columns.seq)
        .bind(columns.at)
        .bind(columns.actor)
        .bind(columns.action)
        .bind(columns.ticket)
        .bind(columns.details)
        .bind(columns.prev_hash)
        .bind(columns.hash)
        .bind(number)
        .execute(&mut **tx)
        .await
        .map_err(not_committed)?;
    Ok(records)
}

/// Audit records as columns, for one `unnest`.
#[derive(Default)]
struct Columns {
    seq: Vec<i64>,
    at: Vec<String>,
    actor: Vec<String>,
    action: Vec<String>,
    ticket: Vec<Option<String>>,
    details: Vec<String>,
    prev_hash: Vec<String>,
    hash: Vec<String>,
}

impl Columns {
    fn push(&mut self, r: AuditColumns) {
        self.seq.push(r.seq);
        self.at.push(r.at);
        self.actor.push(r.actor);
        self.action.push(r.action);
        self.ticket.push(r.ticket);
        self.details.push(r.details);
        self.prev_hash.push(r.prev_hash);
        self.hash.push(r.hash);
    }
}

/// The error every caller of a lost batch gets.
fn not_committed(error: sqlx::Error) -> StoreError {
    match db_error(error) {
        StoreError::Unavailable(m) => StoreError::Unavailable(format!("the write was not committed: {m}")),
        other => other,
    }
}
