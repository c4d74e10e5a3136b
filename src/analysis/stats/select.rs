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

/// Values kept by a pass: those ranked `below..below + kept`, in `buf[..kept]`.
#[derive(Debug, Default)]
struct Window {
    buf: Vec<i64>,
    /// Positions in `buf` already selected: the values left of each are no greater.
    pivots: Vec<usize>,
    below: usize,
    kept: usize,
}

impl Window {
    fn covers(&self, rank: usize) -> bool {
        rank >= self.below && rank < self.below + self.kept
    }

    fn select(&mut self, rank: usize) -> i64 {
        select_between_pivots(
            &mut self.buf[..self.kept],
            &mut self.pivots,
            rank - self.below,
        )
    }

    /// Room for a pass over `n` values, emptied.
    fn reset(&mut self, n: usize) {
        // Every value is written before it is read: no need to clear.
        if self.buf.len() < n + CHUNK {
            self.buf.resize(n + CHUNK, 0);
        }
        self.pivots.clear();
        self.below = 0;
        self.kept = 0;
    }
}

/// Reusable buffers, so that a test allocates nothing once warm.
#[derive(Debug, Default)]
pub struct Scratch {
    sample: Vec<i64>,
    /// Positions of `sample` already selected (see [`select_between_pivots`]).
    sample_pivots: Vec<usize>,
    windows: [Window; 2],
    /// Passes that kept every value because the brackets missed (tests check which path ran).
    #[cfg(test)]
    full_passes: usize,
}

/// Order statistics of one set of keys, asked for in any number of rounds: each round selects
/// in the values kept by an earlier pass when its ranks fall there, and makes a new pass (with
/// one or two brackets) only when they do not.
pub struct OrderStats<'a> {
    keys: &'a [i64],
    scratch: &'a mut Scratch,
    sampled: bool,
}

