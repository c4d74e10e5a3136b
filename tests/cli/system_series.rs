//! Leaks that show only system-wide (#17 section 4): logs built the way a support engineer
//! collects them when a server "gets sluggish over days": `Memory` counters, maybe
//! `Process(_Total)`, maybe a few processes. Each is judged by running the binary, as a user
//! would, and read back from report.json, summary.csv, summary.md and report.html.

use crate::cli_common;

use cli_common::perfleak;
use serde_json::Value;

const MB: f64 = 1024.0 * 1024.0;
/// 3 days of 5-minute samples.
const SAMPLES: usize = 3 * 24 * 12;

/// A PDH-CSV log of `\\SRV\<path>` columns, sample `i` of column `c` from `value(c, i)`,
/// starting on `start` (`MM/DD/YYYY`).
fn log(start: &str, paths: &[&str], value: impl Fn(usize, usize) -> f64) -> String {
    let mut text = String::from("\"(PDH-CSV 4.0) (UTC)(0)\"");
    for p in paths {
        text += &format!(",\"\\\\SRV\\{p}\"");
    }
    text += "\n";
    let (month, day, year) = (&start[0..2], &start[3..5], &start[6..10]);
    let day: usize = day.parse().unwrap();
    for i in 0..SAMPLES {
        let minutes = 5 * i;
        text += &format!(
            "\"{month}/{:02}/{year} {:02}:{:02}:00.000\"",
            day + minutes / (24 * 60),
            minutes / 60 % 24,
            minutes % 60
        );
        for c in 0..paths.len() {
            text += &format!(",\"{:.0}\"", value(c, i));
        }
        text += "\n";
    }
    text
}

/// Deterministic noise in [-1, 1] (a log from the field is never smooth).
fn noise(c: usize, i: usize) -> f64 {
    let x = ((i * 7919 + c * 104_729) % 1000) as f64 / 500.0 - 1.0;
    x * x.abs().sqrt()
}

/// Fraction of the log elapsed at sample `i`.
fn at(i: usize) -> f64 {
    i as f64 / (SAMPLES - 1) as f64
}

/// A daily cycle of amplitude 1.
fn daily(i: usize) -> f64 {
    (i as f64 / 288.0 * std::f64::consts::TAU).sin()
}

fn analyse(dir: &std::path::Path, name: &str, text: &str) -> Value {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    cli_common::json_of(&["analyze".as_ref(), "--json".as_ref(), path.as_os_str()])
}

fn finding<'a>(report: &'a Value, counter: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["counter"] == counter && f.get("system").is_some())
        .unwrap_or_else(|| panic!("no system finding for {counter}: {report:#}"))
}

const POOL_LOG: [&str; 3] = [
    r"Memory\Pool Nonpaged Bytes",
    r"Memory\Pool Paged Bytes",
    r"Process(_Total)\Handle Count",
];

/// The field case of the issue: only system counters, nonpaged pool 180 MB -> 1.26 GB over
/// 3 days, paged pool and handles steady with a daily cycle.
fn pool_leak(c: usize, i: usize) -> f64 {
    match c {
        0 => 180.0 * MB + at(i) * 1080.0 * MB + 4.0 * MB * noise(c, i),
        1 => 310.0 * MB + 25.0 * MB * daily(i) + 3.0 * MB * noise(c, i),
        _ => 48_000.0 + 1500.0 * daily(i) + 200.0 * noise(c, i),
    }
}

