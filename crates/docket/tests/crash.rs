//! Crash safety, for real, on SQLite and on PostgreSQL: `docket serve` is killed with SIGKILL in
//! the middle of two steps and started again.
//!
//! - The `retry: safe` step's process group dies with the server (the server's step supervisor
//!   ends it), before anything resumes; the step then runs again with the same idempotency key,
//!   and its side effects show the two copies never ran at once.
//! - The other step ignores SIGTERM, and the supervisor is killed too before its grace is over,
//!   so that step outlives both; the restarted server finds its group recorded, checks it is the
//!   same process, kills it, and only then serves and resumes: the ticket ends `interrupted`,
//!   the step never repeated and its processes dead.
//! - Every acknowledged ticket and the audit chain survive.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use support::postgres::TestDatabase;
use support::procs::{alive, assert_gone_within, group_of, parent_of};

const CONFIG: &str = r#"server: { listen: 127.0.0.1:0 }
storage: { url: "@STORAGE@" }
catalog: ./workflows
people:
  - { id: alice, name: Alice }
policies:
  - { name: all, when: "true", auto_approve: true }
"#;

/// One attempt of a step: records its start (with its pid and idempotency key), leaves a
/// background process in its group, then appends its pid to `NAME.ticks` every 50 ms (its side
/// effects) and records its end. It ends after [`TICKS`] ticks once the test has written
/// `NAME.stop`, else after 600 (30 s), so a first attempt is still running when the server is
/// killed however slowly the test gets there. With `stubborn` it ignores SIGTERM, as does
/// everything it starts.
const SCRIPT: &str = r#"#!/bin/sh
if [ "$2" = stubborn ]; then trap '' TERM; fi
echo "start $1 $$ $DOCKET_IDEMPOTENCY_KEY" >> attempts.log
sleep 1000 &
echo "$$ $!" >> "$1.pids"
i=0
while [ $i -lt 600 ]; do
  echo $$ >> "$1.ticks"; i=$((i+1))
  if [ $i -ge 20 ] && [ -f "$1.stop" ]; then break; fi
  sleep 0.05
done
echo "end $1 $$" >> attempts.log
"#;

/// The ticks of an attempt that starts after `NAME.stop` is written.
const TICKS: usize = 20;

fn workflow(id: &str, safe: bool, dir: &Path) -> String {
    let (retry, mode) = if safe { ("    retry: safe\n", "gentle") } else { ("", "stubborn") };
    format!(
        "id: {id}\ntitle: {id}\nsteps:\n  - name: work\n    exec: {{ argv: [\"./step.sh\", \"{id}\", \"{mode}\"], cwd: {:?} }}\n{retry}",
        dir.display().to_string()
    )
}

