//! A hand-built log and analysis result for the report tests: the ingest and analysis stages
//! are built in parallel, so the tests describe a realistic case directly. SRV01 logged for
//! three days at 5-minute samples; winlogon leaks handles (Q192265), svchost#1 leaks memory
//! across a restart, a process with a hostile name grows, explorer is flat.

#![allow(dead_code)]

use chrono::{Duration, NaiveDate};
use perfleak::analysis::{Finding, Severity, TrendLine, Verdict};
use perfleak::ingest::{Column, CounterPath, LogFormat, PerfLog, SourceInfo};
use perfleak::kb::{ArticleKind, KbMatch, MatchStrength};
use perfleak::report::Report;
use perfleak::vocab::{Shape, Unit};

/// Keys every finding of report.json carries (CONTRACT.md, `schema_version` 1).
pub const CONTRACT_FINDING_FIELDS: [&str; 17] = [
    "process",
    "instance",
    "pids",
    "counter",
    "verdict",
    "confidence",
    "slope_per_hour",
    "slope_ci95",
    "r_squared",
    "p_value",
    "first",
    "last",
    "growth_percent",
    "segments",
    "limit",
    "time_to_limit_hours",
    "chart",
];

/// Keys of report.json's `source` block (CONTRACT.md).
pub const CONTRACT_SOURCE_FIELDS: [&str; 8] = [
    "path",
    "format",
    "machines",
    "start",
    "end",
    "utc_offset_minutes",
    "samples",
    "interval_seconds",
];

pub const HOSTILE: &str = "<script>alert(1)</script>";
pub const SAMPLES: usize = 865;
const MB: f64 = 1_048_576.0;

fn path(instance: &str, counter: &str) -> CounterPath {
    CounterPath {
        machine: Some("SRV01".into()),
        object: "Process".into(),
        parent: None,
        instance: Some(instance.into()),
        index: None,
        counter: counter.into(),
        original_object: "Process".into(),
        original_counter: counter.into(),
    }
}

/// Deterministic wiggle in -1..1, so tests need no random source.
fn wiggle(i: usize, k: f64) -> f64 {
    ((i as f64) * 0.7 * k).sin() * 0.6 + ((i as f64) * 0.131 + k).cos() * 0.4
}

pub fn sample_log() -> PerfLog {
    let start = NaiveDate::from_ymd_opt(2001, 8, 9)
        .and_then(|d| d.and_hms_milli_opt(10, 15, 30, 123))
        .expect("valid date");
    let timestamps: Vec<_> = (0..SAMPLES)
        .map(|i| start + Duration::minutes(5 * i as i64))
        .collect();
    let elapsed_seconds: Vec<f64> = (0..SAMPLES).map(|i| 300.0 * i as f64).collect();
    let hours = |i: usize| i as f64 / 12.0;

    let winlogon: Vec<f64> = (0..SAMPLES)
        .map(|i| (450.0 + 41.8 * hours(i) + 25.0 * wiggle(i, 1.0)).round())
        .collect();
    // svchost#1 restarts at sample 500 and leaks again from its start-up size.
    let svchost: Vec<f64> = (0..SAMPLES)
        .map(|i| {
            let (t0, base) = if i < 500 {
                (0.0, 300.0)
            } else {
                (hours(500), 310.0)
            };
            (base + 12.0 * (hours(i) - t0) + 4.0 * wiggle(i, 2.0)) * MB
        })
        .collect();
    let hostile: Vec<f64> = (0..SAMPLES)
        .map(|i| {
            if i == 100 {
                f64::NAN
            } else {
                (80.0 + 0.5 * hours(i) + 6.0 * wiggle(i, 3.0)).round()
            }
        })
        .collect();
    let explorer: Vec<f64> = (0..SAMPLES)
        .map(|i| (120.0 + 2.0 * wiggle(i, 4.0)) * MB)
        .collect();

    let columns = vec![
        Column {
            path: path("winlogon", "Handle Count"),
            values: winlogon.into(),
        },
        Column {
            path: path("svchost#1", "Private Bytes"),
            values: svchost.into(),
        },
        Column {
            path: path(HOSTILE, "Handle Count"),
            values: hostile.into(),
        },
        Column {
            path: path("explorer", "Private Bytes"),
            values: explorer.into(),
        },
    ];
    let mut all_paths: Vec<CounterPath> = columns.iter().map(|c| c.path.clone()).collect();
    all_paths.push(CounterPath {
        machine: Some("SRV01".into()),
        object: "SMTP Server".into(),
        parent: None,
        instance: Some("_Total".into()),
        index: None,
        counter: "Bytes Sent/sec".into(),
        original_object: "SMTP Server".into(),
        original_counter: "Bytes Sent/sec".into(),
    });

    PerfLog {
        source: SourceInfo {
            path: "logs/srv01.csv".into(),
            format: LogFormat::PdhCsv,
            encoding: "windows-1252".into(),
            encoding_reason: String::new(),
            time_zone: Some("Pacific Standard Time".into()),
            utc_offset_minutes: Some(-420),
            segments: vec!["logs/srv01.csv".into()],
            blg: None,
        },
        timestamps,
        elapsed_seconds,
        columns,
        all_paths,
        warnings: vec![format!(
            "logs/srv01.csv: line 102, column 4: blank value in {HOSTILE} Handle Count"
        )],
    }
}

