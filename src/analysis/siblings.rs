//! The process's other counters as evidence of its identity. A new process starts all its
//! counters afresh (handles, threads, memory); a process freeing memory inside one life (a
//! garbage collection, a trim) or closing a pool of handles moves one or two. So a sharp drop
//! that most of the other level counters logged fall with is a restart, and one that every one
//! of them keeps its level through is not.

use crate::ingest::PerfLog;
use crate::vocab::Counter;
use std::sync::OnceLock;

/// A counter of the same process falling by at least this share at a restart shows it.
const DROP: f64 = 0.25;
/// A counter of the same process that stays within this share of its level across a drop has
/// not started afresh: well inside the fall a new process's counters show.
const HELD: f64 = 0.1;

/// The level counters of one process instance (Private Bytes, Handle Count, Thread Count, ...),
/// each decoded on first need: most series have no sharp drop to read them for, and at a real
/// restart the first counter read usually falls with it, so the others are never decoded.
pub(crate) struct Siblings<'a> {
    log: &'a PerfLog,
    /// The column of the instance's counter of a name, if logged.
    column_of: &'a (dyn Fn(&str) -> Option<usize> + Sync),
    /// The counters' columns, each with its values once decoded; `None` where another
    /// instance of the image (`#N`) is logged.
    columns: OnceLock<Option<Vec<Counted>>>,
}

/// A counter's column and its values, decoded on first need.
type Counted = (usize, OnceLock<Vec<f64>>);

impl<'a> Siblings<'a> {
    /// The level counters logged for one process instance, whose columns `column_of` finds by
    /// counter name (looked up only on first need too).
    pub fn new(
        log: &'a PerfLog,
        column_of: &'a (dyn Fn(&str) -> Option<usize> + Sync),
    ) -> Siblings<'a> {
        Siblings {
            log,
            column_of,
            columns: OnceLock::new(),
        }
    }

    /// The counters' columns, or `None` where another instance of the image (`#N`) is logged:
    /// without `ID Process` the label may pass to that other process at a drop, whose counters
    /// then hold by chance.
    fn all(&self) -> Option<&[Counted]> {
        self.columns
            .get_or_init(|| {
                let columns: Vec<usize> = Counter::ALL
                    .iter()
                    .filter_map(|k| (self.column_of)(k.name()))
                    .collect();
                if image_shared(self.log, *columns.first()?) {
                    return None;
                }
                Some(columns.into_iter().map(|c| (c, OnceLock::new())).collect())
            })
            .as_deref()
    }

    /// Whether every level counter of the process but `own` (the column judged) keeps within
    /// [`HELD`] of its level through every one of the sharp drops at samples `drops`: then no
    /// new process started at any of them. False where no other counter is logged, or another
    /// instance of the image is.
    pub fn refute(&self, own: usize, drops: &[usize]) -> bool {
        let Some(all) = self.all() else {
            return false;
        };
        let mut others = all.iter().filter(|(c, _)| *c != own).peekable();
        others.peek().is_some()
            && others.all(|(c, values)| {
                let v = values.get_or_init(|| self.log.columns[*c].values.to_vec());
                drops.iter().all(|&at| held_at(v, at))
            })
    }
}

/// Whether another instance of the image of `column` is logged: the same name with another
/// `#N` index, on the same machine and object.
fn image_shared(log: &PerfLog, column: usize) -> bool {
    let me = &log.columns[column].path;
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (a, b) => a.is_none() && b.is_none(),
    };
    log.columns.iter().any(|c| {
        c.path.index != me.index
            && same(&c.path.instance, &me.instance)
            && same(&c.path.machine, &me.machine)
            && c.path.object.eq_ignore_ascii_case(&me.object)
    })
}

/// `v` around sample `at`: its first number in the three samples before, and its lowest and
/// highest in the three from `at` (a restart may straddle a sample or two, and cut the series
/// twice).
fn around(v: &[f64], at: usize) -> Option<(f64, f64, f64)> {
    let before = v[at.saturating_sub(3)..at.min(v.len())]
        .iter()
        .copied()
        .find(|x| x.is_finite())?;
    let (lo, hi) = v[at.min(v.len())..(at + 3).min(v.len())]
        .iter()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    (lo <= hi).then_some((before, lo, hi))
}

/// Whether `v` falls by [`DROP`] at sample `at`, as a new process's counters do.
pub(crate) fn fell_at(v: &[f64], at: usize) -> bool {
    around(v, at).is_some_and(|(b, lo, _)| b > 0.0 && lo <= (1.0 - DROP) * b)
}

/// Whether `v` keeps within [`HELD`] of its level at sample `at`, either way.
fn held_at(v: &[f64], at: usize) -> bool {
    around(v, at)
        .is_some_and(|(b, lo, hi)| b > 0.0 && lo >= (1.0 - HELD) * b && hi * (1.0 - HELD) <= b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_holds_or_falls_at_a_sample() {
        let v = [100.0, 101.0, 99.0, 100.0, 95.0, 104.0, 100.0];
        assert!(held_at(&v, 3) && !fell_at(&v, 3));
        let fresh = [100.0, 101.0, 99.0, 30.0, 40.0, 50.0, 60.0];
        assert!(fell_at(&fresh, 3) && !held_at(&fresh, 3));
        // Between the two (a fifth down) it neither holds nor falls.
        let between = [100.0, 100.0, 100.0, 80.0, 80.0, 80.0];
        assert!(!held_at(&between, 3) && !fell_at(&between, 3));
    }
}
