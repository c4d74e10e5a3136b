//! The monotonic timeline built from local timestamps: repeated and backward stamps repaired,
//! clock glitches dropped, gaps named, each repair warned about.

use chrono::NaiveDateTime;

use super::log::Column;
use super::series::Series;
use super::warn::{Kind, Warnings};

/// Builds `elapsed_seconds` as samples arrive. Local time may repeat or jump back an hour when
/// daylight saving ends; the timeline keeps moving forward and every repair is reported. A row
/// whose stamp leaps far from its neighbours while the next row carries on from the one before
/// it (a virtual machine's clock glitch) is dropped with a warning: kept, it would stretch or
/// fold the whole log's time axis.
#[derive(Default)]
pub(super) struct Timeline {
    pub(super) elapsed: Vec<f64>,
    pub(super) previous: Option<NaiveDateTime>,
    /// The last regular forward step, the best guess of the sampling interval.
    pub(super) typical_step: Option<f64>,
    /// The last row, when its stamp leapt far from the row before it.
    pub(super) suspect: Option<Suspect>,
    /// Indices of the rows dropped as clock glitches, in order.
    pub(super) dropped: Vec<usize>,
}

/// A row whose stamp leapt: whether the next row returns to the time before it decides
/// between a glitch and a real gap (or a clock set back).
pub(super) struct Suspect {
    index: usize,
    line: u64,
    stamp: NaiveDateTime,
    before: NaiveDateTime,
    before_elapsed: f64,
    /// The leap in seconds: positive forward, negative back.
    leap: f64,
}

/// A forward step this many times the sampling interval, and over an hour, makes a row suspect.
const LEAP_STEPS: f64 = 20.0;
const LEAP_MIN_SECONDS: f64 = 3600.0;
/// A gap this many times the interval, and over a day, is named in a warning.
const GAP_STEPS: f64 = 100.0;
const GAP_MIN_SECONDS: f64 = 86_400.0;

/// A leap in words, in the unit that reads best (`31.0 days`, `5.0 h`).
fn span_text(seconds: f64) -> String {
    let hours = seconds / 3600.0;
    if hours >= 48.0 {
        format!("{:.1} days", hours / 24.0)
    } else {
        format!("{hours:.1} h")
    }
}

fn seconds(from: NaiveDateTime, to: NaiveDateTime) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

impl Timeline {
    pub(super) fn push(&mut self, stamp: NaiveDateTime, line: u64, warnings: &mut Warnings) {
        let index = self.elapsed.len();
        let Some(prev) = self.previous.replace(stamp) else {
            self.elapsed.push(0.0);
            return;
        };
        let typical = self.typical_step.unwrap_or(900.0).max(1.0);
        if let Some(suspect) = self.suspect.take() {
            let since_before = seconds(suspect.before, stamp);
            if since_before > 0.0 && since_before <= 10.0 * typical {
                // Back in line with the row before the leap: the leap was a glitch.
                self.dropped.push(suspect.index);
                warnings.at(
                    Kind::ClockGlitch,
                    suspect.line,
                    1,
                    format_args!(
                        "timestamp {} is {} out of line with the rows around it (a clock glitch?); row dropped",
                        suspect.stamp,
                        span_text(suspect.leap.abs())
                    ),
                );
                self.elapsed.push(suspect.before_elapsed + since_before);
                return;
            }
            self.settle(&suspect, warnings);
        }
        let last = self.elapsed.last().copied().unwrap_or(0.0);
        let step = seconds(prev, stamp);
        // This row leapt: the next one tells a glitch from a gap or a clock set back.
        let leapt = Suspect {
            index,
            line,
            stamp,
            before: prev,
            before_elapsed: last,
            leap: step,
        };
        let advance = if step > 0.0 {
            if step > LEAP_MIN_SECONDS && step > LEAP_STEPS * typical {
                self.suspect = Some(leapt);
            } else {
                self.typical_step = Some(step);
            }
            step
        } else if step == 0.0 {
            warnings.at(
                Kind::RepeatedTime,
                line,
                1,
                format_args!("timestamp {stamp} repeats the previous one"),
            );
            0.0
        } else {
            let after_fall_back = step + 3600.0;
            let limit = self.typical_step.map_or(900.0, |t| (3.0 * t).max(2.0));
            if after_fall_back > 0.0 && after_fall_back <= limit {
                warnings.at(
                    Kind::ClockBack,
                    line,
                    1,
                    format_args!(
                        "clock goes back from {prev} to {stamp} (daylight saving ends?); \
                         counted as {after_fall_back:.3} s after the previous sample"
                    ),
                );
                after_fall_back
            } else {
                self.suspect = Some(leapt);
                self.typical_step.unwrap_or(0.0)
            }
        };
        self.elapsed.push(last + advance);
    }

