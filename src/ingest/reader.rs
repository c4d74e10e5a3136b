//! The streaming PDH-CSV/TSV reader: one pass over the decoded text, keeping only the columns
//! the analysis needs. Reads the header, hands blocks of records to the pool (`piece`) and
//! assembles their rows in file order: the timeline (`timeline`), the columns and the warnings
//! (`warn`) that name the file, line and column of every oddity.

use std::io::Read;

use chrono::NaiveDateTime;

use super::blocks::{
    check_record_len, read_block, BlockBuffer, BLOCK_LEN, MIN_BLOCK_LEN, MIN_PIECE_LEN,
};
use super::cells::Cells;
use super::decode;
use super::delimiter;
use super::error::IngestError;
use super::header::HeaderCell;
use super::log::{Column, CounterPath, LogFormat, PerfLog, SourceInfo};
use super::piece::{parse_piece, Piece, RowKind};
use super::records;
use super::series::Series;
use super::stamps::{self, STAMP_EXAMPLE};
use super::timeline::{drop_rows, Timeline};
use super::warn::{shown, Kind, Warnings, MAX_LISTED};
use super::ReadOptions;

/// Rows without a timestamp are skipped (a crashed collector's zeros, a corrupt line) while they
/// are at most this share of the rows; more, and the file is not read as a log.
const MAX_BAD_STAMP_SHARE: f64 = 0.1;

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

pub(super) fn parse(
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
    let mut cells = Cells::new(&pending, delimiter);
    let mut pos = 0;
    let mut lines_before = 0u64;
    let header_line = loop {
        if pos >= pending.len() {
            return Err(IngestError::Empty {
                file: name.to_string(),
            });
        }
        let (next, breaks) = cells.read(pos);
        let line = lines_before + 1;
        pos = next;
        lines_before += breaks;
        if !cells.record().is_empty() {
            break line;
        }
    };
    let mut warnings = Warnings::new(name);
    let header: Vec<String> = cells
        .record()
        .iter()
        .map(|cell| String::from_utf8_lossy(cell).into_owned())
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
