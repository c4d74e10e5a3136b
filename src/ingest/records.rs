//! The reader's fast path over records: cuts decoded text at record boundaries (a line break
//! outside quotes, found by quote parity, so a break inside a quoted cell is never a cut),
//! finds where a raw cell ends and reads the common number cells without copying; only the
//! cells used are unquoted. Other records are read by the csv crate (`super::cells`).

use std::borrow::Cow;

/// Counts one byte value. Sums of at most 255 into a `u8` let the compiler compare and add
/// 32 bytes at a time; `filter().count()` widened every byte to `usize` and was the reader's
/// largest serial cost.
pub fn count_byte(data: &[u8], needle: u8) -> usize {
    data.chunks(255)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0u8, |sum, &b| sum.wrapping_add(u8::from(b == needle))) as usize
        })
        .sum()
}

fn count_quotes(data: &[u8]) -> usize {
    count_byte(data, b'"')
}

/// End (exclusive) of the last complete record in `data`, which starts at a record boundary.
/// Quotes only open at the start of a cell in PDH (RFC 4180) text, so a line break preceded by
/// an even number of quotes ends a record.
pub fn last_record_end(data: &[u8]) -> Option<usize> {
    let mut end = memchr::memrchr(b'\n', data)?;
    let mut quotes = count_quotes(&data[..end]);
    while !quotes.is_multiple_of(2) {
        let previous = memchr::memrchr(b'\n', &data[..end])?;
        quotes -= count_quotes(&data[previous..end]);
        end = previous;
    }
    Some(end + 1)
}

/// End (exclusive) of the last complete record in `data`, read cell by cell as the csv crate
/// reads it: a quote opens a quoted cell only at the start of a cell. Slower than quote parity,
/// but right where parity is not: a stray quote inside an unquoted cell (`12"3`) flips parity
/// for the rest of the text, which then never seemed to end a record.
pub fn last_record_end_by_cells(data: &[u8], delimiter: u8) -> Option<usize> {
    let n = data.len();
    let (mut pos, mut last) = (0, None);
    while pos < n {
        let end = cell_end(data, pos, delimiter);
        match data.get(end) {
            None => break,
            Some(&b) if b == delimiter => pos = end + 1,
            // A CR last may be half of a CRLF whose LF is still to be read.
            Some(b'\r') if end + 1 == n => break,
            Some(b'\r') => {
                pos = end + 1 + usize::from(data[end + 1] == b'\n');
                last = Some(pos);
            }
            Some(_) => {
                pos = end + 1;
                last = Some(pos);
            }
        }
    }
    last
}

/// End of the last complete record: by quote parity, the fast way, and cell by cell when
/// parity finds none (a stray quote, or lines ended by CR alone), so that where a log's records
/// end does not depend on how much of it is read at once.
pub fn record_end(data: &[u8], delimiter: u8) -> Option<usize> {
    last_record_end(data).or_else(|| last_record_end_by_cells(data, delimiter))
}

/// Splits text that starts at a record boundary into about `pieces` runs of whole records,
/// each at least `min_len` bytes, for parsing in parallel. With `complete`, the text ends at a
/// record boundary and is split whole; otherwise the runs stop at the last record end, where
/// a record still being read is left. Quotes are counted once over the text: finding the last
/// record end first, then the cuts, counted them twice on the thread handing out the work.
pub fn split_records(
    data: &[u8],
    delimiter: u8,
    pieces: usize,
    min_len: usize,
    complete: bool,
) -> Vec<&[u8]> {
    let len = data.len().div_ceil(pieces.max(1)).max(min_len).max(1);
    let mut out = Vec::with_capacity(pieces + 1);
    let mut start = 0;
    while start < data.len() {
        let mut cut = None;
        let mut pos = start + len;
        if pos < data.len() {
            let mut quotes = count_quotes(&data[start..pos]);
            while let Some(i) = memchr::memchr(b'\n', &data[pos..]) {
                let newline = pos + i;
                quotes += count_quotes(&data[pos..newline]);
                if quotes.is_multiple_of(2) {
                    cut = Some(newline + 1);
                    break;
                }
                pos = newline + 1;
            }
        }
        let cut = match cut {
            Some(cut) => cut,
            None if complete => data.len(),
            None => match record_end(&data[start..], delimiter) {
                Some(end) => start + end,
                None => break,
            },
        };
        out.push(&data[start..cut]);
        start = cut;
    }
    out
}

