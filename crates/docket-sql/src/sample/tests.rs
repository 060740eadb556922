//! The sample's own queries (the statement's `WHERE` with its arguments renumbered, keys bound
//! back) and how a sample reads in a plan.

use docket_core::result::Cell;

use super::*;
use crate::section::Engine;

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn id() -> Vec<Key> {
    vec![Key { name: "id".to_owned(), sql: "\"id\"".to_owned() }]
}

#[test]
fn the_rows_before_are_read_with_the_statements_own_arguments() {
    let shape = shape("update accounts a set status = $1 where a.owner = $3 and a.note <> $1", Engine::Postgres)
        .expect("a shape");
    let args = [Arg::Text("closed".into()), Arg::Int(7), Arg::Text("alice".into())];
    let query = before(&shape, &id(), &args).expect("a query");
    assert_eq!(
        query.sql,
        "SELECT \"id\", a.* FROM accounts a WHERE a.owner = $1 AND a.note <> $2 ORDER BY \"id\" LIMIT 20"
    );
    assert_eq!(query.args, [Arg::Text("alice".into()), Arg::Text("closed".into())]);
    // No key, or an argument missing: no query, and why.
    assert!(before(&shape, &[], &args).expect_err("no key").contains("has no primary key"));
    assert_eq!(before(&shape, &id(), &args[..1]).expect_err("missing"), "$3 has no value");
}

#[test]
fn the_rows_after_are_read_again_by_their_keys() {
    let shape = shape("delete from lines where qty = 0", Engine::Sqlite).expect("a shape");
    let keys = vec![
        Key { name: "order".to_owned(), sql: "\"order\"".to_owned() },
        Key { name: "line".to_owned(), sql: "\"line\"".to_owned() },
    ];
    let rows = Rows::split(
        2,
        vec!["order".into(), "line".into(), "order".into(), "line".into(), "qty".into()],
        vec![
            vec![Cell::Int(1), text("a"), Cell::Int(1), text("a"), Cell::Int(0)],
            vec![Cell::Int(2), text("b"), Cell::Int(2), text("b"), Cell::Int(0)],
        ],
    );
    assert_eq!(rows.columns, ["order", "line", "qty"]);
    let query = after(&shape, &keys, &rows).expect("a query");
    assert_eq!(
        query.sql,
        "SELECT \"order\", \"line\", lines.* FROM lines \
         WHERE (\"order\" = $1 AND \"line\" = $2) OR (\"order\" = $3 AND \"line\" = $4) ORDER BY \"order\", \"line\""
    );
    assert_eq!(query.args, [Arg::Int(1), Arg::Text("a".into()), Arg::Int(2), Arg::Text("b".into())]);
    // A binary key is not bound back as text.
    let binary = Rows { columns: vec![], rows: vec![(vec![Cell::bytes(&[0, 255]), Cell::Int(1)], vec![])] };
    assert!(after(&shape, &keys, &binary).is_err());
}

#[test]
fn a_sample_reads_old_to_new_for_the_columns_that_changed() {
    let keys = id();
    let columns = vec!["id".to_owned(), "status".to_owned(), "note".to_owned()];
    let before = Rows {
        columns: columns.clone(),
        rows: vec![
            (vec![Cell::Int(1)], vec![Cell::Int(1), text("open"), Cell::Null]),
            (vec![Cell::Int(2)], vec![Cell::Int(2), text("closed"), text("")]),
            (vec![Cell::Int(3)], vec![Cell::Int(3), text("open"), text("x\ny")]),
        ],
    };
    let after = Rows {
        columns,
        rows: vec![
            (vec![Cell::Int(1)], vec![Cell::Int(1), text("closed"), text("done")]),
            (vec![Cell::Int(2)], vec![Cell::Int(2), text("closed"), text("")]),
        ],
    };
    let sample = Sample::of(Verb::Update, &keys, before.clone(), after.clone());
    assert_eq!(
        lines(&sample, 3),
        [
            "the rows by id, before → after:",
            "~ id=1: status 'open' → 'closed', note NULL → 'done'",
            "= id=2: unchanged",
            "~ id=3: not found by its key afterwards (was id 3, status 'open', note 'x y')",
        ]
    );
    let deleted = Sample::of(Verb::Delete, &keys, before, after);
    let shown = lines(&deleted, 30);
    assert_eq!(shown[0], "the first 3 of them by id, before → after:");
    assert_eq!(shown[3], "- id=3: id 3, status 'open', note 'x y'");
    assert_eq!(lines(&Sample::None("t has no primary key".into()), 2), ["no sample of the rows: t has no primary key"]);
    // Quotes in text are doubled, as arguments are shown.
    let quoted = Rows { columns: vec!["note".into()], rows: vec![(vec![Cell::Int(7)], vec![text("it's")])] };
    let deleted = Sample::of(Verb::Delete, &keys, quoted, Rows::default());
    assert_eq!(lines(&deleted, 1)[1], "- id=7: note 'it''s'");
}

#[test]
fn long_values_and_wide_rows_are_shown_without_cutting_a_value() {
    let columns: Vec<String> = (0..100).map(|i| format!("column_{i}")).collect();
    let mut row: Vec<Cell> = (0..100).map(|i| text(&format!("value {i}"))).collect();
    row[0] = text(&"x".repeat(1000));
    let before = Rows { columns, rows: vec![(vec![Cell::Int(1)], row)] };
    let sample = Sample::of(Verb::Delete, &id(), before, Rows::default());
    let shown = lines(&sample, 1);
    // A long value is its length only (a secret in it is never half shown).
    assert!(shown[1].starts_with("- id=1: column_0 (1002 characters), column_1 'value 1', "), "{}", shown[1]);
    assert!(shown[1].chars().count() <= 600 + 40, "{}", shown[1]);
    assert!(shown[1].ends_with(" more columns"), "{}", shown[1]);
    // Every value shown is whole.
    let listed = shown[1].matches("column_").count();
    let more: usize = shown[1].rsplit(", … ").next().unwrap().split(' ').next().unwrap().parse().unwrap();
    assert_eq!(listed + more, 100, "{}", shown[1]);
}
