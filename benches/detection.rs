//! Benchmark placeholder: detection.
fn main() {}
