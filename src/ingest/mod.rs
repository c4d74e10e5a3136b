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
mod sanity;
mod segments;
mod series;
pub mod source;

pub use error::IngestError;
pub use header::HeaderCell;
pub use log::{Column, CounterPath, LogFormat, PerfLog, SourceInfo};
pub use segments::join_segments;
pub use series::Series;
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
    let mut file = std::fs::File::open(path).map_err(|e| IngestError::io(&name, e))?;
    let len = file.metadata().ok().map(|m| m.len());
    let inflated = len.and_then(|len| gzip_inflated_len(&mut file, len));
    // Back to the start, whatever the trailer look-up read.
    std::io::Seek::rewind(&mut file).map_err(|e| IngestError::io(&name, e))?;
    Ok(reader::read_stream(&name, file, options, len, inflated)?)
}

/// Reads a log from bytes; `name` is used in messages and as `source.path`.
pub fn read_bytes(name: &str, bytes: &[u8], options: &ReadOptions) -> anyhow::Result<PerfLog> {
    Ok(reader::read_stream(
        name,
        bytes,
        options,
        Some(bytes.len() as u64),
        None,
    )?)
}

/// Reads a log from any byte stream (plain or gzip), without holding the whole input.
pub fn read_reader(
    name: &str,
    input: impl std::io::Read,
    options: &ReadOptions,
) -> Result<PerfLog, IngestError> {
    reader::read_stream(name, input, options, None, None)
}

/// Uncompressed length of a gzip file from its trailer (ISIZE: the last member's length modulo
/// 4 GiB), when that is plausible for text: at least the compressed length. It only sizes the
/// columns; a wrong value costs a reallocation, not a wrong result.
fn gzip_inflated_len(file: &mut std::fs::File, len: u64) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    if len < 18 {
        return None;
    }
    let mut magic = [0u8; 2];
    file.read_exact(&mut magic).ok()?;
    if magic != [0x1f, 0x8b] {
        return None;
    }
    file.seek(SeekFrom::End(-4)).ok()?;
    let mut isize = [0u8; 4];
    file.read_exact(&mut isize).ok()?;
    let inflated = u64::from(u32::from_le_bytes(isize));
    (inflated >= len).then_some(inflated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_trailer_gives_the_inflated_length() {
        let dir = tempfile::tempdir().unwrap();
        let text = "\"(PDH-CSV 4.0)\",\"\\\\\\\\S\\\\Process(a)\\\\Handle Count\"\n".repeat(500);
        let gz = dir.path().join("log.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let len = std::fs::metadata(&gz).unwrap().len();
        let mut file = std::fs::File::open(&gz).unwrap();
        assert_eq!(gzip_inflated_len(&mut file, len), Some(text.len() as u64));
        let plain = dir.path().join("log.csv");
        std::fs::write(&plain, &text).unwrap();
        let mut file = std::fs::File::open(&plain).unwrap();
        assert_eq!(gzip_inflated_len(&mut file, text.len() as u64), None);
    }

    #[test]
    fn a_gzipped_log_reads_like_the_plain_one() {
        // The trailer look-up must leave the file at its start.
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
