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
            // The calibration never flags what the rules did not.
            if !matches!(rule, "leak" | "suspect") {
                assert_eq!(verdict, rule, "{what}");
            } else if verdict != rule {
                let first = f["reasons"][0].as_str().unwrap_or_default();
                assert!(first.contains("the rules said"), "{what}: {first}");
            }
            if flagged && thresholds.demote {
                assert!(p >= thresholds.suspect_at, "{what}: flagged at P(leak) {p}");
                if verdict == "leak" {
                    assert!(p >= thresholds.leak_at, "{what}: a leak at P(leak) {p}");
                }
            }
            if thresholds.promote && verdict == "suspect" {
                assert!(p < thresholds.leak_at, "{what}: a suspect at P(leak) {p}");
            }
        }
    }
    assert!(calibrated > 10, "only {calibrated} findings calibrated");
}
