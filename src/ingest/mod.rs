//! ingest: bytes -> [`PerfLog`]. Sniffs the format and encoding, tokenizes CSV/TSV, parses
//! counter paths and timestamps, maps localized names to canonical English and joins segments
//! of one collector run.

mod decode;
mod error;
mod header;
pub mod inspect;
mod log;
pub mod names;
mod path;
mod reader;
mod records;
mod segments;
pub mod source;

pub use error::IngestError;
pub use header::HeaderCell;
pub use log::{Column, CounterPath, LogFormat, PerfLog, SourceInfo};
pub use segments::join_segments;
pub use source::{expand_inputs, read_source, LogSource};

use std::path::Path;

/// Options that change how a log is read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Force a character encoding (an encoding_rs label such as `windows-1251`).
    pub encoding: Option<String>,
    /// Materialise every column, not only those the analysis needs (for `inspect`).
    pub all_columns: bool,
}

/// Reads one log file (plain or `.gz`), or fails with a message naming the file, line and column.
pub fn read_file(path: &Path, options: &ReadOptions) -> anyhow::Result<PerfLog> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| IngestError::io(&name, e))?;
    let len = file.metadata().ok().map(|m| m.len());
    Ok(reader::read_stream(&name, file, options, len)?)
}

/// Reads a log from bytes; `name` is used in messages and as `source.path`.
pub fn read_bytes(name: &str, bytes: &[u8], options: &ReadOptions) -> anyhow::Result<PerfLog> {
    Ok(reader::read_stream(
        name,
        bytes,
        options,
        Some(bytes.len() as u64),
    )?)
}

/// Reads a log from any byte stream (plain or gzip), without holding the whole input.
pub fn read_reader(
    name: &str,
    input: impl std::io::Read,
    options: &ReadOptions,
) -> Result<PerfLog, IngestError> {
    reader::read_stream(name, input, options, None)
}
