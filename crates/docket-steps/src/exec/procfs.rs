//! What Linux says about processes in `/proc`: a process's state, process group and start
//! time (`/proc/<pid>/stat`), the members of a process group, the host's name and its boot.

use std::path::Path;

use docket_app::ProcessId;

/// The fields of `/proc/<pid>/stat` Docket reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stat {
    /// Field 3: `R`, `S`, `D`, `Z` (a zombie: dead, not yet reaped), …
    pub(crate) state: char,
    /// Field 5: the process group.
    pub(crate) pgrp: u32,
    /// Field 22: when it started, in clock ticks since boot.
    pub(crate) started: u64,
}

impl Stat {
    /// Whether it still runs code: a zombie (or a dead task still listed) does not.
    pub(crate) fn alive(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Reads `/proc/<pid>/stat`; `None` if there is no such process (or it cannot be read).
pub(crate) fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Parses a `stat` line. The command name (field 2) is in parentheses and may itself hold
/// spaces and parentheses, so the fields are counted from the last `)`.
pub(crate) fn parse_stat(line: &str) -> Option<Stat> {
    let (_, rest) = line.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let pgrp = fields.get(2)?.parse().ok()?;
    let started = fields.get(19)?.parse().ok()?;
    Some(Stat { state, pgrp, started })
}

/// When process `pid` started, in clock ticks since boot.
pub(crate) fn started(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.started)
}

/// Whether `process` still runs: a live process with its pid that started when it did.
pub(crate) fn is_running(process: ProcessId) -> bool {
    stat(process.pid).is_some_and(|s| s.alive() && s.started == process.started)
}

/// Whether `process` still runs and is a member of group `pgid`.
pub(crate) fn runs_in_group(process: ProcessId, pgid: u32) -> bool {
    stat(process.pid).is_some_and(|s| s.alive() && s.started == process.started && s.pgrp == pgid)
}

/// The processes of group `pgid` that still run (zombies left out: they run no code, and on a
/// host whose init does not reap orphans they stay listed for good).
pub(crate) fn live_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| stat(pid).is_some_and(|s| s.pgrp == pgid && s.alive()))
        .collect()
}

/// The host's name, as the kernel has it.
pub(crate) fn host_name() -> std::io::Result<String> {
    read_trimmed(Path::new("/proc/sys/kernel/hostname"))
}

/// This boot's random id: processes recorded under another boot cannot still run.
pub(crate) fn boot_id() -> std::io::Result<String> {
    read_trimmed(Path::new("/proc/sys/kernel/random/boot_id"))
}

fn read_trimmed(path: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = "4242 (a (weird) name) S 1 4240 4240 0 -1 4194560 90 0 0 0 0 0 0 0 20 0 1 0 186876 3133440 \
                    359 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";
        assert_eq!(parse_stat(line), Some(Stat { state: 'S', pgrp: 4240, started: 186_876 }));
        assert_eq!(parse_stat("12 (x) Z 1"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_running_and_a_changed_start_time_is_not_it() {
        let me = std::process::id();
        let started = started(me).unwrap();
        assert!(is_running(ProcessId { pid: me, started }));
        assert!(!is_running(ProcessId { pid: me, started: started + 1 }));
        let pgrp = stat(me).unwrap().pgrp;
        assert!(runs_in_group(ProcessId { pid: me, started }, pgrp));
        assert!(live_members(pgrp).contains(&me));
        assert!(!host_name().unwrap().is_empty());
        assert_eq!(boot_id().unwrap().len(), 36);
    }
}
