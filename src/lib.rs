//! perfleak: offline analysis of Windows performance-monitor logs.
//!
//! The pipeline reads left to right, each stage a module with one job:
//! `ingest` (bytes -> [`ingest::PerfLog`]) -> `analysis` (log -> [`analysis::Finding`]s)
//! -> `kb` (findings -> ranked [`kb::KbMatch`]es) -> `report` (one [`report::Report`] -> files).
//! `batch` runs that pipeline over many inputs in parallel; `synth` writes labelled synthetic
//! logs for the samples, the tests and the detection benchmark.

pub mod analysis;
pub mod batch;
pub mod cli;
mod data;
pub mod format;
pub mod ingest;
pub mod kb;
pub mod report;
pub mod synth;
pub mod vocab;
