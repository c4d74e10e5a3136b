//! The streaming PDH-CSV/TSV reader: one pass over the decoded text, keeping only the columns
//! the analysis needs, building the monotonic timeline and collecting warnings that name the
//! file, line and column of every oddity.

use std::io::{Cursor, Read};

use chrono::{NaiveDate, NaiveDateTime};
use encoding_rs::{Encoding, UTF_8};
use flate2::read::MultiGzDecoder;

use super::decode::{self, Utf8Transcoder};
use super::error::IngestError;
use super::header::HeaderCell;
use super::log::{Column, CounterPath, LogFormat, PerfLog, SourceInfo};
use super::ReadOptions;

const SNIFF_LEN: usize = 64 * 1024;
/// Individual warnings of one kind listed before they are only counted.
const MAX_LISTED: usize = 10;
/// The first bytes of every binary perfmon log in the sample set.
const BLG_MAGIC: [u8; 4] = [0, 0, 1, 0];

/// Reads a whole log from a byte stream (plain or gzip), decoding and parsing as it goes.
pub fn read_stream<'a>(
    name: &str,
    mut input: impl Read + 'a,
    options: &ReadOptions,
) -> Result<PerfLog, IngestError> {
    let prefix = read_prefix(name, &mut input)?;
    if prefix.is_empty() {
        return Err(IngestError::Empty {
            file: name.to_string(),
        });
    }
    if prefix.starts_with(&[0x1f, 0x8b]) {
        // Boxed so that gzip inside gzip does not instantiate ever deeper reader types.
        let gz: Box<dyn Read + 'a> =
            Box::new(MultiGzDecoder::new(Cursor::new(prefix).chain(input)));
        return read_stream(name, gz, options);
    }
    if prefix.starts_with(b"PK\x03\x04") {
        return Err(IngestError::Archive {
            file: name.to_string(),
            message: "is a zip archive; give it as an input and its entries are read".into(),
        });
    }
    if prefix.starts_with(&BLG_MAGIC) {
        return Err(IngestError::Blg {
            file: name.to_string(),
        });
    }

    let forced = match &options.encoding {
        Some(label) => Some(Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            IngestError::UnknownEncoding {
                file: name.to_string(),
                label: label.clone(),
            }
        })?),
        None => None,
    };
    let sniffed = decode::sniff(&prefix, forced);
    let (head_text, _) = sniffed
        .encoding
        .decode_without_bom_handling(&prefix[sniffed.bom_len..]);
    if let Some(offset) = binary_offset(&head_text) {
        // Older BLG layouts have other magic numbers; a binary file named .blg is one of them.
        // (A text log that was merely named .blg, as some collectors do, reads normally.)
        if name.to_ascii_lowercase().ends_with(".blg") {
            return Err(IngestError::Blg {
                file: name.to_string(),
            });
        }
        return Err(IngestError::Binary {
            file: name.to_string(),
            offset,
        });
    }
    let first_line = head_text.lines().next().unwrap_or("");
    let format = if first_line.contains('\t') {
        LogFormat::PdhTsv
    } else {
        LogFormat::PdhCsv
    };

    let body = Cursor::new(prefix[sniffed.bom_len..].to_vec()).chain(input);
    let text: Box<dyn Read + 'a> = if sniffed.encoding == UTF_8 {
        Box::new(body)
    } else {
        Box::new(Utf8Transcoder::new(body, sniffed.encoding))
    };
    parse(name, text, format, sniffed.encoding.name(), options)
}

