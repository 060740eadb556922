//! `docket bench --target report`: a report of 100,000 rows × 5 columns from PostgreSQL through
//! the real `sql` runner into the step's result, then out as CSV, as a person downloading it
//! would get it: the time that takes and the memory it needs beyond what the process held before.

use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context as _;
use docket_app::{LogStream, Mode, StepJob, StepLog};
use docket_config::Source;
use docket_core::StepResult;
use docket_core::ticket::StepOutcome;
use tokio_util::sync::CancellationToken;

use super::replicas::Scratch;
use super::{Figure, Target};

/// Rows in the report.
const ROWS: u64 = 100_000;

/// Keeps the step's result; its lines are dropped (a report prints two).
#[derive(Default)]
struct Kept(Mutex<Option<StepResult>>);

impl StepLog for Kept {
    fn line(&self, _stream: LogStream, _text: &str) {}

    fn result(&self, result: StepResult) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
    }
}

pub(crate) async fn measure(postgres: &str) -> anyhow::Result<Vec<Figure>> {
    let scratch = Scratch::create(postgres).await?;
    let measured = report(&scratch.url).await;
    scratch.drop_now().await;
    measured
}

async fn report(url: &str) -> anyhow::Result<Vec<Figure>> {
    let pool = sqlx::PgPool::connect(url).await.with_context(|| format!("connecting to {url}"))?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE sales (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL, \
         sold_at timestamptz NOT NULL, note text); \
         INSERT INTO sales SELECT n, 'customer-' || (n % 977), (n % 100000) / 100.0, \
         timestamptz '2026-01-01' + n * interval '1 minute', CASE WHEN n % 7 = 0 THEN NULL ELSE 'a note, \"quoted\"' END \
         FROM generate_series(1, {ROWS}) AS n; ANALYZE sales;"
    )))
    .execute(&pool)
    .await
    .context("filling the report's table")?;
    pool.close().await;

    let config = format!(
        "storage: {{ url: sqlite://./unused.db }}\npeople: [{{ id: alice }}]\n\
         databases: {{ shop: {{ url: \"{url}\", max_rows: {ROWS} }} }}\n"
    );
    let workflow = "id: report\ntitle: Report\nsteps:\n  - name: sales\n    sql: { database: shop, \
        statement: \"SELECT id, customer, amount, sold_at, note FROM sales ORDER BY id\" }\n";
    let none = |_: &str| None;
    let plugins = docket_plugins::plugins();
    let loaded = docket_config::parse(
        &Source::new("docket.yaml", config),
        &[Source::new("report.yaml", workflow)],
        &none,
        &plugins,
    )
    .map_err(|d| anyhow::anyhow!("the benchmark's configuration does not load:\n{d}"))?;
    let runners =
        docket_plugins::runners(&loaded.config, docket_plugins::Launch::Direct, &docket_plugins::Host::default())?;
    let runner = runners.into_iter().find(|r| r.kind() == "sql").context("the sql runner")?;
    let flow = loaded.catalog.get(&"report".into()).context("the report workflow")?;
    let step = flow.steps.first().context("the report's step")?;
    let (params, ticket, env) = (Default::default(), docket_core::TicketId::new("DKT", 1), Default::default());
    let job = StepJob {
        action: &step.action,
        params: &params,
        ticket: &ticket,
        step: &step.name,
        mode: Mode::Run,
        idempotency_key: "bench",
        base_env: &env,
        default_timeout: std::time::Duration::from_secs(60),
        planned: None,
        processes: None,
        run_as: None,
    };

    let kept = Kept::default();
    let baseline = memory::reset_peak()?;
    let started = Instant::now();
    let outcome = runner.run(job, &kept, CancellationToken::new()).await;
    let result = kept.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    let table = result.and_then(|r| r.table).context("the report left no table")?;
    let csv = table.csv();
    let elapsed = started.elapsed();
    let peak = memory::peak()?;
    anyhow::ensure!(outcome == StepOutcome::Succeeded, "the report failed: {outcome:?}");
    anyhow::ensure!(table.rows.len() as u64 == ROWS && !table.truncated, "the report kept {} rows", table.rows.len());
    anyhow::ensure!(csv.lines().count() as u64 == ROWS + 1, "the CSV has {} lines", csv.lines().count());
    let extra_mib = peak.saturating_sub(baseline) as f64 / 1024.0;
    Ok(vec![
        Figure::new("report 100k×5 → result → CSV", elapsed.as_secs_f64() * 1000.0, "ms", Target::AtMost(1000.0)),
        Figure::new("report 100k×5: memory beyond the baseline", extra_mib, "MiB", Target::AtMost(64.0)),
    ])
}

/// The process's resident memory as Linux counts it (`/proc/self/status`, in KiB).
mod memory {
    use anyhow::Context as _;

    /// What was resident before the first report of this process: the peak (`VmHWM`) is reset
    /// to it once, so later rounds, whose allocator reuses pages the first one left resident,
    /// still count from it (each round reports the largest peak so far).
    pub(super) fn reset_peak() -> anyhow::Result<u64> {
        static BASELINE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        if let Some(baseline) = BASELINE.get() {
            return Ok(*baseline);
        }
        std::fs::write("/proc/self/clear_refs", "5").context("resetting the peak resident memory")?;
        let baseline = field("VmRSS")?;
        Ok(*BASELINE.get_or_init(|| baseline))
    }

    /// The peak resident memory since the last reset.
    pub(super) fn peak() -> anyhow::Result<u64> {
        field("VmHWM")
    }

    fn field(name: &str) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':')?.trim().strip_suffix(" kB")?.parse().ok())
            .with_context(|| format!("no {name} in /proc/self/status"))
    }
}
