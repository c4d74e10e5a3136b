//! The p-value of a trend test on a part of a series chosen on the same data. Testing the part
//! after a break picked among many candidates and reading its p as if the break had been fixed
//! in advance is anti-conservative: the largest of many correlated statistics is larger than one
//! of them. Here the chosen part's z is judged against the largest of the trend statistics of
//! every candidate part, bounded by counting upcrossings along the chain of candidates
//! (Hunter 1976, Worsley 1982): P(max Z_i > z) <= P(Z_1 > z) + sum P(Z_i <= z < Z_(i+1)).

use super::fit::break_candidates;
use super::{normal_pdf, normal_sf};

/// The p of the trend z of the part after a break that the broken line searched for
/// ([`break_candidates`] of times `t`), its choice paid for by [`nested_final_parts_p`] over
/// every final part the search could have picked (at least `shortest` points) and the whole
/// series. `min(p, cap)`, as there.
pub fn after_break_p(z: f64, t: &[f64], shortest: usize, cap: f64) -> f64 {
    let m = t.len();
    let mut lengths: Vec<usize> = break_candidates(t)
        .into_iter()
        .map(|k| m - k)
        .filter(|&n| n >= shortest)
        .collect();
    lengths.push(m);
    nested_final_parts_p(z, &lengths, cap)
}

/// Upper bound on the one-sided p of the largest trend z-statistic among the final parts of a
/// series whose lengths (points) are `lengths`, any order: the p of the chosen part's `z`
/// once the choice among them is paid for. Trend statistics (Mann-Kendall's S projects onto a
/// line's slope) of two nested final parts of n and k < n points correlate as (k/n)^1.5, under
/// independence; that correlation is what makes the bound far below a Bonferroni over every
/// candidate when they are many and close. At most 1; `normal_sf(z)` for one length.
/// Only a p under `cap` matters to the caller: `min(p, cap)` comes back, the terms no longer
/// summed once the sum reaches `cap` (each only adds).
pub fn nested_final_parts_p(z: f64, lengths: &[usize], cap: f64) -> f64 {
    let cap = cap.min(1.0);
    let mut p = normal_sf(z);
    if p >= cap {
        return cap;
    }
    let mut n: Vec<usize> = lengths.iter().copied().filter(|&k| k > 0).collect();
    n.sort_unstable_by(|a, b| b.cmp(a));
    n.dedup();
    for w in n.windows(2) {
        let rho = (w[1] as f64 / w[0] as f64).powf(1.5);
        p += crossing(z, rho);
        if p >= cap {
            return cap;
        }
    }
    p
}

/// P(Z1 <= z < Z2) for standard normals of correlation `rho` in [0, 1): the integral over
/// x <= z of phi(x) P(Z2 > z | Z1 = x), by Simpson's rule where the integrand is not negligible.
fn crossing(z: f64, rho: f64) -> f64 {
    if rho <= 0.0 {
        return (1.0 - normal_sf(z)) * normal_sf(z);
    }
    let s = (1.0 - rho * rho).sqrt();
    // Z2 > z given Z1 = x needs x within ~9 conditional sds of z/rho; below that it is < 1e-19.
    let lo = ((z - 9.0 * s) / rho).max(z - 12.0);
    if lo >= z {
        return 0.0;
    }
    // Even, for Simpson; against 200 steps the terms move by under 2e-6 of themselves (z 2-6,
    // parts of 8-180 points), and the gates run this on every late-onset candidate.
    const STEPS: usize = 64;
    let h = (z - lo) / STEPS as f64;
    let f = |x: f64| normal_pdf(x) * normal_sf((z - rho * x) / s);
    let mut sum = f(lo) + f(z);
    for i in 1..STEPS {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += w * f(lo + i as f64 * h);
    }
    sum * h / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_part_is_its_own_p_and_more_parts_cost_more() {
        let z = 3.0;
        assert_eq!(nested_final_parts_p(z, &[40], 1.0), normal_sf(z));
        let few = nested_final_parts_p(z, &[40, 30, 20], 1.0);
        let lengths: Vec<usize> = (6..=40).collect();
        let many = nested_final_parts_p(z, &lengths, 1.0);
        assert!(normal_sf(z) < few && few < many, "{few} {many}");
        // Far below a Bonferroni over the 35 candidates: neighbours are nearly the same test.
        assert!(many < 35.0 * normal_sf(z) / 1.5, "{many}");
        assert_eq!(nested_final_parts_p(-5.0, &lengths, 1.0), 1.0);
        // A cap the sum passes comes back as the cap; one it does not, as the sum itself.
        assert_eq!(nested_final_parts_p(z, &lengths, few), few);
        assert_eq!(nested_final_parts_p(z, &lengths, 0.5), many);
    }

    #[test]
    fn a_crossing_of_independent_or_identical_tests() {
        let z = 1.5;
        // Independent: P(Z1 <= z) P(Z2 > z).
        let q = normal_sf(z);
        assert!((crossing(z, 0.0) - (1.0 - q) * q).abs() < 1e-12);
        assert!((crossing(z, 1e-9) - (1.0 - q) * q).abs() < 1e-6);
        // Nearly identical: almost never on opposite sides.
        assert!(crossing(z, 0.999_999) < 1e-3);
    }

    #[test]
    fn the_bound_holds_for_the_largest_of_simulated_nested_slopes() {
        // Under independence, the largest standardized slope over final parts of 6..=32 of 32
        // points exceeds z = 2.5 no more often than the bound says (a fixed LCG draw).
        let mut state = 7u64;
        let mut normal = || {
            let mut u = || {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
            };
            let (a, b) = (u(), u());
            (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
        };
        let (m, z, reps) = (32usize, 2.5, 20_000);
        let lengths: Vec<usize> = (6..=m).collect();
        let mut over = 0;
        for _ in 0..reps {
            let x: Vec<f64> = (0..m).map(|_| normal()).collect();
            let best = lengths
                .iter()
                .map(|&n| {
                    let part = &x[m - n..];
                    let (mt, mx) = ((n - 1) as f64 / 2.0, part.iter().sum::<f64>() / n as f64);
                    let sxx: f64 = (0..n).map(|i| (i as f64 - mt).powi(2)).sum();
                    let sxy: f64 = part
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (i as f64 - mt) * (v - mx))
                        .sum();
                    let sd = (part.iter().map(|v| (v - mx).powi(2)).sum::<f64>() / (n - 1) as f64)
                        .sqrt();
                    sxy / (sd * sxx.sqrt())
                })
                .fold(f64::NEG_INFINITY, f64::max);
            over += usize::from(best > z);
        }
        let observed = over as f64 / reps as f64;
        let bound = nested_final_parts_p(z, &lengths, 1.0);
        assert!(observed <= bound, "observed {observed} bound {bound}");
        // A useful bound, not a trivial one.
        assert!(bound < 3.0 * observed, "observed {observed} bound {bound}");
    }
}
