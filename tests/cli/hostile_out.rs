//! The output and run side of hostile input (issue 14), one test per class of defect, each
//! running the binary as a user would: values a chart cannot draw, dates at the end of the
//! calendar, closed and full standard output, links in the output folder, killed and
//! concurrent runs, a PID that changes at every sample, names that hold terminal escapes, and
//! the exit status on a full disk.

use crate::cli_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cli_common::{perfleak, sample, tree};

/// Long enough for a debug build on a busy 2-core machine; a hang never ends.
const BOUND: Duration = Duration::from_secs(120);

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The leaking sample with the cell of `row` (1 = first data row) and 1-based `column`
/// replaced by `value`.
fn leak_with_cells(cells: &[(usize, usize, &str)]) -> String {
    let text = std::fs::read_to_string(sample("winlogon-smtp-leak.csv")).expect("sample");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for &(row, column, value) in cells {
        let line = &lines[row];
        let inner = &line[1..line.len() - 1];
        let mut fields: Vec<String> = inner.split("\",\"").map(str::to_string).collect();
        fields[column - 1] = value.to_string();
        lines[row] = format!("\"{}\"", fields.join("\",\""));
    }
    lines.join("\n") + "\n"
}

/// Column of winlogon's Handle Count in the leaking sample (it leaks: it gets a chart).
const WINLOGON_HANDLES: usize = 23;

fn analyze(dir: &Path, args: &[&str]) -> std::process::Output {
    perfleak()
        .current_dir(dir)
        .arg("analyze")
        .arg("-q")
        .args(args)
        .timeout(BOUND)
        .output()
        .expect("runs")
}

#[test]
fn values_no_chart_can_draw_are_blanked_with_a_warning_and_the_report_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("near-max", vec![(300, WINLOGON_HANDLES, "1.7e308")]),
        (
            "both-ends",
            vec![
                (300, WINLOGON_HANDLES, "1e308"),
                (301, WINLOGON_HANDLES, "-1e308"),
            ],
        ),
        ("negative", vec![(10, WINLOGON_HANDLES, "-5")]),
        ("absurd-bytes", vec![(400, 9, "1e300")]),
    ];
    for (name, cells) in cases {
        let log = dir.path().join(format!("{name}.csv"));
        std::fs::write(&log, leak_with_cells(&cells)).expect("log");
        let started = Instant::now();
        let out = analyze(dir.path(), &[&format!("{name}.csv"), "-o", name]);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        assert!(started.elapsed() < BOUND, "{name}");
        let json = std::fs::read_to_string(dir.path().join(name).join("report.json"))
            .expect("report.json");
        let report: serde_json::Value = serde_json::from_str(&json).expect("json");
        let warnings = report["warnings"].to_string();
        assert!(warnings.contains("impossible value"), "{name}: {warnings}");
        let column = if name == "absurd-bytes" {
            "column 9"
        } else {
            "column 23"
        };
        assert!(warnings.contains(column), "{name}: {warnings}");
        assert!(warnings.contains("sample "), "{name}: {warnings}");
        // The leak is still found and charted from the plausible values.
        let charted = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["instance"] == "winlogon" && f["chart"].is_string());
        assert!(charted, "{name}");
        assert!(dir.path().join(name).join("charts/overview.png").is_file());
    }
}

#[test]
fn stamps_at_the_end_of_the_calendar_neither_panic_nor_reach_the_charts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = leak_with_cells(&[
        (500, 1, "12/31/262000 23:59:59.000"),
        (501, 1, "01/01/262142 00:00:00.000"),
    ]);
    std::fs::write(dir.path().join("late.csv"), text).expect("log");
    let out = perfleak()
        .current_dir(dir.path())
        .args(["inspect", "late.csv"])
        .timeout(BOUND)
        .output()
        .expect("runs");
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("262000"),
        "the refused stamp is named: {text}"
    );
    assert!(!text.contains("panicked") && !err.contains("panicked"));

    let out = analyze(dir.path(), &["late.csv", "-o", "rep"]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let json = std::fs::read_to_string(dir.path().join("rep/report.json")).expect("json");
    let report: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert!(report["source"]["end"]
        .as_str()
        .is_some_and(|e| e.starts_with("1999-03-04")));
    assert!(
        report["warnings"].to_string().contains("line 501"),
        "{json}"
    );
}

/// Runs `args` with standard output a pipe whose reader has already gone.
fn run_into_closed_pipe(args: &[&str]) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("perfleak");
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take());
    child.wait_with_output().expect("waits")
}

fn run_into_full_device(args: &[&str]) -> std::process::Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    Command::new(assert_cmd::cargo::cargo_bin("perfleak"))
        .args(args)
        .stdout(full)
        .output()
        .expect("runs")
}

