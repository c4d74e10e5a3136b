//! Exact order statistics of many values (Sen's pairwise slopes) without partitioning them all:
//! a seeded sample brackets each wanted rank, one pass counts the values below the bracket and
//! keeps the few inside it, and the selection runs on those. Same values as a full sort.

/// Integer key whose order is `f64::total_cmp`: selection compares plain integers.
pub fn key(v: f64) -> i64 {
    let b = v.to_bits() as i64;
    b ^ (((b >> 63) as u64) >> 1) as i64
}

/// Inverse of [`key`] (the transform keeps the sign bit, so it undoes itself).
pub fn unkey(k: i64) -> f64 {
    f64::from_bits((k ^ (((k >> 63) as u64) >> 1) as i64) as u64)
}

/// Below this many values a plain selection is as cheap as bracketing.
const DIRECT_MAX: usize = 4096;
/// Sample size for the brackets: sorting it costs little next to one pass over ~29,000 slopes,
/// and a median's bracket (about a sixth of the values) usually holds Sen's interval too.
const SAMPLE: usize = 512;

/// Reusable buffers, so that a test allocates nothing once warm.
#[derive(Debug, Default)]
pub struct Scratch {
    sample: Vec<i64>,
    inside: Vec<i64>,
    /// Positions in `inside` already selected: the values left of each are no greater.
    pivots: Vec<usize>,
}

/// Order statistics of one set of keys, asked for in any number of rounds: each round selects
/// in the values kept by the last pass when its ranks fall there, and makes a new pass only
/// when they do not.
pub struct OrderStats<'a> {
    keys: &'a [i64],
    scratch: &'a mut Scratch,
    sampled: bool,
    /// Rank of `scratch.inside[0]` and how many values are kept there.
    below: usize,
    kept: usize,
}

impl<'a> OrderStats<'a> {
    pub fn new(keys: &'a [i64], scratch: &'a mut Scratch) -> Self {
        OrderStats {
            keys,
            scratch,
            sampled: false,
            below: 0,
            kept: 0,
        }
    }

    /// The keys at the 0-based `ranks` of the sorted order (`ranks` ascending, each below the
    /// number of keys), written to `out` in the same order.
    pub fn select(&mut self, ranks: &[usize], out: &mut [i64]) {
        debug_assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
        let (Some(&first), Some(&last)) = (ranks.first(), ranks.last()) else {
            return;
        };
        debug_assert!(last < self.keys.len() && out.len() >= ranks.len());
        let covered = first >= self.below && last < self.below + self.kept;
        if !covered {
            let bracketed = self.keys.len() > DIRECT_MAX && self.bracket(first, last);
            if !bracketed {
                self.keep_all();
            }
        }
        let Scratch { inside, pivots, .. } = &mut *self.scratch;
        for (slot, &r) in out.iter_mut().zip(ranks) {
            *slot = select_between_pivots(&mut inside[..self.kept], pivots, r - self.below);
        }
    }

    fn keep_all(&mut self) {
        let Scratch { inside, pivots, .. } = &mut *self.scratch;
        inside.clear();
        inside.extend_from_slice(self.keys);
        pivots.clear();
        self.below = 0;
        self.kept = self.keys.len();
    }

    /// One pass keeping the values between sample brackets around ranks `first..=last`;
    /// `false` when the kept values miss a rank.
    fn bracket(&mut self, first: usize, last: usize) -> bool {
        let n = self.keys.len();
        let Scratch {
            sample,
            inside,
            pivots,
        } = &mut *self.scratch;
        if !self.sampled {
            // xorshift64* seeded by the size: deterministic, and exact whatever it draws.
            let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ n as u64;
            sample.clear();
            sample.extend((0..SAMPLE).map(|_| {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
                self.keys[((r as u128 * n as u128) >> 64) as usize]
            }));
            sample.sort_unstable();
            self.sampled = true;
        }
        let (lo_pos, _) = bracket_positions(first, n);
        let (_, hi_pos) = bracket_positions(last, n);
        let lo = usize::try_from(lo_pos).map_or(i64::MIN, |p| sample[p]);
        let hi = usize::try_from(hi_pos)
            .ok()
            .and_then(|p| sample.get(p).copied())
            .unwrap_or(i64::MAX);
        // Every value is written and only the kept prefix is read: no need to clear.
        if inside.len() <= n {
            inside.resize(n + 1, 0);
        }
        // Branch-free count and compaction: which values fall inside is close to random.
        let (mut below, mut kept) = (0usize, 0usize);
        for &k in self.keys {
            below += usize::from(k < lo);
            inside[kept] = k;
            kept += usize::from(lo <= k && k <= hi);
        }
        pivots.clear();
        self.below = below;
        self.kept = kept;
        first >= below && last < below + kept
    }
}

