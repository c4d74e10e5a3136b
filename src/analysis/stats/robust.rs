//! Robust location and scale: medians, MAD, the Hampel filter, and the lag-1 autocorrelation
//! that the detectable-slope bound needs.

use std::cell::RefCell;

use super::select::{key, median_by_bracket, unkey};

/// From this many values a median comes from a sampled bracket and one pass (see
/// [`median_by_bracket`]) rather than a selection over all of them.
const BRACKET_MIN: usize = 4096;
/// Up to this many values a sort beats a selection (sorting networks, no pivot rounds).
const SORT_MAX: usize = 28;

thread_local! {
    /// The measures a bracketed pass keeps: reused, as long series would allocate per call.
    static KEPT: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
    /// Keys of the moving windows and hour bins: reused rather than zeroed or allocated.
    static KEYS: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
}

/// Median of `measure(x)` over `values` by a bracketed pass; `None` when it cannot answer.
fn bracketed(values: &[f64], measure: impl Fn(f64) -> f64) -> Option<f64> {
    KEPT.with(|kept| median_by_bracket(values, measure, &mut kept.borrow_mut()))
}

/// Median of the finite values; `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.len() >= BRACKET_MIN {
        // In order with finite ends: every value is finite, and the middle is where it stands.
        if let (Some(m), Some(first), Some(last)) =
            (middle_if_in_order(values), values.first(), values.last())
        {
            if first.is_finite() && last.is_finite() {
                return Some(m);
            }
        }
        if let Some(m) = bracketed(values, |x| x) {
            return Some(m);
        }
    }
    let mut keys = finite_keys(values);
    median_of_keys(&mut keys)
}

/// Keys (see [`key`]) of the finite values. All values are keyed in one branch-free pass and
/// the rare non-finite ones dropped after: a filter in the pass costs a branch per value.
fn finite_keys(values: &[f64]) -> Vec<i64> {
    let mut not_finite = 0usize;
    let mut keys = Vec::with_capacity(values.len());
    keys.extend(values.iter().map(|&x| {
        not_finite += usize::from(!x.is_finite());
        key(x)
    }));
    if not_finite > 0 {
        keys.retain(|&k| unkey(k).is_finite());
    }
    keys
}

/// Median of values that are all finite; `None` when empty. The selection runs on total-order
/// integer keys (see [`key`]), which compare faster than floats and give the same order
/// statistics.
pub fn median_of_finite(v: &[f64]) -> Option<f64> {
    if v.len() >= BRACKET_MIN {
        if let Some(m) = middle_if_in_order(v).or_else(|| bracketed(v, |x| x)) {
            return Some(m);
        }
    }
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        keys.clear();
        keys.extend(v.iter().map(|&x| key(x)));
        median_of_keys(&mut keys)
    })
}

/// The median of `values` when they are already in total order (a rising counter, a flat
/// one), read off the middle; `None` when they are not (the check stops at the first descent).
fn middle_if_in_order(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 || !values.is_sorted_by(|a, b| a.total_cmp(b).is_le()) {
        return None;
    }
    let upper = values[n / 2];
    Some(if n % 2 == 1 {
        upper
    } else {
        (values[n / 2 - 1] + upper) / 2.0
    })
}

/// Median of the values behind `keys` (see [`key`]), which it reorders; `None` when empty.
pub fn median_of_keys(keys: &mut [i64]) -> Option<f64> {
    let n = keys.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    // A rising counter's block, or a flat one, is often in order already: nothing to select.
    // The check stops at the first descent, so it costs little on the others.
    if n <= SORT_MAX {
        keys.sort_unstable();
    }
    if n <= SORT_MAX || keys.is_sorted() {
        let upper = unkey(keys[mid]);
        return Some(if n % 2 == 1 {
            upper
        } else {
            (unkey(keys[mid - 1]) + upper) / 2.0
        });
    }
    let (lower, upper, _) = keys.select_nth_unstable(mid);
    let upper = unkey(*upper);
    if n % 2 == 1 {
        Some(upper)
    } else {
        // The largest of the lower half; its sign when it is a zero cannot change the mean.
        let below = lower.iter().copied().max().map_or(f64::NEG_INFINITY, unkey);
        Some((below + upper) / 2.0)
    }
}

