//! A leak under a business-day cycle in a log of three days (`persists_day_over_day` in
//! `src/analysis/gates/mod.rs`): the daily profile is taken out, but what it leaves of the last
//! day still dips, and the plain gates read growth that stopped. Judged against the same hours
//! a day before, the last day still rises, and so did the day before it: a leak. A level shift
//! rises day over day for one day only and stays `ok`, as does the cycle alone.
//! Logs written as PDH-CSV text and judged by running the binary, as a user would.

use crate::cli_common;

use serde_json::Value;

/// A 72 h PDH-CSV log from Tuesday 13 January 2026 at `start` o'clock UTC, every 15 minutes:
/// one process whose Handle Count `h` hours in is `value(h)` plus a little deterministic noise.
fn three_days(start: usize, value: impl Fn(f64) -> f64) -> String {
    cli_common::quarter_hour_log(13, start, 72, value)
}

fn handle_finding(name: &str, text: &str) -> Value {
    cli_common::finding_of_text(name, text, "app", Some("Handle Count"))
}

fn reasons(f: &Value) -> Vec<&str> {
    f["reasons"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn a_leak_under_a_business_day_is_found_day_over_day() {
    // 1 handle/h (+72 in three days, 3.6% of 2,000) under a business-hours swing of 400 from
    // 09:00: once the profile is out the last day still falls, and the plain gates read
    // "growth stopped".
    let f = handle_finding(
        "leak.csv",
        &three_days(9, |h| 2000.0 + h + 400.0 * cli_common::business(h + 9.0)),
    );
    assert!(f["verdict"] == "leak" || f["verdict"] == "suspect", "{f:#}");
    let reasons = reasons(&f);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("of the rate against the same hours a day before")),
        "{reasons:#?}"
    );
}

#[test]
fn a_level_shift_or_a_business_day_alone_stays_ok() {
    for start in [0, 6, 9, 12, 15, 18] {
        let cycle = move |h: f64| 2000.0 + 400.0 * cli_common::business(h + start as f64);
        let f = handle_finding("cycle.csv", &three_days(start, cycle));
        assert_eq!(f["verdict"], "ok", "cycle from {start}:00: {f:#}");
        // A shift of 100 handles 50 h in: the last day rises against the day before, the day
        // before it did not.
        let shifted = move |h: f64| cycle(h) + if h >= 50.0 { 100.0 } else { 0.0 };
        let f = handle_finding("shift.csv", &three_days(start, shifted));
        assert_eq!(f["verdict"], "ok", "shift from {start}:00: {f:#}");
    }
}
