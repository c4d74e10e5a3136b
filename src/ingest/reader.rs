//! The streaming PDH-CSV/TSV reader: one pass over the decoded text, keeping only the columns
//! the analysis needs, building the monotonic timeline and collecting warnings that name the
//! file, line and column of every oddity.

use std::io::{Cursor, Read};

use chrono::NaiveDateTime;
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};
use flate2::read::MultiGzDecoder;

use super::budget::{Budget, MAX_NESTING};
use super::decode::{self, Utf8Transcoder};
use super::delimiter;
use super::error::IngestError;
use super::header::HeaderCell;
use super::log::{Column, CounterPath, LogFormat, PerfLog, SourceInfo};
use super::records;
use super::series::{self, Series};
use super::stamps::{self, parse_timestamp, DateOrder, STAMP_EXAMPLE};
use super::ReadOptions;

const SNIFF_LEN: usize = 64 * 1024;
/// Individual warnings of one kind listed before they are only counted.
const MAX_LISTED: usize = 10;
/// Characters of a cell quoted in a message.
const SHOWN_CHARS: usize = 40;
/// Rows without a timestamp are skipped (a crashed collector's zeros, a corrupt line) while they
/// are at most this share of the rows; more, and the file is not read as a log.
const MAX_BAD_STAMP_SHARE: f64 = 0.1;
/// The first bytes of every binary perfmon log in the sample set.
const BLG_MAGIC: [u8; 4] = [0, 0, 1, 0];

/// Reads a whole log from a byte stream (plain or gzip), decoding and parsing as it goes.
/// `input_len`, the stream's length when known, lets the columns be sized once.
pub fn read_stream<'a>(
    name: &str,
    input: impl Read + 'a,
    options: &ReadOptions,
    input_len: Option<u64>,
) -> Result<PerfLog, IngestError> {
    let budget = Budget::new();
    read_stream_in(
        name,
        budget.count_raw(input),
        options,
        input_len,
        &budget,
        0,
    )
}

/// Reads a log from `input`, which `depth` archive layers around it have already decoded, all
/// held to `budget`. `input_len` is a length the text has at least (a compressed length:
/// never a size an archive claims), used only to size buffers.
pub fn read_stream_in<'a>(
    name: &str,
    mut input: impl Read + 'a,
    options: &ReadOptions,
    input_len: Option<u64>,
    budget: &Budget,
    depth: usize,
) -> Result<PerfLog, IngestError> {
    let prefix = read_prefix(name, &mut input)?;
    if prefix.is_empty() {
        return Err(IngestError::Empty {
            file: name.to_string(),
        });
    }
    if prefix.starts_with(&[0x1f, 0x8b]) {
        if depth >= MAX_NESTING {
            return Err(IngestError::Archive {
                file: name.to_string(),
                message: format!(
                    "refused, archives are nested more than {MAX_NESTING} deep (a gzip in a gzip ...)"
                ),
            });
        }
        // Boxed so that gzip inside gzip does not instantiate ever deeper reader types.
        let gz: Box<dyn Read + 'a> = Box::new(
            budget.limit_decoded(name, MultiGzDecoder::new(Cursor::new(prefix).chain(input))),
        );
        return read_stream_in(name, gz, options, input_len, budget, depth + 1);
    }
    if is_zip_magic(&prefix) {
        // Reached as a stream (standard input, inside a gzip or another archive): a zip is read
        // from its directory at the end, which needs the file itself.
        return Err(IngestError::Archive {
            file: name.to_string(),
            message: "is a zip archive, which is read only from a file given by name: give its file name, or extract it".into(),
        });
    }
    if prefix.starts_with(&BLG_MAGIC) {
        if super::blg::looks_like_etw(&prefix) {
            let body = Cursor::new(prefix).chain(input);
            return super::blg::read_log(name, body, options.all_columns)
                .map(super::sanity::checked);
        }
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
    let mut prefix = prefix;
    if !decode::decided_by_prefix(&prefix, forced) {
        extend_to_header_end(name, &mut input, &mut prefix)?;
    }
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
    let format = delimiter::sniff_format(&head_text);

    let body = Cursor::new(prefix[sniffed.bom_len..].to_vec()).chain(input);
    let text: Box<dyn Read + 'a> = if sniffed.encoding == UTF_8 {
        Box::new(body)
    } else {
        Box::new(Utf8Transcoder::new(body, sniffed.encoding))
    };
    // UTF-16 takes two bytes for each ASCII character the UTF-8 text has.
    let text_len = input_len.map(|len| {
        let len = len.saturating_sub(sniffed.bom_len as u64);
        if sniffed.encoding == UTF_16LE || sniffed.encoding == UTF_16BE {
            len / 2
        } else {
            len
        }
    });
    parse(name, text, format, sniffed, options, text_len)
}

/// Rows a text of `text_len` bytes holds, judged from the first lines of `body` (which starts
/// at the first data record, `header_len` bytes into the text). Never more than one row per
/// `width` bytes, the least a row of `width` cells can take.
fn estimate_rows(body: &[u8], text_len: u64, header_len: usize, width: usize) -> usize {
    let mut lines = 0u64;
    let mut end = 0usize;
    for position in memchr::memchr_iter(b'\n', body).take(64) {
        lines += 1;
        end = position + 1;
    }
    let remaining = text_len.saturating_sub(header_len as u64);
    let most = remaining / width.max(1) as u64;
    if lines == 0 {
        return 0;
    }
    let average = (end as u64 / lines).max(1);
    let rows = remaining / average;
    (rows + rows / 32 + 8).min(most) as usize
}

