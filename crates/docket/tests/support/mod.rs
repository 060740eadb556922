//! Helpers the process-level tests share: a PostgreSQL database of their own, and what
//! `/proc` says about processes.

#![allow(dead_code, reason = "each test crate uses what it needs")]

pub(crate) mod postgres;
pub(crate) mod procs;
