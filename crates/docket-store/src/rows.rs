//! Conversions between core values and columns, shared by both backends: error mapping, times,
//! JSON, and decoding each kind of row. Backends read columns through [`Columns`], so the
//! decoding rules exist once.

use docket_app::{ApiToken, LogLine, LogStream, NewOutboxMessage, OutboxMessage, Revocation, StoreError, StoredTicket};
use docket_core::audit::{AuditEntry, AuditRecord, GENESIS_HASH};
use docket_core::{Event, PersonId, Ticket, TicketId};
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row as _;

/// How many due messages a notification claim for `tickets` tickets looks at, on either engine.
/// A ticket's first pending message for each of its notifiers is a candidate (one thread per
/// notifier), so eight a ticket cover every ticket; a claim that takes fewer tickets than it
/// could leaves the rest to the next pass.
pub(crate) fn claim_walk_limit(tickets: u32) -> i64 {
    i64::from(tickets).saturating_mul(8)
}

/// Page size of [`docket_app::Store::tickets`] when the filter asks for 0.
pub(crate) const DEFAULT_PAGE: u32 = 50;
/// Largest page of [`docket_app::Store::tickets`].
pub(crate) const MAX_PAGE: u32 = 500;

/// The page size a filter's `limit` asks for.
pub(crate) fn page_limit(limit: u32) -> u32 {
    if limit == 0 { DEFAULT_PAGE } else { limit.min(MAX_PAGE) }
}

/// Maps a database error: decoding problems mean the stored data is not what Docket wrote;
/// everything else means the database could not do what was asked, and nothing was written.
pub(crate) fn db_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. } => StoreError::Corrupt(error.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// The error for a token whose hash is already saved (tokens are random, so this means the
/// same token was saved twice).
pub(crate) fn token_exists() -> StoreError {
    StoreError::Unavailable("an API token with this hash or id is already saved".into())
}

/// A URL without its password, for error messages.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:[redacted]@{host}"),
        None => url.to_owned(),
    }
}

/// A count or sequence number as a database integer.
pub(crate) fn to_i64<T: TryInto<i64> + Copy + std::fmt::Display>(value: T, what: &str) -> Result<i64, StoreError> {
    value.try_into().map_err(|_| StoreError::Unavailable(format!("{what} {value} is too large to store")))
}

/// A database integer as an unsigned count or sequence number.
pub(crate) fn to_unsigned<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is out of range")))
}

/// A timestamp as integer nanoseconds since the Unix epoch, for columns the store compares.
/// Instants beyond ±292 years of 1970 saturate, which keeps every comparison with a present-day
/// time correct.
pub(crate) fn nanos(at: Timestamp) -> i64 {
    let n = at.as_nanosecond();
    i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

/// A timestamp as stored for people: RFC 3339, exactly as `jiff` prints it.
pub(crate) fn time_text(at: Timestamp) -> String {
    at.to_string()
}

/// Parses a timestamp written by [`time_text`].
pub(crate) fn parse_time(text: &str, what: &str) -> Result<Timestamp, StoreError> {
    text.parse().map_err(|e| StoreError::Corrupt(format!("{what} `{text}` is not a timestamp: {e}")))
}

/// Serializes a value for a JSON column.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Unavailable(format!("cannot serialize {what}: {e}")))
}

/// Reads a JSON column.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what} is not valid: {e}")))
}

/// Parses a stored ticket id.
pub(crate) fn ticket_id(text: &str) -> Result<TicketId, StoreError> {
    TicketId::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Typed column reads, the same for both backends' rows.
pub(crate) trait Columns {
    /// A text column.
    fn text(&self, name: &str) -> Result<String, StoreError>;
    /// A nullable text column.
    fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// An integer column.
    fn int(&self, name: &str) -> Result<i64, StoreError>;
}

macro_rules! columns_for {
    ($row:ty) => {
        impl Columns for $row {
            fn text(&self, name: &str) -> Result<String, StoreError> {
                self.try_get(name).map_err(db_error)
            }
            fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
                self.try_get(name).map_err(db_error)
            }
            fn int(&self, name: &str) -> Result<i64, StoreError> {
                self.try_get(name).map_err(db_error)
            }
        }
    };
}

columns_for!(sqlx::sqlite::SqliteRow);
columns_for!(sqlx::postgres::PgRow);

/// The columns of a `tickets` row.
#[derive(Debug)]
pub(crate) struct TicketColumns {
    pub(crate) id: String,
    pub(crate) number: i64,
    pub(crate) workflow: String,
    pub(crate) requester: String,
    pub(crate) state: &'static str,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) respond_by_ns: Option<i64>,
    pub(crate) start_by_ns: Option<i64>,
    pub(crate) version: i64,
    pub(crate) body: String,
}

