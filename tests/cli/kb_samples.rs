//! End to end: `perfleak analyze --json` on the bundled sample logs names a KB article as the
//! likely cause only where the log really points to one.

use assert_cmd::Command;
use serde_json::Value;

fn kb_matches(sample: &str) -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/").to_string() + sample;
    let output = Command::cargo_bin("perfleak")
        .expect("binary")
        .args(["analyze", "--json", "--quiet", &path])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{sample}: JSON on stdout: {e}"));
    report["kb_matches"]
        .as_array()
        .unwrap_or_else(|| panic!("{sample}: kb_matches array"))
        .clone()
}

fn likely_ids(matches: &[Value]) -> Vec<&str> {
    matches
        .iter()
        .filter(|m| m["strength"] == "likely")
        .filter_map(|m| m["id"].as_str())
        .collect()
}

#[test]
fn samples_without_a_known_cause_get_no_likely_article() {
    for sample in [
        "restart-leak.csv",
        "thirdparty-leak.csv",
        "healthy-server.csv",
    ] {
        let matches = kb_matches(sample);
        assert!(
            matches
                .iter()
                .all(|m| m["strength"] == "likely" || m["strength"] == "possible"),
            "{sample}: {matches:#?}"
        );
        assert!(likely_ids(&matches).is_empty(), "{sample}: {matches:#?}");
    }
}

#[test]
fn samples_with_a_known_cause_get_it_first_and_likely() {
    for (sample, id, process) in [
        ("winlogon-smtp-leak.csv", "Q192265", "winlogon"),
        ("exchange-async-leak.csv", "Q260554", "async"),
    ] {
        let matches = kb_matches(sample);
        let first = matches
            .first()
            .unwrap_or_else(|| panic!("{sample}: no match"));
        assert_eq!(first["id"], id, "{sample}: {matches:#?}");
        assert_eq!(first["strength"], "likely", "{sample}: {first:#?}");
        assert_eq!(first["processes"][0], process);
        assert_eq!(likely_ids(&matches), vec![id], "{sample}: {matches:#?}");
    }
}
