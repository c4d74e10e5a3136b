//! The report stage on logs the whole pipeline has read and analysed: the committed winlogon
//! sample, and the real six-segment capture in `../shared/realdata/` (skipped when absent),
//! whose Chinese and spaced instance names must still give safe, unique chart files.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use perfleak::analysis::Verdict;
use perfleak::ingest::{self, ReadOptions};
use perfleak::kb::Catalogue;
use perfleak::report::{escape_html, write_report_dir, Report};
use serde_json::Value;

fn report_for(paths: &[PathBuf]) -> (Report, perfleak::ingest::PerfLog) {
    let logs: Vec<_> = paths
        .iter()
        .map(|p| ingest::read_file(p, &ReadOptions::default()).expect("log reads"))
        .collect();
    let mut joined = ingest::join_segments(logs);
    assert_eq!(joined.len(), 1, "one timeline");
    let log = joined.remove(0);
    let report = perfleak::batch::analyze_log(&log, &Catalogue::builtin());
    (report, log)
}

/// Writes the report and checks what must hold whatever the analysis concluded.
fn check_written(report: &mut Report, log: &perfleak::ingest::PerfLog) -> (String, Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_report_dir(report, log, dir.path()).expect("report written");
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("html");
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report.json")).expect("json"),
    )
    .expect("valid JSON");
    assert_eq!(
        json["findings"].as_array().map(Vec::len),
        Some(report.findings.len())
    );

    let mut charts = HashSet::new();
    for f in &report.findings {
        let flagged = matches!(f.verdict, Verdict::Leak | Verdict::Suspect);
        assert_eq!(f.chart.is_some(), flagged, "{} {}", f.instance, f.counter);
        if let Some(rel) = &f.chart {
            assert!(charts.insert(rel.clone()), "chart file {rel} used twice");
            let name = rel.strip_prefix("charts/").expect("in charts/");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'),
                "unsafe file name {name}"
            );
            let bytes = std::fs::read(dir.path().join(rel)).expect("chart file");
            let reader = png::Decoder::new(bytes.as_slice())
                .read_info()
                .expect("PNG");
            assert_eq!(reader.info().width, perfleak::report::CHART_WIDTH);
            assert!(html.contains(&escape_html(&f.instance)));
        }
    }
    for folder in [dir.path().to_path_buf(), dir.path().join("charts")] {
        for leftover in std::fs::read_dir(&folder).expect("dir") {
            let name = leftover.expect("entry").file_name();
            assert!(
                !name.to_string_lossy().starts_with(".perfleak-"),
                "temp file left: {name:?}"
            );
        }
    }
    (html, json)
}

#[test]
fn committed_winlogon_sample_reports_whole() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/winlogon-smtp-leak.csv");
    if !sample.is_file() {
        eprintln!("skipping: {} not found", sample.display());
        return;
    }
    let (mut report, log) = report_for(&[sample]);
    let (html, json) = check_written(&mut report, &log);
    // The sample is the Q192265 situation: the verdict section names that article as the
    // cause before any process is discussed.
    let cause = report.likely_cause().expect("a likely cause");
    assert_eq!(cause.id, "Q192265");
    let named = html
        .find("Likely cause: Q192265")
        .expect("cause in the verdict");
    let first_process = html.find("id=\"process-1\"").expect("winlogon's section");
    assert!(named < first_process);
    assert_eq!(json["kb_matches"][0]["id"], "Q192265");
    assert_eq!(json["kb_matches"][0]["strength"], "likely");
}

#[test]
fn real_six_segment_capture_reports_whole() {
    let shared = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/realdata"));
    if !shared.is_dir() {
        eprintln!("skipping: {} not found", shared.display());
        return;
    }
    let paths: Vec<PathBuf> = (434..=439)
        .map(|n| shared.join(format!("ysu_CN_process_pb_hc_000{n}.csv")))
        .collect();
    if !paths.iter().all(|p| p.is_file()) {
        eprintln!("skipping: ysu segments not all present");
        return;
    }
    let (mut report, log) = report_for(&paths);
    assert!(!report.findings.is_empty());
    let (html, json) = check_written(&mut report, &log);
    assert_eq!(json["source"]["machines"][0], "DESKTOP-5GTCQEM");
    assert!(html.contains("DESKTOP-5GTCQEM"));
    assert!(html.contains("Clash for Windows"));
}
