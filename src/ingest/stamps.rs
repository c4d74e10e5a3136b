//! Sample timestamps: the cell formats PDH and the tools that re-save its logs write, and the
//! order of day and month in slashed dates, decided from the timestamp column itself (which
//! reading gives increasing, regular intervals), since `03/04/2024` reads both ways.

use chrono::{NaiveDate, NaiveDateTime};

/// Where the day stands in a slashed date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// `MM/DD/YYYY`: what PDH writes whatever the Windows locale.
    #[default]
    Mdy,
    /// `DD/MM/YYYY`: a spreadsheet's re-save in a day-first locale (UK, France, ...).
    Dmy,
}

/// How a timestamp cell should look, for messages.
pub const STAMP_EXAMPLE: &str = "10/09/2022 18:35:28.403";

/// A sample's timestamp. PDH writes `MM/DD/YYYY HH:MM:SS.fff` whatever the locale; a log opened
/// and saved again by a spreadsheet or a script may hold `M/D/YYYY H:MM` (US spreadsheets drop
/// the seconds), `D/M/YYYY H:MM` (UK, French ones: `order` says which), `D.M.YYYY H:MM[:SS]`
/// (German and Russian ones) or ISO `YYYY-MM-DD[T]HH:MM:SS` (pandas, PowerShell). Two-digit
/// years are refused rather than read as the first century.
pub fn parse_timestamp(cell: &[u8], order: DateOrder) -> Option<NaiveDateTime> {
    let s = std::str::from_utf8(cell).ok()?.trim();
    let (date, time) = s.split_once([' ', 'T'])?;
    let date = parse_date(date, order)?;
    let time = time.trim();
    let (hms, fraction) = match time.split_once(['.', ',']) {
        Some((hms, f)) => (hms, f),
        None => (time, ""),
    };
    let mut t = hms.split(':');
    let hour: u32 = t.next()?.parse().ok()?;
    let minute: u32 = t.next()?.parse().ok()?;
    let second: u32 = t.next().map_or(Some(0), |s| s.parse().ok())?;
    if t.next().is_some() {
        return None;
    }
    let nanos = if fraction.is_empty() {
        0
    } else {
        if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: u32 = fraction.parse().ok()?;
        digits * 10u32.pow(9 - fraction.len() as u32)
    };
    date.and_hms_nano_opt(hour, minute, second, nanos)
}

/// `MM/DD/YYYY` (or `DD/MM/YYYY`), `DD.MM.YYYY` or `YYYY-MM-DD`; years before Windows' epoch
/// (1601) or past 9999 are refused.
fn parse_date(date: &str, order: DateOrder) -> Option<NaiveDate> {
    let (separator, order) = if date.contains('/') {
        match order {
            DateOrder::Mdy => ('/', [2, 0, 1]),
            DateOrder::Dmy => ('/', [2, 1, 0]),
        }
    } else if date.contains('.') {
        ('.', [2, 1, 0])
    } else {
        ('-', [0, 1, 2])
    };
    let mut fields = date.split(separator);
    let mut numbers = [0u32; 3];
    for number in &mut numbers {
        *number = fields.next()?.parse().ok()?;
    }
    if fields.next().is_some() {
        return None;
    }
    // `order` gives where the year, month and day stand.
    let [year, month, day] = order.map(|i| numbers[i]);
    // Past 9999 no calendar arithmetic is safe, and no collector wrote it.
    if !(1601..=9999).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// A hint for a timestamp that does not read in `order` but does in the other one.
pub fn other_order_hint(text: &str, order: DateOrder) -> &'static str {
    let other = match order {
        DateOrder::Mdy => DateOrder::Dmy,
        DateOrder::Dmy => DateOrder::Mdy,
    };
    if parse_timestamp(text.as_bytes(), other).is_none() {
        return "";
    }
    match other {
        DateOrder::Dmy => "; it reads day first: give --date-order dmy",
        DateOrder::Mdy => "; it reads month first: give --date-order mdy",
    }
}

/// The date order of a log and, where it had to be inferred, what the user should know.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderDecision {
    pub order: DateOrder,
    /// Said in the log's warnings: why day first, or that the dates read both ways.
    pub note: Option<String>,
}

/// Timestamp cells looked at to decide the date order.
const ORDER_SAMPLE_ROWS: usize = 50_000;

