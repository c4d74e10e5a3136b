//! The sanity pass every reader's log goes through once it is assembled: a value its counter
//! cannot hold (an infinity, a negative handle count, 1e300 bytes; the ranges are in
//! `data/limits/plausible.toml`) is blanked with a warning naming the column and the sample, so
//! no fit, forecast or chart scale ever sees it. A log without such values is left untouched.

use std::sync::LazyLock;

use rayon::prelude::*;
use serde::Deserialize;

use super::log::{Column, PerfLog};
use super::Series;

#[derive(Debug, Deserialize)]
struct Table {
    kind: Vec<Kind>,
    default: Range,
}

#[derive(Debug, Deserialize)]
struct Kind {
    #[serde(flatten)]
    range: Range,
    counters: Vec<String>,
    suffixes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Range {
    name: String,
    min: f64,
    max: f64,
}

impl Range {
    fn holds(&self, v: f64) -> bool {
        // A NaN is a blank cell, not a value.
        v.is_nan() || (self.min..=self.max).contains(&v)
    }
}

fn table() -> &'static Table {
    static TABLE: LazyLock<Table> =
        LazyLock::new(|| crate::data::builtin!("limits/plausible.toml"));
    &TABLE
}

/// The plausible range of a counter, by its canonical name.
fn range_of(counter: &str) -> &'static Range {
    let table = table();
    let by_name = table
        .kind
        .iter()
        .find(|k| k.counters.iter().any(|c| c.eq_ignore_ascii_case(counter)));
    let by_suffix = || {
        table
            .kind
            .iter()
            .find(|k| k.suffixes.iter().any(|s| counter.ends_with(s.as_str())))
    };
    by_name
        .or_else(by_suffix)
        .map_or(&table.default, |k| &k.range)
}

/// What one column's check found: how many values were blanked, and the first one.
struct Blanked {
    count: usize,
    first_index: usize,
    first_value: f64,
}

fn check_column(column: &mut Column) -> Option<Blanked> {
    let range = range_of(&column.path.counter);
    let mut values = column.values.to_vec();
    let mut found: Option<Blanked> = None;
    for (i, v) in values.iter_mut().enumerate() {
        if range.holds(*v) {
            continue;
        }
        match &mut found {
            Some(b) => b.count += 1,
            None => {
                found = Some(Blanked {
                    count: 1,
                    first_index: i,
                    first_value: *v,
                })
            }
        }
        *v = f64::NAN;
    }
    if found.is_some() {
        column.values = Series::from_values(&values);
    }
    found
}

/// Blanks the impossible values of every materialised column of `log`, adding one warning per
/// column that held any.
pub fn checked(mut log: PerfLog) -> PerfLog {
    let found: Vec<(usize, Blanked)> = log
        .columns
        .par_iter_mut()
        .enumerate()
        .filter_map(|(i, column)| check_column(column).map(|b| (i, b)))
        .collect();
    for (i, b) in found {
        let column = &log.columns[i];
        let range = range_of(&column.path.counter);
        // Column numbers as in the file: the timestamp is column 1.
        let number = log
            .all_paths
            .iter()
            .position(|p| *p == column.path)
            .map_or(String::new(), |p| format!("column {}, ", p + 2));
        let when = log
            .timestamps
            .get(b.first_index)
            .map_or(String::new(), |t| format!(" at {t}"));
        let label = column
            .path
            .instance_label()
            .map_or(String::new(), |i| format!("({i})"));
        log.warnings.push(format!(
            "{}: {number}{}{label}\\{}: {} impossible value(s) for a {} counter (outside {} to {}) read as blank; the first, {:e}, in sample {}{when}",
            log.source.path,
            column.path.original_object,
            column.path.original_counter,
            b.count,
            range.name,
            range.min,
            range.max,
            b.first_value,
            b.first_index + 1,
        ));
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_and_names_the_kinds() {
        assert_eq!(range_of("Handle Count").name, "handles");
        assert_eq!(range_of("handle count").name, "handles");
        assert_eq!(range_of("Private Bytes").name, "bytes");
        assert_eq!(range_of("Pool Paged Resident Bytes").name, "bytes");
        assert_eq!(range_of("% Processor Time").name, "counter");
    }

    #[test]
    fn ranges_hold_what_a_machine_can_log() {
        let bytes = range_of("Private Bytes");
        assert!(bytes.holds(3.5e9) && bytes.holds(0.0) && bytes.holds(f64::NAN));
        assert!(!bytes.holds(1e300) && !bytes.holds(-1.0) && !bytes.holds(f64::INFINITY));
        assert!(!bytes.holds(2f64.powi(48) + 1.0));
        let handles = range_of("Handle Count");
        assert!(handles.holds(16_384.0) && !handles.holds(-5.0) && !handles.holds(2e7));
    }
}
