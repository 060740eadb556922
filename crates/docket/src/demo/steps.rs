//! The demo's step programs (`docket demo-step …`, hidden from help): small, real effects in
//! the demo's data folder, so a run has something to show. Each is an ordinary program run by
//! the `exec` runner with an argv, like a deploy script would be.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use sha2::{Digest as _, Sha256};

/// Runs `docket demo-step ARGS…` in the current folder (the demo's data folder).
pub(crate) fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["deploy", mode, env, service, version] => deploy(mode, env, service, version),
        ["health-check", env, service, version] => health_check(env, service, version),
        ["pipeline", action, env, name] => pipeline(action, env, name),
        ["rotate", mode, name] => rotate(mode, name),
        _ => bail!("unknown demo step: {}", args.join(" ")),
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn pause() {
    std::thread::sleep(Duration::from_millis(300));
}

fn service_dir(env: &str, service: &str) -> PathBuf {
    Path::new("environments").join(env).join(service)
}

fn current(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join("current")).ok().map(|s| s.trim().to_owned())
}

fn deploy(mode: &str, env: &str, service: &str, version: &str) -> anyhow::Result<ExitCode> {
    let dir = service_dir(env, service);
    let before = current(&dir).unwrap_or_else(|| "nothing".to_owned());
    if mode == "plan" {
        say(&format!("{service} in {env}: {before} → {version}"));
        say(&format!("will write {}/releases/{version}/release.json and point current at it", dir.display()));
        return Ok(ExitCode::SUCCESS);
    }
    let key = std::env::var("DOCKET_IDEMPOTENCY_KEY").unwrap_or_default();
    let release = dir.join("releases").join(version);
    let marker = release.join("release.json");
    if let Ok(text) = std::fs::read_to_string(&marker)
        && text.contains(&format!("\"idempotency_key\":\"{key}\""))
        && current(&dir).as_deref() == Some(version)
    {
        say(&format!("release {version} of {service} is already live in {env} (same idempotency key); nothing to do"));
        return Ok(ExitCode::SUCCESS);
    }
    say(&format!("writing release {version} of {service} to {}", release.display()));
    std::fs::create_dir_all(&release)?;
    pause();
    let ticket = std::env::var("DOCKET_TICKET").unwrap_or_default();
    let doc = serde_json::json!({ "service": service, "version": version, "environment": env,
        "ticket": ticket, "idempotency_key": key });
    std::fs::write(&marker, serde_json::to_string(&doc)?)?;
    pause();
    say(&format!("switching {env}/{service}: {before} → {version}"));
    std::fs::write(dir.join("current"), format!("{version}\n"))?;
    Ok(ExitCode::SUCCESS)
}

fn health_check(env: &str, service: &str, version: &str) -> anyhow::Result<ExitCode> {
    let dir = service_dir(env, service);
    for attempt in 1..=3 {
        pause();
        let live = current(&dir).context("no release is live")?;
        if live != version {
            eprintln_line(&format!("health check {attempt}/3: {live} is live, expected {version}"));
            return Ok(ExitCode::from(2));
        }
        let marker = dir.join("releases").join(&live).join("release.json");
        if !marker.exists() {
            eprintln_line(&format!("health check {attempt}/3: {} is missing", marker.display()));
            return Ok(ExitCode::from(2));
        }
        say(&format!("health check {attempt}/3: {service} {live} in {env} ok"));
    }
    Ok(ExitCode::SUCCESS)
}

fn eprintln_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

fn pipeline(action: &str, env: &str, name: &str) -> anyhow::Result<ExitCode> {
    let dir = Path::new("pipelines").join(env);
    std::fs::create_dir_all(&dir)?;
    let state = dir.join(format!("{name}.state"));
    match action {
        "stop" => {
            for batch in 1..=3 {
                say(&format!("draining {name}: batch {batch}/3 committed"));
                pause();
            }
            std::fs::write(&state, "stopped\n")?;
            say(&format!("{name} in {env} stopped at its checkpoint"));
        }
        "start" => {
            std::fs::write(&state, "running\n")?;
            say(&format!("{name} in {env} started from its last checkpoint"));
        }
        other => bail!("unknown pipeline action {other}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn rotate(mode: &str, name: &str) -> anyhow::Result<ExitCode> {
    let dir = Path::new("credentials");
    let path = dir.join(format!("{name}.secret"));
    let old = std::fs::read(&path).ok().map(|v| fingerprint(&v)).unwrap_or_else(|| "none".to_owned());
    if mode == "plan" {
        say(&format!("will replace credential {name} (current fingerprint {old}) with a new random one"));
        return Ok(ExitCode::SUCCESS);
    }
    let mut secret = [0u8; 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut secret))?;
    let secret = hex::encode(secret);
    std::fs::create_dir_all(dir)?;
    std::fs::write(&path, &secret)?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    say(&format!("credential {name} rotated: fingerprint {old} → {}", fingerprint(secret.as_bytes())));
    Ok(ExitCode::SUCCESS)
}

fn fingerprint(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..6])
}
