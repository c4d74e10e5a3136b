//! Monotonic trend: Mann-Kendall with the Hamed-Rao (1998) variance correction for
//! autocorrelated data, Sen's slope with its rank-based interval, and the Cox-Stuart sign test.
//! All O(m^2) in the number of points, so callers pass block-aggregated series (m <= 240).

use super::combine::binomial_upper_tail;
use super::robust::median_in_place;
use super::{normal_quantile, normal_sf};

/// Result of a Mann-Kendall test for an increasing trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// S = sum over i < j of sgn(x_j - x_i).
    pub s: f64,
    /// Var(S) under independence, tie-corrected.
    pub var_s: f64,
    /// Hamed-Rao variance inflation n/n* (1 = no significant autocorrelation).
    pub inflation: f64,
    /// Var(S) used for the test: `var_s * max(1, inflation)`.
    pub var_s_corrected: f64,
    /// Continuity-corrected score with the corrected variance.
    pub z: f64,
    /// One-sided p-value for an increasing trend.
    pub p_increasing: f64,
    /// Kendall's tau-a.
    pub tau: f64,
}

/// Tie-corrected variance of S: [n(n-1)(2n+5) - sum t(t-1)(2t+5)] / 18.
pub fn mk_variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i + 1;
        while j < sorted.len() && sorted[j] == sorted[i] {
            j += 1;
        }
        let t = (j - i) as f64;
        if t > 1.0 {
            ties += t * (t - 1.0) * (2.0 * t + 5.0);
        }
        i = j;
    }
    (n * (n - 1.0) * (2.0 * n + 5.0) - ties) / 18.0
}

/// Mann-Kendall S statistic.
pub fn mk_score(x: &[f64]) -> f64 {
    let mut s = 0i64;
    for i in 0..x.len() {
        let xi = x[i];
        for &xj in &x[i + 1..] {
            if xj > xi {
                s += 1;
            } else if xj < xi {
                s -= 1;
            }
        }
    }
    s as f64
}

fn continuity_z(s: f64, var: f64) -> f64 {
    if var <= 0.0 {
        return 0.0;
    }
    if s > 0.0 {
        (s - 1.0) / var.sqrt()
    } else if s < 0.0 {
        (s + 1.0) / var.sqrt()
    } else {
        0.0
    }
}

/// Average ranks (1-based), ties share the mean rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && x[order[j]] == x[order[i]] {
            j += 1;
        }
        let rank = (i + j + 1) as f64 / 2.0;
        for &k in &order[i..j] {
            out[k] = rank;
        }
        i = j;
    }
    out
}

/// Mann-Kendall test of `x` observed at times `t`, with the Hamed-Rao correction: the ranks of
/// the Sen-detrended series are checked for autocorrelation at every lag, and the lags that are
/// significant at 5% inflate Var(S). `None` with fewer than 4 points.
pub fn mann_kendall_hamed_rao(t: &[f64], x: &[f64]) -> Option<MannKendall> {
    let m = x.len();
    if m < 4 || t.len() != m {
        return None;
    }
    let s = mk_score(x);
    let var_s = mk_variance(x);
    let slope = sen_slope_only(t, x)?;
    let detrended: Vec<f64> = t.iter().zip(x).map(|(ti, xi)| xi - slope * ti).collect();
    let r = ranks(&detrended);
    let mean = r.iter().sum::<f64>() / m as f64;
    let y: Vec<f64> = r.iter().map(|v| v - mean).collect();
    let c0: f64 = y.iter().map(|v| v * v).sum();
    let bound = 1.959963984540054 / (m as f64).sqrt();
    let mut sum = 0.0;
    if c0 > 0.0 {
        for k in 1..m - 1 {
            let ck: f64 = y[..m - k].iter().zip(&y[k..]).map(|(a, b)| a * b).sum();
            let rho = ck / c0;
            if rho.abs() > bound {
                let mk = (m - k) as f64;
                sum += mk * (mk - 1.0) * (mk - 2.0) * rho;
            }
        }
    }
    let mf = m as f64;
    let inflation = 1.0 + 2.0 / (mf * (mf - 1.0) * (mf - 2.0)) * sum;
    let var_s_corrected = var_s * inflation.max(1.0);
    let z = continuity_z(s, var_s_corrected);
    let pairs = mf * (mf - 1.0) / 2.0;
    Some(MannKendall {
        s,
        var_s,
        inflation,
        var_s_corrected,
        z,
        p_increasing: normal_sf(z),
        tau: s / pairs,
    })
}

