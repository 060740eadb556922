//! Benchmarks (filled below).
fn main() {}
