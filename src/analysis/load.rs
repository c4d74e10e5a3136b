//! Load as evidence (issue #18 part 2): the workload counters a log may carry beside a series,
//! and what they say about its growth. The process's own `% Processor Time` and `IO Data
//! Operations/sec` (or `IO Other Operations/sec`), the machine's `Processor(_Total)\% Processor
//! Time` and `System\Context Switches/sec` are each regressed with the series on time
//! (`linregress`, on block medians): growth that the process's own load fits better than time,
//! time adding nothing once load is in, follows the workload; growth that time keeps explaining while every load
//! counter stays flat or falls is strong evidence of a leak. Names are canonical English
//! (`data/names/counters.toml` maps localized ones).

use std::borrow::Cow;
use std::collections::HashMap;

use super::stats::regress::{regress, Regression};
use super::stats::robust::median;
use super::trial::SeriesTrial;
use crate::ingest::{CounterPath, PerfLog};

/// The process's own load counters, in order of preference (IO Other only without IO Data).
const PROCESS_LOAD: [&str; 3] = [
    "% Processor Time",
    "IO Data Operations/sec",
    "IO Other Operations/sec",
];
/// Machine-wide load counters: (object, instance, counter).
const SYSTEM_LOAD: [(&str, Option<&str>, &str); 2] = [
    ("Processor", Some("_Total"), "% Processor Time"),
    ("System", None, "Context Switches/sec"),
];

/// Blocks the lifetime is cut into for the regressions (medians damp the samples'
/// autocorrelation, which the regression's p-values ignore); fewer than the minimum: no reading.
const BLOCKS: usize = 48;
const MIN_BLOCKS: usize = 12;
/// Change of a load counter over the lifetime, as a share of its mean, from which it rises
/// (or falls), and under which it is flat.
const LOAD_MOVES: f64 = 0.2;
const LOAD_FLAT: f64 = 0.1;
/// p under which a load trend, or the series' coefficient on load, is taken as real.
const LOAD_P: f64 = 0.01;
/// BIC by which load must fit the series better than time to explain it.
const LOAD_FITS_BETTER: f64 = 2.0;
/// BIC within which load fits about as well as time.
const LOAD_RIVALS_TIME: f64 = 2.0;
/// Time's p above which time adds nothing once load is in.
const TIME_ADDS_NOTHING_P: f64 = 0.05;
/// Time's p under which, with load in, time still explains the growth, and the share of the
/// plain slope time must keep.
const TIME_KEEPS_P: f64 = 1e-3;
const TIME_KEEPS_SHARE: f64 = 0.5;
/// R² of a load counter on time above which it is close to a line in time.
pub(crate) const COLLINEAR_R2: f64 = 0.5;

/// (machine, object, instance, index), lower case: one process instance.
type ProcessKey = (String, String, String, Option<u32>);

/// The log's load columns, found once per log. `hours` are the log's sample times.
pub(crate) struct LoadIndex<'a> {
    log: &'a PerfLog,
    hours: &'a [f64],
    /// (machine, object, instance, index) lower case -> the process's load columns.
    process: HashMap<ProcessKey, Vec<(&'static str, usize)>>,
    /// Machine (lower case) -> its system load counters, named, decoded once.
    system: Vec<(String, String, Vec<f64>)>,
    /// Every p of the log-wide FDR step, ascending: a test made after it (growth under the
    /// load regressed out) gets the q it would have had in that pool.
    pool: Vec<f64>,
}

fn lower(s: &Option<String>) -> String {
    s.as_deref().unwrap_or("").to_ascii_lowercase()
}

fn process_key(p: &CounterPath) -> ProcessKey {
    (
        lower(&p.machine),
        p.object.to_ascii_lowercase(),
        lower(&p.instance),
        p.index,
    )
}

impl<'a> LoadIndex<'a> {
    pub fn new(log: &'a PerfLog, hours: &'a [f64]) -> LoadIndex<'a> {
        let mut process: HashMap<_, Vec<(&'static str, usize)>> = HashMap::new();
        let mut system = Vec::new();
        for (i, c) in log.columns.iter().enumerate() {
            let p = &c.path;
            if p.is_real_process() {
                if let Some(name) = PROCESS_LOAD
                    .iter()
                    .find(|n| p.counter.eq_ignore_ascii_case(n))
                {
                    process.entry(process_key(p)).or_default().push((name, i));
                }
            } else if let Some((object, instance, counter)) =
                SYSTEM_LOAD.iter().find(|(o, inst, n)| {
                    p.object.eq_ignore_ascii_case(o)
                        && p.counter.eq_ignore_ascii_case(n)
                        && inst.is_none_or(|want| {
                            p.instance
                                .as_deref()
                                .is_some_and(|i| i.eq_ignore_ascii_case(want))
                        })
                })
            {
                let name = match instance {
                    Some(inst) => format!("{object}({inst})\\{counter}"),
                    None => format!("{object}\\{counter}"),
                };
                system.push((lower(&p.machine), name, c.values.to_vec()));
            }
        }
        // IO Other stands in for IO Data only where IO Data is not logged.
        for cols in process.values_mut() {
            if cols.iter().any(|(n, _)| *n == PROCESS_LOAD[1]) {
                cols.retain(|(n, _)| *n != PROCESS_LOAD[2]);
            }
        }
        LoadIndex {
            log,
            hours,
            process,
            system,
            pool: Vec::new(),
        }
    }

