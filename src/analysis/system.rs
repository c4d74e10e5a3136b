//! System-wide series (the `Memory` pool, commit and memory-left counters, `Process(_Total)`
//! handles): the form they are analysed in, so that the process machinery applies unchanged,
//! and the processes whose own counters grew with them (the likely consumers).

use serde::Serialize;

use super::stats::robust::median;
use super::stats::trend::ranks;
use super::{Finding, TrendLine};
use crate::format;
use crate::ingest::PerfLog;
use crate::vocab::{Counter, SystemArea, Unit};

/// What a system-wide series needs for its forecast and its finding.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// For a falling counter, the most it ever held: the series is analysed as what it lost
    /// since then (`ceiling - value`).
    pub ceiling: Option<f64>,
    /// The largest value logged, in the counter's unit.
    pub observed_max: f64,
    /// The last logged `Memory\Commit Limit` of the machine.
    pub commit_limit: Option<f64>,
    /// The year of the log's first sample.
    pub year: Option<i32>,
}

/// The series as analysed, and what a chart draws when that is not the column's own values.
pub(crate) struct Analysed {
    pub values: Vec<f64>,
    pub shown: Option<Vec<f64>>,
    pub ceiling: Option<f64>,
    pub observed_max: f64,
}

/// A system series in its counter's unit (`Available MBytes` in bytes) and, for memory left,
/// as the memory lost since its highest point: a leak is then growth like any other, to test,
/// forecast and chart with the same machinery.
pub(crate) fn analysed(kind: Counter, raw: Vec<f64>) -> Analysed {
    let scale = kind.scale();
    let in_unit: Vec<f64> = if scale == 1.0 {
        raw
    } else {
        raw.iter().map(|v| v * scale).collect()
    };
    let observed_max = in_unit
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    if !kind.falls() {
        return Analysed {
            shown: (scale != 1.0).then(|| in_unit.clone()),
            values: in_unit,
            ceiling: None,
            observed_max,
        };
    }
    let ceiling = observed_max.is_finite().then_some(observed_max);
    let lost = in_unit
        .iter()
        .map(|v| ceiling.map_or(f64::NAN, |c| c - v))
        .collect();
    Analysed {
        values: lost,
        shown: Some(in_unit),
        ceiling,
        observed_max,
    }
}

/// A trend line of the analysed (lost) form back in the counter's own terms.
pub(crate) fn line_as_logged(line: TrendLine, ceiling: f64) -> TrendLine {
    TrendLine {
        intercept: ceiling - line.intercept,
        slope_per_hour: -line.slope_per_hour,
        ..line
    }
}

/// What report.json says of a system-wide finding (absent for a process's).
#[derive(Debug, Clone, Serialize)]
pub struct SystemSeries {
    /// `pool`, `commit`, `memory` (memory left) or `handles` (of all processes).
    pub area: SystemArea,
    /// The counter path as logged, in canonical English (`\\SRV\Memory\Pool Nonpaged Bytes`).
    pub path: String,
    /// True when a leak shows as the counter falling (memory left).
    pub falling: bool,
    /// Processes whose own counters grew with the series over the same span, likeliest first.
    pub likely_consumers: Vec<Consumer>,
    #[serde(skip)]
    pub kind: Option<Counter>,
}

/// A process whose counter grew with a system series.
#[derive(Debug, Clone, Serialize)]
pub struct Consumer {
    pub process: String,
    pub instance: String,
    pub counter: String,
    /// Its growth over the span both were logged (median of the last tenth minus that of the
    /// first), in its counter's unit.
    pub growth: f64,
    pub unit: Unit,
    /// Spearman rank correlation with the system series (with memory left: with its loss).
    pub correlation: f64,
}

/// Rank correlation at or above which a process grew with the system series.
const MIN_CORRELATION: f64 = 0.8;
/// A byte counter must have grown by this share of the system series' growth.
const MIN_SHARE: f64 = 0.05;
/// A process's handles must have grown by this many to count beside a pool.
const MIN_HANDLES: f64 = 200.0;
/// Consumers named per finding.
const MAX_CONSUMERS: usize = 3;
/// Points compared at most (evenly strided): enough for a rank correlation of a long log.
const MAX_POINTS: usize = 2000;

/// The process counters that can feed a system series.
fn feeding(kind: Counter) -> &'static [&'static str] {
    match kind {
        Counter::SystemPoolNonpaged => &["Pool Nonpaged Bytes", "Handle Count"],
        Counter::SystemPoolPaged => &["Pool Paged Bytes", "Handle Count"],
        Counter::TotalHandleCount => &["Handle Count"],
        Counter::CommittedBytes | Counter::AvailableBytes | Counter::AvailableMBytes => {
            &["Private Bytes"]
        }
        _ => &[],
    }
}

/// Growth between the medians of the first and the last tenth.
fn growth(values: &[f64]) -> Option<f64> {
    let tenth = (values.len() / 10).max(1);
    Some(median(&values[values.len() - tenth..])? - median(&values[..tenth])?)
}

fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let mean = (n + 1.0) / 2.0;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        sab += (x - mean) * (y - mean);
        saa += (x - mean) * (x - mean);
        sbb += (y - mean) * (y - mean);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Names, in each flagged system finding, the processes whose counters grew with it.
