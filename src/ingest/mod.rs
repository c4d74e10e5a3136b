//! ingest: bytes -> [`PerfLog`]. Sniffs the format and encoding, tokenizes CSV/TSV, parses
//! counter paths and timestamps, maps localized names to canonical English and joins segments
//! of one collector run.

pub mod blg;
mod blocks;
pub mod budget;
mod cells;
pub mod convert;
mod decode;
mod delimiter;
mod error;
mod header;
pub mod inspect;
mod log;
pub mod names;
mod path;
mod piece;
mod reader;
mod records;
mod sanity;
mod segments;
mod series;
mod sniff;
pub mod source;
mod stamps;
mod timeline;
mod warn;

pub use error::IngestError;
pub use header::HeaderCell;
pub use log::{Column, CounterPath, LogFormat, PerfLog, SourceInfo};
pub use segments::join_segments;
pub use series::Series;
pub use source::{expand_inputs, read_source, LogSource};
pub use stamps::DateOrder;

use std::path::Path;

/// Options that change how a log is read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Force a character encoding (an encoding_rs label such as `windows-1251`).
    pub encoding: Option<String>,
    /// Materialise every column, not only those the analysis needs (for `inspect`).
    pub all_columns: bool,
    /// Where the day stands in slashed dates; `None` decides it from the timestamps.
    pub date_order: Option<DateOrder>,
}

/// Reads one log file (plain or `.gz`), or fails with a message naming the file, line and column.
/// A named pipe, `<(…)` or a device is read as a stream: no seek, no length.
pub fn read_file(path: &Path, options: &ReadOptions) -> Result<PerfLog, IngestError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| IngestError::io(&name, e))?;
    sniff::read_plain_file(&name, file, options)
}

/// Reads a log from bytes; `name` is used in messages and as `source.path`.
pub fn read_bytes(name: &str, bytes: &[u8], options: &ReadOptions) -> Result<PerfLog, IngestError> {
    sniff::read_in_memory(name, bytes, options)
}

/// Reads a log from any byte stream (plain or gzip), without holding the whole input.
pub fn read_reader(
    name: &str,
    input: impl std::io::Read,
    options: &ReadOptions,
) -> Result<PerfLog, IngestError> {
    sniff::read_stream(name, input, options, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_gzipped_log_reads_like_the_plain_one() {
        let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/healthy-server.csv");
        let text = std::fs::read(sample).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("healthy.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&text).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let options = ReadOptions::default();
        let plain = read_file(Path::new(sample), &options).unwrap();
        let zipped = read_file(&gz, &options).unwrap();
        assert_eq!(zipped.timestamps, plain.timestamps);
        assert_eq!(zipped.columns.len(), plain.columns.len());
        assert!(zipped
            .columns
            .iter()
            .zip(&plain.columns)
            .all(|(a, b)| a.values.len() == b.values.len()));
    }
}
