//! A leak that starts late in a short log (`src/analysis/gates/late_rise.rs`): eight hours
//! sampled every 15 minutes, flat for six and a quarter, then climbing steeply. The
//! whole-lifetime trend test reads the flat part and the rise as autocorrelation and finds no
//! growth; the rise, judged against the noise of the flat part before it, is a leak. The same
//! log ending in one step, or staying flat, is not. Logs written as PDH-CSV text and judged by
//! running the binary.

use crate::cli_common;
use crate::cli_common::reason_codes;

use serde_json::Value;

/// 33 samples, 15 minutes apart, of one process's Private Bytes: 900 MB with AR(1) noise of
/// about 5 MB, then from sample 26 on `end(k)` added at the k-th sample after the break.
fn log(end: impl Fn(usize) -> f64) -> String {
    log_of(4242, end)
}

/// As [`log`], with the noise drawn from `seed`.
fn log_of(seed: u64, end: impl Fn(usize) -> f64) -> String {
    let mut text =
        String::from("\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\SRV\\Process(app)\\Private Bytes\"\n");
    let mut state: u64 = seed;
    let mut draw = move || {
        state = (state * 1_103_515_245 + 12_345) % (1 << 31);
        state as f64 / (1u64 << 31) as f64 - 0.5
    };
    let mut noise = 0.0;
    for i in 0..33usize {
        noise = 0.2 * noise + 2.0 * 5e6 * draw();
        let rise = if i >= 26 { end(i - 25) } else { 0.0 };
        let value = 900e6 + noise + rise;
        let minutes = i * 15;
        text += &format!(
            "\"01/12/2026 {:02}:{:02}:00.000\",\"{value:.0}\"\n",
            minutes / 60,
            minutes % 60
        );
    }
    text
}

fn finding(text: &str) -> Value {
    cli_common::finding_of_text("late-rise.csv", text, "app", None)
}

#[test]
fn a_steep_rise_after_a_long_flat_part_is_a_leak_the_whole_test_cannot_see() {
    // +50 MB every 15 minutes for the last 7 samples: 350 MB, ten times the noise's swing.
    let f = finding(&log(|k| 50e6 * k as f64));
    assert!(f["verdict"] == "leak" || f["verdict"] == "suspect", "{f:#}");
    assert_eq!(f["shape"], "late-onset", "{f:#}");
    assert!(reason_codes(&f).contains(&"late-rise"), "{f:#}");
    let reasons = f["reasons"].to_string();
    assert!(reasons.contains("late rise: onset at 6."), "{reasons}");
}

#[test]
fn a_late_rise_replaces_a_diluted_linear_reading() {
    // Another draw of the noise: here the whole test passes, but its line through the flat
    // part and the rise reads 2% of growth, too little to flag under a possible daily cycle.
    // The rise against the flat part's noise is clear.
    let f = finding(&log_of(1, |k| 50e6 * k as f64));
    assert!(f["verdict"] == "leak" || f["verdict"] == "suspect", "{f:#}");
    assert_eq!(f["shape"], "late-onset", "{f:#}");
    assert!(reason_codes(&f).contains(&"late-rise"), "{f:#}");
}

#[test]
fn one_step_at_the_end_or_no_rise_is_not() {
    for (what, end) in [
        ("step", Box::new(|_| 350e6) as Box<dyn Fn(usize) -> f64>),
        ("flat", Box::new(|_| 0.0)),
    ] {
        let f = finding(&log(end));
        assert_eq!(f["verdict"], "ok", "{what}: {f:#}");
        assert!(!reason_codes(&f).contains(&"late-rise"), "{what}: {f:#}");
    }
}
