//! The in-process measurements: a real app over SQLite in a temporary folder, with the real
//! runners, driven through the same `App` calls the REST API makes.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use docket_app::{App, LiveEvent};
use docket_core::ticket::Origin;
use docket_core::{Actor, RawParams, TicketId, TicketState};
use tokio::sync::broadcast::error::RecvError;

use super::{Figure, Target, quantile_ms};
use crate::compose;

const CONFIG: &str = r#"server: { listen: 127.0.0.1:0 }
storage: { url: sqlite://./bench.db }
catalog: ./workflows
people:
  - { id: alice, name: Alice, groups: [dev] }
  - { id: bob, name: Bob, groups: [sre] }
groups: [{ id: dev }, { id: sre }]
policies:
  - name: gated
    when: workflow.id == "gated"
    stages: [{ name: sre, from: [group:sre], count: 1 }]
  - name: everything-else
    when: "true"
    auto_approve: true
"#;

const NOOP: &str = "id: noop\ntitle: No-op\nsteps:\n  - name: nothing\n    wait: 0s\n";
const GATED: &str = "id: gated\ntitle: Gated\nsteps:\n  - name: first\n    exec: { argv: [\"true\"] }\n";

/// Steps in each chain of the step figures.
const CHAIN: u32 = 40;

fn forty(id: &str, action: &str) -> String {
    let mut text = format!("id: {id}\ntitle: Forty steps\nsteps:\n");
    for i in 1..=CHAIN {
        text.push_str(&format!("  - name: step-{i}\n    {action}\n"));
    }
    text
}

/// How many times a round runs the forty steps (the median is its figure).
const FORTY_RUNS: usize = 5;

async fn bench_app(dir: &std::path::Path) -> anyhow::Result<App> {
    write_bench_config(dir, "sqlite://./bench.db")?;
    Ok(compose::compose(&dir.join("docket.yaml"), Vec::new()).await?.app)
}

/// Writes the bench's configuration and workflows into `dir`, storing in `storage`.
pub(super) fn write_bench_config(dir: &std::path::Path, storage: &str) -> anyhow::Result<()> {
    let folder = dir.join("workflows");
    std::fs::create_dir_all(&folder)?;
    std::fs::write(folder.join("noop.yaml"), NOOP)?;
    std::fs::write(folder.join("gated.yaml"), GATED)?;
    std::fs::write(folder.join("forty.yaml"), forty("forty", "exec: { argv: [\"true\"] }"))?;
    std::fs::write(folder.join("forty-waits.yaml"), forty("forty-waits", "wait: 0s"))?;
    std::fs::write(dir.join("docket.yaml"), CONFIG.replace("sqlite://./bench.db", storage))?;
    Ok(())
}

pub(crate) async fn in_process(tickets: usize) -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    let app = bench_app(dir.path()).await?;
    let engine = app.start().await?;
    let alice = Actor::person("alice");
    let mut figures = Vec::new();

    let (per_second, latencies) = throughput(std::slice::from_ref(&app), &alice, tickets).await?;
    figures.push(Figure::new("end-to-end tickets (auto, wait 0s)", per_second, "/s", Target::AtLeast(1000.0)));
    let lone = sequential(&app, &alice, tickets.min(300)).await?;
    figures.push(Figure::new("request → succeeded p50 (one at a time)", quantile_ms(&lone, 0.5), "ms", Target::None));
    figures.push(Figure::new("request → succeeded p99 (one at a time)", quantile_ms(&lone, 0.99), "ms", Target::None));
    figures.push(Figure::new(
        "request → succeeded p50 (under full load)",
        quantile_ms(&latencies, 0.5),
        "ms",
        Target::None,
    ));
    figures.push(Figure::new(
        "request → succeeded p99 (under full load)",
        quantile_ms(&latencies, 0.99),
        "ms",
        Target::None,
    ));

    let clicks = approve_to_start(&app, &alice, tickets.min(200)).await?;
    figures.push(Figure::new(
        "approve → first step's process started p50",
        quantile_ms(&clicks, 0.5),
        "ms",
        Target::None,
    ));
    figures.push(Figure::new(
        "approve → first step's process started p99",
        quantile_ms(&clicks, 0.99),
        "ms",
        Target::AtMost(20.0),
    ));

    figures.extend(step_figures(&app, &alice).await?);
    engine.stop(Duration::from_secs(5)).await;
    Ok(figures)
}

