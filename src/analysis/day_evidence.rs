//! Could a daily cycle explain the growth of a lifetime of about a day? Decided on the evidence
//! rather than on the log's length: three models of the block series are compared (a line, a line
//! plus a 24 h wave, the wave alone around a constant; `linregress`, by BIC), with what is left
//! over once the line is fitted and whether the series comes back to where it started, as a
//! cycle over a whole day does. Used by the cycle gate for lifetimes the lag-24 h test cannot
//! clear (`gates/cycle.rs`).

use std::f64::consts::PI;

use super::stats::regress::{regress, Regression};
use super::stats::robust::median;

/// Shortest lifetime (coverage, hours) the models are compared in: below it a 24 h wave's
/// rising half passes for a line, and only a longer log or the load counters can tell.
pub(crate) const MIN_COVERAGE_HOURS: f64 = 20.0;
/// A line must explain at least this share of the variance (R²): growth above the noise (the
/// trend test has already found it significant)...
const LINE_R2: f64 = 0.6;
/// ...and the 24 h wave may explain at most this share of what the line leaves.
const WAVE_SHARE: f64 = 0.3;
/// BIC by which the wave alone must lose to the line (and to line plus wave): "far worse".
const CYCLE_ALONE_BIC: f64 = 10.0;
/// The end must stay above the start by this share of the line's growth: a cycle returns.
const NO_RETURN_SHARE: f64 = 0.5;
/// Under a line plus the wave, the line's rise must be this many times the wave's whole range.
const BEYOND_WAVE: f64 = 2.0;

/// The three fits of one lifetime's block series and what they say.
#[derive(Debug, Clone)]
pub(crate) struct DayModels {
    line: Regression,
    line_wave: Regression,
    wave: Regression,
    /// Growth of the line over the lifetime.
    growth: f64,
    /// Growth of the line under the wave over the lifetime.
    drift: f64,
    /// The wave's whole range (peak to trough) under the line.
    wave_range: f64,
    /// Share of what the line leaves that the wave explains.
    share: f64,
    /// End level minus start level (medians of the first and last twelfth).
    rise: f64,
    span: f64,
}

