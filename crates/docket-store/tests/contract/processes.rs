//! Step process records: each running step's process group per host, replaced when its group
//! id is reused, forgotten only by the group it names, and kept across a reopen (a restarted
//! server reads what its predecessor recorded).

use docket_app::{EndOfStep, Mode, ProcessId, ServerProcess, StepGroup, StepProcess};

use crate::fixtures::*;
use crate::harness::Harness;

fn server(host: &str, pid: u32) -> ServerProcess {
    ServerProcess { host: host.to_owned(), boot: "boot-1".to_owned(), process: ProcessId { pid, started: 1_000 } }
}

/// Ticket `number`'s step `step`, in group `pgid` (led by its supervisor, pid `pgid`, started
/// at a tick that differs with `minute`), recorded at `minute`.
fn running(host: &str, pgid: u32, number: u64, step: u32, minute: i64) -> StepProcess {
    StepProcess {
        ticket: id(number),
        step,
        mode: Mode::Run,
        group: StepGroup {
            pgid,
            leader: ProcessId { pid: pgid, started: 5_000 + minute.unsigned_abs() },
            // Start times beyond 32 bits: a host up for more than a year at 100 ticks a second.
            program: ProcessId { pid: pgid + 1, started: u64::from(u32::MAX) + 7 },
        },
        server: server(host, 900),
        recorded_at: at(minute),
    }
}

pub(crate) async fn step_processes_are_recorded_per_host_and_forgotten(h: &Harness) {
    let store = h.store();
    assert!(store.processes_on("alpha").await.unwrap().is_empty());
    let first = running("alpha", 4_100, 1, 0, 2);
    let second = StepProcess { mode: Mode::Plan, ..running("alpha", 4_200, 2, 3, 1) };
    let elsewhere = running("beta", 4_100, 3, 0, 0);
    for record in [&first, &second, &elsewhere] {
        store.record_process(record).await.unwrap();
    }
    // Oldest first, every field as written; another host's records are its own.
    assert_eq!(store.processes_on("alpha").await.unwrap(), [second.clone(), first.clone()]);
    assert_eq!(store.processes_on("beta").await.unwrap(), std::slice::from_ref(&elsewhere));

    // A group id reused on the same host: its group had ended, so the new record replaces it.
    let reused = running("alpha", 4_100, 4, 1, 3);
    store.record_process(&reused).await.unwrap();
    assert_eq!(store.processes_on("alpha").await.unwrap(), [second.clone(), reused.clone()]);

    // Forgetting names the group by its leader: a late call for the ended group leaves the new one.
    store.forget_process("alpha", &first.group).await.unwrap();
    assert_eq!(store.processes_on("alpha").await.unwrap().len(), 2);
    store.forget_process("alpha", &reused.group).await.unwrap();
    store.forget_process("beta", &second.group).await.unwrap();
    assert_eq!(store.processes_on("alpha").await.unwrap(), std::slice::from_ref(&second));
    assert_eq!(store.processes_on("beta").await.unwrap(), [elsewhere]);

    // A restarted server reads what its predecessor recorded.
    let reopened = h.reopen().await;
    assert_eq!(reopened.processes_on("alpha").await.unwrap(), [second]);
}

/// The commit of a step's end drops its group's record (only that group's), with its lines.
pub(crate) async fn a_step_end_commit_drops_its_process_record(h: &Harness) {
    let store = h.store();
    let tk = Tk::open(store, 1, "deploy-service", "alice").await;
    let ended = running("alpha", 4_100, 1, 0, 2);
    let other = running("alpha", 4_200, 2, 0, 3);
    for record in [&ended, &other] {
        store.record_process(record).await.unwrap();
    }
    let end = EndOfStep { lines: &[], ended: Some(("alpha", &ended.group)) };
    store.commit_end_of_step(tk.change(vec![comment("bob", "done", at(4))], at(4)), end).await.unwrap();
    assert_eq!(store.processes_on("alpha").await.unwrap(), [other]);
    assert_eq!(store.ticket(tk.id()).await.unwrap().unwrap().version, tk.version + 1);
}