impl<'a> OrderStats<'a> {
    pub fn new(keys: &'a [i64], scratch: &'a mut Scratch) -> Self {
        for w in &mut scratch.windows {
            w.kept = 0;
        }
        OrderStats {
            keys,
            scratch,
            sampled: false,
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
        let covered = |w: &[Window; 2]| ranks.iter().all(|&r| w.iter().any(|w| w.covers(r)));
        if !covered(&self.scratch.windows) {
            if self.keys.len() > DIRECT_MAX {
                self.bracket(first, last);
            }
            if !covered(&self.scratch.windows) {
                self.keep_all();
            }
        }
        for (slot, &r) in out.iter_mut().zip(ranks) {
            if let Some(w) = self.scratch.windows.iter_mut().find(|w| w.covers(r)) {
                *slot = w.select(r);
            }
        }
    }

    fn keep_all(&mut self) {
        #[cfg(test)]
        {
            self.scratch.full_passes += 1;
        }
        let [all, other] = &mut self.scratch.windows;
        // Copied over the front: shortening the buffer would have the next pass's `reset`
        // zero all of it again as it grows back.
        let n = self.keys.len();
        if all.buf.len() < n {
            all.buf.resize(n, 0);
        }
        all.buf[..n].copy_from_slice(self.keys);
        all.pivots.clear();
        all.below = 0;
        all.kept = self.keys.len();
        other.kept = 0;
    }

    /// One pass keeping the values inside sample brackets around `first` and `last` (one
    /// bracket when theirs overlap). A bracket can miss its rank: the caller checks.
    fn bracket(&mut self, first: usize, last: usize) {
        let n = self.keys.len();
        let Scratch {
            sample,
            sample_pivots,
            windows,
            ..
        } = &mut *self.scratch;
        if !self.sampled {
            // Left unsorted: the few positions the brackets need are selected on demand.
            sample.clear();
            sample.extend(sample_positions(n, SAMPLE).map(|p| self.keys[p]));
            sample_pivots.clear();
            self.sampled = true;
        }
        let mut value_at = |pos: i64| match usize::try_from(pos) {
            Err(_) => i64::MIN,
            Ok(p) if p >= sample.len() => i64::MAX,
            Ok(p) => select_between_pivots(sample, sample_pivots, p),
        };
        let (first_lo, first_hi) = bracket_positions(first, n);
        let (last_lo, last_hi) = bracket_positions(last, n);
        let [a, b] = windows;
        a.reset(n);
        b.reset(n);
        if last_lo <= first_hi {
            let (lo, hi) = (value_at(first_lo), value_at(last_hi));
            (a.below, a.kept) = keep_between(self.keys, lo, hi, &mut a.buf);
        } else {
            // Two ranks far apart (Sen's interval): two small brackets, not one wide one,
            // filled in the same pass.
            let (lo_a, hi_a) = (value_at(first_lo), value_at(first_hi));
            let (lo_b, hi_b) = (value_at(last_lo), value_at(last_hi));
            [(a.below, a.kept), (b.below, b.kept)] = keep_between_two(
                self.keys,
                [(lo_a, hi_a), (lo_b, hi_b)],
                [&mut a.buf, &mut b.buf],
            );
        }
    }
}

/// Values per block of [`keep_between`]'s compaction.
const CHUNK: usize = 64;

/// Count the keys below `lo` and copy those in `lo..=hi` to the front of `buf` (at least
/// `keys.len() + CHUNK` long); returns (count below, count kept). `lo <= hi`.
fn keep_between(keys: &[i64], lo: i64, hi: i64, buf: &mut [i64]) -> (usize, usize) {
    debug_assert!(lo <= hi);
    // `hi - lo` as an unsigned span: one comparison tells whether a key lies in `lo..=hi`.
    let span = hi.wrapping_sub(lo) as u64;
    let (mut below, mut kept) = (0usize, 0usize);
    for chunk in keys.chunks(CHUNK) {
        // Branch-free: which values fall inside is close to random. Within a chunk the write
        // position stays below CHUNK, which the mask tells the compiler (no bounds checks).
        let dst = &mut buf[kept..kept + CHUNK];
        let mut c = 0usize;
        for &k in chunk {
            below += usize::from(k < lo);
            dst[c & (CHUNK - 1)] = k;
            c += usize::from(k.wrapping_sub(lo) as u64 <= span);
        }
        kept += c;
    }
    (below, kept)
}

/// [`keep_between`] for two brackets in one pass over the keys.
fn keep_between_two(
    keys: &[i64],
    [(lo_a, hi_a), (lo_b, hi_b)]: [(i64, i64); 2],
    [buf_a, buf_b]: [&mut [i64]; 2],
) -> [(usize, usize); 2] {
    debug_assert!(lo_a <= hi_a && lo_b <= hi_b);
    let span_a = hi_a.wrapping_sub(lo_a) as u64;
    let span_b = hi_b.wrapping_sub(lo_b) as u64;
    let (mut below_a, mut kept_a, mut below_b, mut kept_b) = (0usize, 0usize, 0usize, 0usize);
    for chunk in keys.chunks(CHUNK) {
        let dst_a = &mut buf_a[kept_a..kept_a + CHUNK];
        let dst_b = &mut buf_b[kept_b..kept_b + CHUNK];
        let (mut ca, mut cb) = (0usize, 0usize);
        for &k in chunk {
            below_a += usize::from(k < lo_a);
            below_b += usize::from(k < lo_b);
            dst_a[ca & (CHUNK - 1)] = k;
            dst_b[cb & (CHUNK - 1)] = k;
            ca += usize::from(k.wrapping_sub(lo_a) as u64 <= span_a);
            cb += usize::from(k.wrapping_sub(lo_b) as u64 <= span_b);
        }
        kept_a += ca;
        kept_b += cb;
    }
    [(below_a, kept_a), (below_b, kept_b)]
}

/// `SAMPLE` positions below `n` (which must be positive), drawn by xorshift64* seeded by the
/// size: deterministic, and the selections stay exact whatever it draws.
pub(super) fn sample_positions(n: usize, size: usize) -> impl Iterator<Item = usize> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ n as u64;
    (0..size).map(move |_| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((r as u128 * n as u128) >> 64) as usize
    })
}

