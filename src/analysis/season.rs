//! Daily cycles: for lifetimes of three days or more, a 24-hour moving median gives the trend and
//! the hour-of-day medians of what is left give the daily profile, which is removed when it is
//! strong; for one to three days, a lag-24 h sign test asks whether each hour beats its
//! yesterday, and a line plus 24, 12 and 8 h harmonics takes out a strong cycle that hides
//! growth.

use super::stats::combine::binomial_upper_tail;
use super::stats::fit::{least_squares, ScanFit};
use super::stats::robust::{lag1_autocorrelation, median, variance, MovingMedian};
use chrono::{Datelike, NaiveDateTime, TimeDelta, Weekday};
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

/// Hours in the cycle we look for.
const DAY: f64 = 24.0;

/// The daily profile of a block series.
#[derive(Debug, Clone)]
pub struct DailyCycle {
    /// Seasonal strength F_s = max(0, 1 - Var(R)/Var(S + R)).
    pub strength: f64,
    /// The series with the daily profile removed.
    pub adjusted: Vec<f64>,
}

/// Estimate the daily profile of `values` at `hours` (span >= 72 h expected).
pub fn daily_cycle(hours: &[f64], values: &[f64]) -> Option<DailyCycle> {
    let m = values.len();
    if m < 24 || hours.len() != m {
        return None;
    }
    // Trend: centred 24 h moving median (a straight-line detrend would turn warm-ups into
    // rising tails).
    let mut trend = Vec::with_capacity(m);
    let mut lo = 0usize;
    let mut hi = 0usize;
    let mut window = MovingMedian::default();
    for i in 0..m {
        while hours[lo] < hours[i] - DAY / 2.0 {
            lo += 1;
        }
        while hi < m && hours[hi] <= hours[i] + DAY / 2.0 {
            hi += 1;
        }
        trend.push(window.median(values, lo, hi)?);
    }
    let detrended: Vec<f64> = values.iter().zip(&trend).map(|(v, t)| v - t).collect();
    let bin_of = |h: f64| ((h.rem_euclid(DAY)) as usize).min(23);
    let mut bins: Vec<Vec<f64>> = vec![Vec::new(); 24];
    for (h, d) in hours.iter().zip(&detrended) {
        bins[bin_of(*h)].push(*d);
    }
    let profile: Vec<f64> = bins.iter().map(|b| median(b).unwrap_or(0.0)).collect();
    let centre = profile.iter().sum::<f64>() / 24.0;
    let seasonal: Vec<f64> = hours.iter().map(|h| profile[bin_of(*h)] - centre).collect();
    let remainder: Vec<f64> = detrended
        .iter()
        .zip(&seasonal)
        .map(|(d, s)| d - s)
        .collect();
    let var_r = variance(&remainder)?;
    let var_sr = variance(&detrended.iter().map(|d| d - centre).collect::<Vec<_>>())?;
    let strength = if var_sr > 0.0 {
        (1.0 - var_r / var_sr).max(0.0)
    } else {
        0.0
    };
    let adjusted = values.iter().zip(&seasonal).map(|(v, s)| v - s).collect();
    Some(DailyCycle { strength, adjusted })
}

/// Periods of the harmonics fitted to a daily cycle of one to three days: the day, and its half
/// and third because a business-hours peak is narrower than a sinusoid (a fourth harmonic bends
/// well enough to pass for a warm-up).
const HARMONIC_PERIODS: [f64; 3] = [DAY, DAY / 2.0, DAY / 3.0];

/// A daily cycle fitted jointly with a line: y = a + b*t + sum of sin/cos at 24, 12 and 8 h.
#[derive(Debug, Clone)]
pub struct HarmonicCycle {
    /// Share of the variance left by a straight line that the harmonics explain.
    pub share: f64,
    /// p of the F test of the harmonic terms jointly (the residuals are taken as independent,
    /// which they are not quite: demand a very small p).
    pub p: f64,
    /// Residual sum of squares of line + harmonics.
    pub rss: f64,
    /// The series with the fitted harmonics taken out (level, line and residuals kept).
    pub adjusted: Vec<f64>,
    /// The line's growth over the lifetime under the cycle, in its standard errors, the error
    /// widened for the residuals' lag-1 autocorrelation (AR(1): x sqrt((1 + phi) / (1 - phi))):
    /// blocks that wander together are fewer independent points than they look.
    pub slope_z: f64,
    /// The regressors, kept for [`HarmonicCycle::rivals`].
    design: CycleDesign,
}

