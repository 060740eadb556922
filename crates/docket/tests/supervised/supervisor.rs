//! What only the supervisor does: it ends every group it started when the server dies (here a
//! real process, this test binary run again as a "server", killed with SIGKILL), a supervisor
//! killed on its own takes its steps with it and the next step gets a new one, it starts
//! nothing when misused, the runner records who is who in the group, one supervisor serves
//! every step of a server, several at once, and its programs start with no signal blocked and
//! none ignored, even when the server was started with some ignored.

use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use docket_app::{ProcessLedger, StepGroup, StoreError};
use docket_core::Action;
use docket_core::ticket::StepOutcome;
use tokio_util::sync::CancellationToken;

use crate::support::{Case, Collect, assert_gone, exec, failure, read_pids, runner, script};

const DOCKET: &str = env!("CARGO_BIN_EXE_docket");

/// Set when this test binary runs again as a "server" that starts one step and waits to be
/// killed; it names the file the step writes its pids to.
const SERVER_ROLE: &str = "DOCKET_TEST_SUPERVISED_SERVER";

/// `/proc/<pid>/stat` fields 4 (parent), 5 (process group) and 22 (start time).
fn parent_group_and_start(pid: u32) -> (u32, u32, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    (fields[1].parse().unwrap(), fields[2].parse().unwrap(), fields[19].parse().unwrap())
}

fn is_docket(pid: u32) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe.ends_with("docket"))
}