/// Reads on until `prefix` holds the header record and the first rows after it (or the end),
/// so the encoding is judged on every name in the header, however wide. Bounded by the
/// longest record a log may have.
fn extend_to_header_end(
    name: &str,
    input: &mut impl Read,
    prefix: &mut Vec<u8>,
) -> Result<(), IngestError> {
    let start = prefix
        .iter()
        .position(|&b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(0);
    while memchr::memchr(b'\n', &prefix[start..]).is_none() && prefix.len() < MAX_RECORD_LEN {
        let old = prefix.len();
        prefix.resize(old + SNIFF_LEN.max(old / 2), 0);
        let filled = read_into(name, input, &mut prefix[old..])?;
        prefix.truncate(old + filled);
        if filled == 0 {
            break;
        }
    }
    Ok(())
}

fn read_prefix(name: &str, input: &mut impl Read) -> Result<Vec<u8>, IngestError> {
    let mut prefix = vec![0u8; SNIFF_LEN];
    let filled = read_into(name, input, &mut prefix)?;
    prefix.truncate(filled);
    Ok(prefix)
}

/// Byte offset of the first run of control characters that text logs never contain. After a
/// PDH header only the header line is looked at: a collector that crashed leaves runs of zeros
/// among its rows, and those rows are skipped one by one.
fn binary_offset(text: &str) -> Option<usize> {
    let start = text.trim_start_matches(['\r', '\n', ' ', '"']);
    let scanned = if start.starts_with("(PDH-") {
        let line_end = text.len() - start.len() + start.find(['\r', '\n']).unwrap_or(start.len());
        &text[..line_end]
    } else {
        text
    };
    let mut suspicious = 0;
    for (offset, ch) in scanned.char_indices().take(8192) {
        if (ch.is_control() && !matches!(ch, '\t' | '\r' | '\n')) || ch == '\u{FFFD}' {
            suspicious += 1;
            if suspicious >= 4 {
                return Some(offset);
            }
        }
    }
    None
}

/// What a warning is about: each kind lists its first [`MAX_LISTED`] and then only counts, so
/// a log damaged throughout gives a readable list, not one line per row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    NotAPath,
    DuplicateColumn,
    ShortRow,
    LongRow,
    NoTimestamp,
    RepeatedHeader,
    RepeatedTime,
    ClockBack,
    Undecodable,
    DateOrder,
    ClockGlitch,
    TimeJump,
    /// Listed by the caller, which also counts them (see `Warnings::non_numeric`).
    NotANumber,
}

impl Kind {
    /// How the warnings past the listed ones are summed up: "N more ...".
    fn more(self) -> &'static str {
        match self {
            Kind::NotAPath => "header cells that are no counter path",
            Kind::DuplicateColumn => "duplicate columns",
            Kind::ShortRow => "rows with too few fields skipped",
            Kind::LongRow => "rows with too many fields skipped",
            Kind::NoTimestamp => "rows without a timestamp skipped",
            Kind::RepeatedHeader => "repeated headers skipped",
            Kind::RepeatedTime => "repeated timestamps",
            Kind::ClockBack => "timestamps going back",
            Kind::Undecodable => "header cells with undecodable bytes",
            Kind::DateOrder => "notes on the date order",
            Kind::ClockGlitch => "rows dropped as clock glitches",
            Kind::TimeJump => "jumps in time",
            Kind::NotANumber => "non-numeric cells read as no value",
        }
    }
}

struct Warnings {
    file: String,
    list: Vec<String>,
    /// How many warnings of each kind were met, in the order the kinds first appeared.
    counts: Vec<(Kind, usize)>,
    /// Non-numeric cells, counted in the pieces (only the first few are worded there).
    non_numeric: usize,
}

impl Warnings {
    fn new(file: &str) -> Self {
        Warnings {
            file: file.to_string(),
            list: Vec::new(),
            counts: Vec::new(),
            non_numeric: 0,
        }
    }

    /// Counts a warning of `kind`, and lists it while fewer than [`MAX_LISTED`] of the kind are.
    fn at(&mut self, kind: Kind, line: u64, column: usize, message: impl std::fmt::Display) {
        let count = match self.counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, count)) => count,
            None => {
                self.counts.push((kind, 0));
                &mut self.counts.last_mut().expect("just pushed").1
            }
        };
        *count += 1;
        if *count <= MAX_LISTED {
            self.list.push(format!(
                "{}: line {line}, column {column}: {message}",
                self.file
            ));
        }
    }

    /// How many warnings of `kind` were met.
    fn count(&self, kind: Kind) -> usize {
        self.counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, count)| *count)
    }

    /// The listed warnings and a line for each kind that had more.
    fn finish(mut self) -> Vec<String> {
        if let Some((_, count)) = self.counts.iter_mut().find(|(k, _)| *k == Kind::NotANumber) {
            *count = self.non_numeric;
        }
        for (kind, count) in &self.counts {
            if *count > MAX_LISTED {
                let more = count - MAX_LISTED;
                self.list
                    .push(format!("{}: {more} more {}", self.file, kind.more()));
            }
        }
        self.list
    }
}

/// Decoded text is read in blocks of this size; each block is cut at its last record boundary
/// and parsed in pieces on the rayon pool while the next block is read.
const BLOCK_LEN: usize = 8 << 20;
/// Below this a piece is not worth a task of its own.
const MIN_PIECE_LEN: usize = 256 << 10;

/// Smallest block read from a log of known length.
const MIN_BLOCK_LEN: usize = 64 << 10;

/// A zip's local file header, or the end-of-central-directory record that alone makes an empty
/// archive.
pub(crate) fn is_zip_magic(magic: &[u8]) -> bool {
    magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"PK\x05\x06")
}

/// Fills as much of `buf` as the input has; returns how many bytes were read.
fn read_into(name: &str, input: &mut dyn Read, buf: &mut [u8]) -> Result<usize, IngestError> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(IngestError::io(name, e)),
        }
    }
    Ok(filled)
}

/// A block buffer reused from block to block. Its bytes past `len` stay from earlier blocks,
/// so a refill writes over them instead of zeroing them first (zeroing 8 MB per block was a
/// fiftieth of the reading time, on the thread that also hands out the work).
#[derive(Default)]
struct BlockBuffer {
    bytes: Vec<u8>,
    /// The text read so far.
    len: usize,
}

