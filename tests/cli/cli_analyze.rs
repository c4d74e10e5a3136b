//! End-to-end runs of the `perfleak analyze` binary on the bundled samples, as a user would.

use crate::cli_common;
use cli_common::{perfleak, sample};

use crate::report_fixture;

use std::path::Path;

use report_fixture::{CONTRACT_FINDING_FIELDS, CONTRACT_SOURCE_FIELDS};
use serde_json::Value;

/// Runs `analyze --json` on one sample and parses the single JSON line.
fn analyze_json(name: &str) -> Value {
    let out = perfleak()
        .args(["analyze", "--json", "--quiet"])
        .arg(sample(name))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8 JSON");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line per log: {text}");
    serde_json::from_str(lines[0]).expect("valid JSON")
}

fn leaking(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter(|f| f["verdict"] == "leak")
        .map(|f| {
            (
                f["process"].as_str().unwrap_or_default().to_string(),
                f["counter"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn kb_ids(report: &Value) -> Vec<String> {
    report["kb_matches"]
        .as_array()
        .expect("kb_matches array")
        .iter()
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn winlogon_sample_names_q192265_first() {
    let report = analyze_json("winlogon-smtp-leak.csv");
    assert_eq!(report["schema_version"], 1);
    let leaks = leaking(&report);
    assert!(
        leaks.contains(&("winlogon".into(), "Handle Count".into())),
        "{leaks:?}"
    );
    assert!(
        leaks.contains(&("winlogon".into(), "Private Bytes".into())),
        "{leaks:?}"
    );
    assert!(
        leaks.iter().all(|(p, _)| p == "winlogon"),
        "only winlogon leaks: {leaks:?}"
    );
    assert_eq!(kb_ids(&report).first().map(String::as_str), Some("Q192265"));
    let evidence = report["kb_matches"][0]["evidence"].to_string();
    assert!(
        evidence.contains("SMTP Server"),
        "evidence names the corroborating object: {evidence}"
    );
}

#[test]
fn exchange_sample_names_q260554_first() {
    let report = analyze_json("exchange-async-leak.csv");
    let leaks = leaking(&report);
    assert!(
        leaks.contains(&("async".into(), "Private Bytes".into())),
        "{leaks:?}"
    );
    assert_eq!(kb_ids(&report).first().map(String::as_str), Some("Q260554"));
}

#[test]
fn healthy_sample_has_no_leak_and_no_kb() {
    let report = analyze_json("healthy-server.csv");
    assert!(leaking(&report).is_empty(), "{:?}", leaking(&report));
    assert!(kb_ids(&report).is_empty());
    assert!(
        report["findings"].as_array().map_or(0, Vec::len) > 10,
        "every series reported"
    );
}

#[test]
fn unknown_service_leak_names_no_kb() {
    let report = analyze_json("thirdparty-leak.csv");
    assert!(
        !leaking(&report).is_empty(),
        "the third-party leak is found"
    );
    assert!(kb_ids(&report).is_empty(), "{:?}", kb_ids(&report));
}

#[test]
fn findings_are_worst_first_and_complete() {
    let report = analyze_json("winlogon-smtp-leak.csv");
    let rank = |v: &Value| match v.as_str() {
        Some("leak") => 3,
        Some("suspect") => 2,
        Some("ok") => 1,
        _ => 0,
    };
    let findings = report["findings"].as_array().expect("array");
    for pair in findings.windows(2) {
        assert!(rank(&pair[0]["verdict"]) >= rank(&pair[1]["verdict"]));
    }
    for key in CONTRACT_FINDING_FIELDS {
        assert!(findings[0].get(key).is_some(), "finding has `{key}`");
    }
    for key in CONTRACT_SOURCE_FIELDS {
        assert!(report["source"].get(key).is_some(), "source has `{key}`");
    }
}

#[test]
fn one_log_writes_the_report_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("rep");
    perfleak()
        .args(["analyze", "--quiet", "-o"])
        .arg(&out)
        .arg(sample("winlogon-smtp-leak.csv"))
        .assert()
        .success();
    for file in ["report.html", "report.json", "summary.md"] {
        assert!(out.join(file).is_file(), "{file} written");
    }
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(html.contains("Q192265"));
    // The charts folder holds exactly the charts report.json names, plus the overview.
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("report.json")).expect("report.json"),
    )
    .expect("valid JSON");
    let mut named: Vec<String> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["chart"].as_str().map(str::to_string))
        .collect();
    assert!(!named.is_empty(), "the leaking series has a chart");
    named.push("charts/overview.png".to_string());
    named.sort();
    let mut on_disk: Vec<String> = std::fs::read_dir(out.join("charts"))
        .expect("charts")
        .map(|e| format!("charts/{}", e.expect("entry").file_name().to_string_lossy()))
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, named);
}

#[test]
fn batch_carries_on_past_a_broken_input_and_ranks_logs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, b"\x00\x01\x02 not a log at all").expect("write");
    let out = dir.path().join("rep");
    let assert = perfleak()
        .args(["analyze", "--quiet", "-o"])
        .arg(&out)
        .arg(sample("healthy-server.csv"))
        .arg(sample("winlogon-smtp-leak.csv"))
        .arg(&broken)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    let line = stderr
        .lines()
        .find(|l| l.contains("broken.csv"))
        .unwrap_or_else(|| panic!("failure listed on stderr: {stderr}"));
    // Named once: the reading error already starts with the file.
    assert_eq!(line.matches("broken.csv").count(), 1, "{line}");
    let index = std::fs::read_to_string(out.join("index.html")).expect("index");
    assert!(index.contains("broken.csv"), "failure listed in index.html");
    let winlogon = index.find("winlogon-smtp-leak").expect("winlogon row");
    let healthy = index.find("healthy-server").expect("healthy row");
    assert!(winlogon < healthy, "worst log first");
    assert!(out.join("winlogon-smtp-leak/report.html").is_file());
    let summary = std::fs::read_to_string(out.join("summary.csv")).expect("summary");
    assert!(summary
        .lines()
        .next()
        .unwrap_or_default()
        .starts_with("log,machine,"));
    assert!(summary
        .lines()
        .any(|l| l.contains("winlogon") && l.contains("leak") && l.contains("Q192265")));
}

