//! Order-statistics benchmark (issue #6): medians, MAD and moving medians against the plain
//! selections they replaced (kept below as the reference), on noise, ties, rising counters and
//! flat ones; and Sen's trend test. Prints times per call (best of five rounds) and checks
//! every answer's bits against the reference.
//!
//! `cargo bench --bench order`

use std::hint::black_box;
use std::time::Instant;

use perfleak::analysis::stats::robust::{mad_sigma, median, median_of_finite, MovingMedian};
use perfleak::analysis::stats::select::{key, unkey};
use perfleak::analysis::stats::trend::trend_test;

/// The selections as they were: keys of the finite values, `select_nth_unstable` on them.
mod reference {
    use super::{key, unkey};

    fn median_of_keys(keys: &mut [i64]) -> Option<f64> {
        let n = keys.len();
        if n == 0 {
            return None;
        }
        let mid = n / 2;
        let (lower, upper, _) = keys.select_nth_unstable(mid);
        let upper = unkey(*upper);
        if n % 2 == 1 {
            Some(upper)
        } else {
            let below = lower.iter().copied().max().map_or(f64::NEG_INFINITY, unkey);
            Some((below + upper) / 2.0)
        }
    }

    fn finite_keys(values: &[f64]) -> Vec<i64> {
        let mut keys = Vec::with_capacity(values.len());
        keys.extend(values.iter().filter(|x| x.is_finite()).map(|&x| key(x)));
        keys
    }

    pub fn median(values: &[f64]) -> Option<f64> {
        median_of_keys(&mut finite_keys(values))
    }

    pub fn mad_sigma(values: &[f64]) -> Option<f64> {
        let mut keys = finite_keys(values);
        let m = median_of_keys(&mut keys)?;
        for k in &mut keys {
            *k = key((unkey(*k) - m).abs());
        }
        median_of_keys(&mut keys).map(|d| 1.4826 * d)
    }
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `count` series of `n` values of each kind.
fn kinds(n: usize, count: usize) -> Vec<(&'static str, Vec<Vec<f64>>)> {
    let mut rng = Lcg(7);
    let mut make = |f: &mut dyn FnMut(usize, &mut Lcg) -> f64| -> Vec<Vec<f64>> {
        (0..count)
            .map(|_| (0..n).map(|i| f(i, &mut rng)).collect())
            .collect()
    };
    vec![
        ("noise", make(&mut |_, r| 5e7 + r.next() * 1e6)),
        ("ties", make(&mut |_, r| (r.next() * 4.0).floor() * 4096.0)),
        (
            "rising",
            make(&mut |i, r| 1e8 + i as f64 * 1000.0 + (r.next() * 50.0).floor()),
        ),
        (
            "noisy-rise",
            make(&mut |i, r| 1e8 + i as f64 * 10.0 + (r.next() * 500.0).floor()),
        ),
        ("flat", make(&mut |_, _| 123_456.0)),
    ]
}

/// Best of five rounds, nanoseconds per call. The series are few enough to stay in cache, as
/// the analysis's are (it computes them just before).
fn time(sets: &[Vec<f64>], f: impl FnMut(&[f64]) -> Option<f64>) -> f64 {
    let n = sets.first().map_or(1, Vec::len);
    time_repeated(sets, (3_000_000 / (n * sets.len())).max(1), f)
}

fn time_repeated(
    sets: &[Vec<f64>],
    repeats: usize,
    mut f: impl FnMut(&[f64]) -> Option<f64>,
) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..repeats {
            for s in sets {
                black_box(f(black_box(s)));
            }
        }
        let calls = (repeats * sets.len()) as f64;
        best = best.min(start.elapsed().as_nanos() as f64 / calls);
    }
    best
}

fn bits(x: Option<f64>) -> Option<u64> {
    x.map(f64::to_bits)
}

