//! The ETW container: a .blg is read as a stream of 64 KiB buffers, each holding events padded
//! to 8 bytes; PDH events are picked out and records split into fragments are joined again.
//! Every size and offset read from the file is checked against the bytes actually present.

use std::borrow::Cow;
use std::io::Read;
use std::ops::Range;

use super::Damage;

/// Every ETW log file is a sequence of buffers of this size.
pub const BUFFER_LEN: usize = 0x10000;
/// WMI_BUFFER_HEADER: events start after it.
pub const BUFFER_HEADER_LEN: usize = 0x48;
/// EVENT_TRACE_HEADER of a PDH event.
const EVENT_HEADER_LEN: usize = 0x30;
/// The PDH payload prefix: log id GUID, fragment index, fragment count.
const PDH_PREFIX_LEN: usize = 24;
/// The PDH provider {933f3bb3-943e-490d-9ced-3cbb14c14479}, as stored (little-endian GUID).
const PDH_PROVIDER: [u8; 16] = [
    0xb3, 0x3b, 0x3f, 0x93, 0x3e, 0x94, 0x0d, 0x49, 0x9c, 0xed, 0x3c, 0xbb, 0x14, 0xc1, 0x44, 0x79,
];
/// A record joined from fragments is dropped past this size: no PDH record comes near it, and
/// it bounds what a corrupt fragment chain can make the reader hold.
const MAX_RECORD_LEN: usize = 256 << 20;

pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at.checked_add(2)?)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?)
        .map(|s| u32::from_le_bytes(s.try_into().expect("4 bytes")))
}

pub(crate) fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    u32_at(b, at).map(|v| v as i32)
}

pub(crate) fn i64_at(b: &[u8], at: usize) -> Option<i64> {
    b.get(at..at.checked_add(8)?)
        .map(|s| i64::from_le_bytes(s.try_into().expect("8 bytes")))
}

/// A UTF-16LE string starting at `at`, up to its terminating NUL (or the end of `b`).
pub(crate) fn utf16z_at(b: &[u8], at: usize) -> Option<String> {
    let rest = b.get(at..)?;
    let units: Vec<u16> = rest
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    Some(String::from_utf16_lossy(&units))
}

/// Whether `prefix` (the first bytes of a stream) starts like an ETW log file: a 64 KiB buffer
/// whose first event is a trace header.
pub fn looks_like_etw(prefix: &[u8]) -> bool {
    u32_at(prefix, 0) == Some(BUFFER_LEN as u32)
        && prefix.get(BUFFER_HEADER_LEN + 3) == Some(&0xC0)
        && matches!(prefix.get(BUFFER_HEADER_LEN + 2), Some(1 | 2))
}

/// One buffer as read: its place in the file and its bytes (fewer than 64 KiB when the file
/// was cut short): read from a stream (owned), or lying in a file held whole in memory.
pub struct Buffer<'a> {
    pub index: usize,
    pub offset: u64,
    /// The buffer's FILETIME (UTC); 0 where the writer left it out.
    pub stamp: i64,
    pub bytes: Cow<'a, [u8]>,
}

impl<'a> Buffer<'a> {
    fn new(index: usize, bytes: Cow<'a, [u8]>) -> Self {
        Buffer {
            index,
            offset: (index * BUFFER_LEN) as u64,
            stamp: i64_at(&bytes, 0x10).unwrap_or(0),
            bytes,
        }
    }
}

/// Where the buffers come from: a stream read one buffer at a time ([`Buffers`]) or a whole
/// file in memory ([`Slices`], whose buffers and single-fragment records are not copied).
pub trait BufferSource<'a> {
    /// The next buffer, `None` at the end; a read error ends the log with `Err`.
    fn next_buffer(&mut self) -> std::io::Result<Option<Buffer<'a>>>;
    /// Gives a buffer back once its events are read.
    fn recycle(&mut self, _buffer: Buffer<'a>) {}
    /// Says that nothing is read any more from the buffers before `index`.
    fn done_below(&mut self, _index: usize) {}
}

/// Buffers left resident behind the last one done with before they are released together.
const RELEASE_EVERY: usize = 16;

/// The buffers of a whole file in memory: slices of it, nothing copied.
pub struct Slices<'a> {
    bytes: &'a [u8],
    index: usize,
    /// Told each stretch of bytes (start, length) no longer read, so a mapped file's pages can
    /// leave memory as it is read (they are the file's: read again if ever touched).
    release: &'a mut dyn FnMut(usize, usize),
    released: usize,
}

impl<'a> Slices<'a> {
    pub fn new(bytes: &'a [u8], release: &'a mut dyn FnMut(usize, usize)) -> Self {
        Slices {
            bytes,
            index: 0,
            release,
            released: 0,
        }
    }
}

