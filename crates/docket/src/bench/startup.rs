//! Start-up to ready and idle memory of the real binary: `docket serve` is started as a child
//! process on a fresh data folder, `/readyz` is polled until it answers 200, and the resident
//! set size is read from `/proc` after a second of idling.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::{Figure, Target};

const CONFIG: &str = "server: { listen: 127.0.0.1:0 }\nstorage: { url: sqlite://./docket.db }\ncatalog: ./workflows\n\
people: [{ id: alice, name: Alice }]\npolicies: [{ name: all, when: \"true\", auto_approve: true }]\n";
const WORKFLOW: &str = "id: noop\ntitle: No-op\nsteps:\n  - name: nothing\n    wait: 0s\n";

pub(crate) async fn measure() -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("workflows"))?;
    std::fs::write(dir.path().join("workflows/noop.yaml"), WORKFLOW)?;
    std::fs::write(dir.path().join("docket.yaml"), CONFIG)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let exe = super::server_exe()?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(exe)
        .args(["serve", "--config"])
        .arg(dir.path().join("docket.yaml"))
        .args(["--listen", &addr])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting docket serve")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if ready(&addr).await {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "docket serve was not ready within 20 s");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let startup = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = child.id().context("the server's pid")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS in /proc")?;
    child.kill().await?;
    let rss = rss_kib / 1024.0;
    let startup_ms = startup.as_secs_f64() * 1000.0;
    Ok(vec![
        Figure::new("start-up to ready", startup_ms, "ms", Target::AtMost(200.0)),
        Figure::new("idle RSS", rss, "MiB", Target::AtMost(30.0)),
    ])
}

/// Whether `GET /readyz` answers 200.
pub(super) async fn ready(addr: &str) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else { return false };
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.is_ok() && head.ends_with(b"200")
}

/// Starts `docket serve --config config` on a free loopback port, its log (warnings and
/// errors) in `dir/serve.log`, and waits until it is ready: the child and its address.
pub(super) async fn serve(
    config: &std::path::Path,
    dir: &std::path::Path,
) -> anyhow::Result<(tokio::process::Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(dir.join("serve.log"))?;
    let child = tokio::process::Command::new(super::server_exe()?)
        .args(["serve", "--config"])
        .arg(config)
        .args(["--listen", &addr])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting docket serve")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready(&addr).await {
        anyhow::ensure!(Instant::now() < deadline, "docket serve was not ready within 20 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok((child, addr))
}
