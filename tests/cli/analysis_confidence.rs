//! The calibrated confidence (issue #18) as a user reads it in report.json: for every bundled
//! sample, each finding's confidence is the probability that its verdict is right, read from
//! the calibrated P(leak) it reports beside the rules' own verdict.

use crate::cli_common::{json_of, sample};

use perfleak::analysis::calibrate;

const SAMPLES: [&str; 5] = [
    "exchange-async-leak.csv",
    "healthy-server.csv",
    "restart-leak.csv",
    "thirdparty-leak.csv",
    "winlogon-smtp-leak.csv",
];

#[test]
fn every_sample_states_a_probability_that_matches_its_verdict() {
    let thresholds = calibrate::builtin().thresholds;
    let mut calibrated = 0;
    for name in SAMPLES {
        let report = json_of(&[
            "analyze".as_ref(),
            "--json".as_ref(),
            sample(name).as_os_str(),
        ]);
        let findings = report["findings"].as_array().expect("findings");
        assert!(!findings.is_empty(), "{name}");
        for f in findings {
            let what = format!("{name} {} {}", f["instance"], f["counter"]);
            let confidence = f["confidence"].as_f64().expect("a confidence");
            assert!((0.0..=1.0).contains(&confidence), "{what}: {confidence}");
            let c = &f["calibration"];
            let verdict = f["verdict"].as_str().expect("a verdict");
            let rule = c["rule_verdict"].as_str().expect("the rules' verdict");
            let Some(p) = c["p_leak"].as_f64() else {
                // No map for the rules' verdict: their own confidence stands.
                assert_eq!(verdict, rule, "{what}");
                assert_eq!(Some(confidence), c["rule_confidence"].as_f64(), "{what}");
                continue;
            };
            calibrated += 1;
            assert!((0.0..=1.0).contains(&p), "{what}: {p}");
            let flagged = matches!(verdict, "leak" | "suspect");
            let expected = if flagged { p } else { 1.0 - p };
            assert!(
                (confidence - expected).abs() < 1e-12,
                "{what}: {confidence} vs P(leak) {p}"
            );
            // The calibration never flags what the rules did not; the second opinion may, and
            // says so first, as does any verdict moved.
            let second = f["reason_codes"][0] == "second-opinion";
            if !matches!(rule, "leak" | "suspect") {
                assert!(verdict == rule || second, "{what}");
            } else if verdict != rule {
                let first = f["reasons"][0].as_str().unwrap_or_default();
                assert!(
                    first.contains("the rules said") || second,
                    "{what}: {first}"
                );
            }
            if flagged && thresholds.demote {
                assert!(p >= thresholds.suspect_at, "{what}: flagged at P(leak) {p}");
                if verdict == "leak" {
                    assert!(p >= thresholds.leak_at, "{what}: a leak at P(leak) {p}");
                }
            }
            // A suspect at `leak_at` or more says what kept it one.
            if thresholds.promote && verdict == "suspect" && p >= thresholds.leak_at {
                let codes = f["reason_codes"].to_string();
                assert!(
                    [
                        "calibrated-unpromoted",
                        "renumbering",
                        "load-consistent",
                        "second-opinion"
                    ]
                    .iter()
                    .any(|c| codes.contains(c)),
                    "{what}: a suspect at P(leak) {p}: {codes}"
                );
            }
        }
    }
    assert!(calibrated > 10, "only {calibrated} findings calibrated");
}

/// A one-day log in which the process restarts at 18 h: flat before, then +60 handles/h for
/// its last 6 h. The rules call it `suspect` (six hours of rise may be a daily cycle's rising
/// half), and the tune split's series with this evidence mostly leak. The calibration used to
/// promote it to `leak` because the log spans a day, although its growth rests on six hours:
/// now a suspect is promoted only when its growth spans `promote_min_hours`, and a reason says
/// what kept it a suspect.
#[test]
fn growth_judged_on_part_of_a_day_is_not_promoted_to_a_leak() {
    use super::analysis_shapes::{ar1, only, with_noise, LogBuilder};
    use perfleak::analysis::Verdict;
    use rand::{rngs::SmallRng, SeedableRng};

    let t = calibrate::builtin().thresholds;
    let mut sure = 0;
    for seed in 0..8u64 {
        let mut rng = SmallRng::seed_from_u64(seed);
        let b = LogBuilder::new(24.0, 300.0);
        let hours = b.hours();
        let noise = ar1(&mut rng, hours.len(), 0.3, 4.0);
        let v = with_noise(&hours, &noise, |h| {
            (2000.0 + 60.0 * (h - 18.0).max(0.0)).round()
        });
        let pid = hours
            .iter()
            .map(|&h| if h < 18.0 { 812.0 } else { 4420.0 })
            .collect();
        let log = b
            .process("svchost", "Handle Count", v)
            .process("svchost", "ID Process", pid)
            .build();
        let f = only(&log, "Handle Count");
        let c = f.calibration.expect("calibrated");
        let what = format!("seed {seed}: {:?} {:?}", f.verdict, f.reasons);
        assert_eq!(c.rule_verdict, Verdict::Suspect, "{what}");
        assert_eq!(f.verdict, Verdict::Suspect, "{what}");
        assert!(calibrate::evidence_hours(&f) < 7.0, "{what}");
        // Six hours of a one-day log: what settles it is a longer life, not a longer log.
        let settle = f.reason("what-would-settle").unwrap_or_default();
        assert!(
            settle.contains("a whole day of this process's life"),
            "{what}"
        );
        if c.p_leak.is_some_and(|p| p >= t.leak_at) {
            sure += 1;
            assert!(
                f.reason_codes.iter().any(|c| c == "calibrated-unpromoted"),
                "{what}"
            );
        }
    }
    // The case the change is about: P(leak) at `leak_at` or more, yet a suspect.
    assert!(sure >= 4, "only {sure} of 8 reached P(leak) {}", t.leak_at);
}
