//! What the bytes are: gzip, zip, binary (BLG or not), or text in some encoding and delimiter;
//! the entry point of the text reader, which unwraps and decodes before [`super::reader`] parses.

use std::io::{Cursor, Read};

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};
use flate2::read::MultiGzDecoder;

use super::blocks::{read_into, MAX_RECORD_LEN};
use super::budget::{Budget, MAX_NESTING};
use super::decode::{self, Utf8Transcoder};
use super::delimiter;
use super::error::IngestError;
use super::log::PerfLog;
use super::reader::parse;
use super::ReadOptions;

const SNIFF_LEN: usize = 64 * 1024;
/// The first bytes of every binary perfmon log in the sample set.
const BLG_MAGIC: [u8; 4] = [0, 0, 1, 0];

/// Reads a log from a file opened by name. A regular file holding a BLG is mapped and read in
/// place (no copy of its gigabyte into the process); anything else, or a file that cannot be
/// mapped, is read as a stream.
///
/// The length is read once and only that many bytes are mapped, so a file that grows while it
/// is read (a log still being written) is read as it was. A file cut short by another process
/// while it is mapped would end this one with SIGBUS, as for every reader that maps files; a
/// finished perfmon log is not changed, and on Windows a mapped file cannot be cut.
pub fn read_plain_file(
    name: &str,
    file: std::fs::File,
    options: &ReadOptions,
) -> Result<PerfLog, IngestError> {
    let len = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    if let Some(map) = len.and_then(|len| map_blg(&file, len)) {
        // Pages the reader is done with leave this process's memory as it goes, so a mapped
        // gigabyte does not stay resident (they are the file's: read again if touched).
        #[cfg(unix)]
        let mut release = |start: usize, len: usize| {
            // SAFETY: nothing refers to these bytes any more (the reader says so), and a
            // read-only map of a file is not changed by dropping its pages: they are read
            // from the file again if touched.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, len)
            };
        };
        #[cfg(not(unix))]
        let mut release = |_: usize, _: usize| {};
        return super::blg::read_log_bytes(name, &map, options.all_columns, &mut release)
            .map(super::sanity::checked);
    }
    read_stream(name, file, options, len)
}

/// Reads a log held whole in memory: a BLG in place (as a mapped file), anything else as a
/// stream.
pub fn read_in_memory(
    name: &str,
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<PerfLog, IngestError> {
    if is_blg(&bytes[..SNIFF_LEN.min(bytes.len())]) {
        return super::blg::read_log_bytes(name, bytes, options.all_columns, &mut |_, _| {})
            .map(super::sanity::checked);
    }
    read_stream(name, bytes, options, Some(bytes.len() as u64))
}

/// Whether a stream's first bytes are those of a BLG (an ETW log file).
fn is_blg(prefix: &[u8]) -> bool {
    prefix.starts_with(&BLG_MAGIC) && super::blg::looks_like_etw(prefix)
}

/// A map of the file's first `len` bytes when they start like a BLG (the file's position is
/// not moved, so the stream path reads it from the start otherwise).
fn map_blg(file: &std::fs::File, len: u64) -> Option<memmap2::Mmap> {
    let len = usize::try_from(len).ok()?;
    if len < SNIFF_LEN.min(super::blg::BUFFER_LEN) {
        return None;
    }
    // SAFETY: the map is read only and lives as long as the read; the bytes are plain data,
    // every offset in them is checked before use. Only a truncation by another process while
    // the map is read can fault (see `read_plain_file`).
    let map = unsafe { memmap2::MmapOptions::new().len(len).map(file) }.ok()?;
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    let prefix = &map[..SNIFF_LEN.min(len)];
    is_blg(prefix).then_some(map)
}

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

/// A zip's local file header, or the end-of-central-directory record that alone makes an empty
/// archive.
pub(crate) fn is_zip_magic(magic: &[u8]) -> bool {
    magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"PK\x05\x06")
}