/// Median of `measure(x)` over the values `x`, from one pass that keeps (in `kept`) only the
/// measures inside a sampled bracket around the middle rank: same bits as a full selection
/// (the mean of the two middle measures for an even count). `None` when a value is not finite
/// or the bracket misses the middle: the caller then selects in full.
pub fn median_by_bracket(
    values: &[f64],
    measure: impl Fn(f64) -> f64,
    kept: &mut Vec<i64>,
) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let first = if n % 2 == 1 { mid } else { mid - 1 };
    let size = bracket_sample_size(n);
    let mut sample = [0i64; SAMPLE];
    let sample = &mut sample[..size];
    for (slot, p) in sample.iter_mut().zip(sample_positions(n, size)) {
        *slot = key(measure(values[p]));
    }
    let (lo_pos, _) = bracket_positions_sized(first, n, size);
    let (_, hi_pos) = bracket_positions_sized(mid, n, size);
    // The sample's order statistics at positions lo_pos <= hi_pos, so that lo <= hi.
    let mut value_at = |pos: i64| match usize::try_from(pos) {
        Ok(p) if p < size => *sample.select_nth_unstable(p).1,
        Ok(_) => i64::MAX,
        Err(_) => i64::MIN,
    };
    let (lo, hi) = (value_at(lo_pos), value_at(hi_pos));
    if kept.len() < n + CHUNK {
        kept.resize(n + CHUNK, 0);
    }
    let (mut below, mut count, mut not_finite) = (0usize, 0usize, 0usize);
    // `hi - lo` as an unsigned span: one comparison tells whether a key lies in `lo..=hi`.
    let span = hi.wrapping_sub(lo) as u64;
    // `keep_between`'s loop, keying as it goes and counting non-finite values in the same
    // pass: through `keep_between` with a key closure and a separate finiteness pass, the
    // median of 24,500 values took 15 % longer (`cargo bench --bench order`).
    for chunk in values.chunks(CHUNK) {
        // As in `keep_between`: branch-free, the write position masked below CHUNK.
        let dst = &mut kept[count..count + CHUNK];
        let mut c = 0usize;
        for &x in chunk {
            let k = key(measure(x));
            not_finite += usize::from(!x.is_finite());
            below += usize::from(k < lo);
            dst[c & (CHUNK - 1)] = k;
            c += usize::from(k.wrapping_sub(lo) as u64 <= span);
        }
        count += c;
    }
    if not_finite > 0 || first < below || mid >= below + count {
        return None;
    }
    let kept = &mut kept[..count];
    let upper = if lo == hi {
        lo
    } else {
        *kept.select_nth_unstable(mid - below).1
    };
    let upper = unkey(upper);
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = if lo == hi {
        lo
    } else {
        // The largest of those left of the middle one.
        kept[..mid - below]
            .iter()
            .copied()
            .max()
            .unwrap_or(i64::MIN)
    };
    Some((unkey(lower) + upper) / 2.0)
}

