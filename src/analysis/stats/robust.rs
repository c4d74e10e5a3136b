//! Robust location and scale: medians, MAD, the Hampel filter, and the lag-1 autocorrelation
//! that the detectable-slope bound needs.

/// Median of the finite values; `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    // Sized up front: a filtered collect grows by reallocating, costly on long series.
    let mut v = Vec::with_capacity(values.len());
    v.extend(values.iter().copied().filter(|x| x.is_finite()));
    median_in_place(&mut v)
}

/// Median that reorders `v` (all values must be finite); `None` when empty.
pub fn median_in_place(v: &mut [f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (lower, upper, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        Some(upper)
    } else {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((below + upper) / 2.0)
    }
}

/// Median absolute deviation from the median, scaled by 1.4826 so that it estimates the
/// standard deviation of normal data.
pub fn mad_sigma(values: &[f64]) -> Option<f64> {
    let mut v = Vec::with_capacity(values.len());
    v.extend(values.iter().copied().filter(|x| x.is_finite()));
    let m = median_in_place(&mut v)?;
    // The same values, reordered: deviations do not depend on the order.
    for x in &mut v {
        *x = (*x - m).abs();
    }
    median_in_place(&mut v).map(|d| 1.4826 * d)
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
        window.clear();
        window.extend_from_slice(&values[lo..hi]);
        let Some(med) = median_in_place(&mut window) else {
            continue;
        };
        for w in window.iter_mut() {
            *w = (*w - med).abs();
        }
        let Some(mad) = median_in_place(&mut window) else {
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
