//! A process trimmed and climbing back (`src/analysis/rules/recovery.rs`): a handle count held
//! at 2,000 falls sharply two hours into a twelve-hour log and takes back what it lost, slowing
//! as it nears the old level. That climb is a recovery, not a leak, whether the drop was deep
//! enough for the lifetime split to cut at it or stays inside one lifetime. A climb after the
//! same drop that keeps its rate (back to the old level in a straight line, or past it) is
//! still flagged. Logs written as PDH-CSV text and judged by running the binary.

use crate::cli_common::{finding_of_text, quarter_hour_log, reason_codes};

use serde_json::Value;

/// Held at 2,000 handles for two hours, then `after(h)` from the drop at 2 h.
fn handles(after: impl Fn(f64) -> f64) -> String {
    quarter_hour_log(12, 9, 12, |h| if h < 2.0 { 2000.0 } else { after(h - 2.0) })
}

/// A climb back from `2000 * (1 - share)` to 2,000 with time constant `tau` hours.
fn climb_back(share: f64, tau: f64) -> impl Fn(f64) -> f64 {
    move |h| 2000.0 - 2000.0 * share * (-h / tau).exp()
}

/// What follows the drop, hours after it.
type After = Box<dyn Fn(f64) -> f64>;

fn judged(text: &str) -> Value {
    finding_of_text("trim.csv", text, "app", Some("Handle Count"))
}

#[test]
fn a_climb_back_to_the_level_held_before_a_drop_is_a_recovery() {
    // 40% down: the lifetime split cuts at the drop; 25% down: one lifetime holds it all.
    for share in [0.4, 0.25] {
        let f = judged(&handles(climb_back(share, 3.0)));
        assert_eq!(f["verdict"], "ok", "{share}: {:#?}", f["reasons"]);
        assert_eq!(f["shape"], "warm-up", "{share}");
        assert_eq!(
            reason_codes(&f)[0],
            "recovery",
            "{share}: {:#?}",
            f["reasons"]
        );
        let reason = f["reasons"][0].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("a recovery, not a leak: climbed back to 1,9")
                && reason.contains("it held before the drop at 2.0 h, and levelled off"),
            "{reason}"
        );
    }
}

#[test]
fn a_climb_that_keeps_its_rate_after_a_drop_is_still_flagged() {
    let cases: [(&str, After); 3] = [
        // Back to the old level in a straight line: it does not slow as a return does.
        ("straight back", Box::new(|h| 1200.0 + 80.0 * h)),
        // Past the old level.
        ("past it", Box::new(|h| 1200.0 + 100.0 * h)),
        // A quick climb back, then still growing.
        ("back, then on", {
            let back = climb_back(0.4, 1.0);
            Box::new(move |h| back(h) + 40.0 * h)
        }),
    ];
    for (what, after) in cases {
        let f = judged(&handles(after));
        assert!(
            f["verdict"] == "leak" || f["verdict"] == "suspect",
            "{what}: {:#?}",
            f["reasons"]
        );
        assert!(!reason_codes(&f).contains(&"recovery"), "{what}");
    }
}
