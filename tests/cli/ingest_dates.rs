//! Timestamps as they reach support: a log re-saved by a day-first spreadsheet, a virtual
//! machine's clock glitch, a gap of days. None may turn a leak into a false all-clear.

use crate::cli_common;

use cli_common::{perfleak, sample};

/// The winlogon sample (3 days from 1 March 1999, a leak) as a UK or French spreadsheet saves
/// it: `DD/MM/YYYY HH:MM`, no quotes, no seconds.
fn day_first_resave() -> String {
    let text = std::fs::read_to_string(sample("winlogon-smtp-leak.csv")).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.replace('"', "");
        if i == 0 {
            out += &line;
        } else {
            let (stamp, rest) = line.split_once(',').unwrap();
            let (month, tail) = stamp.split_once('/').unwrap();
            let (day, tail) = tail.split_once('/').unwrap();
            let (year, time) = tail.split_once(' ').unwrap();
            out += &format!("{day}/{month}/{year} {},{rest}", &time[..5]);
        }
        out += "\r\n";
    }
    out
}

fn analyze_json(path: &std::path::Path, args: &[&str]) -> (serde_json::Value, i32) {
    let out = perfleak()
        .args(["analyze", "--json", "--fail-on", "leak"])
        .args(args)
        .arg(path)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (report, out.status.code().unwrap())
}

fn winlogon_handles(report: &serde_json::Value) -> &serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["instance"] == "winlogon" && f["counter"] == "Handle Count")
        .unwrap()
}

#[test]
fn a_day_first_resave_reads_day_first() {
    let (original, status) = analyze_json(&sample("winlogon-smtp-leak.csv"), &[]);
    assert_eq!(status, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uk.csv");
    std::fs::write(&path, day_first_resave()).unwrap();
    let (uk, status) = analyze_json(&path, &[]);
    assert_eq!(status, 1, "the leak is still found");
    assert_eq!(uk["source"]["start"], "1999-03-01T08:00:00.000");
    assert_eq!(uk["source"]["end"], "1999-03-04T08:00:00.000");
    let (a, b) = (winlogon_handles(&original), winlogon_handles(&uk));
    assert_eq!(b["verdict"], "leak");
    let ratio = b["slope_per_hour"].as_f64().unwrap() / a["slope_per_hour"].as_f64().unwrap();
    assert!((ratio - 1.0).abs() < 0.02, "slope {ratio}x the original's");
    assert!(uk["warnings"].to_string().contains("dates read day first"));
    // Forced month first, the months jump, and the warnings name the rows where.
    let (forced, _) = analyze_json(&path, &["--date-order", "mdy"]);
    let warnings = forced["warnings"].to_string();
    assert!(warnings.contains("the time jumps"), "{warnings}");
    assert!(warnings.contains("line "), "{warnings}");
}

#[test]
fn a_clock_glitch_row_is_dropped_not_fatal() {
    // One row a year in the future in the middle of the log, one a year back near the end.
    let text = std::fs::read_to_string(sample("winlogon-smtp-leak.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[400] = lines[400].replacen("/1999 ", "/2000 ", 1);
    lines[800] = lines[800].replacen("/1999 ", "/1998 ", 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glitch.csv");
    std::fs::write(&path, lines.join("\r\n")).unwrap();
    let (report, status) = analyze_json(&path, &[]);
    assert_eq!(status, 1, "--fail-on leak still fails");
    assert_eq!(winlogon_handles(&report)["verdict"], "leak");
    assert_eq!(report["source"]["samples"], 865 - 2);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("line 401") && warnings.contains("clock glitch"),
        "{warnings}"
    );
    assert!(warnings.contains("line 801"), "{warnings}");
    // The last row a year ahead: nothing after it to return, dropped all the same.
    let mut last = text.lines().map(str::to_string).collect::<Vec<_>>();
    let n = last.len() - 1;
    last[n] = last[n].replacen("/1999 ", "/2000 ", 1);
    std::fs::write(&path, last.join("\r\n")).unwrap();
    let (report, _) = analyze_json(&path, &[]);
    assert_eq!(report["source"]["end"], "1999-03-04T07:55:00.019");
    assert!(report["warnings"]
        .to_string()
        .contains("the last timestamp"));
}

#[test]
fn a_gap_of_days_is_named() {
    // The collector stopped for 10 days after line 400: kept (a real gap), and said.
    let text = std::fs::read_to_string(sample("healthy-server.csv")).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let shifted: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i > 400 {
                shift_days(l, 10)
            } else {
                l.clone()
            }
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gap.csv");
    std::fs::write(&path, shifted.join("\n")).unwrap();
    let (report, _) = analyze_json(&path, &[]);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("line 402") && warnings.contains("the time jumps"),
        "{warnings}"
    );
}

/// A PDH row's `"MM/DD/YYYY ..."` stamp moved `days` later.
fn shift_days(line: &str, days: i64) -> String {
    let (stamp, rest) = line.split_once(',').unwrap();
    let t = chrono::NaiveDateTime::parse_from_str(stamp.trim_matches('"'), "%m/%d/%Y %H:%M:%S%.3f")
        .unwrap();
    let t = t + chrono::Duration::days(days);
    format!("\"{}\",{rest}", t.format("%m/%d/%Y %H:%M:%S%.3f"))
}
