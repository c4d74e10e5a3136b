//! Forecasts a user can act on: the limit a series runs into is decided from the log's own
//! evidence of bitness (and says so when it is assumed), and each limit is named, the same
//! one in the JSON, the CSV and the sentences.

use crate::cli_common;

use cli_common::{perfleak, sample};

fn findings(name: &str) -> Vec<serde_json::Value> {
    let out = perfleak()
        .args(["analyze", "--json"])
        .arg(sample(name))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"].as_array().unwrap().clone()
}

fn find<'a>(all: &'a [serde_json::Value], instance: &str, counter: &str) -> &'a serde_json::Value {
    all.iter()
        .find(|f| f["instance"] == instance && f["counter"] == counter)
        .unwrap()
}

#[test]
fn a_process_on_a_modern_x64_server_runs_into_the_commit_headroom() {
    // The sample's own labels: about 5.4 GB and 86 days (the report used to say 2 GB, 30 days).
    let all = findings("thirdparty-leak.csv");
    let pb = find(&all, "acmesyncd", "Private Bytes");
    let limit = pb["limit"].as_f64().unwrap();
    assert!((limit / 5.6e9 - 1.0).abs() < 0.05, "{limit}");
    let days = pb["time_to_limit_hours"].as_f64().unwrap() / 24.0;
    assert!((80.0..92.0).contains(&days), "{days}");
    assert!(pb["limit_name"]
        .as_str()
        .unwrap()
        .starts_with("commit headroom"));
    let assumption = pb["limit_assumption"].as_str().unwrap();
    assert!(
        assumption.contains("64-bit") && assumption.contains("Registry"),
        "{assumption}"
    );
    assert!(pb["reasons"]
        .to_string()
        .contains("assumed a 64-bit process"));
}

#[test]
fn an_nt4_process_is_assumed_32_bit_and_says_so() {
    let all = findings("winlogon-smtp-leak.csv");
    let vb = find(&all, "winlogon", "Virtual Bytes");
    assert_eq!(vb["limit"].as_f64(), Some(2.0 * 1024.0 * 1024.0 * 1024.0));
    assert!(vb["limit_name"].as_str().unwrap().contains("32-bit"));
    assert!(vb["limit_assumption"]
        .as_str()
        .unwrap()
        .contains("nothing in the log shows a 64-bit machine"));
}

#[test]
fn handle_counts_have_one_named_threshold() {
    for f in findings("winlogon-smtp-leak.csv")
        .iter()
        .filter(|f| f["counter"] == "Handle Count")
    {
        assert_eq!(f["limit"].as_f64(), Some(16_384.0));
        assert!(f["limit_name"]
            .as_str()
            .unwrap()
            .contains("alert threshold"));
    }
    // The severity comes from that same threshold: the time to it and the severity agree.
    let all = findings("thirdparty-leak.csv");
    let hc = find(&all, "acmesyncd", "Handle Count");
    let days = hc["time_to_limit_hours"].as_f64().unwrap() / 24.0;
    let expected = if days < 1.0 {
        "critical"
    } else if days < 7.0 {
        "high"
    } else if days < 30.0 {
        "medium"
    } else {
        "low"
    };
    assert_eq!(hc["severity"], expected);
}

#[test]
fn the_csv_names_the_limit_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample("thirdparty-leak.csv"), dir.path().join("a.csv")).unwrap();
    std::fs::copy(sample("healthy-server.csv"), dir.path().join("b.csv")).unwrap();
    let out = perfleak()
        .current_dir(dir.path())
        .args(["analyze", "-q", "a.csv", "b.csv", "-o", "out"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = std::fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    // Columns are appended after these (folder, start, end): read by name.
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert!(
        header.contains(&"limit") && header.contains(&"limit_name") && header.contains(&"scope"),
        "{csv}"
    );
    assert!(csv.contains(",commit headroom"));
    let md = std::fs::read_to_string(dir.path().join("out/a/summary.md")).unwrap();
    assert!(md.contains("reaches its commit headroom"), "{md}");
}
