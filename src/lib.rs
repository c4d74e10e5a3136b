//! perfleak: offline analysis of Windows performance-monitor logs.
//!
//! The pipeline reads left to right, each stage a module with one job:
//! `ingest` (bytes -> [`ingest::PerfLog`]) -> `analysis` (log -> [`analysis::Finding`]s)
//! -> `kb` (findings -> ranked [`kb::KbMatch`]es) -> `report` (one [`report::Report`] -> files).
//! `batch` runs that pipeline over many inputs in parallel.
//!
//! The library takes plain option structs and returns values (reports, inspections, warnings,
//! exit decisions); it never prints. The command line (arguments, progress bars, what goes to the
//! terminal) is the binary's, in `src/cmd/`.

pub mod analysis;
pub mod batch;
mod data;
pub mod format;
pub mod ingest;
pub mod kb;
pub mod report;
pub mod vocab;

/// An error and its causes as one line, `outer: inner: innermost` (what a person reads).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
