//! Which of comma, tab and semicolon separates a text log's cells, judged from its first
//! records read as cells (quotes respected), not from a count over the first line: a tab or
//! many semicolons inside a quoted counter path or instance name made a CSV read as a TSV or a
//! spreadsheet's semicolon file, and refused.

use super::cells::Cells;
use super::log::LogFormat;

/// Data records compared with the header.
const ROWS_CHECKED: usize = 16;

/// The format whose delimiter cuts the header into counter columns and the first data rows
/// into as many cells. The first line's guess (a tab: TSV; more semicolons than commas:
/// semicolons; else comma) wins ties, so logs it read before read the same.
pub fn sniff_format(head: &str) -> LogFormat {
    let first_line = head.lines().next().unwrap_or("");
    let count = |c: char| first_line.matches(c).count();
    // Counter paths seldom hold a comma and never a semicolon: a header with more semicolons
    // than commas was saved by a spreadsheet that writes decimal commas.
    let guess = if first_line.contains('\t') {
        LogFormat::PdhTsv
    } else if count(';') > count(',') {
        LogFormat::PdhCsvSemicolon
    } else {
        LogFormat::PdhCsv
    };
    let mut best = (guess, fitting_rows(head.as_bytes(), delimiter(guess)));
    for format in [
        LogFormat::PdhCsv,
        LogFormat::PdhTsv,
        LogFormat::PdhCsvSemicolon,
    ] {
        if format != guess {
            let rows = fitting_rows(head.as_bytes(), delimiter(format));
            if rows > best.1 {
                best = (format, rows);
            }
        }
    }
    best.0
}

pub fn delimiter(format: LogFormat) -> u8 {
    match format {
        LogFormat::PdhCsv => b',',
        LogFormat::PdhTsv => b'\t',
        LogFormat::PdhCsvSemicolon => b';',
        LogFormat::Blg => unreachable!("binary logs are read by ingest::blg"),
    }
}

/// How many of the first complete data records have as many cells as the header, when cut at
/// `delimiter`; 0 when the header is not cut into at least two cells.
fn fitting_rows(text: &[u8], delimiter: u8) -> usize {
    let mut cells = Cells::new(text, delimiter);
    let mut pos = 0;
    let mut width = None;
    let mut fitting = 0;
    let mut checked = 0;
    while pos < text.len() && checked < ROWS_CHECKED {
        let (next, _) = cells.read(pos);
        // The head may stop inside a record: only records with their line break count.
        let complete = next < text.len() || matches!(text.last(), Some(b'\n' | b'\r'));
        pos = next;
        let len = cells.record().len();
        if !complete || len == 0 {
            continue;
        }
        match width {
            None if len < 2 => return 0,
            None => width = Some(len),
            Some(width) => {
                checked += 1;
                fitting += usize::from(len == width);
            }
        }
    }
    fitting
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_inside_quoted_cells_do_not_decide() {
        let tab = "\"(PDH-CSV 4.0)\",\"\\\\S\\Process(a\tb)\\Handle Count\",\"\\\\S\\Process(c)\\Handle Count\"\n\"03/01/2024 00:00:00.000\",\"1\",\"2\"\n\"03/01/2024 00:00:15.000\",\"1\",\"2\"\n";
        assert_eq!(sniff_format(tab), LogFormat::PdhCsv);
        let semicolons = "\"(PDH-CSV 4.0)\",\"\\\\S\\Process(a;b;c;d)\\Handle Count\"\n\"03/01/2024 00:00:00.000\",\"1\"\n";
        assert_eq!(sniff_format(semicolons), LogFormat::PdhCsv);
        // A TSV whose instance names hold commas stays a TSV.
        let tsv = "\"(PDH-TSV 4.0)\"\t\"\\\\S\\Process(a,b,c)\\Handle Count\"\t\"\\\\S\\Process(d)\\Handle Count\"\n\"03/01/2024 00:00:00.000\"\t\"1\"\t\"2\"\n";
        assert_eq!(sniff_format(tsv), LogFormat::PdhTsv);
        let spreadsheet = "(PDH-CSV 4.0);\\\\S\\Process(a)\\Handle Count\n01.03.2024 00:00;1,5\n";
        assert_eq!(sniff_format(spreadsheet), LogFormat::PdhCsvSemicolon);
        // With no data row to compare, the first line decides as before.
        assert_eq!(sniff_format("a\tb,c\n"), LogFormat::PdhTsv);
    }
}
