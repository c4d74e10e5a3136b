//! analysis: [`PerfLog`] -> [`Finding`]s. Splits each process series, and each system-wide one
//! (pool, commit, memory left, handles of all processes: see [`system`]), into lifetimes, runs
//! robust trend tests on block-aggregated lifetimes, rejects shapes that are not leaks, and
//! forecasts the time to the counter's limit.

mod blocks;
pub mod calibrate;
mod day_evidence;
mod decide;
mod fdr;
mod finding;
mod forecast;
mod gates;
mod lifetime;
mod limit;
mod load;
mod load_adjust;
pub mod opinion;
mod plan;
mod rules;
mod season;
mod siblings;
pub mod stats;
mod stitch;
mod system;
mod system_limit;
mod teeth;
mod trial;

pub use finding::{Finding, Reason, Severity, TrendLine, Verdict};
pub use system::{Consumer, SystemSeries};

use crate::format;
use crate::ingest::PerfLog;
use crate::vocab::Counter;
use rayon::prelude::*;
use season::Calendar;

/// q at or below which a trend counts as significant after Benjamini-Hochberg.
const Q_LEAK: f64 = 0.01;
/// q at or below which growth is worth a "suspect".
const Q_SUSPECT: f64 = 0.05;

/// Every analysed (process instance, counter) series of the log, worst first: the series are
/// chosen ([`plan`]), tried ([`trial`]), pooled for the log-wide FDR step ([`fdr`]) and decided
/// ([`decide`], by the verdict [`rules`]).
pub fn analyze(log: &PerfLog) -> Vec<Finding> {
    analyze_with(log, Some(opinion::builtin()))
}

/// [`analyze`] with the second opinion's `model` (`None`: the rules' and the calibration's
/// verdicts stand, and each series the opinion would judge keeps its features for a fit).
pub fn analyze_with(log: &PerfLog, model: Option<&opinion::Model>) -> Vec<Finding> {
    let origin = log
        .elapsed_seconds
        .iter()
        .copied()
        .find(|s| s.is_finite())
        .unwrap_or(0.0);
    let hours: Vec<f64> = log
        .elapsed_seconds
        .iter()
        .map(|s| (s - origin) / 3600.0)
        .collect();
    // Local time of the origin, for weekday/weekend patterns.
    let calendar = log
        .elapsed_seconds
        .iter()
        .position(|s| s.is_finite())
        .and_then(|i| log.timestamps.get(i))
        .map(|&origin| Calendar { origin });
    let mut trials = trial::run_all(plan::Plan::new(log), &hours, calendar.as_ref());
    fdr::assign_q(&mut trials);
    let loads = load::LoadIndex::new(log, &hours).with_tests(&trials);
    let mut findings: Vec<Finding> = trials
        .par_iter()
        .map(|s| decide::decide(log, s, &loads))
        .collect();
    corroborate(&mut findings);
    calibrate::apply(&mut findings);
    opinion::apply(&mut findings, &trials, model, |s, why| {
        decide::reopened(log, s, &loads, why)
    });
    system::name_consumers(&mut findings);
    findings.sort_by(Finding::worst_first);
    findings
}

/// Reasons speak the report's language: every quantity, rate and duration in them comes from
/// the crate's one formatter ([`crate::format`]), as in the tables and charts beside them.
fn amount(kind: Counter, v: f64) -> String {
    format::quantity(Some(v), &kind.unit())
}

/// A rate as the counter reads it: memory left, analysed as memory lost, falls.
fn per_hour(kind: Counter, v: f64) -> String {
    let sign = if kind.falls() { -1.0 } else { 1.0 };
    format::rate(Some(sign * v), &kind.unit())
}

/// A duration in hours: `36 min`, `5.2 h`, `3.0 days`, `47.9 years`.
pub(crate) fn hours_text(h: f64) -> String {
    format::duration_hours(Some(h))
}

/// The chance that a trend test's result is noise, in words: `below 1 in 10^40` for a tiny q,
/// `about 1 in 26,000`, `about 1 in 33`.
pub(crate) fn noise_chance(q: f64) -> String {
    if !(q.is_finite() && q > 0.0) {
        return if q == 0.0 {
            "below 1 in 10^300".to_string()
        } else {
            "unknown".to_string()
        };
    }
    if q <= 1e-6 {
        return format!("below 1 in 10^{}", (-q.log10()).floor() as i64);
    }
    let odds = 1.0 / q;
    // Two significant digits: 26,316 reads as 26,000.
    let magnitude = 10f64.powi((odds.log10().floor() as i32 - 1).max(0));
    format!(
        "about 1 in {}",
        format::grouped((odds / magnitude).round() * magnitude, 0)
    )
}

/// The leading reason of a trend test (`test` names it): "growth is certain: the chance this
/// is noise is below 1 in 10^9 (trend test q=1.0e-9)"; "clear" rather than "certain" above
/// q = 1e-6.
pub(crate) fn growth_sentence(q: f64, test: &str) -> String {
    let word = if q <= 1e-6 { "certain" } else { "clear" };
    format!(
        "growth is {word}: the chance this is noise is {} ({test} q={q:.1e})",
        noise_chance(q)
    )
}

/// Other counters of the same process growing too make a leak more believable (handles with
/// pool, private with virtual bytes): said in a leak's reasons, and counted for every series
/// for the calibration ([`calibrate`]), which weighs it; it never makes or breaks a verdict.
fn corroborate(findings: &mut [Finding]) {
    let growing: Vec<(Option<String>, String, String)> = findings
        .iter()
        .filter(|f| matches!(f.verdict, Verdict::Leak | Verdict::Suspect))
        .map(|f| (f.machine.clone(), f.instance.clone(), f.counter.clone()))
        .collect();
    for f in findings.iter_mut() {
        let others: Vec<&str> = growing
            .iter()
            .filter(|(m, i, c)| *m == f.machine && *i == f.instance && *c != f.counter)
            .map(|(_, _, c)| c.as_str())
            .collect();
        if let Some(c) = f.calibration.as_mut() {
            c.co_trend = others.len();
        }
        if f.verdict == Verdict::Leak && !others.is_empty() {
            f.push_reason(Reason::new(
                "co-trend",
                format!("co-trend: {}", others.join(", ")),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chance_of_noise_reads_as_odds() {
        assert_eq!(noise_chance(1e-40), "below 1 in 10^40");
        assert_eq!(noise_chance(4.5e-43), "below 1 in 10^42");
        assert_eq!(noise_chance(3.8e-5), "about 1 in 26,000");
        assert_eq!(noise_chance(0.03), "about 1 in 33");
        assert_eq!(
            growth_sentence(1e-9, "trend test"),
            "growth is certain: the chance this is noise is below 1 in 10^9 (trend test q=1.0e-9)"
        );
        assert!(growth_sentence(0.004, "trend test").starts_with("growth is clear: "));
    }
}