/// End (exclusive) of the raw cell that starts at `pos`: the delimiter or line break after
/// it, or the end of `data`. Quoting follows the csv crate: a quote opens only at the start of
/// a cell, `""` inside quotes is a quote, text after the closing quote belongs to the cell.
#[inline]
pub fn cell_end(data: &[u8], mut pos: usize, delimiter: u8) -> usize {
    let n = data.len();
    if pos < n && data[pos] == b'"' {
        pos += 1;
        loop {
            pos += memchr::memchr(b'"', &data[pos..]).unwrap_or(n - pos) + 1;
            if pos < n && data[pos] == b'"' {
                pos += 1;
                continue;
            }
            break;
        }
        pos = pos.min(n);
    }
    while pos < n {
        let b = data[pos];
        if b == delimiter || b == b'\n' || b == b'\r' {
            break;
        }
        pos += 1;
    }
    pos
}

/// Powers of ten a decimal's digits are divided by; all are exact in an `f64` (up to 1e22).
const POW10: [f64; 20] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19,
];
const POW10_INT: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];
/// More digits than this might not fit a `u64`.
const MAX_DIGITS: usize = 19;
const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;

/// The number of eight digit values (0..=9, one per byte, the first in the lowest byte).
#[inline(always)]
fn eight_digits(d: u64) -> u64 {
    let v = d.wrapping_mul(10).wrapping_add(d >> 8) & 0x00FF_00FF_00FF_00FF;
    let v = v.wrapping_mul(100).wrapping_add(v >> 16) & 0x0000_FFFF_0000_FFFF;
    v.wrapping_mul(10_000).wrapping_add(v >> 32) & 0xFFFF_FFFF
}

