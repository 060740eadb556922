//! What the binary's end-to-end tests share: running `docket` in a folder, a server that is
//! killed when the test ends, waiting for it to be ready, tokens, reloads and the REST API
//! (`api`), a PostgreSQL database of their own, and what `/proc` says about processes.

#![allow(dead_code, reason = "each test file uses a part of it")]

pub(crate) mod api;
pub(crate) mod postgres;
pub(crate) mod procs;

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// Kills the server when the test ends, however it ends.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// Stops it as Ctrl-C does and waits for it to exit (at most 40 s); whether it exited 0.
    pub(crate) fn interrupt(&mut self) -> bool {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.0.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status.success();
            }
            assert!(Instant::now() < deadline, "the server did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `docket` in `dir`, with none of the client's variables set.
pub(crate) fn docket(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docket"));
    command
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env_remove("DOCKET_CONFIG")
        .env_remove("DOCKET_TOKEN")
        .env_remove("DOCKET_URL")
        .env_remove("DOCKET_CREDENTIALS");
    command
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn wait_ready(base: &str) {
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if client.get(format!("{base}/readyz")).send().is_ok_and(|r| r.status().is_success()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the server did not become ready");
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a client command as `person` of the demo whose data folder is `dir/demo`.
pub(crate) fn as_person(dir: &Path, base: &str, person: &str, args: &[&str]) -> Output {
    docket(dir)
        .args(args)
        .args(["--as", person, "--url", base, "--credentials", "demo/credentials.json"])
        .output()
        .unwrap()
}

/// Waits until `path` holds `needle` (at most 20 s) and answers what it holds.
pub(crate) fn wait_for_text(path: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let said = std::fs::read_to_string(path).unwrap_or_default();
        if said.contains(needle) {
            return said;
        }
        assert!(Instant::now() < deadline, "`{needle}` never appeared in {}:\n{said}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}
