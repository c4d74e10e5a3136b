//! The analysis statistics against golden vectors computed independently with pymannkendall and
//! scipy (see tests/data/analysis/README.md).

use perfleak::analysis::stats::combine::{benjamini_hochberg, binomial_upper_tail, stouffer};
use perfleak::analysis::stats::trend::{mann_kendall_hamed_rao, mk_variance, sen_slope};
use serde_json::Value;

fn golden() -> Value {
    let text = include_str!("../data/analysis/golden.json");
    serde_json::from_str(text).expect("golden.json is valid JSON")
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("missing {key}"))
}

/// A JSON array of numbers from the golden fixture.
fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|n| n.as_f64().expect("a number"))
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-12)
}

#[test]
fn mann_kendall_hamed_rao_matches_pymannkendall() {
    let g = golden();
    let cases = g["mann_kendall"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let x = numbers(&case["x"]);
        let t: Vec<f64> = (1..=x.len()).map(|i| i as f64).collect();
        let r = mann_kendall_hamed_rao(&t, &x).unwrap();
        assert_eq!(r.s, f(case, "s"), "{name}: S");
        assert!(
            close(r.var_s, f(case, "var_s"), 1e-12),
            "{name}: Var(S) {} vs {}",
            r.var_s,
            f(case, "var_s")
        );
        assert!(close(mk_variance(&x), f(case, "var_s"), 1e-12));
        let hr = r.var_s * r.inflation;
        assert!(
            close(hr, f(case, "var_s_hamed_rao"), 1e-9),
            "{name}: HR Var(S) {hr} vs {}",
            f(case, "var_s_hamed_rao")
        );
        assert!(close(r.tau, f(case, "tau"), 1e-12), "{name}: tau");
        if r.inflation >= 1.0 {
            assert!(
                close(r.z, f(case, "z_hamed_rao"), 1e-9),
                "{name}: z {} vs {}",
                r.z,
                f(case, "z_hamed_rao")
            );
            // pymannkendall's p is two-sided: for the one-sided test in the direction of z it halves.
            let p2 = f(case, "p_two_sided_hamed_rao");
            let one_sided = if r.z > 0.0 { p2 / 2.0 } else { 1.0 - p2 / 2.0 };
            assert!(
                (r.p_increasing - one_sided).abs() < 1e-9 + 1e-6 * one_sided,
                "{name}: p {} vs {one_sided}",
                r.p_increasing
            );
        } else {
            assert_eq!(
                r.var_s_corrected, r.var_s,
                "{name}: deflation must not shrink Var(S)"
            );
        }
    }
}

#[test]
fn sen_slope_and_interval_match_scipy_theilslopes() {
    let g = golden();
    for case in g["mann_kendall"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let x = numbers(&case["x"]);
        let t: Vec<f64> = (1..=x.len()).map(|i| i as f64).collect();
        let s = sen_slope(&t, &x, mk_variance(&x), 0.95).unwrap();
        assert!(close(s.slope, f(case, "sen_slope"), 1e-12), "{name}: slope");
        assert!(
            close(s.slope, f(case, "theil_slope"), 1e-12),
            "{name}: slope vs scipy"
        );
        assert!(
            close(s.intercept, f(case, "theil_intercept"), 1e-9),
            "{name}: intercept {} vs {}",
            s.intercept,
            f(case, "theil_intercept")
        );
        assert!(
            close(s.lower, f(case, "theil_low"), 1e-12),
            "{name}: low {} vs {}",
            s.lower,
            f(case, "theil_low")
        );
        assert!(
            close(s.upper, f(case, "theil_high"), 1e-12),
            "{name}: high {} vs {}",
            s.upper,
            f(case, "theil_high")
        );
    }
}

#[test]
fn benjamini_hochberg_matches_scipy() {
    let g = golden();
    let p = numbers(&g["bh"]["p"]);
    let q = numbers(&g["bh"]["q"]);
    let ours = benjamini_hochberg(&p);
    for (a, b) in ours.iter().zip(&q) {
        assert!(close(*a, *b, 1e-12), "{ours:?} vs {q:?}");
    }
}

#[test]
fn stouffer_matches_scipy() {
    let g = golden();
    let s = &g["stouffer"];
    let p = numbers(&s["p"]);
    let w = numbers(&s["weights"]);
    let ours = stouffer(&p, &w).unwrap();
    assert!(
        close(ours, f(s, "combined"), 1e-9),
        "{ours} vs {}",
        f(s, "combined")
    );
}

#[test]
fn binomial_tail_matches_scipy() {
    let g = golden();
    for row in g["binomial_upper_tail"].as_array().unwrap() {
        let k = row[0].as_u64().unwrap();
        let n = row[1].as_u64().unwrap();
        let want = row[2].as_f64().unwrap();
        let ours = binomial_upper_tail(k, n, 0.5);
        assert!(close(ours, want, 1e-9), "P(X>={k}; n={n}) {ours} vs {want}");
    }
}
