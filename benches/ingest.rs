//! Benchmark placeholder: ingest.
fn main() {}
