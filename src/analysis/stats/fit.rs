//! Small least-squares fits behind the shape gates: a straight line, a continuous broken stick
//! (warm-up then plateau, or flat then late onset) and a single mean shift (level shift).

use super::robust::lag1_autocorrelation;
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

/// Straight-line least-squares fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    pub intercept: f64,
    pub slope: f64,
    /// Residual sum of squares.
    pub rss: f64,
}

impl LineFit {
    /// What the line leaves of `y` at times `t`.
    pub fn residuals(&self, t: &[f64], y: &[f64]) -> Vec<f64> {
        t.iter()
            .zip(y)
            .map(|(ti, yi)| yi - self.intercept - self.slope * ti)
            .collect()
    }
}

/// Closed-form OLS of `y` on `t`; `None` with fewer than 2 points or constant `t`.
pub fn line_fit(t: &[f64], y: &[f64]) -> Option<LineFit> {
    let n = t.len();
    if n < 2 || y.len() != n {
        return None;
    }
    let nf = n as f64;
    let mt = t.iter().sum::<f64>() / nf;
    let my = y.iter().sum::<f64>() / nf;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (ti, yi) in t.iter().zip(y) {
        let (dt, dy) = (ti - mt, yi - my);
        sxx += dt * dt;
        sxy += dt * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some(LineFit {
        intercept: my - slope * mt,
        slope,
        rss: (syy - slope * sxy).max(0.0),
    })
}

/// Continuous two-piece line y = a + s1*t + (s2 - s1)*(t - c)+ with the best break `c`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BrokenStick {
    pub break_time: f64,
    /// Index of the first point after the break.
    pub break_index: usize,
    pub intercept: f64,
    pub slope_before: f64,
    pub slope_after: f64,
    pub rss: f64,
}

impl BrokenStick {
    /// What the broken line leaves of `y` at times `t`.
    pub fn residuals(&self, t: &[f64], y: &[f64]) -> Vec<f64> {
        t.iter()
            .zip(y)
            .map(|(&ti, &yi)| {
                let hinge =
                    (ti - self.break_time).max(0.0) * (self.slope_after - self.slope_before);
                yi - (self.intercept + self.slope_before * ti) - hinge
            })
            .collect()
    }
}

/// p of an F test that a fit of a line and one term more (three parameters: a broken line, an
/// approach to a level) leaving `rss` and `residuals` beats the line's `line_rss`, with the
/// statistic shrunk by (1 - phi)/(1 + phi) for the lag-1 autocorrelation phi of the residuals:
/// under AR(1) noise the points count for fewer. `None` under four points.
pub fn beats_line_p(line_rss: f64, rss: f64, residuals: &[f64]) -> Option<f64> {
    let n = residuals.len();
    if n < 4 {
        return None;
    }
    let phi = lag1_autocorrelation(residuals).clamp(0.0, 0.95);
    let dof = (n - 3) as f64;
    let f = (line_rss - rss) / (rss / dof) * (1.0 - phi) / (1.0 + phi);
    Some(FisherSnedecor::new(1.0, dof).ok()?.sf(f))
}

/// Solve a 3x3 system by Gaussian elimination with partial pivoting.
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..3 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (cell, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *cell -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let mut acc = b[row];
        for k in row + 1..3 {
            acc -= a[row][k] * x[k];
        }
        x[row] = acc / a[row][row];
    }
    Some(x)
}

/// Indices of the points (increasing `t`) where [`broken_stick`] tries its break: those between
/// the 10% and 90% quantiles of time.
pub fn break_candidates(t: &[f64]) -> Vec<usize> {
    let (Some(&t0), Some(&t1)) = (t.first(), t.last()) else {
        return Vec::new();
    };
    let span = t1 - t0;
    (0..t.len())
        .filter(|&k| (0.1..=0.9).contains(&((t[k] - t0) / span)))
        .collect()
}

