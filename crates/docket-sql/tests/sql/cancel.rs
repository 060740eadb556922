//! A person's cancel of a running report stops the statement on the server, not just the wait
//! for it: PostgreSQL's backend is cancelled, MariaDB's query killed, SQLite's statement
//! interrupted; the step ends promptly and nothing of it runs on afterwards.

use std::time::{Duration, Instant};

use docket_core::ticket::{Origin, RunOutcome};
use docket_core::{Actor, TicketState};

use crate::support::{Db, Kind, workflow};

/// How many statements like the step's the server is running (`None` for SQLite, which has no
/// server to ask).
async fn running(db: &Db) -> Option<String> {
    match db.kind {
        Kind::Postgres => {
            db.text(
                "select cast(count(*) as text) from pg_stat_activity \
                 where query = 'select pg_sleep(30)' and state = 'active'",
            )
            .await
        }
        Kind::MariaDb => {
            db.text("select cast(count(*) as char) from information_schema.PROCESSLIST where INFO = 'select sleep(30)'")
                .await
        }
        Kind::Sqlite => None,
    }
}

pub(crate) async fn cancelling_a_report_stops_it_on_the_server(db: Db) {
    let statement = match db.kind {
        Kind::Postgres => "select pg_sleep(30)",
        Kind::MariaDb => "select sleep(30)",
        // Counts for ever: only an interrupt ends it.
        Kind::Sqlite => "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    };
    let t = db.app(&[workflow("slow", statement, &[], "      timeout: 60s")]).await;
    let alice = Actor::person("alice");
    let ticket = t.app.request(&alice, &"slow".into(), Default::default(), Origin::default()).await.unwrap();
    t.wait_for_state(&ticket.id, TicketState::Running).await;
    // Wait until the server runs it.
    let deadline = Instant::now() + Duration::from_secs(10);
    if db.kind != Kind::Sqlite {
        while running(&db).await.as_deref() != Some("1") {
            assert!(Instant::now() < deadline, "the statement never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    t.app.cancel(&alice, &ticket.id, Some("not needed after all".into())).await.unwrap();
    let ended = loop {
        let now = t.app.ticket(&ticket.id).await.unwrap();
        if now.runs.first().is_some_and(|r| r.outcome.is_some()) {
            break now;
        }
        assert!(started.elapsed() < Duration::from_secs(25), "the run did not stop: {now:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = started.elapsed();
    assert_eq!(ended.runs[0].outcome, Some(RunOutcome::Cancelled));
    // Well under the statement's 30 s (SQLite's: for ever), with room for a loaded machine.
    assert!(took < Duration::from_secs(10), "cancel took {took:?}");
    // The statement ended because the database stopped it (SQLite's never ends by itself).
    let logs = t.app.logs(&ticket.id, 0, 100).await.unwrap();
    assert!(
        logs.iter().any(|l| l.text == "cancelled; shop stopped the statement and nothing was committed"),
        "{logs:#?}"
    );
    // And nothing of it is left running on the server.
    if db.kind != Kind::Sqlite {
        assert_eq!(running(&db).await.as_deref(), Some("0"));
    }
}
