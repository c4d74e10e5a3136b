//! System-wide series (the `Memory` pool, commit and memory-left counters, `Process(_Total)`
//! handles): the form they are analysed in, so that the process machinery applies unchanged,
//! and the processes whose own flagged series grew with them (the likely consumers).

use serde::Serialize;

use super::{Finding, Reason, TrendLine, Verdict};
use crate::format;
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
    /// Its verdict (`leak` or `suspect`): only growth the analysis flagged counts.
    pub verdict: Verdict,
    /// Its robust slope per hour, in its counter's unit.
    pub slope_per_hour: f64,
    pub unit: Unit,
    /// Its slope as a share of the system series' (1.0: all of the system's growth); `None`
    /// when the units differ (handles beside a pool).
    pub share: Option<f64>,
}

/// A byte counter must grow by at least this share of the system series' rate.
const MIN_SHARE: f64 = 0.05;
/// Consumers named per finding.
const MAX_CONSUMERS: usize = 3;

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

/// Names, in each flagged system finding, the processes whose counters grew with it: their
/// own series were flagged over the same log, in the direction of the system's, at a rate
/// that accounts for a share of the system's.
pub(crate) fn name_consumers(findings: &mut [Finding]) {
    let mut named: Vec<(usize, Vec<Consumer>)> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let Some(kind) = f.system.as_ref().and_then(|s| s.kind) else {
            continue;
        };
        if f.verdict.is_flagged() {
            named.push((i, consumers_of(findings, f, kind)));
        }
    }
    for (i, consumers) in named {
        let f = &mut findings[i];
        let area = f.system.as_ref().map(|s| s.area);
        if let Some(top) = consumers.first() {
            let others: Vec<&str> = consumers[1..].iter().map(|c| c.instance.as_str()).collect();
            let share = top
                .share
                .map(|s| format!(", {:.0}% of the system's rate", 100.0 * s))
                .unwrap_or_default();
            f.push_reason(Reason::new(
                "likely-consumer",
                format!(
                    "likely consumer: {} (its {} {}: {}{share}){}",
                    top.instance,
                    top.counter,
                    top.verdict.as_str(),
                    format::rate(Some(top.slope_per_hour), &top.unit),
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!("; also {}", others.join(", "))
                    }
                ),
            ));
        } else if area == Some(SystemArea::Pool) {
            f.push_reason(Reason::new(
                "likely-driver",
                "no logged process's pool or handles grow with it: likely a driver; find the pool tag with poolmon",
            ));
        }
        if let Some(s) = f.system.as_mut() {
            s.likely_consumers = consumers;
        }
    }
}

fn consumers_of(findings: &[Finding], system: &Finding, kind: Counter) -> Vec<Consumer> {
    let wanted = feeding(kind);
    // Memory left falls as processes grow: the system's rate is taken as memory lost.
    let system_rate = system
        .slope_per_hour
        .map(|s| if kind.falls() { -s } else { s });
    let same_machine = |f: &Finding| {
        f.machine
            .as_deref()
            .unwrap_or("")
            .eq_ignore_ascii_case(system.machine.as_deref().unwrap_or(""))
    };
    let mut found: Vec<Consumer> = Vec::new();
    for f in findings {
        if f.system.is_some() || !f.verdict.is_flagged() || !same_machine(f) {
            continue;
        }
        if !wanted.iter().any(|w| w.eq_ignore_ascii_case(&f.counter)) {
            continue;
        }
        let Some(slope) = f.slope_per_hour.filter(|s| *s > 0.0) else {
            continue;
        };
        let share = (f.unit == system.unit)
            .then_some(system_rate)
            .flatten()
            .filter(|r| *r > 0.0)
            .map(|r| slope / r);
        if f.unit == system.unit && share.is_none_or(|s| s < MIN_SHARE) {
            continue;
        }
        found.push(Consumer {
            process: f.process.clone(),
            instance: f.instance.clone(),
            counter: f.counter.clone(),
            verdict: f.verdict,
            slope_per_hour: slope,
            unit: f.unit,
            share,
        });
    }
    // Leaks before suspects; a counter in the system's unit (its own pool) before handles;
    // then the larger share or rate.
    found.sort_by(|a, b| {
        a.verdict
            .cmp(&b.verdict)
            .then(a.share.is_none().cmp(&b.share.is_none()))
            .then(b.share.unwrap_or(0.0).total_cmp(&a.share.unwrap_or(0.0)))
            .then(b.slope_per_hour.total_cmp(&a.slope_per_hour))
    });
    found.truncate(MAX_CONSUMERS);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(instance: &str, counter: &str, verdict: Verdict, slope: f64, unit: Unit) -> Finding {
        Finding {
            process: instance.into(),
            instance: instance.into(),
            counter: counter.into(),
            verdict,
            slope_per_hour: Some(slope),
            unit,
            ..Finding::default()
        }
    }

    #[test]
    fn consumers_grow_with_the_system_at_a_share_of_its_rate() {
        let mb = 1024.0 * 1024.0;
        let mut pool = finding(
            "System (pool)",
            "Pool Nonpaged Bytes",
            Verdict::Leak,
            10.0 * mb,
            Unit::Bytes,
        );
        pool.system = Some(SystemSeries {
            area: SystemArea::Pool,
            path: String::new(),
            falling: false,
            likely_consumers: Vec::new(),
            kind: Some(Counter::SystemPoolNonpaged),
        });
        let mut findings = vec![
            pool,
            // 80% of the pool's rate: the likeliest.
            finding(
                "agent",
                "Pool Nonpaged Bytes",
                Verdict::Leak,
                8.0 * mb,
                Unit::Bytes,
            ),
            // Handles beside a pool: named after a pool of the system's unit.
            finding(
                "agent",
                "Handle Count",
                Verdict::Suspect,
                300.0,
                Unit::Handles,
            ),
            // 1%: too little to account for the system's growth.
            finding(
                "tiny",
                "Pool Nonpaged Bytes",
                Verdict::Leak,
                0.1 * mb,
                Unit::Bytes,
            ),
            // Not flagged, or feeding another series: never named.
            finding(
                "quiet",
                "Pool Nonpaged Bytes",
                Verdict::Ok,
                9.0 * mb,
                Unit::Bytes,
            ),
            finding("web", "Private Bytes", Verdict::Leak, 9.0 * mb, Unit::Bytes),
        ];
        name_consumers(&mut findings);
        let named: Vec<(&str, &str)> = findings[0]
            .system
            .as_ref()
            .unwrap()
            .likely_consumers
            .iter()
            .map(|c| (c.instance.as_str(), c.counter.as_str()))
            .collect();
        assert_eq!(
            named,
            [("agent", "Pool Nonpaged Bytes"), ("agent", "Handle Count")]
        );
        assert!(findings[0].reasons[0].starts_with("likely consumer: agent (its Pool Nonpaged Bytes leak: +8.00 MB/h, 80% of the system's rate)"), "{:?}", findings[0].reasons);
        assert!(findings[0].explained_by_processes());
    }

    #[test]
    fn memory_left_is_analysed_as_memory_lost() {
        let a = analysed(
            Counter::AvailableMBytes,
            vec![4000.0, 3000.0, f64::NAN, 1000.0],
        );
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
}
