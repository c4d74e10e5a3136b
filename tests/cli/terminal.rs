//! What `analyze` tells the person at the terminal (issue #19): the verdict rows of one log
//! and of a batch, colours only where wanted (`NO_COLOR`), `--quiet`, the `--json` failure
//! lines, `-o` checked before any work, and batch folder names for same-named inputs.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::cli_common::{perfleak, sample, tree};

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `analyze` without a terminal and without colour variables from the environment.
fn analyze() -> assert_cmd::Command {
    let mut cmd = perfleak();
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .arg("analyze");
    cmd
}

/// The verdict rows: the stderr lines before the closing count.
fn rows(err: &str) -> Vec<&str> {
    err.lines()
        .filter(|l| !l.starts_with("perfleak: "))
        .collect()
}

#[test]
fn one_log_prints_its_flagged_series_the_kb_article_and_the_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_dir = dir.path().join("rep");
    let out = analyze()
        .arg(sample("winlogon-smtp-leak.csv"))
        .arg("-o")
        .arg(&out_dir)
        .output()
        .expect("runs");
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(out.stdout.is_empty(), "stdout carries only --json");
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("report.json")).expect("report.json"),
    )
    .expect("JSON");
    let lines = rows(&err);
    assert_eq!(
        lines[0],
        format!(
            "{}: leak found on {}",
            sample("winlogon-smtp-leak.csv").display(),
            json["source"]["machines"][0].as_str().expect("machine")
        )
    );
    // One row per flagged series, in the report's order, with its figures.
    let flagged: Vec<&Value> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["verdict"] == "leak" || f["verdict"] == "suspect")
        .collect();
    assert!(!flagged.is_empty());
    for (f, row) in flagged.iter().zip(&lines[1..]) {
        let instance = f["instance"].as_str().expect("instance");
        let counter = f["counter"].as_str().expect("counter");
        let verdict = f["verdict"].as_str().expect("verdict");
        assert!(row.trim_start().starts_with(verdict), "{row}");
        assert!(row.contains(instance) && row.contains(counter), "{row}");
        assert!(row.contains("/h"), "a rate: {row}");
        if f["time_to_limit_hours"].is_number() {
            assert!(row.contains("limit in "), "{row}");
            let severity = f["severity"].as_str().expect("severity with a limit");
            assert!(row.trim_end().ends_with(severity), "{row}");
        }
    }
    let winlogon = lines
        .iter()
        .find(|l| l.contains("winlogon") && l.contains("Handle Count"))
        .unwrap_or_else(|| panic!("winlogon's handle leak is shown: {err}"));
    // Numbers as the one formatter writes them: sign, grouping, unit per hour.
    assert!(
        winlogon.contains(" +") && winlogon.contains("handles/h"),
        "{winlogon}"
    );
    let kb = &json["kb_matches"][0];
    let id = kb["id"].as_str().expect("a KB article matches winlogon");
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with(&format!("KB {id} ("))
                && l.contains(kb["title"].as_str().expect("title"))),
        "{err}"
    );
    let report_line = format!("  report: {}", out_dir.join("report.html").display());
    assert!(lines.contains(&report_line.as_str()), "{err}");
    assert!(!err.contains('\x1b'), "no colour off a terminal: {err:?}");
    assert!(
        err.contains("perfleak: 1 log(s) analysed: 1 with leaks"),
        "{err}"
    );
}

#[test]
fn colour_only_when_wanted_and_never_with_no_color() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = analyze();
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd
            .arg(sample("winlogon-smtp-leak.csv"))
            .arg("-o")
            .arg(dir.path().join("r"))
            .output()
            .expect("runs");
        assert!(out.status.success());
        stderr_of(&out)
    };
    let forced = run(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains("\x1b[1;31mleak"), "{forced:?}");
    let plain = run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!plain.contains('\x1b'), "NO_COLOR wins: {plain:?}");
    // The same words without the escapes.
    let strip = |s: &str| {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    assert_eq!(strip(&forced), plain);
}

#[test]
fn quiet_prints_no_verdict_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = analyze()
        .arg("--quiet")
        .arg(sample("winlogon-smtp-leak.csv"))
        .arg("-o")
        .arg(dir.path().join("r"))
        .output()
        .expect("runs");
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(err.lines().count(), 1, "only the closing count: {err}");
    assert!(err.starts_with("perfleak: 1 log(s) analysed"), "{err}");
}