/// Best continuous broken stick with the break searched over the points between the 10% and
/// 90% quantiles of time. `t` must be increasing. `None` with fewer than 6 points.
pub fn broken_stick(t: &[f64], y: &[f64]) -> Option<BrokenStick> {
    let n = t.len();
    if n < 6 || y.len() != n {
        return None;
    }
    // Centre both axes so that the normal equations stay well conditioned for byte counts.
    let t0 = t[0];
    let span = t[n - 1] - t0;
    if span <= 0.0 {
        return None;
    }
    let my = y.iter().sum::<f64>() / n as f64;
    let tt: Vec<f64> = t.iter().map(|v| (v - t0) / span).collect();
    let yy: Vec<f64> = y.iter().map(|v| v - my).collect();
    // The sums without the hinge term are the same for every break: add them up once.
    let mut fixed = [0.0; 5];
    for (ti, yi) in tt.iter().zip(&yy) {
        fixed[0] += 1.0;
        fixed[1] += ti;
        fixed[2] += ti * ti;
        fixed[3] += yi;
        fixed[4] += ti * yi;
    }
    let [s1, st, stt, sy, sty] = fixed;
    let syy: f64 = yy.iter().map(|v| v * v).sum();
    // The hinge's sums for a break at c run over the points after it: from suffix sums of 1,
    // t, t^2, y and t y, each break costs a few operations instead of a pass over the points.
    let mut suffix = vec![[0.0; 5]; n + 1];
    for i in (0..n).rev() {
        let (ti, yi) = (tt[i], yy[i]);
        let next = suffix[i + 1];
        suffix[i] = [
            next[0] + 1.0,
            next[1] + ti,
            next[2] + ti * ti,
            next[3] + yi,
            next[4] + ti * yi,
        ];
    }
    let mut fits: Vec<(usize, f64, [f64; 3], f64)> = Vec::new();
    for k in break_candidates(t) {
        let c = tt[k];
        // The first point strictly after the break (equal times add a zero hinge).
        let mut j = k + 1;
        while j < n && tt[j] <= c {
            j += 1;
        }
        let [a0, a1, a2, ay, aty] = suffix[j];
        let sh = a1 - c * a0;
        let sth = a2 - c * a1;
        let shh = (a2 - 2.0 * c * a1 + c * c * a0).max(0.0);
        let shy = aty - c * ay;
        let a = [[s1, st, sh], [st, stt, sth], [sh, sth, shh]];
        if let Some(p) = solve3(a, [sy, sty, shy]) {
            // Least squares leaves what the fit does not explain: sum y^2 less p . X'y.
            let rss = syy - (p[0] * sy + p[1] * sty + p[2] * shy);
            fits.push((k, c, p, rss));
        }
    }
    // The best break by that identity; its residuals then summed one by one for the figure
    // reported (the identity cancels where a line fits almost exactly).
    let &(k, c, p, _) = fits.iter().reduce(|a, b| if b.3 < a.3 { b } else { a })?;
    let rss: f64 = tt
        .iter()
        .zip(&yy)
        .map(|(ti, yi)| {
            let e = yi - (p[0] + p[1] * ti + p[2] * (ti - c).max(0.0));
            e * e
        })
        .sum();
    let s1 = p[1] / span;
    Some(BrokenStick {
        break_time: t0 + c * span,
        break_index: k,
        intercept: p[0] + my - s1 * t0,
        slope_before: s1,
        slope_after: (p[1] + p[2]) / span,
        rss,
    })
}

/// A single shift of the mean: y = mu1 before `split`, mu2 from `split` on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanShift {
    pub split: usize,
    pub mean_before: f64,
    pub mean_after: f64,
    pub rss: f64,
}

/// Best single mean shift with at least `min_segment` points on each side.
pub fn mean_shift(y: &[f64], min_segment: usize) -> Option<MeanShift> {
    let n = y.len();
    let min_segment = min_segment.max(1);
    if n < 2 * min_segment {
        return None;
    }
    let my = y.iter().sum::<f64>() / n as f64;
    let mut prefix = vec![0.0; n + 1];
    let mut prefix_sq = vec![0.0; n + 1];
    for (i, v) in y.iter().enumerate() {
        let d = v - my;
        prefix[i + 1] = prefix[i] + d;
        prefix_sq[i + 1] = prefix_sq[i] + d * d;
    }
    let seg_rss = |a: usize, b: usize| {
        let len = (b - a) as f64;
        let s = prefix[b] - prefix[a];
        (prefix_sq[b] - prefix_sq[a] - s * s / len).max(0.0)
    };
    let mut best: Option<MeanShift> = None;
    for split in min_segment..=n - min_segment {
        let rss = seg_rss(0, split) + seg_rss(split, n);
        if best.is_none_or(|b| rss < b.rss) {
            best = Some(MeanShift {
                split,
                mean_before: my + prefix[split] / split as f64,
                mean_after: my + (prefix[n] - prefix[split]) / (n - split) as f64,
                rss,
            });
        }
    }
    best
}

