//! SQLite commit throughput: opening a ticket with a realistic change (three events —
//! requested, planning started, planned — three audit entries and one notification) in a
//! WAL-mode file with `synchronous = NORMAL`, as the server runs it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark code: a failed unwrap is a failed run"
)]

#[allow(dead_code, reason = "the benchmark uses a few of the contract tests' fixtures")]
#[path = "../tests/contract/fixtures.rs"]
mod fixtures;

use std::cell::Cell;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use docket_app::Store;
use docket_core::Event;
use docket_store::SqliteStore;

use fixtures::{Tk, note, planned, t0};

fn commit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(SqliteStore::open(&dir.path().join("bench.db"))).unwrap();
    let next = Cell::new(0u64);

    let mut group = c.benchmark_group("sqlite");
    group.throughput(Throughput::Elements(1));
    group.bench_function("commit_open_ticket_3_events_3_audit", |b| {
        b.iter_batched(
            || {
                next.set(next.get() + 1);
                let mut change = Tk::opening(
                    next.get(),
                    "deploy-service",
                    "alice",
                    vec![Event::PlanningStarted { round: 1 }, planned()],
                    t0(),
                );
                change.outbox.push(note("slack", &change.ticket.id, "request"));
                change
            },
            |change| black_box(rt.block_on(store.commit(change)).unwrap()),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, commit);
criterion_main!(benches);