/// The value at `pos` of `values` once sorted, selecting only between the nearest positions
/// already selected (recorded in `pivots`, kept sorted).
fn select_between_pivots(values: &mut [i64], pivots: &mut Vec<usize>, pos: usize) -> i64 {
    let at = pivots.partition_point(|&p| p < pos);
    if pivots.get(at) == Some(&pos) {
        return values[pos];
    }
    let from = at.checked_sub(1).map_or(0, |a| pivots[a] + 1);
    let to = pivots.get(at).copied().unwrap_or(values.len());
    let (_, v, _) = values[from..to].select_nth_unstable(pos - from);
    pivots.insert(at, pos);
    *v
}

/// The values of `keys` at the 0-based `ranks` (ascending) of their sorted order, into `out`.
pub fn select_ranks(keys: &[i64], ranks: &[usize], out: &mut [i64], scratch: &mut Scratch) {
    OrderStats::new(keys, scratch).select(ranks, out);
}

/// Sample positions bracketing `rank` with about four standard deviations of the sample rank
/// on each side.
fn bracket_positions(rank: usize, n: usize) -> (i64, i64) {
    let s = SAMPLE as f64;
    let q = (rank as f64 + 0.5) / n as f64;
    let centre = q * s;
    let half = 4.0 * (s * q * (1.0 - q)).sqrt() + 2.0;
    (
        (centre - half).floor() as i64,
        (centre + half).ceil() as i64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[f64], ranks: &[usize]) {
        let keys: Vec<i64> = values.iter().map(|&v| key(v)).collect();
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut out = vec![0; ranks.len()];
        select_ranks(&keys, ranks, &mut out, &mut Scratch::default());
        for (r, k) in ranks.iter().zip(&out) {
            assert_eq!(unkey(*k).to_bits(), sorted[*r].to_bits(), "rank {r}");
        }
    }

    #[test]
    fn key_orders_as_total_cmp_and_round_trips() {
        let v = [
            f64::NEG_INFINITY,
            -3.5,
            -1e-310,
            -0.0,
            0.0,
            1e-310,
            2.0,
            f64::INFINITY,
        ];
        for w in v.windows(2) {
            assert!(key(w[0]) < key(w[1]), "{w:?}");
        }
        for x in v {
            assert_eq!(unkey(key(x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn matches_a_full_sort_on_noise_ties_and_skew() {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for &n in &[1usize, 2, 7, 4096, 4097, 10_000, 28_680] {
            let noise: Vec<f64> = (0..n).map(|_| next() - 0.5).collect();
            // Heavy ties and a skewed tail, where a sampled bracket is most likely to miss.
            let ties: Vec<f64> = (0..n).map(|_| (next() * 5.0).floor()).collect();
            let skew: Vec<f64> = (0..n).map(|_| (next() * 30.0).exp()).collect();
            for values in [&noise, &ties, &skew] {
                let ranks = [
                    0,
                    n / 40,
                    n / 2 - usize::from(n > 1),
                    n / 2,
                    n - n / 40 - 1,
                    n - 1,
                ];
                let mut ranks: Vec<usize> = ranks.iter().map(|&r| r.min(n - 1)).collect();
                ranks.sort_unstable();
                check(values, &ranks);
            }
        }
    }

    #[test]
    fn later_rounds_inside_and_outside_the_kept_values_stay_exact() {
        let values: Vec<f64> = (0..30_000u64)
            .map(|i| ((i * 7919) % 30_011) as f64 * if i % 3 == 0 { -1.0 } else { 1.0 })
            .collect();
        let keys: Vec<i64> = values.iter().map(|&v| key(v)).collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let mut scratch = Scratch::default();
        let mut stats = OrderStats::new(&keys, &mut scratch);
        for ranks in [
            &[14_999usize, 15_000][..],
            &[14_000, 16_100],
            &[15_000],
            &[10, 29_990],
        ] {
            let mut out = vec![0; ranks.len()];
            stats.select(ranks, &mut out);
            for (r, k) in ranks.iter().zip(&out) {
                assert_eq!(unkey(*k).to_bits(), sorted[*r].to_bits(), "rank {r}");
            }
        }
    }

    #[test]
    fn a_missed_bracket_falls_back_to_the_exact_answer() {
        // Every sampled value equal except a few: brackets collapse onto the common value.
        let mut v = vec![1.0; 20_000];
        v[5] = -2.0;
        v[17] = 3.0;
        check(&v, &[0, 1, 10_000, 19_998, 19_999]);
    }
}
