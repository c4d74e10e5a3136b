//! Rule: the working day's load. In a lifetime shorter than a day, growth that begins when a
//! working day does (the log's own clock: a weekday morning) and then levels off is the day's
//! load reaching its working level: users arrive, the process takes the memory and handles that
//! load needs, and holds them while the load holds. A leak that happened to start then keeps its
//! rate at full load. `ok`, shape `cyclic`, reason code `working-day-load`. Growth still rising
//! when the log ends is left alone: that part of a working day and a leak look alike.

use super::super::day_evidence::MIN_COVERAGE_HOURS;
use super::super::stats::fit::{beats_line_p, broken_stick, line_fit, BrokenStick};
use super::super::stats::robust::{mad_sigma, median};
use super::{Evidence, Objection};
use crate::vocab::Shape;
use chrono::{Datelike, NaiveDateTime, TimeDelta, Weekday};
use std::sync::LazyLock;

/// When a working day's load arrives (`data/calendar/working_day.toml`).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkingDay {
    /// Local hours (from, to) in which the day's load arrives.
    arrival_hours: (f64, f64),
    /// Days without a working day's arrival (English names).
    rest_days: Vec<String>,
}

impl WorkingDay {
    /// Whether `day` is a working day.
    fn works(&self, day: Weekday) -> bool {
        !self
            .rest_days
            .iter()
            .any(|d| d.parse::<Weekday>() == Ok(day))
    }
}

fn working_day() -> &'static WorkingDay {
    static TABLE: LazyLock<WorkingDay> = LazyLock::new(|| {
        const NAME: &str = "calendar/working_day.toml";
        let table: WorkingDay = crate::data::builtin!("calendar/working_day.toml");
        if let Some(bad) = table
            .rest_days
            .iter()
            .find(|d| d.parse::<Weekday>().is_err())
        {
            crate::data::broken(NAME, format!("{bad:?} is no weekday"));
        }
        let (from, to) = table.arrival_hours;
        if !(0.0..=24.0).contains(&from) || !(from..=24.0).contains(&to) {
            crate::data::broken(
                NAME,
                format!("arrival hours {from}-{to} are not hours of a day"),
            );
        }
        table
    });
    &TABLE
}
/// After the bend the growth keeps under this share of its rate before it (the share at which
/// growth is dying out, `dying_out`).
const LEVELLED_SHARE: f64 = 0.15;
/// p at or below which the bend beats a straight line through the growing part.
const BEND_P: f64 = 1e-3;
/// The growing part is read as at most this many block medians (as a recovery's climb is).
const POINTS: usize = 120;
/// The rise goes no further below the level held before it than this many robust sigmas of
/// that level's samples.
const HELD_SIGMAS: f64 = 2.0;
/// Fewer block medians than this are too few to tell a bend from a line.
const MIN_POINTS: usize = 12;

pub(crate) fn objects(e: &Evidence, best: usize) -> Option<Objection> {
    let l = e.lifetime(best);
    if l.span_hours() >= MIN_COVERAGE_HOURS || l.fit_start_hours <= l.start_hours {
        return None;
    }
    // The process ran through the quiet hours before the working day (a process started in the
    // morning warms up with its own start), the rise begins in the hours the day's load
    // arrives on a weekday, and it has levelled off by their end.
    let day = working_day();
    let onset = clock_at(e, l.fit_start_hours)?;
    let opens = onset.date().and_hms_opt(0, 0, 0)? + hours(day.arrival_hours.0)?;
    let closes = onset.date().and_hms_opt(0, 0, 0)? + hours(day.arrival_hours.1)?;
    let weekday = day.works(onset.weekday());
    if !(weekday && clock_at(e, l.start_hours)? < opens && (opens..closes).contains(&onset)) {
        return None;
    }
    let (before, (t, x)) = around_onset(e, best, l.fit_start_hours)?;
    let stick = levelled(&t, &x)?;
    // The rise starts from the level held before it: a climb from below it is a return (after
    // a restart or a trim), not load arriving.
    let held = median(&before)?;
    let noise = mad_sigma(&before)?;
    let levelled = clock_at(e, stick.break_time)?;
    let lowest = x.iter().copied().fold(f64::INFINITY, f64::min);
    if lowest < held - HELD_SIGMAS * noise || levelled >= closes {
        return None;
    }
    Some(Objection {
        confidence: 0.6,
        shape: Some(Shape::Cyclic),
        code: "working-day-load",
        reason: format!(
            "the working day's load: it held its level through the night, then grew from {} on a {} and levelled off from {} (a bend beats a straight line, and the rise after it is under {:.0}% of the rate before): the hours a working day's load arrives in, when a process takes what the load needs and holds it while the load holds; a leak keeps its rate at full load. A log of a whole day or more would show the evening's fall",
            onset.format("%H:%M"),
            onset.format("%A"),
            levelled.format("%H:%M"),
            100.0 * LEVELLED_SHARE
        ),
    })
}

