//! Properties of the synthetic log generator: determinism by seed, PDH-CSV text shape, labels
//! consistent with the written values, blanks for absent instances, `#N` renumbering.

use chrono::{NaiveDate, NaiveDateTime};
use perfleak_synth::{
    benchmark_logs, log_plan, log_seed, Family, GeneratedLog, Lifetime, LogSpec, ServiceCounter,
    ServiceSpec, Split, Truth,
};

fn parse(text: &[u8]) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text);
    reader
        .records()
        .map(|r| {
            r.expect("generated CSV parses")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

fn column<'a>(rows: &'a [Vec<String>], path: &str) -> Vec<&'a str> {
    let i = rows[0]
        .iter()
        .position(|h| h == path)
        .unwrap_or_else(|| panic!("no column {path}"));
    rows[1..].iter().map(|r| r[i].as_str()).collect()
}

fn first_logs(split: Split, n: usize) -> Vec<GeneratedLog> {
    benchmark_logs(split, 0.004).take(n).collect()
}

#[test]
fn same_seed_same_bytes_and_splits_differ() {
    let a: Vec<Vec<u8>> = first_logs(Split::Test, 3)
        .iter()
        .map(GeneratedLog::to_csv_bytes)
        .collect();
    let b: Vec<Vec<u8>> = first_logs(Split::Test, 3)
        .iter()
        .map(GeneratedLog::to_csv_bytes)
        .collect();
    assert_eq!(a, b);
    let tune: Vec<Vec<u8>> = first_logs(Split::Tune, 3)
        .iter()
        .map(GeneratedLog::to_csv_bytes)
        .collect();
    assert_ne!(a, tune);
    for i in 0..1000u64 {
        assert_ne!(log_seed(Split::Test, 1, i), log_seed(Split::Tune, 1, i));
        assert_ne!(
            log_seed(Split::Test, 1, i) >> 48,
            log_seed(Split::Tune, 1, i) >> 48
        );
    }
}

#[test]
fn plan_meets_family_quotas() {
    let plan = log_plan(Split::Test, 1.0, 1);
    for f in Family::ALL {
        let n = plan.iter().flatten().filter(|x| **x == f).count();
        assert_eq!(n, if f.is_leak() { 3000 } else { 2000 }, "{f:?}");
    }
    assert!(plan.iter().all(|log| !log.is_empty() && log.len() <= 12));
    // Short logs never share a log with long-log families (duration is per log).
    assert!(plan
        .iter()
        .all(|log| log.iter().all(|f| *f == Family::ShortLog) || !log.contains(&Family::ShortLog)));
}

#[test]
fn text_is_quoted_pdh_csv_with_crlf() {
    for log in first_logs(Split::Tune, 4) {
        let text = log.to_csv_bytes();
        let s = String::from_utf8(text.clone()).expect("ASCII text");
        assert!(s.starts_with("\"(PDH-CSV 4.0) ("), "{}", &s[..40]);
        let header_cell = s.split("\",\"").next().unwrap_or("");
        assert!(
            header_cell.ends_with(&format!(")({})", log.spec.bias_minutes)),
            "{header_cell}"
        );
        let lines: Vec<&str> = s.split("\r\n").collect();
        assert_eq!(lines.last(), Some(&""), "ends with CRLF");
        assert!(!s.replace("\r\n", "").contains('\n'), "no bare LF");
        let rows = parse(&text);
        assert_eq!(rows.len(), log.spec.samples + 1);
        for (line, row) in lines.iter().zip(&rows) {
            assert!(line.starts_with('"') && line.ends_with('"'));
            // Every field quoted: the quoted separators count the fields.
            assert_eq!(line.matches("\",\"").count() + 1, row.len());
            assert_eq!(row.len(), rows[0].len());
        }
        let mut previous: Option<NaiveDateTime> = None;
        for row in &rows[1..] {
            let t =
                NaiveDateTime::parse_from_str(&row[0], "%m/%d/%Y %H:%M:%S%.3f").expect("timestamp");
            assert_eq!(row[0].len(), 23);
            if let Some(p) = previous {
                assert!(t > p);
            }
            previous = Some(t);
            for cell in &row[1..] {
                assert!(cell == " " || cell.parse::<f64>().is_ok(), "cell {cell:?}");
            }
        }
    }
}