impl BlockBuffer {
    fn text(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Starts the buffer again with `head`.
    fn restart(&mut self, head: &[u8]) {
        if self.bytes.len() < head.len() {
            self.bytes.resize(head.len(), 0);
        }
        self.bytes[..head.len()].copy_from_slice(head);
        self.len = head.len();
    }

    /// Appends up to `len` bytes of `input`; returns how many were read (0 at the end).
    fn fill(&mut self, name: &str, input: &mut dyn Read, len: usize) -> Result<usize, IngestError> {
        let end = self.len + len;
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        let read = read_into(name, input, &mut self.bytes[self.len..end])?;
        self.len += read;
        Ok(read)
    }
}

/// Appends up to `len` bytes to `buf`; returns how many were read (0 at the end).
fn read_block(
    name: &str,
    input: &mut dyn Read,
    buf: &mut Vec<u8>,
    len: usize,
) -> Result<usize, IngestError> {
    let start = buf.len();
    buf.resize(start + len, 0);
    let read = read_into(name, input, &mut buf[start..]);
    buf.truncate(start + read.as_ref().map_or(0, |n| *n));
    read
}

/// What one data record turned out to be.
enum RowKind {
    Sample(NaiveDateTime),
    /// Fewer cells than the header: the count.
    Short(usize),
    /// More cells than the header: the count.
    Long(usize),
    /// The first cell is no timestamp: its text, as shown in messages.
    BadStamp(String),
    /// A header again (logs joined end to end): its cells.
    Header(Vec<String>),
}

struct Row {
    /// Line breaks between the start of the piece and this record.
    breaks_before: u64,
    kind: RowKind,
}

/// A cell of a kept column that is not a number.
struct BadCell {
    /// Index of its row in `Piece::rows`.
    row: usize,
    /// 1-based column number in the file.
    column: usize,
    text: String,
}

/// The parse of one run of whole records, done independently of the others.
struct Piece {
    rows: Vec<Row>,
    /// Each kept column's values (one per `Sample` row) encoded on the parsing thread, one
    /// frame after the other; `frame_ends[k]` is where column `k`'s frame ends.
    frames: Vec<u8>,
    frame_ends: Vec<usize>,
    /// The first `MAX_LISTED` non-numeric cells (more are only counted).
    bad_cells: Vec<BadCell>,
    bad_cell_count: usize,
    /// Line breaks in the whole piece.
    breaks: u64,
}

thread_local! {
    /// Per-column value buffers of the pieces a pool thread parses, reused from piece to piece.
    static SCRATCH: std::cell::RefCell<Vec<Vec<f64>>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn parse_piece(
    data: &[u8],
    delimiter: u8,
    decimal_comma: bool,
    order: DateOrder,
    width: usize,
    kept: &[usize],
) -> Piece {
    SCRATCH.with_borrow_mut(|values| {
        values.resize_with(kept.len(), Vec::new);
        for v in values.iter_mut() {
            v.clear();
        }
        parse_piece_into(data, delimiter, decimal_comma, order, width, kept, values)
    })
}

/// `decimal_comma`: numbers are written `1.234,5` (a spreadsheet's re-save in such a locale);
/// the fused pass, which reads `1.234` as a decimal, is then left out. `order`: where the day
/// stands in slashed dates.
fn parse_piece_into(
    data: &[u8],
    delimiter: u8,
    decimal_comma: bool,
    order: DateOrder,
    width: usize,
    kept: &[usize],
    values: &mut [Vec<f64>],
) -> Piece {
    let mut piece = Piece {
        rows: Vec::new(),
        frames: Vec::new(),
        frame_ends: Vec::with_capacity(kept.len()),
        bad_cells: Vec::new(),
        bad_cell_count: 0,
        breaks: 0,
    };
    let mut cells = Vec::with_capacity(width + 1);
    let mut pos = 0;
    let mut samples = 0;
    while pos < data.len() {
        let breaks_before = piece.breaks;
        let fused = (!decimal_comma)
            .then(|| read_sample(data, pos, delimiter, order, width, kept, values, samples))
            .flatten();
        if let Some((next, breaks, stamp)) = fused {
            pos = next;
            piece.breaks += breaks;
            samples += 1;
            piece.rows.push(Row {
                breaks_before,
                kind: RowKind::Sample(stamp),
            });
            continue;
        }
        let (next, breaks) = records::tokenize(data, pos, delimiter, &mut cells);
        pos = next;
        piece.breaks += breaks;
        if records::is_empty_record(&cells) {
            continue;
        }
        let first_cell = records::unquote(&data[cells[0].0..cells[0].1]);
        // Checked before the width: a joined log's header may have any number of cells.
        let kind = if first_cell.starts_with(b"(PDH-") {
            RowKind::Header(
                cells
                    .iter()
                    .map(|&(a, b)| {
                        String::from_utf8_lossy(&records::unquote(&data[a..b])).into_owned()
                    })
                    .collect(),
            )
        } else if cells.len() < width {
            RowKind::Short(cells.len())
        } else if cells.len() > width {
            RowKind::Long(cells.len())
        } else {
            match parse_timestamp(&first_cell, order) {
                Some(stamp) => {
                    let row = piece.rows.len();
                    for (&index, values) in kept.iter().zip(values.iter_mut()) {
                        let (a, b) = cells[index];
                        let raw = &data[a..b];
                        let value = if decimal_comma {
                            records::parse_decimal_comma(raw)
                        } else {
                            // Thousands commas only a spreadsheet writes, so only tried last.
                            records::parse_value(raw).or_else(|| {
                                (delimiter == b',')
                                    .then(|| records::parse_thousands_commas(raw))
                                    .flatten()
                            })
                        };
                        let value = value.unwrap_or_else(|| {
                            piece.bad_cell_count += 1;
                            if piece.bad_cells.len() < MAX_LISTED {
                                piece.bad_cells.push(BadCell {
                                    row,
                                    column: index + 1,
                                    text: shown(&records::unquote(raw)),
                                });
                            }
                            f64::NAN
                        });
                        values.push(value);
                    }
                    samples += 1;
                    RowKind::Sample(stamp)
                }
                None => RowKind::BadStamp(shown(&first_cell)),
            }
        };
        piece.rows.push(Row {
            breaks_before,
            kind,
        });
    }
    for v in values.iter() {
        series::encode_frame(&mut piece.frames, v);
        piece.frame_ends.push(piece.frames.len());
    }
    piece
}

/// A cell's text as messages show it: control characters (the zeros a crashed collector leaves)
/// escaped, and cut after [`SHOWN_CHARS`] characters.
fn shown(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::new();
    for (i, ch) in text.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if ch.is_control() {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    out
}

/// The fused pass over the common record: a sample of exactly `width` cells, no line break
/// inside a cell, every kept cell a number. Finds the cell boundaries and reads the kept cells'
/// numbers as it goes, pushing one value per kept column onto `values` (each holding `samples`
/// values before). Returns where the next record starts, the line breaks passed and the
/// timestamp; `None`, with `values` as they were, for any other record, which the caller then
/// reads with `records::tokenize` and `records::parse_value` (and words its warnings).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn read_sample(
    data: &[u8],
    start: usize,
    delimiter: u8,
    order: DateOrder,
    width: usize,
    kept: &[usize],
    values: &mut [Vec<f64>],
    samples: usize,
) -> Option<(usize, u64, NaiveDateTime)> {
    let stamp_end = records::cell_end(data, start, delimiter);
    let stamp_cell = &data[start..stamp_end];
    if data.get(stamp_end) != Some(&delimiter) || memchr::memchr(b'\n', stamp_cell).is_some() {
        return None;
    }
    let stamp = parse_timestamp(&records::unquote(stamp_cell), order)?;
    let mut pos = stamp_end + 1;
    if kept.len() + 1 == width {
        // Every column kept (logs of only the counters the analysis reads): no column to
        // skip, so no test for one.
        let mut end = pos;
        let mut read = 0;
        while read < values.len() {
            if read > 0 {
                if data.get(end) != Some(&delimiter) {
                    break;
                }
                pos = end + 1;
            }
            let Some((value, cell_end)) = kept_cell(data, pos, delimiter) else {
                break;
            };
            values[read].push(value);
            read += 1;
            end = cell_end;
        }
        if read == values.len() {
            if let Some((next, breaks)) = record_next(data, end) {
                return Some((next, breaks, stamp));
            }
        }
        for v in &mut values[..read] {
            v.truncate(samples);
        }
        return None;
    }
    let mut pushed = 0;
    let mut next_kept = kept.first().copied();
    let mut column = 1;
    let end = loop {
        let end = if next_kept == Some(column) {
            let Some((value, end)) = kept_cell(data, pos, delimiter) else {
                break None;
            };
            values[pushed].push(value);
            pushed += 1;
            next_kept = kept.get(pushed).copied();
            end
        } else {
            let end = records::cell_end(data, pos, delimiter);
            if memchr::memchr(b'\n', &data[pos..end]).is_some() {
                break None;
            }
            end
        };
        column += 1;
        if column == width {
            break Some(end);
        }
        if data.get(end) != Some(&delimiter) {
            break None;
        }
        pos = end + 1;
    };
    match end.and_then(|end| record_next(data, end)) {
        Some((next, breaks)) => Some((next, breaks, stamp)),
        None => {
            for v in &mut values[..pushed] {
                v.truncate(samples);
            }
            None
        }
    }
}

/// A kept cell's value and end; `None` for a cell holding a line break or no number.
#[inline(always)]
fn kept_cell(data: &[u8], pos: usize, delimiter: u8) -> Option<(f64, usize)> {
    records::number_cell(data, pos, delimiter).or_else(|| {
        let end = records::cell_end(data, pos, delimiter);
        let raw = &data[pos..end];
        if memchr::memchr(b'\n', raw).is_some() {
            return None;
        }
        Some((records::parse_value(raw)?, end))
    })
}

/// Where the record whose last cell ends at `end` is followed by the next, and the line breaks
/// passed; `None` unless a line break (CR, LF or CRLF) or the end of the data follows.
#[inline(always)]
fn record_next(data: &[u8], end: usize) -> Option<(usize, u64)> {
    match data.get(end) {
        None => Some((end, 0)),
        Some(b'\n') => Some((end + 1, 1)),
        Some(b'\r') => Some((end + 1 + usize::from(data.get(end + 1) == Some(&b'\n')), 1)),
        Some(_) => None,
    }
}

/// Everything that must see the records in file order: timeline, warnings, the columns.
struct Assembly<'o> {
    name: &'o str,
    header: &'o [String],
    width: usize,
    warnings: Warnings,
    timestamps: Vec<NaiveDateTime>,
    timeline: Timeline,
    selected: Vec<(usize, Column)>,
    short_row: Option<(u64, usize)>,
    /// Line breaks before the piece being added.
    lines_before: u64,
    listed_bad_cells: usize,
    /// The first row with more or fewer fields than the header: its line and field count.
    first_misfit: Option<(u64, usize)>,
    /// Rows without a timestamp, and the first one's line and text.
    bad_stamps: usize,
    first_bad_stamp: Option<(u64, String)>,
    /// Rows the whole log is expected to hold, to size the columns for once the first block
    /// shows their encoded size; `None` once done (or when the length is unknown).
    rows_to_reserve: Option<usize>,
}

impl Assembly<'_> {
    /// Add a block's parsed pieces, in order; after the first block, size the columns.
    fn add_block(&mut self, pieces: Vec<Option<Piece>>) -> Result<(), IngestError> {
        if pieces.is_empty() {
            return Ok(());
        }
        for piece in pieces.into_iter().flatten() {
            self.add(piece)?;
        }
        if let Some(rows) = self.rows_to_reserve.take() {
            self.reserve_for(rows);
        }
        Ok(())
    }

