//! The report stage end to end on a hand-built log: every file is written, the JSON keeps the
//! contract, the HTML names the KB article and escapes hostile names, the charts are real
//! pictures, and no temp file is left behind.

use crate::report_fixture;

use std::collections::HashSet;
use std::path::Path;

use perfleak::analysis::Verdict;
use perfleak::report::{to_json, to_json_line, write_report_dir, CHART_HEIGHT, CHART_WIDTH};
use report_fixture::{sample_report, CONTRACT_FINDING_FIELDS, HOSTILE};
use serde_json::Value;

fn written_report() -> (tempfile::TempDir, perfleak::report::Report) {
    let (mut report, log) = sample_report();
    let dir = tempfile::tempdir().expect("temp dir");
    write_report_dir(&mut report, &log, dir.path()).expect("report written");
    (dir, report)
}

/// Every file name under `dir`, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(dir)
                        .expect("inside")
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}

/// Decodes a PNG, returning its size and the number of distinct colours.
fn png_facts(bytes: &[u8]) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    let channels = info.color_type.samples();
    let colours: HashSet<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    (info.width, info.height, colours.len())
}

#[test]
fn writes_every_file_and_no_temp_files() {
    let (dir, report) = written_report();
    let files = listing(dir.path());
    assert_eq!(
        files,
        vec![
            "charts/overview.png",
            "charts/script-alert-1-script-handle-count.png",
            "charts/svchost-1-private-bytes.png",
            "charts/winlogon-handle-count.png",
            "report.html",
            "report.json",
            "summary.md",
        ]
    );
    assert_eq!(
        report.overview_chart.as_deref(),
        Some("charts/overview.png")
    );
}

#[test]
fn json_follows_the_contract() {
    let (dir, report) = written_report();
    let text = std::fs::read_to_string(dir.path().join("report.json")).expect("report.json");
    assert_eq!(text.trim_end(), to_json(&report));
    let v: Value = serde_json::from_str(&text).expect("valid JSON");

    assert_eq!(v["schema_version"], 1);
    assert!(v["tool"].as_str().expect("tool").starts_with("perfleak "));
    let s = &v["source"];
    assert_eq!(s["path"], "logs/srv01.csv");
    assert_eq!(s["format"], "pdh-csv");
    assert_eq!(s["machines"], serde_json::json!(["SRV01"]));
    assert_eq!(s["start"], "2001-08-09T10:15:30.123");
    assert_eq!(s["end"], "2001-08-12T10:15:30.123");
    assert_eq!(s["utc_offset_minutes"], -420);
    assert_eq!(s["samples"], 865);
    assert_eq!(s["interval_seconds"], 300.0);

    let findings = v["findings"].as_array().expect("findings array");
    assert_eq!(findings.len(), 5, "every series, whatever its verdict");
    let order: Vec<&str> = findings
        .iter()
        .map(|f| f["instance"].as_str().expect("instance"))
        .collect();
    assert_eq!(
        order,
        vec!["winlogon", "svchost#1", HOSTILE, "explorer", "notepad"]
    );

    let w = &findings[0];
    for key in CONTRACT_FINDING_FIELDS {
        assert!(w.get(key).is_some(), "finding lacks {key}");
    }
    assert_eq!(w["process"], "winlogon");
    assert_eq!(w["pids"], serde_json::json!([212]));
    assert_eq!(w["counter"], "Handle Count");
    assert_eq!(w["verdict"], "leak");
    assert!(w["confidence"].is_f64());
    assert_eq!(w["slope_ci95"], serde_json::json!([39.9, 43.5]));
    assert_eq!(w["p_value"], 1e-40);
    assert!(w["segments"].is_u64());
    assert_eq!(w["limit"], 16_777_216.0);
    assert_eq!(w["chart"], "charts/winlogon-handle-count.png");

    // Charts only for flagged series; missing and non-finite values are null.
    assert_eq!(findings[2]["verdict"], "suspect");
    assert_eq!(
        findings[2]["chart"],
        "charts/script-alert-1-script-handle-count.png"
    );
    assert!(
        findings[2]["time_to_limit_hours"].is_null(),
        "infinity must become null"
    );
    assert_eq!(
        findings[2]["time_to_limit_ci_hours"],
        serde_json::json!([null, null])
    );
    assert!(findings[3]["chart"].is_null());
    assert!(findings[3]["slope_ci95"].is_null());
    assert_eq!(findings[4]["verdict"], "insufficient-data");
    assert!(findings[4]["confidence"].is_null(), "NaN must become null");

    let kb = v["kb_matches"].as_array().expect("kb_matches");
    assert_eq!(kb[0]["id"], "Q192265");
    assert_eq!(kb[0]["processes"], serde_json::json!(["winlogon"]));
    assert!(kb[0]["score"].as_f64().expect("score") > kb[1]["score"].as_f64().expect("score"));
    assert!(kb[0]["evidence"].as_array().is_some_and(|e| !e.is_empty()));
    assert_eq!(kb[0]["fix"], "Windows NT 4.0 Service Pack 4");
    assert!(v["warnings"].as_array().is_some_and(|w| w.len() == 1));
    assert!(
        !text.contains("NaN") && !text.contains("inf"),
        "non-finite numbers leaked into JSON"
    );
}

