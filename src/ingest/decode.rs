//! Character encodings: sniffs a BOM, UTF-16 without BOM, UTF-8, or a legacy code page
//! (Windows-1251 / -1252) from the first bytes, and turns any of them into a UTF-8 byte stream
//! without reading the whole file.

use std::io::{self, Read};

use encoding_rs::{
    CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1251, WINDOWS_1252,
};

/// The encoding chosen for a log and how many BOM bytes precede the text.
#[derive(Debug, Clone, Copy)]
pub struct Sniffed {
    pub encoding: &'static Encoding,
    pub bom_len: usize,
}

/// Picks the encoding from the first bytes of a file (`forced` wins when given).
pub fn sniff(prefix: &[u8], forced: Option<&'static Encoding>) -> Sniffed {
    if let Some((enc, bom_len)) = Encoding::for_bom(prefix) {
        return Sniffed {
            encoding: enc,
            bom_len,
        };
    }
    if let Some(enc) = forced {
        return Sniffed {
            encoding: enc,
            bom_len: 0,
        };
    }
    // UTF-16 text that is mostly ASCII has a zero in every other byte.
    let pairs = prefix.len().min(512) / 2;
    if pairs >= 4 {
        let even_zero = (0..pairs).filter(|i| prefix[2 * i] == 0).count();
        let odd_zero = (0..pairs).filter(|i| prefix[2 * i + 1] == 0).count();
        if odd_zero * 10 >= pairs * 8 && even_zero * 10 < pairs {
            return Sniffed {
                encoding: UTF_16LE,
                bom_len: 0,
            };
        }
        if even_zero * 10 >= pairs * 8 && odd_zero * 10 < pairs {
            return Sniffed {
                encoding: UTF_16BE,
                bom_len: 0,
            };
        }
    }
    let valid_utf8 = match std::str::from_utf8(prefix) {
        Ok(_) => true,
        // A multi-byte character cut by the end of the prefix is still UTF-8.
        Err(e) => e.error_len().is_none(),
    };
    if valid_utf8 {
        return Sniffed {
            encoding: UTF_8,
            bom_len: 0,
        };
    }
    Sniffed {
        encoding: guess_legacy(prefix),
        bom_len: 0,
    }
}

/// Cyrillic text in Windows-1251 is made almost entirely of bytes 0xC0..=0xFF, while Western
/// text in Windows-1252 has only occasional accented letters among ASCII letters.
fn guess_legacy(prefix: &[u8]) -> &'static Encoding {
    let high_letters = prefix.iter().filter(|&&b| b >= 0xC0).count();
    let ascii_letters = prefix.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if high_letters > 0 && high_letters * 3 >= ascii_letters {
        WINDOWS_1251
    } else {
        WINDOWS_1252
    }
}

/// A reader that decodes `inner` from any encoding_rs encoding into UTF-8, chunk by chunk.
pub struct Utf8Transcoder<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    input_len: usize,
    output: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    eof: bool,
    finished: bool,
}

const CHUNK: usize = 256 * 1024;

impl<R: Read> Utf8Transcoder<R> {
    pub fn new(inner: R, encoding: &'static Encoding) -> Self {
        let decoder = encoding.new_decoder_without_bom_handling();
        let out_cap = decoder
            .max_utf8_buffer_length(CHUNK)
            .unwrap_or(CHUNK * 3)
            .max(16);
        Utf8Transcoder {
            inner,
            decoder,
            input: vec![0; CHUNK],
            input_len: 0,
            output: vec![0; out_cap],
            out_pos: 0,
            out_len: 0,
            eof: false,
            finished: false,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        while self.out_pos == self.out_len && !self.finished {
            if !self.eof && self.input_len < self.input.len() {
                let n = self.inner.read(&mut self.input[self.input_len..])?;
                if n == 0 {
                    self.eof = true;
                }
                self.input_len += n;
            }
            let (result, read, written, _had_errors) = self.decoder.decode_to_utf8(
                &self.input[..self.input_len],
                &mut self.output,
                self.eof,
            );
            self.input.copy_within(read..self.input_len, 0);
            self.input_len -= read;
            self.out_pos = 0;
            self.out_len = written;
            // Once the last input is consumed the decoder is done, even when that last call
            // still wrote something (a code unit cut in half becomes U+FFFD): encoding_rs
            // panics if a finished decoder is called again.
            if self.eof && result == CoderResult::InputEmpty {
                self.finished = true;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf8Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_pos == self.out_len {
            self.refill()?;
        }
        let n = (self.out_len - self.out_pos).min(buf.len());
        buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcode(bytes: &[u8], enc: &'static Encoding) -> String {
        let mut out = String::new();
        Utf8Transcoder::new(bytes, enc)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn sniffs_boms_and_utf16_without_bom() {
        assert_eq!(sniff(b"\xEF\xBB\xBFab", None).encoding, UTF_8);
        assert_eq!(sniff(b"\xFF\xFEa\0", None).bom_len, 2);
        let le: Vec<u8> = "\"(PDH-CSV 4.0)\""
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(sniff(&le, None).encoding, UTF_16LE);
        let be: Vec<u8> = "\"(PDH-CSV 4.0)\""
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(sniff(&be, None).encoding, UTF_16BE);
    }

    #[test]
    fn legacy_code_pages() {
        let (ru, _, _) = WINDOWS_1251.encode("\\\\PC\\Процесс(x)\\Счетчик потоков");
        assert_eq!(sniff(&ru, None).encoding, WINDOWS_1251);
        let (fr, _, _) = WINDOWS_1252.encode("\\\\PC\\Processus(x)\\Octets privés");
        assert_eq!(sniff(&fr, None).encoding, WINDOWS_1252);
        assert_eq!(
            transcode(&ru, WINDOWS_1251),
            "\\\\PC\\Процесс(x)\\Счетчик потоков"
        );
    }

    #[test]
    fn a_code_unit_cut_in_half_at_the_end_reads_as_a_replacement_character() {
        for text in ["ab", &"Prozessorzeit (%) ä € ".repeat(20_000)] {
            let mut le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            le.push(b'x');
            assert_eq!(transcode(&le, UTF_16LE), format!("{text}\u{FFFD}"));
        }
        // A lone high surrogate at the very end, too.
        assert_eq!(transcode(b"a\0\x00\xD8", UTF_16LE), "a\u{FFFD}");
    }

    #[test]
    fn transcodes_across_chunk_boundaries() {
        let text: String = "Prozessorzeit (%) ä € ".repeat(40_000);
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(transcode(&le, UTF_16LE), text);
    }
}