    /// Reserve each column's bytes for `rows` samples in all, at the rate seen so far plus a
    /// little (noise varies along a log; a column still short grows by an eighth).
    fn reserve_for(&mut self, rows: usize) {
        let done = self.timestamps.len();
        if done == 0 || rows <= done {
            return;
        }
        for (_, column) in &mut self.selected {
            let per_row = column.values.encoded_len() as f64 / done as f64;
            column
                .values
                .reserve_bytes((per_row * (rows - done) as f64 * 1.03) as usize + 16);
        }
    }

    fn add(&mut self, piece: Piece) -> Result<(), IngestError> {
        let width = self.width;
        let mut bad_cells = piece.bad_cells.into_iter().peekable();
        for (index, row) in piece.rows.iter().enumerate() {
            let line = self.lines_before + row.breaks_before + 1;
            if let Some((short_line, len)) = self.short_row.take() {
                self.warnings.at(
                    Kind::ShortRow,
                    short_line,
                    len,
                    format_args!("row has {len} of {width} fields; row skipped"),
                );
            }
            if let RowKind::Short(len) | RowKind::Long(len) = &row.kind {
                self.first_misfit.get_or_insert((line, *len));
            }
            match &row.kind {
                RowKind::Short(len) => self.short_row = Some((line, *len)),
                RowKind::Long(len) => self.warnings.at(
                    Kind::LongRow,
                    line,
                    width + 1,
                    format_args!("row has {len} fields, the header {width}; row skipped"),
                ),
                RowKind::BadStamp(text) => {
                    self.bad_stamps += 1;
                    self.warnings.at(
                        Kind::NoTimestamp,
                        line,
                        1,
                        format_args!("'{text}' is not a timestamp like {STAMP_EXAMPLE}; row skipped"),
                    );
                    self.first_bad_stamp.get_or_insert_with(|| (line, text.clone()));
                }
                RowKind::Header(cells) if cells[..] == self.header[..] => self.warnings.at(
                    Kind::RepeatedHeader,
                    line,
                    1,
                    "the header again (logs joined end to end?); row skipped",
                ),
                RowKind::Header(_) => {
                    return Err(IngestError::format(
                        self.name,
                        line,
                        1,
                        "a header with other columns starts here: this file joins two logs; split it at this line and read both parts",
                    ))
                }
                RowKind::Sample(stamp) => {
                    self.timeline.push(*stamp, line, &mut self.warnings);
                    self.timestamps.push(*stamp);
                    while let Some(cell) = bad_cells.next_if(|c| c.row == index) {
                        if self.listed_bad_cells < MAX_LISTED {
                            self.listed_bad_cells += 1;
                            self.warnings.at(
                                Kind::NotANumber,
                                line,
                                cell.column,
                                format_args!("'{}' is not a number; read as no value", cell.text),
                            );
                        }
                    }
                }
            }
        }
        self.warnings.non_numeric += piece.bad_cell_count;
        let samples = piece
            .rows
            .iter()
            .filter(|r| matches!(r.kind, RowKind::Sample(_)))
            .count();
        let mut start = 0;
        for ((_, column), &end) in self.selected.iter_mut().zip(&piece.frame_ends) {
            column
                .values
                .append_encoded(&piece.frames[start..end], samples);
            start = end;
        }
        self.lines_before += piece.breaks;
        Ok(())
    }
}