/// Medians of a moving window `values[lo..hi]` (a 24-hour moving median, say): the window's
/// keys are kept in order, so a step that moves either end forward inserts and removes a few
/// keys instead of selecting among all of them again. Each median has the bits
/// [`median_of_finite`] gives for the same window.
#[derive(Debug, Default)]
pub struct MovingMedian {
    /// Keys of `values[lo..hi]`, ascending.
    sorted: Vec<i64>,
    lo: usize,
    hi: usize,
}

impl MovingMedian {
    /// Median of `values[lo..hi]`; `None` when the window is empty. `values` must be the same
    /// slice at every call: the kept keys describe its previous window.
    pub fn median(&mut self, values: &[f64], lo: usize, hi: usize) -> Option<f64> {
        let hi = hi.min(values.len());
        let lo = lo.min(hi);
        if lo < self.lo || hi < self.hi || lo >= self.hi {
            // Moved back, or past the whole previous window: start afresh.
            self.sorted.clear();
            self.sorted.extend(values[lo..hi].iter().map(|&x| key(x)));
            self.sorted.sort_unstable();
        } else {
            for &x in &values[self.lo..lo] {
                let k = key(x);
                // Equal keys are the same value: removing any one of them is exact.
                if let Ok(at) = self.sorted.binary_search(&k) {
                    self.sorted.remove(at);
                }
            }
            for &x in &values[self.hi..hi] {
                let k = key(x);
                let at = self.sorted.partition_point(|&s| s < k);
                self.sorted.insert(at, k);
            }
        }
        self.lo = lo;
        self.hi = hi;
        let n = self.sorted.len();
        let upper = unkey(*self.sorted.get(n / 2)?);
        Some(if n % 2 == 1 {
            upper
        } else {
            (unkey(self.sorted[n / 2 - 1]) + upper) / 2.0
        })
    }
}

/// Median absolute deviation from the median, scaled by 1.4826 so that it estimates the
/// standard deviation of normal data.
pub fn mad_sigma(values: &[f64]) -> Option<f64> {
    if values.len() >= BRACKET_MIN {
        // Both medians from bracketed passes over the values themselves: no keys are stored.
        if let Some(m) = bracketed(values, |x| x) {
            let deviation = |x: f64| (x - m).abs();
            let d = bracketed(values, deviation).or_else(|| {
                // Every value is finite (the first pass said so).
                let mut keys: Vec<i64> = values.iter().map(|&x| key(deviation(x))).collect();
                median_of_keys(&mut keys)
            });
            return d.map(|d| 1.4826 * d);
        }
    }
    let mut keys = finite_keys(values);
    let m = median_of_keys(&mut keys)?;
    // The same values, reordered: deviations do not depend on the order.
    for k in &mut keys {
        *k = key((unkey(*k) - m).abs());
    }
    median_of_keys(&mut keys).map(|d| 1.4826 * d)
}

/// `below(mad_sigma(values))` for a `below` that holds up to some sigma and not above it (a
/// threshold test); `None` where `mad_sigma` is. The same answer, but the deviations around the
/// median are counted against the test instead of selected: the sigma's middle deviation is
/// among those that pass exactly when more than half of them do. Only a tie at the middle of an
/// even count, or deviations so large that two could overflow their mean, select.
pub fn mad_sigma_is(values: &[f64], below: impl Fn(f64) -> bool) -> Option<bool> {
    let m = median(values)?;
    // The deviations `mad_sigma` takes the median of: those of the finite values.
    let (mut finite, mut passing, mut huge) = (0usize, 0usize, false);
    for &x in values {
        let ok = x.is_finite();
        let deviation = (x - m).abs();
        finite += usize::from(ok);
        passing += usize::from(ok && below(1.4826 * deviation));
        // Two deviations this large could overflow their mean: select then.
        huge |= ok && (deviation.is_nan() || deviation > f64::MAX / 2.0);
    }
    // Sorted, the passing deviations come first (the test is monotone, and so is scaling).
    let mid = finite / 2;
    if !huge && (finite % 2 == 1 || passing != mid) {
        // Odd: the middle deviation passes. Even: the mean of the two middle ones lies between
        // them, so it passes when both do and fails when both fail.
        return Some(passing > mid);
    }
    mad_sigma(values).map(below)
}

pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// Sample variance (n - 1 denominator); `None` with fewer than two values.
pub fn variance(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values)?;
    Some(values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (values.len() - 1) as f64)
}

/// Lag-1 autocorrelation (biased estimator, as in the usual ACF); 0 for constant input.
pub fn lag1_autocorrelation(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 3 {
        return 0.0;
    }
    let m = values.iter().sum::<f64>() / n as f64;
    let denom: f64 = values.iter().map(|x| (x - m) * (x - m)).sum();
    if denom <= 0.0 {
        return 0.0;
    }
    let num: f64 = values.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    num / denom
}

/// Hampel filter: a point further than `k` robust sigmas from the median of its centred window
/// (half-width `half`) is replaced by that median. Short spikes must not pass for growth.
pub fn hampel(values: &[f64], half: usize, k: f64) -> Vec<f64> {
    let n = values.len();
    let mut out = values.to_vec();
    let mut window = Vec::with_capacity(2 * half + 1);
    for i in 0..n {
        let lo = i.saturating_sub(half);
        let hi = (i + half + 1).min(n);
        let Some(med) = median_of_finite(&values[lo..hi]) else {
            continue;
        };
        window.clear();
        window.extend(values[lo..hi].iter().map(|w| (w - med).abs()));
        let Some(mad) = median_of_finite(&window) else {
            continue;
        };
        if (values[i] - med).abs() > k * 1.4826 * mad {
            out[i] = med;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_and_nan() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn median_equals_the_middle_of_a_sort() {
        let mut state = 99u64;
        for n in [1usize, 2, 3, 42, 64, 65, 1000, 1001] {
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 44) % 50) as f64 - 25.0
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let want = if n % 2 == 1 {
                sorted[n / 2]
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
            };
            assert_eq!(median(&v).map(f64::to_bits), Some(want.to_bits()), "n={n}");
            assert_eq!(median_of_finite(&v).map(f64::to_bits), Some(want.to_bits()));
        }
    }

    /// Median of the values `keep` admits, from a full sort in total order.
    fn sorted_median(values: &[f64], keep: impl Fn(f64) -> bool) -> Option<f64> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|&x| keep(x)).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(sorted[n / 2]),
            _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
        }
    }

    /// MAD sigma from full sorts: the median of the finite values, then of the deviations.
    fn sorted_mad_sigma(values: &[f64]) -> Option<f64> {
        let m = sorted_median(values, f64::is_finite)?;
        let deviations: Vec<f64> = values
            .iter()
            .filter(|x| x.is_finite())
            .map(|x| (x - m).abs())
            .collect();
        sorted_median(&deviations, |_| true).map(|d| 1.4826 * d)
    }

    fn bits(x: Option<f64>) -> Option<u64> {
        x.map(f64::to_bits)
    }

    /// Series of each kind where a shortcut could go wrong: noise, heavy ties, a skewed tail,
    /// signed zeros around the middle, rising and flat runs (already in order), and noise with
    /// a few non-finite values.
    fn awkward_series(n: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut state = seed;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut kinds: Vec<Vec<f64>> = (0..7).map(|_| Vec::with_capacity(n)).collect();
        for i in 0..n {
            let u = next();
            kinds[0].push(u - 0.5);
            kinds[1].push((u * 4.0).floor());
            kinds[2].push((u * 30.0).exp());
            kinds[3].push(match (u * 5.0) as u32 {
                0 => -0.0,
                1 => 0.0,
                2 => -1e-300,
                3 => 2.5,
                _ => -7.0,
            });
            kinds[4].push(1e8 + i as f64 * 4096.0);
            kinds[5].push(-0.0);
            kinds[6].push(match i % 997 {
                3 => f64::NAN,
                500 => f64::INFINITY,
                501 => f64::NEG_INFINITY,
                _ => u * 1e6,
            });
        }
        kinds
    }

    /// Lengths on both sides of every threshold: the sort cut-over, the stack buffer, the
    /// bracketed pass and its sample sizes.
    const LENGTHS: [usize; 19] = [
        0, 1, 2, 3, 5, 27, 28, 29, 30, 63, 64, 65, 136, 4095, 4096, 4097, 6000, 12_289, 24_500,
    ];

    #[test]
    fn medians_match_a_full_sort_on_awkward_series() {
        for n in LENGTHS {
            for (kind, v) in awkward_series(n, n as u64 + 1).iter().enumerate() {
                let want = sorted_median(v, f64::is_finite);
                assert_eq!(bits(median(v)), bits(want), "median n={n} kind={kind}");
                // median_of_finite orders whatever it gets, non-finite values included.
                let want_all = sorted_median(v, |_| true);
                assert_eq!(
                    bits(median_of_finite(v)),
                    bits(want_all),
                    "median_of_finite n={n} kind={kind}"
                );
            }
        }
    }

    #[test]
    fn mad_sigma_matches_full_sorts_on_awkward_series() {
        for n in LENGTHS {
            for (kind, v) in awkward_series(n, 7 * n as u64 + 3).iter().enumerate() {
                assert_eq!(
                    bits(mad_sigma(v)),
                    bits(sorted_mad_sigma(v)),
                    "n={n} kind={kind}"
                );
            }
        }
    }

    #[test]
    fn a_threshold_on_mad_sigma_gets_the_answer_of_mad_sigma() {
        for n in LENGTHS {
            for (kind, v) in awkward_series(n, 5 * n as u64 + 1).iter().enumerate() {
                let sigma = mad_sigma(v);
                // Bounds at, just beside and between the deviations the middle is made of, as
                // in the gates' `s > 8 sigma / root 2`, and the sigma itself.
                let mut bounds: Vec<f64> = sigma.into_iter().collect();
                if let Some(m) = median(v) {
                    let mut d: Vec<f64> = v
                        .iter()
                        .filter(|x| x.is_finite())
                        .map(|x| 1.4826 * (x - m).abs())
                        .collect();
                    d.sort_by(f64::total_cmp);
                    let mid = d.len() / 2;
                    for &x in &d[mid.saturating_sub(2)..(mid + 2).min(d.len())] {
                        bounds.extend([x, x.next_up(), x.next_down()]);
                    }
                }
                for x in bounds {
                    // The gates' test, whose bound falls exactly at `x`, and plain ones.
                    let s = 8.0 * (x / std::f64::consts::SQRT_2);
                    let gates = |sigma: f64| s > 8.0 * (sigma / std::f64::consts::SQRT_2);
                    let tests: [&dyn Fn(f64) -> bool; 3] =
                        [&gates, &|sigma| sigma < x, &|sigma| sigma <= x];
                    for test in tests {
                        assert_eq!(
                            mad_sigma_is(v, test),
                            sigma.map(test),
                            "n={n} kind={kind} x={x}"
                        );
                    }
                }
            }
        }
        // An even count whose two middle deviations straddle the bound: the mean decides.
        let v = [0.0, 1.0, 3.0, 4.0];
        let sigma = mad_sigma(&v).unwrap();
        assert_eq!(mad_sigma_is(&v, |x| x < sigma + 1e-9), Some(true));
        assert_eq!(mad_sigma_is(&v, |x| x < sigma), Some(false));
        assert_eq!(mad_sigma_is(&[], |_| true), None);
        // Deviations so large that the two middle ones overflow their mean: selected as
        // mad_sigma does (their mean is infinite: not finite, where both of them are).
        let huge = [-1.0e308, -0.95e308, 0.95e308, 1.0e308];
        let sigma = mad_sigma(&huge);
        assert_eq!(
            mad_sigma_is(&huge, f64::is_finite),
            sigma.map(f64::is_finite)
        );
    }

    #[test]
    fn the_middle_of_signed_zeros_keeps_its_sign() {
        // Both middle values -0.0: the mean is -0.0; one of each sign: +0.0.
        assert_eq!(
            bits(median(&[-0.0, -0.0, 1.0, -1.0])),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(
            bits(median(&[0.0, -0.0, 1.0, -1.0])),
            Some(0.0f64.to_bits())
        );
        let mut many = vec![-0.0; 5000];
        many.extend(vec![0.0; 5000]);
        assert_eq!(bits(median(&many)), Some(0.0f64.to_bits()));
        many[4999] = 0.0;
        assert_eq!(bits(median(&many)), Some(0.0f64.to_bits()));
        many.truncate(4999);
        assert_eq!(bits(median(&many)), Some((-0.0f64).to_bits()));
    }

    #[test]
    fn mad_sigma_stays_exact_when_the_deviation_bracket_misses() {
        // The sampled values sit just around the middle and the others far from it on both
        // sides: the median's bracket holds, the deviations' sample says they are all tiny.
        use crate::analysis::stats::select::{bracket_sample_size, sample_positions};
        let n = 10_001;
        let mut v: Vec<f64> = (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    -1000.0 - i as f64
                } else {
                    1000.0 + i as f64
                }
            })
            .collect();
        let sampled: Vec<usize> = sample_positions(n, bracket_sample_size(n)).collect();
        for (j, &p) in sampled.iter().enumerate() {
            v[p] = if j % 2 == 0 { -0.5 } else { 0.5 };
        }
        let m = sorted_median(&v, f64::is_finite).unwrap();
        let mut kept = Vec::new();
        assert!(median_by_bracket(&v, |x| x, &mut kept).is_some());
        assert_eq!(median_by_bracket(&v, |x| (x - m).abs(), &mut kept), None);
        assert_eq!(bits(mad_sigma(&v)), bits(sorted_mad_sigma(&v)));
    }

    #[test]
    fn moving_medians_match_each_window_selected_anew() {
        for (kind, v) in awkward_series(700, 11).iter().enumerate() {
            let mut moving = MovingMedian::default();
            let mut state = 3u64;
            let (mut lo, mut hi) = (0usize, 0usize);
            for step in 0..900 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = (state >> 33) as usize;
                // Mostly small forward steps of either end; now and then a jump back, a jump
                // past the window, or an empty window.
                match step % 97 {
                    13 => (lo, hi) = (r % 300, r % 300 + 40),
                    50 => (lo, hi) = (hi + 5, hi + 60),
                    77 => lo = hi,
                    _ => {
                        hi += r % 3;
                        lo += (r >> 4) % 3;
                        lo = lo.min(hi);
                    }
                }
                if hi > v.len() {
                    (lo, hi) = (0, 0);
                }
                let want = median_of_finite(&v[lo..hi]);
                assert_eq!(
                    bits(moving.median(v, lo, hi)),
                    bits(want),
                    "kind={kind} window {lo}..{hi}"
                );
            }
        }
    }

    #[test]
    fn long_runs_in_order_are_read_in_total_order() {
        // Equal under `<=` but out of total order (+0.0 before -0.0): no shortcut may take
        // the middle as it stands.
        // As they stand the middle one is -0.0; in total order it is the single +0.0.
        let mut v: Vec<f64> = vec![-1.0; 2000];
        v.push(0.0);
        v.extend(vec![-0.0; 2000]);
        v.extend(vec![1.0; 4000]);
        assert_eq!(v[v.len() / 2].to_bits(), (-0.0f64).to_bits());
        assert_eq!(bits(median(&v)), bits(sorted_median(&v, f64::is_finite)));
        assert_eq!(
            bits(median_of_finite(&v)),
            bits(sorted_median(&v, |_| true))
        );
        // In total order with infinite or NaN ends: median drops them, median_of_finite not.
        let mut w: Vec<f64> = (0..5000).map(|i| i as f64).collect();
        w[0] = f64::NEG_INFINITY;
        w.push(f64::NAN);
        w.push(f64::NAN);
        assert_eq!(bits(median(&w)), bits(sorted_median(&w, f64::is_finite)));
        assert_eq!(
            bits(median_of_finite(&w)),
            bits(sorted_median(&w, |_| true))
        );
        assert_ne!(median(&w), median_of_finite(&w));
    }

    #[test]
    fn mad_of_known_set() {
        // deviations from median 3: 2,1,0,1,6 -> median 1
        let s = mad_sigma(&[1.0, 2.0, 3.0, 4.0, 9.0]).unwrap();
        assert!((s - 1.4826).abs() < 1e-12);
    }

    #[test]
    fn hampel_removes_a_spike_only() {
        let mut v: Vec<f64> = (0..20).map(|i| 10.0 + (i % 3) as f64 * 0.1).collect();
        v[10] = 100.0;
        let f = hampel(&v, 3, 3.0);
        assert!(f[10] < 11.0);
        assert_eq!(f[3], v[3]);
    }

    #[test]
    fn lag1_of_alternating_is_negative() {
        let v: Vec<f64> = (0..50)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        assert!(lag1_autocorrelation(&v) < -0.9);
    }
}
