//! Step processes a dead server left on this host. A server is stopped with its steps
//! abandoned mid-run (as a crash leaves them), and the groups it recorded are replaced by live
//! stand-ins: the first copy of a step still running after its server died, one that ignores
//! `SIGTERM`, one still owned by a server that runs, and a record whose process was replaced by
//! another with the same pid. On the next start, before any run resumes, the groups whose
//! server is gone are ended and seen gone; the rest is left alone. Only then does the `retry:
//! safe` step run again, the other ends `interrupted`, and a run whose group still has a live
//! server waits until that server is gone.

use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use docket_app::{Mode, ProcessId, ServerProcess, StepGroup, StepProcess};
use docket_core::{TicketId, TicketState};
use docket_testkit::TestApp;

use crate::{api, person};

const CONFIG: &str = r#"server: { listen: 127.0.0.1:0 }
storage: { url: sqlite://./docket.db }
catalog: ./workflows
people:
  - { id: alice, name: Alice }
policies:
  - { name: all, when: "true", auto_approve: true }
"#;

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engine/scripts").join(name).display().to_string()
}

/// Workflow `id`: one step running `once.sh <dir>/<id>.log`.
fn workflow(id: &str, safe: bool, dir: &Path) -> String {
    let log = dir.join(format!("{id}.log"));
    let retry = if safe { "    retry: safe\n" } else { "" };
    format!(
        "id: {id}\ntitle: {id}\nsteps:\n  - name: work\n    exec: [{:?}, {:?}]\n{retry}",
        script("once.sh"),
        log.display().to_string()
    )
}

fn attempts(dir: &Path, id: &str) -> usize {
    std::fs::read_to_string(dir.join(format!("{id}.log"))).unwrap_or_default().lines().count()
}

/// A process in a new group of its own, as a step's program is; killed when dropped, so a
/// failed test leaves nothing running.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = kill_group(&mut self.0);
    }
}

/// SIGKILL to the group `child` leads, through `kill -KILL -PGID`, then a wait.
fn kill_group(child: &mut Child) -> std::io::Result<()> {
    if child.try_wait()?.is_none() {
        Command::new("/bin/kill").args(["-KILL", "--", &format!("-{}", child.id())]).status()?;
        child.wait()?;
    }
    Ok(())
}

fn spawn_group(program: &str, args: &[&str]) -> Group {
    Group(Command::new(program).args(args).stdin(Stdio::null()).process_group(0).spawn().unwrap())
}

fn started(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit_once(')').unwrap().1.split_whitespace().nth(19).unwrap().parse().unwrap()
}

fn identity(group: &Group) -> ProcessId {
    ProcessId { pid: group.0.id(), started: started(group.0.id()) }
}

/// A record of `ticket`'s step 0 running as the group `child` leads, started by `server`.
fn record(ticket: &TicketId, group: &Group, server: ServerProcess) -> StepProcess {
    let me = identity(group);
    StepProcess {
        ticket: ticket.clone(),
        step: 0,
        mode: Mode::Run,
        group: StepGroup { pgid: me.pid, leader: me, program: me },
        server,
        recorded_at: jiff::Timestamp::now(),
    }
}

fn ended_by(group: &mut Group) -> Option<i32> {
    group.0.try_wait().unwrap().map(|status| status.signal().unwrap_or(0))
}

