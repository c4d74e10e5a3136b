//! What the second opinion reads of a series: its shape, from the judged values alone (lines,
//! thirds, a daily harmonic, drops and jumps, floors and ceilings, each lifetime's slope), and
//! the rules' own evidence as the finding states it. Every figure is scale-free (shares of the
//! series' level, t-statistics, ranks), so one model reads bytes and handles alike.

use super::super::calibrate;
use super::super::stats::fit::{least_squares, line_fit};
use super::super::stats::robust::{lag1_autocorrelation, median};
use super::super::trial::SeriesTrial;
use super::super::Finding;
use crate::vocab::{Counter, Shape};

/// The shapes a finding may carry, one feature each (in this order).
const SHAPES: [Shape; 15] = [
    Shape::Linear,
    Shape::Stepwise,
    Shape::LateOnset,
    Shape::RestartMasked,
    Shape::Sawtooth,
    Shape::WarmUp,
    Shape::LevelShift,
    Shape::GrowthStopped,
    Shape::Burst,
    Shape::Cyclic,
    Shape::Flat,
    Shape::Decreasing,
    Shape::MinorGrowth,
    Shape::Confined,
    Shape::LoadDriven,
];

/// The objections an `ok` may be reopened over (see [`super::REOPENABLE`]), one feature each.
const OBJECTIONS: [&str; 7] = super::REOPENABLE;

/// The shape features' names, in order.
const SHAPE_FEATURES: [&str; 38] = [
    "log_hours",
    "log_samples",
    "handle",
    "rel_growth",
    "cv",
    "ols_rise",
    "ols_t",
    "ols_r2",
    "resid_r1",
    "mk_blocks",
    "third0",
    "third1",
    "third2",
    "quad_t",
    "harm_slope_rise",
    "harm_slope_t",
    "harm_amp",
    "harm_gain",
    "cycle_vs_line",
    "harm_r1",
    "n_drops",
    "drop_mag",
    "n_jumps",
    "max_jump_frac",
    "max_drop_frac",
    "pos_frac",
    "restarts",
    "seg_count",
    "seg_slope_med",
    "seg_t_min",
    "seg_t_med",
    "seg_pos_share",
    "floor_rise",
    "ceil_rise",
    "floor_mk",
    "last_q_t",
    "last_q_ratio",
    "rise_over_noise",
];

/// Every feature's name, in the order [`features`] writes them: the model file must list the
/// same.
pub fn names() -> Vec<String> {
    let mut v: Vec<String> = SHAPE_FEATURES.iter().map(|s| s.to_string()).collect();
    v.extend(
        [
            "p_leak",
            "score",
            "minus_log10_q",
            "r_squared",
            "growth_percent",
            "reasons",
        ]
        .map(String::from),
    );
    v.extend(calibrate::FEATURES.iter().map(|f| format!("cal_{f}")));
    v.extend(SHAPES.iter().map(|s| format!("shape_{}", s.as_str())));
    v.extend(OBJECTIONS.iter().map(|o| format!("objection_{o}")));
    v
}

/// The features of a series the rules judged (`None` with fewer than 8 blocks or samples). A figure the series cannot give is NaN, which the trees
/// send their learned way.
pub fn features(f: &Finding, s: &SeriesTrial) -> Option<Vec<f64>> {
    let mut v = shape(s)?;
    let c = f.calibration;
    let opt = |x: Option<f64>| x.filter(|x| x.is_finite()).unwrap_or(f64::NAN);
    let q = f.q_value.or(f.p_value).filter(|q| q.is_finite());
    v.extend([
        opt(c.and_then(|c| c.p_leak)),
        opt(c.and_then(|c| c.score)),
        q.map_or(f64::NAN, |q| -q.max(1e-30).log10()),
        opt(f.r_squared),
        opt(f.growth_percent),
        f.reasons.len() as f64,
    ]);
    match calibrate::features(f) {
        Some(x) => v.extend(x),
        None => v.extend([f64::NAN; calibrate::N]),
    }
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    v.extend(SHAPES.iter().map(|&sh| flag(f.shape == sh)));
    let first = f.reason_codes.first().map(String::as_str);
    v.extend(OBJECTIONS.iter().map(|&o| flag(first == Some(o))));
    Some(v)
}