#[test]
fn fail_on_sets_the_exit_status() {
    perfleak()
        .args(["analyze", "--json", "--quiet", "--fail-on", "leak"])
        .arg(sample("winlogon-smtp-leak.csv"))
        .assert()
        .code(1);
    perfleak()
        .args(["analyze", "--json", "--quiet", "--fail-on", "leak"])
        .arg(sample("healthy-server.csv"))
        .assert()
        .code(0);
}

#[test]
fn unreadable_input_exits_2_with_a_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, b"").expect("write");
    let assert = perfleak()
        .args(["analyze", "--json"])
        .arg(&empty)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("empty.csv"), "{stderr}");
    perfleak()
        .args(["analyze", "--no-such-flag"])
        .assert()
        .code(2);
}

#[test]
fn json_batch_prints_only_json_lines_and_lists_the_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, b"\x00\x01\x02 not a log at all").expect("write");
    let assert = perfleak()
        .current_dir(dir.path())
        .args(["analyze", "--json", "--fail-on", "leak"])
        .arg(sample("healthy-server.csv"))
        .arg(sample("winlogon-smtp-leak.csv"))
        .arg(&broken)
        .assert()
        .code(1);
    let out = assert.get_output();
    let stdout = String::from_utf8(out.stdout.clone()).expect("utf-8");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    // One line per readable log, then one per failed input (issue #19), nothing else.
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[2]["stage"], "read", "{stdout}");
    assert!(lines[2]["input"]
        .as_str()
        .is_some_and(|i| i.ends_with("broken.csv")));
    let mut paths: Vec<String> = lines[..2]
        .iter()
        .map(|v| v["source"]["path"].as_str().expect("path").to_string())
        .collect();
    paths.sort();
    assert!(paths[0].ends_with("healthy-server.csv"), "{paths:?}");
    assert!(paths[1].ends_with("winlogon-smtp-leak.csv"), "{paths:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.csv"), "failure listed: {stderr}");
    assert!(
        std::fs::read_dir(dir.path())
            .expect("dir")
            .all(|e| e.expect("entry").file_name() == "broken.csv"),
        "--json writes no report files"
    );
}

