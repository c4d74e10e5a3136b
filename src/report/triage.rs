//! Triage of the series nothing flagged: which moved most, and how steadily. A log where no
//! series is judged a leak (or none could be judged) still opens on the series worth a look,
//! not on the first name in the alphabet.

use crate::analysis::Finding;
use crate::ingest::PerfLog;
use crate::vocab::Counter;

/// At most this many samples are ranked per series (evenly spaced): enough for the rank
/// correlation, cheap on a month of 15-second samples.
const MAX_RANKED: usize = 2000;

/// How much a series moved towards a leak and how steadily: its change in percent (from the
/// median of its first tenth to that of its last tenth, sign turned for memory left, which a
/// leak makes fall) times the rank correlation of its values with time in that direction.
/// Steady growth scores high, a spike or noise near zero, a steady fall below zero.
pub fn score(f: &Finding, log: &PerfLog) -> f64 {
    let Some(values) = f.values(log) else {
        return 0.0;
    };
    let step = values.len().div_ceil(MAX_RANKED).max(1);
    let v: Vec<f64> = values
        .iter()
        .step_by(step)
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if v.len() < 3 {
        return 0.0;
    }
    let tenth = (v.len() / 10).max(1);
    let (head, tail) = (median(&v[..tenth]), median(&v[v.len() - tenth..]));
    let base = head.abs().max(tail.abs()).max(f64::MIN_POSITIVE);
    let mut change = (tail - head) / base * 100.0;
    let mut rho = rank_correlation(&v);
    if falls(f) {
        change = -change;
        rho = -rho;
    }
    // Steadiness counts only when the trend goes the way of the change.
    let steadiness = if change >= 0.0 {
        rho.max(0.0)
    } else {
        (-rho).max(0.0)
    };
    let s = change * steadiness;
    if s.is_finite() {
        s
    } else {
        0.0
    }
}

/// Memory left: a leak shows as the counter falling.
fn falls(f: &Finding) -> bool {
    f.system.is_some()
        && Counter::SYSTEM
            .iter()
            .any(|(c, _, _)| c.falls() && c.name().eq_ignore_ascii_case(&f.counter))
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Spearman's rank correlation of the values with their order in time (ties share their
/// mean rank); 0 for a constant series.
fn rank_correlation(values: &[f64]) -> f64 {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0;
        for &k in &order[i..=j] {
            ranks[k] = mean;
        }
        i = j + 1;
    }
    let mean = (n - 1) as f64 / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (t, r) in ranks.iter().enumerate() {
        let (dx, dy) = (t as f64 - mean, r - mean);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if syy == 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// A score above this (about a 1% steady change) is movement worth naming.
const MOVED: f64 = 1.0;

/// Puts the findings nothing flagged after the flagged ones (whose worst-first order stays),
/// the series that moved most towards a leak first, then those that did not move in the order
/// they came; also says how many moved enough to name.
pub fn order(findings: Vec<Finding>, log: &PerfLog) -> (Vec<Finding>, usize) {
    let (flagged, rest): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(|f| f.verdict.is_flagged());
    // Series that did not move keep the order they came in (judged before unjudged).
    let mut scored: Vec<(f64, Finding)> = rest
        .into_iter()
        .map(|f| (score(&f, log), f))
        .map(|(s, f)| (if s > MOVED { s } else { 0.0 }, f))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let moved = scored.iter().filter(|(s, _)| *s > MOVED).count();
    let ordered = flagged
        .into_iter()
        .chain(scored.into_iter().map(|(_, f)| f))
        .collect();
    (ordered, moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_the_order_in_time() {
        assert!((rank_correlation(&[1.0, 2.0, 3.0, 4.0]) - 1.0).abs() < 1e-12);
        assert!((rank_correlation(&[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(rank_correlation(&[5.0, 5.0, 5.0]), 0.0);
        // A single step up: positive, not perfect.
        let step = rank_correlation(&[1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
        assert!(step > 0.5 && step < 1.0, "{step}");
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