fn base_finding(instance: &str, counter: &str, column: usize, unit: Unit) -> Finding {
    Finding {
        process: instance.split('#').next().unwrap_or(instance).to_string(),
        instance: instance.into(),
        counter: counter.into(),
        verdict: Verdict::Ok,
        confidence: 0.9,
        segments: 1,
        machine: Some("SRV01".into()),
        shape: Shape::Flat,
        samples: SAMPLES,
        span_hours: 72.0,
        unit,
        column,
        ..Finding::default()
    }
}

pub fn sample_findings() -> Vec<Finding> {
    let mut winlogon = base_finding("winlogon", "Handle Count", 0, Unit::Handles);
    winlogon.pids = vec![212];
    winlogon.verdict = Verdict::Leak;
    winlogon.confidence = 0.98;
    winlogon.slope_per_hour = Some(41.7);
    winlogon.slope_ci95 = Some([39.9, 43.5]);
    winlogon.r_squared = Some(0.96);
    winlogon.p_value = Some(1e-40);
    winlogon.q_value = Some(4e-40);
    winlogon.first = Some(450.0);
    winlogon.last = Some(3460.0);
    winlogon.growth_percent = Some(668.9);
    winlogon.limit = Some(16_777_216.0);
    winlogon.time_to_limit_hours = Some(402_000.0);
    winlogon.time_to_limit_ci_hours = Some([Some(385_000.0), Some(420_000.0)]);
    winlogon.severity = Some(Severity::Low);
    winlogon.ols_slope_per_hour = Some(41.8);
    winlogon.ols_slope_se = Some(0.2);
    winlogon.shape = Shape::Linear;
    winlogon.reasons = vec![
        "steady growth of 41.7 handles per hour over 3 days".into(),
        "no plateau, no cycle: the last quarter still grows".into(),
    ];
    winlogon.robust_fits = vec![TrendLine {
        start_hours: 0.0,
        end_hours: 72.0,
        intercept: 450.0,
        slope_per_hour: 41.7,
    }];
    winlogon.ols_fits = vec![TrendLine {
        start_hours: 0.0,
        end_hours: 72.0,
        intercept: 448.0,
        slope_per_hour: 41.8,
    }];

    let mut svchost = base_finding("svchost#1", "Private Bytes", 1, Unit::Bytes);
    svchost.pids = vec![800, 912];
    svchost.verdict = Verdict::Leak;
    svchost.confidence = 0.91;
    svchost.slope_per_hour = Some(12.0 * MB);
    svchost.slope_ci95 = Some([11.2 * MB, 12.9 * MB]);
    svchost.r_squared = Some(0.93);
    svchost.p_value = Some(3e-22);
    svchost.first = Some(300.0 * MB);
    svchost.last = Some(622.0 * MB);
    svchost.growth_percent = Some(107.3);
    svchost.segments = 2;
    svchost.restarts = vec![500];
    svchost.limit = Some(2048.0 * MB);
    svchost.time_to_limit_hours = Some(118.8);
    svchost.time_to_limit_ci_hours = Some([Some(110.0), Some(127.3)]);
    svchost.severity = Some(Severity::High);
    svchost.ols_slope_per_hour = Some(12.05 * MB);
    svchost.ols_slope_se = Some(0.05 * MB);
    svchost.shape = Shape::RestartMasked;
    svchost.reasons = vec!["2 lifetimes agree: both grow about 12 MB per hour".into()];
    let restart_h = 500.0 / 12.0;
    svchost.robust_fits = vec![
        TrendLine {
            start_hours: 0.0,
            end_hours: 499.0 / 12.0,
            intercept: 300.0 * MB,
            slope_per_hour: 12.0 * MB,
        },
        TrendLine {
            start_hours: restart_h,
            end_hours: 72.0,
            intercept: (310.0 - 12.0 * restart_h) * MB,
            slope_per_hour: 12.0 * MB,
        },
    ];
    svchost.ols_fits = svchost.robust_fits.clone();

    let mut hostile = base_finding(HOSTILE, "Handle Count", 2, Unit::Handles);
    hostile.pids = vec![4242];
    hostile.verdict = Verdict::Suspect;
    hostile.confidence = 0.55;
    hostile.slope_per_hour = Some(0.5);
    hostile.slope_ci95 = Some([0.1, 0.9]);
    hostile.r_squared = Some(0.31);
    hostile.p_value = Some(0.02);
    hostile.first = Some(80.0);
    hostile.last = Some(116.0);
    hostile.growth_percent = Some(45.0);
    hostile.limit = Some(16_777_216.0);
    hostile.time_to_limit_hours = Some(f64::INFINITY);
    hostile.time_to_limit_ci_hours = Some([Some(f64::NAN), None]);
    hostile.shape = Shape::Linear;
    hostile.reasons = vec![format!(
        "weak growth in {HOSTILE}: confirm with a longer log"
    )];
    hostile.robust_fits = vec![TrendLine {
        start_hours: 0.0,
        end_hours: 72.0,
        intercept: 80.0,
        slope_per_hour: 0.5,
    }];

    let mut explorer = base_finding("explorer", "Private Bytes", 3, Unit::Bytes);
    explorer.pids = vec![1500];
    explorer.confidence = 0.8;
    explorer.slope_per_hour = Some(0.0);
    explorer.p_value = Some(0.61);
    explorer.first = Some(120.0 * MB);
    explorer.last = Some(121.0 * MB);
    explorer.min_detectable_slope_per_hour = Some(0.3 * MB);

    let mut short = base_finding("notepad", "Handle Count", 99, Unit::Handles);
    short.verdict = Verdict::InsufficientData;
    short.confidence = f64::NAN;
    short.samples = 3;
    short.span_hours = 0.2;

    // Deliberately not in worst-first order: Report::new must sort.
    vec![explorer, hostile, short, svchost, winlogon]
}

pub fn sample_kb() -> Vec<KbMatch> {
    vec![
        KbMatch {
            id: "Q192265".into(),
            title: "Winlogon leaks because of SMTPSVC performance counters".into(),
            score: 0.93,
            processes: vec!["winlogon".into()],
            evidence: vec![
                "winlogon Handle Count: leak, +41.7/h".into(),
                "object 'SMTP Server' present in the log".into(),
            ],
            fix: "Windows NT 4.0 Service Pack 4".into(),
            strength: MatchStrength::Likely,
            kind: ArticleKind::Bug,
            windows: vec!["NT 4.0".into()],
        },
        KbMatch {
            id: "Q258132".into(),
            title: "Memory leak in svchost when <b>WMI</b> polls".into(),
            score: 0.41,
            processes: vec!["svchost".into()],
            evidence: vec!["svchost#1 Private Bytes: leak".into()],
            fix: "Install the hotfix & restart".into(),
            strength: MatchStrength::Possible,
            kind: ArticleKind::Bug,
            windows: vec!["2003".into()],
        },
    ]
}

pub fn sample_report() -> (Report, PerfLog) {
    let log = sample_log();
    let report = Report::new(&log, sample_findings(), sample_kb());
    (report, log)
}