#[test]
fn json_line_is_one_line_with_the_same_content() {
    let (report, _) = sample_report();
    let line = to_json_line(&report);
    assert!(!line.contains('\n'));
    let a: Value = serde_json::from_str(&line).expect("line parses");
    let b: Value = serde_json::from_str(&to_json(&report)).expect("pretty parses");
    assert_eq!(a, b);
}

#[test]
fn html_names_the_kb_article_and_escapes_the_log() {
    let (dir, _) = written_report();
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("report.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Q192265"));
    assert!(
        html.contains("winlogon (PID 212) leaks Handle Count</p>"),
        "headline first"
    );
    assert!(
        html.contains("at this rate it never reaches its limit"),
        "infinite time to limit reads as never"
    );
    assert!(html.contains("Windows NT 4.0 Service Pack 4"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !html.contains(HOSTILE),
        "hostile instance name reached the HTML unescaped"
    );
    assert!(
        html.contains("&lt;b&gt;WMI&lt;/b&gt;"),
        "KB title is escaped too"
    );
    // The verdict comes before the per-process sections and the full table.
    let verdict = html.find("id=\"verdict\"").expect("verdict section");
    let process = html.find("id=\"process-1\"").expect("process section");
    let table = html.find("id=\"all-series\"").expect("table");
    let facts = html.find("id=\"log\"").expect("log facts");
    assert!(verdict < process && process < table && table < facts);
    // Three flagged series and the overview, all inline.
    assert_eq!(html.matches("src=\"data:image/png;base64,").count(), 4);
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "src=\"charts/",
        "<link",
    ] {
        assert!(!html.contains(external), "external reference {external}");
    }
    assert!(html.contains("windows-1252") && html.contains("Pacific Standard Time (UTC-07:00)"));
}

#[test]
fn markdown_summary_is_verdict_first_and_escaped() {
    let (dir, _) = written_report();
    let md = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary.md");
    let first_line = md.lines().next().expect("a line");
    assert_eq!(
        first_line,
        "### perfleak: winlogon (PID 212) leaks Handle Count on SRV01"
    );
    assert!(md.contains("Q192265") && md.contains("**Fix:** Windows NT 4.0 Service Pack 4"));
    assert!(
        md.contains("| winlogon | Handle Count | leak | 98% | +41.7 handles/h |"),
        "{md}"
    );
    assert!(md.contains(r"\<script\>alert(1)\</script\>"));
    assert!(!md.contains(HOSTILE));
}

#[test]
fn charts_are_real_pictures() {
    let (dir, report) = written_report();
    for f in report
        .findings
        .iter()
        .filter(|f| matches!(f.verdict, Verdict::Leak | Verdict::Suspect))
    {
        let rel = f.chart.as_deref().expect("flagged series has a chart");
        let bytes = std::fs::read(dir.path().join(rel)).expect("chart file");
        let (w, h, colours) = png_facts(&bytes);
        assert_eq!((w, h), (CHART_WIDTH, CHART_HEIGHT), "{rel}");
        // Text, lines, legend and band need anti-aliased shades: a blank or one-line image has few.
        assert!(colours > 50, "{rel} has only {colours} colours");
    }
    let (_, _, colours) =
        png_facts(&std::fs::read(dir.path().join("charts/overview.png")).expect("overview"));
    assert!(colours > 50);
}

#[test]
fn a_series_that_cannot_be_drawn_costs_only_its_chart() {
    let (mut report, log) = sample_report();
    report.findings[0].column = 1234;
    let dir = tempfile::tempdir().expect("temp dir");
    write_report_dir(&mut report, &log, dir.path()).expect("report written");
    assert!(report.findings[0].chart.is_none());
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("chart for winlogon Handle Count not drawn")));
    assert!(report.findings[1].chart.is_some());
}

#[test]
fn rewriting_a_report_folder_replaces_it_whole() {
    let (mut report, log) = sample_report();
    let dir = tempfile::tempdir().expect("temp dir");
    write_report_dir(&mut report, &log, dir.path()).expect("first run");
    let before = listing(dir.path());
    write_report_dir(&mut report, &log, dir.path()).expect("second run");
    assert_eq!(
        listing(dir.path()),
        before,
        "no temp or duplicate files after a rerun"
    );
}

