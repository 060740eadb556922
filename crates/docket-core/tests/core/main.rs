//! Integration tests of docket-core: transitions, properties, policies, parameters, audit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod agents;
mod audit;
mod conditions;
mod fixtures;
mod matcher;
mod params;
mod plans;
mod policy;
mod properties;
mod robustness;
mod systems;
mod transitions;
