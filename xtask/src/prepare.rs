//! The set-up the tests need, done only where something is missing, so it is quick on a
//! prepared machine and complete on a fresh one:
//!
//! - Debian packages: `chromium` (the browser test), `nodejs` and `npm` (Playwright and the
//!   OpenID provider it signs in through; not installed when a Node.js with its own npm is
//!   there), `postgresql` and `mariadb-server` (the store's contract suite and SQL steps),
//!   `systemd` (`systemd-analyze verify` of the unit file);
//! - PostgreSQL on 127.0.0.1:5432 and MariaDB on 127.0.0.1:3306, started if they are down;
//! - the browser test's npm packages (`npm ci` in `crates/docket-web/browser`), when
//!   `node_modules` is missing or older than the lock file;
//! - `cargo deny` and `cargo machete` (the dependency checks `.ci/run` makes), built from
//!   crates.io with `cargo install --locked` when `cargo deny --version` or
//!   `cargo machete --version` fails.
//! - Schemathesis, the API fuzzer the OpenAPI test runs, from PyPI into a virtual environment
//!   at `target/schemathesis-venv`, when it is missing or another version.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Everything, in order. Stops at the first step that cannot be done, saying why.
pub(crate) fn everything() -> Result<(), String> {
    packages()?;
    postgres()?;
    mariadb()?;
    browser_packages()?;
    cargo_tools()?;
    schemathesis()
}

/// The Schemathesis release the OpenAPI test runs (`crates/docket/tests/schemathesis.rs`).
const SCHEMATHESIS: &str = "4.32.5";

/// `target/schemathesis-venv` with Schemathesis [`SCHEMATHESIS`], made with `python3 -m venv`
/// and pip when missing or holding another version.
fn schemathesis() -> Result<(), String> {
    let venv = root().join("target/schemathesis-venv");
    let program = venv.join("bin/schemathesis");
    let installed = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim().ends_with(&format!("version {SCHEMATHESIS}")));
    if installed {
        return Ok(());
    }
    step(&format!("installing Schemathesis {SCHEMATHESIS} into {}", venv.display()));
    let venv_text = venv.to_str().ok_or("the target folder's path is not UTF-8")?;
    if !venv.join("bin/pip").exists() {
        run("python3", &["-m", "venv", venv_text], false)?;
    }
    let pip = venv.join("bin/pip");
    let pip = pip.to_str().ok_or("the target folder's path is not UTF-8")?;
    run(pip, &["install", "--quiet", "--disable-pip-version-check", &format!("schemathesis=={SCHEMATHESIS}")], false)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn found(program: &str) -> bool {
    Command::new("which").arg(program).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn step(what: &str) {
    eprintln!("== {what}");
}

/// Runs `program args`, as root (through `sudo` when not root already) if `as_root`.
fn run(program: &str, args: &[&str], as_root: bool) -> Result<(), String> {
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    let mut command = if as_root && !is_root {
        let mut c = Command::new("sudo");
        c.arg(program);
        c
    } else {
        Command::new(program)
    };
    let status = command.args(args).status().map_err(|e| format!("could not run {program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
}

/// Debian packages for what is missing.
fn packages() -> Result<(), String> {
    let mut missing: Vec<&str> = Vec::new();
    if !Path::new("/usr/bin/chromium").exists() && !found("chromium") {
        missing.push("chromium");
    }
    if !found("npm") {
        missing.extend(["nodejs", "npm"]);
    }
    if !found("pg_ctlcluster") && !found("pg_ctl") {
        missing.push("postgresql");
    }
    if !Path::new("/usr/sbin/mariadbd").exists() && !found("mariadbd") {
        missing.push("mariadb-server");
    }
    if !found("systemd-analyze") {
        // The unit file in deploy/ is checked with `systemd-analyze verify`.
        missing.push("systemd");
    }
    if missing.is_empty() {
        return Ok(());
    }
    step(&format!("installing {}", missing.join(", ")));
    run("apt-get", &["update", "-q"], true)?;
    let mut args = vec!["install", "-y", "-q"];
    args.extend(missing);
    run("apt-get", &args, true)
}

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_millis(500)).is_ok()
}

fn wait_for(port: u16, what: &str) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if listening(port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("{what} did not start listening on 127.0.0.1:{port}"))
}

/// PostgreSQL on 127.0.0.1:5432, started with Debian's cluster tools if it is down.
fn postgres() -> Result<(), String> {
    if listening(5432) {
        return Ok(());
    }
    step("starting PostgreSQL");
    let version = std::fs::read_dir("/etc/postgresql")
        .map_err(|e| format!("PostgreSQL is not running and has no cluster in /etc/postgresql: {e}"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .max()
        .ok_or("PostgreSQL is not running and has no cluster in /etc/postgresql")?;
    run("pg_ctlcluster", &["--skip-systemctl-redirect", &version, "main", "start"], true)?;
    wait_for(5432, "PostgreSQL")
}

/// MariaDB on 127.0.0.1:3306, started if it is down.
fn mariadb() -> Result<(), String> {
    if listening(3306) {
        return Ok(());
    }
    step("starting MariaDB");
    let daemon = if Path::new("/usr/sbin/mariadbd").exists() { "/usr/sbin/mariadbd" } else { "mariadbd" };
    run("start-stop-daemon", &["--start", "--oknodo", "--background", "--exec", daemon], true)?;
    wait_for(3306, "MariaDB")
}

/// `npm ci` for the browser test, when its packages are missing or older than the lock file.
fn browser_packages() -> Result<(), String> {
    let dir = root().join("crates/docket-web/browser");
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let current = matches!((modified(&installed), modified(&lock)), (Some(i), Some(l)) if i >= l);
    if current {
        return Ok(());
    }
    step("npm ci in crates/docket-web/browser");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("could not run npm: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("npm ci failed ({status})")) }
}

/// The cargo subcommands `.ci/run` uses, with the versions installed on a fresh machine.
const CARGO_TOOLS: &[(&str, &str, &str)] = &[("deny", "cargo-deny", "0.20.2"), ("machete", "cargo-machete", "0.9.2")];

/// `cargo install --locked` for each of [`CARGO_TOOLS`] whose `cargo NAME --version` fails.
fn cargo_tools() -> Result<(), String> {
    for (subcommand, package, version) in CARGO_TOOLS {
        // cargo-machete reads its arguments differently when it sees CARGO_PKG_NAME, which
        // `cargo run` sets for this program.
        let present = Command::new("cargo")
            .args([subcommand, "--version"])
            .env_remove("CARGO_PKG_NAME")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !present {
            step(&format!("installing {package} {version}"));
            run("cargo", &["install", "--locked", "--version", version, package], false)?;
        }
    }
    Ok(())
}