/// The step chains alone (`--target steps`): forty `exec: [true]` steps, forty `wait: 0s`
/// steps, and `true` started alone, each as in [`in_process`].
pub(crate) async fn steps() -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    let app = bench_app(dir.path()).await?;
    let engine = app.start().await?;
    let figures = step_figures(&app, &Actor::person("alice")).await;
    engine.stop(Duration::from_secs(5)).await;
    figures
}

/// Forty `exec: [true]` steps, forty `wait: 0s` steps, `true` started alone, and what a step
/// costs beyond its process: the chain's time per step less `true` started alone through the
/// supervisor (which is what the machine charges for the program, whatever runs it). The
/// chain is timed from request to succeeded, so each step also carries a fortieth of what the
/// ticket costs once (its request, plan and last commit). Reported as measured: a negative
/// figure means a measurement went wrong, and is not read as met.
async fn step_figures(app: &App, alice: &Actor) -> anyhow::Result<Vec<Figure>> {
    let forty = forty_steps(app, alice, "forty").await?;
    let waits = forty_steps(app, alice, "forty-waits").await?;
    let (supervised, direct) = processes_alone(200).await?;
    let beyond = forty / f64::from(CHAIN) - supervised;
    Ok(vec![
        Figure::new("40 sequential exec [true] steps", forty, "ms", Target::AtMost(40.0)),
        Figure::new("exec [true] step beyond its process (per step)", beyond, "ms", Target::Between(0.0, 1.0)),
        Figure::new("40 sequential wait 0s steps (no process)", waits, "ms", Target::None),
        Figure::new("exec [true] alone, supervised, p50", supervised, "ms", Target::None),
        Figure::new("exec [true] alone, started directly, p50", direct, "ms", Target::None),
    ])
}

/// `tickets` requests from 32 concurrent clients, spread over `apps` (replicas sharing one
/// store); tickets per second from the first request to the last success, and each ticket's
/// request → succeeded time.
pub(super) async fn throughput(apps: &[App], alice: &Actor, tickets: usize) -> anyhow::Result<(f64, Vec<Duration>)> {
    let clients = 32;
    let app = apps.first().context("at least one app")?;
    // The figure runs from here to the last ticket's last change as the store recorded it, so it
    // does not depend on how often the drain below looks.
    let started = jiff::Timestamp::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (app, alice) = (apps[client % apps.len()].clone(), alice.clone());
        let count = tickets / clients + usize::from(client < tickets % clients);
        tasks.spawn(async move {
            let mut mine = Vec::with_capacity(count);
            for _ in 0..count {
                mine.push(app.request(&alice, &"noop".into(), RawParams::new(), origin()).await?.id);
            }
            anyhow::Ok(mine)
        });
    }
    let mut requested = Vec::with_capacity(tickets);
    while let Some(result) = tasks.join_next().await {
        requested.extend(result??);
    }
    // Wait for the last run, then read each ticket's finish time from the store. The stats
    // count every ticket by state, a scan of the whole table: looked at every 100 ms, it takes
    // little from the store being measured (every 5 ms, it took a fifth of a core from
    // PostgreSQL while the runs drained).
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let stats = app.stats().await?;
        let busy: u64 = stats
            .tickets_by_state
            .iter()
            .filter(|(s, _)| matches!(s, TicketState::Queued | TicketState::Running | TicketState::Planning))
            .map(|(_, n)| n)
            .sum();
        if busy == 0 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "runs did not finish within 300 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut last = started;
    let mut latencies = Vec::with_capacity(requested.len());
    for id in &requested {
        let ticket = app.ticket(id).await?;
        anyhow::ensure!(ticket.state == TicketState::Succeeded, "{id} ended {}", ticket.state);
        // Opened at `created_at`; its last change was the run's end.
        latencies.push(ticket.updated_at.duration_since(ticket.created_at).unsigned_abs());
        last = last.max(ticket.updated_at);
    }
    latencies.sort();
    let elapsed = last.duration_since(started).as_secs_f64();
    anyhow::ensure!(elapsed > 0.0, "the last ticket ended before the first was requested");
    Ok((requested.len() as f64 / elapsed, latencies))
}