impl TicketColumns {
    /// The row for `ticket` at `version`.
    pub(crate) fn new(ticket: &Ticket, version: u64) -> Result<Self, StoreError> {
        Ok(Self {
            id: ticket.id.to_string(),
            number: to_i64(ticket.id.number(), "ticket number")?,
            workflow: ticket.workflow.to_string(),
            requester: ticket.requester.to_string(),
            state: ticket.state.as_str(),
            created_at: time_text(ticket.created_at),
            updated_at: time_text(ticket.updated_at),
            respond_by_ns: ticket.respond_by.map(nanos),
            start_by_ns: ticket.start_by.map(nanos),
            version: to_i64(version, "ticket version")?,
            body: to_json(ticket, "ticket")?,
        })
    }
}

/// A ticket from its `body` and `version` columns.
pub(crate) fn stored_ticket(row: &impl Columns) -> Result<StoredTicket, StoreError> {
    Ok(StoredTicket {
        ticket: from_json(&row.text("body")?, "ticket body")?,
        version: to_unsigned(row.int("version")?, "version")?,
    })
}

/// A ticket from its `body` column.
pub(crate) fn ticket(row: &impl Columns) -> Result<Ticket, StoreError> {
    from_json(&row.text("body")?, "ticket body")
}

/// An event from its `body` and `at` columns.
pub(crate) fn event(row: &impl Columns) -> Result<(Event, Timestamp), StoreError> {
    Ok((from_json(&row.text("body")?, "event body")?, parse_time(&row.text("at")?, "event time")?))
}

/// The columns of an `audit` row.
#[derive(Debug)]
pub(crate) struct AuditColumns {
    pub(crate) seq: i64,
    pub(crate) at: String,
    pub(crate) actor: String,
    pub(crate) action: String,
    pub(crate) ticket: Option<String>,
    pub(crate) details: String,
    pub(crate) prev_hash: String,
    pub(crate) hash: String,
}

impl AuditColumns {
    /// The row for `record`.
    pub(crate) fn new(record: &AuditRecord) -> Result<Self, StoreError> {
        Ok(Self {
            seq: to_i64(record.seq, "audit seq")?,
            at: time_text(record.entry.at),
            actor: record.entry.actor.clone(),
            action: record.entry.action.clone(),
            ticket: record.entry.ticket.clone(),
            details: to_json(&record.entry.details, "audit details")?,
            prev_hash: record.prev_hash.clone(),
            hash: record.hash.clone(),
        })
    }
}

/// Chains `entries` after the record with `head` (seq and hash), or after the genesis when
/// the chain is empty.
pub(crate) fn chain(entries: Vec<AuditEntry>, head: Option<(u64, String)>) -> Vec<AuditRecord> {
    let (mut seq, mut hash) = head.unwrap_or_else(|| (0, GENESIS_HASH.to_owned()));
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let record = AuditRecord::chain(entry, seq, &hash);
        seq = record.seq;
        hash.clone_from(&record.hash);
        out.push(record);
    }
    out
}

/// The chain's head from a row of `seq` and `hash`.
pub(crate) fn audit_head(row: &impl Columns) -> Result<(u64, String), StoreError> {
    Ok((to_unsigned(row.int("seq")?, "audit seq")?, row.text("hash")?))
}

/// A signed checkpoint from every `audit_checkpoints` column.
pub(crate) fn checkpoint(row: &impl Columns) -> Result<docket_core::checkpoint::Checkpoint, StoreError> {
    Ok(docket_core::checkpoint::Checkpoint {
        seq: to_unsigned(row.int("seq")?, "checkpoint seq")?,
        hash: row.text("hash")?,
        at: parse_time(&row.text("at")?, "checkpoint time")?,
        key: row.text("key")?,
        signature: row.text("signature")?,
    })
}

/// An audit record from every `audit` column.
pub(crate) fn audit_record(row: &impl Columns) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: to_unsigned(row.int("seq")?, "audit seq")?,
        entry: AuditEntry {
            at: parse_time(&row.text("at")?, "audit time")?,
            actor: row.text("actor")?,
            action: row.text("action")?,
            ticket: row.opt_text("ticket")?,
            details: from_json(&row.text("details")?, "audit details")?,
        },
        prev_hash: row.text("prev_hash")?,
        hash: row.text("hash")?,
    })
}

/// The columns of a `step_logs` row (serialized as an element of the JSON array SQLite inserts
/// lines from).
#[derive(Debug, serde::Serialize)]
pub(crate) struct LogColumns {
    pub(crate) ticket: String,
    pub(crate) seq: i64,
    pub(crate) run: i64,
    pub(crate) step: i64,
    pub(crate) stream: &'static str,
    pub(crate) text: String,
    pub(crate) at: String,
}