#[test]
fn unwritable_destination_is_an_error_not_a_panic() {
    let (mut report, log) = sample_report();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").expect("file");
    let err = write_report_dir(&mut report, &log, &file).expect_err("cannot write into a file");
    assert!(format!("{err:#}").contains("not-a-folder"), "{err:#}");
}

#[test]
fn a_log_without_findings_still_gets_a_whole_report() {
    let log = report_fixture::sample_log();
    let mut report = perfleak::report::Report::new(&log, Vec::new(), Vec::new());
    let dir = tempfile::tempdir().expect("temp dir");
    write_report_dir(&mut report, &log, dir.path()).expect("report written");
    assert_eq!(
        listing(dir.path()),
        vec!["report.html", "report.json", "summary.md"]
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("html");
    // Nothing analysed is not judged, never a green all-clear.
    assert!(html.contains("Not judged") && html.contains("verdict unjudged"));
    assert!(!html.contains("No leak found"));
    let md = std::fs::read_to_string(dir.path().join("summary.md")).expect("md");
    assert!(
        md.starts_with("### perfleak: not judged (too little data) on SRV01"),
        "{md}"
    );
    let json = std::fs::read_to_string(dir.path().join("report.json")).expect("json");
    assert!(json.contains("\"status\": \"not-judged\""), "{json}");
}

/// Awkward series must give a chart or a warning, never a panic.
#[test]
fn awkward_series_never_panic() {
    let (mut report, mut log) = sample_report();
    let n = log.timestamps.len();
    let awkward: Vec<Vec<f64>> = vec![
        vec![f64::NAN; n], // nothing to draw
        (0..n)
            .map(|i| if i == 7 { 42.0 } else { f64::NAN })
            .collect(), // one value
        vec![7.0; n],      // flat
        (0..n)
            .map(|i| if i % 2 == 0 { f64::INFINITY } else { 1e300 })
            .collect(),
        (0..n).map(|i| -(i as f64)).collect(), // negative
        vec![1.0; 3],                          // shorter than the timeline
    ];
    let template = report.findings[0].clone();
    report.findings.clear();
    for (k, values) in awkward.into_iter().enumerate() {
        let column = log.columns.len();
        let mut path = log.columns[0].path.clone();
        path.instance = Some(format!("odd{k}"));
        log.columns.push(perfleak::ingest::Column {
            path,
            values: values.into(),
        });
        let mut f = template.clone();
        f.instance = format!("odd{k}");
        f.column = column;
        f.restarts = vec![0, 5, n + 10];
        f.time_to_limit_hours = Some([1e-6, 0.5, 1e9, f64::NAN, -3.0, 2.0][k]);
        f.time_to_limit_ci_hours = Some([Some(0.0), Some(f64::INFINITY)]);
        f.limit = Some([1.0, 1e308, 7.0, f64::NAN, 0.0, 10.0][k]);
        f.robust_fits[0].slope_per_hour = [f64::NAN, 1e308, 0.0, 1.0, -1.0, 1.0][k];
        report.findings.push(f);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    write_report_dir(&mut report, &log, dir.path()).expect("report written");
    assert!(
        report.findings[0].chart.is_none(),
        "an all-blank series has nothing to draw"
    );
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("odd0") && w.contains("no values")));
    for f in &report.findings[1..] {
        let rel = f
            .chart
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no chart: {:?}", f.instance, report.warnings));
        let (w, h, _) = png_facts(&std::fs::read(dir.path().join(rel)).expect("chart"));
        assert_eq!((w, h), (CHART_WIDTH, CHART_HEIGHT));
    }
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report.json")).expect("json"),
    )
    .expect("valid JSON despite NaN and infinities");
    assert!(v["findings"][3]["limit"].is_null());
}