impl<'a> BufferSource<'a> for Slices<'a> {
    fn next_buffer(&mut self) -> std::io::Result<Option<Buffer<'a>>> {
        let start = self.index.saturating_mul(BUFFER_LEN);
        if start >= self.bytes.len() {
            return Ok(None);
        }
        let end = self.bytes.len().min(start + BUFFER_LEN);
        let buffer = Buffer::new(self.index, Cow::Borrowed(&self.bytes[start..end]));
        self.index += 1;
        Ok(Some(buffer))
    }

    fn done_below(&mut self, index: usize) {
        let index = index.min(self.index);
        if index >= self.released + RELEASE_EVERY {
            let start = self.released * BUFFER_LEN;
            let end = (index * BUFFER_LEN).min(self.bytes.len());
            (self.release)(start, end.saturating_sub(start));
            self.released = index;
        }
    }
}

/// Reads the stream one buffer at a time; never more than one buffer is held.
pub struct Buffers<R> {
    input: R,
    index: usize,
    done: bool,
    /// A buffer's bytes given back, filled again by the next read.
    spare: Option<Vec<u8>>,
}

impl<R: Read> Buffers<R> {
    pub fn new(input: R) -> Self {
        Buffers {
            input,
            index: 0,
            done: false,
            spare: None,
        }
    }
}

impl<R: Read> BufferSource<'static> for Buffers<R> {
    /// Gives a buffer's bytes back for the next read (no allocation per buffer).
    fn recycle(&mut self, buffer: Buffer<'static>) {
        if let Cow::Owned(bytes) = buffer.bytes {
            self.spare = Some(bytes);
        }
    }

    fn next_buffer(&mut self) -> std::io::Result<Option<Buffer<'static>>> {
        if self.done {
            return Ok(None);
        }
        let mut bytes = self.spare.take().unwrap_or_default();
        // Old bytes are overwritten by the read; any past what it fills are cut off below.
        bytes.resize(BUFFER_LEN, 0);
        let mut filled = 0;
        while filled < BUFFER_LEN {
            match self.input.read(&mut bytes[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled < BUFFER_LEN {
            self.done = true;
            if filled == 0 {
                return Ok(None);
            }
            bytes.truncate(filled);
        }
        let index = self.index;
        self.index += 1;
        Ok(Some(Buffer::new(index, Cow::Owned(bytes))))
    }
}

/// A PDH event of a buffer: its record kind (Class.Type), fragment numbers and where its body
/// lies in the buffer.
pub struct Fragment {
    pub kind: u8,
    pub index: u32,
    pub count: u32,
    /// Byte offset of the event in the file, for messages.
    pub at: u64,
    pub body: Range<usize>,
}

/// The PDH events of one buffer, in buffer order; damage is reported and ends the walk.
pub fn fragments(buffer: &Buffer, damage: &mut Damage) -> Vec<Fragment> {
    let b = &buffer.bytes;
    let mut out = Vec::new();
    if b.len() < BUFFER_LEN {
        damage.at(
            buffer.index,
            buffer.offset,
            format_args!(
                "the file ends {} bytes into this buffer (cut short): its complete events are read",
                b.len()
            ),
        );
    }
    if u32_at(b, 0) != Some(BUFFER_LEN as u32) {
        damage.at(
            buffer.index,
            buffer.offset,
            "the buffer does not start with the 64 KiB size mark: skipped (corrupt or not part of the log)",
        );
        return out;
    }
    let used = u32_at(b, 0x30).unwrap_or(0) as usize;
    let end = if !(BUFFER_HEADER_LEN..=BUFFER_LEN).contains(&used) {
        damage.at(
            buffer.index,
            buffer.offset + 0x30,
            format_args!("the buffer's used-bytes field ({used}) is out of range: events are read until one is unsound"),
        );
        b.len()
    } else {
        used.min(b.len())
    };
    let mut off = BUFFER_HEADER_LEN;
    while off + EVENT_HEADER_LEN <= end {
        let at = buffer.offset + off as u64;
        let header_type = b[off + 2];
        // System trace headers (types 1, 2: the log-file header) keep their size at +4.
        let size_at = if matches!(header_type, 1 | 2) {
            off + 4
        } else {
            off
        };
        let size = u16_at(b, size_at).unwrap_or(0) as usize;
        let marker = b[off + 3];
        if size == 0xFFFF && header_type == 0xFF {
            break; // the 0xFF filler after the last event
        }
        if size < EVENT_HEADER_LEN || marker & 0xC0 != 0xC0 {
            damage.at(
                buffer.index,
                at,
                format_args!("an event header is unsound (size {size}, marker {marker:#04x}): the rest of the buffer is skipped"),
            );
            break;
        }
        if off + size > end {
            damage.at(
                buffer.index,
                at,
                format_args!(
                    "an event of {size} bytes runs past the buffer's {end} used bytes: the rest of the buffer is skipped"
                ),
            );
            break;
        }
        let event = &b[off..off + size];
        // 0x0A / 0x14: full 32- and 64-bit event headers; others (the log-file header's system
        // trace header) are not PDH events.
        if matches!(header_type, 0x0A | 0x14) && event[0x18..0x28] == PDH_PROVIDER {
            if size < EVENT_HEADER_LEN + PDH_PREFIX_LEN {
                damage.at(
                    buffer.index,
                    at,
                    "a PDH event is too short for its prefix: skipped",
                );
            } else {
                out.push(Fragment {
                    kind: event[4],
                    index: u32_at(event, 0x40).unwrap_or(0),
                    count: u32_at(event, 0x44).unwrap_or(0),
                    at,
                    body: off + EVENT_HEADER_LEN + PDH_PREFIX_LEN..off + size,
                });
            }
        }
        off += (size + 7) & !7;
    }
    out
}

/// A PDH record rebuilt from its fragments (a record of one fragment in a file held in
/// memory is not copied).
pub struct Record<'a> {
    pub kind: u8,
    pub buffer: usize,
    /// File offset of its first fragment.
    pub at: u64,
    pub body: Cow<'a, [u8]>,
}

