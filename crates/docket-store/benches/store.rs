//! SQLite commit latency and throughput: opening a ticket with a realistic change (three events
//! — requested, planning started, planned — three audit entries and one notification) in a
//! WAL-mode file with `synchronous = NORMAL`, as the server runs it. The database lives under
//! the target directory (on disk, not a tmpfs `/tmp`).
//!
//! - `commit_open_ticket_3_events_3_audit`: one commit at a time, so its time is the latency.
//! - `commit_concurrent/N`: N tasks on a two-thread runtime committing to different tickets;
//!   the figure is commits per second with N committers in flight (changes are made before
//!   the clock starts).
//! - `ticket_lifecycle_concurrent/32`: 32 tasks each driving tickets through the commits a
//!   ticket costs end to end (request, plan + enqueue, claim, run start, run finish).
//! - `outbox_claim_with_pending/N`: claiming 16 tickets' notifications (and releasing them)
//!   while N tickets each have one waiting, as when a chat's pacing holds thousands back; the
//!   claim runs in the one writer, so its time is added to every commit queued behind it.

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
use std::sync::Arc;

use docket_app::store_prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use docket_app::{Change, QueueOp, Store};
use docket_core::Event;
use docket_core::ticket::{RunOutcome, StepOutcome};
use docket_store::SqliteStore;
use jiff::SignedDuration;

use fixtures::{Tk, note, planned, t0};

/// A fresh database file under the target directory.
fn open(rt: &tokio::runtime::Runtime) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = rt.block_on(SqliteStore::open(&dir.path().join("bench.db"))).unwrap();
    (dir, store)
}

/// The change that opens ticket `number`: three events, three audit entries, one notification.
fn opening(number: u64) -> Change {
    let mut change =
        Tk::opening(number, "deploy-service", "alice", vec![Event::PlanningStarted { round: 1 }, planned()], t0());
    change.outbox.push(note("slack", &change.ticket.id, "request"));
    change
}

fn commit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (_dir, store) = open(&rt);
    let next = Cell::new(0u64);

    let mut group = c.benchmark_group("sqlite");
    group.throughput(Throughput::Elements(1));
    group.bench_function("commit_open_ticket_3_events_3_audit", |b| {
        b.iter_batched(
            || {
                next.set(next.get() + 1);
                opening(next.get())
            },
            |change| black_box(rt.block_on(store.commit(change)).unwrap()),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

/// Runs `iters` jobs split over `tasks` concurrent tasks; `job(n)` does job number `n`.
async fn concurrently<F, Fut>(tasks: u64, iters: u64, job: F) -> Duration
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let next = next.clone();
        let job = job.clone();
        handles.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= iters {
                    break;
                }
                job(n).await;
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    start.elapsed()
}

fn commit_concurrent(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (_dir, store) = open(&rt);
    let store: Arc<dyn Store> = Arc::new(store);
    let base = AtomicU64::new(0);

    let mut group = c.benchmark_group("sqlite/commit_concurrent");
    group.throughput(Throughput::Elements(1));
    for tasks in [1u64, 8, 32] {
        group.bench_with_input(BenchmarkId::from_parameter(tasks), &tasks, |b, &tasks| {
            b.iter_custom(|iters| {
                // The changes are made before the clock starts: only committing is measured.
                let first = base.fetch_add(iters, Ordering::Relaxed);
                let mut shares: Vec<Vec<Change>> = (0..tasks).map(|_| Vec::new()).collect();
                for n in 0..iters {
                    shares[(n % tasks) as usize].push(opening(first + n + 1));
                }
                rt.block_on(async {
                    let start = Instant::now();
                    let handles: Vec<_> = shares
                        .into_iter()
                        .map(|changes| {
                            let store = store.clone();
                            tokio::spawn(async move {
                                for change in changes {
                                    black_box(store.commit(change).await.unwrap());
                                }
                            })
                        })
                        .collect();
                    for h in handles {
                        h.await.unwrap();
                    }
                    start.elapsed()
                })
            });
        });
    }
    group.finish();
}

/// One ticket through the commits it costs end to end: request, plan + enqueue, claim, run
/// start with its first step, run finish with its step. Claims may take another task's ticket,
/// as workers do; every claimed ticket is finished.
async fn lifecycle(store: Arc<dyn Store>, number: u64) {
    let when = t0();
    black_box(store.next_ticket_number().await.unwrap());
    let change = Tk::opening(number, "deploy-service", "alice", vec![], when);
    let mut tk = Tk::open_with(&*store, change).await;
    let mut plan = tk.change(vec![Event::PlanningStarted { round: 1 }, planned()], when);
    plan.queue = QueueOp::Enqueue { concurrency_key: None };
    tk.commit_change(&*store, plan).await.unwrap();
    let lease = when + SignedDuration::from_mins(5);
    let Some(claim) = store.claim_run("bench", when, lease).await.unwrap() else { return };
    let stored = store.ticket(&claim.ticket).await.unwrap().unwrap();
    let mut run = Tk { ticket: stored.ticket, version: stored.version };
    let number = u32::try_from(run.ticket.runs.len() + 1).unwrap();
    run.commit(
        &*store,
        vec![Event::RunStarted { number }, Event::StepStarted { index: 0, name: "rollout".into() }],
        when,
    )
    .await;
    let done = vec![
        Event::StepFinished { index: 0, outcome: StepOutcome::Succeeded, output: None },
        Event::RunFinished { outcome: RunOutcome::Succeeded },
    ];
    let mut finish = run.change(done, when);
    finish.queue = QueueOp::Remove;
    run.commit_change(&*store, finish).await.unwrap();
}

fn ticket_lifecycle(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (_dir, store) = open(&rt);
    let store: Arc<dyn Store> = Arc::new(store);
    let base = Arc::new(AtomicU64::new(1_000_000_000));

    let mut group = c.benchmark_group("sqlite/ticket_lifecycle_concurrent");
    group.throughput(Throughput::Elements(1));
    group.bench_function("32", |b| {
        b.iter_custom(|iters| {
            let store = store.clone();
            let first = base.fetch_add(iters, Ordering::Relaxed);
            rt.block_on(concurrently(32, iters, move |n| lifecycle(store.clone(), first + n + 1)))
        });
    });
    group.finish();
}

fn outbox_claim_with_pending(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("sqlite/outbox_claim_with_pending");
    for pending in [1_000u64, 20_000] {
        let (_dir, store) = open(&rt);
        for number in 1..=pending {
            rt.block_on(store.commit(opening(number))).unwrap();
        }
        let now = t0() + SignedDuration::from_mins(1);
        let lease = now + SignedDuration::from_mins(5);
        group.bench_with_input(BenchmarkId::from_parameter(pending), &pending, |b, _| {
            b.iter(|| {
                rt.block_on(async {
                    let claimed = store.claim_outbox("bench", now, lease, 16).await.unwrap();
                    assert!(!claimed.is_empty(), "nothing claimed");
                    for message in &claimed {
                        store.release_outbox("bench", &message.message.ticket).await.unwrap();
                    }
                });
            });
        });
    }
    group.finish();
}

criterion_group!(benches, commit, commit_concurrent, ticket_lifecycle, outbox_claim_with_pending);
criterion_main!(benches);