pub(crate) fn name_consumers(log: &PerfLog, findings: &mut [Finding]) {
    for f in findings.iter_mut().filter(|f| f.verdict.is_flagged()) {
        let Some(kind) = f.system.as_ref().and_then(|s| s.kind) else {
            continue;
        };
        let Some(series) = f.values(log).map(|v| v.into_owned()) else {
            continue;
        };
        let consumers = consumers_of(log, kind, &f.machine, &series);
        let area = kind.system_area();
        if let Some(top) = consumers.first() {
            let others: Vec<&str> = consumers[1..].iter().map(|c| c.instance.as_str()).collect();
            f.reasons.push(format!(
                "likely consumer: {} (its {} grew {} with the system's, rank correlation {:.2}){}",
                top.instance,
                top.counter,
                format::quantity(Some(top.growth), &top.unit),
                top.correlation,
                if others.is_empty() {
                    String::new()
                } else {
                    format!("; also {}", others.join(", "))
                }
            ));
        } else if area == Some(SystemArea::Pool) {
            f.reasons.push(
                "no logged process's pool or handles grow with it: likely a driver; find the pool tag with poolmon"
                    .into(),
            );
        }
        if let Some(s) = f.system.as_mut() {
            s.likely_consumers = consumers;
        }
    }
}

fn consumers_of(
    log: &PerfLog,
    kind: Counter,
    machine: &Option<String>,
    series: &[f64],
) -> Vec<Consumer> {
    let wanted = feeding(kind);
    let sign = if kind.falls() { -1.0 } else { 1.0 };
    let stride = (series.len() / MAX_POINTS).max(1);
    let mut found: Vec<Consumer> = Vec::new();
    for c in &log.columns {
        let p = &c.path;
        let same_machine = p.machine.as_deref().unwrap_or("").eq_ignore_ascii_case(machine.as_deref().unwrap_or(""));
        if !same_machine || !p.is_real_process() {
            continue;
        }
        let Some(counter) = wanted.iter().find(|w| w.eq_ignore_ascii_case(&p.counter)) else {
            continue;
        };
        let values = c.values.to_vec();
        let (mine, theirs): (Vec<f64>, Vec<f64>) = values
            .iter()
            .zip(series)
            .step_by(stride)
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .map(|(a, b)| (*a, sign * *b))
            .unzip();
        if mine.len() < 8 {
            continue;
        }
        let (Some(grew), Some(system_grew)) = (growth(&mine), growth(&theirs)) else {
            continue;
        };
        let unit = Counter::from_name(counter).map(Counter::unit).unwrap_or_default();
        let enough = match unit {
            Unit::Handles if kind != Counter::TotalHandleCount => grew >= MIN_HANDLES,
            _ => system_grew > 0.0 && grew >= MIN_SHARE * system_grew,
        };
        if !enough {
            continue;
        }
        let Some(rho) = spearman(&mine, &theirs).filter(|r| *r >= MIN_CORRELATION) else {
            continue;
        };
        let instance = p.instance_label().unwrap_or_default();
        if found.iter().any(|f| f.instance == instance && f.counter == *counter) {
            continue;
        }
        found.push(Consumer {
            process: p.process_name().unwrap_or_default().to_string(),
            instance,
            counter: counter.to_string(),
            growth: grew,
            unit,
            correlation: rho,
        });
    }
    // The strongest correlation first; a process's own pool before its handles.
    found.sort_by(|a, b| {
        b.correlation
            .total_cmp(&a.correlation)
            .then((a.unit == Unit::Handles).cmp(&(b.unit == Unit::Handles)))
            .then(b.growth.total_cmp(&a.growth))
    });
    found.truncate(MAX_CONSUMERS);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_left_is_analysed_as_memory_lost() {
        let a = analysed(Counter::AvailableMBytes, vec![4000.0, 3000.0, f64::NAN, 1000.0]);
        let mb = 1024.0 * 1024.0;
        assert_eq!(a.ceiling, Some(4000.0 * mb));
        assert_eq!(a.values[..2], [0.0, 1000.0 * mb]);
        assert!(a.values[2].is_nan());
        assert_eq!(a.shown.unwrap()[3], 1000.0 * mb);
        let line = line_as_logged(
            TrendLine {
                start_hours: 0.0,
                end_hours: 1.0,
                intercept: 0.0,
                slope_per_hour: 10.0,
            },
            100.0,
        );
        assert_eq!((line.intercept, line.slope_per_hour), (100.0, -10.0));
        let pool = analysed(Counter::SystemPoolNonpaged, vec![1.0, 2.0]);
        assert!(pool.shown.is_none() && pool.ceiling.is_none());
        assert_eq!(pool.values, [1.0, 2.0]);
    }

    #[test]
    fn rank_correlation() {
        let a: Vec<f64> = (0..20).map(f64::from).collect();
        let b: Vec<f64> = a.iter().map(|x| x * x).collect();
        assert!((spearman(&a, &b).unwrap() - 1.0).abs() < 1e-12);
        let c: Vec<f64> = a.iter().map(|x| -x).collect();
        assert!((spearman(&a, &c).unwrap() + 1.0).abs() < 1e-12);
        assert!(spearman(&a, &[1.0; 20]).is_none());
    }
}