fn setup(dir: &Path, storage: &str) {
    std::fs::create_dir_all(dir.join("workflows")).unwrap();
    for (id, safe) in [("safe", true), ("unsafe", false)] {
        std::fs::write(dir.join(format!("workflows/{id}.yaml")), workflow(id, safe, dir)).unwrap();
    }
    let quick = "id: quick\ntitle: quick\nsteps:\n  - name: pause\n    wait: 50ms\n    retry: safe\n";
    std::fs::write(dir.join("workflows/quick.yaml"), quick).unwrap();
    std::fs::write(dir.join("docket.yaml"), CONFIG.replace("@STORAGE@", storage)).unwrap();
    let script = dir.join("step.sh");
    std::fs::write(&script, SCRIPT).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn docket(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docket"));
    command.current_dir(dir).env("RUST_LOG", "warn").env_remove("DOCKET_CONFIG");
    command
}

/// A server, killed if the test fails before it does.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, port: u16) -> Server {
    Server(
        docket(dir)
            .args(["serve", "--config", "docket.yaml", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn wait_ready(client: &reqwest::blocking::Client, base: &str) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if client.get(format!("{base}/readyz")).send().is_ok_and(|r| r.status().is_success()) {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the server did not become ready");
}

fn ticket(client: &reqwest::blocking::Client, base: &str, token: &str, id: &str) -> Value {
    client.get(format!("{base}/api/v1/tickets/{id}")).bearer_auth(token).send().unwrap().json().unwrap()
}

fn lines(dir: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default().lines().map(str::to_owned).collect()
}

/// The pids (program, then its background process) of each attempt of step `id`.
fn attempt_pids(dir: &Path, id: &str) -> Vec<[u32; 2]> {
    let parse = |l: &String| {
        let mut it = l.split(' ').map(|p| p.parse().unwrap());
        [it.next().unwrap(), it.next().unwrap()]
    };
    lines(dir, &format!("{id}.pids")).iter().map(parse).collect()
}

fn request(client: &reqwest::blocking::Client, base: &str, token: &str, workflow: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(token)
        .json(&json!({ "workflow": workflow, "params": {} }))
        .send()
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().unwrap()["id"].as_str().unwrap().to_owned()
}

/// How long resuming may take: at once on SQLite (one server owns the data), after the dead
/// server's leases lapse (30 s) on a shared PostgreSQL.
fn crash_and_restart(storage: &str, resume_within: Duration) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    setup(dir, storage);
    let out = docket(dir).args(["token", "create", "--config", "docket.yaml", "--person", "alice"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();

    let mut server = start(dir, port);
    wait_ready(&client, &base);
    let ids = [request(&client, &base, &token, "safe"), request(&client, &base, &token, "unsafe")];
    let deadline = Instant::now() + Duration::from_secs(20);
    while attempt_pids(dir, "safe").is_empty() || attempt_pids(dir, "unsafe").is_empty() {
        assert!(Instant::now() < deadline, "the steps never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // More acknowledged tickets, some still queued or running when the server dies.
    let acknowledged: Vec<String> = (0..30).map(|_| request(&client, &base, &token, "quick")).collect();
    let [safe_first] = attempt_pids(dir, "safe")[..] else { panic!("one attempt") };
    let [unsafe_only] = attempt_pids(dir, "unsafe")[..] else { panic!("one attempt") };
    assert_eq!(group_of(unsafe_only[0]), Some(unsafe_only[0]), "the program leads its own group");
    let supervisor = parent_of(unsafe_only[0]).unwrap();
    assert_eq!(parent_of(safe_first[0]), Some(supervisor), "one supervisor per server");
    assert_ne!(supervisor, server.0.id(), "the programs run under the supervisor, not the server");
    assert!(std::fs::read_link(format!("/proc/{supervisor}/exe")).unwrap().ends_with("docket"));

    // SIGKILL the server mid-step.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    let killed = Instant::now();
    // The supervisor ends the groups: SIGTERM, at once, which ends the safe step.
    assert_gone_within(&safe_first, Duration::from_secs(2));
    let gone_after = killed.elapsed();
    // The unsafe step ignores it; the supervisor is killed before its grace is over, so that
    // step outlives both.
    support::procs::sigkill(supervisor);
    std::thread::sleep(Duration::from_millis(500));
    assert!(unsafe_only.iter().all(|&p| alive(p)), "the orphan the restart must find is there");
    let ticks_before = lines(dir, "safe.ticks").len();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(lines(dir, "safe.ticks").len(), ticks_before, "the first copy's side effects stopped");
    std::fs::write(dir.join("safe.stop"), "").unwrap();

    let spawned = Instant::now();
    let mut server = start(dir, port);
    let ready = wait_ready(&client, &base);
    // The start-up clean-up ran before the server served: the orphan (which ignores SIGTERM) is
    // dead, after the 2 s grace.
    assert!(unsafe_only.iter().all(|&p| !alive(p)), "the orphaned step still runs after a restart");
    assert!(ready >= Duration::from_secs(2), "SIGKILL came before the grace: ready after {ready:?}");
    let deadline = spawned + resume_within + Duration::from_secs(15);
    let (safe, unsafe_) = loop {
        let safe = ticket(&client, &base, &token, &ids[0]);
        let unsafe_ = ticket(&client, &base, &token, &ids[1]);
        if safe["state"] == "succeeded" && unsafe_["state"] == "interrupted" {
            break (safe, unsafe_);
        }
        assert!(Instant::now() < deadline, "not resumed: {safe:#}\n{unsafe_:#}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let attempts = lines(dir, "attempts.log");
    let starts = |id: &str| attempts.iter().filter(|l| l.starts_with(&format!("start {id} "))).count();
    assert_eq!(starts("safe"), 2, "the safe step ran again: {attempts:?}");
    assert_eq!(starts("unsafe"), 1, "the unsafe step was never repeated: {attempts:?}");
    let keys: Vec<&str> =
        attempts.iter().filter(|l| l.starts_with("start safe ")).filter_map(|l| l.rsplit(' ').next()).collect();
    assert_eq!(keys[0], keys[1], "with the same idempotency key: {attempts:?}");
    assert_eq!(safe["runs"][0]["steps"][0]["attempts"], 2, "{safe:#}");
    assert!(unsafe_["closing_reason"].as_str().unwrap_or_default().contains("not marked `retry: safe`"), "{unsafe_:#}");
    // Never two copies at once: every side effect of the first copy comes before the second's.
    let [_, safe_second] = attempt_pids(dir, "safe")[..] else { panic!("two attempts") };
    let ticks: Vec<u32> = lines(dir, "safe.ticks").iter().map(|t| t.parse().unwrap()).collect();
    let first_of_second = ticks.iter().position(|&p| p == safe_second[0]).unwrap();
    assert!(ticks[..first_of_second].iter().all(|&p| p == safe_first[0]), "copies overlapped: {ticks:?}");
    assert!(ticks[first_of_second..].iter().all(|&p| p == safe_second[0]), "copies overlapped: {ticks:?}");
    assert_eq!(ticks.len() - first_of_second, TICKS, "the second copy ran to its end");
    assert!(ready < Duration::from_secs(10), "ready after {ready:?}");
    for id in &acknowledged {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let t = ticket(&client, &base, &token, id);
            if t["state"] == "succeeded" {
                break;
            }
            assert!(Instant::now() < deadline, "acknowledged ticket {id} did not finish: {t:#}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    server.0.kill().unwrap();
    server.0.wait().unwrap();
    let out = docket(dir).args(["audit", "verify", "--config", "docket.yaml"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.starts_with("audit chain intact"), "{said}");
    #[allow(clippy::print_stderr, reason = "the figures, with --nocapture")]
    {
        eprintln!("{storage}: first copy gone {gone_after:?} after the kill; restarted server ready after {ready:?}");
    }
}

#[test]
fn sqlite_sigkill_mid_step_ends_the_steps_processes_then_resumes_safe_steps_and_interrupts_the_rest() {
    crash_and_restart("sqlite://./docket.db", Duration::from_secs(5));
}

#[test]
fn postgres_sigkill_mid_step_ends_the_steps_processes_then_resumes_safe_steps_and_interrupts_the_rest() {
    let db = TestDatabase::create();
    // The dead server's leases (30 s) lapse before another server takes its runs.
    crash_and_restart(&db.url, Duration::from_secs(35));
}