/// Decides the order of day and month from the first cells of the records in `block` (the
/// first block of rows after the header). A date whose first field is over 12 reads only day
/// first, one whose second is, only month first; when every date reads both ways, the reading
/// whose steps go forward most regularly wins (a UK re-save of a 3-day log read month first
/// jumps a month at each midnight). `forced` (`--date-order`) wins.
pub fn decide_order(block: &[u8], delimiter: u8, forced: Option<DateOrder>) -> OrderDecision {
    let plain = |order| OrderDecision { order, note: None };
    if let Some(order) = forced {
        return plain(order);
    }
    let cells: Vec<&[u8]> = block
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let end = line.iter().position(|&b| b == delimiter)?;
            let cell = line[..end].trim_ascii();
            let cell = cell.strip_prefix(b"\"").unwrap_or(cell);
            Some(cell.strip_suffix(b"\"").unwrap_or(cell))
        })
        .filter(|cell| cell.first().is_some_and(u8::is_ascii_digit))
        .take(ORDER_SAMPLE_ROWS)
        .collect();
    let mut day_first_only = None;
    let mut month_first_only = false;
    let mut differ = false;
    for cell in &cells {
        let Some((a, b)) = slashed_fields(cell) else {
            continue;
        };
        if a > 12 && b <= 12 && day_first_only.is_none() {
            day_first_only = Some(String::from_utf8_lossy(cell).into_owned());
        }
        month_first_only |= b > 12;
        differ |= a != b;
    }
    if month_first_only {
        return plain(DateOrder::Mdy);
    }
    if let Some(example) = day_first_only {
        return OrderDecision {
            order: DateOrder::Dmy,
            note: Some(format!(
                "dates read day first ('{example}' reads no other way): the log was re-saved by a day-first spreadsheet"
            )),
        };
    }
    if !differ {
        return plain(DateOrder::Mdy);
    }
    let irregular = |order| irregular_steps(&cells, order);
    let (mdy, dmy) = (irregular(DateOrder::Mdy), irregular(DateOrder::Dmy));
    if dmy < mdy {
        return OrderDecision {
            order: DateOrder::Dmy,
            note: Some(format!(
                "dates read day first: read month first, the time would jump or run back at {mdy} of {} steps (a re-save by a day-first spreadsheet); --date-order mdy reads them month first",
                cells.len().saturating_sub(1)
            )),
        };
    }
    // PDH's own cells carry milliseconds; without them the log was re-saved, maybe day first.
    let native = cells.iter().any(|cell| has_milliseconds(cell));
    OrderDecision {
        order: DateOrder::Mdy,
        note: (!native && dmy == mdy).then(|| {
            "dates such as 03/04/2024 read both ways and nothing in the log tells which: read month first, as PDH writes them; if the log was re-saved by a day-first spreadsheet, give --date-order dmy".to_string()
        }),
    }
}

/// The first two fields of a slashed date (`03/04/2024 ...` -> (3, 4)).
fn slashed_fields(cell: &[u8]) -> Option<(u32, u32)> {
    let text = std::str::from_utf8(cell).ok()?;
    let date = text.split([' ', 'T']).next()?;
    let mut fields = date.split('/');
    let a = fields.next()?.trim().parse().ok()?;
    let b = fields.next()?.trim().parse().ok()?;
    fields.next()?;
    Some((a, b))
}

fn has_milliseconds(cell: &[u8]) -> bool {
    cell.iter().rposition(|&b| b == b'.').is_some_and(|dot| {
        cell.len() - dot - 1 == 3 && cell[dot + 1..].iter().all(u8::is_ascii_digit)
    })
}

