//! The working day's load in a log shorter than a day: growth that begins on a weekday morning
//! and levels off is the day's load arriving, not a leak's onset (reason code
//! `working-day-load`); the same rise on a Saturday, or one that keeps its rate, is still
//! flagged.

use crate::cli_common::{finding_of_text, reason_codes};

/// Handle Count of a log from 02:00 to 10:00 on January `day` 2026 (12: a Monday), every five
/// minutes: flat at 1,000 until 07:00, rising 250 an hour to 09:00, then `after` handles an
/// hour to the end, under Gaussian noise of 10 handles (a fixed draw).
fn morning(day: usize, after: f64) -> serde_json::Value {
    let mut state: u64 = 7;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut text =
        String::from("\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\SRV\\Process(app)\\Handle Count\"\n");
    for i in 0..=96 {
        let m = 120 + 5 * i;
        let clock = m as f64 / 60.0;
        let gauss = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
        let value = 1000.0
            + 250.0 * (clock - 7.0).clamp(0.0, 2.0)
            + after * (clock - 9.0).max(0.0)
            + 10.0 * gauss;
        text += &format!(
            "\"01/{day:02}/2026 {:02}:{:02}:00.000\",\"{value:.3}\"\n",
            m / 60,
            m % 60
        );
    }
    finding_of_text("morning.csv", &text, "app", Some("Handle Count"))
}

#[test]
fn a_rise_at_the_start_of_a_working_day_that_levels_off_is_the_days_load() {
    let f = morning(12, 0.0);
    assert_eq!(f["verdict"], "ok", "{f:#}");
    assert_eq!(f["shape"], "cyclic", "{f:#}");
    assert_eq!(reason_codes(&f)[0], "working-day-load", "{f:#}");
    let why = f["reasons"][0].as_str().unwrap_or_default();
    assert!(why.contains("on a Monday"), "{why}");
    assert!(why.contains("levelled off from 09:"), "{why}");
}

#[test]
fn the_same_rise_on_a_saturday_or_one_that_keeps_its_rate_is_still_flagged() {
    // Saturday 17 January 2026: no working day begins.
    let saturday = morning(17, 0.0);
    assert_eq!(saturday["verdict"], "suspect", "{saturday:#}");
    assert!(!reason_codes(&saturday).contains(&"working-day-load"));
    // Monday, but the growth keeps its rate at full load: a leak that started then.
    let climbing = morning(12, 250.0);
    assert_eq!(climbing["verdict"], "suspect", "{climbing:#}");
    assert!(!reason_codes(&climbing).contains(&"working-day-load"));
}