#[test]
fn a_batch_prints_one_row_per_log_worst_first_then_the_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_dir = dir.path().join("batch");
    let out = analyze()
        .arg(sample("healthy-server.csv"))
        .arg(sample("winlogon-smtp-leak.csv"))
        .arg(sample("restart-leak.csv"))
        .arg("-o")
        .arg(&out_dir)
        .output()
        .expect("runs");
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    let lines = rows(&err);
    assert_eq!(lines.len(), 4, "3 logs and the index: {err}");
    // Leaks before the healthy log, whatever the order given.
    assert!(lines[2].contains("healthy-server.csv"), "{err}");
    assert!(lines[2].trim_start().starts_with("no-leak"), "{err}");
    for row in &lines[..2] {
        assert!(row.trim_start().starts_with("leak"), "{row}");
        assert!(row.contains("/h"), "the worst series' rate: {row}");
    }
    assert!(lines[0].contains("winlogon") || lines[1].contains("winlogon"));
    assert!(lines[0].contains("/report.html]"), "{err}");
    for row in &lines[..3] {
        // The folder a row names holds that log's report.
        let folder = row
            .rsplit_once('[')
            .and_then(|(_, f)| f.strip_suffix(']'))
            .expect("folder");
        assert!(out_dir.join(folder).is_file(), "{folder}");
    }
    assert_eq!(
        lines[3],
        format!("  index: {}", out_dir.join("index.html").display())
    );
}

#[test]
fn json_keeps_stdout_pure_and_prints_a_line_per_failed_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.csv");
    std::fs::write(
        &broken,
        "\"(PDH-CSV 4.0)\",\"\\\\SRV\\Memory\\Available Bytes\"\nno\n",
    )
    .expect("write");
    let missing = dir.path().join("missing.csv");
    let out = analyze()
        .arg("--json")
        .arg(sample("winlogon-smtp-leak.csv"))
        .arg(&missing)
        .arg(&broken)
        .current_dir(dir.path())
        .output()
        .expect("runs");
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0]["status"], "leak");
    let failed: Vec<&Value> = lines.iter().filter(|l| l.get("error").is_some()).collect();
    assert_eq!(failed.len(), 2, "{stdout}");
    let by_input = |p: &Path| {
        failed
            .iter()
            .find(|l| l["input"] == p.display().to_string())
            .unwrap_or_else(|| panic!("{} has its line: {stdout}", p.display()))
    };
    let m = by_input(&missing);
    assert_eq!(m["stage"], "read");
    assert_eq!(m["schema_version"], 1);
    assert!(
        m["error"]
            .as_str()
            .expect("error")
            .contains("no such file or folder"),
        "{m}"
    );
    let b = by_input(&broken);
    assert_eq!(b["stage"], "read");
    // The message is the one stderr shows.
    let message = b["error"].as_str().expect("error");
    assert!(err.contains(&format!("perfleak: {message}")), "{err}");
    // The verdict is still told on stderr, without a report path: none was written.
    assert!(err.contains("winlogon"), "{err}");
    assert!(
        !err.contains("report.html") && !err.contains("index.html"),
        "{err}"
    );
}

#[test]
fn json_with_only_a_missing_input_prints_its_failure_line_and_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("gone.blg");
    let out = analyze()
        .arg("--json")
        .arg(&missing)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr_of(&out).contains("0/0"));
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let line: Value = serde_json::from_str(stdout.trim_end()).expect("one JSON line");
    assert_eq!(line["input"], missing.display().to_string());
    assert_eq!(line["stage"], "read");
}

#[test]
fn the_output_folder_is_checked_before_any_log_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "mine").expect("write");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    std::fs::copy(sample("winlogon-smtp-leak.csv"), logs.join("srv.csv")).expect("copy");
    let refused = |out: &Path, why: &str| {
        let run = analyze()
            .args(["--fail-on", "leak"])
            .arg(&logs)
            .arg("-o")
            .arg(out)
            .output()
            .expect("runs");
        let err = stderr_of(&run);
        assert_eq!(run.status.code(), Some(2), "{err}");
        assert!(err.contains(why), "{err}");
        // Nothing was analysed: no count of logs, no verdict.
        assert!(
            !err.contains("analysed") && !err.contains("winlogon"),
            "{err}"
        );
    };
    // Inside an input folder is allowed, and what it holds is not read back as logs.
    let inside = logs.join("report");
    for _ in 0..2 {
        let run = analyze()
            .arg("-q")
            .arg(&logs)
            .arg(dir.path().join("a-log-that-is-missing.csv"))
            .arg("-o")
            .arg(&inside)
            .output()
            .expect("runs");
        let err = stderr_of(&run);
        assert!(run.status.success(), "{err}");
        assert!(
            err.contains("1 input(s) failed"),
            "only the missing one: {err}"
        );
        assert!(inside.join("summary.csv").is_file(), "{err}");
    }
    std::fs::remove_dir_all(&inside).expect("clean");
    refused(&file, "it is a file, not a folder");
    refused(&logs, "it is the input");
    refused(&file.join("below"), "cannot create folder");
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), "mine");
    assert_eq!(
        tree(&logs),
        vec!["srv.csv"],
        "the input folder is untouched"
    );
}