#[test]
fn a_closed_output_ends_quietly_and_a_full_one_is_an_error() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full here");
        return;
    }
    let leak = sample("winlogon-smtp-leak.csv");
    let leak = leak.to_str().expect("utf-8 path");
    let commands: [&[&str]; 5] = [
        &["inspect", leak],
        &["inspect", "--json", leak],
        &["analyze", "-q", "--json", leak],
        &["kb", "list"],
        &["kb", "show", "Q192265"],
    ];
    for args in commands {
        let out = run_into_closed_pipe(args);
        let err = stderr_of(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} into a closed pipe: {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );

        let out = run_into_full_device(args);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?} into /dev/full: {err}");
        assert!(err.contains("No space left on device"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[cfg(unix)]
#[test]
fn links_in_the_output_folder_are_replaced_never_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("temp dir");
    let victim = dir.path().join("victim");
    std::fs::create_dir(&victim).expect("victim");
    std::fs::write(victim.join("holiday.png"), "not ours").expect("png");
    std::fs::write(victim.join("notes.txt"), "not ours").expect("txt");
    let before = tree(&victim);

    // A single report whose charts folder is a link out of -o.
    let single = dir.path().join("single");
    std::fs::create_dir(&single).expect("single");
    symlink(&victim, single.join("charts")).expect("link");
    let out = analyze(
        dir.path(),
        &[
            sample("winlogon-smtp-leak.csv").to_str().expect("path"),
            "-o",
            "single",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!single
        .join("charts")
        .symlink_metadata()
        .expect("charts")
        .file_type()
        .is_symlink());
    assert!(single.join("charts/winlogon-handle-count.png").is_file());

    // A batch whose log folder is a link out of -o.
    let batch = dir.path().join("batch");
    std::fs::create_dir(&batch).expect("batch");
    symlink(&victim, batch.join("winlogon-smtp-leak")).expect("link");
    let out = analyze(
        dir.path(),
        &[
            sample("winlogon-smtp-leak.csv").to_str().expect("path"),
            sample("healthy-server.csv").to_str().expect("path"),
            "-o",
            "batch",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(batch.join("winlogon-smtp-leak/report.html").is_file());
    assert_eq!(
        tree(&victim),
        before,
        "nothing written or deleted through the links"
    );
}

#[test]
fn report_folders_are_replaced_whole_one_writer_at_a_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let leak = sample("winlogon-smtp-leak.csv");
    let healthy = sample("healthy-server.csv");
    // A staging folder a killed run left (no process has this id) and a folder of someone's
    // own files where a report would go.
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(out_dir.join(".perfleak-4000000000-abcdef/charts")).expect("stale");
    std::fs::create_dir_all(dir.path().join("mine")).expect("mine");
    std::fs::write(dir.path().join("mine/thesis.tex"), "keep").expect("mine");

    let refused = analyze(dir.path(), &[healthy.to_str().expect("path"), "-o", "mine"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));
    assert!(stderr_of(&refused).contains("thesis.tex"));
    assert_eq!(tree(&dir.path().join("mine")), vec!["thesis.tex"]);

    // Runs racing into one folder: every result is one whole report.
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let log = if i % 2 == 0 { &leak } else { &healthy };
            Command::new(assert_cmd::cargo::cargo_bin("perfleak"))
                .current_dir(dir.path())
                .args(["analyze", "-q", "-o", "out/report"])
                .arg(log)
                .stderr(Stdio::piped())
                .spawn()
                .expect("runs")
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().expect("waits");
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
    let report = out_dir.join("report");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).expect("json"))
            .expect("json");
    let named: Vec<String> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["chart"].as_str().map(str::to_string))
        .chain(json["overview_chart"].as_str().map(str::to_string))
        .collect();
    for chart in &named {
        assert!(report.join(chart).is_file(), "{chart} named but missing");
    }
    let pngs = std::fs::read_dir(report.join("charts"))
        .expect("charts")
        .count();
    assert_eq!(
        pngs,
        named.len(),
        "charts of another run left beside this one"
    );
    let left: Vec<String> = tree(&out_dir)
        .into_iter()
        .filter(|p| p.contains(".perfleak-"))
        .collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_no_staging_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let logs: Vec<PathBuf> = (0..12)
        .map(|i| {
            let p = dir.path().join(format!("log{i}.csv"));
            std::fs::copy(sample("winlogon-smtp-leak.csv"), &p).expect("copy");
            p
        })
        .collect();
    for delay_ms in [300u64, 900] {
        let out_dir = dir.path().join(format!("out{delay_ms}"));
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("perfleak"))
            .args(["analyze", "-q", "-j", "2", "-o"])
            .arg(&out_dir)
            .args(&logs)
            .stderr(Stdio::null())
            .spawn()
            .expect("runs");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let status = child.wait().expect("waits");
        assert!(
            matches!(status.code(), Some(130) | Some(0)),
            "interrupted: {status:?}"
        );
        if out_dir.exists() {
            let left: Vec<String> = tree(&out_dir)
                .into_iter()
                .filter(|p| p.contains(".perfleak-"))
                .collect();
            assert!(left.is_empty(), "after {delay_ms} ms: {left:?}");
        }
    }
}

