//! Record tokenizing for the reader: cuts decoded text at record boundaries (a line break
//! outside quotes, found by quote parity, so a break inside a quoted cell is never a cut) and
//! splits one record into raw cells without copying; only the cells used are unquoted.

use std::borrow::Cow;

/// Counts one byte value. Sums of at most 255 into a `u8` let the compiler compare and add
/// 32 bytes at a time; `filter().count()` widened every byte to `usize` and was the reader's
/// largest serial cost.
fn count_byte(data: &[u8], needle: u8) -> usize {
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

/// Splits text that starts and ends at record boundaries into about `pieces` runs of whole
/// records, each at least `min_len` bytes, for parsing in parallel.
pub fn split_records(data: &[u8], pieces: usize, min_len: usize) -> Vec<&[u8]> {
    let len = data.len().div_ceil(pieces.max(1)).max(min_len).max(1);
    let mut out = Vec::with_capacity(pieces + 1);
    let mut start = 0;
    while start < data.len() {
        let mut cut = data.len();
        let mut pos = start + len;
        if pos < data.len() {
            let mut quotes = count_quotes(&data[start..pos]);
            while let Some(i) = memchr::memchr(b'\n', &data[pos..]) {
                let newline = pos + i;
                quotes += count_quotes(&data[pos..newline]);
                if quotes.is_multiple_of(2) {
                    cut = newline + 1;
                    break;
                }
                pos = newline + 1;
            }
        }
        out.push(&data[start..cut]);
        start = cut;
    }
    out
}

/// Splits the record that starts at `start` into raw cells (quotes kept, as byte ranges of
/// `data`). Returns where the next record starts and how many line breaks were passed,
/// including the one ending the record. Quoting follows the csv crate: a quote opens only at
/// the start of a cell, `""` inside quotes is a quote, text after the closing quote belongs
/// to the cell; CR, LF and CRLF end a record.
pub fn tokenize(
    data: &[u8],
    start: usize,
    delimiter: u8,
    cells: &mut Vec<(usize, usize)>,
) -> (usize, u64) {
    cells.clear();
    let n = data.len();
    let mut pos = start;
    let mut cell_start = start;
    loop {
        if pos < n && data[pos] == b'"' {
            pos += 1;
            loop {
                pos += data[pos..]
                    .iter()
                    .position(|&b| b == b'"')
                    .unwrap_or(n - pos)
                    + 1;
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
        cells.push((cell_start, pos));
        if pos >= n {
            return (n, count_byte(&data[start..n], b'\n') as u64);
        }
        let b = data[pos];
        pos += 1;
        if b == delimiter {
            cell_start = pos;
            continue;
        }
        if b == b'\r' && pos < n && data[pos] == b'\n' {
            pos += 1;
        }
        // Line breaks inside quoted cells are counted here, once per record, not per byte.
        let breaks = count_byte(&data[start..pos], b'\n') + usize::from(data[pos - 1] == b'\r');
        return (pos, breaks as u64);
    }
}

/// True for the record of an empty line, which the reader skips as the csv crate does.
pub fn is_empty_record(cells: &[(usize, usize)]) -> bool {
    cells.len() == 1 && cells[0].0 == cells[0].1
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

/// A cell's number; blank (`" "` or empty) is `NaN`, anything else unparseable is `None`.
pub fn parse_value(raw: &[u8]) -> Option<f64> {
    // Hot path: `"123.45"` with nothing odd, parsed without building a string.
    let inner = match raw {
        [b'"', inner @ .., b'"'] => inner,
        _ => raw,
    };
    let trimmed = inner.trim_ascii();
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
    if let Ok(v) = fast_float2::parse::<f64, _>(trimmed) {
        return Some(v);
    }
    let text = unquote(raw);
    let s = std::str::from_utf8(&text).ok()?.trim();
    if s.is_empty() {
        return Some(f64::NAN);
    }
    s.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(line: &str) -> Vec<String> {
        let mut ranges = Vec::new();
        tokenize(line.as_bytes(), 0, b',', &mut ranges);
        ranges
            .iter()
            .map(|&(a, b)| String::from_utf8_lossy(&unquote(&line.as_bytes()[a..b])).into_owned())
            .collect()
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
    fn cells_like_the_csv_crate() {
        assert_eq!(cells("\"a\",\"b,c\",d\r\nnext"), ["a", "b,c", "d"]);
        assert_eq!(cells("\"say \"\"hi\"\"\",x\n"), ["say \"hi\"", "x"]);
        assert_eq!(cells("a,b,"), ["a", "b", ""]);
        assert_eq!(cells("a\"b,\"c\"d\n"), ["a\"b", "cd"]);
        assert_eq!(cells("\"cut"), ["cut"]);
        assert_eq!(count_byte(&[b'"'; 1000], b'"'), 1000);
        let data = b"\"x\ny\",z\r\nq";
        let mut ranges = Vec::new();
        assert_eq!(tokenize(data, 0, b',', &mut ranges), (9, 2));
        assert_eq!(ranges.len(), 2);
    }

    #[test]
    fn cuts_only_outside_quotes() {
        let text = b"\"a\",\"b\"\n\"c\n\",\"d\"\n\"e";
        assert_eq!(last_record_end(text), Some(17));
        assert_eq!(last_record_end(b"\"a\n"), None);
        let pieces = split_records(b"\"1\"\n\"2\n3\"\n\"4\"\n", 14, 1);
        assert_eq!(
            pieces,
            [&b"\"1\"\n"[..], &b"\"2\n3\"\n"[..], &b"\"4\"\n"[..]]
        );
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
