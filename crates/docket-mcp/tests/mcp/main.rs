//! The MCP server end to end: a real app, the endpoint on a loopback port, and rmcp's own
//! client over streamable HTTP (each protocol revision) and over stdio through `docket mcp`'s
//! proxy.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code: a panic is a failed test")]

mod endpoint;
mod scenario;
mod support;
