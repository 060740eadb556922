//! What only the supervisor does: it ends the step's group when the server's end of its socket
//! closes (what the kernel does when the server dies, however it dies), it takes its step with
//! it when it is killed on its own, it starts nothing when misused, and the runner records who
//! is who in the group.

use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use docket_app::{ProcessLedger, StepGroup, StoreError};
use docket_core::Action;
use tokio_util::sync::CancellationToken;

use crate::support::{Case, Collect, assert_gone, exec, failure, read_pids, runner, script};

const DOCKET: &str = env!("CARGO_BIN_EXE_docket");

/// `/proc/<pid>/stat` fields 5 (process group) and 22 (start time).
fn group_and_start(pid: u32) -> (u32, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    (fields[2].parse().unwrap(), fields[19].parse().unwrap())
}

#[test]
fn the_group_dies_when_the_servers_end_of_the_socket_closes() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let stubborn = script("stubborn.sh");
    let (server_end, supervisor_end) = std::os::unix::net::UnixStream::pair().unwrap();
    use std::os::unix::process::CommandExt as _;
    let mut supervisor = Command::new(DOCKET)
        .args(["__supervise", "300", &stubborn, "stubborn.sh", &pid_file.display().to_string()])
        .env_clear()
        .stdin(Stdio::from(OwnedFd::from(supervisor_end)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(&server_end), &mut line).unwrap();
    assert!(line.starts_with("started "), "{line:?}");
    let pids = tokio::runtime::Runtime::new().unwrap().block_on(read_pids(&pid_file));
    // The script and its grandchild ignore SIGTERM; both are in the supervisor's group.
    for &pid in &pids {
        assert_eq!(group_and_start(u32::try_from(pid).unwrap()).0, supervisor.id());
    }

    let closed = Instant::now();
    drop(server_end);
    let status = supervisor.wait().unwrap();
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(status.signal(), Some(9), "the supervisor goes with the group's SIGKILL: {status:?}");
    let took = closed.elapsed();
    assert!(took >= Duration::from_millis(300), "SIGKILL came before the grace: {took:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    tokio::runtime::Runtime::new().unwrap().block_on(assert_gone(&pids));
}

#[tokio::test]
async fn a_supervisor_killed_on_its_own_takes_its_step_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let case = Case::new(Action::new(exec(&[&script("stubborn.sh"), &pid_file.display().to_string()])));
    let runner = runner().with_kill_grace(Duration::from_millis(300));
    let log = Collect::default();
    let killer = async {
        let pids = read_pids(&pid_file).await;
        let (supervisor, _) = group_and_start(u32::try_from(pids[0]).unwrap());
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(supervisor.try_into().unwrap()), nix::sys::signal::SIGKILL)
            .unwrap();
        pids
    };
    let run = docket_app::StepRunner::run(&runner, case.job(), &log, CancellationToken::new());
    let (outcome, pids) = tokio::join!(run, killer);
    let message = failure(&outcome).1;
    assert!(message.starts_with("could not wait for the process: the step's supervisor ended"), "{message}");
    assert!(message.ends_with("process group killed"), "{message}");
    assert_gone(&pids).await;
}

#[test]
fn misused_it_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let touch = ["/usr/bin/touch", "touch", marker.to_str().unwrap()];
    // Stdin is not a socket.
    use std::os::unix::process::CommandExt as _;
    let status = Command::new(DOCKET)
        .arg("__supervise")
        .arg("100")
        .args(touch)
        .stdin(Stdio::null())
        .process_group(0)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(125));
    // Not the leader of its own process group: ending "its" group would hit its parent's.
    let (_keep, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let status =
        Command::new(DOCKET).arg("__supervise").arg("100").args(touch).stdin(OwnedFd::from(theirs)).status().unwrap();
    assert_eq!(status.code(), Some(125));
    // No grace, no program.
    for args in [&["__supervise"][..], &["__supervise", "soon", "/usr/bin/true", "true"], &["__supervise", "100"]] {
        assert_eq!(Command::new(DOCKET).args(args).stdin(Stdio::null()).status().unwrap().code(), Some(125));
    }
    assert!(!marker.exists());
}

/// Collects what the runner records.
#[derive(Debug, Default)]
struct Ledger(Mutex<Vec<StepGroup>>);

#[async_trait]
impl ProcessLedger for Ledger {
    async fn started(&self, group: StepGroup) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(group);
        Ok(())
    }
}

#[tokio::test]
async fn the_runner_records_the_supervisor_as_leader_and_the_program_by_its_start_time() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let case = Case::new(Action::new(exec(&[&script("grandchild.sh"), &pid_file.display().to_string()])));
    let ledger = Ledger::default();
    let job = docket_app::StepJob { processes: Some(&ledger), ..case.job() };
    let cancel = CancellationToken::new();
    let log = Collect::default();
    let checks = async {
        let pids = read_pids(&pid_file).await;
        let recorded = ledger.0.lock().unwrap().clone();
        assert_eq!(recorded.len(), 1);
        let group = recorded[0];
        let program = u32::try_from(pids[0]).unwrap();
        assert_eq!(group.program.pid, program);
        assert_eq!(group_and_start(program), (group.pgid, group.program.started));
        assert_eq!(group.leader.pid, group.pgid, "the supervisor leads the group");
        assert_eq!(group_and_start(group.leader.pid), (group.pgid, group.leader.started));
        assert!(std::fs::read_link(format!("/proc/{}/exe", group.leader.pid)).unwrap().ends_with("docket"));
        cancel.cancel();
        pids
    };
    let runner = runner();
    let (outcome, pids) = tokio::join!(docket_app::StepRunner::run(&runner, job, &log, cancel.clone()), checks);
    assert_eq!(failure(&outcome).1, "cancelled; process group killed");
    assert_gone(&pids).await;
}

#[tokio::test]
async fn an_interrupt_is_for_the_program_and_the_supervisor_reports_how_it_ended() {
    // Terraform is stopped with SIGINT to its group: the supervisor in the group must outlive it.
    let argv = ["sleep".to_owned(), "1000".to_owned()];
    let env = std::collections::BTreeMap::from([("PATH".to_owned(), "/usr/bin:/bin".to_owned())]);
    let program = docket_process::Program {
        file: std::path::Path::new("/bin/sleep"),
        argv: &argv,
        env: &env,
        dir: None,
        user: None,
    };
    let how = docket_process::Launch::Supervised(DOCKET.into());
    let mut launched = docket_process::launch(&how, program, Duration::from_millis(300)).await.unwrap();
    assert_ne!(launched.identity.leader.pid, launched.identity.program.pid);
    assert!(launched.group.interrupt());
    let status = tokio::time::timeout(Duration::from_secs(5), launched.leader.wait()).await.unwrap().unwrap();
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(status.signal(), Some(2), "{status:?}");
    launched.group.kill();
    launched.leader.reap(Duration::from_secs(5)).await;
}