/// Steps between consecutive readable stamps that go back, or forward by more than a day
/// and ten times the median step: what a wrong date order makes of a regular log.
fn irregular_steps(cells: &[&[u8]], order: DateOrder) -> usize {
    let stamps: Vec<NaiveDateTime> = cells
        .iter()
        .filter_map(|cell| parse_timestamp(cell, order))
        .collect();
    let mut steps: Vec<i64> = stamps
        .windows(2)
        .map(|w| (w[1] - w[0]).num_seconds())
        .collect();
    // Unreadable stamps count against the reading too.
    let unreadable = cells.len() - stamps.len();
    let mut sorted = steps.clone();
    sorted.sort_unstable();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0).max(1);
    steps.retain(|&s| s < 0 || (s > 86_400 && s > 10 * median));
    steps.len() + unreadable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let t = parse_timestamp(b"10/09/2022 18:35:28.403", DateOrder::Mdy).unwrap();
        assert_eq!(t.to_string(), "2022-10-09 18:35:28.403");
        assert!(parse_timestamp(b"05/29/2008 11:36:51", DateOrder::Mdy).is_some());
        assert!(parse_timestamp(b"13/40/2022 18:35:28.403", DateOrder::Mdy).is_none());
        // Re-saved by a spreadsheet or a script.
        for (cell, read) in [
            ("10/9/2022 8:35", "2022-10-09 08:35:00"),
            ("09.10.2022 18:35", "2022-10-09 18:35:00"),
            ("9.10.2022 18:35:28,5", "2022-10-09 18:35:28.500"),
            ("2022-10-09 18:35", "2022-10-09 18:35:00"),
            ("2022-10-09T18:35:28.403", "2022-10-09 18:35:28.403"),
        ] {
            let t = parse_timestamp(cell.as_bytes(), DateOrder::Mdy).map(|t| t.to_string());
            assert_eq!(t.as_deref(), Some(read), "{cell}");
        }
        for cell in [
            "10/9/22 8:35",
            "2022-10-09",
            "18:35:28.4",
            "2022-10-09 18:35:28:1",
            "1.2.3 4:5",
        ] {
            assert!(
                parse_timestamp(cell.as_bytes(), DateOrder::Mdy).is_none(),
                "{cell}"
            );
        }
    }
    /// Rows of a log every `minutes` from `start` (day, month) for `rows` rows, written with
    /// `format` (`{d}`, `{m}` placeholders), no milliseconds (a spreadsheet's re-save).
    fn block(day: u32, month: u32, rows: usize, minutes: i64, dmy: bool, millis: bool) -> Vec<u8> {
        let start = NaiveDate::from_ymd_opt(2024, month, day)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let mut text = String::new();
        for i in 0..rows {
            let t = start + chrono::Duration::minutes(minutes * i as i64);
            let stamp = if dmy {
                t.format("%d/%m/%Y %H:%M")
            } else {
                t.format("%m/%d/%Y %H:%M")
            };
            let ms = if millis { ":00.000" } else { "" };
            text += &format!("\"{stamp}{ms}\",\"1\"\n");
        }
        text.into_bytes()
    }

    #[test]
    fn day_first_re_saves_read_day_first() {
        // A 3-day UK log from 3 March: no day above 12, but month first it jumps a month at
        // each midnight.
        let uk = decide_order(&block(3, 3, 3 * 96, 15, true, false), b',', None);
        assert_eq!(uk.order, DateOrder::Dmy);
        assert!(uk.note.unwrap().contains("jump"));
        // A day above 12 settles it at once.
        let late = decide_order(&block(20, 3, 10, 15, true, false), b',', None);
        assert_eq!(late.order, DateOrder::Dmy);
        assert!(late.note.unwrap().contains("reads no other way"));
        // PDH's own month-first dates stay month first, without a word.
        let us = decide_order(&block(3, 3, 3 * 96, 15, false, true), b',', None);
        assert_eq!(
            us,
            OrderDecision {
                order: DateOrder::Mdy,
                note: None
            }
        );
        let us = decide_order(&block(3, 3, 3 * 96, 15, false, false), b',', None);
        assert_eq!(us.order, DateOrder::Mdy);
        // --date-order wins.
        let forced = decide_order(
            &block(3, 3, 3 * 96, 15, true, false),
            b',',
            Some(DateOrder::Mdy),
        );
        assert_eq!(forced.order, DateOrder::Mdy);
    }

    #[test]
    fn dates_that_read_both_ways_say_so() {
        // One hour on 3 April (or 4 March): both readings are regular.
        let both = decide_order(&block(3, 4, 12, 5, false, false), b',', None);
        assert_eq!(both.order, DateOrder::Mdy);
        assert!(both.note.unwrap().contains("--date-order dmy"));
        // With PDH's milliseconds it is PDH's month-first order.
        let native = decide_order(&block(3, 4, 12, 5, false, true), b',', None);
        assert_eq!(native.note, None);
        // Dates that read the same both ways (4/4) need no word.
        let same = decide_order(&block(4, 4, 12, 5, false, false), b',', None);
        assert_eq!(same.note, None);
    }
}