fn parse(
    name: &str,
    mut text: Box<dyn Read + '_>,
    format: LogFormat,
    sniffed: decode::Sniffed,
    options: &ReadOptions,
    text_len: Option<u64>,
) -> Result<PerfLog, IngestError> {
    let delimiter = delimiter::delimiter(format);

    // A log smaller than a block is read in one go into a buffer of its size: zeroing and
    // faulting in 8 MB twice per small log was a tenth of a batch run.
    let block_len = text_len.map_or(BLOCK_LEN, |len| {
        usize::try_from(len)
            .unwrap_or(usize::MAX)
            .saturating_add(1)
            .clamp(MIN_BLOCK_LEN, BLOCK_LEN)
    });
    // The header: read until its record is complete, skipping empty lines before it.
    let mut pending = Vec::new();
    let mut eof = false;
    while !eof && records::record_end(&pending, delimiter).is_none() {
        check_record_len(name, 1, &pending)?;
        eof = read_block(name, &mut text, &mut pending, block_len)? == 0;
    }
    let mut cells = Vec::new();
    let mut pos = 0;
    let mut lines_before = 0u64;
    let header_line = loop {
        if pos >= pending.len() {
            return Err(IngestError::Empty {
                file: name.to_string(),
            });
        }
        let (next, breaks) = records::tokenize(&pending, pos, delimiter, &mut cells);
        let line = lines_before + 1;
        pos = next;
        lines_before += breaks;
        if !records::is_empty_record(&cells) {
            break line;
        }
    };
    let mut warnings = Warnings::new(name);
    let header: Vec<String> = cells
        .iter()
        .map(|&(a, b)| String::from_utf8_lossy(&records::unquote(&pending[a..b])).into_owned())
        .collect();
    // A name the decoder could not read is garbled, never silently: the user can force the
    // right code page.
    for (i, cell) in header.iter().enumerate() {
        if cell.contains('\u{FFFD}') {
            warnings.at(
                Kind::Undecodable,
                header_line,
                i + 1,
                format_args!(
                    "'{}' holds bytes that are not valid {} (shown as \u{FFFD}): give the log's code page with --encoding",
                    shown(cell.as_bytes()),
                    sniffed.encoding.name()
                ),
            );
        }
    }
    pending.drain(..pos);
    let header_len = pos;
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
                warnings.at(Kind::NotAPath, header_line, i + 1, message);
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
                Kind::DuplicateColumn,
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
                    values: Series::new(),
                },
            ));
        }
    }
    let kept: Vec<usize> = selected.iter().map(|(i, _)| *i).collect();
    // Columns are sized once, from the file length and the first block's encoded size: grown by
    // doubling, interleaved with the block buffers, they left the heap half again as large as the
    // data.
    let rows = text_len.map_or(0, |len| estimate_rows(&pending, len, header_len, width));

    let mut assembly = Assembly {
        name,
        header: &header,
        width,
        warnings,
        timestamps: Vec::with_capacity(rows),
        timeline: Timeline {
            elapsed: Vec::with_capacity(rows),
            ..Timeline::default()
        },
        selected,
        short_row: None,
        lines_before,
        listed_bad_cells: 0,
        first_misfit: None,
        bad_stamps: 0,
        first_bad_stamp: None,
        rows_to_reserve: (rows > 0).then_some(rows),
    };
    // A block's last piece keeps one thread busy while the others wait for the next block: four
    // pieces a thread read a wide log a tenth faster than two; eight were slower again (each
    // piece carries a frame per column).
    let pieces_per_block = rayon::current_num_threads().max(1) * 4;
    // Semicolons between cells come with decimal commas in most locales (not in Swiss ones):
    // the first block's numbers tell.
    let decimal_comma = delimiter == b';' && records::has_decimal_comma(&pending);
    // Day and month in slashed dates: PDH writes month first, a re-save may not; the first
    // block's timestamp column tells.
    let order = stamps::decide_order(&pending, delimiter, options.date_order);
    if let Some(note) = &order.note {
        assembly
            .warnings
            .at(Kind::DateOrder, header_line + 1, 1, note);
    }
    let order = order.order;
    // The two block buffers are reused: freeing 8 MB blocks would raise glibc's mmap threshold
    // and send the columns into a fragmenting heap.
    let mut pending = BlockBuffer {
        len: pending.len(),
        bytes: pending,
    };
    let mut spare = BlockBuffer::default();
    // The previous block's parsed pieces, assembled on this thread while the pool parses the
    // next block: assembled between blocks, they left the pool idle a fifth of the read.
    let mut parsed_before: Vec<Option<Piece>> = Vec::new();
    loop {
        // Whole records only, reading on while a record is larger than what has been read.
        let pieces = loop {
            let pieces = records::split_records(
                pending.text(),
                delimiter,
                pieces_per_block,
                MIN_PIECE_LEN,
                eof,
            );
            if eof || !pieces.is_empty() {
                break pieces;
            }
            // The previous block's pieces are not assembled yet: their lines count too.
            let waiting: u64 = parsed_before.iter().flatten().map(|p| p.breaks).sum();
            check_record_len(name, assembly.lines_before + waiting + 1, pending.text())?;
            eof = pending.fill(name, &mut text, block_len)? == 0;
        };
        let cut: usize = pieces.iter().map(|piece| piece.len()).sum();
        if cut == 0 {
            break;
        }
        let mut next = std::mem::take(&mut spare);
        next.restart(&pending.text()[cut..]);
        let mut parsed: Vec<Option<Piece>> = pieces.iter().map(|_| None).collect();
        let kept = &kept;
        let before = std::mem::take(&mut parsed_before);
        // The next block is read on this thread (it may be a transcoder, not Send) while the
        // pool parses this one.
        let read = rayon::in_place_scope(|scope| {
            for (slot, piece) in parsed.iter_mut().zip(&pieces) {
                scope.spawn(move |_| {
                    *slot = Some(parse_piece(
                        piece,
                        delimiter,
                        decimal_comma,
                        order,
                        width,
                        kept,
                    ));
                });
            }
            let read = if eof {
                Ok(0)
            } else {
                next.fill(name, &mut text, block_len)
            };
            assembly.add_block(before)?;
            read
        });
        parsed_before = parsed;
        eof = read? == 0;
        spare = std::mem::replace(&mut pending, next);
    }
    assembly.add_block(parsed_before)?;
    drop((pending, spare));

    assembly.timeline.finish(&mut assembly.warnings);
    let Assembly {
        mut warnings,
        mut timestamps,
        mut timeline,
        mut selected,
        short_row,
        bad_stamps,
        first_bad_stamp,
        first_misfit,
        ..
    } = assembly;
    if let Some((line, text)) = first_bad_stamp {
        let rows = timestamps.len() + bad_stamps;
        if bad_stamps as f64 > MAX_BAD_STAMP_SHARE * rows as f64 {
            return Err(IngestError::format(
                name,
                line,
                1,
                format!(
                    "'{text}' is not a timestamp like {STAMP_EXAMPLE} ({bad_stamps} of {rows} rows have none){}",
                    stamps::other_order_hint(&text, order)
                ),
            ));
        }
    }
    drop_rows(
        &timeline.dropped,
        &mut timestamps,
        &mut timeline.elapsed,
        &mut selected,
    );
    if let Some((line, len)) = short_row {
        warnings.at(
            Kind::ShortRow,
            line,
            len,
            format_args!("last line is cut short ({len} of {width} fields); row dropped"),
        );
    }
    if timestamps.is_empty() {
        if let Some((line, len)) = first_misfit {
            return Err(IngestError::format(
                name,
                line,
                1,
                format!(
                    "no row has the header's {width} fields (this one has {len}): a cell holding the delimiter left unquoted?"
                ),
            ));
        }
        return Err(IngestError::HeaderOnly {
            file: name.to_string(),
        });
    }
    // Rows sorted newest first (a spreadsheet's sort) would give every series a span of nothing.
    let steps = timestamps.len() - 1;
    // The timeline warned at every step back (daylight saving's too).
    let back = warnings.count(Kind::ClockBack);
    if steps >= 2 && back * 2 > steps {
        return Err(IngestError::format(
            name,
            header_line + 1,
            1,
            format!("the rows run back in time ({back} of {steps} steps go back): sort them oldest first"),
        ));
    }

    Ok(super::sanity::checked(PerfLog {
        source: SourceInfo {
            path: name.to_string(),
            format,
            encoding: sniffed.encoding.name().to_string(),
            encoding_reason: sniffed.reason.to_string(),
            time_zone: cell.time_zone.clone(),
            utc_offset_minutes: cell.utc_offset_minutes(),
            segments: vec![name.to_string()],
            blg: None,
        },
        timestamps,
        elapsed_seconds: timeline.elapsed,
        columns: selected
            .into_iter()
            .map(|(_, mut c)| {
                c.values.shrink_to_fit();
                c
            })
            .collect(),
        all_paths,
        warnings: warnings.finish(),
    }))
}