/// Pairwise slopes (x_j - x_i)/(t_j - t_i) over pairs with t_j > t_i.
fn pairwise_slopes(t: &[f64], x: &[f64]) -> Vec<f64> {
    let m = x.len();
    let mut slopes = Vec::with_capacity(m * (m.saturating_sub(1)) / 2);
    for i in 0..m {
        for j in i + 1..m {
            let dt = t[j] - t[i];
            if dt > 0.0 {
                slopes.push((x[j] - x[i]) / dt);
            } else if dt < 0.0 {
                slopes.push((x[i] - x[j]) / -dt);
            }
        }
    }
    slopes
}

/// Sen's slope alone (median pairwise slope).
pub fn sen_slope_only(t: &[f64], x: &[f64]) -> Option<f64> {
    let mut slopes = pairwise_slopes(t, x);
    median_in_place(&mut slopes)
}

/// Sen's slope, intercept median(x - slope*t), and a two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SenSlope {
    pub slope: f64,
    pub intercept: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Sen's slope with the rank-based interval at two-sided level `confidence`, built from a
/// given Var(S) (pass the autocorrelation-corrected one so the interval widens with it):
/// C = z * sqrt(Var S); the bounds are the order statistics round((N - C)/2) - 1 and
/// round((N + C)/2) of the N pairwise slopes (0-based, as scipy's `theilslopes`).
pub fn sen_slope(t: &[f64], x: &[f64], var_s: f64, confidence: f64) -> Option<SenSlope> {
    if x.len() < 2 || t.len() != x.len() {
        return None;
    }
    let mut slopes = pairwise_slopes(t, x);
    let n = slopes.len();
    if n == 0 {
        return None;
    }
    let slope = median_in_place(&mut slopes)?;
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let c = z * var_s.max(0.0).sqrt();
    let nf = n as f64;
    let upper_idx = (((nf + c) / 2.0).round_ties_even().max(0.0) as usize).min(n - 1);
    let lower_idx = ((((nf - c) / 2.0).round_ties_even() - 1.0).max(0.0) as usize).min(n - 1);
    let (_, lower, _) = slopes.select_nth_unstable_by(lower_idx, f64::total_cmp);
    let lower = *lower;
    let (_, upper, _) = slopes.select_nth_unstable_by(upper_idx, f64::total_cmp);
    let upper = *upper;
    let mut resid: Vec<f64> = t.iter().zip(x).map(|(ti, xi)| xi - slope * ti).collect();
    let intercept = median_in_place(&mut resid)?;
    Some(SenSlope {
        slope,
        intercept,
        lower,
        upper,
    })
}

/// Cox-Stuart test for an increasing trend: x_i against x_{i+c}, c = ceil(m/2); one-sided
/// binomial p of the count of increases among the non-tied pairs.
pub fn cox_stuart_increasing(x: &[f64]) -> Option<f64> {
    let m = x.len();
    if m < 4 {
        return None;
    }
    let c = m.div_ceil(2);
    let (mut up, mut total) = (0u64, 0u64);
    for i in 0..m - c {
        let d = x[i + c] - x[i];
        if d > 0.0 {
            up += 1;
            total += 1;
        } else if d < 0.0 {
            total += 1;
        }
    }
    if total == 0 {
        return Some(1.0);
    }
    Some(binomial_upper_tail(up, total, 0.5))
}