fn read_prefix(name: &str, input: &mut impl Read) -> Result<Vec<u8>, IngestError> {
    let mut prefix = vec![0u8; SNIFF_LEN];
    let mut filled = 0;
    while filled < prefix.len() {
        match input.read(&mut prefix[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(IngestError::io(name, e)),
        }
    }
    prefix.truncate(filled);
    Ok(prefix)
}

/// Byte offset of the first run of control characters that text logs never contain.
fn binary_offset(text: &str) -> Option<usize> {
    let mut suspicious = 0;
    for (offset, ch) in text.char_indices().take(8192) {
        if (ch.is_control() && !matches!(ch, '\t' | '\r' | '\n')) || ch == '\u{FFFD}' {
            suspicious += 1;
            if suspicious >= 4 {
                return Some(offset);
            }
        }
    }
    None
}

struct Warnings {
    file: String,
    list: Vec<String>,
    non_numeric: usize,
    duplicate_times: usize,
}

impl Warnings {
    fn at(&mut self, line: u64, column: usize, message: impl std::fmt::Display) {
        self.list.push(format!(
            "{}: line {line}, column {column}: {message}",
            self.file
        ));
    }
}

fn parse(
    name: &str,
    text: Box<dyn Read + '_>,
    format: LogFormat,
    encoding: &str,
    options: &ReadOptions,
) -> Result<PerfLog, IngestError> {
    let delimiter = match format {
        LogFormat::PdhCsv => b',',
        LogFormat::PdhTsv => b'\t',
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(1 << 20)
        .from_reader(text);
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        IngestError::format(name, line, 1, e.to_string())
    };

    let mut record = csv::ByteRecord::new();
    if !csv.read_byte_record(&mut record).map_err(csv_error)? {
        return Err(IngestError::Empty {
            file: name.to_string(),
        });
    }
    let mut warnings = Warnings {
        file: name.to_string(),
        list: Vec::new(),
        non_numeric: 0,
        duplicate_times: 0,
    };
    // PDH cells never hold line breaks, so the n-th record is on line n; csv's own record
    // positions lag one line behind the record they label.
    let header_line = 1u64;
    let mut line = header_line;
    let header: Vec<String> = record
        .iter()
        .map(|cell| String::from_utf8_lossy(cell).into_owned())
        .collect();
    let width = header.len();
    if width < 2 {
        return Err(IngestError::format(
            name,
            header_line,
            1,
            "the header has no counter columns (is this a perfmon CSV/TSV log?)",
        ));
    }
    let cell = HeaderCell::parse(&header[0]);

    let mut all_paths = Vec::with_capacity(width - 1);
    let mut parsed_any = false;
    for (i, raw) in header.iter().enumerate().skip(1) {
        match CounterPath::parse(raw) {
            Ok(path) => {
                parsed_any = true;
                all_paths.push(path);
            }
            Err(message) => {
                warnings.at(header_line, i + 1, message);
                all_paths.push(CounterPath {
                    machine: None,
                    object: raw.clone(),
                    parent: None,
                    instance: None,
                    index: None,
                    counter: raw.clone(),
                    original_object: raw.clone(),
                    original_counter: raw.clone(),
                });
            }
        }
    }
    if !parsed_any {
        return Err(IngestError::format(
            name,
            header_line,
            2,
            "no header cell is a counter path like \\\\MACHINE\\Object(Instance)\\Counter: not a perfmon log",
        ));
    }

    // Column index in the file (1-based field position - 1) -> materialised column.
    let mut selected: Vec<(usize, Column)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, path) in all_paths.iter().enumerate() {
        let key = header[i + 1].trim().to_lowercase();
        if !seen.insert(key) {
            warnings.at(
                header_line,
                i + 2,
                format_args!(
                    "duplicate column '{}': the first one is used",
                    header[i + 1]
                ),
            );
            continue;
        }
        if options.all_columns || path.is_needed_by_analysis() {
            selected.push((
                i + 1,
                Column {
                    path: path.clone(),
                    values: Vec::new(),
                },
            ));
        }
    }

    let mut timestamps: Vec<NaiveDateTime> = Vec::new();
    let mut timeline = Timeline::default();
    let mut short_row: Option<(u64, usize)> = None;
    while csv.read_byte_record(&mut record).map_err(csv_error)? {
        line += 1;
        if let Some((short_line, len)) = short_row.take() {
            warnings.at(
                short_line,
                len,
                format_args!("row has {len} of {width} fields; row skipped"),
            );
        }
        if record.len() < width {
            short_row = Some((line, record.len()));
            continue;
        }
        if record.len() > width {
            warnings.at(
                line,
                width + 1,
                format_args!(
                    "row has {} fields, the header {width}; row skipped",
                    record.len()
                ),
            );
            continue;
        }
        let stamp_cell = &record[0];
        let Some(stamp) = parse_timestamp(stamp_cell) else {
            return Err(IngestError::format(
                name,
                line,
                1,
                format!(
                    "'{}' is not a timestamp like 10/09/2022 18:35:28.403",
                    String::from_utf8_lossy(stamp_cell)
                ),
            ));
        };
        timeline.push(stamp, line, &mut warnings);
        timestamps.push(stamp);
        for (index, column) in selected.iter_mut() {
            let cell = &record[*index];
            let value = match parse_value(cell) {
                Some(v) => v,
                None => {
                    warnings.non_numeric += 1;
                    if warnings.non_numeric <= MAX_LISTED {
                        warnings.at(
                            line,
                            *index + 1,
                            format_args!(
                                "'{}' is not a number; read as no value",
                                String::from_utf8_lossy(cell)
                            ),
                        );
                    }
                    f64::NAN
                }
            };
            column.values.push(value);
        }
    }
    if let Some((line, len)) = short_row {
        warnings.at(
            line,
            len,
            format_args!("last line is cut short ({len} of {width} fields); row dropped"),
        );
    }
    if timestamps.is_empty() {
        return Err(IngestError::HeaderOnly {
            file: name.to_string(),
        });
    }
    if warnings.non_numeric > MAX_LISTED {
        let more = warnings.non_numeric - MAX_LISTED;
        warnings.list.push(format!(
            "{name}: {more} more non-numeric cells read as no value"
        ));
    }
    if warnings.duplicate_times > MAX_LISTED {
        let more = warnings.duplicate_times - MAX_LISTED;
        warnings
            .list
            .push(format!("{name}: {more} more repeated timestamps"));
    }

    Ok(PerfLog {
        source: SourceInfo {
            path: name.to_string(),
            format,
            encoding: encoding.to_string(),
            time_zone: cell.time_zone.clone(),
            utc_offset_minutes: cell.utc_offset_minutes(),
            segments: vec![name.to_string()],
        },
        timestamps,
        elapsed_seconds: timeline.elapsed,
        columns: selected.into_iter().map(|(_, c)| c).collect(),
        all_paths,
        warnings: warnings.list,
    })
}

