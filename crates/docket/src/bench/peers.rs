//! `docket bench --target peers`: Docket's answer to a signed Slack slash command side by side
//! with what a team would write instead — a Bolt for Python app under uvicorn that checks the
//! signature, makes one durable SQLite write and acknowledges (`bench/peers/bolt/app.py`; its
//! `run.sh` makes the virtual environment and runs this).
//!
//! Each round starts both servers on fresh databases, with the same signing secret, and drives
//! them in turn, in an order that alternates from round to round, with the same requests: each
//! `/docket deploy api 1.4.<n> to prod`, unique and freshly signed, over 16 and then 64
//! kept-alive connections (closed loop) for `--peer-seconds` each, after a second of warm-up.
//! Reported: each server's requests per second, the ratio, the CPU each server used (from
//! `/proc`), the sender's own CPU while it drove Docket (the two share the machine), and the
//! machine's load average after the round. Docket's answer is its whole
//! slash command: the signature, its replay record (a durable write), the person, the matcher,
//! the pre-filled form (opened with `views.open` after the answer, within Slack's budget).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::drive::{Driven, closed_loop};
use super::slack::{SECRET, command_body, cpu_seconds, write_server_files};
use super::slack_api::FakeWebApi;
use super::{Figure, Target, startup, wire};

/// Where the peer is and how long each turn lasts.
#[derive(Debug, Clone)]
pub(crate) struct PeerOptions {
    /// The Python of a virtual environment with `slack_bolt` and `uvicorn`.
    pub(crate) python: PathBuf,
    /// The Bolt app (`app.py`).
    pub(crate) app: PathBuf,
    /// How long each server is driven at each number of connections.
    pub(crate) turn: Duration,
}

/// A server under test: its process and address.
struct Server {
    name: &'static str,
    child: tokio::process::Child,
    addr: String,
    path: &'static str,
    /// Requests sent to it so far (each request's number, so every one is unique).
    sent: u64,
}

/// One turn's result.
struct Turn {
    driven: Driven,
    /// The server's CPU.
    cores: f64,
    /// The bench's own (the requests' sender).
    sender: f64,
}

pub(crate) async fn measure(options: &PeerOptions, round: usize) -> anyhow::Result<Vec<Figure>> {
    let api = FakeWebApi::start().await?;
    let dir = tempfile::tempdir()?;
    let config = write_server_files(dir.path(), &api.url())?;
    let (child, addr) = startup::serve(&config, dir.path()).await?;
    let mut docket = Server { name: "docket", child, addr, path: "/slack/commands", sent: 0 };
    let mut bolt = start_bolt(options, dir.path(), &api.url()).await?;
    let mut figures = Vec::new();
    for (connections, names) in [(16, NAMES_16), (64, NAMES_64)] {
        let (first, second) = if round % 2 == 1 { (&mut docket, &mut bolt) } else { (&mut bolt, &mut docket) };
        let a = turn(first, connections, options.turn).await;
        let b = turn(second, connections, options.turn).await;
        let (ours, theirs) = if first.name == "docket" { (a, b) } else { (b, a) };
        for (name, run) in [("docket", &ours), ("bolt", &theirs)] {
            if let Some(error) = &run.driven.first_error {
                tracing::warn!(server = name, connections, errors = run.driven.errors, first = %error, "bench: requests not answered 200");
            }
        }
        let per_command = |t: &Turn| t.cores * 1e6 / t.driven.rate().max(1e-9);
        let [d_rate, b_rate, ratio, d_cpu, b_cpu, d_per, b_per, sender, errors] = names;
        figures.extend([
            Figure::new(d_rate, ours.driven.rate(), "/s", Target::None),
            Figure::new(b_rate, theirs.driven.rate(), "/s", Target::None),
            Figure::new(
                ratio,
                ours.driven.rate() / theirs.driven.rate().max(1e-9),
                "×",
                if connections == 16 { Target::AtLeast(10.0) } else { Target::None },
            ),
            Figure::new(d_cpu, ours.cores, "cores", Target::None),
            Figure::new(b_cpu, theirs.cores, "cores", Target::None),
            Figure::new(d_per, per_command(&ours), "µs", Target::None),
            Figure::new(b_per, per_command(&theirs), "µs", Target::None),
            Figure::new(sender, ours.sender, "cores", Target::None),
            Figure::new(errors, (ours.driven.errors + theirs.driven.errors) as f64, "", Target::AtMost(0.0)),
        ]);
    }
    figures.push(Figure::new("load average (1 min) after the round", super::load_average().0, "", Target::None));
    for server in [&mut docket, &mut bolt] {
        let _ = server.child.kill().await;
    }
    Ok(figures)
}