/// Everything a log can put into the documents (machine, path, segments, warnings, object
/// names quoted by KB evidence) arrives as text, never as markup.
#[test]
fn every_log_derived_text_is_escaped_in_html_markdown_and_index() {
    const IMG: &str = "<img src=x onerror=alert(1)>";
    const SVG: &str = "<svg onload=alert(2)>";
    let (mut report, log) = sample_report();
    report.source.machines = vec![format!("SRV{IMG}")];
    report.source.path = format!("logs/{SVG}.csv");
    report.source.segments = vec![format!("logs/{SVG}.csv"), format!("logs/{IMG}.csv")];
    report.warnings.push(format!("line 7: odd cell {IMG}"));
    report.findings[0].machine = Some(format!("SRV{SVG}"));
    report.kb_matches[0]
        .evidence
        .insert(0, format!("object '{SVG}' present in the log"));
    let dir = tempfile::tempdir().expect("temp dir");
    write_report_dir(&mut report, &log, dir.path()).expect("report written");

    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("html");
    let md = std::fs::read_to_string(dir.path().join("summary.md")).expect("md");
    let index = perfleak::batch::render_index(
        &[perfleak::batch::LogOutcome {
            folder: "srv01".into(),
            report: report.clone(),
        }],
        &[perfleak::batch::InputFailure {
            input: format!("{IMG}.csv"),
            error: perfleak::batch::FailureCause::Read(perfleak::ingest::IngestError::Input {
                file: format!("{IMG}.csv"),
                message: format!("cannot read {SVG}"),
            }),
        }],
    );
    for (name, text) in [("report.html", &html), ("index.html", &index)] {
        assert!(
            !text.contains("<img src=x") && !text.contains("<svg"),
            "{name}"
        );
        assert!(
            text.contains("&lt;svg onload=alert(2)&gt;"),
            "{name} shows the text"
        );
    }
    assert!(html.contains("SRV&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("object &#39;&lt;svg onload=alert(2)&gt;&#39; present in the log"));
    assert!(html.contains("line 7: odd cell &lt;img"));
    // Markdown passes raw HTML through: every `<` must come escaped.
    assert!(
        md.match_indices('<')
            .all(|(at, _)| md[..at].ends_with('\\')),
        "{md}"
    );
    assert!(
        md.contains(r"object '\<svg onload=alert(2)\>' present in the log"),
        "{md}"
    );
    assert!(md.contains(r"on SRV\<img src=x onerror=alert(1)\>"), "{md}");
}

#[test]
fn batch_summary_has_a_row_per_series_and_no_non_finite_numbers() {
    let (report, _) = sample_report();
    let frame = perfleak::batch::summary_frame(&[&report, &report]).expect("frame");
    assert_eq!(frame.height(), 2 * report.findings.len());
    let confidence = frame.column("confidence").expect("confidence column");
    // The insufficient-data series has a NaN confidence in the fixture.
    assert_eq!(confidence.null_count(), 2, "NaN becomes an empty cell");
    let ttl = frame.column("time_to_limit_hours").expect("ttl column");
    assert!(
        ttl.null_count() >= 2,
        "infinite time to limit becomes an empty cell"
    );
    let top_kb = frame.column("top_kb").expect("top_kb column");
    assert_eq!(top_kb.get(0).expect("row 0").to_string(), "\"Q192265\"");
}

/// Writing a report deletes nothing it did not write: an earlier report's charts go with the
/// whole folder the batch swaps in (src/batch/place.rs, tested in tests/cli/hostile_out.rs).
#[test]
fn a_rerun_into_a_folder_deletes_nothing_it_did_not_write() {
    let (dir, _) = written_report();
    let before = listing(dir.path());
    assert!(before.contains(&"charts/winlogon-handle-count.png".to_string()));
    std::fs::write(dir.path().join("charts/notes.txt"), b"mine").expect("user file");
    let (mut report, log) = sample_report();
    report.findings.retain(|f| f.instance != "winlogon");
    write_report_dir(&mut report, &log, dir.path()).expect("second report");
    let after = listing(dir.path());
    assert!(after.contains(&"charts/winlogon-handle-count.png".to_string()));
    assert!(after.contains(&"charts/svchost-1-private-bytes.png".to_string()));
    assert!(after.contains(&"charts/notes.txt".to_string()));
    let json = std::fs::read_to_string(dir.path().join("report.json")).expect("json");
    assert!(
        !json.contains("winlogon-handle-count.png"),
        "the new report names its own charts"
    );
}

#[test]
fn a_log_with_hundreds_of_leaks_gets_charts_for_the_worst_only() {
    let (mut report, log) = sample_report();
    let template = report
        .findings
        .iter()
        .find(|f| f.verdict == Verdict::Leak)
        .expect("fixture has a leak")
        .clone();
    for n in 0..(perfleak::report::MAX_SERIES_CHARTS + 25) {
        let mut extra = template.clone();
        extra.instance = format!("leaker{n}");
        extra.process = format!("leaker{n}");
        report.findings.push(extra);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    write_report_dir(&mut report, &log, dir.path()).expect("report written");
    let charted = report.findings.iter().filter(|f| f.chart.is_some()).count();
    assert_eq!(charted, perfleak::report::MAX_SERIES_CHARTS);
    let pngs = std::fs::read_dir(dir.path().join("charts"))
        .expect("charts")
        .count();
    assert_eq!(
        pngs,
        perfleak::report::MAX_SERIES_CHARTS + 1,
        "plus the overview"
    );
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("worst") && w.contains("flagged series")));
}
