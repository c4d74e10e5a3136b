//! Ordinary least squares through `linregress`, for the model comparisons that explain growth
//! (a line against a daily cycle, time against load). Its p-values assume independent errors:
//! they compare models here, they are never the leak test.

/// One least-squares fit: the coefficients (intercept first, then the regressors in order),
/// their two-sided p-values, the residual sum of squares and R².
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    pub params: Vec<f64>,
    pub p_values: Vec<f64>,
    pub rss: f64,
    pub r_squared: f64,
    /// Observations.
    pub n: usize,
}

impl Regression {
    /// Bayesian information criterion (Gaussian errors; k coefficients with the intercept).
    pub fn bic(&self) -> f64 {
        let n = self.n as f64;
        let k = self.params.len() as f64;
        n * (self.rss.max(f64::MIN_POSITIVE) / n).ln() + k * n.ln()
    }
}

/// `y` regressed on the named columns, with an intercept. `None` when the fit is degenerate
/// (too few points, a constant or collinear regressor).
pub fn regress(y: &[f64], columns: &[(&str, &[f64])]) -> Option<Regression> {
    let n = y.len();
    if n < columns.len() + 3 || columns.iter().any(|(_, c)| c.len() != n) {
        return None;
    }
    let mut data: Vec<(String, Vec<f64>)> = vec![("Y".into(), y.to_vec())];
    data.extend(
        columns
            .iter()
            .map(|(name, c)| (name.to_string(), c.to_vec())),
    );
    let data = linregress::RegressionDataBuilder::new()
        .build_from(data)
        .ok()?;
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let model = linregress::FormulaRegressionBuilder::new()
        .data(&data)
        .data_columns("Y", names)
        .fit()
        .ok()?;
    let fit = Regression {
        params: model.parameters().to_vec(),
        p_values: model.p_values().to_vec(),
        rss: model.ssr(),
        r_squared: model.rsquared(),
        n,
    };
    (fit.params.iter().all(|b| b.is_finite()) && fit.rss.is_finite()).then_some(fit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_and_a_second_regressor_are_recovered() {
        let t: Vec<f64> = (0..50).map(f64::from).collect();
        let z: Vec<f64> = t.iter().map(|v| (v * 0.7).sin()).collect();
        let y: Vec<f64> = t
            .iter()
            .zip(&z)
            .map(|(t, z)| 3.0 + 2.0 * t + 5.0 * z + 0.01 * (t * 13.0).cos())
            .collect();
        let fit = regress(&y, &[("T", &t), ("Z", &z)]).expect("fit");
        assert!((fit.params[1] - 2.0).abs() < 1e-3 && (fit.params[2] - 5.0).abs() < 1e-2);
        assert!(fit.r_squared > 0.999 && fit.p_values[1] < 1e-10);
        let line = regress(&y, &[("T", &t)]).expect("line");
        assert!(line.rss > fit.rss && line.bic() > fit.bic());
        assert_eq!(regress(&y[..3], &[("T", &t[..3])]), None);
    }
}