    /// Keeps the p of every test in the log's FDR pool (only when the log has load counters).
    pub fn with_tests(mut self, trials: &[SeriesTrial]) -> LoadIndex<'a> {
        if !self.is_empty() {
            self.pool = trials
                .iter()
                .flat_map(|s| {
                    let lifetimes = s.lifetimes.iter().filter(|l| l.mk.is_some());
                    lifetimes.map(|l| l.p).chain(s.combined_p)
                })
                .collect();
            self.pool.sort_by(f64::total_cmp);
        }
        self
    }

    /// The Benjamini-Hochberg q a test of p-value `p` would have had among the log's tests
    /// (ranked where it falls, the pool one larger).
    pub fn q_among_tests(&self, p: f64) -> f64 {
        let rank = self.pool.partition_point(|&x| x <= p) + 1;
        (p * (self.pool.len() + 1) as f64 / rank as f64).min(1.0)
    }

    /// The log's sample times, in hours.
    pub fn hours(&self) -> &'a [f64] {
        self.hours
    }

    /// Whether the log holds no load counter at all.
    pub fn is_empty(&self) -> bool {
        self.process.is_empty() && self.system.is_empty()
    }

    /// The load counters of the series in `column` (its process's own unless `system_only`),
    /// named for a reader, as logged, and whether each is the process's own.
    pub fn counters_for(
        &self,
        column: usize,
        system_only: bool,
    ) -> Vec<(String, bool, Cow<'_, [f64]>)> {
        let path = &self.log.columns[column].path;
        let mut out = Vec::new();
        if !system_only {
            if let Some(cols) = self.process.get(&process_key(path)) {
                let label = path.instance_label().unwrap_or_default();
                for &(name, j) in cols {
                    let values = Cow::Owned(self.log.columns[j].values.to_vec());
                    out.push((format!("{label}'s {name}"), true, values));
                }
            }
        }
        let machine = lower(&path.machine);
        for (m, name, values) in &self.system {
            if *m == machine {
                out.push((name.clone(), false, Cow::Borrowed(values.as_slice())));
            }
        }
        out
    }

    /// Whether the process of the series in `column` logs load counters of its own.
    pub fn has_own(&self, column: usize) -> bool {
        self.process
            .contains_key(&process_key(&self.log.columns[column].path))
    }

    /// What the load counters say about the growth of `values` (aligned with the log's
    /// samples) between `from` and `to` hours. `None` when the log has no load counter for it.
    pub fn read(
        &self,
        column: usize,
        system_only: bool,
        values: &[f64],
        (from, to): (f64, f64),
    ) -> Option<LoadEvidence> {
        if self.is_empty() {
            return None;
        }
        let counters = self.counters_for(column, system_only);
        if counters.is_empty() {
            return None;
        }
        let readings: Vec<LoadReading> = counters
            .iter()
            .filter_map(|(name, own, load)| {
                let (t, y, l) = blocks(self.hours, values, load, (from, to))?;
                let mut r = reading(name, &t, &y, &l)?;
                r.own = *own;
                Some(r)
            })
            .collect();
        (!readings.is_empty()).then_some(LoadEvidence { readings })
    }
}

/// Block medians of (time, series, load) over the samples in the window where both are numbers.
pub(crate) fn blocks(
    hours: &[f64],
    values: &[f64],
    load: &[f64],
    (from, to): (f64, f64),
) -> Option<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let idx: Vec<usize> = (0..hours.len().min(values.len()).min(load.len()))
        .filter(|&i| {
            (from..=to).contains(&hours[i]) && values[i].is_finite() && load[i].is_finite()
        })
        .collect();
    if idx.len() < MIN_BLOCKS {
        return None;
    }
    let k = BLOCKS.min(idx.len());
    let (mut t, mut y, mut l) = (Vec::new(), Vec::new(), Vec::new());
    for b in 0..k {
        let part = &idx[b * idx.len() / k..(b + 1) * idx.len() / k];
        let of = |s: &[f64]| median(&part.iter().map(|&i| s[i]).collect::<Vec<_>>());
        t.push(of(hours)?);
        y.push(of(values)?);
        l.push(of(load)?);
    }
    Some((t, y, l))
}