/// The longest record read: a header of 100,000 counter paths is under a tenth of it. Past it
/// the "record" is an unclosed quote or a file without line breaks, which would otherwise be
/// read whole into memory.
const MAX_RECORD_LEN: usize = 64 << 20;

/// Errs when `text`, read from `line` on, has grown past [`MAX_RECORD_LEN`] without its last
/// record ending; the error names the line that record starts on.
fn check_record_len(name: &str, line: u64, text: &[u8]) -> Result<(), IngestError> {
    if text.len() > MAX_RECORD_LEN {
        let (mut quoted, mut breaks, mut before) = (false, 0, 0);
        for &b in text {
            if b == b'"' {
                quoted = !quoted;
            } else if b == b'\n' {
                breaks += 1;
                if !quoted {
                    before = breaks;
                }
            }
        }
        return Err(IngestError::format(
            name,
            line + before,
            1,
            format!(
                "a record runs over {} MB without ending: an unclosed quote, or no line breaks",
                MAX_RECORD_LEN >> 20
            ),
        ));
    }
    Ok(())
}

/// Builds `elapsed_seconds` as samples arrive. Local time may repeat or jump back an hour when
/// daylight saving ends; the timeline keeps moving forward and every repair is reported. A row
/// whose stamp leaps far from its neighbours while the next row carries on from the one before
/// it (a virtual machine's clock glitch) is dropped with a warning: kept, it would stretch or
/// fold the whole log's time axis.
#[derive(Default)]
struct Timeline {
    elapsed: Vec<f64>,
    previous: Option<NaiveDateTime>,
    /// The last regular forward step, the best guess of the sampling interval.
    typical_step: Option<f64>,
    /// The last row, when its stamp leapt far from the row before it.
    suspect: Option<Suspect>,
    /// Indices of the rows dropped as clock glitches, in order.
    dropped: Vec<usize>,
}

/// A row whose stamp leapt: whether the next row returns to the time before it decides
/// between a glitch and a real gap (or a clock set back).
struct Suspect {
    index: usize,
    line: u64,
    stamp: NaiveDateTime,
    before: NaiveDateTime,
    before_elapsed: f64,
    /// The leap in seconds: positive forward, negative back.
    leap: f64,
}

/// A forward step this many times the sampling interval, and over an hour, makes a row suspect.
const LEAP_STEPS: f64 = 20.0;
const LEAP_MIN_SECONDS: f64 = 3600.0;
/// A gap this many times the interval, and over a day, is named in a warning.
const GAP_STEPS: f64 = 100.0;
const GAP_MIN_SECONDS: f64 = 86_400.0;

/// A leap in words, in the unit that reads best (`31.0 days`, `5.0 h`).
fn span_text(seconds: f64) -> String {
    let hours = seconds / 3600.0;
    if hours >= 48.0 {
        format!("{:.1} days", hours / 24.0)
    } else {
        format!("{hours:.1} h")
    }
}

fn seconds(from: NaiveDateTime, to: NaiveDateTime) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