/// A series as its lifetimes' tests read it: each lifetime's blocks (at most
/// [`MAX_BLOCKS`](super::super::blocks::MAX_BLOCKS) of equal duration, or its samples when
/// fewer), one after another. The trees see the same kind of figures whatever the log's length,
/// and the series need not be decoded again.
struct Blocked {
    /// Each block's mean time (hours), median level, lowest and highest value.
    t: Vec<f64>,
    y: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// Finite samples in all.
    samples: usize,
}

fn blocked(s: &SeriesTrial) -> Blocked {
    let mut b = Blocked {
        t: Vec::new(),
        y: Vec::new(),
        lo: Vec::new(),
        hi: Vec::new(),
        samples: s.finite_count,
    };
    for p in s.lifetimes.iter().filter_map(|l| l.pooled.as_deref()) {
        b.t.extend_from_slice(&p.hours);
        b.y.extend_from_slice(&p.level);
        b.lo.extend_from_slice(&p.floor);
        b.hi.extend_from_slice(&p.peak);
    }
    b
}

/// The shape features ([`SHAPE_FEATURES`]), read on the series' blocks.
fn shape(s: &SeriesTrial) -> Option<Vec<f64>> {
    let b = blocked(s);
    let (t, y) = (&b.t, &b.y);
    let n = y.len();
    if b.samples < 8 || n < 8 {
        return None;
    }
    let span = (t[n - 1] - t[0]).max(1e-6);
    let tn: Vec<f64> = t.iter().map(|x| (x - t[0]) / span).collect();
    let level = (y.iter().map(|v| v.abs()).sum::<f64>() / n as f64).max(1e-9);
    let tiny = 1e-9 * level;
    let mut out = Vec::with_capacity(SHAPE_FEATURES.len());
    out.push(span.log10());
    out.push((b.samples as f64).log10());
    out.push(if s.kind == Counter::HandleCount {
        1.0
    } else {
        0.0
    });
    let q = (n / 10).max(1);
    out.push((mean(&y[n - q..]) - mean(&y[..q])) / level);
    out.push(std(y) / level);
    let line = line_fit(&tn, y)?;
    let resid = line.residuals(&tn, y);
    let r1 = lag1_autocorrelation(&resid);
    let syy: f64 = {
        let m = mean(y);
        y.iter().map(|v| (v - m) * (v - m)).sum()
    };
    out.push(line.slope / level);
    out.push(line_t(&tn, y).unwrap_or(0.0));
    out.push(1.0 - line.rss / syy.max(1e-300));
    out.push(if r1.is_finite() { r1 } else { 0.0 });
    out.push(mann_kendall_z(&block_means(y, 32)));
    for (a, z) in [
        (0.0, 1.0 / 3.0),
        (1.0 / 3.0, 2.0 / 3.0),
        (2.0 / 3.0, 1.0001),
    ] {
        let (tt, yy) = within(&tn, y, |x| x >= a && x < z);
        let slope = line_fit(&tt, &yy)
            .filter(|_| tt.len() >= 3)
            .map_or(0.0, |l| l.slope);
        out.push(slope / (line.slope.abs() + tiny));
    }
    let ones = vec![1.0; n];
    let tn2: Vec<f64> = tn.iter().map(|x| x * x).collect();
    out.push(coefficient_t(&[&ones, &tn, &tn2], y, 2).unwrap_or(0.0));
    // The daily harmonic (24 h and 12 h) beside the line, and the cycle without the line.
    let (cos, sin): (Vec<f64>, Vec<f64>) = t
        .iter()
        .map(|h| (2.0 * std::f64::consts::PI * h / 24.0).sin_cos())
        .map(|(s, c)| (c, s))
        .unzip();
    let cos2: Vec<f64> = cos.iter().map(|c| 2.0 * c * c - 1.0).collect();
    let sin2: Vec<f64> = cos.iter().zip(&sin).map(|(c, s)| 2.0 * s * c).collect();
    let wave: [&[f64]; 4] = [&cos, &sin, &cos2, &sin2];
    let mut cols: Vec<&[f64]> = vec![&ones, &tn];
    cols.extend(wave);
    match least_squares(&cols, y) {
        Some((c, rss)) => {
            let r1h = lag1_autocorrelation(&residuals(&cols, &c, y));
            out.push(c[1] / level);
            out.push(coefficient_t(&cols, y, 1).unwrap_or(0.0));
            out.push(c[2].hypot(c[3]) / level);
            out.push(1.0 - rss / line.rss.max(1e-300));
            let mut cyc: Vec<&[f64]> = vec![&ones];
            cyc.extend(wave);
            let cycle_rss = least_squares(&cyc, y).map_or(syy, |(_, rss)| rss);
            out.push(((cycle_rss + 1e-300) / (line.rss + 1e-300)).ln());
            out.push(if r1h.is_finite() { r1h } else { 0.0 });
        }
        None => out.extend([0.0; 6]),
    }
    // Drops and jumps between blocks, against the changes' own scale.
    let d: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    let md = median(&d).unwrap_or(0.0);
    let dev: Vec<f64> = d.iter().map(|x| (x - md).abs()).collect();
    let mad = median(&dev).unwrap_or(0.0) * 1.4826 + 1e-12 * level;
    let big = (6.0 * mad).max(0.05 * level);
    let drops: Vec<f64> = d.iter().copied().filter(|x| *x < -big).collect();
    out.push(drops.len() as f64);
    out.push(-drops.iter().sum::<f64>() / level);
    out.push(d.iter().filter(|x| **x > big).count() as f64);
    let lo = extreme(&b.lo, f64::min);
    let hi = extreme(&b.hi, f64::max);
    let range = hi - lo + 1e-12 * level;
    let dmax = extreme(&d, f64::max);
    let dmin = extreme(&d, f64::min);
    out.push(dmax / range);
    out.push(-dmin / range);
    out.push(d.iter().filter(|x| **x > 0.0).count() as f64 / d.len() as f64);
    // Each lifetime's own line (the split's restarts), on the blocks inside it.
    out.push(s.split.cuts.len() as f64);
    let mut slopes = Vec::new();
    let mut ts = Vec::new();
    for p in s.lifetimes.iter().filter_map(|l| l.pooled.as_deref()) {
        let lt: Vec<f64> = p.hours.iter().map(|h| (h - t[0]) / span).collect();
        if lt.len() >= 6 {
            if let (Some(fit), Some(tv)) = (line_fit(&lt, &p.level), line_t(&lt, &p.level)) {
                slopes.push(fit.slope / level);
                ts.push(tv);
            }
        }
    }
    out.push(s.lifetimes.len().max(1) as f64);
    out.push(median(&slopes).unwrap_or(0.0));
    out.push(if ts.is_empty() {
        0.0
    } else {
        extreme(&ts, f64::min)
    });
    out.push(median(&ts).unwrap_or(0.0));
    out.push(if slopes.is_empty() {
        0.0
    } else {
        slopes.iter().filter(|s| **s > 0.0).count() as f64 / slopes.len() as f64
    });
    // Floors and ceilings of 12 windows.
    let windows = chunks(n, 12);
    let mins: Vec<f64> = windows
        .iter()
        .map(|r| extreme(&b.lo[r.clone()], f64::min))
        .collect();
    let maxs: Vec<f64> = windows
        .iter()
        .map(|r| extreme(&b.hi[r.clone()], f64::max))
        .collect();
    let xi: Vec<f64> = (0..mins.len())
        .map(|i| i as f64 / (mins.len().max(2) - 1) as f64)
        .collect();
    out.push(line_fit(&xi, &mins).map_or(0.0, |l| l.slope) / level);
    out.push(line_fit(&xi, &maxs).map_or(0.0, |l| l.slope) / level);
    out.push(mann_kendall_z(&mins));
    // The last quarter against the whole.
    let (qt, qy) = within(&tn, y, |x| x >= 0.75);
    match (qt.len() >= 4).then(|| (line_fit(&qt, &qy), line_t(&qt, &qy))) {
        Some((Some(l), Some(tv))) => {
            out.push(tv);
            out.push(l.slope / (line.slope.abs() + tiny));
        }
        _ => out.extend([0.0, 0.0]),
    }
    out.push(line.slope / (std(&d) / std::f64::consts::SQRT_2 + 1e-12 * level));
    debug_assert_eq!(out.len(), SHAPE_FEATURES.len());
    Some(out)
}