/// `-o` below a file is refused before any log is read (issue #19: checked once, up front).
#[test]
fn a_run_that_writes_no_report_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"not a folder").expect("write");
    let assert = perfleak()
        .args(["analyze", "--quiet", "--fail-on", "never", "-o"])
        .arg(blocker.join("rep"))
        .arg(sample("winlogon-smtp-leak.csv"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("cannot create folder"), "{stderr}");
    assert!(!stderr.contains("analysed"), "nothing analysed: {stderr}");
}

/// The robust slope of each leak the samples' labels know is close to the true slope, also
/// for the recycled w3wp whose lifetimes are stitched across `#N` labels.
#[test]
fn leak_slopes_match_the_sample_labels() {
    for name in ["winlogon-smtp-leak", "restart-leak", "thirdparty-leak"] {
        let report = analyze_json(&format!("{name}.csv"));
        let labels_path = sample(&format!("{name}.labels.json"));
        let labels: Value =
            serde_json::from_str(&std::fs::read_to_string(labels_path).expect("labels"))
                .expect("labels JSON");
        for label in labels["series"].as_array().expect("series") {
            if label["truth"] != "leak" || label["counter"] != "Private Bytes" {
                continue;
            }
            let finding = report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .find(|f| {
                    f["process"] == label["process"]
                        && f["counter"] == "Private Bytes"
                        && f["verdict"] == "leak"
                })
                .unwrap_or_else(|| panic!("{name}: no leak finding for {}", label["process"]));
            let truth = label["slope_per_hour"].as_f64().expect("true slope");
            let found = finding["slope_per_hour"].as_f64().expect("slope");
            assert!(
                (found - truth).abs() <= 0.2 * truth,
                "{name} {}: slope {found} vs true {truth}",
                label["process"]
            );
        }
    }
}

/// A folder of logs: every log found (labels and README beside them are not logs), ranked by
/// how soon a leaking process runs out, leak-free logs last.
#[test]
fn a_folder_is_ranked_by_how_soon_a_leak_runs_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("rep");
    perfleak()
        .args(["analyze", "--quiet", "-o"])
        .arg(&out)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"))
        .assert()
        .success();
    let index = std::fs::read_to_string(out.join("index.html")).expect("index");
    let position = |log: &str| {
        index
            .find(&format!("href=\"{log}/report.html\""))
            .unwrap_or_else(|| panic!("{log} listed in index.html"))
    };
    // Soonest to its limit first: winlogon's handles reach the 16,384 alert threshold in about
    // two weeks, acmesyncd's a day later, async's private bytes in about 54 days.
    let order = [
        "restart-leak",
        "winlogon-smtp-leak",
        "thirdparty-leak",
        "exchange-async-leak",
        "healthy-server",
    ];
    for pair in order.windows(2) {
        assert!(
            position(pair[0]) < position(pair[1]),
            "{} before {}",
            pair[0],
            pair[1]
        );
    }
    assert_eq!(
        index.matches("/report.html\"").count(),
        order.len(),
        "five logs, nothing else"
    );
}

#[test]
fn a_log_piped_on_stdin_is_analysed_once() {
    let text = std::fs::read(sample("winlogon-smtp-leak.csv")).expect("sample");
    let out = perfleak()
        .args(["analyze", "--json", "--quiet", "-"])
        .write_stdin(text.clone())
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(report["source"]["path"], "-");
    assert!(leaking(&report).contains(&("winlogon".into(), "Handle Count".into())));

    // `-` twice: the second is refused, the first still read.
    let out = perfleak()
        .args(["analyze", "--json", "--quiet", "-", "-"])
        .write_stdin(text)
        .assert();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("standard input given more than once"),
        "{stderr}"
    );
    assert!(stderr.contains("1 log(s) analysed"), "{stderr}");
}
