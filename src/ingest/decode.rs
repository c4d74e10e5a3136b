//! Character encodings: sniffs a BOM, UTF-16 without BOM, UTF-8, or a legacy code page
//! (Windows-125x, Shift_JIS, GBK, Big5, EUC-KR, ...) from the header and first rows, and turns
//! any of them into a UTF-8 byte stream without reading the whole file.

use std::io::{self, Read};

use encoding_rs::{
    CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1250, WINDOWS_1251,
    WINDOWS_1252, WINDOWS_1257,
};

/// The encoding chosen for a log, why, and how many BOM bytes precede the text.
#[derive(Debug, Clone, Copy)]
pub struct Sniffed {
    pub encoding: &'static Encoding,
    pub bom_len: usize,
    /// Why this encoding was chosen, in words (shown by `inspect`).
    pub reason: &'static str,
}

impl Sniffed {
    fn new(encoding: &'static Encoding, bom_len: usize, reason: &'static str) -> Sniffed {
        Sniffed {
            encoding,
            bom_len,
            reason,
        }
    }
}

/// UTF-16 text without a byte-order mark, from the zeros of its ASCII characters: perfmon
/// text starts with the ASCII header cell, so every other byte of its first characters is 0.
pub fn utf16_without_bom(prefix: &[u8]) -> Option<&'static Encoding> {
    let pairs = prefix.len().min(512) / 2;
    if pairs < 4 {
        return None;
    }
    let even_zero = (0..pairs).filter(|i| prefix[2 * i] == 0).count();
    let odd_zero = (0..pairs).filter(|i| prefix[2 * i + 1] == 0).count();
    if odd_zero * 10 >= pairs * 8 && even_zero * 10 < pairs {
        Some(UTF_16LE)
    } else if even_zero * 10 >= pairs * 8 && odd_zero * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// True when the encoding can be decided from the first bytes alone (a BOM, a forced label,
/// UTF-16's zeros); otherwise it is decided from the whole header record, since the first
/// non-ASCII name may stand far into a wide header.
pub fn decided_by_prefix(prefix: &[u8], forced: Option<&'static Encoding>) -> bool {
    Encoding::for_bom(prefix).is_some() || forced.is_some() || utf16_without_bom(prefix).is_some()
}

/// Picks the encoding from the start of a file: a BOM, then `forced`, then UTF-16's zeros, then
/// the bytes themselves (which hold at least the whole header record when they can): ASCII or
/// valid UTF-8 read as UTF-8, anything else goes to a detector of legacy code pages.
pub fn sniff(prefix: &[u8], forced: Option<&'static Encoding>) -> Sniffed {
    if let Some((enc, bom_len)) = Encoding::for_bom(prefix) {
        return Sniffed::new(enc, bom_len, "byte-order mark");
    }
    if let Some(enc) = forced {
        return Sniffed::new(enc, 0, "given with --encoding");
    }
    if let Some(enc) = utf16_without_bom(prefix) {
        return Sniffed::new(
            enc,
            0,
            "UTF-16 without byte-order mark (a zero byte in every other place)",
        );
    }
    if prefix.is_ascii() {
        return Sniffed::new(UTF_8, 0, "only ASCII in the header and first rows");
    }
    let valid_utf8 = match std::str::from_utf8(prefix) {
        Ok(_) => true,
        // A multi-byte character cut by the end of the prefix is still UTF-8.
        Err(e) => e.error_len().is_none(),
    };
    if valid_utf8 {
        return Sniffed::new(UTF_8, 0, "valid UTF-8");
    }
    Sniffed::new(
        guess_legacy(prefix),
        0,
        "not UTF-8; the legacy code page detected from the header's non-ASCII bytes",
    )
}

