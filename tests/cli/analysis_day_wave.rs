//! A leak under a daily cycle in a log of a day (`src/analysis/gates/day_wave.rs`): the plain
//! trend test reads the cycle's downswing as no growth or growth that stopped; a line under 24,
//! 12 and 8 h waves, its error widened for autocorrelation, finds it. A cycle alone stays `ok`.
//! Logs written as PDH-CSV text and judged by running the binary, as a user would.

use crate::cli_common;

use serde_json::Value;

/// A 24 h PDH-CSV log from Monday 12 January 2026 00:00 UTC, every 15 minutes: one process
/// whose Handle Count at hour `h` is `value(h)` plus a little deterministic noise.
fn day_log(value: impl Fn(f64) -> f64) -> String {
    day_log_from(0, value)
}

/// As [`day_log`], starting `offset` hours later (96: Friday 16 January 2026 00:00).
fn day_log_from(offset: usize, value: impl Fn(f64) -> f64) -> String {
    cli_common::quarter_hour_log(12, offset, 24, value)
}

fn handle_finding(name: &str, text: &str) -> Value {
    cli_common::finding_of_text(name, text, "app", Some("Handle Count"))
}

/// A finding's list of strings under `key` (`reasons`, `reason_codes`).
fn strings<'a>(f: &'a Value, key: &str) -> Vec<&'a str> {
    f[key]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn wave(h: f64, phase: f64) -> f64 {
    (2.0 * std::f64::consts::PI * (h + phase) / 24.0).sin()
}

#[test]
fn a_leak_under_a_daily_cycle_is_found_where_the_downswing_hid_it() {
    // 6 handles/h (+144 in the day, 7% of 2,000) under a daily swing of +-200: the plain test
    // reads "no significant growth" (phase 0) or "growth stopped" (phase 12).
    for phase in [0.0, 12.0] {
        let f = handle_finding(
            "leak.csv",
            &day_log(|h| 2000.0 + 6.0 * h + 200.0 * wave(h, phase)),
        );
        assert!(
            f["verdict"] == "leak" || f["verdict"] == "suspect",
            "phase {phase}: {f:#}"
        );
        let codes = strings(&f, "reason_codes");
        let at = codes
            .iter()
            .position(|c| *c == "cycle-fitted-growth")
            .unwrap_or_else(|| panic!("phase {phase}: {codes:?}"));
        let reason = f["reasons"][at].as_str().unwrap();
        assert!(
            reason.starts_with("growth under a daily cycle: 24, 12 and 8 h harmonics explain")
                && reason.contains("standard errors (widened for autocorrelation)"),
            "{reason}"
        );
    }
}

#[test]
fn a_daily_cycle_alone_stays_ok() {
    for phase in [0.0, 6.0, 12.0, 18.0] {
        let f = handle_finding("cycle.csv", &day_log(|h| 2000.0 + 200.0 * wave(h, phase)));
        assert_eq!(f["verdict"], "ok", "phase {phase}: {f:#}");
        let codes = f["reason_codes"].to_string();
        assert!(!codes.contains("cycle-fitted-growth"), "{codes}");
    }
}

#[test]
fn a_daily_cycle_that_falls_into_a_weekend_stays_ok() {
    // Friday noon to Saturday noon: the weekend runs 150 handles lower. A line under the waves
    // falls there; nothing rises.
    for phase in [0.0, 6.0, 12.0, 18.0] {
        let text = day_log_from(108, |h| {
            let weekend = if h >= 12.0 { 150.0 } else { 0.0 };
            2000.0 + 200.0 * wave(h, phase) - weekend
        });
        let f = handle_finding("weekend.csv", &text);
        assert_eq!(f["verdict"], "ok", "phase {phase}: {f:#}");
    }
}

#[test]
fn a_cycle_taken_out_is_not_also_called_not_ruled_out() {
    // One of the two harmonic retries takes the cycle out. With a single day nothing is left to
    // check day over day, and the caveat says that, not that a daily cycle cannot be ruled out
    // (the one it fitted is named beside it).
    let f = handle_finding(
        "fitted.csv",
        &day_log(|h| 1000.0 + 6.0 * h + 200.0 * wave(h, -6.0)),
    );
    let reasons = strings(&f, "reasons");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("daily cycle removed")
                || r.starts_with("growth under a daily cycle")),
        "{reasons:#?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("what the fitted cycle left")),
        "{reasons:#?}"
    );
    assert!(
        !reasons
            .iter()
            .any(|r| r.contains("to rule out a daily cycle")),
        "{reasons:#?}"
    );
}

#[test]
fn a_leak_a_business_day_leaves_on_weak_evidence_is_found_under_the_waves() {
    // Tuesday noon to Wednesday noon, 12 handles/h under a business-hours swing of 400: the
    // plain test finds growth whose interval includes 0 (the swing is noise to it); with the
    // day's waves taken out the line is plain.
    let text = day_log_from(36, |h| {
        2000.0 + 12.0 * h + 400.0 * cli_common::business(h + 12.0)
    });
    let f = handle_finding("business.csv", &text);
    assert!(f["verdict"] == "leak" || f["verdict"] == "suspect", "{f:#}");
    let reasons = strings(&f, "reasons");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("daily cycle removed: 24, 12 and 8 h harmonics")),
        "{reasons:#?}"
    );
}

#[test]
fn a_warm_up_of_a_few_hours_that_dies_out_stays_ok() {
    // The plain test finds growth dying out; 24, 12 and 8 h waves follow most of a warm-up's
    // curve over a day, but a bend under them fits far better than a line.
    for tau in [2.0, 3.0, 4.5, 6.0] {
        let text = day_log_from(36, |h| 2000.0 + 800.0 * (1.0 - (-h / tau).exp()));
        let f = handle_finding("warm.csv", &text);
        assert_eq!(f["verdict"], "ok", "tau {tau}: {f:#}");
    }
}
