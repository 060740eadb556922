//! The files for running Docket for real: the systemd unit passes `systemd-analyze verify` and
//! starts the binary with arguments it accepts; the container file's command does too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

use std::path::PathBuf;
use std::process::Command;

fn deploy(file: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy").join(file)).unwrap()
}

/// Runs this build of `docket` with `args` (the configuration it names does not exist here):
/// the arguments must parse, so the only complaint is about the missing file.
fn accepts(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_docket")).args(args).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("/etc/docket/docket.yaml"), "{args:?} should fail only on the missing file: {said}");
}

#[test]
fn the_systemd_unit_verifies_and_its_command_parses() {
    let unit = deploy("docket.service");
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("an ExecStart line");
    let args: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(args[0], "/usr/local/bin/docket");
    accepts(&args[1..]);
    for hardening in ["NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory=docket", "User=docket"] {
        assert!(unit.contains(hardening), "{hardening}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docket.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/docket", env!("CARGO_BIN_EXE_docket"))).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", path.to_str().unwrap()])
        .output()
        .expect("systemd-analyze (cargo xtask prepare installs it)");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

#[test]
fn the_container_command_parses_and_runs_unprivileged() {
    let file = deploy("Containerfile");
    let cmd = file.lines().find_map(|l| l.strip_prefix("CMD ")).expect("a CMD line");
    let args: Vec<String> = serde_json::from_str(cmd).unwrap();
    accepts(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(file.contains("USER nonroot"), "{file}");
    assert!(file.contains("cargo build --release --locked -p docket"), "{file}");
}
