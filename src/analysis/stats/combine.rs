//! Combining and adjusting p-values: Benjamini-Hochberg over all series of a log, Stouffer's
//! weighted Z across process lifetimes, and the exact binomial tail behind the sign tests.

use super::{normal_quantile, normal_sf};
use statrs::function::factorial::ln_binomial;

/// Benjamini-Hochberg adjusted p-values (q-values), in the input order.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let n = p.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut q = vec![1.0; n];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adjusted = p[i] * n as f64 / (rank + 1) as f64;
        running = running.min(adjusted).min(1.0);
        q[i] = running;
    }
    q
}

/// Stouffer's weighted Z: sum w_i z_i / sqrt(sum w_i^2), z_i = Phi^-1(1 - p_i); returns the
/// one-sided combined p. `None` for no input or zero weights.
pub fn stouffer(p: &[f64], weights: &[f64]) -> Option<f64> {
    if p.is_empty() || p.len() != weights.len() {
        return None;
    }
    let mut num = 0.0;
    let mut den = 0.0;
    for (&pi, &wi) in p.iter().zip(weights) {
        // Clamp so that a p of 0 or 1 gives a large finite z instead of infinity; -Phi^-1(p)
        // keeps precision where 1 - p would round to 1.
        let pc = pi.clamp(1e-300, 1.0 - 1e-16);
        num += wi * -normal_quantile(pc);
        den += wi * wi;
    }
    if den <= 0.0 {
        return None;
    }
    Some(normal_sf(num / den.sqrt()))
}

/// P(X >= k) for X ~ Binomial(n, prob), summed exactly in log space.
pub fn binomial_upper_tail(k: u64, n: u64, prob: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    let (lp, lq) = (prob.ln(), (1.0 - prob).ln());
    let mut total = 0.0;
    for i in k..=n {
        total += (ln_binomial(n, i) + i as f64 * lp + (n - i) as f64 * lq).exp();
    }
    total.min(1.0)
}