/// The lowest (`f64::min`) or highest (`f64::max`) of `v`, which is not empty.
fn extreme(v: &[f64], pick: fn(f64, f64) -> f64) -> f64 {
    v.iter().copied().reduce(pick).unwrap_or(f64::NAN)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn std(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len().max(1) as f64).sqrt()
}

/// The samples whose normalised time passes `keep`.
fn within(tn: &[f64], y: &[f64], keep: impl Fn(f64) -> bool) -> (Vec<f64>, Vec<f64>) {
    tn.iter()
        .zip(y)
        .filter(|(t, _)| keep(**t))
        .map(|(t, y)| (*t, *y))
        .unzip()
}

/// `n` indices cut into `k` runs as even as can be (the first ones one longer).
fn chunks(n: usize, k: usize) -> Vec<std::ops::Range<usize>> {
    let k = k.min(n).max(1);
    let (base, extra) = (n / k, n % k);
    let mut start = 0;
    (0..k)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

fn block_means(y: &[f64], k: usize) -> Vec<f64> {
    chunks(y.len(), k)
        .into_iter()
        .map(|r| mean(&y[r]))
        .collect()
}

/// Mann-Kendall's z (no tie correction) of a short sequence.
fn mann_kendall_z(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return 0.0;
    }
    let mut s = 0.0;
    for i in 0..n - 1 {
        for j in i + 1..n {
            s += (x[j] - x[i]).signum() * f64::from(u8::from(x[j] != x[i]));
        }
    }
    let nf = n as f64;
    s / (nf * (nf - 1.0) * (2.0 * nf + 5.0) / 18.0).sqrt()
}

