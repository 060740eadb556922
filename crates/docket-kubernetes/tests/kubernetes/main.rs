//! End-to-end tests of `kubernetes` steps through the app, against the test kit's fake
//! Kubernetes API server: plans that show current → target (per object, for `apply`), policies
//! on the plan's counts, runs that follow the rollout of Deployments, StatefulSets and
//! DaemonSets, failures in the cluster's own words, and cancel mid-rollout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod apply;
mod config;
mod in_cluster;
mod restart_kinds;
mod restart_rollback;
mod set_image;
mod support;