/// What else fits under the same harmonics: a sinusoid plus a line can imitate a step or a
/// bend, and these are the other side of that comparison.
#[derive(Debug, Clone, Copy)]
pub struct CycleRivals {
    /// Residual sum of squares of a single mean shift + harmonics at its best split (at least
    /// `min_segment` points each side); `None` when the series is too short to split.
    pub step_rss: Option<f64>,
    /// Residual sum of squares of a continuous broken line + harmonics at its best break.
    pub bend_rss: Option<f64>,
}

/// The regressors shared by the fits: centred values, a unit column, scaled time and the waves.
#[derive(Debug, Clone)]
struct CycleDesign {
    y: Vec<f64>,
    ones: Vec<f64>,
    time: Vec<f64>,
    waves: Vec<Vec<f64>>,
}

impl CycleDesign {
    /// `None` with fewer than 24 points or a span under 12 h.
    fn new(hours: &[f64], values: &[f64]) -> Option<Self> {
        let m = values.len();
        if m < 24 || hours.len() != m {
            return None;
        }
        let (first, last) = (*hours.first()?, *hours.last()?);
        let span = last - first;
        if span.is_nan() || span < DAY / 2.0 {
            return None;
        }
        let mean_y = values.iter().sum::<f64>() / m as f64;
        let centre = (first + last) / 2.0;
        let waves = HARMONIC_PERIODS
            .iter()
            .flat_map(|&period| {
                let angle = move |h: f64| 2.0 * std::f64::consts::PI * h / period;
                [
                    hours.iter().map(|&h| angle(h).sin()).collect::<Vec<f64>>(),
                    hours.iter().map(|&h| angle(h).cos()).collect(),
                ]
            })
            .collect();
        Some(Self {
            y: values.iter().map(|v| v - mean_y).collect(),
            ones: vec![1.0; m],
            time: hours.iter().map(|h| (h - centre) / span).collect(),
            waves,
        })
    }

    /// Least squares of the values on `lead` columns, plus the waves when `cycle`.
    fn fit(&self, lead: &[&[f64]], cycle: bool) -> Option<(Vec<f64>, f64)> {
        let mut columns: Vec<&[f64]> = lead.to_vec();
        if cycle {
            columns.extend(self.waves.iter().map(|w| w.as_slice()));
        }
        least_squares(&columns, &self.y)
    }
}

