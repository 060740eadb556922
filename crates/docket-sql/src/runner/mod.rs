//! The `sql` runner. A report runs in a read-only transaction with the statement's time limit set
//! inside it, and keeps at most the database's `max_rows` rows (counting the rest) in bounded
//! memory. A write, planned, runs in a transaction that is rolled back and tells the plan how
//! many rows it changed, with a sample of them before → after (`sample`); run, it commits only
//! when it changes the planned number (within the workflow's `max_rows_changed`), and otherwise
//! rolls back and says so. A statement the step stops waiting for (cancelled, or past its time)
//! is stopped on the server too (`Engine::stop`), and waited for briefly.
//!
//! One connection pool per database, opened when a step first needs it; a database that cannot
//! be reached fails the step with the driver's reason, never the server.

mod engine;
mod mysql;
mod numeric;
mod pools;
mod postgres;
mod sqlite;
mod times;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use docket_app::{LogStream, Mode, StepJob, StepLog, StepRunner};
use docket_core::ticket::StepOutcome;
use docket_core::{PlanFacts, StepResult};
use tokio_util::sync::CancellationToken;

pub(crate) use self::engine::SqlError;
use self::engine::{Engine, Request, Stop};
use self::pools::Pools;
use crate::action::{Access, SqlAction};
use crate::sample;
use crate::section::{Database, Databases};
use docket_core::result::Table;

/// Rows of a report written to the step's log (the whole kept result is the step's result).
const LOG_ROWS: usize = 50;
/// Extra time past the statement's own limit before Docket stops waiting for the database.
const GRACE: Duration = Duration::from_secs(5);
/// How long a stopped statement is waited for before the step ends all the same.
const SETTLE: Duration = Duration::from_secs(3);
/// How often the server is asked again to stop it meanwhile.
const ASK_AGAIN: Duration = Duration::from_millis(500);

/// Runs `sql` steps against the configured databases.
#[derive(Clone, Debug)]
pub struct SqlRunner {
    databases: Arc<Databases>,
    pools: Arc<Pools>,
}

impl SqlRunner {
    /// A runner for `databases`; nothing connects until a step needs it.
    pub fn new(databases: Databases) -> Self {
        Self { databases: Arc::new(databases), pools: Arc::new(Pools::default()) }
    }
}

#[async_trait]
impl StepRunner for SqlRunner {
    fn kind(&self) -> &'static str {
        "sql"
    }

    async fn run(&self, job: StepJob<'_>, log: &dyn StepLog, cancel: CancellationToken) -> StepOutcome {
        let Some(action) = job.action.spec::<SqlAction>() else {
            return fail(log, format!("the sql runner cannot run `{}` steps", job.action.kind()));
        };
        let Some(database) = self.databases.get(&action.database) else {
            return fail(log, format!("no database named `{}` is configured", action.database));
        };
        let engine = match self.pools.get(database).await {
            Ok(engine) => engine,
            Err(error) => return fail(log, format!("{} cannot be reached: {error}", database.name)),
        };
        let limit = action.timeout.unwrap_or(database.statement_timeout).to_std();
        let stop = Stop::default();
        let request = Request {
            statement: &action.statement,
            args: action.render_args(job.params),
            timeout: limit,
            max_rows: database.max_rows,
            stop: &stop,
        };
        // A planned write also reads its sample, each read with a quarter of the limit.
        let sampling = action.access == Access::Write && job.mode == Mode::Plan;
        let wait = limit + if sampling { request.sample_timeout() * 2 } else { Duration::ZERO } + GRACE;
        let work = work(action, database, &engine, &job, &request, log);
        tokio::pin!(work);
        let ended = tokio::select! {
            outcome = &mut work => return outcome,
            () = tokio::time::sleep(wait) => Ended::TimedOut,
            () = cancel.cancelled() => Ended::Cancelled,
        };
        // Stopped on the server while the statement still holds its connection, then waited
        // for, so a step that ends has nothing left running in the database; asked again while
        // waiting, since a stop that reached the session between two of the step's statements
        // stopped nothing.
        let mut asked = engine.stop(&stop).await;
        let settled = tokio::time::timeout(SETTLE, async {
            loop {
                tokio::select! {
                    outcome = &mut work => return outcome,
                    () = tokio::time::sleep(ASK_AGAIN) => asked = engine.stop(&stop).await,
                }
            }
        })
        .await;
        let name = &database.name;
        let commits = action.access == Access::Write && job.mode == Mode::Run;
        let how = match (settled, asked) {
            (Ok(StepOutcome::Succeeded), _) if commits => format!("{name} had already committed the change"),
            (Ok(_), _) => format!("{name} stopped the statement and nothing was committed"),
            (Err(_), Err(error)) => format!("{name} could not be asked to stop the statement: {error}"),
            (Err(_), Ok(())) => format!("{name} was asked to stop the statement and has not yet"),
        };
        match ended {
            Ended::TimedOut => fail(log, format!("{name} did not answer within {}s; {how}", wait.as_secs())),
            Ended::Cancelled => fail(log, format!("cancelled; {how}")),
        }
    }
}