/// The "server": starts the stubborn script through a supervisor (300 ms grace) and waits to be
/// killed (30 s at most, so it never lingers).
fn be_the_server(pid_file: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let argv = [script("stubborn.sh"), pid_file.to_owned()];
        let env = std::collections::BTreeMap::from([("PATH".to_owned(), "/usr/bin:/bin".to_owned())]);
        let program = docket_process::Program {
            file: std::path::Path::new(&argv[0]),
            argv: &argv,
            env: &env,
            dir: None,
            user: None,
        };
        let how = docket_process::Launch::supervised(DOCKET);
        let _launched = docket_process::launch(&how, program, Duration::from_millis(300)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
}

#[test]
fn the_groups_die_when_the_server_dies_however_it_dies() {
    if let Some(pid_file) = std::env::var_os(SERVER_ROLE) {
        be_the_server(pid_file.to_str().unwrap());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let mut server = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "supervisor::the_groups_die_when_the_server_dies_however_it_dies", "--test-threads=1"])
        .env(SERVER_ROLE, &pid_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pids = tokio::runtime::Runtime::new().unwrap().block_on(read_pids(&pid_file));
    let program = u32::try_from(pids[0]).unwrap();
    let (supervisor, group, _) = parent_group_and_start(program);
    assert_eq!(group, program, "the program leads its own group");
    assert_ne!(supervisor, server.id(), "the program runs under the supervisor, not the server");
    assert!(is_docket(supervisor));
    // The script and its child ignore SIGTERM; both are in the program's group.
    for &pid in &pids {
        assert_eq!(parent_group_and_start(u32::try_from(pid).unwrap()).1, group);
    }

    // Taken first, so a slow kill or wait cannot shorten the time measured from it.
    let killed = Instant::now();
    server.kill().unwrap();
    server.wait().unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        while !pids.iter().all(|&p| crate::support::is_gone(p)) {
            assert!(killed.elapsed() < Duration::from_secs(3), "still running: {pids:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let took = killed.elapsed();
    assert!(took >= Duration::from_millis(250), "SIGKILL came before the grace: {took:?}");
    // And the supervisor, its work done, is gone too.
    let deadline = Instant::now() + Duration::from_secs(3);
    while std::fs::read_to_string(format!("/proc/{supervisor}/stat")).is_ok_and(|s| !s.contains(") Z")) {
        assert!(Instant::now() < deadline, "the supervisor outlived its groups");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test]
async fn a_supervisor_killed_on_its_own_takes_its_step_with_it_and_the_next_step_gets_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pids");
    let case = Case::new(Action::new(exec(&[&script("stubborn.sh"), &pid_file.display().to_string()])));
    let runner = runner().with_kill_grace(Duration::from_millis(300));
    let log = Collect::default();
    let killer = async {
        let pids = read_pids(&pid_file).await;
        let (supervisor, _, _) = parent_group_and_start(u32::try_from(pids[0]).unwrap());
        assert!(is_docket(supervisor));
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(supervisor.try_into().unwrap()), nix::sys::signal::SIGKILL)
            .unwrap();
        (pids, supervisor)
    };
    let run = docket_app::StepRunner::run(&runner, case.job(), &log, CancellationToken::new());
    let (outcome, (pids, first)) = tokio::join!(run, killer);
    let message = failure(&outcome).1;
    assert!(message.starts_with("could not wait for the process: the step supervisor ended"), "{message}");
    assert!(message.ends_with("process group killed"), "{message}");
    // Killed by the server at once, not after a grace: SIGTERM is ignored here.
    assert_gone(&pids).await;

    let next = Case::new(Action::new(exec(&["/bin/sh", "-c", "echo $PPID"])));
    let log = Collect::default();
    let outcome = docket_app::StepRunner::run(&runner, next.job(), &log, CancellationToken::new()).await;
    assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());
    let second: u32 = log.stdout()[0].parse().unwrap();
    assert_ne!(second, first, "a new supervisor");
    assert!(is_docket(second));
}

#[tokio::test]
async fn one_supervisor_serves_every_step_several_at_once() {
    let runner = runner();
    let case = Case::new(Action::new(exec(&["/bin/sh", "-c", "sleep 1; echo $PPID"])));
    let one = || async {
        let log = Collect::default();
        let outcome = docket_app::StepRunner::run(&runner, case.job(), &log, CancellationToken::new()).await;
        assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());
        log.stdout()[0].parse::<u32>().unwrap()
    };
    let started = Instant::now();
    let parents = tokio::join!(one(), one(), one(), one());
    assert_eq!([parents.1, parents.2, parents.3], [parents.0; 3]);
    // Side by side, not one after another (that would take 4 s).
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

/// The supervisor changes no signal handling a program inherits: nothing blocked, nothing
/// ignored that the server did not ignore.
#[tokio::test]
async fn a_program_starts_with_no_signal_blocked() {
    let runner = runner();
    let case = Case::new(Action::new(exec(&["/bin/grep", "^SigBlk", "/proc/self/status"])));
    let log = Collect::default();
    let outcome = docket_app::StepRunner::run(&runner, case.job(), &log, CancellationToken::new()).await;
    assert_eq!(outcome, StepOutcome::Succeeded, "{}", log.dump());
    assert_eq!(log.stdout(), ["SigBlk:\t0000000000000000"], "{}", log.dump());
}

#[test]
fn misused_it_starts_nothing() {
    use std::os::unix::process::CommandExt as _;
    // Stdin is not a socket.
    let status = Command::new(DOCKET).arg("__supervise").stdin(Stdio::null()).process_group(0).status().unwrap();
    assert_eq!(status.code(), Some(125));
    // A stream socket, not a packet one.
    let (_keep, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let status = Command::new(DOCKET).arg("__supervise").stdin(OwnedFd::from(theirs)).status().unwrap();
    assert_eq!(status.code(), Some(125));
    // Arguments (the supervisor of old took the program on its command line).
    let status = Command::new(DOCKET).args(["__supervise", "100", "/usr/bin/true", "true"]).status().unwrap();
    assert_eq!(status.code(), Some(125));
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
async fn the_runner_records_the_program_as_its_groups_leader_by_its_start_time() {
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
        assert_eq!(group.leader, group.program, "the program leads its group");
        let (supervisor, pgid, started) = parent_group_and_start(program);
        assert_eq!((pgid, started), (group.pgid, group.program.started));
        assert_eq!(group.pgid, program);
        assert!(is_docket(supervisor));
        assert_ne!(parent_group_and_start(supervisor).1, group.pgid, "the supervisor is not in the step's group");
        cancel.cancel();
        pids
    };
    let runner = runner();
    let (outcome, pids) = tokio::join!(docket_app::StepRunner::run(&runner, job, &log, cancel.clone()), checks);
    assert_eq!(failure(&outcome).1, "cancelled; process group killed");
    assert_gone(&pids).await;
}

/// `sleep 1000` started through the supervisor `supervisor` (300 ms grace).
async fn sleep_supervised(supervisor: impl Into<std::path::PathBuf>) -> docket_process::Launched {
    let argv = ["sleep".to_owned(), "1000".to_owned()];
    let env = std::collections::BTreeMap::from([("PATH".to_owned(), "/usr/bin:/bin".to_owned())]);
    let program = docket_process::Program {
        file: std::path::Path::new("/bin/sleep"),
        argv: &argv,
        env: &env,
        dir: None,
        user: None,
    };
    let how = docket_process::Launch::supervised(supervisor);
    docket_process::launch(&how, program, Duration::from_millis(300)).await.unwrap()
}

#[tokio::test]
async fn an_interrupt_reaches_the_program_and_how_it_ended_is_reported() {
    // Terraform is stopped with SIGINT to its group.
    let mut launched = sleep_supervised(DOCKET).await;
    assert_eq!(launched.identity.leader, launched.identity.program);
    assert!(launched.group.interrupt());
    let status = tokio::time::timeout(Duration::from_secs(5), launched.leader.wait()).await.unwrap().unwrap();
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(status.signal(), Some(2), "{status:?}");
    // Not reaped until released: the group's id stays the program's while it may be signalled.
    let pid = launched.identity.program.pid;
    assert!(std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap().contains(") Z "), "a zombie until released");
    launched.group.kill();
    let deadline = Instant::now() + Duration::from_secs(3);
    while std::fs::metadata(format!("/proc/{pid}")).is_ok() {
        assert!(Instant::now() < deadline, "never reaped after its release");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_program_can_be_interrupted_even_if_the_server_was_started_ignoring_interrupts() {
    // `nohup docket serve &` from a script starts the server with SIGINT, SIGQUIT and SIGHUP
    // ignored, and an ignored signal stays ignored through every `exec` below it: here the
    // supervisor is started the same way, through a shell that ignores them.
    let dir = tempfile::tempdir().unwrap();
    let ignoring = dir.path().join("ignoring-docket");
    std::fs::write(&ignoring, format!("#!/bin/sh\ntrap '' INT QUIT HUP\nexec {DOCKET} \"$@\"\n")).unwrap();
    std::fs::set_permissions(&ignoring, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut launched = sleep_supervised(ignoring.clone()).await;
    assert!(launched.group.interrupt());
    let ended = tokio::time::timeout(Duration::from_secs(5), launched.leader.wait()).await;
    launched.group.kill();
    let status = ended.expect("the interrupt was ignored").unwrap();
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(status.signal(), Some(2), "{status:?}");
}