/// Least squares of `y` on the given columns (no implicit intercept): coefficients and residual
/// sum of squares, by the normal equations with partial pivoting. `None` when the columns are
/// (numerically) collinear or the lengths differ. Meant for a handful of well-scaled columns.
/// Not `linregress`: this runs once per candidate break of a scan, and linregress's fit builds
/// named columns and an SVD pseudo-inverse with statistics each time.
pub fn least_squares(columns: &[&[f64]], y: &[f64]) -> Option<(Vec<f64>, f64)> {
    if !shapes_agree(columns, y) {
        return None;
    }
    let a = normal_equations(
        columns.len(),
        |i, j| dot(columns[i], columns[j]),
        |i| dot(columns[i], y),
    );
    solve_normal_equations(a, columns, y)
}

/// The augmented normal equations [X'X | X'y] of `k` columns, from their products with each
/// other (`gram(i, j)`, asked for `i <= j`) and with the values (`with_y(i)`).
fn normal_equations(
    k: usize,
    gram: impl Fn(usize, usize) -> f64,
    with_y: impl Fn(usize) -> f64,
) -> Vec<Vec<f64>> {
    let mut a = vec![vec![0.0; k + 1]; k];
    for (i, j) in (0..k).flat_map(|i| (i..k).map(move |j| (i, j))) {
        let v = gram(i, j);
        a[i][j] = v;
        a[j][i] = v;
    }
    for (i, row) in a.iter_mut().enumerate() {
        row[k] = with_y(i);
    }
    a
}

fn shapes_agree(columns: &[&[f64]], y: &[f64]) -> bool {
    let (k, n) = (columns.len(), y.len());
    k > 0 && n >= k && columns.iter().all(|c| c.len() == n)
}

/// Sum of products in index order: every fit computes its normal equations this one way, so a
/// product computed once and reused is the same number.
fn dot(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(p, q)| p * q).sum()
}

/// Least squares of `y` on fixed columns plus one that changes from fit to fit (a step or a
/// hinge at each candidate break): the fixed columns' products with each other and with `y`
/// are computed once. Each fit gives the same numbers as [`least_squares`] on the same columns.
pub struct ScanFit<'a> {
    fixed: Vec<&'a [f64]>,
    y: &'a [f64],
    /// Products of the fixed columns with each other (both halves) and, last, with `y`.
    products: Vec<Vec<f64>>,
}

impl<'a> ScanFit<'a> {
    pub fn new(fixed: Vec<&'a [f64]>, y: &'a [f64]) -> Self {
        let products = fixed
            .iter()
            .map(|p| {
                let mut row: Vec<f64> = fixed.iter().map(|q| dot(p, q)).collect();
                row.push(dot(p, y));
                row
            })
            .collect();
        ScanFit { fixed, y, products }
    }

    /// [`least_squares`] on the fixed columns with `extra` inserted before fixed column `at`.
    pub fn fit(&self, extra: &[f64], at: usize) -> Option<(Vec<f64>, f64)> {
        let mut columns = self.fixed.clone();
        columns.insert(at.min(columns.len()), extra);
        if !shapes_agree(&columns, self.y) {
            return None;
        }
        let k = columns.len();
        let at = at.min(k - 1);
        // Position in the fit -> index among the fixed columns (None: the extra column).
        let fixed_index = |i: usize| match i.cmp(&at) {
            std::cmp::Ordering::Less => Some(i),
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Greater => Some(i - 1),
        };
        let extra_products: Vec<f64> = columns.iter().map(|c| dot(extra, c)).collect();
        let a = normal_equations(
            k,
            |i, j| match (fixed_index(i), fixed_index(j)) {
                (Some(p), Some(q)) => self.products[p][q],
                (None, _) => extra_products[j],
                (_, None) => extra_products[i],
            },
            |i| match fixed_index(i) {
                Some(p) => self.products[p][self.fixed.len()],
                None => dot(extra, self.y),
            },
        );
        solve_normal_equations(a, &columns, self.y)
    }
}

/// Gaussian elimination with partial pivoting of the augmented normal equations `a`
/// ([X'X | X'y]), then the residual sum of squares of the fit.
fn solve_normal_equations(
    mut a: Vec<Vec<f64>>,
    columns: &[&[f64]],
    y: &[f64],
) -> Option<(Vec<f64>, f64)> {
    let k = columns.len();
    let n = y.len();
    let scale = (0..k).map(|i| a[i][i]).fold(0.0f64, f64::max);
    if !(scale > 0.0 && scale.is_finite()) {
        return None;
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for row in lower.iter_mut() {
            let f = row[col] / pivot_row[col];
            for (cell, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *cell -= f * p;
            }
        }
    }
    let mut beta = vec![0.0; k];
    for i in (0..k).rev() {
        let s: f64 = (i + 1..k).map(|j| a[i][j] * beta[j]).sum();
        beta[i] = (a[i][k] - s) / a[i][i];
    }
    let rss = (0..n)
        .map(|r| {
            let fit: f64 = (0..k).map(|j| beta[j] * columns[j][r]).sum();
            (y[r] - fit).powi(2)
        })
        .sum();
    beta.iter().all(|b| b.is_finite()).then_some((beta, rss))
}