    /// A leap the next row did not undo: a real gap in collection (named when long), or the
    /// clock set back.
    fn settle(&self, suspect: &Suspect, warnings: &mut Warnings) {
        let typical = self.typical_step.unwrap_or(0.0);
        if suspect.leap < 0.0 {
            warnings.at(
                Kind::ClockBack,
                suspect.line,
                1,
                format_args!(
                    "timestamp goes back {:.3} s (from {} to {}); counted as {typical:.3} s after the previous sample",
                    -suspect.leap, suspect.before, suspect.stamp
                ),
            );
        } else if suspect.leap > GAP_MIN_SECONDS && suspect.leap > GAP_STEPS * typical {
            warnings.at(
                Kind::TimeJump,
                suspect.line,
                1,
                format_args!(
                    "the time jumps {} from {} to {}: a gap in collection, or dates read in the wrong order (see --date-order)",
                    span_text(suspect.leap),
                    suspect.before,
                    suspect.stamp
                ),
            );
        }
    }

    /// Settles a leap in the last row: one far forward is a glitch (nothing after it to
    /// carry on from), anything else as [`Timeline::settle`] says.
    pub(super) fn finish(&mut self, warnings: &mut Warnings) {
        if let Some(suspect) = self.suspect.take() {
            let typical = self.typical_step.unwrap_or(0.0);
            if suspect.leap > GAP_MIN_SECONDS
                && suspect.leap > GAP_STEPS * typical
                && suspect.index > 1
            {
                self.dropped.push(suspect.index);
                warnings.at(
                    Kind::ClockGlitch,
                    suspect.line,
                    1,
                    format_args!(
                        "the last timestamp, {}, leaps {} past the one before (a clock glitch?); row dropped",
                        suspect.stamp,
                        span_text(suspect.leap)
                    ),
                );
            } else {
                self.settle(&suspect, warnings);
            }
        }
    }
}

/// Removes the items at `dropped` (ascending indices).
pub(crate) fn remove<T>(values: &mut Vec<T>, dropped: &[usize]) {
    let mut next = dropped.iter().peekable();
    let mut index = 0;
    values.retain(|_| {
        let keep = next.next_if_eq(&&index).is_none();
        index += 1;
        keep
    });
}

/// The monotonic timeline of local timestamps read from a binary log, repaired and warned
/// about exactly as the text reader does (its messages name the line the row has in the
/// log's CSV conversion). Rows dropped as clock glitches are taken out of `stamps` and
/// returned, for the caller to take out of its columns with [`remove`].
pub(crate) fn local_timeline(
    name: &str,
    stamps: &mut Vec<NaiveDateTime>,
) -> (Vec<f64>, Vec<String>, Vec<usize>) {
    let mut warnings = Warnings::new(name);
    let mut timeline = Timeline {
        elapsed: Vec::with_capacity(stamps.len()),
        ..Timeline::default()
    };
    for (row, stamp) in stamps.iter().enumerate() {
        timeline.push(*stamp, row as u64 + 2, &mut warnings);
    }
    timeline.finish(&mut warnings);
    let Timeline {
        mut elapsed,
        dropped,
        ..
    } = timeline;
    drop_rows(&dropped, stamps, &mut elapsed, &mut []);
    (elapsed, warnings.finish(), dropped)
}

/// Removes the rows at `dropped` (ascending) from the timestamps, the timeline and the columns.
pub(super) fn drop_rows(
    dropped: &[usize],
    timestamps: &mut Vec<NaiveDateTime>,
    elapsed: &mut Vec<f64>,
    columns: &mut [(usize, Column)],
) {
    if dropped.is_empty() {
        return;
    }
    remove(timestamps, dropped);
    remove(elapsed, dropped);
    let start = elapsed.first().copied().unwrap_or(0.0);
    elapsed.iter_mut().for_each(|e| *e -= start);
    for (_, column) in columns {
        let mut values = column.values.to_vec();
        remove(&mut values, dropped);
        column.values = Series::from_values(&values);
    }
}