/// Fit a line plus a daily cycle to `values` at `hours` (meant for spans of about 20-72 h, where
/// the moving-median profile of [`daily_cycle`] has too few days). `None` with fewer than 24
/// points, a span under 12 h, or a degenerate fit.
pub fn harmonic_cycle(hours: &[f64], values: &[f64]) -> Option<HarmonicCycle> {
    let d = CycleDesign::new(hours, values)?;
    let m = values.len();
    let (beta, rss) = d.fit(&[&d.ones, &d.time], true)?;
    let line_rss = d.fit(&[&d.ones, &d.time], false)?.1;
    let q = d.waves.len() as f64;
    let dof = m as f64 - 2.0 - q;
    let share = if line_rss > 0.0 {
        (1.0 - rss / line_rss).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let p = if rss > 0.0 {
        let f = ((line_rss - rss).max(0.0) / q) / (rss / dof);
        FisherSnedecor::new(q, dof).ok()?.sf(f)
    } else {
        0.0
    };
    // Coefficients: level, line, then the waves.
    let waves: Vec<f64> = (0..m)
        .map(|i| d.waves.iter().zip(&beta[2..]).map(|(w, b)| w[i] * b).sum())
        .collect();
    let adjusted = values.iter().zip(&waves).map(|(v, w)| v - w).collect();
    let slope_z = slope_z(&d, &beta, &waves, rss / dof);
    Some(HarmonicCycle {
        share,
        p,
        rss,
        adjusted,
        slope_z,
        design: d,
    })
}

/// The line's coefficient `beta[1]` over its standard error under the other columns (the
/// variance `sigma2` over what of time they leave), widened for AR(1) residuals. 0 when
/// degenerate.
fn slope_z(d: &CycleDesign, beta: &[f64], waves: &[f64], sigma2: f64) -> f64 {
    let others: Vec<&[f64]> = std::iter::once(&d.ones[..])
        .chain(d.waves.iter().map(|w| w.as_slice()))
        .collect();
    let Some((_, time_left)) = least_squares(&others, &d.time) else {
        return 0.0;
    };
    let resid: Vec<f64> = (0..d.y.len())
        .map(|i| d.y[i] - beta[0] - beta[1] * d.time[i] - waves[i])
        .collect();
    let phi = lag1_autocorrelation(&resid).clamp(0.0, 0.99);
    let se = (sigma2 / time_left).sqrt() * ((1.0 + phi) / (1.0 - phi)).sqrt();
    if se > 0.0 && se.is_finite() {
        beta[1] / se
    } else {
        0.0
    }
}

impl HarmonicCycle {
    /// The best step and the best bend under the same harmonics. One fit per candidate break
    /// (the columns every candidate shares multiplied out once): asked only once a strong
    /// cycle has been found.
    pub fn rivals(&self, min_segment: usize) -> CycleRivals {
        let d = &self.design;
        let m = d.y.len();
        let min_segment = min_segment.max(1);
        let least = |best: Option<f64>, r: f64| Some(best.map_or(r, |b: f64| b.min(r)));
        let mut rivals = CycleRivals {
            step_rss: None,
            bend_rss: None,
        };
        let waves = d.waves.iter().map(|w| w.as_slice());
        if m >= 2 * min_segment {
            // Level, the step (inserted second), the waves.
            let scan = ScanFit::new(
                std::iter::once(&d.ones[..]).chain(waves.clone()).collect(),
                &d.y,
            );
            let mut step = vec![0.0; m];
            for split in min_segment..=m - min_segment {
                step.iter_mut()
                    .enumerate()
                    .for_each(|(i, s)| *s = if i < split { 0.0 } else { 1.0 });
                if let Some((_, r)) = scan.fit(&step, 1) {
                    rivals.step_rss = least(rivals.step_rss, r);
                }
            }
        }
        // A bend under the same cycle: growth that slows or starts (warm-up, late onset).
        // Level, line, the hinge (inserted third), the waves.
        let scan = ScanFit::new(
            [&d.ones[..], &d.time[..]]
                .into_iter()
                .chain(waves)
                .collect(),
            &d.y,
        );
        let mut hinge = vec![0.0; m];
        for k in m / 10..m - m / 10 {
            hinge
                .iter_mut()
                .zip(&d.time)
                .for_each(|(h, v)| *h = (v - d.time[k]).max(0.0));
            if let Some((_, r)) = scan.fit(&hinge, 2) {
                rivals.bend_rss = least(rivals.bend_rss, r);
            }
        }
        rivals
    }
}

/// The log's local calendar: which sample hours (since the log's first sample) fall on a
/// Saturday or Sunday, when servers often run lighter.
#[derive(Debug, Clone, Copy)]
pub struct Calendar {
    pub origin: NaiveDateTime,
}

impl Calendar {
    /// Origin plus elapsed time is local time without DST shifts: an hour off at most, which
    /// a day-level test does not notice. Out-of-range hours are not a weekend.
    pub fn is_weekend(&self, hours: f64) -> bool {
        TimeDelta::try_milliseconds((hours * 3_600_000.0) as i64)
            .and_then(|d| self.origin.checked_add_signed(d))
            .is_some_and(|at| matches!(at.weekday(), Weekday::Sat | Weekday::Sun))
    }
}

/// Share of a lifetime's points that must fall on each side (weekend, weekdays) to estimate a
/// weekend offset.
const MIN_WEEKEND_SHARE: f64 = 0.1;
/// p below which the weekend offset is removed.
const WEEKEND_P: f64 = 1e-3;

/// 1 at the hours that fall on a weekend, 0 on weekdays; `None` unless each side holds at least
/// a tenth of the points (too few to estimate an offset from).
pub fn weekend_indicator(hours: &[f64], calendar: &Calendar) -> Option<Vec<f64>> {
    if hours.is_empty() {
        return None;
    }
    let weekend: Vec<f64> = hours
        .iter()
        .map(|&h| if calendar.is_weekend(h) { 1.0 } else { 0.0 })
        .collect();
    let share = weekend.iter().sum::<f64>() / hours.len() as f64;
    (MIN_WEEKEND_SHARE..=1.0 - MIN_WEEKEND_SHARE)
        .contains(&share)
        .then_some(weekend)
}

/// A weekend level offset (the weekly cycle a log of days to two weeks cannot average out):
/// least squares of the series on time and a weekend indicator. Returns the offset and the
/// series with it removed, when the offset is significant; the time slope stays in the series.
pub fn weekend_offset(
    hours: &[f64],
    values: &[f64],
    calendar: &Calendar,
) -> Option<(f64, Vec<f64>)> {
    let m = values.len();
    if m < 24 || hours.len() != m {
        return None;
    }
    let weekend = weekend_indicator(hours, calendar)?;
    let data = linregress::RegressionDataBuilder::new()
        .build_from(vec![
            ("Y", values.to_vec()),
            ("T", hours.to_vec()),
            ("W", weekend.clone()),
        ])
        .ok()?;
    let model = linregress::FormulaRegressionBuilder::new()
        .data(&data)
        .data_columns("Y", ["T", "W"])
        .fit()
        .ok()?;
    let offset = *model.parameters().get(2)?;
    let p = *model.p_values().get(2)?;
    if p.is_nan() || p >= WEEKEND_P || !offset.is_finite() {
        return None;
    }
    let adjusted = values
        .iter()
        .zip(&weekend)
        .map(|(v, w)| v - offset * w)
        .collect();
    Some((offset, adjusted))
}

/// Day-over-day changes of hourly medians: (hour of the later value, h(t) - h(t - 24 h)).
pub fn lag24_diffs(hours: &[f64], values: &[f64]) -> Vec<(f64, f64)> {
    let (Some(&first), Some(&last)) = (hours.first(), hours.last()) else {
        return Vec::new();
    };
    let slots = (last - first).floor() as usize + 1;
    let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); slots];
    for (h, v) in hours.iter().zip(values) {
        let k = ((h - first).floor() as usize).min(slots - 1);
        buckets[k].push(*v);
    }
    let hourly: Vec<Option<f64>> = buckets.iter().map(|b| median(b)).collect();
    (24..slots)
        .filter_map(|k| Some((first + k as f64, hourly[k]? - hourly[k - 24]?)))
        .collect()
}

