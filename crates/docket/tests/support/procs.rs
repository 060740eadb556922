//! Processes as `/proc` shows them: alive (a zombie is not: it runs no code, and on a host
//! whose init does not reap orphans it stays listed), their process group, and waiting for
//! them to be gone.

use std::time::{Duration, Instant};

/// Field 3 (state) and field 5 (process group) of `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(char, u32)> {
    let fields = fields(pid)?;
    Some((fields.first()?.chars().next()?, fields.get(2)?.parse().ok()?))
}

/// The fields of `/proc/<pid>/stat` after the command name (field 3 first).
fn fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(stat.rsplit_once(')')?.1.split_whitespace().map(str::to_owned).collect())
}

/// The parent of `pid` (field 4).
pub(crate) fn parent_of(pid: u32) -> Option<u32> {
    fields(pid)?.get(1)?.parse().ok()
}

/// Whether `pid` is a process that still runs.
pub(crate) fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(state, _)| !matches!(state, 'Z' | 'X'))
}

/// The process group of `pid`.
pub(crate) fn group_of(pid: u32) -> Option<u32> {
    stat(pid).map(|(_, group)| group)
}

/// Sends SIGKILL to `pid` (one this test started, or one its server started).
pub(crate) fn sigkill(pid: u32) {
    let status = std::process::Command::new("/bin/kill").args(["-KILL", &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill -KILL {pid}");
}

/// Asserts that every pid is gone within `limit`.
pub(crate) fn assert_gone_within(pids: &[u32], limit: Duration) {
    let start = Instant::now();
    while pids.iter().any(|&p| alive(p)) {
        assert!(start.elapsed() < limit, "still running after {limit:?}: {pids:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
