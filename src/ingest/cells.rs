//! The general tokenizer: the header, and every record the fused pass does not read (a quoted
//! line break, too few or too many cells, a header again, text where a number belongs), read
//! cell by cell by the csv crate. Cells come out unquoted (`""` inside quotes is a quote; a
//! quote opens a quoted cell only at the start of a cell, text after the closing quote belongs
//! to the cell), as `records::cell_end` and `records::unquote` read them on the fast path.

use std::io::{Cursor, SeekFrom};

use csv::{ByteRecord, Position, Reader, ReaderBuilder};

/// Reads records of `data` that start where the caller says, one at a time.
pub struct Cells<'d> {
    data: &'d [u8],
    delimiter: u8,
    /// A csv reader over `data`, made once: it reads on while records come one after another
    /// (a log whose every record takes this path) and is moved after a jump. Making one builds
    /// the csv parser's tables, which cost more than a small log's whole read.
    reader: Option<Reader<Cursor<&'d [u8]>>>,
    record: ByteRecord,
}

impl<'d> Cells<'d> {
    pub fn new(data: &'d [u8], delimiter: u8) -> Self {
        Cells {
            data,
            delimiter,
            reader: None,
            record: ByteRecord::new(),
        }
    }

    /// Reads the record that starts at `start`, a record boundary. Returns where the next
    /// record starts and how many line breaks were passed, including the one ending the record;
    /// CR, LF and CRLF each end a record. An empty line is a record of no cells (which the
    /// reader skips, as the csv crate does).
    pub fn read(&mut self, start: usize) -> (usize, u64) {
        let data = self.data;
        self.record.clear();
        match data.get(start) {
            None => return (start, 0),
            Some(b'\n') => return (start + 1, 1),
            Some(b'\r') => {
                return (
                    start + 1 + usize::from(data.get(start + 1) == Some(&b'\n')),
                    1,
                )
            }
            Some(_) => {}
        }
        // The csv reader stops after the CR of a CRLF; it skips the LF itself on the next read.
        let delimiter = self.delimiter;
        let reader = self.reader.get_or_insert_with(|| {
            ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(Cursor::new(data))
        });
        let at = reader.position().byte() as usize;
        let reads_on = at == start && at > 0 || (at + 1 == start && data[at] == b'\n');
        if !reads_on {
            let mut here = Position::new();
            here.set_byte(start as u64);
            // Seeking a cursor cannot fail; positions stay absolute.
            let _ = reader.seek_raw(SeekFrom::Start(start as u64), here);
        }
        // Reading a byte slice into a byte record cannot fail (no I/O, no UTF-8 check, any
        // number of cells), and the record is not empty, so there is one to read.
        if !matches!(reader.read_byte_record(&mut self.record), Ok(true)) {
            self.record.clear();
            let breaks = super::records::count_byte(&data[start..], b'\n');
            return (data.len(), breaks as u64);
        }
        let mut end = reader.position().byte() as usize;
        if data[end - 1] == b'\r' && data.get(end) == Some(&b'\n') {
            end += 1;
        }
        // Line breaks inside quoted cells are counted here, once per record, not per byte.
        let breaks = super::records::count_byte(&data[start..end], b'\n')
            + usize::from(data[end - 1] == b'\r');
        (end, breaks as u64)
    }

    /// The cells of the record read last, unquoted; none for an empty line.
    pub fn record(&self) -> &ByteRecord {
        &self.record
    }
}

#[cfg(test)]
mod tests {
    use super::super::records::{cell_end, unquote};
    use super::*;

    /// Every record of `text` as the csv crate reads it: (where it starts, line breaks passed,
    /// its cells).
    fn read_all(text: &[u8], delimiter: u8) -> Vec<(usize, u64, Vec<String>)> {
        let mut cells = Cells::new(text, delimiter);
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < text.len() {
            let (next, breaks) = cells.read(pos);
            let record = cells
                .record()
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            out.push((pos, breaks, record));
            pos = next;
        }
        out
    }

    /// The same, cut by `records::cell_end` and unquoted by `records::unquote`, the fast
    /// path's reading: a record ends at a CR, LF or CRLF after a cell.
    fn read_all_by_cell_end(text: &[u8], delimiter: u8) -> Vec<(usize, u64, Vec<String>)> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < text.len() {
            let start = pos;
            let mut record = Vec::new();
            if !matches!(text[pos], b'\r' | b'\n') {
                loop {
                    let end = cell_end(text, pos, delimiter);
                    record.push(String::from_utf8_lossy(&unquote(&text[pos..end])).into_owned());
                    pos = end + 1;
                    if text.get(end) != Some(&delimiter) {
                        break;
                    }
                }
            } else {
                pos += 1;
            }
            pos = pos.min(text.len());
            if text[pos - 1] == b'\r' && text.get(pos) == Some(&b'\n') {
                pos += 1;
            }
            let ended = text[start..pos].ends_with(b"\r") || text[start..pos].ends_with(b"\n");
            let newlines = text[start..pos].iter().filter(|&&b| b == b'\n').count();
            let breaks = newlines + usize::from(text[pos - 1] == b'\r' && ended);
            out.push((start, breaks as u64, record));
        }
        out
    }

    #[test]
    fn cells_come_out_unquoted() {
        let text = b"\"a\",\"b,c\",d\r\n\"say \"\"hi\"\"\",x\n\na\"b,\"c\"d\r\"x\ny\",z\r\n\"cut";
        let records = read_all(text, b',');
        let cells: Vec<&Vec<String>> = records.iter().map(|(_, _, c)| c).collect();
        assert_eq!(
            cells,
            [
                &vec!["a", "b,c", "d"],
                &vec!["say \"hi\"", "x"],
                &vec![],
                &vec!["a\"b", "cd"],
                &vec!["x\ny", "z"],
                &vec!["cut"],
            ]
        );
        let breaks: Vec<u64> = records.iter().map(|(_, b, _)| *b).collect();
        assert_eq!(breaks, [1, 1, 1, 1, 2, 0]);
        assert_eq!(read_all(b"a,b,", b',')[0].2, ["a", "b", ""]);
        assert_eq!(read_all(b"a\tb;c\n", b'\t')[0].2, ["a", "b;c"]);
    }

    #[test]
    fn the_fast_paths_cells_are_the_csv_crates_on_random_records() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let alphabet = b"\"\"\",,,\r\n\n1a ";
        for _ in 0..20_000 {
            let len = next(24) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| alphabet[next(alphabet.len() as u64) as usize])
                .collect();
            assert_eq!(
                read_all(&text, b','),
                read_all_by_cell_end(&text, b','),
                "{}",
                text.escape_ascii()
            );
        }
    }
}
