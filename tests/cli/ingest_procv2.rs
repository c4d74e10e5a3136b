//! The Windows 11 `Process V2` counter set on generated logs: its `name:pid` instances are
//! analysed like `Process` labels (image name for the KB matcher, PID as identity), and a log
//! holding both sets reports each process and counter once, from Process V2.

use perfleak::analysis::{analyze, Finding, Verdict};
use perfleak::ingest::inspect::Inspection;
use perfleak::ingest::{read_file, PerfLog, ReadOptions};
use perfleak::kb::{match_findings, Catalogue, KbArticle};
use std::io::Write;

/// Samples every 5 minutes for three days.
const ROWS: usize = 864;

/// One column of a generated log: header cell and value at row `i` (`None`: blank cell).
type Col = (String, Box<dyn Fn(usize) -> Option<f64>>);

/// Private Bytes growing 1 MB/h from 50 MB, with a little deterministic wobble.
fn leaking(i: usize) -> Option<f64> {
    let h = i as f64 / 12.0;
    Some(50e6 + 1e6 * h + 20e3 * (i as f64 * 0.7).sin())
}

fn flat(i: usize) -> Option<f64> {
    Some(80e6 + 20e3 * (i as f64 * 1.3).sin())
}

fn col(header: &str, f: impl Fn(usize) -> Option<f64> + 'static) -> Col {
    (header.to_string(), Box::new(f))
}

fn write_log(columns: &[Col]) -> (tempfile::TempDir, PerfLog) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("procv2.csv");
    let mut out = String::from("\"(PDH-CSV 4.0) (UTC)(0)\"");
    for (h, _) in columns {
        out.push_str(&format!(",\"{h}\""));
    }
    out.push('\n');
    for i in 0..ROWS {
        let minutes = i * 5;
        out.push_str(&format!(
            "\"03/{:02}/2024 {:02}:{:02}:00.000\"",
            1 + minutes / 1440,
            (minutes / 60) % 24,
            minutes % 60
        ));
        for (_, f) in columns {
            match f(i) {
                Some(v) => out.push_str(&format!(",\"{v}\"")),
                None => out.push_str(",\" \""),
            }
        }
        out.push('\n');
    }
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(out.as_bytes()))
        .expect("write log");
    let log = read_file(&path, &ReadOptions::default()).expect("generated log loads");
    (dir, log)
}

fn flagged(f: &Finding) -> bool {
    matches!(f.verdict, Verdict::Leak | Verdict::Suspect)
}

#[test]
fn process_v2_leak_is_found_with_name_and_pid() {
    let (_dir, log) = write_log(&[
        col(r"\\W11\Process V2(chrome:1234)\Private Bytes", leaking),
        col(r"\\W11\Process V2(chrome:1234)\Process ID", |_| {
            Some(1234.0)
        }),
        col(r"\\W11\Process V2(chrome:5678)\Private Bytes", flat),
        // chrome restarted as PID 9012 halfway: a process of its own, told apart by its PID.
        col(r"\\W11\Process V2(chrome:9012)\Private Bytes", |i| {
            (i >= ROWS / 2).then(|| 60e6 + 10e3 * (i as f64).cos())
        }),
        col(r"\\W11\Process V2(_Total:0)\Private Bytes", leaking),
    ]);
    let findings = analyze(&log);
    assert_eq!(findings.len(), 3, "{findings:#?}");
    assert!(findings.iter().all(|f| f.process == "chrome"));
    let leak = findings.iter().find(|f| flagged(f)).expect("leak found");
    assert_eq!(leak.verdict, Verdict::Leak, "{:?}", leak.reasons);
    assert_eq!(leak.instance, "chrome:1234");
    assert_eq!(leak.pids, vec![1234]);
    assert_eq!(leak.counter, "Private Bytes");
    let slope = leak.slope_per_hour.expect("slope");
    assert!((slope - 1e6).abs() < 2e4, "{slope}");
    let mut pids: Vec<Vec<u32>> = findings.iter().map(|f| f.pids.clone()).collect();
    pids.sort();
    assert_eq!(pids, vec![vec![1234], vec![5678], vec![9012]]);
    for f in findings.iter().filter(|f| !flagged(f)) {
        assert_eq!(f.verdict, Verdict::Ok, "{} {:?}", f.instance, f.reasons);
    }

    // The KB matcher sees the image name, not the instance with its PID.
    let article = KbArticle {
        id: "KB-CHROME".into(),
        title: "chrome private bytes".into(),
        processes: vec!["chrome".into()],
        counters: vec!["private_bytes".into()],
        ..Default::default()
    };
    let catalogue = Catalogue::from_articles(vec![article]);
    let matches = match_findings(&catalogue, &log, &findings);
    assert_eq!(matches.len(), 1, "{matches:#?}");
    assert_eq!(matches[0].processes, vec!["chrome".to_string()]);

    // inspect lists each Process V2 instance with the PID from its name.
    let inspection = Inspection::of(&log);
    let listed: Vec<(&str, &[u64])> = inspection
        .processes
        .iter()
        .map(|p| (p.instance.as_str(), p.pids.as_slice()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("chrome:1234", &[1234u64][..]),
            ("chrome:5678", &[5678][..]),
            ("chrome:9012", &[9012][..]),
            ("_Total:0", &[0][..]),
        ]
    );
}

#[test]
fn both_counter_sets_report_each_process_once_from_process_v2() {
    let (_dir, log) = write_log(&[
        col(r"\\W11\Process(chrome)\Private Bytes", leaking),
        col(r"\\W11\Process(chrome)\ID Process", |_| Some(1234.0)),
        col(r"\\W11\Process(chrome#1)\Private Bytes", flat),
        col(r"\\W11\Process(chrome#1)\ID Process", |_| Some(5678.0)),
        // Only the classic set has Handle Count here: it stays.
        col(r"\\W11\Process(chrome)\Handle Count", |i| {
            Some(500.0 + (i % 3) as f64)
        }),
        col(r"\\W11\Process V2(chrome:1234)\Private Bytes", leaking),
        col(r"\\W11\Process V2(chrome:5678)\Private Bytes", flat),
        col(r"\\W11\Process V2(chrome:1234)\Process ID", |_| {
            Some(1234.0)
        }),
        col(r"\\W11\Process(other)\Private Bytes", flat),
    ]);
    let findings = analyze(&log);
    let mut seen: Vec<(String, String, Vec<u32>)> = findings
        .iter()
        .map(|f| (f.instance.clone(), f.counter.clone(), f.pids.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("chrome".into(), "Handle Count".into(), vec![1234]),
            ("chrome:1234".into(), "Private Bytes".into(), vec![1234]),
            ("chrome:5678".into(), "Private Bytes".into(), vec![5678]),
            ("other".into(), "Private Bytes".into(), vec![]),
        ],
        "{findings:#?}"
    );
    let leaks: Vec<&Finding> = findings.iter().filter(|f| flagged(f)).collect();
    assert_eq!(leaks.len(), 1, "{findings:#?}");
    assert_eq!(
        (leaks[0].process.as_str(), leaks[0].instance.as_str()),
        ("chrome", "chrome:1234")
    );
}
