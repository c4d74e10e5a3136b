//! The decompression budget: what any archive may expand to, counted on the bytes actually
//! decoded, never on a size the archive claims. One [`Budget`] follows one log through every
//! layer (a gzip, a zip entry, a gzip in a zip, a gzip in a gzip): the bytes read from the file
//! or stream are counted once, where they come in, and every decompressor's output is held to
//! [`MAX_EXPANSION_RATIO`] times them and to [`MAX_DECODED_BYTES`] in all.

use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Decoded text one compressed log may expand to: the columns kept from it take a fifth of
/// the text at most, and its timeline a row's 20 bytes, so a few GB of memory in the worst case.
pub const MAX_DECODED_BYTES: u64 = 8 << 30;
/// Real perfmon logs compress 4-6x with gzip -9 (`../shared/realdata`, the samples), idle wide
/// logs of repeated zeros some tens of times: more than this is a decompression bomb.
pub const MAX_EXPANSION_RATIO: u64 = 200;
/// Decoded bytes any archive may reach whatever its ratio: a tiny archive of a small log.
pub const FREE_DECODED_BYTES: u64 = 1 << 20;
/// Archive layers opened around one log (a gzip in a zip is two); deeper is refused.
pub const MAX_NESTING: usize = 4;

/// The counts of one log's read, shared by the layers that feed it.
#[derive(Clone, Default, Debug)]
pub struct Budget {
    /// Bytes read from the file or stream itself (compressed, when it is).
    raw: Arc<AtomicU64>,
}

impl Budget {
    pub fn new() -> Self {
        Budget::default()
    }

    /// Counts the bytes `inner` gives as the log's raw input.
    pub fn count_raw<R>(&self, inner: R) -> RawCount<R> {
        RawCount {
            inner,
            raw: Arc::clone(&self.raw),
        }
    }

    /// Holds what a decompressor makes of the raw input to the budget; `name` is the log's.
    pub fn limit_decoded<R>(&self, name: &str, inner: R) -> Decoded<R> {
        Decoded {
            inner,
            raw: Arc::clone(&self.raw),
            decoded: 0,
            name: name.to_string(),
        }
    }

    /// Decoded bytes allowed once `raw` bytes have been read.
    fn allowed(raw: u64) -> u64 {
        raw.saturating_mul(MAX_EXPANSION_RATIO)
            .saturating_add(FREE_DECODED_BYTES)
            .min(MAX_DECODED_BYTES)
    }
}

/// The raw input, counted as it is read (seeks pass through: a zip entry is found by seeking).
pub struct RawCount<R> {
    inner: R,
    raw: Arc<AtomicU64>,
}

impl<R: Read> Read for RawCount<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.raw.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for RawCount<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// A decompressor's output, stopped with an error when it outgrows the budget.
pub struct Decoded<R> {
    inner: R,
    raw: Arc<AtomicU64>,
    decoded: u64,
    name: String,
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.decoded += n as u64;
        let raw = self.raw.load(Ordering::Relaxed);
        if self.decoded > Budget::allowed(raw) {
            let why = if self.decoded > MAX_DECODED_BYTES {
                format!("past {} GB of text", MAX_DECODED_BYTES >> 30)
            } else {
                format!(
                    "over {MAX_EXPANSION_RATIO}x the {raw} compressed bytes read so far (a decompression bomb?)"
                )
            };
            return Err(std::io::Error::other(format!(
                "{}: refused, the archive expands {why}; if it is a real log, decompress it and give the plain file",
                self.name
            )));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_bytes_are_held_to_the_raw_bytes_read() {
        let budget = Budget::new();
        let mut raw = budget.count_raw(&[0u8; 1000][..]);
        std::io::copy(&mut raw, &mut std::io::sink()).unwrap();
        let allowed = Budget::allowed(1000);
        assert_eq!(allowed, 1000 * MAX_EXPANSION_RATIO + FREE_DECODED_BYTES);
        let within = std::io::repeat(b'x').take(allowed);
        let mut out = budget.limit_decoded("log.gz", within);
        assert_eq!(
            std::io::copy(&mut out, &mut std::io::sink()).unwrap(),
            allowed
        );
        let past = std::io::repeat(b'x').take(allowed + 1);
        let mut out = budget.limit_decoded("log.gz", past);
        let error = std::io::copy(&mut out, &mut std::io::sink()).unwrap_err();
        assert!(error.to_string().contains("log.gz: refused"), "{error}");
        assert!(error.to_string().contains("200x"), "{error}");
    }

    #[test]
    fn the_total_is_capped_whatever_was_read() {
        assert_eq!(Budget::allowed(u64::MAX / 2), MAX_DECODED_BYTES);
    }
}