const NAMES_16: [&str; 9] = [
    "docket slash commands, 16 connections",
    "bolt slash commands, 16 connections",
    "docket ÷ bolt, 16 connections",
    "docket CPU, 16 connections",
    "bolt CPU, 16 connections",
    "docket CPU per command, 16 connections",
    "bolt CPU per command, 16 connections",
    "sender CPU while driving docket, 16 connections",
    "errors (both), 16 connections",
];
const NAMES_64: [&str; 9] = [
    "docket slash commands, 64 connections",
    "bolt slash commands, 64 connections",
    "docket ÷ bolt, 64 connections",
    "docket CPU, 64 connections",
    "bolt CPU, 64 connections",
    "docket CPU per command, 64 connections",
    "bolt CPU per command, 64 connections",
    "sender CPU while driving docket, 64 connections",
    "errors (both), 64 connections",
];

/// A second of warm-up, then `length` of driving `server` over `connections` connections,
/// with the CPU its process used meanwhile.
async fn turn(server: &mut Server, connections: usize, length: Duration) -> Turn {
    let pid = server.child.id().unwrap_or_default();
    let _ = drive(server, connections, Duration::from_secs(1)).await;
    let (before, sender_before) = (cpu_seconds(pid), cpu_seconds(std::process::id()));
    let driven = drive(server, connections, length).await;
    let seconds = driven.elapsed.as_secs_f64().max(1e-9);
    let cores = (cpu_seconds(pid) - before) / seconds;
    let sender = (cpu_seconds(std::process::id()) - sender_before) / seconds;
    Turn { driven, cores, sender }
}

async fn drive(server: &mut Server, connections: usize, length: Duration) -> Driven {
    let (addr, path, first) = (server.addr.clone(), server.path, server.sent);
    let make = move |n: u64| signed_command(&addr, path, usize::try_from(first + n).unwrap_or(usize::MAX));
    let driven = closed_loop(&server.addr, connections, length, 200, Arc::new(make)).await;
    server.sent += driven.ok + driven.errors;
    driven
}

/// Slash command `i` as Slack sends it: form-encoded, signed now.
fn signed_command(host: &str, path: &str, i: usize) -> Vec<u8> {
    let body = command_body(i);
    let timestamp = jiff::Timestamp::now().as_second().to_string();
    let signature = docket_slack::verify::sign(SECRET, &timestamp, body.as_bytes());
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-slack-request-timestamp", timestamp.as_str()),
        ("x-slack-signature", signature.as_str()),
    ];
    wire::request("POST", path, host, &headers, body.as_bytes())
}

/// Starts the Bolt app under uvicorn (one process, no access log) on a free port; waits until
/// it answers.
async fn start_bolt(options: &PeerOptions, dir: &Path, api_url: &str) -> anyhow::Result<Server> {
    let app = std::fs::canonicalize(&options.app)
        .with_context(|| format!("the Bolt app {} (see bench/peers/bolt/run.sh)", options.app.display()))?;
    let folder = app.parent().context("the Bolt app's folder")?;
    let module = app.file_stem().and_then(|s| s.to_str()).context("the Bolt app's module name")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(dir.join("bolt.log"))?;
    let child = tokio::process::Command::new(&options.python)
        .args(["-m", "uvicorn", &format!("{module}:api"), "--app-dir"])
        .arg(folder)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--no-access-log", "--log-level", "warning"])
        .env("BOLT_DB", dir.join("bolt.db"))
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_API_URL", api_url)
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting uvicorn with {} (see bench/peers/bolt/run.sh)", options.python.display()))?;
    let mut server = Server { name: "bolt", child, addr, path: "/slack/events", sent: 0 };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let probe = drive(&mut server, 1, Duration::from_millis(1)).await;
        if probe.ok > 0 {
            return Ok(server);
        }
        if Instant::now() > deadline || server.child.try_wait()?.is_some() {
            let log = std::fs::read_to_string(dir.join("bolt.log")).unwrap_or_default();
            anyhow::bail!("the Bolt app did not answer within 30 s: {}\n{log}", probe.first_error.unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