impl LogColumns {
    /// The row for `line`.
    pub(crate) fn new(line: &LogLine) -> Result<Self, StoreError> {
        Ok(Self {
            ticket: line.ticket.to_string(),
            seq: to_i64(line.seq, "log seq")?,
            run: i64::from(line.run),
            step: to_i64(line.step, "step index")?,
            stream: line.stream.as_str(),
            text: line.text.clone(),
            at: time_text(line.at),
        })
    }
}

/// A log line from every `step_logs` column.
pub(crate) fn log_line(row: &impl Columns) -> Result<LogLine, StoreError> {
    let stream = row.text("stream")?;
    Ok(LogLine {
        ticket: ticket_id(&row.text("ticket")?)?,
        run: to_unsigned(row.int("run")?, "run number")?,
        step: to_unsigned(row.int("step")?, "step index")?,
        seq: to_unsigned(row.int("seq")?, "log seq")?,
        stream: LogStream::parse(&stream)
            .ok_or_else(|| StoreError::Corrupt(format!("`{stream}` is not a log stream")))?,
        text: row.text("text")?,
        at: parse_time(&row.text("at")?, "log time")?,
    })
}

/// An outbox message from its `id`, `notifier`, `ticket`, `key`, `payload`, `attempts` and
/// `created_at` columns.
pub(crate) fn outbox_message(row: &impl Columns) -> Result<OutboxMessage, StoreError> {
    Ok(OutboxMessage {
        id: to_unsigned(row.int("id")?, "outbox id")?,
        message: NewOutboxMessage {
            notifier: row.text("notifier")?,
            ticket: ticket_id(&row.text("ticket")?)?,
            key: row.text("key")?,
            payload: from_json(&row.text("payload")?, "outbox payload")?,
        },
        attempts: to_unsigned(row.int("attempts")?, "delivery attempts")?,
        created_at: parse_time(&row.text("created_at")?, "outbox time")?,
        claims: to_unsigned(row.int("claims")?, "delivery claims")?,
    })
}

/// The `api_tokens` columns [`api_token`] reads, for `SELECT`s.
pub(crate) const TOKEN_COLUMNS: &str =
    "id, hash, person, agent, name, created_by, created_at, expires_at, last_used_at, revoked_at, revoked_by";

/// An API token's record from the [`TOKEN_COLUMNS`].
pub(crate) fn api_token(row: &impl Columns) -> Result<ApiToken, StoreError> {
    let time = |column: &str| row.opt_text(column)?.map(|t| parse_time(&t, "token time")).transpose();
    let revoked = match (time("revoked_at")?, row.opt_text("revoked_by")?) {
        (Some(at), by) => Some(Revocation { at, by: by.unwrap_or_default() }),
        (None, _) => None,
    };
    Ok(ApiToken {
        id: row.opt_text("id")?.ok_or_else(|| StoreError::Corrupt("an API token has no id".into()))?,
        hash: row.text("hash")?,
        person: PersonId::new(row.text("person")?),
        agent: row.opt_text("agent")?,
        name: row.text("name")?,
        created_by: row.text("created_by")?,
        created_at: parse_time(&row.text("created_at")?, "token time")?,
        expires_at: time("expires_at")?,
        last_used_at: time("last_used_at")?,
        revoked,
    })
}

/// A `(state, count)` row of the tickets-by-state statistic.
pub(crate) fn state_count(row: &impl Columns) -> Result<(docket_core::TicketState, u64), StoreError> {
    let state = row.text("state")?;
    let parsed = docket_core::TicketState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("`{state}` is not a ticket state")))?;
    Ok((parsed, to_unsigned(row.int("n")?, "ticket count")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limits() {
        assert_eq!(page_limit(0), DEFAULT_PAGE);
        assert_eq!(page_limit(7), 7);
        assert_eq!(page_limit(100_000), MAX_PAGE);
    }

    #[test]
    fn nanos_saturate_and_keep_order() {
        assert_eq!(nanos(Timestamp::UNIX_EPOCH), 0);
        assert_eq!(nanos(Timestamp::MAX), i64::MAX);
        assert_eq!(nanos(Timestamp::MIN), i64::MIN);
        let a: Timestamp = "2026-11-24T09:00:00.000000001Z".parse().unwrap_or(Timestamp::UNIX_EPOCH);
        let b: Timestamp = "2026-11-24T09:00:00.000000002Z".parse().unwrap_or(Timestamp::UNIX_EPOCH);
        assert!(nanos(a) < nanos(b));
    }

    #[test]
    fn times_round_trip_exactly() {
        for text in ["2026-11-24T09:00:00Z", "2026-11-24T09:00:00.123456789Z", "1969-12-31T23:59:59.5Z"] {
            let at: Timestamp = text.parse().unwrap_or(Timestamp::UNIX_EPOCH);
            assert_eq!(parse_time(&time_text(at), "t").ok(), Some(at));
        }
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:[redacted]@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