impl Timeline {
    fn push(&mut self, stamp: NaiveDateTime, line: u64, warnings: &mut Warnings) {
        let index = self.elapsed.len();
        let Some(prev) = self.previous.replace(stamp) else {
            self.elapsed.push(0.0);
            return;
        };
        let typical = self.typical_step.unwrap_or(900.0).max(1.0);
        if let Some(suspect) = self.suspect.take() {
            let since_before = seconds(suspect.before, stamp);
            if since_before > 0.0 && since_before <= 10.0 * typical {
                // Back in line with the row before the leap: the leap was a glitch.
                self.dropped.push(suspect.index);
                warnings.at(
                    Kind::ClockGlitch,
                    suspect.line,
                    1,
                    format_args!(
                        "timestamp {} is {} out of line with the rows around it (a clock glitch?); row dropped",
                        suspect.stamp,
                        span_text(suspect.leap.abs())
                    ),
                );
                self.elapsed.push(suspect.before_elapsed + since_before);
                return;
            }
            self.settle(&suspect, warnings);
        }
        let last = self.elapsed.last().copied().unwrap_or(0.0);
        let step = seconds(prev, stamp);
        // This row leapt: the next one tells a glitch from a gap or a clock set back.
        let leapt = Suspect {
            index,
            line,
            stamp,
            before: prev,
            before_elapsed: last,
            leap: step,
        };
        let advance = if step > 0.0 {
            if step > LEAP_MIN_SECONDS && step > LEAP_STEPS * typical {
                self.suspect = Some(leapt);
            } else {
                self.typical_step = Some(step);
            }
            step
        } else if step == 0.0 {
            warnings.at(
                Kind::RepeatedTime,
                line,
                1,
                format_args!("timestamp {stamp} repeats the previous one"),
            );
            0.0
        } else {
            let after_fall_back = step + 3600.0;
            let limit = self.typical_step.map_or(900.0, |t| (3.0 * t).max(2.0));
            if after_fall_back > 0.0 && after_fall_back <= limit {
                warnings.at(
                    Kind::ClockBack,
                    line,
                    1,
                    format_args!(
                        "clock goes back from {prev} to {stamp} (daylight saving ends?); \
                         counted as {after_fall_back:.3} s after the previous sample"
                    ),
                );
                after_fall_back
            } else {
                self.suspect = Some(leapt);
                self.typical_step.unwrap_or(0.0)
            }
        };
        self.elapsed.push(last + advance);
    }

    /// A leap the next row did not undo: a real gap in collection (named when long), or the
    /// clock set back.
    fn settle(&self, suspect: &Suspect, warnings: &mut Warnings) {
        let typical = self.typical_step.unwrap_or(0.0);
        if suspect.leap < 0.0 {
            warnings.at(
                Kind::ClockBack,
                suspect.line,
                1,
                format_args!(
                    "timestamp goes back {:.3} s (from {} to {}); counted as {typical:.3} s after the previous sample",
                    -suspect.leap, suspect.before, suspect.stamp
                ),
            );
        } else if suspect.leap > GAP_MIN_SECONDS && suspect.leap > GAP_STEPS * typical {
            warnings.at(
                Kind::TimeJump,
                suspect.line,
                1,
                format_args!(
                    "the time jumps {} from {} to {}: a gap in collection, or dates read in the wrong order (see --date-order)",
                    span_text(suspect.leap),
                    suspect.before,
                    suspect.stamp
                ),
            );
        }
    }

    /// Settles a leap in the last row: one far forward is a glitch (nothing after it to
    /// carry on from), anything else as [`Timeline::settle`] says.
    fn finish(&mut self, warnings: &mut Warnings) {
        if let Some(suspect) = self.suspect.take() {
            let typical = self.typical_step.unwrap_or(0.0);
            if suspect.leap > GAP_MIN_SECONDS
                && suspect.leap > GAP_STEPS * typical
                && suspect.index > 1
            {
                self.dropped.push(suspect.index);
                warnings.at(
                    Kind::ClockGlitch,
                    suspect.line,
                    1,
                    format_args!(
                        "the last timestamp, {}, leaps {} past the one before (a clock glitch?); row dropped",
                        suspect.stamp,
                        span_text(suspect.leap)
                    ),
                );
            } else {
                self.settle(&suspect, warnings);
            }
        }
    }
}

/// Removes the items at `dropped` (ascending indices).
pub(crate) fn remove<T>(values: &mut Vec<T>, dropped: &[usize]) {
    let mut next = dropped.iter().peekable();
    let mut index = 0;
    values.retain(|_| {
        let keep = next.next_if_eq(&&index).is_none();
        index += 1;
        keep
    });
}

/// The monotonic timeline of local timestamps read from a binary log, repaired and warned
/// about exactly as the text reader does (its messages name the line the row has in the
/// log's CSV conversion). Rows dropped as clock glitches are taken out of `stamps` and
/// returned, for the caller to take out of its columns with [`remove`].
pub(crate) fn local_timeline(
    name: &str,
    stamps: &mut Vec<NaiveDateTime>,
) -> (Vec<f64>, Vec<String>, Vec<usize>) {
    let mut warnings = Warnings::new(name);
    let mut timeline = Timeline {
        elapsed: Vec::with_capacity(stamps.len()),
        ..Timeline::default()
    };
    for (row, stamp) in stamps.iter().enumerate() {
        timeline.push(*stamp, row as u64 + 2, &mut warnings);
    }
    timeline.finish(&mut warnings);
    let Timeline {
        mut elapsed,
        dropped,
        ..
    } = timeline;
    drop_rows(&dropped, stamps, &mut elapsed, &mut []);
    (elapsed, warnings.finish(), dropped)
}

