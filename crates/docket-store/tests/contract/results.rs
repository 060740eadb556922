//! Step results: kept per (ticket, run, step), replaced when a step runs again in the same run,
//! read back exactly (NULLs, exact numerics, binary, floats, text with quotes and line breaks),
//! and kept across a reopen.

use docket_app::StoredResult;
use docket_core::StepResult;
use docket_core::result::{Cell, Column, Table};

use crate::fixtures::*;
use crate::harness::Harness;

fn report(rows: u64) -> StepResult {
    StepResult::table(Table {
        columns: vec![
            Column { name: "region".into(), kind: "text".into() },
            Column { name: "total".into(), kind: "numeric".into() },
            Column { name: "share".into(), kind: "float8".into() },
            Column { name: "raw".into(), kind: "bytea".into() },
        ],
        rows: vec![
            vec![Cell::Text("emea".into()), Cell::Text("1234.50".into()), Cell::Float(0.1), Cell::bytes(&[0, 255])],
            vec![Cell::Null, Cell::Text(String::new()), Cell::Float(-2.5e-300), Cell::Null],
            vec![Cell::Text("it's, \"quoted\"\nover lines".into()), Cell::Int(i64::MIN), Cell::Bool(true), Cell::Null],
        ],
        row_count: rows,
        truncated: rows > 3,
    })
}

fn kept(number: u64, run: u32, step: usize, result: StepResult, minute: i64) -> StoredResult {
    StoredResult { ticket: id(number), run, step, result, at: at(minute) }
}

pub(crate) async fn step_results_are_kept_per_run_and_step(h: &Harness) {
    let store = h.store();
    assert!(store.results(&id(1)).await.unwrap().is_empty());
    let write = kept(1, 1, 1, StepResult::rows_changed(7), 1);
    let first = kept(1, 1, 0, report(3), 0);
    let other = kept(2, 1, 0, report(1_000_000), 0);
    for result in [&write, &first, &other] {
        store.put_result(result).await.unwrap();
    }
    // By run then step, every value as written.
    assert_eq!(store.results(&id(1)).await.unwrap(), [first.clone(), write.clone()]);
    assert_eq!(store.results(&id(2)).await.unwrap(), std::slice::from_ref(&other));

    // The same step again in the same run replaces its result; a later run keeps its own.
    let again = kept(1, 1, 0, report(4), 2);
    let next_run = kept(1, 2, 0, report(5), 3);
    store.put_result(&again).await.unwrap();
    store.put_result(&next_run).await.unwrap();
    assert_eq!(store.results(&id(1)).await.unwrap(), [again.clone(), write.clone(), next_run.clone()]);

    let reopened = h.reopen().await;
    assert_eq!(reopened.results(&id(1)).await.unwrap(), [again, write, next_run]);
}
