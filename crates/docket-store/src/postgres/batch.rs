//! One batch's transaction (see `writer` for the why): `BEGIN`, every ticket commit in one
//! statement (see `commit`), each other write's statement (run claims last), then the audit
//! lock and the chain's head in one round trip, every applied write's audit records in one
//! statement, and `COMMIT`; then every caller is answered. If a statement fails, the
//! transaction is rolled back and run again with each write alone in a savepoint of its own.

use std::collections::HashSet;
use std::sync::LazyLock;

use docket_app::StoreError;
use docket_core::audit::AuditRecord;
use serde::Serialize;
use sqlx::{PgConnection, Row as _};

use super::audit::AUDIT_LOCK;
use super::commit::Commit;
use super::writer::{Failure, Job};
use crate::rows::{self, AuditColumns, db_error};
use crate::settle::{Settle, same};

/// Takes the audit lock (held until the transaction ends), then reads the chain's head: two
/// statements in one round trip (the simple protocol), so the read's snapshot is taken after
/// the lock is held and sees every append committed before.
static LOCK_AND_HEAD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT 1 AS locked FROM pg_advisory_xact_lock({AUDIT_LOCK}); \
         SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
    )
});

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
/// committed; an error if nothing was committed (the transaction is rolled back).
async fn transaction(
    conn: &mut PgConnection,
    jobs: &mut [Box<dyn Job>],
) -> Result<Vec<Result<Vec<AuditRecord>, StoreError>>, StoreError> {
    let result = writes(conn, jobs).await;
    if result.is_err() {
        // Harmless when the transaction already ended (a failed COMMIT ends it).
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    }
    result
}

/// `BEGIN`, the writes, the audit records and `COMMIT`; on an error the transaction is left for
/// the caller to roll back.
async fn writes(
    conn: &mut PgConnection,
    jobs: &mut [Box<dyn Job>],
) -> Result<Vec<Result<Vec<AuditRecord>, StoreError>>, StoreError> {
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await.map_err(not_committed)?;
    let applied = match fast(conn, jobs).await {
        Some(applied) => applied,
        None => {
            // A statement failed, so the transaction is aborted: start again, carefully.
            sqlx::raw_sql("ROLLBACK; BEGIN").execute(&mut *conn).await.map_err(not_committed)?;
            careful(conn, jobs).await?
        }
    };
    let records = append_and_commit(conn, jobs, &applied).await?;
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
async fn fast(conn: &mut PgConnection, jobs: &mut [Box<dyn Job>]) -> Option<Vec<Applied>> {
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
        let written = super::commit::write(&mut *conn, &commits).await.ok()?;
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
        *slot = Some(match job.apply(&mut *conn).await {
            Ok(()) => Applied::Yes,
            Err(Failure::Refused(error)) => Applied::No(error),
            Err(Failure::Failed(_)) => return None,
        });
    }
    applied.into_iter().collect()
}

/// Every write's statement in a savepoint of its own: one that fails is rolled back alone and
/// keeps its error.
async fn careful(conn: &mut PgConnection, jobs: &mut [Box<dyn Job>]) -> Result<Vec<Applied>, StoreError> {
    let mut applied = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        sqlx::raw_sql("SAVEPOINT write").execute(&mut *conn).await.map_err(not_committed)?;
        match job.apply(&mut *conn).await {
            Ok(()) => applied.push(Applied::Yes),
            Err(Failure::Refused(error)) => applied.push(Applied::No(error)),
            Err(Failure::Failed(error)) => {
                sqlx::raw_sql("ROLLBACK TO SAVEPOINT write").execute(&mut *conn).await.map_err(not_committed)?;
                applied.push(Applied::No(error));
            }
        }
        sqlx::raw_sql("RELEASE SAVEPOINT write").execute(&mut *conn).await.map_err(not_committed)?;
    }
    Ok(applied)
}

