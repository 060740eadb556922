//! `docket demo` as a new user meets it: the address checked before anything is written, the
//! configuration saying where it really listens, and ticket numbers that stay dense across a
//! clean stop, with the terminal naming the ticket a request actually got.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod support;

use std::fs::File;
use std::path::Path;
use std::process::Stdio;

use support::{Server, as_person, docket, free_port, text, wait_for_text, wait_ready};

/// The walkthrough's last line: it is written a line at a time, so a test reads it whole only
/// once this line is there.
const WALKTHROUGH_END: &str = "Each ticket that waits for approval is named here";

/// Starts the demo in `dir/demo` on `listen`, its terminal written to `dir/{terminal}`.
fn demo(dir: &Path, listen: &str, terminal: &str) -> Server {
    let out = File::create(dir.join(terminal)).unwrap();
    let child = docket(dir)
        .args(["demo", "--listen", listen, "--data-dir", "demo"])
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server(child)
}

/// The id `docket request` printed: `DKT-7 opened: …`.
fn opened(said: &str) -> String {
    said.split_once(" opened: ").unwrap_or_else(|| panic!("no ticket opened:\n{said}")).0.to_owned()
}

#[test]
fn ticket_numbers_stay_dense_across_a_clean_stop_and_the_terminal_names_the_real_ticket() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let base = format!("http://{listen}");
    let prod = ["request", "deploy", "service=api", "version=1.4.2", "environment=prod"];
    let creds = "--credentials demo/credentials.json";

    let mut first = demo(dir, &listen, "first.txt");
    wait_ready(&base);
    // The configuration says where this demo listens, and the credentials file points there.
    let config = std::fs::read_to_string(dir.join("demo/docket.yaml")).unwrap();
    assert!(config.contains(&format!("server: {{ listen: \"{listen}\" }}")), "{config}");
    let credentials: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo/credentials.json")).unwrap()).unwrap();
    assert_eq!(credentials["url"], base);
    let check = docket(dir).args(["check", "--config", "demo/docket.yaml"]).output().unwrap();
    assert!(check.status.success(), "{}", text(&check.stdout));
    let said = wait_for_text(&dir.join("first.txt"), WALKTHROUGH_END);
    assert!(said.contains(&format!("  2. docket approve DKT-1 --as bob {creds} && ")), "{said}");

    let staging = ["request", "deploy", "service=web", "version=2.0.0", "environment=staging"];
    let out = as_person(dir, &base, "alice", &staging);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(opened(&text(&out.stdout)), "DKT-1");
    assert!(first.interrupt(), "Ctrl-C stops the demo cleanly");

    // After a clean stop, the walkthrough's ticket is the one the next request gets.
    let mut second = demo(dir, &listen, "second.txt");
    wait_ready(&base);
    let said = wait_for_text(&dir.join("second.txt"), WALKTHROUGH_END);
    assert!(said.contains(&format!("  2. docket approve DKT-2 --as bob {creds} && docket approve DKT-2 --as carol")));
    assert!(said.contains(&format!("  3. docket logs DKT-2 --follow --as alice {creds}; ")), "{said}");
    let out = as_person(dir, &base, "alice", &prod);
    assert_eq!(opened(&text(&out.stdout)), "DKT-2");
    wait_for_text(
        &dir.join("second.txt"),
        &format!("DKT-2 waits for stage sre: docket approve DKT-2 --as bob {creds}"),
    );
    let out = as_person(dir, &base, "bob", &["approve", "DKT-2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    wait_for_text(
        &dir.join("second.txt"),
        &format!("DKT-2 waits for stage security: docket approve DKT-2 --as carol {creds}"),
    );
    // `serve` is the same server: a second clean stop and start go on from DKT-3.
    assert!(second.interrupt());
    let third = demo(dir, &listen, "third.txt");
    wait_ready(&base);
    let out = as_person(dir, &base, "alice", &prod);
    assert_eq!(opened(&text(&out.stdout)), "DKT-3");

    // Killed, the server cannot give its numbers back; the terminal still names the real ticket.
    drop(third);
    let _fourth = demo(dir, &listen, "fourth.txt");
    wait_ready(&base);
    let out = as_person(dir, &base, "alice", &prod);
    let id = opened(&text(&out.stdout));
    wait_for_text(&dir.join("fourth.txt"), &format!("{id} waits for stage sre: docket approve {id} --as bob {creds}"));
}

#[test]
fn a_busy_address_stops_the_demo_before_it_writes_anything() {
    let temp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let out = docket(temp.path()).args(["demo", "--listen", &addr.to_string(), "--data-dir", "demo"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stderr);
    let other = format!("127.0.0.1:{}", addr.port() + 1);
    assert!(
        said.contains(&format!(
            "docket: {addr} is already in use (another Docket, or another server?): stop it, or \
                                choose another address with --listen {other}"
        )),
        "{said}"
    );
    assert!(!temp.path().join("demo").exists(), "nothing is written when the demo cannot listen");
}
