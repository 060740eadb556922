//! `docket bench`: the project's benchmark harness. Every figure in the README's performance
//! section comes from here, measured end to end through the real app, store and runners on
//! this machine, as the median of several rounds.

mod drive;
mod keepalive;
mod load;
mod measure;
mod peers;
mod replicas;
mod report;
mod slack;
mod slack_api;
mod startup;
mod wire;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

use crate::cli::{BenchArgs, BenchTarget};

/// A target the project set itself (the README's performance section), in the figure's unit.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Target {
    /// Reported, with no target.
    None,
    /// At least this much.
    AtLeast(f64),
    /// At most this much.
    AtMost(f64),
    /// From the first to the second (a figure that cannot be below the first unless a
    /// measurement went wrong).
    Between(f64, f64),
}

impl Target {
    fn met(self, value: f64) -> bool {
        match self {
            Target::None => true,
            Target::AtLeast(min) => value >= min,
            Target::AtMost(max) => value <= max,
            Target::Between(min, max) => (min..=max).contains(&value),
        }
    }

    fn describe(self, unit: &str) -> String {
        match self {
            Target::None => "—".to_owned(),
            Target::AtLeast(min) => format!("≥ {min} {unit}"),
            Target::AtMost(max) => format!("≤ {max} {unit}"),
            Target::Between(min, max) => format!("{min}–{max} {unit}"),
        }
    }
}

/// One measured figure with its target.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Figure {
    pub(crate) name: &'static str,
    pub(crate) value: f64,
    pub(crate) unit: &'static str,
    pub(crate) target: Target,
}

impl Figure {
    pub(crate) fn new(name: &'static str, value: f64, unit: &'static str, target: Target) -> Self {
        Self { name, value, unit, target }
    }
}

/// The `docket` binary the benchmarks start as a server (`--serve-with`), else this one.
static SERVER: OnceLock<PathBuf> = OnceLock::new();

/// The `docket` binary to start as a server.
pub(crate) fn server_exe() -> std::io::Result<PathBuf> {
    SERVER.get().map_or_else(std::env::current_exe, |path| Ok(path.clone()))
}

pub(crate) async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.serve_with {
        let _ = SERVER.set(std::fs::canonicalize(path)?);
    }
    let rounds = args.rounds.max(1);
    let mut out = std::io::stdout().lock();
    match args.target {
        BenchTarget::Core => writeln!(
            out,
            "docket bench: {rounds} rounds, {} tickets per throughput round (median reported)",
            args.tickets
        )?,
        BenchTarget::Slack => writeln!(
            out,
            "docket bench --target slack: {rounds} rounds of {} requests/s for {} s per phase, open loop (median reported)",
            args.rate, args.duration
        )?,
        BenchTarget::Replicas => writeln!(
            out,
            "docket bench --target replicas: {rounds} rounds, {} tickets per throughput run on PostgreSQL (median reported)",
            args.tickets
        )?,
        BenchTarget::Report => writeln!(
            out,
            "docket bench --target report: {rounds} rounds of a 100,000-row report from PostgreSQL to CSV (median reported)"
        )?,
        BenchTarget::Steps => {
            writeln!(out, "docket bench --target steps: {rounds} rounds of the forty-step chains (median reported)")?
        }
        BenchTarget::Http => writeln!(
            out,
            "docket bench --target http: {rounds} rounds of tickets followed over the REST API, one at a time (median reported)"
        )?,
        BenchTarget::Peers => writeln!(
            out,
            "docket bench --target peers: {rounds} rounds, Docket and the Bolt app driven in turn for {} s each at 16 and 64 connections (median reported)",
            args.peer_seconds
        )?,
    }
    writeln!(out, "load average at the start: {}", load_average().1)?;
    drop(out);
    let peer = peers::PeerOptions {
        python: args.bolt_python.clone(),
        app: args.bolt_app.clone(),
        turn: Duration::from_secs(args.peer_seconds.max(1)),
    };
    let mut samples: Vec<Vec<Figure>> = Vec::new();
    for round in 1..=rounds {
        let figures = match args.target {
            BenchTarget::Core => {
                let mut figures = measure::in_process(args.tickets).await?;
                figures.extend(startup::measure().await?);
                figures.extend(keepalive::measure().await?);
                figures
            }
            BenchTarget::Slack => slack::measure(args.rate, Duration::from_secs(args.duration)).await?,
            BenchTarget::Replicas => replicas::measure(&args.postgres, args.tickets).await?,
            BenchTarget::Report => report::measure(&args.postgres).await?,
            BenchTarget::Http => keepalive::measure().await?,
            BenchTarget::Steps => measure::steps().await?,
            BenchTarget::Peers => peers::measure(&peer, round).await?,
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "round {round}:")?;
        for f in &figures {
            writeln!(out, "  {:<44} {:>10.2} {}", f.name, f.value, f.unit)?;
        }
        drop(out);
        samples.push(figures);
    }
    let medians = median(&samples);
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nmedian of {rounds}:")?;
    writeln!(out, "  {:<44} {:>10}  {:<8} target", "what", "value", "unit")?;
    for f in &medians {
        let verdict = if f.target.met(f.value) { "ok" } else { "MISSED" };
        let target = f.target.describe(f.unit);
        writeln!(out, "  {:<44} {:>10.2}  {:<8} {target:<14} {verdict}", f.name, f.value, f.unit)?;
    }
    writeln!(out, "load average at the end: {}", load_average().1)?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&medians)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn median(samples: &[Vec<Figure>]) -> Vec<Figure> {
    let Some(first) = samples.first() else { return Vec::new() };
    first
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut values: Vec<f64> = samples.iter().filter_map(|s| s.get(i)).map(|f| f.value).collect();
            values.sort_by(f64::total_cmp);
            let value = values.get(values.len() / 2).copied().unwrap_or(f.value);
            Figure { value, ..f.clone() }
        })
        .collect()
}

/// The `q`-quantile (0..=1) of `sorted` durations, in milliseconds.
pub(crate) fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// The machine's load average over the last minute, and the three figures (1, 5 and 15
/// minutes) as `/proc/loadavg` gives them; NaN and "unknown" where it cannot be read.
pub(crate) fn load_average() -> (f64, String) {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let three: Vec<&str> = text.split_whitespace().take(3).collect();
    let one = three.first().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
    let words = if three.len() == 3 { format!("{} (1, 5, 15 min)", three.join(" ")) } else { "unknown".to_owned() };
    (one, words)
}