/// Why the runner stopped waiting for a statement.
enum Ended {
    TimedOut,
    Cancelled,
}

async fn work(
    action: &SqlAction,
    database: &Database,
    engine: &Engine,
    job: &StepJob<'_>,
    request: &Request<'_>,
    log: &dyn StepLog,
) -> StepOutcome {
    let place = format!("{} ({})", database.name, database.engine.name());
    match (action.access, job.mode) {
        (Access::Read, _) => match engine.read(request).await {
            // A statement the step asked to stop may still end normally (MySQL's `SLEEP`
            // does): what it returned is not kept.
            Ok(_) if request.stop.token.is_cancelled() => fail(log, format!("{place}: stopped before it finished")),
            Ok(table) => report(log, &place, table),
            Err(error) => failed(log, &place, &error),
        },
        (Access::Write, Mode::Plan) => {
            let shape = sample::shape(request.statement, database.engine);
            match engine.plan(request, shape.as_ref().map_err(String::as_str)).await {
                Ok((changed, sample)) => {
                    log.line(LogStream::Stdout, &format!("will change {changed} {} in {place}", rows(changed)));
                    for line in sample::lines(&sample, changed) {
                        log.line(LogStream::Stdout, &line);
                    }
                    log.facts(PlanFacts { rows_changed: Some(changed), ..PlanFacts::default() });
                    StepOutcome::Succeeded
                }
                Err(error) => failed(log, &place, &error),
            }
        }
        (Access::Write, Mode::Run) => {
            let Some(planned) = job.planned.and_then(|p| p.facts.rows_changed) else {
                return fail(log, "this write has no planned row count, so nothing was run; amend to plan it");
            };
            let slack = action.max_rows_changed.unwrap_or(0);
            let within = |changed: u64| changed.abs_diff(planned) <= slack;
            match engine.write(request, &within).await {
                Ok(changed) if within(changed) => {
                    log.line(LogStream::Stdout, &format!("changed {changed} {} in {place}", rows(changed)));
                    log.result(StepResult::rows_changed(changed));
                    StepOutcome::Succeeded
                }
                Ok(changed) => fail(
                    log,
                    format!(
                        "planned {planned} {}, would have changed {changed} — nothing was changed; amend to plan again",
                        rows(planned)
                    ),
                ),
                Err(error) => failed(log, &place, &error),
            }
        }
    }
}

/// Writes a report's first rows to the log and keeps its table with the step.
fn report(log: &dyn StepLog, place: &str, table: Table) -> StepOutcome {
    for line in table.text_lines(LOG_ROWS) {
        log.line(LogStream::Stdout, &line);
    }
    let more = table.rows.len().saturating_sub(LOG_ROWS);
    let shown = if more > 0 { format!("; the first {LOG_ROWS} are shown here") } else { String::new() };
    log.line(LogStream::System, &format!("{} from {place}{shown}", table.count_text()));
    log.result(StepResult::table(table));
    StepOutcome::Succeeded
}

fn failed(log: &dyn StepLog, place: &str, error: &SqlError) -> StepOutcome {
    fail(log, format!("{place}: {error}"))
}

fn fail(log: &dyn StepLog, message: impl Into<String>) -> StepOutcome {
    let message = message.into();
    log.line(LogStream::System, &message);
    StepOutcome::Failed { exit_code: None, message }
}

fn rows(n: u64) -> &'static str {
    if n == 1 { "row" } else { "rows" }
}
