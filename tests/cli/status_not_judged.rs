//! "Not judged" is not "no leak": a log too short to judge, or one without any series perfleak
//! analyses, gets the status `not-judged` everywhere a person or a script looks (report.json,
//! report.html, summary.md, index.html, summary.csv, the terminal), never the healthy green,
//! and `--fail-on not-judged` fails on it.

use crate::cli_common;

use cli_common::{perfleak, sample};

/// The first `rows` samples of a bundled log.
fn head_of(name: &str, rows: usize) -> String {
    let text = std::fs::read_to_string(sample(name)).unwrap();
    text.lines().take(rows + 1).collect::<Vec<_>>().join("\n") + "\n"
}

/// A log with only processor counters: nothing perfleak analyses.
fn processor_only() -> String {
    let mut text = String::from(
        "\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\SRV\\Processor(_Total)\\% Processor Time\"\n",
    );
    for hour in 0..48 {
        text += &format!(
            "\"03/{:02}/2024 {:02}:00:00.000\",\"{}\"\n",
            1 + hour / 24,
            hour % 24,
            5 + hour % 3
        );
    }
    text
}

fn status_of(path: &std::path::Path) -> String {
    let out = perfleak()
        .args(["analyze", "--json"])
        .arg(path)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["status"].as_str().unwrap().to_string()
}

#[test]
fn each_log_gets_its_status() {
    let dir = tempfile::tempdir().unwrap();
    // 15 minutes (three 5-minute samples) of the leaking winlogon server.
    let short = dir.path().join("short.csv");
    std::fs::write(&short, head_of("winlogon-smtp-leak.csv", 3)).unwrap();
    let cpu = dir.path().join("cpu-only.csv");
    std::fs::write(&cpu, processor_only()).unwrap();
    assert_eq!(status_of(&short), "not-judged");
    assert_eq!(status_of(&cpu), "not-judged");
    assert_eq!(status_of(&sample("healthy-server.csv")), "no-leak");
    assert_eq!(status_of(&sample("winlogon-smtp-leak.csv")), "leak");
}

#[test]
fn not_judged_shows_grey_everywhere_and_fails_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("short.csv"),
        head_of("winlogon-smtp-leak.csv", 3),
    )
    .unwrap();
    std::fs::copy(sample("healthy-server.csv"), dir.path().join("healthy.csv")).unwrap();
    let run = |fail_on: &str| {
        perfleak()
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args([
                "analyze",
                "-q",
                "--fail-on",
                fail_on,
                "short.csv",
                "healthy.csv",
                "-o",
                "out",
            ])
            .output()
            .unwrap()
    };
    // Neither log leaks: --fail-on leak passes, --fail-on not-judged does not.
    assert_eq!(run("leak").status.code(), Some(0));
    let out = run("not-judged");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 not judged, 1 without leak"), "{stderr}");

    let index = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    // Ranked before the healthy log, in grey, never "no leak found".
    let short_row = index.find("short.csv").unwrap();
    assert!(short_row < index.find("healthy.csv").unwrap());
    let row = &index[short_row..index[short_row..].find("</tr>").unwrap() + short_row];
    assert!(row.contains("class=\"unjudged\">not-judged"), "{row}");
    assert!(!row.contains("no leak found"), "{row}");

    let summary = std::fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    assert!(
        summary.lines().next().unwrap().contains(",status,"),
        "{summary}"
    );
    assert!(summary
        .lines()
        .filter(|l| l.starts_with("short.csv,"))
        .all(|l| status_cell(&summary, l) == "not-judged"));

    let html = std::fs::read_to_string(dir.path().join("out/short/report.html")).unwrap();
    assert!(html.contains("verdict unjudged") && html.contains("Collect at least 3 hours"));
    let md = std::fs::read_to_string(dir.path().join("out/short/summary.md")).unwrap();
    assert!(md.starts_with("### perfleak: not judged"), "{md}");
}

#[test]
fn a_log_with_nothing_to_analyse_still_has_its_summary_row() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cpu.csv"), processor_only()).unwrap();
    std::fs::copy(sample("healthy-server.csv"), dir.path().join("healthy.csv")).unwrap();
    let out = perfleak()
        .current_dir(dir.path())
        .args(["analyze", "-q", "cpu.csv", "healthy.csv", "-o", "out"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary = std::fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    let rows: Vec<&str> = summary
        .lines()
        .filter(|l| l.starts_with("cpu.csv,"))
        .collect();
    assert_eq!(rows.len(), 1, "{summary}");
    assert_eq!(status_cell(&summary, rows[0]), "not-judged", "{}", rows[0]);
}

/// The `status` cell of a summary.csv row (no cell of these logs holds a comma).
fn status_cell<'a>(summary: &str, row: &'a str) -> &'a str {
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "status").unwrap();
    row.split(',').nth(at).unwrap()
}
