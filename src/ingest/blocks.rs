//! Reading decoded text in blocks, reused from block to block, and the bound on one record.

use std::io::Read;

use super::error::IngestError;

/// Decoded text is read in blocks of this size; each block is cut at its last record boundary
/// and parsed in pieces on the rayon pool while the next block is read.
pub(super) const BLOCK_LEN: usize = 8 << 20;
/// Below this a piece is not worth a task of its own.
pub(super) const MIN_PIECE_LEN: usize = 256 << 10;

/// Smallest block read from a log of known length.
pub(super) const MIN_BLOCK_LEN: usize = 64 << 10;

/// Fills as much of `buf` as the input has; returns how many bytes were read.
pub(super) fn read_into(
    name: &str,
    input: &mut dyn Read,
    buf: &mut [u8],
) -> Result<usize, IngestError> {
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
pub(super) struct BlockBuffer {
    pub(super) bytes: Vec<u8>,
    /// The text read so far.
    pub(super) len: usize,
}

impl BlockBuffer {
    pub(super) fn text(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Starts the buffer again with `head`.
    pub(super) fn restart(&mut self, head: &[u8]) {
        if self.bytes.len() < head.len() {
            self.bytes.resize(head.len(), 0);
        }
        self.bytes[..head.len()].copy_from_slice(head);
        self.len = head.len();
    }

    /// Appends up to `len` bytes of `input`; returns how many were read (0 at the end).
    pub(super) fn fill(
        &mut self,
        name: &str,
        input: &mut dyn Read,
        len: usize,
    ) -> Result<usize, IngestError> {
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
pub(super) fn read_block(
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

/// The longest record read: a header of 100,000 counter paths is under a tenth of it. Past it
/// the "record" is an unclosed quote or a file without line breaks, which would otherwise be
/// read whole into memory.
pub(super) const MAX_RECORD_LEN: usize = 64 << 20;

/// Errs when `text`, read from `line` on, has grown past [`MAX_RECORD_LEN`] without its last
/// record ending; the error names the line that record starts on.
pub(super) fn check_record_len(name: &str, line: u64, text: &[u8]) -> Result<(), IngestError> {
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