/// Builds `elapsed_seconds` as samples arrive. Local time may repeat or jump back an hour when
/// daylight saving ends; the timeline keeps moving forward and every repair is reported.
#[derive(Default)]
struct Timeline {
    elapsed: Vec<f64>,
    previous: Option<NaiveDateTime>,
    /// The last forward step, the best guess of the sampling interval.
    typical_step: Option<f64>,
}

impl Timeline {
    fn push(&mut self, stamp: NaiveDateTime, line: u64, warnings: &mut Warnings) {
        let Some(prev) = self.previous.replace(stamp) else {
            self.elapsed.push(0.0);
            return;
        };
        let last = self.elapsed.last().copied().unwrap_or(0.0);
        let step = (stamp - prev).num_milliseconds() as f64 / 1000.0;
        let advance = if step > 0.0 {
            self.typical_step = Some(step);
            step
        } else if step == 0.0 {
            warnings.duplicate_times += 1;
            if warnings.duplicate_times <= MAX_LISTED {
                warnings.at(
                    line,
                    1,
                    format_args!("timestamp {stamp} repeats the previous one"),
                );
            }
            0.0
        } else {
            let after_fall_back = step + 3600.0;
            let limit = self.typical_step.map_or(900.0, |t| (3.0 * t).max(2.0));
            if after_fall_back > 0.0 && after_fall_back <= limit {
                warnings.at(
                    line,
                    1,
                    format_args!(
                        "clock goes back from {prev} to {stamp} (daylight saving ends?); \
                         counted as {after_fall_back:.3} s after the previous sample"
                    ),
                );
                after_fall_back
            } else {
                let assumed = self.typical_step.unwrap_or(0.0);
                warnings.at(
                    line,
                    1,
                    format_args!(
                        "timestamp goes back {:.3} s (from {prev} to {stamp}); \
                         counted as {assumed:.3} s after the previous sample",
                        -step
                    ),
                );
                assumed
            }
        };
        self.elapsed.push(last + advance);
    }
}

/// `MM/DD/YYYY HH:MM:SS[.fff]`, the only timestamp layout PDH writes whatever the locale.
pub(crate) fn parse_timestamp(cell: &[u8]) -> Option<NaiveDateTime> {
    let s = std::str::from_utf8(cell).ok()?.trim();
    let (date, time) = s.split_once(' ')?;
    let mut d = date.split('/');
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    let year: i32 = d.next()?.parse().ok()?;
    if d.next().is_some() {
        return None;
    }
    let (hms, fraction) = match time.trim().split_once('.') {
        Some((hms, f)) => (hms, f),
        None => (time.trim(), ""),
    };
    let mut t = hms.split(':');
    let hour: u32 = t.next()?.parse().ok()?;
    let minute: u32 = t.next()?.parse().ok()?;
    let second: u32 = t.next()?.parse().ok()?;
    if t.next().is_some() {
        return None;
    }
    let nanos = if fraction.is_empty() {
        0
    } else {
        if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: u32 = fraction.parse().ok()?;
        digits * 10u32.pow(9 - fraction.len() as u32)
    };
    NaiveDate::from_ymd_opt(year, month, day)?.and_hms_nano_opt(hour, minute, second, nanos)
}

/// A cell's number; blank (`" "` or empty) is `NaN`, anything else unparseable is `None`.
fn parse_value(cell: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(cell).ok()?.trim();
    if s.is_empty() {
        return Some(f64::NAN);
    }
    s.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let t = parse_timestamp(b"10/09/2022 18:35:28.403").unwrap();
        assert_eq!(t.to_string(), "2022-10-09 18:35:28.403");
        assert!(parse_timestamp(b"05/29/2008 11:36:51").is_some());
        assert!(parse_timestamp(b"2022-10-09 18:35").is_none());
        assert!(parse_timestamp(b"13/40/2022 18:35:28.403").is_none());
    }

    #[test]
    fn values() {
        assert_eq!(parse_value(b"1.5e-005"), Some(1.5e-5));
        assert!(parse_value(b" ").unwrap().is_nan());
        assert_eq!(parse_value(b"abc"), None);
    }
}