fn main() {
    println!("median of n values (median_of_finite below 4096, median from there), ns per call");
    println!(
        "{:>6} {:<11} {:>10} {:>10} {:>6}",
        "n", "kind", "before", "after", "ratio"
    );
    for n in [
        5usize, 7, 11, 16, 28, 29, 32, 64, 136, 200, 1000, 2047, 4095, 4096, 6000, 10_000, 24_500,
        100_000,
    ] {
        let count = (131_072 / n).clamp(4, 20_000);
        for (kind, sets) in kinds(n, count) {
            for s in &sets {
                assert_eq!(bits(reference::median(s)), bits(median(s)), "{kind} n={n}");
                assert_eq!(bits(reference::median(s)), bits(median_of_finite(s)));
            }
            let before = time(&sets, reference::median);
            let after = if n < 4096 {
                time(&sets, median_of_finite)
            } else {
                time(&sets, median)
            };
            println!(
                "{n:>6} {kind:<11} {before:>10.1} {after:>10.1} {:>6.2}",
                before / after
            );
        }
    }
    println!("\ncentred moving median (window of w of n values, every position), us per series");
    println!(
        "{:>6} {:>4} {:<11} {:>10} {:>10} {:>6}",
        "n", "w", "kind", "before", "after", "ratio"
    );
    for (n, w) in [(180usize, 60usize), (720, 240)] {
        let windows: Vec<(usize, usize)> = (0..n)
            .map(|i| (i.saturating_sub(w / 2), (i + w / 2 + 1).min(n)))
            .collect();
        for (kind, sets) in kinds(n, 16) {
            let mut moving = MovingMedian::default();
            for s in &sets {
                for &(lo, hi) in &windows {
                    assert_eq!(
                        bits(median_of_finite(&s[lo..hi])),
                        bits(moving.median(s, lo, hi))
                    );
                }
            }
            let before = time_repeated(&sets, 20, |s| {
                windows
                    .iter()
                    .map(|&(lo, hi)| median_of_finite(&s[lo..hi]))
                    .sum()
            });
            let after = time_repeated(&sets, 20, |s| {
                let mut moving = MovingMedian::default();
                windows
                    .iter()
                    .map(|&(lo, hi)| moving.median(s, lo, hi))
                    .sum()
            });
            println!(
                "{n:>6} {w:>4} {kind:<11} {:>10.1} {:>10.1} {:>6.2}",
                before / 1e3,
                after / 1e3,
                before / after
            );
        }
    }
    println!("\ntrend_test (Mann-Kendall, Sen's slope and interval) of n blocks, us per call");
    for n in [60usize, 120, 180] {
        let t: Vec<f64> = (0..n).map(|i| i as f64).collect();
        for (kind, sets) in kinds(n, 64) {
            let us = time_repeated(&sets, 4, |x| trend_test(&t, x).map(|(mk, _)| mk.s)) / 1e3;
            println!("{n:>6} {kind:<11} {us:>10.1}");
        }
    }
    println!("\nmad_sigma of n sample-to-sample changes, ns per call");
    println!(
        "{:>6} {:<11} {:>10} {:>10} {:>6}",
        "n", "kind", "before", "after", "ratio"
    );
    for n in [1000usize, 4095, 4096, 6000, 10_000, 24_500, 100_000] {
        let count = (131_072 / n).clamp(4, 20_000);
        for (kind, sets) in kinds(n + 1, count) {
            let diffs: Vec<Vec<f64>> = sets
                .iter()
                .map(|s| s.windows(2).map(|w| w[1] - w[0]).collect())
                .collect();
            for d in &diffs {
                assert_eq!(bits(reference::mad_sigma(d)), bits(mad_sigma(d)), "{kind}");
            }
            let before = time(&diffs, reference::mad_sigma);
            let after = time(&diffs, mad_sigma);
            println!(
                "{n:>6} {kind:<11} {before:>10.1} {after:>10.1} {:>6.2}",
                before / after
            );
        }
    }
}
