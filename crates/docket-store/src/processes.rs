//! The `step_processes` rows, shared by both backends: a record's columns in the order both
//! backends' statements bind them, and decoding a row back into a [`StepProcess`].

use docket_app::{Mode, ProcessId, ServerProcess, StepGroup, StepProcess, StoreError};

use crate::rows::{Columns, nanos, parse_time, ticket_id, time_text, to_unsigned};

/// A record's values, ready to bind.
#[derive(Debug)]
pub(crate) struct ProcessColumns {
    pub(crate) host: String,
    /// `pgid, leader_pid, leader_started, program_pid, program_started`.
    pub(crate) group: [i64; 5],
    pub(crate) boot: String,
    /// `server_pid, server_started`.
    pub(crate) server: [i64; 2],
    pub(crate) ticket: String,
    pub(crate) step: i64,
    pub(crate) mode: &'static str,
    pub(crate) recorded_at: String,
    pub(crate) recorded_ns: i64,
}

impl ProcessColumns {
    /// The row for `process`.
    pub(crate) fn new(process: &StepProcess) -> Result<Self, StoreError> {
        let g = &process.group;
        Ok(Self {
            host: process.server.host.clone(),
            group: [
                i64::from(g.pgid),
                i64::from(g.leader.pid),
                ticks(g.leader.started)?,
                i64::from(g.program.pid),
                ticks(g.program.started)?,
            ],
            boot: process.server.boot.clone(),
            server: [i64::from(process.server.process.pid), ticks(process.server.process.started)?],
            ticket: process.ticket.to_string(),
            step: i64::from(process.step),
            mode: process.mode.as_str(),
            recorded_at: time_text(process.recorded_at),
            recorded_ns: nanos(process.recorded_at),
        })
    }
}

/// The key a record is forgotten by: host, group id, and its leader's pid and start time.
pub(crate) fn key(group: &StepGroup) -> Result<[i64; 3], StoreError> {
    Ok([i64::from(group.pgid), i64::from(group.leader.pid), ticks(group.leader.started)?])
}

fn ticks(started: u64) -> Result<i64, StoreError> {
    crate::rows::to_i64(started, "process start time")
}

fn process(row: &impl Columns, pid: &str, started: &str) -> Result<ProcessId, StoreError> {
    Ok(ProcessId { pid: to_unsigned(row.int(pid)?, pid)?, started: to_unsigned(row.int(started)?, started)? })
}

/// Decodes a `step_processes` row.
pub(crate) fn step_process(row: &impl Columns) -> Result<StepProcess, StoreError> {
    let mode = row.text("mode")?;
    Ok(StepProcess {
        ticket: ticket_id(&row.text("ticket")?)?,
        step: to_unsigned(row.int("step")?, "step")?,
        mode: Mode::from_name(&mode).ok_or_else(|| StoreError::Corrupt(format!("unknown step mode `{mode}`")))?,
        group: StepGroup {
            pgid: to_unsigned(row.int("pgid")?, "pgid")?,
            leader: process(row, "leader_pid", "leader_started")?,
            program: process(row, "program_pid", "program_started")?,
        },
        server: ServerProcess {
            host: row.text("host")?,
            boot: row.text("boot")?,
            process: process(row, "server_pid", "server_started")?,
        },
        recorded_at: parse_time(&row.text("recorded_at")?, "recorded_at")?,
    })
}
