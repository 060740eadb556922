//! Replicas on PostgreSQL: 1, 2 and 3 apps, each with its own engine, connection pool and
//! listener, sharing one scratch database (made for the run and dropped after), measured
//! through the same `App` calls the REST API makes. They run in one process, so they share
//! this machine's cores exactly as separate processes on it would; HTTP is left out to measure
//! what the replicas themselves sustain.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use docket_app::{App, LiveEvent};
use docket_core::{Actor, RawParams};
use sqlx::postgres::PgPool;

use super::measure::{origin, throughput, wait_for, write_bench_config};
use super::{Figure, Target, quantile_ms};
use crate::compose;

/// Approvals timed per run.
const APPROVALS: usize = 200;

pub(crate) async fn measure(postgres: &str, tickets: usize) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for replicas in 1..=3 {
        let db = Scratch::create(postgres).await?;
        let dir = tempfile::tempdir()?;
        write_bench_config(dir.path(), &db.url)?;
        let mut apps = Vec::new();
        let mut engines = Vec::new();
        for _ in 0..replicas {
            let app = compose::compose(&dir.path().join("docket.yaml"), Vec::new()).await?.app;
            engines.push(app.start().await?);
            apps.push(app);
        }
        let alice = Actor::person("alice");
        let (per_second, _) = throughput(&apps, &alice, tickets).await?;
        figures.push(Figure::new(
            match replicas {
                1 => "end-to-end tickets, 1 replica (PostgreSQL)",
                2 => "end-to-end tickets, 2 replicas (PostgreSQL)",
                _ => "end-to-end tickets, 3 replicas (PostgreSQL)",
            },
            per_second,
            "/s",
            if replicas == 3 { Target::AtLeast(1000.0) } else { Target::None },
        ));
        if replicas == 3 {
            let clicks = approve_elsewhere(&apps, &alice, APPROVALS.min(tickets)).await?;
            figures.push(Figure::new(
                "approve on one replica → first step started p50",
                quantile_ms(&clicks, 0.5),
                "ms",
                Target::None,
            ));
            figures.push(Figure::new(
                "approve on one replica → first step started p99",
                quantile_ms(&clicks, 0.99),
                "ms",
                Target::AtMost(50.0),
            ));
        }
        for engine in engines {
            engine.stop(Duration::from_secs(5)).await;
        }
        drop(apps);
        db.drop_now().await;
    }
    Ok(figures)
}

/// Requested on one replica, approved on the next: the time until the first step's process
/// started, on whichever replica claimed the run (its first log line is published there).
async fn approve_elsewhere(apps: &[App], alice: &Actor, count: usize) -> anyhow::Result<Vec<Duration>> {
    let bob = Actor::person("bob");
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let (asked, approver) = (&apps[i % apps.len()], &apps[(i + 1) % apps.len()]);
        let ticket = asked.request(alice, &"gated".into(), RawParams::new(), origin()).await?;
        let digest = ticket.digest.context("a gated ticket has a plan")?;
        let (started, mut watchers) = tokio::sync::mpsc::channel::<()>(apps.len());
        let mut tasks = tokio::task::JoinSet::new();
        for app in apps {
            let (mut live, id, started) = (app.subscribe(), ticket.id.clone(), started.clone());
            tasks.spawn(async move {
                if wait_for(&mut live, &id, |e| matches!(e, LiveEvent::Log(_))).await.is_ok() {
                    let _ = started.send(()).await;
                }
            });
        }
        let at = Instant::now();
        approver.approve(&bob, &ticket.id, digest, None).await?;
        tokio::time::timeout(Duration::from_secs(30), watchers.recv())
            .await
            .context("the first step never started")?
            .context("every watcher stopped")?;
        out.push(at.elapsed());
        tasks.abort_all();
    }
    out.sort();
    Ok(out)
}

/// A database made for one run.
pub(super) struct Scratch {
    admin: PgPool,
    name: String,
    pub(super) url: String,
}

impl Scratch {
    pub(super) async fn create(postgres: &str) -> anyhow::Result<Self> {
        let admin = PgPool::connect(postgres).await.with_context(|| format!("connecting to {postgres}"))?;
        let name = format!("docket_bench_{}_{}", std::process::id(), jiff::Timestamp::now().as_nanosecond());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
        let (base, _) = postgres.rsplit_once('/').context("a PostgreSQL URL ends with /database")?;
        Ok(Self { admin, url: format!("{base}/{name}"), name })
    }

    pub(super) async fn drop_now(self) {
        let dropped = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&self.admin);
        if let Err(error) = dropped.await {
            tracing::warn!(%error, database = %self.name, "could not drop the scratch database");
        }
    }
}