fn residuals(cols: &[&[f64]], b: &[f64], y: &[f64]) -> Vec<f64> {
    (0..y.len())
        .map(|i| y[i] - cols.iter().zip(b).map(|(c, b)| c[i] * b).sum::<f64>())
        .collect()
}

/// The AR(1)-widened t-statistic of a line's slope.
fn line_t(t: &[f64], y: &[f64]) -> Option<f64> {
    let ones = vec![1.0; t.len()];
    coefficient_t(&[&ones, t], y, 1)
}

/// The t-statistic of coefficient `j`, its standard error widened for the residuals' lag-1
/// correlation: the variance of coefficient `j` is s² over what the other columns leave of
/// column `j`.
fn coefficient_t(cols: &[&[f64]], y: &[f64], j: usize) -> Option<f64> {
    let (n, k) = (y.len(), cols.len());
    if n <= k {
        return None;
    }
    let (b, rss) = least_squares(cols, y)?;
    let others: Vec<&[f64]> = cols
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != j)
        .map(|(_, c)| *c)
        .collect();
    let (_, left) = least_squares(&others, cols[j])?;
    if left <= 0.0 {
        return None;
    }
    let s2 = rss / (n - k) as f64;
    let se = (s2 / left).sqrt().max(1e-300);
    let r1 = lag1_autocorrelation(&residuals(cols, &b, y));
    let r1 = if r1.is_finite() {
        r1.clamp(-0.5, 0.99)
    } else {
        0.0
    };
    Some(b[j] / se * ((1.0 - r1) / (1.0 + r1)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mann_kendall_reads_a_rise_and_a_fall() {
        let up: Vec<f64> = (0..12).map(f64::from).collect();
        let down: Vec<f64> = up.iter().rev().copied().collect();
        assert!(mann_kendall_z(&up) > 4.0);
        assert!((mann_kendall_z(&up) + mann_kendall_z(&down)).abs() < 1e-12);
    }

    #[test]
    fn a_slopes_t_grows_with_the_rise_against_the_noise() {
        let t: Vec<f64> = (0..200).map(|i| f64::from(i) / 199.0).collect();
        let noise: Vec<f64> = (0..200).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect();
        let y = |k: f64| -> Vec<f64> { t.iter().zip(&noise).map(|(t, e)| k * t + e).collect() };
        let small = line_t(&t, &y(1.0)).unwrap();
        let large = line_t(&t, &y(20.0)).unwrap();
        assert!(large > small && large > 10.0, "{small} {large}");
    }

    #[test]
    fn chunks_cover_every_index_once() {
        let c = chunks(25, 12);
        assert_eq!(c.len(), 12);
        assert_eq!(c.first().unwrap().start, 0);
        assert_eq!(c.last().unwrap().end, 25);
        assert!(c.windows(2).all(|w| w[0].end == w[1].start));
    }
}