/// Fits the three models to the block series `x` at hours `t`. `None` when there are too few
/// blocks or a fit is degenerate.
pub(crate) fn compare(t: &[f64], x: &[f64]) -> Option<DayModels> {
    let m = x.len();
    if m < 12 || t.len() != m {
        return None;
    }
    let span = t[m - 1] - t[0];
    let sin: Vec<f64> = t.iter().map(|h| (2.0 * PI * h / 24.0).sin()).collect();
    let cos: Vec<f64> = t.iter().map(|h| (2.0 * PI * h / 24.0).cos()).collect();
    let line = regress(x, &[("T", t)])?;
    let line_wave = regress(x, &[("T", t), ("S", &sin), ("C", &cos)])?;
    let wave = regress(x, &[("S", &sin), ("C", &cos)])?;
    let share = if line.rss > 0.0 {
        (1.0 - line_wave.rss / line.rss).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let edge = (m / 12).max(2);
    let rise = median(&x[m - edge..])? - median(&x[..edge])?;
    Some(DayModels {
        growth: line.params[1] * span,
        drift: line_wave.params[1] * span,
        wave_range: 2.0 * line_wave.params[2].hypot(line_wave.params[3]),
        share,
        rise,
        span,
        line,
        line_wave,
        wave,
    })
}

impl DayModels {
    /// Why a daily cycle cannot explain the growth, or `None` when it may. `level` is the
    /// lifetime's level, for shares.
    pub(crate) fn rules_out_cycle(&self, level: f64) -> Option<String> {
        let pct = |v: f64| 100.0 * v / level.abs().max(f64::MIN_POSITIVE);
        if self.growth <= 0.0 || self.rise < NO_RETURN_SHARE * self.growth {
            return None;
        }
        let wave_loses = self.wave.bic() - self.line.bic().min(self.line_wave.bic());
        if wave_loses < CYCLE_ALONE_BIC {
            return None;
        }
        let ends = format!(
            "it ends {:.0}% of its level above its start, where a daily cycle would come back to",
            pct(self.rise)
        );
        if self.line.r_squared >= LINE_R2 && self.share < WAVE_SHARE {
            Some(format!(
                "no daily cycle in {:.0} h: a line explains R²={:.3}, a 24 h wave adds {:.0}% of what it leaves, a cycle alone fits far worse (BIC +{wave_loses:.0}); {ends}",
                self.span,
                self.line.r_squared,
                100.0 * self.share
            ))
        } else if self.line_wave.r_squared >= LINE_R2
            && self.drift > 0.0
            && self.drift >= BEYOND_WAVE * self.wave_range
            && self.rise >= NO_RETURN_SHARE * self.drift
        {
            Some(format!(
                "growth beyond a daily cycle in {:.0} h: under a line plus a 24 h wave the line rises {:.0}% of the level, {:.1}x the wave's whole range, a cycle alone fits far worse (BIC +{wave_loses:.0}); {ends}",
                self.span,
                pct(self.drift),
                self.drift / self.wave_range.max(f64::MIN_POSITIVE)
            ))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Block-like series over `hours` at 15-minute steps: `f(t)` plus a small fixed wobble.
    fn series(hours: f64, f: impl Fn(f64) -> f64) -> (Vec<f64>, Vec<f64>) {
        let t: Vec<f64> = (0..(hours * 4.0) as usize)
            .map(|i| i as f64 / 4.0)
            .collect();
        let x = t
            .iter()
            .map(|&h| f(h) + 2.0 * (h * 5.3).sin() + 1.5 * (h * 11.7).cos())
            .collect();
        (t, x)
    }

    #[test]
    fn a_straight_climb_over_a_day_is_no_cycle() {
        // The case: 124 handles/h from about 2,900, +106% in 24 h.
        let (t, x) = series(24.0, |h| 2900.0 + 124.0 * h);
        let d = compare(&t, &x).expect("fits");
        let why = d.rules_out_cycle(4400.0).expect("a line, not a cycle");
        assert!(why.starts_with("no daily cycle in 24 h"), "{why}");
    }

    #[test]
    fn a_pure_daily_cycle_may_explain_itself() {
        for phase in [0.0, 3.0, 6.0, 9.0, 14.0, 20.0] {
            for hours in [20.0, 24.0, 30.0] {
                let (t, x) = series(hours, |h| {
                    1000.0 + 300.0 * (2.0 * PI * (h - phase) / 24.0).sin()
                });
                let d = compare(&t, &x).expect("fits");
                assert_eq!(d.rules_out_cycle(1000.0), None, "phase {phase}, {hours} h");
            }
        }
    }

    #[test]
    fn a_cycle_with_a_small_drift_is_not_ruled_out() {
        for phase in [0.0, 5.0, 11.0, 17.0] {
            let (t, x) = series(24.0, |h| {
                1000.0 + 2.0 * h + 300.0 * (2.0 * PI * (h - phase) / 24.0).sin()
            });
            let d = compare(&t, &x).expect("fits");
            assert_eq!(d.rules_out_cycle(1000.0), None, "phase {phase}");
        }
    }

    /// The verdict of the strong rule on one lifetime of `x` at `t` (q as strong as can be).
    fn verdict(t: &[f64], x: &[f64]) -> Option<crate::analysis::Verdict> {
        use super::super::gates::{try_lifetime, MIN_SAMPLES, MIN_SPAN_HOURS};
        use super::super::rules::{strong, testing, Evidence};
        let kind = crate::vocab::Counter::HandleCount;
        let shortest = (MIN_SPAN_HOURS, MIN_SAMPLES);
        let trial = try_lifetime(t, x, kind, None, shortest, false, None);
        let (log, s) = testing::series(vec![trial], vec![Some(1e-12)]);
        let e = Evidence::new(&log, &s);
        strong::decide(&e).map(|d| d.verdict)
    }

    #[test]
    fn a_day_long_climb_is_a_leak_a_cycle_or_a_cycle_with_a_drift_is_not() {
        use crate::analysis::Verdict;
        let (t, x) = series(24.0, |h| 2900.0 + 124.0 * h);
        assert_eq!(verdict(&t, &x), Some(Verdict::Leak));
        for phase in [0.0, 6.0, 12.0, 18.0] {
            let wave = |h: f64| 300.0 * (2.0 * PI * (h - phase) / 24.0).sin();
            let (t, x) = series(24.0, |h| 1000.0 + wave(h));
            assert_ne!(verdict(&t, &x), Some(Verdict::Leak), "cycle, phase {phase}");
            let (t, x) = series(24.0, |h| 1000.0 + 2.0 * h + wave(h));
            assert_ne!(verdict(&t, &x), Some(Verdict::Leak), "drift, phase {phase}");
        }
    }

    #[test]
    fn growth_far_beyond_a_cycle_is_not_the_cycle() {
        let (t, x) = series(24.0, |h| {
            1000.0 + 60.0 * h + 100.0 * (2.0 * PI * (h - 7.0) / 24.0).sin()
        });
        let d = compare(&t, &x).expect("fits");
        assert!(d.rules_out_cycle(1500.0).is_some());
    }
}