/// Lag-24 h sign test: hourly medians, d = h(t) - h(t - 24 h); returns (median d, one-sided
/// binomial p of the rises). `None` when fewer than 6 pairs exist.
pub fn lag24_sign_test(hours: &[f64], values: &[f64]) -> Option<(f64, f64)> {
    let diffs: Vec<f64> = lag24_diffs(hours, values)
        .into_iter()
        .map(|p| p.1)
        .collect();
    if diffs.len() < 6 {
        return None;
    }
    let ups = diffs.iter().filter(|d| **d > 0.0).count() as u64;
    let nonzero = diffs.iter().filter(|d| **d != 0.0).count() as u64;
    Some((median(&diffs)?, binomial_upper_tail(ups, nonzero, 0.5)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two days every 15 minutes with a little deterministic jitter for noise.
    fn two_days(shape: impl Fn(f64) -> f64) -> (Vec<f64>, Vec<f64>) {
        let hours: Vec<f64> = (0..192).map(|i| i as f64 * 0.25).collect();
        let values = hours
            .iter()
            .enumerate()
            .map(|(i, &h)| shape(h) + ((i * 7919) % 13) as f64 / 13.0 - 0.5)
            .collect();
        (hours, values)
    }

    #[test]
    fn harmonic_fit_takes_out_a_strong_cycle_and_keeps_the_growth() {
        let wave = |h: f64| 30.0 * (2.0 * std::f64::consts::PI * (h + 5.0) / 24.0).sin();
        let (hours, values) = two_days(|h| 100.0 + 0.4 * h + wave(h));
        let fit = harmonic_cycle(&hours, &values).unwrap();
        assert!(fit.share > 0.95 && fit.p < 1e-20, "{} {}", fit.share, fit.p);
        let rivals = fit.rivals(12);
        assert!(rivals.step_rss.is_some_and(|s| s > fit.rss));
        assert!(rivals.bend_rss.is_some_and(|b| b > 0.5 * fit.rss));
        // What is left is the line: its slope is the growth, not the cycle's.
        for (h, a) in hours.iter().zip(&fit.adjusted) {
            assert!((a - (100.0 + 0.4 * h)).abs() < 2.0, "{h}: {a}");
        }
    }

    #[test]
    fn harmonic_fit_finds_no_cycle_in_a_line_and_prefers_a_step_under_a_cycle() {
        let (hours, line) = two_days(|h| 50.0 + 0.3 * h);
        let fit = harmonic_cycle(&hours, &line).unwrap();
        assert!(fit.share < 0.2 && fit.p > 1e-3, "{} {}", fit.share, fit.p);
        let (hours, stepped) = two_days(|h| {
            let wave = 20.0 * (2.0 * std::f64::consts::PI * h / 24.0).cos();
            50.0 + wave + if h > 30.0 { 15.0 } else { 0.0 }
        });
        let fit = harmonic_cycle(&hours, &stepped).unwrap();
        let rivals = fit.rivals(12);
        assert!(rivals.step_rss.is_some_and(|s| s < fit.rss));
        assert!(harmonic_cycle(&hours[..20], &stepped[..20]).is_none());
        // 192 points cannot leave 100 on each side of a step.
        assert!(fit.rivals(100).step_rss.is_none());
    }

    #[test]
    fn harmonic_fit_sees_that_a_warm_up_bends() {
        // A quick warm-up: the harmonics take some of its curve, a bend under them far more.
        let (hours, warm) = two_days(|h| 100.0 + 60.0 * (1.0 - (-h / 3.0).exp()));
        let fit = harmonic_cycle(&hours, &warm).unwrap();
        let rivals = fit.rivals(12);
        assert!(
            rivals.bend_rss.is_some_and(|b| b < 0.3 * fit.rss),
            "{rivals:?}"
        );
    }

    #[test]
    fn pure_daily_cycle_is_strong_and_removed() {
        let hours: Vec<f64> = (0..240).map(|i| i as f64 * 0.5).collect();
        let values: Vec<f64> = hours
            .iter()
            .map(|h| 100.0 + 20.0 * (2.0 * std::f64::consts::PI * h / 24.0).sin())
            .collect();
        let c = daily_cycle(&hours, &values).unwrap();
        assert!(c.strength > 0.8, "{}", c.strength);
        let spread = c
            .adjusted
            .iter()
            .fold(0.0f64, |a, v| a.max((v - 100.0).abs()));
        assert!(spread < 6.0, "{spread}");
    }

    #[test]
    fn lag24_sees_growth_but_not_a_cycle() {
        let hours: Vec<f64> = (0..96).map(|i| i as f64 * 0.5).collect();
        let cycle: Vec<f64> = hours
            .iter()
            .map(|h| 50.0 + 10.0 * (2.0 * std::f64::consts::PI * h / 24.0).sin())
            .collect();
        let grow: Vec<f64> = cycle.iter().zip(&hours).map(|(c, h)| c + 0.5 * h).collect();
        let (_, p_cycle) = lag24_sign_test(&hours, &cycle).unwrap();
        let (d, p_grow) = lag24_sign_test(&hours, &grow).unwrap();
        assert!(p_grow < 0.01 && d > 0.0);
        assert!(p_cycle > 0.01);
    }
}
