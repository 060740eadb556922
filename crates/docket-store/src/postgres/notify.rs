//! Wake-ups between replicas with `LISTEN/NOTIFY`: a write that others should act on sends a
//! notification on [`CHANNEL`] inside its transaction (PostgreSQL delivers it only when the
//! transaction commits, and never if it rolls back), and every replica listens on a connection
//! of its own. A payload is `<sender>|t|<ticket>|<version>|<state>|<r><o>` for a ticket change
//! (`r` a run queued or freed, `o` notifications written; `-` for neither),
//! `<sender>|l|<ticket>|<seq>` for stored log lines, or `<sender>|c|<digest>` for a reloaded
//! configuration; a replica ignores its own.
//!
//! The first listening connection is reported as [`Wakeup::Listening`] once it listens (however
//! many attempts it took): what was sent before it was not heard. A broken listening connection
//! is opened again (backing off up to [`MAX_BACKOFF`]) and then reported as [`Wakeup::Missed`],
//! so the replica looks at everything once; until then its polling covers what it did not hear.

use std::time::Duration;

use docket_app::{StoreError, Wakeup, WakeupSink};
use docket_core::{TicketId, TicketState};
use sqlx::postgres::PgListener;
use sqlx::{Executor as _, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::rows::db_error;

/// The channel every replica listens on.
pub const CHANNEL: &str = "docket";
/// The `application_name` of the listening connection, so an operator (or a test) can find it
/// in `pg_stat_activity`.
pub const LISTENER_NAME: &str = "docket-listener";
const SET_NAME: &str = "SET application_name = 'docket-listener'";
/// Longest wait between attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The payload telling the other replicas that a ticket changed; sent inside the change's
/// transaction (see `commit`).
pub(super) fn ticket_payload(
    sender: &str,
    ticket: &TicketId,
    version: u64,
    state: TicketState,
    run: bool,
    outbox: bool,
) -> String {
    let flags = match (run, outbox) {
        (true, true) => "ro",
        (true, false) => "r",
        (false, true) => "o",
        (false, false) => "-",
    };
    format!("{sender}|t|{ticket}|{version}|{}|{flags}", state.as_str())
}

/// Tells the other replicas that a ticket's log lines up to `seq` are stored. Call inside the
/// transaction that stores them.
pub(super) async fn logged(conn: &mut PgConnection, sender: &str, ticket: &str, seq: i64) -> Result<(), StoreError> {
    send(conn, &format!("{sender}|l|{ticket}|{seq}")).await
}

/// Tells the other replicas that this one put the configuration with `digest` in force.
pub(super) async fn reloaded(pool: &PgPool, sender: &str, digest: &str) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await.map_err(db_error)?;
    send(&mut conn, &format!("{sender}|c|{digest}")).await
}

async fn send(conn: &mut PgConnection, payload: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(conn).await.map_err(db_error)?;
    Ok(())
}

/// Reads a payload another replica sent; `None` for this replica's own and for anything that
/// does not parse (logged: a newer replica may send more).
fn parse(payload: &str, me: &str) -> Option<Wakeup> {
    let mut parts = payload.split('|');
    let sender = parts.next()?;
    if sender == me {
        return None;
    }
    let kind = parts.next()?;
    if kind == "c" {
        let digest = parts.next().filter(|d| !d.is_empty() && d.len() <= 128)?;
        return Some(Wakeup::Reloaded { digest: digest.to_owned() });
    }
    let ticket = TicketId::parse(parts.next()?).ok()?;
    match kind {
        "t" => {
            let version = parts.next()?.parse().ok()?;
            let state = TicketState::parse(parts.next()?)?;
            let flags = parts.next()?;
            Some(Wakeup::Ticket { ticket, version, state, run: flags.contains('r'), outbox: flags.contains('o') })
        }
        "l" => Some(Wakeup::Logged { ticket, seq: parts.next()?.parse().ok()? }),
        _ => None,
    }
}

/// Listens until `shutdown`, handing other replicas' wake-ups to `sink`.
pub(super) async fn listen(pool: &PgPool, me: &str, sink: WakeupSink, shutdown: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        let listener = tokio::select! {
            () = shutdown.cancelled() => return,
            opened = open(pool) => opened,
        };
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "cannot listen for other replicas");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        if first {
            sink(Wakeup::Listening);
        } else {
            tracing::info!("listening for other replicas again");
            sink(Wakeup::Missed);
        }
        first = false;
        loop {
            let received = tokio::select! {
                () = shutdown.cancelled() => return,
                received = listener.try_recv() => received,
            };
            match received {
                Ok(Some(notification)) => {
                    if let Some(wakeup) = parse(notification.payload(), me) {
                        sink(wakeup);
                    } else if !notification.payload().starts_with(me) {
                        tracing::debug!(payload = notification.payload(), "ignored a notification");
                    }
                }
                Ok(None) | Err(_) => {
                    metrics::counter!("docket_listener_reconnects_total").increment(1);
                    tracing::warn!("lost the connection that listens for other replicas; polling until it is back");
                    break;
                }
            }
        }
    }
}

/// A listening connection, named so it can be found.
async fn open(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.execute(SET_NAME).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_and_own_ones_are_ignored() {
        let ticket = TicketId::parse("DKT-7").unwrap();
        assert_eq!(
            parse("b|t|DKT-7|12|running|ro", "a"),
            Some(Wakeup::Ticket {
                ticket: ticket.clone(),
                version: 12,
                state: TicketState::Running,
                run: true,
                outbox: true
            })
        );
        assert_eq!(
            parse("b|t|DKT-7|3|awaiting_approval|-", "a")
                .map(|w| matches!(w, Wakeup::Ticket { run: false, outbox: false, .. })),
            Some(true)
        );
        assert_eq!(parse("b|l|DKT-7|40", "a"), Some(Wakeup::Logged { ticket, seq: 40 }));
        assert_eq!(parse("a|l|DKT-7|40", "a"), None);
        assert_eq!(parse("b|c|5f2a", "a"), Some(Wakeup::Reloaded { digest: "5f2a".into() }));
        assert_eq!(parse("a|c|5f2a", "a"), None);
        for bad in
            ["", "b", "b|x|DKT-7|1", "b|t|DKT-7|x|running|-", "b|t|DKT-7|1|nope|-", "b|l|nope|1", "b|l|DKT-7|", "b|c|"]
        {
            assert_eq!(parse(bad, "a"), None, "{bad}");
        }
    }
}