/// Chains the applied writes' audit entries after the head, in the batch's order, inserts them
/// and commits; each write's records (none for a write that did not apply).
async fn append_and_commit(
    conn: &mut PgConnection,
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
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await.map_err(not_committed)?;
        return Ok(entries.into_iter().map(|_| Vec::new()).collect());
    }
    let found = sqlx::raw_sql(sqlx::AssertSqlSafe(LOCK_AND_HEAD.as_str()))
        .fetch_all(&mut *conn)
        .await
        .map_err(not_committed)?;
    let mut head = found.iter().find(|row| row.try_column("hash").is_ok()).map(rows::audit_head).transpose()?;
    let mut columns = Vec::new();
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
    let finish = append_sql(&columns, number)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(finish)).execute(&mut *conn).await.map_err(not_committed)?;
    Ok(records)
}

/// An audit record as an element of the JSON array [`append_sql`] sends.
#[derive(Serialize)]
struct AuditRow<'a> {
    seq: i64,
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    ticket: Option<&'a str>,
    details: &'a str,
    prev_hash: &'a str,
    hash: &'a str,
}

/// The batch's last round trip: the audit records inserted, the ticket-number sequence moved
/// past `number` if it is behind (the lock makes the check and the bump one step), and `COMMIT`,
/// as one string of statements, so the lock is held for one round trip less. The records travel
/// as a JSON array in a hex literal, which nothing in them can end: the text is made only of
/// constants, hex digits and a number.
fn append_sql(columns: &[AuditColumns], number: Option<i64>) -> Result<String, StoreError> {
    let rows: Vec<AuditRow<'_>> = columns
        .iter()
        .map(|r| AuditRow {
            seq: r.seq,
            at: &r.at,
            actor: &r.actor,
            action: &r.action,
            ticket: r.ticket.as_deref(),
            details: &r.details,
            prev_hash: &r.prev_hash,
            hash: &r.hash,
        })
        .collect();
    let json = rows::to_json(&rows, "audit records")?;
    let mut sql = String::with_capacity(json.len() * 2 + 512);
    sql.push_str(
        "INSERT INTO audit (seq, at, actor, action, ticket, details, prev_hash, hash) \
         SELECT r.seq, r.at, r.actor, r.action, r.ticket, r.details, r.prev_hash, r.hash \
         FROM json_to_recordset(convert_from(decode('",
    );
    for byte in json.bytes() {
        sql.push(char::from(HEX[usize::from(byte >> 4)]));
        sql.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    sql.push_str(
        "', 'hex'), 'UTF8')::json) AS r(seq bigint, at text, actor text, action text, ticket text, details text, \
         prev_hash text, hash text); ",
    );
    if let Some(n) = number {
        sql.push_str(&format!(
            "SELECT setval('ticket_numbers', {n}) FROM ticket_numbers \
             WHERE last_value < {n} OR (NOT is_called AND last_value = {n}); "
        ));
    }
    sql.push_str("COMMIT");
    Ok(sql)
}

/// Hex digits, for [`append_sql`].
const HEX: &[u8; 16] = b"0123456789abcdef";

/// The error every caller of a lost batch gets.
fn not_committed(error: sqlx::Error) -> StoreError {
    match db_error(error) {
        StoreError::Unavailable(m) => StoreError::Unavailable(format!("the write was not committed: {m}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_round_trip_carries_the_records_in_hex_and_commits() {
        let record = AuditColumns {
            seq: 7,
            at: "2026-01-01T00:00:00Z".into(),
            actor: "o'brien'); DROP TABLE audit; --".into(),
            action: "ticket.requested".into(),
            ticket: None,
            details: "{\"quote\":\"'\"}".into(),
            prev_hash: "00".into(),
            hash: "ff".into(),
        };
        let sql = append_sql(std::slice::from_ref(&record), Some(12)).unwrap_or_default();
        // Nothing a record says reaches the text but hex digits.
        assert!(!sql.contains("DROP"));
        assert_eq!(sql.matches('\'').count(), 8);
        let hex = sql.split("decode('").nth(1).and_then(|s| s.split('\'').next()).unwrap_or_default();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .filter_map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect();
        let json = String::from_utf8(bytes).unwrap_or_default();
        assert!(json.contains("\"actor\":\"o'brien'); DROP TABLE audit; --\""), "{json}");
        assert!(sql.contains("setval('ticket_numbers', 12)"));
        assert!(sql.ends_with("; COMMIT"));
        assert!(append_sql(&[record], None).unwrap_or_default().contains("hash text); COMMIT"));
    }
}