/// Which way a load counter went over the lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadTrend {
    Rising,
    Flat,
    Falling,
    /// Moved, but neither clearly nor little.
    Unclear,
}

/// One load counter against one series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoadReading {
    pub name: String,
    pub trend: LoadTrend,
    /// The counter's change over the lifetime as a share of its mean.
    pub change: f64,
    /// The process's own counter (the machine's load is shared by every process: it can
    /// settle a partial day, but it explains no one process's growth).
    pub own: bool,
    /// Load fits the growth better than time, and time adds nothing once load is in.
    pub explains: bool,
    /// Load, its coefficient positive and real, fits the growth about as well as time.
    pub rivals_time: bool,
    /// Time still explains the growth with load in (significant, most of its slope kept).
    pub time_keeps: bool,
    /// The load is close to a line in time (R² on time above [`COLLINEAR_R2`]): its effect and
    /// time's cannot be told apart.
    pub collinear: bool,
}

fn reading(name: &str, t: &[f64], y: &[f64], l: &[f64]) -> Option<LoadReading> {
    let span = t.last()? - t.first()?;
    let mean = l.iter().sum::<f64>() / l.len() as f64;
    let load_on_time = regress(l, &[("T", t)])?;
    let change = load_on_time.params[1] * span / mean.abs().max(1e-9);
    let load_moves = load_on_time.p_values[1] < LOAD_P;
    let trend = if change >= LOAD_MOVES && load_moves {
        LoadTrend::Rising
    } else if change <= -LOAD_MOVES && load_moves {
        LoadTrend::Falling
    } else if change.abs() < LOAD_FLAT {
        LoadTrend::Flat
    } else {
        LoadTrend::Unclear
    };
    let collinear = load_on_time.r_squared > COLLINEAR_R2;
    let on_time = regress(y, &[("T", t)])?;
    // A constant load explains nothing; its regression is degenerate.
    let (explains, time_keeps, rivals_time) =
        match (regress(y, &[("L", l)]), regress(y, &[("T", t), ("L", l)])) {
            (Some(on_load), Some(both)) => (
                explained(&on_time, &on_load, &both),
                keeps(&on_time, &both),
                on_load.bic() <= on_time.bic() + LOAD_RIVALS_TIME
                    && on_load.params[1] > 0.0
                    && on_load.p_values[1] < LOAD_P,
            ),
            _ => (false, keeps_alone(&on_time), false),
        };
    Some(LoadReading {
        name: name.to_string(),
        trend,
        change,
        own: true,
        explains,
        rivals_time,
        time_keeps,
        collinear,
    })
}

/// Load fits better than time, its coefficient is positive and real, and time, with load in,
/// keeps under half its slope or is not significant. (A load counter is a noisy measure of the
/// workload: with it in, time still takes up part of the growth the workload drove.)
fn explained(on_time: &Regression, on_load: &Regression, both: &Regression) -> bool {
    on_load.bic() + LOAD_FITS_BETTER <= on_time.bic()
        && on_load.params[1] > 0.0
        && on_load.p_values[1] < LOAD_P
        && (both.params[1] <= TIME_KEEPS_SHARE * on_time.params[1]
            || both.p_values[1] > TIME_ADDS_NOTHING_P)
}

fn keeps(on_time: &Regression, both: &Regression) -> bool {
    on_time.params[1] > 0.0
        && both.params[1] >= TIME_KEEPS_SHARE * on_time.params[1]
        && both.p_values[1] < TIME_KEEPS_P
}

fn keeps_alone(on_time: &Regression) -> bool {
    on_time.params[1] > 0.0 && on_time.p_values[1] < TIME_KEEPS_P
}

/// Every load counter's reading for one series' growth.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoadEvidence {
    pub readings: Vec<LoadReading>,
}

impl LoadEvidence {
    /// The process's own counters that explain the growth, in words, or `None`.
    pub fn explained_by(&self) -> Option<String> {
        let names: Vec<String> = self
            .readings
            .iter()
            .filter(|r| r.own && r.explains && r.trend == LoadTrend::Rising)
            .map(|r| format!("{} (+{:.0}%)", r.name, 100.0 * r.change))
            .collect();
        (!names.is_empty()).then(|| names.join(", "))
    }

    /// The process's own counters that rise and fit the growth about as well as time does
    /// (a workload rising steadily cannot be told from a leak), in words, or `None`.
    pub fn as_consistent_with(&self) -> Option<String> {
        let names: Vec<String> = self
            .readings
            .iter()
            .filter(|r| r.own && r.rivals_time && r.trend == LoadTrend::Rising)
            .map(|r| format!("{} (+{:.0}%)", r.name, 100.0 * r.change))
            .collect();
        (!names.is_empty()).then(|| names.join(", "))
    }

