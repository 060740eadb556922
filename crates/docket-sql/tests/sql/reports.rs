//! Reports: the table kept with the step (NULLs, exact numerics, dates, JSON, binary), refused
//! writes, the server's own time limit, a million rows kept bounded, hostile parameters.

use docket_core::TicketState;
use docket_core::result::Cell;

use crate::support::{Db, Kind, failure, request, table, text, workflow};

pub(crate) async fn a_report_keeps_its_table_with_nulls_and_types(db: Db) {
    let statement = match db.kind {
        Kind::Postgres => {
            "select $2::int8 as n, null::text as missing, ''::text as empty, 1234.50::numeric(10,2) as total, \
             date '2026-11-24' as day, timestamptz '2026-11-24 09:30:00.25+00' as at, \
             '{\"a\": [1, null]}'::jsonb as doc, '\\x00ff'::bytea as raw, true as yes, 0.1::float8 as share, \
             $1 as said"
        }
        Kind::MariaDb => {
            "select $2 as n, null as missing, '' as empty, cast(1234.50 as decimal(10,2)) as total, \
             date '2026-11-24' as day, cast('2026-11-24 09:30:00.25' as datetime(2)) as at, \
             json_object('a', json_array(1, null)) as doc, x'00ff' as raw, true as yes, cast(0.1 as double) as share, \
             $1 as said"
        }
        Kind::Sqlite => {
            "select $2 as n, null as missing, '' as empty, '1234.50' as total, '2026-11-24' as day, \
             '2026-11-24T09:30:00.25Z' as at, json_object('a', json_array(1, null)) as doc, x'00ff' as raw, \
             1 as yes, 0.1 as share, $1 as said"
        }
    };
    let t = db.app(&[workflow("types", statement, &["{{a}}", "{{n}}"], "")]).await;
    let ticket = request(&t, "types", &[("a", "it's \"quoted\"; 100%"), ("n", "42")]).await;
    let table = table(&t, &ticket).await;
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["n", "missing", "empty", "total", "day", "at", "doc", "raw", "yes", "share", "said"]);
    assert_eq!((table.row_count, table.truncated, table.rows.len()), (1, false, 1));
    let row = &table.rows[0];
    let (at, doc, yes) = match db.kind {
        Kind::Postgres => ("2026-11-24T09:30:00.25Z", r#"{"a":[1,null]}"#, Cell::Bool(true)),
        Kind::MariaDb => ("2026-11-24T09:30:00.25", r#"{"a": [1, null]}"#, Cell::Int(1)),
        Kind::Sqlite => ("2026-11-24T09:30:00.25Z", r#"{"a":[1,null]}"#, Cell::Int(1)),
    };
    let expected = vec![
        Cell::Int(42),
        Cell::Null,
        text(""),
        text("1234.50"),
        text("2026-11-24"),
        text(at),
        text(doc),
        text("\\x00ff"),
        yes,
        Cell::Float(0.1),
        text("it's \"quoted\"; 100%"),
    ];
    assert_eq!(row, &expected, "{:?}", table.columns);
    // The log shows the first rows as an aligned table; NULL reads NULL.
    let log = t.app.logs(&ticket.id, 0, 100).await.unwrap();
    assert!(log.iter().any(|l| l.text.trim_start().starts_with("n  missing")), "{log:#?}");
    assert!(log.iter().any(|l| l.text.contains("NULL") && l.text.contains("1234.50")), "{log:#?}");
}

pub(crate) async fn a_report_that_writes_is_refused_by_the_database(db: Db) {
    db.accounts().await;
    let t = db.app(&[workflow("sneaky", "update accounts set status = 'closed'", &[], "")]).await;
    let ticket = request(&t, "sneaky", &[]).await;
    assert_eq!(ticket.state, TicketState::Failed);
    let message = failure(&ticket);
    let refusal = match db.kind {
        Kind::Postgres => "cannot execute UPDATE in a read-only transaction",
        Kind::MariaDb => "READ ONLY transaction",
        Kind::Sqlite => "readonly database",
    };
    assert!(message.contains(refusal), "{message}");
    assert!(message.starts_with("shop ("), "{message}");
    assert_eq!(db.text("select max(status) from accounts").await.as_deref(), Some("open"));
    assert!(t.app.results(&ticket.id).await.unwrap().is_empty());
}

pub(crate) async fn a_report_past_its_time_limit_is_stopped_by_the_server(db: Db) {
    let statement = match db.kind {
        Kind::Postgres => "select pg_sleep(20)",
        Kind::MariaDb => "select count(*) from seq_1_to_1000000 a, seq_1_to_1000000 b",
        // SQLite has no server: the connection's progress handler interrupts it at the limit.
        Kind::Sqlite => "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    };
    let t = db.app(&[workflow("slow", statement, &[], "      timeout: 1s")]).await;
    let started = std::time::Instant::now();
    let ticket = request(&t, "slow", &[]).await;
    assert_eq!(ticket.state, TicketState::Failed);
    let message = failure(&ticket);
    let took = started.elapsed();
    match db.kind {
        Kind::Postgres => {
            assert!(message.contains("canceling statement due to statement timeout"), "{message}");
            // Stopped by the server, not abandoned: nothing of it runs any more.
            let running = sqlx::query_scalar::<_, i64>(
                "select count(*) from pg_stat_activity where query like 'select pg_sleep(20)%' and state = 'active'",
            )
            .fetch_one(db.pg())
            .await
            .unwrap();
            assert_eq!(running, 0);
        }
        Kind::MariaDb => assert!(message.contains("max_statement_time"), "{message}"),
        Kind::Sqlite => {
            assert!(message.contains("interrupted"), "{message}");
            // At the limit, not at the runner's grace after it.
            assert!(took < std::time::Duration::from_secs(5), "{took:?}");
        }
    }
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
}

pub(crate) async fn a_million_rows_keep_max_rows_and_say_so(db: Db) {
    let statement = match db.kind {
        Kind::Postgres => "select g as id, md5(g::text) as tag from generate_series(1, 1000000) g",
        Kind::MariaDb => "select seq as id, md5(seq) as tag from seq_1_to_1000000",
        Kind::Sqlite => {
            "with recursive c(x) as (select 1 union all select x + 1 from c where x < 1000000) \
             select x as id, hex(x) as tag from c"
        }
    };
    let t = db.app(&[workflow("big", statement, &[], "      timeout: 60s")]).await;
    let ticket = request(&t, "big", &[]).await;
    let table = table(&t, &ticket).await;
    assert_eq!((table.row_count, table.truncated, table.rows.len()), (1_000_000, true, 1000));
    assert_eq!(table.rows[999][0], Cell::Int(1000));
    let log = t.app.logs(&ticket.id, 0, 1000).await.unwrap();
    let count = log.iter().find(|l| l.text.contains("of 1,000,000 rows kept")).map(|l| l.text.clone());
    assert_eq!(count.as_deref().map(|c| c.contains("(cut at 1,000)")), Some(true), "{log:#?}");
}

pub(crate) async fn hostile_parameters_are_one_bound_value(db: Db) {
    db.accounts().await;
    let t = db
        .app(&[workflow(
            "find",
            "select count(*) as n, max(owner) as who from accounts where owner = $1",
            &["{{a}}"],
            "",
        )])
        .await;
    for hostile in ["'; drop table accounts; --", "alice' or '1'='1", "x\"; delete from accounts; --", "$1 $2 ?"] {
        let ticket = request(&t, "find", &[("a", hostile)]).await;
        let table = table(&t, &ticket).await;
        assert_eq!(table.rows[0][0], Cell::Int(0), "{hostile}");
        assert_eq!(table.rows[0][1], Cell::Null, "{hostile}");
    }
    assert_eq!(db.text("select cast(count(*) as char) from accounts").await.as_deref(), Some("4"));
    // The plain value still finds its rows.
    let ticket = request(&t, "find", &[("a", "alice")]).await;
    assert_eq!(table(&t, &ticket).await.rows[0], [Cell::Int(2), text("alice")]);
}

/// The README's sample report (`examples/workflows/sales-report.yaml`), as written, on
/// PostgreSQL: a date argument bound as a date, an integer limit, the sums exact.
pub(crate) async fn the_example_sales_report_runs(db: Db) {
    db.exec("create table sales (day date, region text, total numeric(12, 2))").await;
    db.exec(
        "insert into sales values ('2026-11-24', 'emea', 1234.50), ('2026-11-24', 'emea', 0.25), \
         ('2026-11-24', 'amer', 3020.75), ('2026-11-23', 'apac', 99.99)",
    )
    .await;
    let example = include_str!("../../../../examples/workflows/sales-report.yaml")
        .replace("database: reporting", "database: shop");
    let t = db.app(&[("sales-report.yaml".to_owned(), example)]).await;
    let params = [("day", "2026-11-24")];
    let ticket = request(&t, "sales-report", &params).await;
    let table = table(&t, &ticket).await;
    assert_eq!(table.rows, [vec![text("amer"), text("3020.75")], vec![text("emea"), text("1234.75")]]);
}