#[test]
fn labels_agree_with_written_values() {
    let mut checked_leaks = 0;
    for log in first_logs(Split::Test, 6) {
        let rows = parse(&log.to_csv_bytes());
        for label in &log.labels {
            let path = format!(
                "\\\\{}\\Process({})\\{}",
                label.machine, label.instance, label.counter
            );
            let values: Vec<f64> = column(&rows, &path)
                .iter()
                .filter_map(|c| c.parse().ok())
                .collect();
            assert!(!values.is_empty(), "{path} has values");
            let quantum = if label.counter == "Private Bytes" {
                4096.0
            } else {
                1.0
            };
            assert!(
                values.iter().all(|v| (v / quantum).fract() == 0.0),
                "{path} quantised"
            );
            if label.note.is_some() {
                continue;
            }
            let tail: Vec<f64> = values.iter().rev().take(9).copied().collect();
            let mut sorted = tail.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            let tolerance = 5.0 * label.noise_sd + 2.0 * quantum;
            if matches!(
                label.family,
                Family::LinearLeak | Family::LateOnsetLeak | Family::Flat | Family::LevelShift
            ) {
                assert!(
                    (median - label.level_at_end).abs()
                        <= tolerance
                            + 8.0 * label.slope_per_hour * 9.0 * log.spec.interval_seconds / 3600.0,
                    "{path}: tail median {median} vs level at end {}",
                    label.level_at_end
                );
            }
            if label.truth == Truth::Leak {
                checked_leaks += 1;
                assert!(label.slope_per_hour > 0.0);
                let limit = label.limit.expect("leaks carry a limit");
                let tte = label
                    .time_to_limit_hours
                    .expect("leaks carry a time to limit");
                assert!(
                    (label.level_at_end + tte * label.slope_per_hour - limit).abs() < 1e-6 * limit
                );
                assert!(label.snr.is_some() && label.difficulty.is_some());
            } else {
                assert_eq!(label.slope_per_hour, 0.0);
            }
        }
    }
    assert!(checked_leaks > 0);
}

fn service(image: &str, lifetimes: Vec<Lifetime>, values: Vec<f64>, n: usize) -> ServiceSpec {
    ServiceSpec {
        image: image.into(),
        lifetimes,
        counters: vec![ServiceCounter {
            counter: "Handle Count".into(),
            values,
            decimals: 0,
            label: None,
        }],
        missing: vec![false; n],
    }
}

#[test]
fn absent_instances_are_blank_and_restarts_renumber() {
    let n = 6;
    let start = NaiveDate::from_ymd_opt(2024, 2, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    let mut late = service(
        "app",
        vec![Lifetime {
            start: 2,
            end: 4,
            pid: 80,
            age_hours: 0.0,
        }],
        vec![7.0; n],
        n,
    );
    late.missing[3] = true;
    let spec = LogSpec {
        name: "t".into(),
        seed: 0,
        host: "H".into(),
        time_zone: "Zone, with comma".into(),
        bias_minutes: -60,
        start,
        interval_seconds: 60.0,
        samples: n,
        jitter_ms: vec![0; n],
        services: vec![
            // Two lifetimes: the restart at sample 3 puts it behind the older `w3wp`.
            service(
                "w3wp",
                vec![
                    Lifetime {
                        start: 0,
                        end: 3,
                        pid: 100,
                        age_hours: 5.0,
                    },
                    Lifetime {
                        start: 3,
                        end: n,
                        pid: 300,
                        age_hours: 0.0,
                    },
                ],
                vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
                n,
            ),
            service(
                "w3wp",
                vec![Lifetime {
                    start: 0,
                    end: n,
                    pid: 200,
                    age_hours: 1.0,
                }],
                vec![50.0; n],
                n,
            ),
            late,
        ],
        id_process: true,
        elapsed_time: true,
        objects_before: Vec::new(),
        objects_after: Vec::new(),
    };
    let log = spec.into_generated();
    let text = log.to_csv_bytes();
    let rows = parse(&text);
    assert_eq!(rows[0][0], "(PDH-CSV 4.0) (Zone, with comma)(-60)");
    assert_eq!(rows[1][0], "02/01/2024 00:00:00.000");
    assert_eq!(rows[2][0], "02/01/2024 00:01:00.000");
    assert_eq!(
        column(&rows, "\\\\H\\Process(w3wp)\\Handle Count"),
        ["1", "2", "3", "50", "50", "50"]
    );
    assert_eq!(
        column(&rows, "\\\\H\\Process(w3wp#1)\\Handle Count"),
        ["50", "50", "50", "1", "2", "3"]
    );
    assert_eq!(
        column(&rows, "\\\\H\\Process(w3wp)\\ID Process"),
        ["100", "100", "100", "200", "200", "200"]
    );
    assert_eq!(
        column(&rows, "\\\\H\\Process(w3wp#1)\\ID Process"),
        ["200", "200", "200", "300", "300", "300"]
    );
    assert_eq!(
        column(&rows, "\\\\H\\Process(app)\\Handle Count"),
        [" ", " ", "7", " ", " ", " "]
    );
    assert_eq!(
        column(&rows, "\\\\H\\Process(app)\\ID Process"),
        [" ", " ", "80", " ", " ", " "]
    );
    let elapsed = column(&rows, "\\\\H\\Process(w3wp)\\Elapsed Time");
    assert_eq!(elapsed[0], "18000.000");
    assert_eq!(elapsed[1], "18060.000");
    assert!(String::from_utf8_lossy(&text).contains("\"\\\\H\\Process(app)\\Handle Count\""));
}
