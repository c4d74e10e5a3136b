//! A rise at the end of a series judged against the noise of the flat part before it. A trend
//! test on the rising part alone learns the noise from those few points: Mann-Kendall on 8
//! points cannot pass z 3.34 however steep the rise. The flat part has many more points, and if
//! the rise is only more of the same noise, the flat part shows how large that noise is and how
//! long it lingers (AR(1)). The rising part's least-squares slope is then judged against the
//! exact variance such noise gives a slope over those times, as a Student t whose degrees of
//! freedom are the flat part's effective sample size (its noise is estimated, not known).

use super::fit::line_fit;
use super::normal_quantile;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Noise of a flat part: AR(1) around its least-squares line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlatNoise {
    /// Marginal standard deviation.
    pub sd: f64,
    /// Lag-1 autocorrelation per `step` hours, bias-corrected, in [0, MAX_PHI].
    pub phi: f64,
    /// Hours between neighbouring points.
    pub step: f64,
    /// Points less the line's two parameters: what the estimates rest on.
    pub points: f64,
}

/// Noise that lingers longer than this is too close to a random walk for a short part to
/// tell from it.
const MAX_PHI: f64 = 0.95;
/// Fewest points of a flat part whose noise is estimated.
pub const MIN_FLAT_POINTS: usize = 12;
/// Fewest degrees of freedom left for the slope's standard error (a t with fewer has no
/// usable tail).
const MIN_DOF: f64 = 3.0;

/// The AR(1) noise of `(t, x)` around its least-squares line. The lag-1 autocorrelation of
/// residuals from a fitted line is biased low by about (2 + 4 phi) / n, and their variance by
/// the spread the line takes: both are corrected. `None` with fewer than [`MIN_FLAT_POINTS`]
/// points or no spread.
pub fn flat_noise(t: &[f64], x: &[f64]) -> Option<FlatNoise> {
    let n = x.len();
    if n < MIN_FLAT_POINTS || t.len() != n {
        return None;
    }
    let r = line_fit(t, x)?.residuals(t, x);
    let c0: f64 = r.iter().map(|v| v * v).sum();
    if c0 <= 0.0 {
        return None;
    }
    let c1: f64 = r.windows(2).map(|w| w[0] * w[1]).sum();
    let nf = n as f64;
    let raw = c1 / c0;
    let corrected = (raw + (2.0 + 4.0 * raw.max(0.0)) / nf).clamp(0.0, MAX_PHI);
    // Noise that lingers is read as lingering less on few points, and the slope's variance
    // grows fast with it: one standard error up keeps the test's size where the bias
    // correction falls short (phi 0.9 on 24 points reads 0.6).
    let phi = (corrected + ((1.0 - corrected * corrected) / nf).sqrt()).min(MAX_PHI);
    // A fitted line takes about (1 + phi) / (1 - phi) points' worth of spread per parameter.
    let spent = 2.0 * (1.0 + phi) / (1.0 - phi);
    let step = (t[n - 1] - t[0]) / (nf - 1.0);
    if step <= 0.0 || nf - spent < 2.0 {
        return None;
    }
    Some(FlatNoise {
        sd: (c0 / (nf - spent)).sqrt(),
        phi,
        step,
        points: nf - 2.0,
    })
}