#[test]
fn same_named_logs_from_different_folders_get_readable_stable_folders() {
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    let names = ["SRVA", "SRVB", "srvc"];
    let samples = [
        "winlogon-smtp-leak.csv",
        "healthy-server.csv",
        "restart-leak.csv",
    ];
    for (server, name) in names.iter().zip(samples) {
        let folder = logs.join(server).join("Admin");
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::copy(sample(name), folder.join("DataCollector01.csv")).expect("copy");
    }
    std::fs::copy(sample("thirdparty-leak.csv"), logs.join("other.csv")).expect("copy");
    let out_dir = dir.path().join("out");
    let run = || {
        let out = analyze()
            .arg("-q")
            .arg(&logs)
            .arg("-o")
            .arg(&out_dir)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", stderr_of(&out));
        let mut folders: Vec<String> = tree(&out_dir)
            .into_iter()
            .filter(|p| p.ends_with("/report.json"))
            .map(|p| p.trim_end_matches("/report.json").to_string())
            .collect();
        folders.sort();
        folders
    };
    let first = run();
    assert_eq!(
        first,
        vec![
            "SRVA_Admin_DataCollector01",
            "SRVB_Admin_DataCollector01",
            "other",
            "srvc_Admin_DataCollector01",
        ]
    );
    // Each folder holds its own log's report.
    let source = |folder: &str| -> String {
        let text =
            std::fs::read_to_string(out_dir.join(folder).join("report.json")).expect("report.json");
        let json: Value = serde_json::from_str(&text).expect("JSON");
        json["source"]["path"].as_str().expect("path").to_string()
    };
    assert!(source("SRVB_Admin_DataCollector01").contains("SRVB/Admin/DataCollector01.csv"));
    assert!(source("other").ends_with("other.csv"));
    // A rerun names them the same and replaces them in place.
    assert_eq!(run(), first);
    assert_eq!(
        tree(&out_dir)
            .iter()
            .filter(|p| p.ends_with("report.json"))
            .count(),
        4
    );
}

/// Runs `perfleak analyze ARGS` with a pseudo-terminal as its standard error (util-linux
/// `script`), as a person at a terminal sees it; `None` where `script` is missing.
fn on_a_terminal(args: &[&str]) -> Option<String> {
    let bin = assert_cmd::cargo::cargo_bin("perfleak");
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut command = format!("{} analyze", quote(&bin.display().to_string()));
    for arg in args {
        command.push(' ');
        command.push_str(&quote(arg));
    }
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .output();
    match out {
        Ok(out) if out.status.code().is_some() => {
            Some(String::from_utf8_lossy(&out.stdout).into_owned())
        }
        _ => {
            eprintln!("skipped: no util-linux `script` to give perfleak a terminal");
            None
        }
    }
}

#[test]
fn the_progress_bar_names_the_log_shows_an_eta_and_one_label() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let samples: Vec<String> = [
        "winlogon-smtp-leak.csv",
        "healthy-server.csv",
        "restart-leak.csv",
    ]
    .iter()
    .map(|s| sample(s).display().to_string())
    .collect();
    let mut args: Vec<&str> = samples.iter().map(String::as_str).collect();
    let out_arg = out.display().to_string();
    args.extend(["-j", "1", "-o", &out_arg]);
    let Some(screen) = on_a_terminal(&args) else {
        return;
    };
    // Each redraw starts with a carriage return or a line clear; split on both.
    let frames: Vec<&str> = screen
        .split(['\r', '\n'])
        .filter(|f| f.contains('['))
        .collect();
    let bar: Vec<&&str> = frames
        .iter()
        .filter(|f| f.contains("analysing") || f.contains("reading"))
        .collect();
    assert!(!bar.is_empty(), "a bar on a terminal: {screen:?}");
    for frame in &bar {
        assert!(frame.contains("ETA"), "{frame:?}");
        assert!(
            frame.matches("analysing").count() + frame.matches("reading").count() == 1,
            "one label per bar: {frame:?}"
        );
    }
    assert!(
        bar.iter().any(|f| f.contains(".csv")),
        "the bar names a log: {bar:?}"
    );
    // The verdict coloured on a terminal.
    assert!(screen.contains("\x1b[1;31mleak"), "{screen:?}");

    let missing = dir.path().join("nothing-here.csv").display().to_string();
    let Some(screen) = on_a_terminal(&[&missing]) else {
        return;
    };
    assert!(!screen.contains("0/0"), "no empty bar: {screen:?}");
    assert!(screen.contains("no such file or folder"), "{screen:?}");
}
