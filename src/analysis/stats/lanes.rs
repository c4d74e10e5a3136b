//! Folds over a slice in eight independent lanes. A fold of dependent steps (a running sum, a
//! running extreme) waits on each step's latency; eight running side by side keep the machine
//! busy, and the compiler can put them in vector registers. The lanes are combined in lane
//! order, so a result depends only on the slice, never on the machine.

const LANES: usize = 8;

/// The smallest and the largest value that are numbers (`NaN` is passed over; an empty or
/// all-`NaN` slice gives `(inf, -inf)`).
pub fn extremes(values: &[f64]) -> (f64, f64) {
    let mut low = [f64::INFINITY; LANES];
    let mut high = [f64::NEG_INFINITY; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in chunks.by_ref() {
        for k in 0..LANES {
            let v = chunk[k];
            low[k] = if v < low[k] { v } else { low[k] };
            high[k] = if v > high[k] { v } else { high[k] };
        }
    }
    for (k, &v) in chunks.remainder().iter().enumerate() {
        low[k] = if v < low[k] { v } else { low[k] };
        high[k] = if v > high[k] { v } else { high[k] };
    }
    let low = low
        .iter()
        .fold(f64::INFINITY, |a, &v| if v < a { v } else { a });
    let high = high
        .iter()
        .fold(f64::NEG_INFINITY, |a, &v| if v > a { v } else { a });
    (low, high)
}

/// The largest fall from one value to the next (0 when none falls).
pub fn largest_fall(values: &[f64]) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let pairs = values.len().saturating_sub(1);
    let (before, after) = (&values[..pairs], &values[values.len().min(1)..]);
    let mut b = before.chunks_exact(LANES);
    let mut a = after.chunks_exact(LANES);
    for (cb, ca) in b.by_ref().zip(a.by_ref()) {
        for k in 0..LANES {
            let fall = cb[k] - ca[k];
            lanes[k] = if fall > lanes[k] { fall } else { lanes[k] };
        }
    }
    for (k, (x, y)) in b.remainder().iter().zip(a.remainder()).enumerate() {
        let fall = x - y;
        lanes[k] = if fall > lanes[k] { fall } else { lanes[k] };
    }
    lanes.iter().fold(0.0, |m, &v| if v > m { v } else { m })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequential_extremes(values: &[f64]) -> (f64, f64) {
        values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (if v < a { v } else { a }, if v > b { v } else { b })
            })
    }

    #[test]
    fn lanes_agree_with_the_plain_fold_at_every_length() {
        for n in 0..40 {
            let v: Vec<f64> = (0..n)
                .map(|i| match i % 7 {
                    3 => f64::NAN,
                    k => ((i * 7919) % 101) as f64 - 50.0 + k as f64 * 0.25,
                })
                .collect();
            assert_eq!(extremes(&v), sequential_extremes(&v), "n={n}");
            let plain = v
                .windows(2)
                .map(|w| w[0] - w[1])
                .fold(0.0, |m, d| if d > m { d } else { m });
            assert_eq!(largest_fall(&v).to_bits(), plain.to_bits(), "n={n}");
        }
        assert_eq!(extremes(&[]), (f64::INFINITY, f64::NEG_INFINITY));
        assert_eq!(largest_fall(&[5.0]), 0.0);
        assert_eq!(largest_fall(&[1.0, 2.0, 3.0]), 0.0);
    }
}
