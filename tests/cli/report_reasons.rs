//! Reasons a support engineer reads as sentences, each with a stable code beside it in
//! report.json (`reason_codes`, one per reason, same order); and a leak that restarts hide says
//! how much each lifetime grew, not a first → last that reads as a fall.

use crate::cli_common::{json_of, sample};

fn findings(name: &str) -> Vec<serde_json::Value> {
    let report = json_of(&[
        "analyze".as_ref(),
        "--json".as_ref(),
        sample(name).as_os_str(),
    ]);
    report["findings"].as_array().unwrap().clone()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn finding<'a>(all: &'a [serde_json::Value], counter: &str) -> &'a serde_json::Value {
    all.iter()
        .find(|f| f["counter"] == counter)
        .unwrap_or_else(|| panic!("no {counter}"))
}

#[test]
fn every_reason_has_one_kebab_case_code() {
    for name in [
        "winlogon-smtp-leak.csv",
        "restart-leak.csv",
        "healthy-server.csv",
        "exchange-async-leak.csv",
        "thirdparty-leak.csv",
    ] {
        for f in findings(name) {
            let (reasons, codes) = (strings(&f["reasons"]), strings(&f["reason_codes"]));
            assert_eq!(reasons.len(), codes.len(), "{name} {}", f["instance"]);
            for code in codes {
                assert!(
                    !code.is_empty()
                        && code.split('-').all(|w| !w.is_empty()
                            && w.chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
                    "{code}"
                );
            }
        }
    }
}

#[test]
fn a_leak_opens_with_how_sure_and_when_the_limit_is_reached() {
    let all = findings("winlogon-smtp-leak.csv");
    let f = finding(&all, "Handle Count");
    let (reasons, codes) = (strings(&f["reasons"]), strings(&f["reason_codes"]));
    assert_eq!(
        codes[..2],
        ["growth-certain", "limit-forecast"],
        "{reasons:#?}"
    );
    assert!(
        reasons[0].starts_with("growth is certain: the chance this is noise is below 1 in 10^"),
        "{}",
        reasons[0]
    );
    assert!(
        reasons[1].starts_with(
            "at this rate the handle alert threshold (16,384 handles) is reached in about 13.6 days"
        ),
        "{}",
        reasons[1]
    );
}

#[test]
fn a_restart_masked_leak_says_how_much_each_lifetime_grew() {
    let all = findings("restart-leak.csv");
    let f = finding(&all, "Private Bytes");
    assert_eq!(f["shape"], "restart-masked");
    // First 239 MB, last 225 MB: the whole log reads as a fall.
    assert!(f["last"].as_f64() < f["first"].as_f64());
    let (reasons, codes) = (strings(&f["reasons"]), strings(&f["reason_codes"]));
    assert_eq!(codes[0], "restart-masked");
    assert!(
        reasons[0].starts_with("each of its 4 lifetimes grew, by ")
            && reasons[0].contains(" MB (about +12.2 MB/h); restarts hide it"),
        "{}",
        reasons[0]
    );

    // The report's own words say the same, and not "239 MB → 225 MB".
    let dir = tempfile::tempdir().unwrap();
    crate::cli_common::perfleak()
        .args(["analyze", "-q"])
        .arg(sample("restart-leak.csv"))
        .arg("-o")
        .arg(dir.path())
        .assert()
        .success();
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    let line = md
        .lines()
        .find(|l| l.contains("leaks Private Bytes"))
        .expect("a verdict line");
    assert!(line.contains("each of its 4 lifetimes grew, by "), "{line}");
    assert!(!line.contains("239 MB → 225 MB"), "{line}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("restarts hide it"));
    assert!(html.contains(
        "<code class=\"code\" title=\"reason code in report.json\">restart-masked</code>"
    ));
}