/// Variance of the least-squares slope over times `t` under unit AR(1) noise of lag-1
/// autocorrelation `phi` per `step` hours: sum_ij c_i c_j phi^(|t_i - t_j| / step), for each
/// of the `phis` at once (one pass over the pairs; a power as the exponential of the gap
/// times the log of phi, one logarithm a phi instead of one a pair).
fn slope_variances<const K: usize>(t: &[f64], phis: [f64; K], step: f64) -> Option<[f64; K]> {
    let n = t.len() as f64;
    let mt = t.iter().sum::<f64>() / n;
    let sxx: f64 = t.iter().map(|ti| (ti - mt) * (ti - mt)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let c: Vec<f64> = t.iter().map(|ti| (ti - mt) / sxx).collect();
    let rate = phis.map(|phi| phi.ln() / step);
    let own: f64 = c.iter().map(|ci| ci * ci).sum();
    let mut var = [own; K];
    for i in 0..c.len() {
        for j in i + 1..c.len() {
            let (gap, cc) = (t[j] - t[i], 2.0 * c[i] * c[j]);
            for k in 0..K {
                // phi = 0: no lingering (ln 0 = -inf, and exp(-inf) = 0); no gap: phi^0 = 1.
                var[k] += if gap > 0.0 {
                    cc * (gap * rate[k]).exp()
                } else {
                    cc
                };
            }
        }
    }
    Some(var.map(|v| v.max(0.0)))
}

/// One-sided evidence that `(t, x)` rises beyond what `noise` does: its least-squares slope
/// over the exact standard error AR(1) noise gives a slope at these times, read as a Student t
/// and returned as the normal z of the same upper tail (so that it can enter the scan over
/// nested parts). The t's degrees of freedom count both estimates the error rests on
/// (Satterthwaite): the variance, which AR(1) noise estimates as n (1 - phi^2) / (1 + phi^2)
/// independent points would, and phi itself (variance (1 - phi^2) / n), through how much the
/// slope's variance moves with it. `None` with fewer than 3 points or too few degrees of
/// freedom.
pub fn rise_z(t: &[f64], x: &[f64], noise: &FlatNoise) -> Option<f64> {
    let n = x.len();
    if n < 3 || t.len() != n {
        return None;
    }
    let fit = line_fit(t, x)?;
    let (phi, step, points) = (noise.phi, noise.step, noise.points);
    let h = 1e-3;
    let (lo, hi) = ((phi - h).max(0.0), (phi + h).min(0.999));
    let [var, var_lo, var_hi] = slope_variances(t, [phi, lo, hi], step)?;
    let se = noise.sd * var.sqrt();
    if se <= 0.0 {
        return None;
    }
    let gradient = (var_hi.ln() - var_lo.ln()) / (hi - lo);
    let var_log = 2.0 * (1.0 + phi * phi) / (points * (1.0 - phi * phi))
        + gradient * gradient * (1.0 - phi * phi) / points;
    let dof = 2.0 / var_log;
    if dof < MIN_DOF {
        return None;
    }
    let t_stat = fit.slope / se;
    let upper = StudentsT::new(0.0, 1.0, dof).ok()?.sf(t_stat);
    // Far in the tail the t's own p is tiny: the z of the same tail, capped where it rounds.
    Some(if upper <= 0.0 {
        40.0
    } else {
        -normal_quantile(upper)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// AR(1) noise of unit marginal sd (a fixed LCG draw, Box-Muller).
    pub(crate) fn ar1(n: usize, phi: f64, state: &mut u64) -> Vec<f64> {
        let mut u = || {
            // SplitMix64: Box-Muller on consecutive LCG draws bends the far tails.
            *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut normal = || {
            let (a, b) = (u(), u());
            (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
        };
        let innovation = (1.0 - phi * phi).sqrt();
        let mut v = normal();
        (0..n)
            .map(|_| {
                let out = v;
                v = phi * v + innovation * normal();
                out
            })
            .collect()
    }

    #[test]
    fn the_noise_of_a_flat_part_is_read_with_its_memory() {
        let mut state = 3;
        let t: Vec<f64> = (0..400).map(|i| i as f64 * 0.25).collect();
        let x = ar1(400, 0.6, &mut state);
        let noise = flat_noise(&t, &x).expect("noise");
        assert!((noise.phi - 0.6).abs() < 0.1, "{noise:?}");
        assert!((noise.sd - 1.0).abs() < 0.2, "{noise:?}");
        assert!((noise.step - 0.25).abs() < 1e-12);
        assert_eq!(flat_noise(&t[..8], &x[..8]), None, "too few points");
    }

    #[test]
    fn a_steep_short_rise_is_clear_and_more_of_the_noise_is_not() {
        let mut state = 11;
        let t: Vec<f64> = (0..33).map(|i| i as f64 * 0.25).collect();
        let mut x = ar1(33, 0.3, &mut state);
        let noise = flat_noise(&t[..26], &x[..26]).expect("noise");
        let flat = rise_z(&t[26..], &x[26..], &noise).expect("z");
        assert!(flat < 3.0, "{flat}");
        for (i, v) in x.iter_mut().enumerate().skip(26) {
            *v += 2.0 * (i - 25) as f64;
        }
        let rise = rise_z(&t[26..], &x[26..], &noise).expect("z");
        assert!(rise > 4.0, "{rise}");
    }

    #[test]
    fn on_flat_ar_noise_the_test_keeps_its_size() {
        // The last quarter of flat AR(1) series against the noise of the first three quarters:
        // the upper tail at z 2.33 (1 %) and 3.09 (0.1 %) is not exceeded beyond chance, from
        // independent noise to noise that lingers (phi 0.9), at the lengths 8 h logs give once
        // blocked (32 to 180 points: 8 h every 15 minutes, to 1920 samples in 180 blocks).
        for (m, phi) in [(32, 0.0), (32, 0.5), (32, 0.9), (96, 0.7), (180, 0.9)] {
            let mut state = (m as u64) * 1000 + (phi * 10.0) as u64;
            let t: Vec<f64> = (0..m).map(|i| i as f64 * 0.25).collect();
            let cut = m - m / 4;
            let reps = 10_000;
            let (mut at1, mut at01) = (0, 0);
            for _ in 0..reps {
                let x = ar1(m, phi, &mut state);
                let Some(noise) = flat_noise(&t[..cut], &x[..cut]) else {
                    continue;
                };
                let z = rise_z(&t[cut..], &x[cut..], &noise).unwrap_or(0.0);
                at1 += usize::from(z > 2.326);
                at01 += usize::from(z > 3.09);
            }
            let (r1, r01) = (at1 as f64 / reps as f64, at01 as f64 / reps as f64);
            // 1 % and 0.1 %, with room for the draw (10,000 reps: sd 0.1 % and 0.03 %); noise
            // of phi 0.9 read on 24 points still runs to about three times the 0.1 % (its phi is read
            // low), which the scan over breaks and the log-wide q then pay for.
            assert!(r1 <= 0.013, "m={m} phi={phi}: {r1} over z 2.33");
            assert!(r01 <= 0.0035, "m={m} phi={phi}: {r01} over z 3.09");
        }
    }
}
