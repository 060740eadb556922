//! CSV round trips: every value of a report reads back exactly from its CSV (NULL told apart
//! from empty text), and PostgreSQL's own `COPY … CSV` loads it back into the same types
//! unchanged.

use docket_core::result::Table;

use crate::support::{Db, Kind, request, table, workflow};

/// Reads CSV as `Table::csv` writes it: `None` for an unquoted empty field (NULL).
fn parse(csv: &str) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let (mut quoted, mut in_quotes) = (false, false);
    let mut chars = csv.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => in_quotes = false,
            ('"', false) => (quoted, in_quotes) = (true, true),
            (',', false) => {
                row.push((quoted || !field.is_empty()).then(|| std::mem::take(&mut field)));
                quoted = false;
            }
            ('\r', false) if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push((quoted || !field.is_empty()).then(|| std::mem::take(&mut field)));
                quoted = false;
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    rows
}

const TRICKY: &[&str] = &["", " padded ", "a,b", "say \"hi\"", "two\nlines", "crlf\r\nend", "=1+2", "NULL", "ünï €"];

fn statement(kind: Kind) -> String {
    let texts: Vec<String> = TRICKY.iter().map(|t| format!("'{}'", t.replace('\'', "''"))).collect();
    let union = |cast: &str| {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| format!("select {i} as i, {t}{cast} as t, null as missing"))
            .collect::<Vec<_>>()
            .join(" union all ")
    };
    match kind {
        Kind::Postgres => format!("select * from ({}) x order by i", union("::text")),
        _ => format!("select * from ({}) x order by i", union("")),
    }
}

fn check_round_trip(table: &Table) {
    let rows = parse(&table.csv());
    assert_eq!(rows[0], [Some("i".to_owned()), Some("t".to_owned()), Some("missing".to_owned())]);
    assert_eq!(rows.len(), table.rows.len() + 1);
    for (written, read) in table.rows.iter().zip(&rows[1..]) {
        let exact: Vec<Option<String>> = written.iter().map(|c| c.exact()).collect();
        assert_eq!(&exact, read);
    }
    let texts: Vec<Option<String>> = rows[1..].iter().map(|r| r[1].clone()).collect();
    assert_eq!(texts, TRICKY.iter().map(|t| Some((*t).to_owned())).collect::<Vec<_>>());
    assert!(rows[1..].iter().all(|r| r[2].is_none()));
}

pub(crate) async fn csv_round_trips_every_value(db: Db) {
    let t = db.app(&[workflow("texts", &statement(db.kind), &[], "")]).await;
    let ticket = request(&t, "texts", &[]).await;
    check_round_trip(&table(&t, &ticket).await);
}

pub(crate) async fn csv_loads_back_into_postgresql_unchanged(db: Db) {
    db.exec(
        "create table original (i int4, t text, n numeric, d date, ts timestamptz, j jsonb, b bytea, f float8, \
         yes bool, u uuid)",
    )
    .await;
    db.exec(
        "insert into original values \
         (1, 'plain', 1234.5000, '2026-11-24', '2026-11-24 09:30:00.123456+02', '{\"a\": \"x,y\"}', '\\x00ff0a', \
          0.1, true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), \
         (2, '', -0.000000000000000001, '0001-01-01', '1970-01-01 00:00:00+00', 'null', '\\x', -1e300, false, null), \
         (3, null, null, null, null, null, null, 'NaN', null, null), \
         (4, 'a \"quoted\", multi\nline', 99999999999999999999.99, '9999-12-31', '2038-01-19 03:14:07.5+00', \
          '[1, 2.50, \"é\"]', null, '-Infinity', null, null)",
    )
    .await;
    let t = db.app(&[workflow("dump", "select * from original order by i", &[], "")]).await;
    let ticket = request(&t, "dump", &[]).await;
    let table = table(&t, &ticket).await;
    assert_eq!(table.row_count, 4);
    db.exec("create table copied (like original)").await;
    let mut conn = db.pg().acquire().await.unwrap();
    let mut copy = conn.copy_in_raw("copy copied from stdin (format csv, header true)").await.unwrap();
    copy.send(table.csv().into_bytes()).await.unwrap();
    assert_eq!(copy.finish().await.unwrap(), 4);
    drop(conn);
    let differ = "select cast(count(*) as text) from \
                  ((select * from original except all select * from copied) \
                   union all (select * from copied except all select * from original)) d";
    // jsonb compares by value, the rest exactly.
    assert_eq!(db.text(differ).await.as_deref(), Some("0"));
}