/// `h` hours as a time span.
fn hours(h: f64) -> Option<TimeDelta> {
    TimeDelta::try_milliseconds((h * 3.6e6) as i64)
}

/// Local wall-clock time `hours` after the log's first sample.
fn clock_at(e: &Evidence, hours: f64) -> Option<NaiveDateTime> {
    let first = e.log.elapsed_seconds.iter().position(|s| s.is_finite())?;
    let origin = *e.log.timestamps.get(first)?;
    origin.checked_add_signed(self::hours(hours)?)
}

/// The lifetime's samples before the onset, and those from the onset on as block medians
/// (hours, value).
type Around = (Vec<f64>, (Vec<f64>, Vec<f64>));

fn around_onset(e: &Evidence, i: usize, from_hours: f64) -> Option<Around> {
    let seconds = &e.log.elapsed_seconds;
    let origin = *seconds.iter().find(|s| s.is_finite())?;
    let values = e.values();
    let (mut before, mut t, mut x) = (Vec::new(), Vec::new(), Vec::new());
    for k in e.s.split.lifetimes.get(i)?.indices() {
        let (Some(&v), Some(&s)) = (values.get(k), seconds.get(k)) else {
            continue;
        };
        let h = (s - origin) / 3600.0;
        if !(v.is_finite() && h.is_finite()) {
            continue;
        }
        if h >= from_hours {
            t.push(h);
            x.push(v);
        } else {
            before.push(v);
        }
    }
    let width = x.len().div_ceil(POINTS).max(1);
    let blocks: (Vec<f64>, Vec<f64>) = t
        .chunks(width)
        .zip(x.chunks(width))
        .filter_map(|(tc, xc)| Some((median(tc)?, median(xc)?)))
        .unzip();
    (blocks.0.len() >= MIN_POINTS).then_some((before, blocks))
}

/// The broken line where a rise levels off, when it does: the best one through it rises, keeps
/// under [`LEVELLED_SHARE`] of that rate after its bend, and beats a straight line by an F test
/// whose statistic is shrunk for the residuals' lag-1 autocorrelation (p <= [`BEND_P`]).
fn levelled(t: &[f64], x: &[f64]) -> Option<BrokenStick> {
    let stick = broken_stick(t, x)?;
    let line = line_fit(t, x)?;
    if !(stick.slope_before > 0.0 && stick.slope_after < LEVELLED_SHARE * stick.slope_before) {
        return None;
    }
    if !(stick.rss > 0.0 && stick.rss < line.rss) {
        return None;
    }
    let p = beats_line_p(line.rss, stick.rss, &stick.residuals(t, x))?;
    (p <= BEND_P).then_some(stick)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_working_day_table_loads() {
        let day = working_day();
        assert!(day.arrival_hours.0 < day.arrival_hours.1);
        assert!(day.works(Weekday::Mon) && !day.works(Weekday::Sun));
    }

    /// Quarter-hour samples over `hours` of `f(h)` plus a deterministic wiggle of about 1%.
    fn series(hours: f64, f: impl Fn(f64) -> f64) -> (Vec<f64>, Vec<f64>) {
        let n = (hours * 12.0) as usize + 1;
        let t: Vec<f64> = (0..n).map(|i| i as f64 / 12.0).collect();
        let x = t
            .iter()
            .enumerate()
            .map(|(i, &h)| f(h) + [0.0, 1.0, -0.7, 0.4, -1.1, 0.6][i % 6])
            .collect();
        (t, x)
    }

    #[test]
    fn a_rise_that_levels_off_bends_and_a_steady_climb_does_not() {
        // Two hours of ramp then an hour at the plateau.
        let (t, x) = series(3.0, |h| 100.0 + 40.0 * h.min(2.0));
        let at = levelled(&t, &x).expect("levels off").break_time;
        assert!((at - 2.0).abs() < 0.2, "{at}");
        let (t, x) = series(3.0, |h| 100.0 + 40.0 * h);
        assert!(levelled(&t, &x).is_none());
        // Slowing but still rising at half the rate: a leak under a load that arrived.
        let (t, x) = series(3.0, |h| {
            100.0 + 40.0 * h.min(2.0) + 20.0 * (h - 2.0).max(0.0)
        });
        assert!(levelled(&t, &x).is_none());
    }
}
