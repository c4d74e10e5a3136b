//! The second opinion (issue #18, `src/analysis/opinion/`) as report.json shows it, on the first
//! logs of the generator's tune split: it judges only a process's `Private Bytes` or `Handle
//! Count` that the rules left a `suspect` or an `ok` over a reopenable objection, a verdict it
//! moves says so first and keeps the rules' objection beside it, it reopens nothing the rules
//! read as falling nor under the confidence of a `leak`, and the confidence it states is its
//! P(leak).

use perfleak::analysis::{self, calibrate, opinion};
use perfleak::ingest::{self, ReadOptions};
use perfleak_synth::{benchmark_logs, Split, Truth};

#[test]
fn a_moved_verdict_says_why_first_and_keeps_the_objection_it_overrules() {
    let (mut reopened, mut cleared, mut judged) = (0, 0, 0);
    let (mut reopened_leaks, mut reopened_healthy) = (0, 0);
    for log in benchmark_logs(Split::Tune, 1.0).take(48) {
        let parsed = ingest::read_bytes(
            &format!("{}.csv", log.name()),
            &log.to_csv_bytes(),
            &ReadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{} reads: {e:#}", log.name()));
        for f in analysis::analyze(&parsed) {
            let json = serde_json::to_value(&f).expect("a finding serialises");
            let what = format!("{} {} {}", log.name(), f.instance, f.counter);
            let o = &json["second_opinion"];
            if o.is_null() {
                assert!(
                    f.reason_codes.first().map(String::as_str) != Some("second-opinion"),
                    "{what}"
                );
                continue;
            }
            judged += 1;
            assert!(
                matches!(f.counter.as_str(), "Private Bytes" | "Handle Count")
                    && f.system.is_none(),
                "{what}: judged"
            );
            let role = o["role"].as_str().expect("a role");
            let p = o["p_leak"].as_f64().expect("the model's P(leak)");
            assert!((0.0..=1.0).contains(&p), "{what}: {p}");
            let rule = json["calibration"]["rule_verdict"].as_str().unwrap_or("?");
            if !o["moved"].as_bool().expect("moved") {
                assert_ne!(f.reason_codes[0], "second-opinion", "{what}");
                continue;
            }
            assert_eq!(f.reason_codes[0], "second-opinion", "{what}");
            assert!(
                (f.confidence - if f.verdict.is_flagged() { p } else { 1.0 - p }).abs() < 1e-12
            );
            assert_eq!(json["calibration"]["p_leak"].as_f64(), Some(p), "{what}");
            match role {
                "reopen" => {
                    reopened += 1;
                    assert_eq!(f.verdict, analysis::Verdict::Suspect, "{what}");
                    assert_eq!(rule, "ok", "{what}");
                    assert_ne!(f.shape, perfleak::vocab::Shape::Decreasing, "{what}");
                    assert!(
                        p >= calibrate::builtin().thresholds.leak_at,
                        "{what}: P {p}"
                    );
                    // The objection it overrules is quoted first and still stands below.
                    assert!(
                        f.reasons[1..]
                            .iter()
                            .any(|r| f.reasons[0].contains(r.as_str())),
                        "{what}: {:?}",
                        f.reasons
                    );
                    assert!(
                        f.reason_codes[1..]
                            .iter()
                            .any(|c| opinion::REOPENABLE.contains(&c.as_str())),
                        "{what}: {:?}",
                        f.reason_codes
                    );
                    assert!(f.reasons[0].contains("what weighed most"), "{what}");
                    let label = log
                        .labels
                        .iter()
                        .find(|l| l.instance == f.instance && l.counter == f.counter);
                    match label.map(|l| l.truth) {
                        Some(Truth::Leak) => reopened_leaks += 1,
                        Some(Truth::NotLeak) => reopened_healthy += 1,
                        _ => {}
                    }
                }
                "demote" => {
                    cleared += 1;
                    assert_eq!(f.verdict, analysis::Verdict::Ok, "{what}");
                    assert!(f.time_to_limit_hours.is_none(), "{what}");
                }
                other => panic!("{what}: role {other}"),
            }
        }
    }
    assert!(judged > 100, "the opinion judged only {judged} series");
    assert!(reopened > 0, "nothing reopened in 48 tune logs");
    // What it reopens mostly leaks (the tune split's out-of-fold precision is 0.96).
    assert!(
        reopened_leaks > 3 * reopened_healthy,
        "reopened {reopened_leaks} leaks and {reopened_healthy} healthy series ({cleared} cleared)"
    );
}