#[test]
fn a_system_only_pool_leak_is_found_with_its_limit_and_forecast() {
    let dir = tempfile::tempdir().unwrap();
    let report = analyse(
        dir.path(),
        "pool.csv",
        &log("03/04/2024", &POOL_LOG, pool_leak),
    );
    assert_eq!(report["status"], "leak", "{report:#}");
    let f = finding(&report, "Pool Nonpaged Bytes");
    assert_eq!(f["verdict"], "leak");
    assert_eq!(f["process"], "System (pool)");
    assert_eq!(f["system"]["area"], "pool");
    assert_eq!(f["system"]["path"], r"\\SRV\Memory\Pool Nonpaged Bytes");
    // About 15 MB/h.
    let slope = f["slope_per_hour"].as_f64().unwrap();
    assert!((slope / MB - 15.0).abs() < 1.0, "{slope}");
    // 1.26 GB is past every 32-bit Windows pool of 2000/2003 and no Windows of 2024 runs a
    // 32-bit NT 4.0: an x64 alert threshold, said to be one, and what it assumes.
    let name = f["limit_name"].as_str().unwrap();
    assert!(name.contains("alert threshold"), "{name}");
    assert!(f["limit"].as_f64().unwrap() > 1.26e9);
    assert!(f["limit_assumption"]
        .as_str()
        .unwrap()
        .contains("names no Windows version"));
    let hours = f["time_to_limit_hours"].as_f64().unwrap();
    assert!(hours > 6.0 && hours < 72.0, "{hours}");
    assert!(f["severity"].is_string());
    // Without a process whose pool grows, a driver is the suspect.
    assert!(f["system"]["likely_consumers"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(f["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r.as_str().unwrap().contains("poolmon")));
    // The terminal counts it as a leak, and a script failing on leaks fails on it.
    let out = perfleak()
        .current_dir(dir.path())
        .args(["analyze", "--fail-on", "leak", "pool.csv", "-o", "out"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 log(s) analysed: 1 with leaks"),
        "{stderr}"
    );
    // The cycling paged pool and handles of all processes are judged, and not leaks.
    assert_eq!(finding(&report, "Pool Paged Bytes")["verdict"], "ok");
    assert_eq!(finding(&report, "Handle Count")["verdict"], "ok");
}

#[test]
fn an_old_log_forecasts_to_its_era_pool_maximum() {
    // A Windows 2000 / 2003-era server (2006) whose nonpaged pool grows from 60 to 150 MB:
    // 256 MB is the documented maximum of those systems on x86.
    let dir = tempfile::tempdir().unwrap();
    let text = log("06/05/2006", &POOL_LOG, |c, i| match c {
        0 => 60.0 * MB + at(i) * 90.0 * MB + MB * noise(c, i),
        _ => pool_leak(c, i) / 4.0,
    });
    let report = analyse(dir.path(), "old.csv", &text);
    let f = finding(&report, "Pool Nonpaged Bytes");
    assert_eq!(f["verdict"], "leak");
    assert_eq!(f["limit"].as_f64().unwrap(), 256.0 * MB);
    let name = f["limit_name"].as_str().unwrap();
    assert!(
        name.contains("maximum of Windows 2000 / Server 2003 x86"),
        "{name}"
    );
}

#[test]
fn committed_bytes_run_into_the_logged_commit_limit() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [r"Memory\Committed Bytes", r"Memory\Commit Limit"];
    let text = log("03/04/2024", &paths, |c, i| match c {
        0 => 5000.0 * MB + at(i) * 4000.0 * MB + 300.0 * MB * daily(i) + 40.0 * MB * noise(c, i),
        _ => 16_000.0 * MB,
    });
    let report = analyse(dir.path(), "commit.csv", &text);
    let f = finding(&report, "Committed Bytes");
    assert_eq!(f["verdict"], "leak", "{f:#}");
    assert_eq!(f["process"], "System (commit)");
    assert_eq!(f["limit"].as_f64().unwrap(), 16_000.0 * MB);
    assert_eq!(f["limit_name"], "commit limit (logged)");
    // 7 GB of room at ~55 MB/h: about five days.
    let days = f["time_to_limit_hours"].as_f64().unwrap() / 24.0;
    assert!(days > 3.0 && days < 9.0, "{days}");
    // The Commit Limit itself is what Committed Bytes runs into, not a series to judge.
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["counter"] != "Commit Limit"));
}

#[test]
fn available_mbytes_falling_is_a_leak() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [r"Memory\Available MBytes"];
    let text = log("03/04/2024", &paths, |c, i| {
        9000.0 - at(i) * 6000.0 + 50.0 * noise(c, i)
    });
    let report = analyse(dir.path(), "available.csv", &text);
    assert_eq!(report["status"], "leak");
    let f = finding(&report, "Available MBytes");
    assert_eq!(f["verdict"], "leak");
    assert_eq!(f["process"], "System (memory)");
    assert_eq!(f["system"]["falling"], true);
    // Reported as logged, in bytes: falling ~83 MB/h from ~9,000 MB to ~3,000 MB.
    let slope = f["slope_per_hour"].as_f64().unwrap() / MB;
    assert!((slope + 83.3).abs() < 5.0, "{slope}");
    assert!(f["first"].as_f64().unwrap() > f["last"].as_f64().unwrap());
    assert!((f["last"].as_f64().unwrap() / MB - 3000.0).abs() < 200.0);
    assert_eq!(f["limit"].as_f64().unwrap(), 64.0 * MB);
    let days = f["time_to_limit_hours"].as_f64().unwrap() / 24.0;
    assert!(days > 1.0 && days < 2.5, "{days}");
}

#[test]
fn a_healthy_system_log_is_not_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [
        r"Memory\Pool Nonpaged Bytes",
        r"Memory\Pool Paged Bytes",
        r"Memory\Committed Bytes",
        r"Memory\Commit Limit",
        r"Memory\Available Bytes",
        r"Process(_Total)\Handle Count",
    ];
    // Flat pools, a day-night cycle in commit and memory left, handles that breathe.
    let text = log("03/04/2024", &paths, |c, i| match c {
        0 => 210.0 * MB + 3.0 * MB * noise(c, i),
        1 => 400.0 * MB + 40.0 * MB * daily(i) + 5.0 * MB * noise(c, i),
        2 => 6000.0 * MB + 800.0 * MB * daily(i) + 50.0 * MB * noise(c, i),
        3 => 16_000.0 * MB,
        4 => 9000.0 * MB - 700.0 * MB * daily(i) + 60.0 * MB * noise(c, i),
        _ => 52_000.0 + 3000.0 * daily(i) + 300.0 * noise(c, i),
    });
    let report = analyse(dir.path(), "healthy.csv", &text);
    assert_eq!(report["status"], "no-leak", "{report:#}");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5);
    for f in findings {
        assert!(f.get("system").is_some());
        assert_eq!(f["verdict"], "ok", "{f:#}");
    }
}