    /// Growth that time explains with every load counter in, while none of them rises: the
    /// counters in words, or `None`.
    pub fn grows_under_steady_load(&self) -> Option<String> {
        let steady = self.readings.iter().all(|r| {
            matches!(r.trend, LoadTrend::Flat | LoadTrend::Falling) && r.time_keeps && !r.explains
        });
        steady.then(|| self.described())
    }

    /// Growth that goes on with each of the process's own load counters in (time keeps its
    /// slope), none of them explaining it or close to a line in time: a workload that moves
    /// (a daily cycle) without climbing with the series. Its counters in words, or `None`.
    pub fn grows_beyond_own_load(&self) -> Option<String> {
        let own: Vec<&LoadReading> = self.readings.iter().filter(|r| r.own).collect();
        let beyond = !own.is_empty()
            && own
                .iter()
                .all(|r| r.time_keeps && !r.explains && !r.collinear);
        beyond.then(|| {
            own.iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// The process's own workload rose over the lifetime (whether or not it fits the growth):
    /// evidence the calibration weighs, since a rising workload grows memory too.
    pub fn own_rising(&self) -> bool {
        self.readings
            .iter()
            .any(|r| r.own && r.trend == LoadTrend::Rising)
    }

    /// Each counter and how it went, in words.
    pub fn described(&self) -> String {
        self.readings
            .iter()
            .map(|r| {
                let how = match r.trend {
                    LoadTrend::Rising => "rising",
                    LoadTrend::Flat => "flat",
                    LoadTrend::Falling => "falling",
                    LoadTrend::Unclear => "changing",
                };
                format!("{} {how} ({:+.0}%)", r.name, 100.0 * r.change)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 16 h at 5-minute steps.
    fn hours() -> Vec<f64> {
        (0..192).map(|i| i as f64 / 12.0).collect()
    }

    /// A workload that rises unevenly: a ramp with a hump and a dip, not a line in time.
    fn rising_load(t: &[f64]) -> Vec<f64> {
        t.iter()
            .map(|h| 20.0 + 2.0 * h + 12.0 * (h / 2.5).sin() + 0.7 * (h * 7.1).cos())
            .collect()
    }

    fn flat_load(t: &[f64]) -> Vec<f64> {
        t.iter()
            .map(|h| 30.0 + 3.0 * (h * 2.3).sin() + 1.5 * (h * 7.1).cos())
            .collect()
    }

    fn read(t: &[f64], y: &[f64], l: &[f64]) -> LoadReading {
        let (bt, by, bl) = blocks(t, y, l, (0.0, 16.0)).expect("blocks");
        reading("w3wp's % Processor Time", &bt, &by, &bl).expect("reading")
    }

    #[test]
    fn growth_that_follows_the_load_is_explained_by_it() {
        let t = hours();
        let l = rising_load(&t);
        let y: Vec<f64> = l
            .iter()
            .zip(&t)
            .map(|(l, h)| 500.0 + 8.0 * l + 1.5 * (h * 13.0).sin())
            .collect();
        let r = read(&t, &y, &l);
        assert_eq!(r.trend, LoadTrend::Rising);
        assert!(r.explains && !r.time_keeps, "{r:?}");
        let e = LoadEvidence { readings: vec![r] };
        assert!(e
            .explained_by()
            .is_some_and(|w| w.starts_with("w3wp's % Processor Time (+")));
        assert_eq!(e.grows_under_steady_load(), None);
    }

    #[test]
    fn growth_under_flat_load_is_not_explained_and_time_keeps_it() {
        let t = hours();
        let l = flat_load(&t);
        let y: Vec<f64> = t
            .iter()
            .map(|h| 500.0 + 20.0 * h + 4.0 * (h * 13.0).sin())
            .collect();
        let r = read(&t, &y, &l);
        assert_eq!(r.trend, LoadTrend::Flat);
        assert!(!r.explains && r.time_keeps, "{r:?}");
        let e = LoadEvidence { readings: vec![r] };
        assert_eq!(e.explained_by(), None);
        assert!(e
            .grows_under_steady_load()
            .is_some_and(|w| w.contains("flat")));
    }

    #[test]
    fn a_leak_under_a_rising_load_is_neither_explained_nor_steady() {
        // Load rises, but the series grows in a straight line that load does not follow.
        let t = hours();
        let l = rising_load(&t);
        let y: Vec<f64> = t
            .iter()
            .map(|h| 500.0 + 20.0 * h + 4.0 * (h * 13.0).sin())
            .collect();
        let r = read(&t, &y, &l);
        assert!(!r.explains, "{r:?}");
        let e = LoadEvidence { readings: vec![r] };
        assert_eq!(e.explained_by(), None);
        assert_eq!(e.grows_under_steady_load(), None, "load rises");
    }
}
