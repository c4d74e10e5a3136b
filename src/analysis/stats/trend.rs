//! Monotonic trend: Mann-Kendall with the Hamed-Rao (1998) variance correction for
//! autocorrelated data, Sen's slope with its rank-based interval, and the Cox-Stuart sign test.
//! All O(m^2) in the number of points, so callers pass block-aggregated series (m <= 240).

use super::combine::binomial_upper_tail;
use super::robust::median_of_finite;
use super::select::{key, unkey, OrderStats, Scratch as SelectScratch};
use super::{normal_quantile, normal_sf};
use std::cell::RefCell;

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
    // Only the tie counts matter: an unstable sort gives the same ones without a buffer.
    sorted.sort_unstable_by(f64::total_cmp);
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
        // Branch-free: the signs of noisy differences are unpredictable.
        s += x[i + 1..]
            .iter()
            .map(|&xj| i64::from(xj > xi) - i64::from(xj < xi))
            .sum::<i64>();
    }
    s as f64
}

/// One-sided (increasing) Mann-Kendall p over a few values, exact: the share of their orderings
/// whose S is at least the observed one (ties count as they fall). Beyond eight values the
/// normal approximation with a continuity correction and the tie-corrected variance. `None`
/// under three values, which no ordering test can call a trend.
pub fn mann_kendall_exact_p(v: &[f64]) -> Option<f64> {
    let n = v.len();
    if n < 3 {
        return None;
    }
    let s = mk_score(v);
    if n > 8 {
        return Some(normal_sf((s - 1.0) / mk_variance(v).sqrt()));
    }
    // Every ordering (Heap's algorithm).
    let mut a = v.to_vec();
    let mut c = vec![0usize; n];
    let (mut at_least, mut total) = (u64::from(mk_score(&a) >= s), 1u64);
    let mut i = 0;
    while i < n {
        if c[i] < i {
            a.swap(if i % 2 == 0 { 0 } else { c[i] }, i);
            at_least += u64::from(mk_score(&a) >= s);
            total += 1;
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    Some(at_least as f64 / total as f64)
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
    // Tied values share one rank, so their order among themselves does not matter.
    order.sort_unstable_by(|&a, &b| x[a].total_cmp(&x[b]));
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

/// Buffers reused by every test on a thread: the pairwise slopes alone are ~230 KB at 240 points.
#[derive(Default)]
struct Scratch {
    keys: Vec<i64>,
    select: SelectScratch,
    values: Vec<f64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| f(&mut s.borrow_mut()))
}

/// Mann-Kendall test of `x` observed at times `t`, with the Hamed-Rao correction: the ranks of
/// the Sen-detrended series are checked for autocorrelation at every lag, and the lags that are
/// significant at 5% inflate Var(S). `None` with fewer than 4 points.
pub fn mann_kendall_hamed_rao(t: &[f64], x: &[f64]) -> Option<MannKendall> {
    if x.len() < 4 || t.len() != x.len() {
        return None;
    }
    let slope = sen_slope_only(t, x)?;
    Some(mk_with_slope(t, x, slope))
}

/// The Mann-Kendall test and Sen's slope (95% interval from the corrected Var(S)) sharing one
/// set of pairwise slopes, which is most of the cost of either.
pub fn trend_test(t: &[f64], x: &[f64]) -> Option<(MannKendall, SenSlope)> {
    if x.len() < 4 || t.len() != x.len() {
        return None;
    }
    with_scratch(|s| {
        pairwise_slope_keys(t, x, &mut s.keys);
        let mut slopes = OrderStats::new(&s.keys, &mut s.select);
        let slope = median_slope(&mut slopes, s.keys.len())?;
        let mk = mk_with_slope(t, x, slope);
        let sen = sen_interval(
            &mut slopes,
            s.keys.len(),
            slope,
            (t, x),
            &mut s.values,
            mk.var_s_corrected,
            0.95,
        )?;
        Some((mk, sen))
    })
}

fn mk_with_slope(t: &[f64], x: &[f64], slope: f64) -> MannKendall {
    let m = x.len();
    let s = mk_score(x);
    let var_s = mk_variance(x);
    let detrended: Vec<f64> = t.iter().zip(x).map(|(ti, xi)| xi - slope * ti).collect();
    let r = ranks(&detrended);
    let mean = r.iter().sum::<f64>() / m as f64;
    let y: Vec<f64> = r.iter().map(|v| v - mean).collect();
    let c0: f64 = y.iter().map(|v| v * v).sum();
    let bound = 1.959963984540054 / (m as f64).sqrt();
    let mut sum = 0.0;
    if c0 > 0.0 {
        let c = lag_products(&y);
        for (k, ck) in c.iter().enumerate().skip(1) {
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
    MannKendall {
        s,
        var_s,
        inflation,
        var_s_corrected,
        z,
        p_increasing: normal_sf(z),
        tau: s / pairs,
    }
}

/// Lags computed side by side: each sum is one dependency chain, so several at once keep the
/// adder busy while every lag is still summed in index order (the same bits as one at a time).
const LANES: usize = 8;

/// c_k = sum over i of y_i * y_(i+k) for k in 0..m-1 (index 0 unused), each summed in index
/// order.
fn lag_products(y: &[f64]) -> Vec<f64> {
    let m = y.len();
    let mut c = vec![0.0; m.saturating_sub(1)];
    let mut k = 1;
    while k + LANES <= m.saturating_sub(1) {
        let mut acc = [0.0f64; LANES];
        // Every lag of the group has the terms i < m - k - (LANES - 1).
        let shared = m - k - (LANES - 1);
        for i in 0..shared {
            let a = y[i];
            let b = &y[i + k..i + k + LANES];
            for (acc, b) in acc.iter_mut().zip(b) {
                *acc += a * b;
            }
        }
        for (l, acc) in acc.iter_mut().enumerate() {
            for i in shared..m - k - l {
                *acc += y[i] * y[i + k + l];
            }
            c[k + l] = *acc;
        }
        k += LANES;
    }
    while k + 1 < m {
        c[k] = y[..m - k].iter().zip(&y[k..]).map(|(a, b)| a * b).sum();
        k += 1;
    }
    c
}

/// Total-order keys (see [`key`]) of the pairwise slopes (x_j - x_i)/(t_j - t_i) over pairs
/// with t_j != t_i, into `keys`.
fn pairwise_slope_keys(t: &[f64], x: &[f64], keys: &mut Vec<i64>) {
    let m = x.len();
    keys.clear();
    keys.reserve(m * (m.saturating_sub(1)) / 2);
    if t.windows(2).all(|w| w[1] > w[0]) {
        // Increasing times (every caller's case): no pair to skip, and the loop vectorises.
        for i in 0..m {
            let (ti, xi) = (t[i], x[i]);
            keys.extend(
                t[i + 1..]
                    .iter()
                    .zip(&x[i + 1..])
                    .map(|(tj, xj)| key((xj - xi) / (tj - ti))),
            );
        }
        return;
    }
    for i in 0..m {
        for j in i + 1..m {
            let dt = t[j] - t[i];
            if dt > 0.0 {
                keys.push(key((x[j] - x[i]) / dt));
            } else if dt < 0.0 {
                keys.push(key((x[i] - x[j]) / -dt));
            }
        }
    }
}

/// Median of the `n` slopes: the middle one, or the mean of the two middle ones.
fn median_slope(slopes: &mut OrderStats, n: usize) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    if n % 2 == 1 {
        let mut out = [0];
        slopes.select(&[mid], &mut out);
        Some(unkey(out[0]))
    } else {
        let mut out = [0; 2];
        slopes.select(&[mid - 1, mid], &mut out);
        Some((unkey(out[0]) + unkey(out[1])) / 2.0)
    }
}

/// Sen's slope alone (median pairwise slope).
pub fn sen_slope_only(t: &[f64], x: &[f64]) -> Option<f64> {
    with_scratch(|s| {
        pairwise_slope_keys(t, x, &mut s.keys);
        median_slope(&mut OrderStats::new(&s.keys, &mut s.select), s.keys.len())
    })
}

/// `below(sen_slope_only(t, x))` for a `below` that holds up to some slope and not above it (a
/// threshold test). The same answer, but the pairwise slopes are counted against the test
/// instead of keyed and selected: the middle slope passes exactly when more than half of them
/// do. A tie at the middle of an even count, times out of order, a slope that is no number or
/// one so large that two could overflow their mean select as `sen_slope_only` does.
pub fn sen_slope_is(t: &[f64], x: &[f64], below: impl Fn(f64) -> bool) -> Option<bool> {
    let m = x.len();
    if m < 2 || t.len() != m || !t.windows(2).all(|w| w[1] > w[0]) {
        return sen_slope_only(t, x).map(below);
    }
    let (mut passing, mut awkward) = (0usize, false);
    for i in 0..m {
        let (ti, xi) = (t[i], x[i]);
        for (tj, xj) in t[i + 1..].iter().zip(&x[i + 1..]) {
            let slope = (xj - xi) / (tj - ti);
            passing += usize::from(below(slope));
            awkward |= slope.is_nan() || slope.abs() > f64::MAX / 2.0;
        }
    }
    let pairs = m * (m - 1) / 2;
    let mid = pairs / 2;
    if !awkward && (pairs % 2 == 1 || passing != mid) {
        // Sorted, the passing slopes come first; the mean of the two middle ones of an even
        // count lies between them, so it passes when both do and fails when both fail.
        return Some(passing > mid);
    }
    sen_slope_only(t, x).map(below)
}

/// Whether [`trend_test`]'s slope and the lower end of its 95% interval are both above zero
/// (`false` where it gives none): the same answer, but the pairwise slopes above zero are
/// counted instead of the interval selected, and where the middle ones settle it (Sen's slope
/// at or below zero) the median and the test are skipped too. Times out of order, values that
/// are not finite and a tie across zero at the middle of an even count run `trend_test`.
pub fn sen_lower_above_zero(t: &[f64], x: &[f64]) -> bool {
    let m = x.len();
    let plain = m >= 4
        && t.len() == m
        && t.windows(2).all(|w| w[1] > w[0])
        && t.iter().chain(x).all(|v| v.is_finite());
    let counted = plain.then(|| {
        with_scratch(|s| {
            pairwise_slope_keys(t, x, &mut s.keys);
            let n = s.keys.len();
            // No slope is a NaN (finite values, times in order): a key above zero's is a slope
            // above zero, and sorted those are the last `above` of the `n`, from `first_above`.
            let zero = key(0.0);
            let above = s.keys.iter().filter(|&&k| k > zero).count();
            let first_above = n - above;
            let mid = n / 2;
            // Sen's slope: the middle slope, or the mean of the two middle ones (above zero when
            // both are, at or below when neither is; one each way leaves its sign to the values).
            if n % 2 == 0 && first_above == mid {
                return None;
            }
            if mid < first_above {
                return Some(false);
            }
            let mut slopes = OrderStats::new(&s.keys, &mut s.select);
            let slope = median_slope(&mut slopes, n)?;
            let mk = mk_with_slope(t, x, slope);
            let (lower_idx, upper_idx) = interval_ranks(n, mk.var_s_corrected, 0.95);
            Some(lower_idx.min(upper_idx) >= first_above)
        })
    });
    counted
        .flatten()
        .unwrap_or_else(|| trend_test(t, x).is_some_and(|(_, s)| s.slope > 0.0 && s.lower > 0.0))
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
    with_scratch(|s| {
        pairwise_slope_keys(t, x, &mut s.keys);
        let mut slopes = OrderStats::new(&s.keys, &mut s.select);
        let slope = median_slope(&mut slopes, s.keys.len())?;
        sen_interval(
            &mut slopes,
            s.keys.len(),
            slope,
            (t, x),
            &mut s.values,
            var_s,
            confidence,
        )
    })
}

/// The interval and intercept around the median `slope` of the `n` slopes; `resid` is scratch.
fn sen_interval(
    slopes: &mut OrderStats,
    n: usize,
    slope: f64,
    (t, x): (&[f64], &[f64]),
    resid: &mut Vec<f64>,
    var_s: f64,
    confidence: f64,
) -> Option<SenSlope> {
    if n == 0 {
        return None;
    }
    let (lower_idx, upper_idx) = interval_ranks(n, var_s, confidence);
    let mut out = [0; 2];
    let ranks = [lower_idx.min(upper_idx), lower_idx.max(upper_idx)];
    slopes.select(&ranks, &mut out);
    let (lower, upper) = if lower_idx <= upper_idx {
        (unkey(out[0]), unkey(out[1]))
    } else {
        (unkey(out[1]), unkey(out[0]))
    };
    resid.clear();
    resid.extend(t.iter().zip(x).map(|(ti, xi)| xi - slope * ti));
    let intercept = median_of_finite(resid)?;
    Some(SenSlope {
        slope,
        intercept,
        lower,
        upper,
    })
}

/// The 0-based ranks of the interval's bounds among `n` (at least one) sorted slopes.
fn interval_ranks(n: usize, var_s: f64, confidence: f64) -> (usize, usize) {
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let c = z * var_s.max(0.0).sqrt();
    let nf = n as f64;
    let upper_idx = (((nf + c) / 2.0).round_ties_even().max(0.0) as usize).min(n - 1);
    let lower_idx = ((((nf - c) / 2.0).round_ties_even() - 1.0).max(0.0) as usize).min(n - 1);
    (lower_idx, upper_idx)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_mann_kendall_counts_the_orderings() {
        // Rising at every step: one ordering of n! reaches that S.
        assert_eq!(mann_kendall_exact_p(&[1.0, 2.0, 3.0]), Some(1.0 / 6.0));
        let p4 = mann_kendall_exact_p(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((p4 - 1.0 / 24.0).abs() < 1e-12, "{p4}");
        // No order at all: S = 0 or more in more than half of the orderings.
        let p = mann_kendall_exact_p(&[2.0, 1.0, 4.0, 3.0]).unwrap();
        assert!(p > 0.3, "{p}");
        // One inversion among five: 5 of 120 orderings have S >= 8; falling at every step,
        // every ordering reaches its S.
        let p5 = mann_kendall_exact_p(&[1.0, 3.0, 2.0, 4.0, 5.0]).unwrap();
        assert!((p5 - 5.0 / 120.0).abs() < 1e-12, "{p5}");
        assert_eq!(mann_kendall_exact_p(&[3.0, 2.0, 1.0]), Some(1.0));
        assert_eq!(mann_kendall_exact_p(&[1.0, 2.0]), None);
    }

    #[test]
    fn a_threshold_on_sens_slope_gets_the_answer_of_sens_slope() {
        let mut cases: Vec<(Vec<f64>, Vec<f64>)> = [2, 3, 4, 5, 8, 9, 20, 41]
            .iter()
            .map(|&m| noisy(m, m as u64))
            .collect();
        // Times out of order, and a slope that is no number.
        cases.push((vec![0.0, 2.0, 1.0, 3.0], vec![1.0, 5.0, 2.0, 4.0]));
        cases.push((vec![0.0, 1.0, 2.0, 3.0], vec![1.0, f64::NAN, 2.0, 4.0]));
        for (t, x) in &cases {
            let slope = sen_slope_only(t, x);
            // Bounds at and beside every pairwise slope (the middle ones among them).
            let mut bounds: Vec<f64> = slope.into_iter().collect();
            for i in 0..x.len() {
                for j in i + 1..x.len() {
                    let s = (x[j] - x[i]) / (t[j] - t[i]);
                    bounds.extend([s, s.next_up(), s.next_down()]);
                }
            }
            for c in bounds {
                let tests: [&dyn Fn(f64) -> bool; 2] = [&|s| s < c, &|s| s < 0.5 * c];
                for test in tests {
                    assert_eq!(sen_slope_is(t, x, test), slope.map(test), "x={x:?} c={c}");
                }
            }
        }
        assert_eq!(sen_slope_is(&[1.0], &[1.0], |_| true), None);
        // Every slope 1e308: their mean overflows, and Sen's slope is infinite.
        let (t, x) = ([0.0, 0.5, 1.0, 1.5], [0.0, 0.5e308, 1.0e308, 1.5e308]);
        let slope = sen_slope_only(&t, &x);
        assert_eq!(
            sen_slope_is(&t, &x, f64::is_finite),
            slope.map(f64::is_finite)
        );
    }

    #[test]
    fn counting_above_zero_gets_the_answer_of_the_trend_test() {
        let full = |t: &[f64], x: &[f64]| {
            trend_test(t, x).is_some_and(|(_, s)| s.slope > 0.0 && s.lower > 0.0)
        };
        let mut cases: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        let mut answers = [0usize; 2];
        for m in [3, 4, 5, 8, 9, 20, 41, 120] {
            for seed in 0..40u64 {
                let (t, x) = noisy(m, seed * 31 + m as u64);
                // Tilted from falling to rising: slopes around zero, ties across it.
                let tilt = (seed % 8) as f64 * 0.6 - 2.1;
                let x: Vec<f64> = x.iter().zip(&t).map(|(v, ti)| v + tilt * ti).collect();
                cases.push((t, x));
            }
        }
        // Even counts whose two middle slopes straddle zero, signed zeros, times out of order,
        // values that are no number or infinite, slopes that overflow.
        cases.push((vec![0.0, 1.0, 2.0, 3.0], vec![0.0, 1.0, -1.0, 0.5]));
        cases.push((vec![0.0, 1.0, 2.0, 3.0], vec![-0.0, 0.0, -0.0, 0.0]));
        cases.push((vec![0.0, 2.0, 1.0, 3.0, 4.0], vec![1.0, 5.0, 2.0, 4.0, 6.0]));
        cases.push((vec![0.0, 1.0, 2.0, 3.0], vec![1.0, f64::NAN, 2.0, 4.0]));
        cases.push((vec![0.0, 1.0, 2.0, 3.0], vec![1.0, 2.0, f64::INFINITY, 4.0]));
        cases.push((vec![0.0, 1e-300, 2.0, 3.0], vec![-1e308, 1e308, 2.0, 4.0]));
        for (t, x) in &cases {
            let want = full(t, x);
            answers[usize::from(want)] += 1;
            assert_eq!(sen_lower_above_zero(t, x), want, "t={t:?} x={x:?}");
        }
        // Both answers are exercised.
        assert!(answers.iter().all(|&a| a > 20), "{answers:?}");
    }

    fn noisy(m: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut state = seed;
        let t: Vec<f64> = (0..m).map(|i| i as f64 * 0.25).collect();
        let x = (0..m)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Coarse steps give tied slopes, as integer counters do.
                100.0 + 0.3 * i as f64 + ((state >> 40) % 40) as f64
            })
            .collect();
        (t, x)
    }

    #[test]
    fn lag_products_equal_one_lag_at_a_time() {
        for m in [4, 9, 10, 17, 240] {
            let (_, y) = noisy(m, m as u64);
            let c = lag_products(&y);
            for k in 1..m - 1 {
                let one: f64 = y[..m - k].iter().zip(&y[k..]).map(|(a, b)| a * b).sum();
                assert_eq!(c[k].to_bits(), one.to_bits(), "m={m} k={k}");
            }
        }
    }

    #[test]
    fn sen_order_statistics_equal_a_full_sort() {
        for (m, seed) in [(5, 1), (60, 2), (91, 3), (240, 4)] {
            let (t, x) = noisy(m, seed);
            let mut slopes: Vec<f64> = Vec::new();
            for i in 0..m {
                for j in i + 1..m {
                    slopes.push((x[j] - x[i]) / (t[j] - t[i]));
                }
            }
            slopes.sort_by(f64::total_cmp);
            let n = slopes.len();
            let median = if n % 2 == 1 {
                slopes[n / 2]
            } else {
                (slopes[n / 2 - 1] + slopes[n / 2]) / 2.0
            };
            let (mk, sen) = trend_test(&t, &x).unwrap();
            assert_eq!(sen.slope.to_bits(), median.to_bits());
            let c = normal_quantile(0.975) * mk.var_s_corrected.sqrt();
            let nf = n as f64;
            let upper = (((nf + c) / 2.0).round_ties_even() as usize).min(n - 1);
            let lower = ((((nf - c) / 2.0).round_ties_even() - 1.0).max(0.0) as usize).min(n - 1);
            assert_eq!(sen.lower.to_bits(), slopes[lower].to_bits(), "m={m}");
            assert_eq!(sen.upper.to_bits(), slopes[upper].to_bits(), "m={m}");
            assert_eq!(
                sen_slope_only(&t, &x).map(f64::to_bits),
                Some(median.to_bits())
            );
        }
    }
}