#[test]
fn the_process_whose_pool_grows_with_the_system_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [
        r"Memory\Pool Nonpaged Bytes",
        r"Process(AcmeAgent)\Pool Nonpaged Bytes",
        r"Process(AcmeAgent)\Handle Count",
        r"Process(AcmeAgent)\Private Bytes",
        r"Process(spoolsv)\Pool Nonpaged Bytes",
        r"Process(spoolsv)\Handle Count",
        r"Process(spoolsv)\Private Bytes",
    ];
    let text = log("03/04/2024", &paths, |c, i| match c {
        // The system's pool grows by 600 MB, 500 MB of it charged to AcmeAgent, whose
        // handles climb with it.
        0 => 150.0 * MB + at(i) * 600.0 * MB + 3.0 * MB * noise(c, i),
        1 => 2.0 * MB + at(i) * 500.0 * MB + MB * noise(c, i),
        2 => 900.0 + at(i) * 40_000.0 + 30.0 * noise(c, i),
        3 => 80.0 * MB + MB * noise(c, i),
        4 => 40_000.0 + 500.0 * noise(c, i),
        5 => 400.0 + 10.0 * noise(c, i),
        _ => 30.0 * MB + MB * noise(c, i),
    });
    // With a system-only log beside it: a batch, whose summary.csv lists both.
    std::fs::write(dir.path().join("consumer.csv"), &text).unwrap();
    std::fs::write(
        dir.path().join("pool.csv"),
        log("03/04/2024", &POOL_LOG, pool_leak),
    )
    .unwrap();
    let out = perfleak()
        .current_dir(dir.path())
        .args(["analyze", "-q", "consumer.csv", "pool.csv", "-o", "out"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dir_out = dir.path().join("out");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir_out.join("consumer/report.json")).unwrap(),
    )
    .unwrap();
    let f = finding(&report, "Pool Nonpaged Bytes");
    assert_eq!(f["verdict"], "leak");
    let consumers = f["system"]["likely_consumers"].as_array().unwrap();
    assert_eq!(consumers[0]["instance"], "AcmeAgent", "{f:#}");
    assert_eq!(consumers[0]["counter"], "Pool Nonpaged Bytes");
    let share = consumers[0]["share"].as_f64().unwrap();
    assert!((share - 500.0 / 600.0).abs() < 0.1, "{share}");
    assert!(consumers.iter().all(|c| c["instance"] != "spoolsv"));
    let reasons: Vec<&str> = f["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("likely consumer: AcmeAgent (its Pool Nonpaged Bytes leak")),
        "{reasons:?}"
    );
    // The process's own finding comes first: it is what to act on.
    assert_eq!(report["findings"][0]["process"], "AcmeAgent");

    // Beside the process findings in every document.
    let summary = std::fs::read_to_string(dir_out.join("summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let scope = header.iter().position(|h| *h == "scope").unwrap();
    let consumer = header.iter().position(|h| *h == "likely_consumer").unwrap();
    let cells = |log: &str| -> Vec<String> {
        let row = summary
            .lines()
            .find(|l| l.starts_with(log) && l.contains("System (pool)"))
            .unwrap();
        row.split(',').map(str::to_string).collect()
    };
    let row = cells("consumer.csv,");
    assert_eq!(
        (row[scope].as_str(), row[consumer].as_str()),
        ("system", "AcmeAgent")
    );
    let row = cells("pool.csv,");
    assert_eq!(
        (row[scope].as_str(), row[consumer].as_str()),
        ("system", "")
    );
    assert!(summary
        .lines()
        .any(|l| l.contains(",AcmeAgent,") && l.contains(",process,")));
    let md = std::fs::read_to_string(dir_out.join("pool/summary.md")).unwrap();
    assert!(
        md.contains("**System (pool) leaks Pool Nonpaged Bytes**"),
        "{md}"
    );
    let index = std::fs::read_to_string(dir_out.join("index.html")).unwrap();
    assert!(index.contains("pool.csv"));
    let html = std::fs::read_to_string(dir_out.join("consumer/report.html")).unwrap();
    assert!(html.contains("System (pool)") && html.contains("likely consumer: AcmeAgent"));
}

#[test]
fn a_kb_pool_article_matches_a_system_pool_leak() {
    // An NT 3.5 server of 1995 whose nonpaged pool creeps up while the directory replicator
    // (lmrepl) runs, its own counters flat: Q122838 describes that leak.
    let dir = tempfile::tempdir().unwrap();
    let paths = [
        r"Memory\Pool Nonpaged Bytes",
        r"Process(LMREPL)\Private Bytes",
        r"Process(LMREPL)\Handle Count",
        r"Replicator\Exports",
    ];
    let text = log("05/08/1995", &paths, |c, i| match c {
        0 => 6.0 * MB + at(i) * 4.0 * MB + 20_000.0 * noise(c, i),
        1 => 1.2 * MB + 10_000.0 * noise(c, i),
        2 => 60.0 + 2.0 * noise(c, i),
        _ => 3.0,
    });
    let report = analyse(dir.path(), "lmrepl.csv", &text);
    let f = finding(&report, "Pool Nonpaged Bytes");
    assert_eq!(f["verdict"], "leak");
    // NT 3.5/4.0-era log: the 128 MB maximum of Q126402.
    assert_eq!(f["limit"].as_f64().unwrap(), 128.0 * MB);
    let matches = report["kb_matches"].as_array().unwrap();
    let q = matches
        .iter()
        .find(|m| m["id"] == "Q122838")
        .unwrap_or_else(|| panic!("Q122838 not matched: {matches:#?}"));
    assert!(q["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e.as_str().unwrap().contains("Pool Nonpaged Bytes")));
}