/// A legacy code page from its bytes: chardetng (the detector behind Firefox's) weighs the
/// byte pairs of Shift_JIS, EUC-JP, GBK, Big5, EUC-KR and the single-byte code pages; a
/// header of localized counter names settles it where a few accented letters cannot (in
/// `Mémoire` the `é` is the same byte in Windows-1250 and -1252, the `à` of other names not).
fn guess_legacy(prefix: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(prefix, true);
    // UTF-8 was ruled out before (the bytes are not valid UTF-8).
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    let head = &prefix[..prefix.len().min(NAME_SCORE_LEN)];
    let decoded = |encoding: &'static Encoding| encoding.decode_without_bom_handling(head).0;
    let known_names = |text: &str| {
        let text = text.to_lowercase();
        super::names::non_ascii_names()
            .iter()
            .filter(|name| text.contains(name.as_str()))
            .count()
    };
    let guessed_text = decoded(guess);
    let mut best = (known_names(&guessed_text), guess);
    let mut same_text_taken = false;
    // More localized names read right wins; a code page that reads the bytes exactly as the
    // guess does is named instead when it is the more common one (listed first).
    for candidate in WINDOWS_CODE_PAGES {
        let text = decoded(candidate);
        let score = known_names(&text);
        let same_text = !same_text_taken && best.1 == guess && text == guessed_text;
        if score > best.0 || (score == best.0 && same_text) {
            same_text_taken |= same_text;
            best = (score, candidate);
        }
    }
    best.1
}

/// How much of the start is searched for localized names.
const NAME_SCORE_LEN: usize = 256 * 1024;

/// The single-byte code pages of the Windows locales whose counter names the table knows.
const WINDOWS_CODE_PAGES: [&Encoding; 4] = [WINDOWS_1252, WINDOWS_1250, WINDOWS_1251, WINDOWS_1257];

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
    use encoding_rs::{BIG5, EUC_KR, GBK, SHIFT_JIS};

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

    /// A header line as a customer's machine writes it, in `encoding`.
    fn header_in(encoding: &'static Encoding, machine: &str, instances: &[&str]) -> Vec<u8> {
        let mut text = String::from("\"(PDH-CSV 4.0) (x)(0)\"");
        for name in instances {
            for counter in ["Private Bytes", "Handle Count", "ID Process"] {
                text += &format!(",\"\\\\{machine}\\Process({name})\\{counter}\"");
            }
        }
        text += "\n\"03/01/2024 10:00:00.000\",\"1\"\n";
        let (bytes, _, unmappable) = encoding.encode(&text);
        assert!(!unmappable, "{} cannot write {text}", encoding.name());
        bytes.into_owned()
    }

    #[test]
    fn east_asian_and_central_european_code_pages() {
        let cases: [(&'static Encoding, &str, &[&str]); 5] = [
            (
                SHIFT_JIS,
                "サーバー",
                &["エクスプローラー", "メモ帳", "サービス"],
            ),
            (GBK, "服务器", &["资源管理器", "记事本", "服务主机"]),
            (BIG5, "伺服器", &["檔案總管", "記事本", "服務主機"]),
            (EUC_KR, "서버", &["탐색기", "메모장", "서비스 호스트"]),
            (
                WINDOWS_1250,
                "SERWER",
                &["Zażółć", "gęślą", "jaźń", "Příliš", "žluťoučký"],
            ),
        ];
        for (encoding, machine, instances) in cases {
            let bytes = header_in(encoding, machine, instances);
            let sniffed = sniff(&bytes, None);
            assert_eq!(sniffed.encoding, encoding, "{}", encoding.name());
            assert!(sniffed.reason.contains("detected"));
        }
    }

    #[test]
    fn ascii_and_utf8_say_so() {
        assert_eq!(
            sniff(b"\"(PDH-CSV 4.0)\",\"a\"", None).reason,
            "only ASCII in the header and first rows"
        );
        let utf8 = sniff("\"(PDH-CSV 4.0)\",\"\\\\サーバー\\a\"".as_bytes(), None);
        assert_eq!((utf8.encoding, utf8.reason), (UTF_8, "valid UTF-8"));
        assert_eq!(sniff(b"abc", Some(GBK)).reason, "given with --encoding");
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