#[test]
fn a_pid_changing_at_every_sample_is_analysed_in_linear_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = 150_000usize;
    let mut text = String::with_capacity(rows * 60);
    text.push_str("\"(PDH-CSV 4.0) (Coordinated Universal Time)(0)\",\"\\\\S\\Process(app)\\Private Bytes\",\"\\\\S\\Process(app)\\ID Process\"\n");
    let start = 1_700_000_000i64;
    for i in 0..rows {
        let t = chrono::DateTime::from_timestamp(start + 15 * i as i64, 0)
            .expect("time")
            .naive_utc();
        // Two processes taking turns, each with a new PID every time it returns.
        text.push_str(&format!(
            "\"{}\",\"{}\",\"{}\"\n",
            t.format("%m/%d/%Y %H:%M:%S%.3f"),
            10_000_000 + (i % 2) * 1000 + i,
            1000 + i
        ));
    }
    std::fs::write(dir.path().join("churn.csv"), text).expect("log");
    let started = Instant::now();
    let out = analyze(dir.path(), &["--json", "churn.csv"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // Quadratic, this took minutes in release; linear, a few seconds in debug.
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[test]
fn names_cannot_run_escape_sequences_or_reorder_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Three control characters: more in a header and the reader takes the file for binary.
    let hostile = "evil\u{1b}]0;owned\u{7}\u{9b}2J\u{202e}gpj.exe";
    let text = std::fs::read_to_string(sample("winlogon-smtp-leak.csv"))
        .expect("sample")
        .replace(
            "Process(winlogon)\\Handle Count",
            &format!("Process({hostile})\\Handle Count"),
        );
    assert!(text.contains(hostile));
    std::fs::write(dir.path().join("names.csv"), &text).expect("log");
    let bad_name = "bad\u{1b}[2J\u{202e}.csv";
    std::fs::write(dir.path().join(bad_name), "not a log").expect("bad");

    let raw = |s: &str| s.contains('\u{1b}') || s.contains('\u{9b}') || s.contains('\u{202e}');
    let out = perfleak()
        .current_dir(dir.path())
        .args(["inspect", "names.csv"])
        .timeout(BOUND)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && !raw(&stdout), "{stdout}");
    assert!(stdout.contains("evil\\u{1b}]0;owned"), "{stdout}");

    for args in [
        &["inspect", "--json", "names.csv"][..],
        &["analyze", "-q", "--json", "names.csv"],
    ] {
        let out = perfleak()
            .current_dir(dir.path())
            .args(args)
            .timeout(BOUND)
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && !raw(&stdout), "{args:?}");
        assert!(stdout.contains("\\u009b"), "{args:?}: the same JSON value");
    }

    let out = analyze(dir.path(), &["names.csv", bad_name, "-o", "out"]);
    let err = stderr_of(&out);
    assert!(err.contains("\\u{1b}[2J") && !raw(&err), "{err}");
    for file in [
        "index.html",
        "summary.csv",
        "names/report.html",
        "names/summary.md",
        "names/report.json",
    ] {
        let body = std::fs::read_to_string(dir.path().join("out").join(file)).expect(file);
        assert!(!raw(&body), "{file} holds raw control characters");
        assert!(file == "index.html" || body.contains("evil"), "{file}");
    }
}

/// A tmpfs too small for a leaking log's report: the leak still sets the status --fail-on
/// promises (1), not the one for bad usage (2). Needs root to mount; skipped otherwise.
#[test]
fn a_leak_on_a_full_disk_exits_1_with_fail_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tiny = dir.path().join("tiny");
    let Some(_unmount) = cli_common::tiny_tmpfs(&tiny, "64k") else {
        return;
    };
    for fail_on in ["leak", "never"] {
        let out = perfleak()
            .args(["analyze", "-q", "--fail-on", fail_on])
            .arg(sample("winlogon-smtp-leak.csv"))
            .arg("-o")
            .arg(tiny.join("out"))
            .timeout(BOUND)
            .output()
            .expect("runs");
        let err = stderr_of(&out);
        let expected = if fail_on == "leak" { 1 } else { 2 };
        assert_eq!(
            out.status.code(),
            Some(expected),
            "--fail-on {fail_on}: {err}"
        );
        assert!(err.contains("No space left on device"), "{err}");
        let left = tree(&tiny);
        assert!(left.iter().all(|p| !p.contains(".perfleak-")), "{left:?}");
    }
}
