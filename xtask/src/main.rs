//! Repository chores. `cargo xtask test` is the one command that runs every test on a fresh
//! machine: it installs what the tests need and is missing (Debian's Chromium, Node.js and npm,
//! PostgreSQL, MariaDB; the browser test's npm packages; `cargo deny` and `cargo machete` for
//! `.ci/run`'s dependency checks; Schemathesis from PyPI in a virtual environment under
//! `target/`), starts PostgreSQL and MariaDB on loopback if they are down, then runs
//! `cargo test --workspace --locked` with any arguments given after `--`. `cargo xtask prepare`
//! does only the set-up. `cargo test -p xtask` runs the tidy checks in `tests/tidy.rs`.

#![allow(clippy::print_stderr, reason = "a command-line tool reports on the terminal")]

mod prepare;

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => {
            let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).filter(|a| *a != "--").collect();
            if let Err(problem) = prepare::everything() {
                eprintln!("xtask: {problem}");
                return ExitCode::FAILURE;
            }
            run_tests(&rest)
        }
        Some("prepare") => match prepare::everything() {
            Ok(()) => ExitCode::SUCCESS,
            Err(problem) => {
                eprintln!("xtask: {problem}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!(
                "usage: cargo xtask test [-- ARGS FOR cargo test]   set up what the tests need, then run them all\n       \
                 cargo xtask prepare                          only the set-up"
            );
            ExitCode::from(2)
        }
    }
}

/// `cargo test --workspace --locked ARGS`, with its exit status.
fn run_tests(args: &[&str]) -> ExitCode {
    eprintln!("== cargo test --workspace --locked {}", args.join(" "));
    match Command::new("cargo").args(["test", "--workspace", "--locked"]).args(args).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
        Err(error) => {
            eprintln!("xtask: could not run cargo: {error}");
            ExitCode::FAILURE
        }
    }
}