async fn open_tickets(dir: &Path) -> (TestApp, Vec<TicketId>) {
    let t = TestApp::builder()
        .config(CONFIG)
        .workflows(&[
            ("safe.yaml", &workflow("safe", true, dir)),
            ("unsafe.yaml", &workflow("unsafe", false, dir)),
            ("waits.yaml", &workflow("waits", true, dir)),
        ])
        .in_dir(dir)
        .start()
        .await;
    let mut ids = Vec::new();
    for id in ["safe", "unsafe", "waits"] {
        ids.push(t.app.request(&person("alice"), &id.into(), Default::default(), api()).await.unwrap().id);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while ["safe", "unsafe", "waits"].iter().any(|id| attempts(dir, id) == 0) {
        assert!(Instant::now() < deadline, "the steps never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (t, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_ends_what_a_dead_server_left_before_any_run_resumes() {
    let temp = tempfile::tempdir().unwrap();
    let dir: PathBuf = temp.path().to_path_buf();
    let (mut first, ids) = open_tickets(&dir).await;
    first.stop_within(Duration::from_millis(100)).await;
    let me = first.processes().server().clone();
    let store = first.store();
    for left in store.processes_on(&me.host).await.unwrap() {
        assert_eq!(left.server, me, "the abandoned steps were recorded by this process");
        store.forget_process(&me.host, &left.group).await.unwrap();
    }

    // Stand-ins for what a dead server would have left running.
    let dead = ServerProcess { process: ProcessId { started: me.process.started - 1, ..me.process }, ..me.clone() };
    let mut safe_copy = spawn_group("/bin/sleep", &["1000"]);
    let mut stubborn = spawn_group(&script("stubborn.sh"), &[]);
    let live_server = spawn_group("/bin/sleep", &["1000"]);
    let alive = ServerProcess { process: identity(&live_server), ..me.clone() };
    let mut waiting_copy = spawn_group("/bin/sleep", &["1000"]);
    let mut bystander = spawn_group("/bin/sleep", &["1000"]);
    let mut reused = record(&ids[0], &bystander, dead.clone());
    reused.group.program.started += 5;
    reused.group.leader.started += 5;
    for r in [
        record(&ids[0], &safe_copy, dead.clone()),
        record(&ids[1], &stubborn, dead.clone()),
        record(&ids[2], &waiting_copy, alive.clone()),
        reused,
    ] {
        store.record_process(&r).await.unwrap();
    }
    drop(first);

    let restarted = Instant::now();
    let second = TestApp::builder()
        .config(CONFIG)
        .workflows(&[
            ("safe.yaml", &workflow("safe", true, &dir)),
            ("unsafe.yaml", &workflow("unsafe", false, &dir)),
            ("waits.yaml", &workflow("waits", true, &dir)),
        ])
        .settings(|s| {
            s.lease = Duration::from_millis(800);
            s.heartbeat = Duration::from_millis(200);
        })
        .in_dir(&dir)
        .start()
        .await;
    let took = restarted.elapsed();
    // Ended before the engine ran anything: SIGTERM for the first, SIGKILL after the grace
    // (2 s) for the one that ignores it.
    assert_eq!(ended_by(&mut safe_copy), Some(15));
    assert_eq!(ended_by(&mut stubborn), Some(9));
    assert!(took >= Duration::from_secs(2), "SIGKILL before the grace: {took:?}");
    // Not signalled: a group whose server still runs, and a pid now held by another process.
    assert_eq!(ended_by(&mut waiting_copy), None);
    assert_eq!(ended_by(&mut bystander), None);
    let left: Vec<_> = second.store().processes_on(&me.host).await.unwrap();
    assert!(left.iter().any(|r| r.server == alive), "{left:#?}");
    assert!(left.iter().all(|r| r.server != dead), "ended or stale records are dropped: {left:#?}");

    let safe = second.wait_for_state(&ids[0], TicketState::Succeeded).await;
    assert_eq!(safe.runs[0].steps[0].attempts, 2);
    assert_eq!(attempts(&dir, "safe"), 2);
    second.wait_for_state(&ids[1], TicketState::Interrupted).await;
    assert_eq!(attempts(&dir, "unsafe"), 1, "the step that is not safe never ran again");

    // The run whose copy still has a live server waits, leases lapsing and claims coming back…
    tokio::time::sleep(Duration::from_secs(2)).await;
    let waiting = second.app.ticket(&ids[2]).await.unwrap();
    assert_eq!(waiting.state, TicketState::Running);
    assert_eq!((waiting.runs[0].steps[0].attempts, attempts(&dir, "waits")), (1, 1));
    assert_eq!(ended_by(&mut waiting_copy), None);
    // … until that server is gone: then its copy is ended, and only then does the step run again.
    drop(live_server);
    second.wait_for_state(&ids[2], TicketState::Succeeded).await;
    assert_eq!(ended_by(&mut waiting_copy), Some(15));
    assert_eq!(attempts(&dir, "waits"), 2);
    // Each step's record is dropped in the background once its runner returned.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = second.store().processes_on(&me.host).await.unwrap();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "{left:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    assert_eq!(ended_by(&mut bystander), None);
    second.stop().await;
}
