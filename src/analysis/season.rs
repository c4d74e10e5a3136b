//! Daily cycles: for lifetimes of three days or more, a 24-hour moving median gives the trend and
//! the hour-of-day medians of what is left give the daily profile, which is removed when it is
//! strong; for one to three days, a lag-24 h sign test asks whether each hour beats its
//! yesterday.

use super::stats::combine::binomial_upper_tail;
use super::stats::robust::{median, median_in_place, variance};
use chrono::{Datelike, NaiveDateTime, TimeDelta, Weekday};

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
    let mut window = Vec::new();
    for i in 0..m {
        while hours[lo] < hours[i] - DAY / 2.0 {
            lo += 1;
        }
        while hi < m && hours[hi] <= hours[i] + DAY / 2.0 {
            hi += 1;
        }
        window.clear();
        window.extend_from_slice(&values[lo..hi]);
        trend.push(median_in_place(&mut window)?);
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
    let weekend: Vec<f64> = hours
        .iter()
        .map(|&h| if calendar.is_weekend(h) { 1.0 } else { 0.0 })
        .collect();
    let share = weekend.iter().sum::<f64>() / m as f64;
    if !(MIN_WEEKEND_SHARE..=1.0 - MIN_WEEKEND_SHARE).contains(&share) {
        return None;
    }
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
