//! Parsing one run of whole records, independently of the others: the fused pass over the
//! common record, and cell by cell for any other.

use chrono::NaiveDateTime;

use super::cells::Cells;
use super::records;
use super::series;
use super::stamps::{parse_timestamp, DateOrder};
use super::warn::{shown, MAX_LISTED};

/// What one data record turned out to be.
pub(super) enum RowKind {
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

pub(super) struct Row {
    /// Line breaks between the start of the piece and this record.
    pub(super) breaks_before: u64,
    pub(super) kind: RowKind,
}

/// A cell of a kept column that is not a number.
pub(super) struct BadCell {
    /// Index of its row in `Piece::rows`.
    pub(super) row: usize,
    /// 1-based column number in the file.
    pub(super) column: usize,
    pub(super) text: String,
}

/// The parse of one run of whole records, done independently of the others.
pub(super) struct Piece {
    pub(super) rows: Vec<Row>,
    /// Each kept column's values (one per `Sample` row) encoded on the parsing thread, one
    /// frame after the other; `frame_ends[k]` is where column `k`'s frame ends.
    pub(super) frames: Vec<u8>,
    pub(super) frame_ends: Vec<usize>,
    /// The first `MAX_LISTED` non-numeric cells (more are only counted).
    pub(super) bad_cells: Vec<BadCell>,
    pub(super) bad_cell_count: usize,
    /// Line breaks in the whole piece.
    pub(super) breaks: u64,
}

thread_local! {
    /// Per-column value buffers of the pieces a pool thread parses, reused from piece to piece.
    static SCRATCH: std::cell::RefCell<Vec<Vec<f64>>> = const { std::cell::RefCell::new(Vec::new()) };
}

pub(super) fn parse_piece(
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
pub(super) fn parse_piece_into(
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
    let mut cells = Cells::new(data, delimiter);
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
        let (next, breaks) = cells.read(pos);
        pos = next;
        piece.breaks += breaks;
        let record = cells.record();
        if record.is_empty() {
            continue;
        }
        let first_cell = &record[0];
        // Checked before the width: a joined log's header may have any number of cells.
        let kind = if first_cell.starts_with(b"(PDH-") {
            RowKind::Header(
                record
                    .iter()
                    .map(|cell| String::from_utf8_lossy(cell).into_owned())
                    .collect(),
            )
        } else if record.len() < width {
            RowKind::Short(record.len())
        } else if record.len() > width {
            RowKind::Long(record.len())
        } else {
            match parse_timestamp(first_cell, order) {
                Some(stamp) => {
                    let row = piece.rows.len();
                    for (&index, values) in kept.iter().zip(values.iter_mut()) {
                        let text = &record[index];
                        let value = if decimal_comma {
                            records::parse_decimal_comma(text)
                        } else {
                            // Thousands commas only a spreadsheet writes, so only tried last.
                            records::parse_text(text).or_else(|| {
                                (delimiter == b',')
                                    .then(|| records::parse_thousands_commas(text))
                                    .flatten()
                            })
                        };
                        let value = value.unwrap_or_else(|| {
                            piece.bad_cell_count += 1;
                            if piece.bad_cells.len() < MAX_LISTED {
                                piece.bad_cells.push(BadCell {
                                    row,
                                    column: index + 1,
                                    text: shown(text),
                                });
                            }
                            f64::NAN
                        });
                        values.push(value);
                    }
                    samples += 1;
                    RowKind::Sample(stamp)
                }
                None => RowKind::BadStamp(shown(first_cell)),
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

/// The fused pass over the common record: a sample of exactly `width` cells, no line break
/// inside a cell, every kept cell a number. Finds the cell boundaries and reads the kept cells'
/// numbers as it goes, pushing one value per kept column onto `values` (each holding `samples`
/// values before). Returns where the next record starts, the line breaks passed and the
/// timestamp; `None`, with `values` as they were, for any other record, which the caller then
/// reads with [`Cells`] (the csv crate) and `records::parse_text` (and words its warnings).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn read_sample(
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
pub(super) fn kept_cell(data: &[u8], pos: usize, delimiter: u8) -> Option<(f64, usize)> {
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
pub(super) fn record_next(data: &[u8], end: usize) -> Option<(usize, u64)> {
    match data.get(end) {
        None => Some((end, 0)),
        Some(b'\n') => Some((end + 1, 1)),
        Some(b'\r') => Some((end + 1 + usize::from(data.get(end + 1) == Some(&b'\n')), 1)),
        Some(_) => None,
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

    /// What the records of `data` read as, cell by cell through the csv crate ([`Cells`]) and
    /// `records::parse_text`: per row, its line breaks before and kind; per kept column, values.
    fn reference(data: &[u8], width: usize, kept: &[usize]) -> (Vec<String>, Vec<Vec<u64>>, usize) {
        let mut rows = Vec::new();
        let mut bad = 0;
        let mut columns = vec![Vec::new(); kept.len()];
        let mut cells = Cells::new(data, b',');
        let (mut pos, mut breaks) = (0, 0);
        while pos < data.len() {
            let (next, passed) = cells.read(pos);
            let before = breaks;
            (pos, breaks) = (next, breaks + passed);
            let record = cells.record();
            if record.is_empty() {
                continue;
            }
            let first_cell = &record[0];
            let kind = if first_cell.starts_with(b"(PDH-") {
                "header".to_string()
            } else if record.len() != width {
                format!("{} cells", record.len())
            } else {
                match parse_timestamp(first_cell, DateOrder::Mdy) {
                    Some(stamp) => {
                        for (&index, column) in kept.iter().zip(&mut columns) {
                            let value = records::parse_text(&record[index]).unwrap_or_else(|| {
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
    fn fused_pass_reads_like_the_csv_crate_and_parse_text() {
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
    fn fused_pass_reads_random_logs_like_the_csv_crate_and_parse_text() {
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
}
