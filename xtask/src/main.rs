//! Repository chores; `cargo test -p xtask` runs the tidy checks in `tests/tidy.rs`.
fn main() {}