/// Reads the run of ASCII digits at `pos` into `mantissa`, eight at a time where the data
/// allows. Returns the new mantissa, the digits read and where the run ends. The mantissa is
/// meaningful only while the digits in it number at most [`MAX_DIGITS`].
#[inline(always)]
fn digit_run(data: &[u8], mut pos: usize, mut mantissa: u64) -> (u64, usize, usize) {
    let start = pos;
    while let Some(bytes) = data.get(pos..).and_then(<[u8]>::first_chunk::<8>) {
        let d = u64::from_le_bytes(*bytes).wrapping_sub(ASCII_ZEROS);
        let non_digit = non_digits(d);
        let run = (non_digit.trailing_zeros() / 8) as usize;
        if run == 0 {
            return (mantissa, pos - start, pos);
        }
        // Shifting the digits to the top bytes puts zeros in front of them.
        let digits = if run == 8 { d } else { d << (8 * (8 - run)) };
        mantissa = mantissa
            .wrapping_mul(POW10_INT[run])
            .wrapping_add(eight_digits(digits));
        pos += run;
        if run < 8 || pos - start > MAX_DIGITS {
            return (mantissa, pos - start, pos);
        }
    }
    while let Some(&b) = data.get(pos) {
        if !b.is_ascii_digit() {
            break;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
        pos += 1;
    }
    (mantissa, pos - start, pos)
}

/// Top bit set in each byte of `d` (a word less [`ASCII_ZEROS`]) that was not a digit. A
/// borrow or carry only ever reaches bytes after the first non-digit.
#[inline(always)]
fn non_digits(d: u64) -> u64 {
    (d.wrapping_add(0x7676_7676_7676_7676) | d) & 0x8080_8080_8080_8080
}

/// The commonest perfmon cell, `"` then 1 to 16 digits then `"` and a delimiter or line break,
/// read without a branch on its length: a digit loop, or a loop over words, mispredicts its
/// exit on most cells, as lengths vary from cell to cell.
#[inline(always)]
fn quoted_whole_number(data: &[u8], pos: usize, delimiter: u8) -> Option<(f64, usize)> {
    let bytes = data.get(pos..)?.first_chunk::<19>()?;
    if bytes[0] != b'"' {
        return None;
    }
    let (first, second) = bytes[1..17].split_at(8);
    let first = u64::from_le_bytes(first.try_into().ok()?).wrapping_sub(ASCII_ZEROS);
    let second = u64::from_le_bytes(second.try_into().ok()?).wrapping_sub(ASCII_ZEROS);
    let (stop_first, stop_second) = (non_digits(first), non_digits(second));
    // Digits before the first non-digit (16 when there is none in either word).
    let len = if stop_first != 0 {
        stop_first.trailing_zeros() / 8
    } else {
        8 + stop_second.trailing_zeros() / 8
    } as usize;
    let terminator = bytes[len + 2];
    if len == 0
        || bytes[len + 1] != b'"'
        || !(terminator == delimiter || terminator == b'\n' || terminator == b'\r')
    {
        return None;
    }
    // Each word's digits moved to its top bytes, zeros in front; a word without digits is 0.
    let in_first = len.min(8);
    let in_second = len - in_first;
    let high = eight_digits(first << (64 - 8 * in_first));
    let low = eight_digits(second.checked_shl(64 - 8 * in_second as u32).unwrap_or(0));
    let mantissa = high * POW10_INT[in_second] + low;
    // Below 10^16, so the signed conversion (one instruction; the unsigned one takes several
    // without AVX-512) gives the same value.
    Some((mantissa as i64 as f64, pos + len + 2))
}

/// The common cell read in one pass: `123`, `-45.67`, quoted or not, directly followed by the
/// delimiter, a line break or the end of `data`. Returns the value, bit for bit what
/// [`parse_value`] gives for the cell, and the cell's end; `None` for anything else (blanks,
/// exponents, signs other than a leading `-`, more than 19 digits, a decimal whose digits
/// exceed 2^53, text), which the caller reads with [`cell_end`] and [`parse_value`].
#[inline(always)]
pub fn number_cell(data: &[u8], pos: usize, delimiter: u8) -> Option<(f64, usize)> {
    if let Some(read) = quoted_whole_number(data, pos, delimiter) {
        return Some(read);
    }
    let quoted = data.get(pos) == Some(&b'"');
    let mut p = pos + usize::from(quoted);
    let negative = data.get(p) == Some(&b'-');
    p += usize::from(negative);
    let (mut mantissa, int_digits, end) = digit_run(data, p, 0);
    p = end;
    let mut digits = int_digits;
    let mut fraction_digits = 0;
    if data.get(p) == Some(&b'.') {
        let (m, f, end) = digit_run(data, p + 1, mantissa);
        (mantissa, fraction_digits, p) = (m, f, end);
        digits += f;
        if f == 0 {
            return None;
        }
    }
    if int_digits == 0 || digits > MAX_DIGITS {
        return None;
    }
    if quoted {
        if data.get(p) != Some(&b'"') {
            return None;
        }
        p += 1;
    }
    match data.get(p) {
        None => {}
        Some(&b) if b == delimiter || b == b'\n' || b == b'\r' => {}
        Some(_) => return None,
    }
    // Both operands are exact, so the one rounding of the division gives the correctly
    // rounded value, as every exact parser does; a u64 converts with one rounding too.
    let value = if fraction_digits == 0 {
        mantissa as f64
    } else if mantissa <= 1 << 53 {
        mantissa as f64 / POW10[fraction_digits]
    } else {
        return None;
    };
    Some((if negative { -value } else { value }, p))
}

/// A raw cell's text: outer quotes removed and `""` turned into `"`.
pub fn unquote(raw: &[u8]) -> Cow<'_, [u8]> {
    if raw.first() != Some(&b'"') {
        return Cow::Borrowed(raw);
    }
    let inner = &raw[1..];
    match memchr::memchr(b'"', inner) {
        None => return Cow::Borrowed(inner),
        Some(i) if i + 1 == inner.len() => return Cow::Borrowed(&inner[..i]),
        Some(_) => {}
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut quoted = true;
    let mut i = 1;
    while i < raw.len() {
        let b = raw[i];
        if quoted && b == b'"' {
            if raw.get(i + 1) == Some(&b'"') {
                out.push(b'"');
                i += 2;
                continue;
            }
            quoted = false;
        } else {
            out.push(b);
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// A raw cell's number; blank (`" "` or empty) is `NaN`, anything else unparseable is `None`.
/// The same as [`parse_text`] of the unquoted cell, without unquoting the common cells.
pub fn parse_value(raw: &[u8]) -> Option<f64> {
    // Hot path: `"123.45"` with nothing odd, parsed without building a string.
    let inner = match raw {
        [b'"', inner @ .., b'"'] => inner,
        _ => raw,
    };
    if let Some(v) = parse_plain(inner.trim_ascii()) {
        return Some(v);
    }
    let text = unquote(raw);
    let s = std::str::from_utf8(&text).ok()?.trim();
    if s.is_empty() {
        return Some(f64::NAN);
    }
    s.parse::<f64>().ok()
}

/// An unquoted cell's number, as [`parse_value`] reads the raw cell; blank (spaces or empty)
/// is `NaN`, anything else unparseable is `None`.
pub fn parse_text(text: &[u8]) -> Option<f64> {
    if let Some(v) = parse_plain(text.trim_ascii()) {
        return Some(v);
    }
    let s = std::str::from_utf8(text).ok()?.trim();
    if s.is_empty() {
        return Some(f64::NAN);
    }
    s.parse::<f64>().ok()
}

/// The hot path of both: a trimmed cell that is blank (`NaN`), whole or a plain float.
#[inline]
fn parse_plain(trimmed: &[u8]) -> Option<f64> {
    if trimmed.is_empty() {
        return Some(f64::NAN);
    }
    // Most perfmon cells are whole numbers (bytes, handles, threads, IDs): up to 15 digits fit
    // a u64 and convert to f64 exactly, faster than the general float parser.
    if trimmed.len() <= 15 && trimmed.iter().all(u8::is_ascii_digit) {
        let n = trimmed
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        return Some(n as f64);
    }
    fast_float2::parse::<f64, _>(trimmed).ok()
}

/// Whether the rows `data` of a semicolon-separated log write numbers with a decimal comma:
/// some cell (after each row's timestamp) has a comma between digits, or every cell with a
/// point has its points between groups of three digits (`1.013`: thousands, as German and
/// Russian spreadsheets write them; Swiss ones write `9.571341` with a decimal point).
pub fn has_decimal_comma(data: &[u8]) -> bool {
    let mut grouped_points = false;
    for line in data.split(|&b| b == b'\n') {
        for cell in line.split(|&b| b == b';').skip(1) {
            let cell = unquote(cell);
            let cell = cell.trim_ascii();
            if cell
                .windows(3)
                .any(|w| w[1] == b',' && w[0].is_ascii_digit() && w[2].is_ascii_digit())
            {
                return true;
            }
            if cell.contains(&b'.') {
                if parse_grouped(&unquote(cell), b'.', b',').is_none() {
                    return false;
                }
                grouped_points = true;
            }
        }
    }
    grouped_points
}

/// An unquoted cell's number written with a decimal comma and points between thousands
/// (`9,571`, `1.013`, `1.234.567,5`, `1,5E+09`); blank is `NaN`, anything else `None`.
pub fn parse_decimal_comma(text: &[u8]) -> Option<f64> {
    parse_grouped(text, b'.', b',')
}

/// An unquoted cell's number with commas between thousands (`1,013`, `49,991,808.5`), as a
/// spreadsheet writes it in a comma-separated file (quoted); PDH never writes them.
pub fn parse_thousands_commas(text: &[u8]) -> Option<f64> {
    parse_grouped(text, b',', b'.')
}

/// An unquoted cell's number with `thousands` between groups of three digits and `decimal`
/// before its fraction. A separator that does not group three digits makes the cell no number
/// rather than a guess.
fn parse_grouped(text: &[u8], thousands: u8, decimal: u8) -> Option<f64> {
    let text = text.trim_ascii();
    let (whole, fraction) = match text.iter().position(|&b| b == decimal) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut groups = whole.split(|&b| b == thousands);
    let mut number = groups.next()?.to_vec();
    for group in groups {
        let digits_before = number
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if group.len() != 3 || !group.iter().all(u8::is_ascii_digit) || digits_before == 0 {
            return None;
        }
        number.extend_from_slice(group);
    }
    if let Some(fraction) = fraction {
        number.push(b'.');
        number.extend_from_slice(fraction);
    }
    parse_value(&number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_commas_and_thousands_points() {
        let read = |cell: &str| parse_decimal_comma(cell.as_bytes());
        assert_eq!(read("9,571"), Some(9.571));
        assert_eq!(read("1.013"), Some(1013.0));
        assert_eq!(read("-1.234.567,5"), Some(-1_234_567.5));
        assert_eq!(read("1,5E+09"), Some(1.5e9));
        assert_eq!(read("42"), Some(42.0));
        assert!(read(" ").is_some_and(f64::is_nan));
        for bad in ["1.5", "1.0135", ".013", "1..013", "1,2,3", "x"] {
            assert_eq!(read(bad), None, "{bad}");
        }
        assert!(has_decimal_comma(b"01.03.2024 10:00;1.013;9,571\n"));
        assert!(has_decimal_comma(
            b"01.03.2024 10:00;1.013;\"4.321\"\n01.03.2024 10:01;2;3\n"
        ));
        assert!(!has_decimal_comma(b"01.03.2024 10:00;1.013;9.571341\n"));
        assert!(!has_decimal_comma(b"01.03.2024 10:00;1013;9\n"));
        assert_eq!(parse_thousands_commas(b"49,991,808.5"), Some(49_991_808.5));
        assert_eq!(parse_thousands_commas(b"1,32"), None);
    }

    #[test]
    fn whole_numbers_parse_exactly() {
        assert_eq!(parse_value(b"\"299003904\""), Some(299_003_904.0));
        assert_eq!(parse_value(b"999999999999999"), Some(999_999_999_999_999.0));
        assert_eq!(parse_value(b"0"), Some(0.0));
        // Longer or signed numbers take the general path.
        assert_eq!(
            parse_value(b"1234567890123456789"),
            Some(1.234_567_890_123_456_8e18)
        );
        assert_eq!(parse_value(b"-42"), Some(-42.0));
        assert!(parse_value(b"\" \"").is_some_and(f64::is_nan));
    }

    #[test]
    fn bytes_are_counted_past_255() {
        assert_eq!(count_byte(&[b'"'; 1000], b'"'), 1000);
    }

    #[test]
    fn cuts_only_outside_quotes() {
        let text = b"\"a\",\"b\"\n\"c\n\",\"d\"\n\"e";
        assert_eq!(last_record_end(text), Some(17));
        assert_eq!(last_record_end(b"\"a\n"), None);
        let text = b"\"1\"\n\"2\n3\"\n\"4\"\n\"5\n";
        let pieces = split_records(&text[..14], b',', 14, 1, true);
        assert_eq!(
            pieces,
            [&b"\"1\"\n"[..], &b"\"2\n3\"\n"[..], &b"\"4\"\n"[..]]
        );
        // Without the end of the text, the record still open is left out.
        for pieces in [1, 2, 3, 14] {
            let runs = split_records(text, b',', pieces, 1, false);
            assert_eq!(runs.concat(), &text[..14], "{pieces}");
            assert_eq!(split_records(text, b',', pieces, 1, true).concat(), text);
        }
        assert!(split_records(b"\"1\n2", b',', 2, 1, false).is_empty());
        assert_eq!(split_records(b"1\n2\n3", b',', 3, 1, false), [b"1\n2\n"]);
        assert_eq!(
            split_records(b"1\n2\n3", b',', 5, 1, false),
            [&b"1\n"[..], b"2\n"]
        );
    }

    #[test]
    fn a_stray_quote_in_an_unquoted_cell_does_not_hide_record_ends() {
        // Parity sees the quote open to the end; cells show every line a record.
        let text = b"\"t\",12\"3\n\"u\",4\n\"v\",5\n\"w";
        let from_stray = &text[4..];
        assert_eq!(last_record_end(from_stray), None);
        assert_eq!(last_record_end_by_cells(from_stray, b','), Some(17));
        assert_eq!(record_end(from_stray, b','), Some(17));
        let runs = split_records(text, b',', 4, 1, false);
        assert_eq!(runs.concat(), &text[..21]);
        // An unclosed quoted cell still ends no record; a CR last may be half a CRLF.
        assert_eq!(last_record_end_by_cells(b"1,\"a\nb", b','), None);
        assert_eq!(last_record_end_by_cells(b"1\r2\r", b','), Some(2));
        assert_eq!(last_record_end_by_cells(b"1\r\n2\r\n", b','), Some(6));
    }

    /// The fast read of `cell` (as a whole cell, then followed by a delimiter) must be absent
    /// or equal `parse_value` bit for bit, and end where the cell ends.
    fn check_fast(cell: &[u8]) -> bool {
        let mut fast = false;
        // Short tails take the careful reading near the end of the data, long ones the
        // word-at-a-time one.
        let tails: [&[u8]; 7] = [
            b"",
            b",9",
            b"\n",
            b"\r\n",
            b",\"12345678901234567890\"",
            b"\r\"12345678901234567890\"",
            b"\n\"12345678901234567890\"",
        ];
        for tail in tails {
            let data = [cell, tail].concat();
            if let Some((value, end)) = number_cell(&data, 0, b',') {
                // The cell as the tokenizer cuts it (a delimiter in `cell` ends it early).
                let raw = &data[..cell_end(&data, 0, b',')];
                let expected = parse_value(raw).map(f64::to_bits);
                assert_eq!(Some(value.to_bits()), expected, "{}", cell.escape_ascii());
                assert_eq!(end, raw.len(), "{}", cell.escape_ascii());
                fast = true;
            }
        }
        fast
    }

    #[test]
    fn fast_numbers_match_parse_value() {
        for cell in [
            "0",
            "\"0\"",
            "-0",
            "\"-0\"",
            "0.1",
            "\"0.1\"",
            "-0.0",
            "11.627",
            "\"895950848\"",
            "123456789012345",
            "1234567890123456",
            "9007199254740993",
            "12345678901234567",
            "1234567890123456789",
            "18446744073709551615",
            "0.30000000000000004",
            "9007199254740992.5",
            "0.12345678901234567",
            "1.7976931348623157",
            "00000000000000000001",
            "-1234567.891",
            "4.5",
            "\"12345678\"",
            "1234567",
            "123456789",
        ] {
            check_fast(cell.as_bytes());
        }
        // The common cells take the fast path.
        for cell in [
            "42",
            "\"895950848\"",
            "-0",
            "\"11.627\"",
            "0.1",
            "9007199254740993",
        ] {
            assert!(check_fast(cell.as_bytes()), "{cell}");
        }
        // Everything unusual is left to parse_value.
        for cell in [
            "1e5",
            "\"1e5\"",
            "\" \"",
            "",
            "\"\"",
            "+5",
            "5.",
            ".5",
            "-",
            "\"-\"",
            " 5",
            "\"5 \"",
            "\"12\"3",
            "12\"",
            "\"12",
            "12345678901234567890",
            "1.5e-005",
            "inf",
            "NaN",
            "0x10",
            "1.2.3",
            "--1",
            "\"say \"\"5\"\"\"",
            "99999999999999999999.5",
            "0.123456789012345678",
        ] {
            assert!(!check_fast(cell.as_bytes()), "{cell}");
        }
        assert_eq!(number_cell(b"\"12\"\t3", 0, b'\t'), Some((12.0, 4)));
        assert_eq!(number_cell(b"12\t3", 0, b','), None);
    }

    #[test]
    fn fast_numbers_match_parse_value_on_random_cells() {
        // A small xorshift keeps the cells reproducible without a seed file.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"0123456789012345678901234567890123456789.-\" e+,";
        let mut fast = 0;
        for _ in 0..200_000 {
            let len = (next() % 24) as usize;
            let mut cell: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if next() % 2 == 0 {
                cell.insert(0, b'"');
                cell.push(b'"');
            }
            fast += usize::from(check_fast(&cell));
            // Digit strings of every length, with a point anywhere.
            let digits = (next() % 22) as usize + 1;
            let mut number: Vec<u8> = (0..digits).map(|_| b'0' + (next() % 10) as u8).collect();
            if next() % 2 == 0 {
                number.insert((next() % digits as u64) as usize + 1, b'.');
            }
            if next() % 3 == 0 {
                number.insert(0, b'-');
            }
            if next() % 2 == 0 {
                number.insert(0, b'"');
                number.push(b'"');
            }
            fast += usize::from(check_fast(&number));
            // The general path reads the csv crate's unquoted cell as the fast path the raw one.
            for raw in [&cell, &number] {
                let text = unquote(raw);
                assert_eq!(
                    parse_text(&text).map(f64::to_bits),
                    parse_value(raw).map(f64::to_bits),
                    "{}",
                    raw.escape_ascii()
                );
            }
        }
        assert!(fast > 100_000, "only {fast} cells took the fast path");
    }

    #[test]
    fn values() {
        assert_eq!(parse_value(b"\"1.5e-005\""), Some(1.5e-5));
        assert_eq!(parse_value(b"42"), Some(42.0));
        assert!(parse_value(b"\" \"").unwrap().is_nan());
        assert!(parse_value(b"").unwrap().is_nan());
        assert_eq!(parse_value(b"\"abc\""), None);
        assert_eq!(parse_value(b"\"1,5\""), None);
    }
}
