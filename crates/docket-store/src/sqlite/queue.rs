//! The run queue on SQLite: entries written with their ticket's change (see `tickets`), claimed
//! with a lease by the writer (so two claims are never interleaved), heartbeats and lease resets.
//! Each returns exactly one row (see `writer`).

use docket_app::{Claim, StoreError};
use docket_core::TicketId;
use jiff::Timestamp;

use super::writer::{Args, Row, Sql, Write, bind};
use crate::rows::{self, nanos};

/// Claims the oldest claimable entry: the first of its concurrency key (or keyless), and
/// unclaimed or with a lapsed lease.
#[derive(Debug)]
pub(super) struct ClaimRun {
    pub(super) holder: String,
    pub(super) now: Timestamp,
    pub(super) lease_until: Timestamp,
}

/// The oldest claimable entry's ticket, for `?` = now.
macro_rules! claimable {
    () => {
        "(SELECT ticket FROM run_queue q \
          WHERE (holder IS NULL OR lease_until_ns <= ?) \
            AND (concurrency_key IS NULL OR NOT EXISTS ( \
                 SELECT 1 FROM run_queue e WHERE e.concurrency_key = q.concurrency_key AND e.position < q.position)) \
          ORDER BY position LIMIT 1)"
    };
}

/// The entry is found twice, by the same query in the same transaction (so the same entry):
/// once to read whether it was claimed before (one row, empty when there is none), once to
/// claim it. Parameters: now; then holder, lease end, now.
static CLAIM: Sql = Sql::new(
    concat!(
        "SELECT c.ticket AS ticket, c.claimed_before AS claimed_before FROM (SELECT 1) \
         LEFT JOIN run_queue c ON c.ticket = ",
        claimable!(),
        "; UPDATE run_queue SET holder = ?, lease_until_ns = ?, claimed_before = 1 WHERE ticket = ",
        claimable!(),
        "; "
    ),
    1,
);

impl Write for ClaimRun {
    type Output = Option<Claim>;

    fn sql(&self) -> &'static Sql {
        &CLAIM
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, nanos(self.now))?;
        bind(args, &self.holder)?;
        bind(args, nanos(self.lease_until))?;
        bind(args, nanos(self.now))
    }

    fn output(self, rows: Vec<Row>) -> Result<Option<Claim>, StoreError> {
        let Some(row) = rows.first() else { return Ok(None) };
        let ticket: Option<String> = row.try_get("ticket")?;
        let Some(ticket) = ticket else { return Ok(None) };
        let recovered: bool = row.try_get("claimed_before")?;
        Ok(Some(Claim { ticket: rows::ticket_id(&ticket)?, recovered }))
    }
}

/// Extends `holder`'s lease; false if someone else holds the entry or it is gone.
#[derive(Debug)]
pub(super) struct Heartbeat {
    pub(super) ticket: TicketId,
    pub(super) holder: String,
    pub(super) lease_until: Timestamp,
}

static HEARTBEAT: Sql =
    Sql::new("UPDATE run_queue SET lease_until_ns = ? WHERE ticket = ? AND holder = ?; SELECT changes() AS n; ", 1);

impl Write for Heartbeat {
    type Output = bool;

    fn sql(&self) -> &'static Sql {
        &HEARTBEAT
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, nanos(self.lease_until))?;
        bind(args, self.ticket.to_string())?;
        bind(args, &self.holder)
    }

    fn output(self, rows: Vec<Row>) -> Result<bool, StoreError> {
        Ok(changed(&rows)? > 0)
    }
}

/// Releases every claimed entry (the next claim of each reports it recovered) and every
/// notification claim.
#[derive(Debug)]
pub(super) struct EndAllLeases;

static END_ALL_LEASES: Sql = Sql::new(
    "DELETE FROM outbox_claims; UPDATE run_queue SET holder = NULL, lease_until_ns = NULL WHERE holder IS NOT NULL; SELECT changes() AS n; ",
    1,
);

impl Write for EndAllLeases {
    type Output = u64;

    fn sql(&self) -> &'static Sql {
        &END_ALL_LEASES
    }

    fn bind(&self, _: &mut Args) -> Result<(), StoreError> {
        Ok(())
    }

    fn output(self, rows: Vec<Row>) -> Result<u64, StoreError> {
        changed(&rows)
    }
}

/// Takes or keeps a role for a holder (see `RunQueue::lead`); one row: whether it has it.
#[derive(Debug)]
pub(super) struct Lead {
    pub(super) role: String,
    pub(super) holder: String,
    pub(super) now: Timestamp,
    pub(super) until: Timestamp,
}

/// Parameters: role, holder, until, now.
static LEAD: Sql = Sql::new(
    "INSERT INTO leases (role, holder, until_ns) VALUES (?, ?, ?) \
     ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, until_ns = excluded.until_ns \
     WHERE leases.holder = excluded.holder OR leases.until_ns <= ?; SELECT changes() AS n; ",
    1,
);

impl Write for Lead {
    type Output = bool;

    fn sql(&self) -> &'static Sql {
        &LEAD
    }

    fn bind(&self, args: &mut Args) -> Result<(), StoreError> {
        bind(args, &self.role)?;
        bind(args, &self.holder)?;
        bind(args, nanos(self.until))?;
        bind(args, nanos(self.now))
    }

    fn output(self, rows: Vec<Row>) -> Result<bool, StoreError> {
        Ok(changed(&rows)? > 0)
    }
}

/// The row count of `SELECT changes() AS n`.
pub(super) fn changed(rows: &[Row]) -> Result<u64, StoreError> {
    let n: i64 = rows.first().map(|r| r.try_get("n")).transpose()?.unwrap_or(0);
    rows::to_unsigned(n, "changed rows")
}