/// Removes the rows at `dropped` (ascending) from the timestamps, the timeline and the columns.
fn drop_rows(
    dropped: &[usize],
    timestamps: &mut Vec<NaiveDateTime>,
    elapsed: &mut Vec<f64>,
    columns: &mut [(usize, Column)],
) {
    if dropped.is_empty() {
        return;
    }
    remove(timestamps, dropped);
    remove(elapsed, dropped);
    let start = elapsed.first().copied().unwrap_or(0.0);
    elapsed.iter_mut().for_each(|e| *e -= start);
    for (_, column) in columns {
        let mut values = column.values.to_vec();
        remove(&mut values, dropped);
        column.values = Series::from_values(&values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the records of `data` read as through `parse_piece_into` (the fused pass first),
    /// in the shape of [`reference`].
    fn fused(data: &[u8], width: usize, kept: &[usize]) -> (Vec<String>, Vec<Vec<u64>>, usize) {
        let mut values = vec![Vec::new(); kept.len()];
        let piece = parse_piece_into(data, b',', false, DateOrder::Mdy, width, kept, &mut values);
        let bits = values
            .iter()
            .map(|v| v.iter().map(|x| x.to_bits()).collect())
            .collect();
        (row_kinds(&piece), bits, piece.bad_cell_count)
    }

    /// What the records of `data` read as, cell by cell through `records::tokenize` and
    /// `records::parse_value`: per row, its line breaks before and kind; per kept column, values.
    fn reference(data: &[u8], width: usize, kept: &[usize]) -> (Vec<String>, Vec<Vec<u64>>, usize) {
        let mut rows = Vec::new();
        let mut bad = 0;
        let mut columns = vec![Vec::new(); kept.len()];
        let mut cells = Vec::new();
        let (mut pos, mut breaks) = (0, 0);
        while pos < data.len() {
            let (next, passed) = records::tokenize(data, pos, b',', &mut cells);
            let before = breaks;
            (pos, breaks) = (next, breaks + passed);
            if records::is_empty_record(&cells) {
                continue;
            }
            let first_cell = records::unquote(&data[cells[0].0..cells[0].1]);
            let kind = if first_cell.starts_with(b"(PDH-") {
                "header".to_string()
            } else if cells.len() != width {
                format!("{} cells", cells.len())
            } else {
                match parse_timestamp(&first_cell, DateOrder::Mdy) {
                    Some(stamp) => {
                        for (&index, column) in kept.iter().zip(&mut columns) {
                            let (a, b) = cells[index];
                            let value = records::parse_value(&data[a..b]).unwrap_or_else(|| {
                                bad += 1;
                                f64::NAN
                            });
                            column.push(value.to_bits());
                        }
                        format!("{stamp}")
                    }
                    None => "bad stamp".to_string(),
                }
            };
            rows.push(format!("{before}: {kind}"));
        }
        (rows, columns, bad)
    }

    /// Each row's line breaks before it and kind, worded as [`reference`] words them.
    fn row_kinds(piece: &Piece) -> Vec<String> {
        piece
            .rows
            .iter()
            .map(|row| {
                let kind = match &row.kind {
                    RowKind::Sample(stamp) => format!("{stamp}"),
                    RowKind::Short(n) | RowKind::Long(n) => format!("{n} cells"),
                    RowKind::BadStamp(_) => "bad stamp".to_string(),
                    RowKind::Header(_) => "header".to_string(),
                };
                format!("{}: {kind}", row.breaks_before)
            })
            .collect()
    }

    #[test]
    fn fused_pass_reads_like_tokenize_and_parse_value() {
        let t = "\"02/02/2026 00:00:00.005\"";
        let records = [
            format!("{t},\"1\",\"2.5\",\"3\",\"-4\"\n"),
            format!("{t},\" \",\"\",\"1e5\",\"+7\"\r\n"),
            format!("{t},12345678901234567890,0.1,-0,\"0.12345678901234567\"\r"),
            format!("{t},\"a\"\"b\",\"x\ny\",\"5\",6\n"),
            "\n".to_string(),
            format!("{t},1,2,3\n"),
            format!("{t},1,2,3,4,5\n"),
            format!("{t},text,2,3,4\n"),
            format!("{t},\"9\"9,2,3,\"4\n"),
            "\"(PDH-CSV 4.0) (UTC)(0)\",a,b,c,d\n".to_string(),
            "(PDH-CSV 4.0),a\n".to_string(),
            format!("\0\0\0{t},1,2,3,4\n"),
            "\"02/02/2026 00:01:00.000\",1,\"2\",3,4".to_string(),
        ];
        let mut texts: Vec<String> = (0..records.len())
            .map(|cut| records[cut..].concat())
            .collect();
        texts.push(records.concat() + "\"not a time\",1,2,3,4\n" + &records[0]);
        // Every record after every other.
        for first in &records {
            for second in &records {
                texts.push([first.as_str(), second, &records[0], first].concat());
            }
        }
        // Some columns skipped, all kept, none kept.
        let kept_sets: [&[usize]; 4] = [&[1, 2, 4], &[1, 2, 3, 4], &[], &[3]];
        for kept in kept_sets {
            for text in &texts {
                let data = text.as_bytes();
                assert_eq!(
                    fused(data, 5, kept),
                    reference(data, 5, kept),
                    "{kept:?} {text}"
                );
            }
        }
    }

    #[test]
    fn fused_pass_reads_random_logs_like_tokenize_and_parse_value() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let cells = [
            "\"895950848\"",
            "\"364\"",
            "\"1234567890123456\"",
            "\"11.627\"",
            "\" \"",
            "\"\"",
            "\"-5\"",
            "\"1e5\"",
            "\"a\"\"b\"",
            "\"x,y\"",
            "\"x\ny\"",
            "\"5\n\"",
            "\"\n7\r\n\"",
            "text",
            "42",
            "-0",
            "0.1",
            "12345678901234567890",
            "\"12345678901234567\"",
            "\"99\"9",
            "",
        ];
        let endings = ["\n", "\r\n", "\r"];
        let width = 12;
        for _ in 0..300 {
            let mut text = String::new();
            for _ in 0..next(30) {
                let common = next(4) != 0;
                let count = if next(20) == 0 {
                    width - 1 + next(3) as usize
                } else {
                    width
                };
                text.push_str("\"02/02/2026 00:00:00.005\"");
                for _ in 1..count {
                    text.push(',');
                    let cell = if common {
                        next(3) as usize
                    } else {
                        next(cells.len() as u64) as usize
                    };
                    text.push_str(cells[cell]);
                }
                text.push_str(endings[next(3) as usize]);
            }
            let kept_sets: [&[usize]; 3] =
                [&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], &[2, 5, 11], &[1]];
            for kept in kept_sets {
                let data = text.as_bytes();
                assert_eq!(
                    fused(data, width, kept),
                    reference(data, width, kept),
                    "{kept:?} {text}"
                );
            }
        }
    }

    #[test]
    fn messages_show_cells_escaped_and_cut_short() {
        assert_eq!(shown(b"12:00"), "12:00");
        assert_eq!(shown(b"a\0\tb"), "a\\u{0}\\tb");
        let zeros = shown(&[0; 5000]);
        assert!(zeros.starts_with("\\u{0}\\u{0}") && zeros.ends_with('…'));
        assert_eq!(zeros.chars().filter(|&c| c == '\\').count(), SHOWN_CHARS);
    }
}