/// Joins fragments 1..N of a record, which follow one another in the log.
#[derive(Default)]
pub struct Joiner {
    pending: Option<(Record<'static>, u32, u32)>,
    /// Bodies of records already read, given back to be filled again.
    spare: Vec<Vec<u8>>,
}

/// Room reserved for a record at its first fragment at most (a count read from a corrupt file
/// is not trusted further).
const RESERVE_MAX: usize = 4 << 20;
/// Bodies kept for reuse at most.
const SPARE_BODIES: usize = 8;

impl Joiner {
    /// Gives a record's body back for a later record (its capacity is what is kept).
    pub fn give(&mut self, mut body: Vec<u8>) {
        if self.spare.len() < SPARE_BODIES && body.capacity() > 0 {
            body.clear();
            self.spare.push(body);
        }
    }

    /// Feeds one fragment of `from`; returns the record it completes, if any.
    pub fn push<'a>(
        &mut self,
        from: &Buffer<'a>,
        f: &Fragment,
        damage: &mut Damage,
    ) -> Option<Record<'a>> {
        let buffer = from.index;
        let bytes = &from.bytes[f.body.clone()];
        if f.count == 0 || f.index == 0 || f.index > f.count {
            damage.at(
                buffer,
                f.at,
                format_args!(
                    "fragment {} of {} is out of range: skipped",
                    f.index, f.count
                ),
            );
            return None;
        }
        if f.index == 1 {
            if let Some((lost, next, count)) = self.pending.take() {
                damage.at(
                    lost.buffer,
                    lost.at,
                    format_args!(
                        "a record in {count} fragments lost fragments {next}..{count}: skipped"
                    ),
                );
            }
            if f.count == 1 {
                if let Cow::Borrowed(whole) = from.bytes {
                    return Some(Record {
                        kind: f.kind,
                        buffer,
                        at: f.at,
                        body: Cow::Borrowed(&whole[f.body.clone()]),
                    });
                }
            }
            let mut body = self.spare.pop().unwrap_or_default();
            // Room for all its fragments at once (the others are about as long as the first,
            // the last shorter): growing it fragment by fragment copied it again each time.
            body.reserve(
                bytes
                    .len()
                    .saturating_mul(f.count as usize)
                    .min(RESERVE_MAX),
            );
            body.extend_from_slice(bytes);
            let record = Record {
                kind: f.kind,
                buffer,
                at: f.at,
                body: Cow::Owned(body),
            };
            if f.count == 1 {
                return Some(record);
            }
            self.pending = Some((record, 2, f.count));
            return None;
        }
        match self.pending.take() {
            Some((mut record, next, count))
                if next == f.index && count == f.count && record.kind == f.kind =>
            {
                if record.body.len() + bytes.len() > MAX_RECORD_LEN {
                    damage.at(
                        buffer,
                        f.at,
                        "a fragmented record grows past 256 MiB: skipped",
                    );
                    return None;
                }
                record.body.to_mut().extend_from_slice(bytes);
                if f.index == f.count {
                    return Some(record);
                }
                self.pending = Some((record, next + 1, count));
                None
            }
            pending => {
                let what = match &pending {
                    Some((_, next, count)) => format!("; fragment {next} of {count} was expected"),
                    None => String::new(),
                };
                damage.at(
                    buffer,
                    f.at,
                    format_args!(
                        "fragment {} of {} has no start{what}: the record is skipped",
                        f.index, f.count
                    ),
                );
                None
            }
        }
    }

    /// Reports a record still incomplete at the end of the log.
    pub fn finish(&mut self, damage: &mut Damage) {
        if let Some((lost, next, count)) = self.pending.take() {
            damage.at(
                lost.buffer,
                lost.at,
                format_args!("the log ends before fragments {next}..{count} of a record: skipped"),
            );
        }
    }
}