/// Request → succeeded, one ticket at a time.
async fn sequential(app: &App, alice: &Actor, count: usize) -> anyhow::Result<Vec<Duration>> {
    let mut live = app.subscribe();
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let at = Instant::now();
        let ticket = app.request(alice, &"noop".into(), RawParams::new(), origin()).await?;
        wait_for(&mut live, &ticket.id, |e| matches!(e, LiveEvent::Ticket { state: TicketState::Succeeded, .. }))
            .await?;
        out.push(at.elapsed());
    }
    out.sort();
    Ok(out)
}

/// Approve → the first step's process has started (the exec runner's first log line is
/// written right after the process is spawned).
async fn approve_to_start(app: &App, alice: &Actor, count: usize) -> anyhow::Result<Vec<Duration>> {
    let bob = Actor::person("bob");
    let mut live = app.subscribe();
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let ticket = app.request(alice, &"gated".into(), RawParams::new(), origin()).await?;
        let digest = ticket.digest.context("a gated ticket has a plan")?;
        let at = Instant::now();
        app.approve(&bob, &ticket.id, digest, None).await?;
        wait_for(&mut live, &ticket.id, |e| matches!(e, LiveEvent::Log(_))).await?;
        out.push(at.elapsed());
        wait_for(&mut live, &ticket.id, |e| matches!(e, LiveEvent::Ticket { state: TicketState::Succeeded, .. }))
            .await?;
    }
    out.sort();
    Ok(out)
}

/// Request → succeeded of workflow `id` (forty steps), in milliseconds: the median of
/// [`FORTY_RUNS`].
async fn forty_steps(app: &App, alice: &Actor, id: &str) -> anyhow::Result<f64> {
    let mut live = app.subscribe();
    let mut took = Vec::with_capacity(FORTY_RUNS);
    for _ in 0..FORTY_RUNS {
        let at = Instant::now();
        let ticket = app.request(alice, &id.into(), RawParams::new(), origin()).await?;
        wait_for(&mut live, &ticket.id, |e| matches!(e, LiveEvent::Ticket { state: TicketState::Succeeded, .. }))
            .await?;
        took.push(at.elapsed());
    }
    took.sort();
    Ok(quantile_ms(&took, 0.5))
}

/// `true` started, its output read to the end and its end seen, `count` times, through a step
/// supervisor of its own (this binary) and directly: the p50 of each, in milliseconds. What a
/// step's process costs, without the engine.
async fn processes_alone(count: usize) -> anyhow::Result<(f64, f64)> {
    let argv = ["true".to_owned()];
    let env = std::collections::BTreeMap::from([("PATH".to_owned(), "/usr/bin:/bin".to_owned())]);
    let file = std::path::Path::new("/bin/true");
    let program = docket_process::Program { file, argv: &argv, env: &env, dir: None, user: None };
    let mut figures = Vec::new();
    for how in [docket_process::Launch::supervised("/proc/self/exe"), docket_process::Launch::Direct] {
        let mut took = Vec::with_capacity(count);
        for _ in 0..count {
            let at = Instant::now();
            let mut launched = docket_process::launch(&how, program, docket_process::DEFAULT_GRACE).await?;
            let (mut out, mut err) = (Vec::new(), Vec::new());
            tokio::try_join!(
                tokio::io::AsyncReadExt::read_to_end(&mut launched.stdout, &mut out),
                tokio::io::AsyncReadExt::read_to_end(&mut launched.stderr, &mut err),
            )?;
            let status = launched.leader.wait().await?;
            launched.group.kill();
            anyhow::ensure!(status.success(), "true ended {status}");
            took.push(at.elapsed());
        }
        took.sort();
        figures.push(quantile_ms(&took, 0.5));
    }
    Ok((figures[0], figures[1]))
}

pub(super) async fn wait_for(
    live: &mut tokio::sync::broadcast::Receiver<LiveEvent>,
    id: &TicketId,
    done: impl Fn(&LiveEvent) -> bool,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, live.recv()).await {
            Err(_) => anyhow::bail!("{id} did not get there within 30 s"),
            Ok(Ok(event)) if event.ticket() == Some(id) && done(&event) => return Ok(()),
            Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => {}
            Ok(Err(RecvError::Closed)) => anyhow::bail!("the app stopped"),
        }
    }
}

pub(super) fn origin() -> Origin {
    Origin { surface: "bench".to_owned(), ..Origin::default() }
}