/// Sample size of [`median_by_bracket`] for `n` values: a larger sample keeps fewer values
/// but costs its own draws and selections; about n / 50 balances the two (measured from
/// 4,096 to 100,000 values).
pub(super) fn bracket_sample_size(n: usize) -> usize {
    (n / 48).next_power_of_two().clamp(64, SAMPLE)
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

/// Sample positions bracketing `rank` with three and a half standard deviations of the sample
/// rank on each side: a bracket misses about once in 2,000 (then the exact fallback runs).
fn bracket_positions(rank: usize, n: usize) -> (i64, i64) {
    bracket_positions_sized(rank, n, SAMPLE)
}

fn bracket_positions_sized(rank: usize, n: usize, size: usize) -> (i64, i64) {
    let s = size as f64;
    let q = (rank as f64 + 0.5) / n as f64;
    let centre = q * s;
    let half = 3.5 * (s * q * (1.0 - q)).sqrt() + 2.0;
    (
        (centre - half).floor() as i64,
        (centre + half).ceil() as i64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the selected values against a full sort; returns how many passes kept every
    /// value (0: the sampled brackets answered).
    fn check(values: &[f64], ranks: &[usize]) -> usize {
        let keys: Vec<i64> = values.iter().map(|&v| key(v)).collect();
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut out = vec![0; ranks.len()];
        let mut scratch = Scratch::default();
        select_ranks(&keys, ranks, &mut out, &mut scratch);
        for (r, k) in ranks.iter().zip(&out) {
            assert_eq!(unkey(*k).to_bits(), sorted[*r].to_bits(), "rank {r}");
        }
        scratch.full_passes
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
    fn the_ranks_sen_asks_for_come_from_the_brackets() {
        // Median pair and interval bounds of 28,680 slopes (240 blocks), on noise, ties and
        // skew: answered from the sampled brackets, no full pass.
        let n = 28_680;
        let mut state = 99u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let noise: Vec<f64> = (0..n).map(|_| next() - 0.5).collect();
        let ties: Vec<f64> = (0..n).map(|_| (next() * 5.0).floor()).collect();
        let skew: Vec<f64> = (0..n).map(|_| (next() * 30.0).exp()).collect();
        for values in [&noise, &ties, &skew] {
            assert_eq!(check(values, &[n / 2 - 1, n / 2]), 0);
            assert_eq!(check(values, &[n / 2 - 900, n / 2 + 900]), 0);
        }
    }

    fn sorted_median(values: &[f64]) -> f64 {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        }
    }

    #[test]
    fn bracketed_medians_answer_from_the_bracket_and_match_a_sort() {
        let mut state = 5u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut kept = Vec::new();
        for n in [4096usize, 4097, 6143, 12_288, 24_500, 24_501, 100_000] {
            let noise: Vec<f64> = (0..n).map(|_| next() - 0.5).collect();
            let ties: Vec<f64> = (0..n).map(|_| (next() * 4.0).floor()).collect();
            let skew: Vec<f64> = (0..n).map(|_| (next() * 30.0).exp()).collect();
            let flat = vec![-0.0; n];
            let zeros: Vec<f64> = (0..n)
                .map(|i| if i % 2 == 0 { 0.0 } else { -0.0 })
                .collect();
            for values in [&noise, &ties, &skew, &flat, &zeros] {
                let got = median_by_bracket(values, |x| x, &mut kept);
                assert_eq!(got.map(f64::to_bits), Some(sorted_median(values).to_bits()));
                let m = sorted_median(values);
                let deviations: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
                let got = median_by_bracket(values, |x| (x - m).abs(), &mut kept);
                assert_eq!(
                    got.map(f64::to_bits),
                    Some(sorted_median(&deviations).to_bits())
                );
            }
        }
    }

    #[test]
    fn bracketed_median_declines_non_finite_values_and_missed_brackets() {
        let mut kept = Vec::new();
        // Fewer values than the sample draws: an answer, when it gives one, is still exact.
        for n in 1..80usize {
            let v: Vec<f64> = (0..n).map(|i| ((i * 17) % 11) as f64 - 4.0).collect();
            if let Some(m) = median_by_bracket(&v, |x| x, &mut kept) {
                assert_eq!(m.to_bits(), sorted_median(&v).to_bits(), "n={n}");
            }
        }
        let mut v: Vec<f64> = (0..5000).map(|i| (i * 37 % 5000) as f64).collect();
        assert!(median_by_bracket(&v, |x| x, &mut kept).is_some());
        v[17] = f64::NAN;
        assert_eq!(median_by_bracket(&v, |x| x, &mut kept), None);
        v[17] = f64::NEG_INFINITY;
        assert_eq!(median_by_bracket(&v, |x| x, &mut kept), None);
        // Every sampled value far above the rest: the bracket lies above the middle.
        let n = v.len();
        let mut v = vec![1.0; n];
        for p in sample_positions(n, bracket_sample_size(n)) {
            v[p] = 1e9 + p as f64;
        }
        assert_eq!(median_by_bracket(&v, |x| x, &mut kept), None);
    }

    #[test]
    fn ranks_outside_the_brackets_fall_back_to_the_exact_answer() {
        // Brackets go around the first and last rank asked for; a rank between them that
        // neither bracket holds needs the full pass, and still comes out exact.
        let mut v = vec![1.0; 20_000];
        v[5] = -2.0;
        v[17] = 3.0;
        for (i, x) in v.iter_mut().enumerate().skip(100) {
            *x = (i % 977) as f64;
        }
        assert_eq!(check(&v, &[0, 1, 10_000, 19_998, 19_999]), 1);
    }
}