/// Bayesian information criterion of a Gaussian fit with `params` parameters.
pub fn bic(rss: f64, n: usize, params: usize) -> f64 {
    let nf = n as f64;
    // A perfect fit would give ln(0); a floor keeps the comparison finite.
    nf * (rss / nf).max(1e-300).ln() + params as f64 * nf.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bend_beats_a_line_by_an_f_test_its_residuals_shrink() {
        // A climb that levels off at t = 6, with a small wiggle.
        let t: Vec<f64> = (0..24).map(f64::from).collect();
        let wiggle = |i: usize| [0.3, -0.2, 0.1, -0.25][i % 4];
        let bent: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, &h)| 10.0 * h.min(6.0) + wiggle(i))
            .collect();
        let stick = broken_stick(&t, &bent).unwrap();
        let resid = stick.residuals(&t, &bent);
        let rss: f64 = resid.iter().map(|r| r * r).sum();
        assert!(
            (rss - stick.rss).abs() < 1e-6 * (1.0 + rss),
            "{rss} {}",
            stick.rss
        );
        let line = line_fit(&t, &bent).unwrap();
        assert!(beats_line_p(line.rss, stick.rss, &resid).unwrap() < 1e-6);
        // A straight climb: the bend buys next to nothing.
        let straight: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, &h)| 10.0 * h + wiggle(i))
            .collect();
        let (stick, line) = (
            broken_stick(&t, &straight).unwrap(),
            line_fit(&t, &straight).unwrap(),
        );
        let p = beats_line_p(line.rss, stick.rss, &stick.residuals(&t, &straight)).unwrap();
        assert!(p > 1e-3, "{p}");
        assert_eq!(beats_line_p(1.0, 0.5, &[0.1, -0.1, 0.2]), None);
    }

    #[test]
    fn least_squares_recovers_the_coefficients_and_refuses_collinear_columns() {
        let t: Vec<f64> = (0..40).map(|i| i as f64 / 4.0).collect();
        let ones = vec![1.0; t.len()];
        let wave: Vec<f64> = t.iter().map(|h| (h * 0.7).sin()).collect();
        let y: Vec<f64> = t
            .iter()
            .zip(&wave)
            .map(|(h, w)| 3.0 - 0.5 * h + 2.0 * w)
            .collect();
        let (beta, rss) = least_squares(&[&ones, &t, &wave], &y).unwrap();
        for (b, want) in beta.iter().zip([3.0, -0.5, 2.0]) {
            assert!((b - want).abs() < 1e-9, "{beta:?}");
        }
        assert!(rss < 1e-12, "{rss}");
        let twice: Vec<f64> = t.iter().map(|h| 2.0 * h).collect();
        assert!(least_squares(&[&ones, &t, &twice], &y).is_none());
        assert!(least_squares(&[&ones, &t], &y[..10]).is_none());
    }

    #[test]
    fn a_scan_fit_gives_the_bits_of_a_fresh_least_squares_fit() {
        let m = 90;
        let t: Vec<f64> = (0..m).map(|i| i as f64 * 0.37).collect();
        let ones = vec![1.0; m];
        let wave: Vec<f64> = t.iter().map(|h| (h * 0.9).sin()).collect();
        let y: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, h)| 5.0 + 0.3 * h + 1.7 * (h * 0.9).sin() + ((i * 7919) % 13) as f64 * 0.1)
            .collect();
        let scan = ScanFit::new(vec![&ones, &t, &wave], &y);
        for k in [1, 30, 60, 88] {
            let hinge: Vec<f64> = t.iter().map(|v| (v - t[k]).max(0.0)).collect();
            for at in 0..=3 {
                let mut columns: Vec<&[f64]> = vec![&ones, &t, &wave];
                columns.insert(at, &hinge);
                let fresh = least_squares(&columns, &y).unwrap();
                let scanned = scan.fit(&hinge, at).unwrap();
                assert_eq!(scanned.1.to_bits(), fresh.1.to_bits(), "k={k} at={at}");
                for (a, b) in scanned.0.iter().zip(&fresh.0) {
                    assert_eq!(a.to_bits(), b.to_bits(), "k={k} at={at}");
                }
            }
        }
        // A column the fixed ones already span is refused, as by a fresh fit.
        let twice: Vec<f64> = t.iter().map(|h| 2.0 * h).collect();
        assert!(scan.fit(&twice, 1).is_none());
        assert!(scan.fit(&twice[..10], 1).is_none());
    }

    #[test]
    fn line_fit_exact() {
        let t = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 3.0, 5.0, 7.0];
        let f = line_fit(&t, &y).unwrap();
        assert!(
            (f.slope - 2.0).abs() < 1e-12 && (f.intercept - 1.0).abs() < 1e-12 && f.rss < 1e-12
        );
    }

    #[test]
    fn broken_stick_recovers_an_exact_knee() {
        let t: Vec<f64> = (0..100).map(|i| i as f64 * 0.5).collect();
        // rises 4/h until 20 h, then 0.5/h
        let y: Vec<f64> = t
            .iter()
            .map(|&x| 1000.0 + 4.0 * x.min(20.0) + 0.5 * (x - 20.0).max(0.0))
            .collect();
        let b = broken_stick(&t, &y).unwrap();
        assert!((b.break_time - 20.0).abs() < 1e-9, "{b:?}");
        assert!(
            (b.slope_before - 4.0).abs() < 1e-6 && (b.slope_after - 0.5).abs() < 1e-6,
            "{b:?}"
        );
        assert!((b.intercept - 1000.0).abs() < 1e-6);
    }

    /// The straightforward refit at every break, which `broken_stick` must match to the bit.
    fn broken_stick_refit(t: &[f64], y: &[f64]) -> Option<(usize, [f64; 3], f64)> {
        let n = t.len();
        let (t0, span) = (t[0], t[n - 1] - t[0]);
        let my = y.iter().sum::<f64>() / n as f64;
        let tt: Vec<f64> = t.iter().map(|v| (v - t0) / span).collect();
        let yy: Vec<f64> = y.iter().map(|v| v - my).collect();
        let mut best: Option<(usize, [f64; 3], f64)> = None;
        for (k, &c) in tt.iter().enumerate() {
            if !(0.1..=0.9).contains(&c) {
                continue;
            }
            let (mut a, mut b) = ([[0.0; 3]; 3], [0.0; 3]);
            for (ti, yi) in tt.iter().zip(&yy) {
                let row = [1.0, *ti, (ti - c).max(0.0)];
                for r in 0..3 {
                    for s in 0..3 {
                        a[r][s] += row[r] * row[s];
                    }
                    b[r] += row[r] * yi;
                }
            }
            let Some(p) = solve3(a, b) else { continue };
            let rss: f64 = tt
                .iter()
                .zip(&yy)
                .map(|(ti, yi)| {
                    let e = yi - (p[0] + p[1] * ti + p[2] * (ti - c).max(0.0));
                    e * e
                })
                .sum();
            if best.is_none_or(|b| rss < b.2) {
                best = Some((k, p, rss));
            }
        }
        best
    }

    #[test]
    fn broken_stick_equals_the_refit_at_every_break() {
        let mut state = 7u64;
        for n in [6, 11, 57, 240] {
            let t: Vec<f64> = (0..n).map(|i| 3.0 + i as f64 * 0.37).collect();
            let y: Vec<f64> = t
                .iter()
                .map(|&x| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    5e8 + 1e6 * x.min(40.0) + ((state >> 11) as f64 / (1u64 << 53) as f64) * 3e6
                })
                .collect();
            let fast = broken_stick(&t, &y).unwrap();
            let (k, p, rss) = broken_stick_refit(&t, &y).unwrap();
            let span = t[n - 1] - t[0];
            // Suffix sums add in another order than the refit's: the same break, and figures
            // equal to rounding.
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
            assert_eq!(fast.break_index, k, "n={n}");
            assert!(close(fast.rss, rss), "n={n}: {} {rss}", fast.rss);
            assert!(close(fast.slope_before, p[1] / span), "n={n}");
            assert!(close(fast.slope_after, (p[1] + p[2]) / span), "n={n}");
        }
    }

    #[test]
    fn mean_shift_finds_the_step() {
        let y: Vec<f64> = (0..40).map(|i| if i < 25 { 5.0 } else { 9.0 }).collect();
        let s = mean_shift(&y, 5).unwrap();
        assert_eq!(s.split, 25);
        assert!((s.mean_before - 5.0).abs() < 1e-12 && (s.mean_after - 9.0).abs() < 1e-12);
    }
}
