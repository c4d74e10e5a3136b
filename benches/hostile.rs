//! Hostile-input scaling (issue 14): the steps a hostile input can make large must stay
//! near-linear. Each case runs at a size and at ten times it and prints both times and their
//! ratio (10 is linear, 100 quadratic). `cargo bench --bench hostile`.

use std::io::Write;
use std::time::Instant;

use perfleak::ingest::{expand_inputs, join_segments, read_bytes, read_source, ReadOptions};

/// The PDH stamp `seconds` after midnight, 1 March 2024.
fn stamp(seconds: u64) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    (start + chrono::Duration::seconds(seconds as i64))
        .format("%m/%d/%Y %H:%M:%S%.3f")
        .to_string()
}

/// A small log of `rows` samples `step` s apart from `first` (seconds after midnight, 1 March).
fn log_text(first: u64, rows: u64, step: u64) -> String {
    let mut text = String::from(
        "\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\S\\Process(a)\\Handle Count\",\"\\\\S\\Process(a)\\Private Bytes\"\n",
    );
    for i in 0..rows {
        let t = first + i * step;
        text.push_str(&format!(
            "\"{}\",\"{}\",\"{}\"\n",
            stamp(t),
            100 + i,
            1_000_000 + i
        ));
    }
    text
}

/// Lists and reads every entry of a zip of `entries` small logs.
fn zip_entries(entries: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let text = log_text(0, 4, 15);
    for i in 0..entries {
        zip.start_file(
            format!("srv{i}/log.csv"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    let start = Instant::now();
    let (sources, errors) = expand_inputs(&[path]);
    assert!(errors.is_empty() && sources.len() == entries);
    for source in &sources {
        read_source(source, &ReadOptions::default()).unwrap();
    }
    start.elapsed().as_secs_f64()
}

/// Joins `segments` consecutive rollover segments of 20 samples a second apart into one timeline.
fn rollover_segments(segments: u64) -> f64 {
    let logs: Vec<_> = (0..segments)
        .map(|s| {
            let text = log_text(s * 20, 20, 1);
            read_bytes(
                &format!("seg{s:05}.csv"),
                text.as_bytes(),
                &ReadOptions::default(),
            )
            .unwrap()
        })
        .collect();
    let start = Instant::now();
    let joined = join_segments(logs);
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].source.segments.len() as u64, segments);
    start.elapsed().as_secs_f64()
}

/// The least of `runs` timings: the machine is shared, and noise only adds.
fn least(runs: usize, f: impl Fn() -> f64) -> f64 {
    (0..runs).map(|_| f()).fold(f64::INFINITY, f64::min)
}

/// Joins `copies` copies of one log (every one overlaps the others: none joins).
fn copies_of_one_log(copies: usize) -> f64 {
    let text = log_text(0, 4, 15);
    let logs: Vec<_> = (0..copies)
        .map(|c| {
            read_bytes(
                &format!("copy{c:05}.csv"),
                text.as_bytes(),
                &ReadOptions::default(),
            )
            .unwrap()
        })
        .collect();
    let start = Instant::now();
    assert_eq!(join_segments(logs).len(), copies);
    start.elapsed().as_secs_f64()
}

/// Analyses a log of `rows` samples whose process gets a new PID at every sample (each sample
/// is a new lifetime: PIDs and lifetimes were looked up by scanning lists).
fn pid_per_sample(rows: usize) -> f64 {
    let mut text = String::from(
        "\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\S\\Process(a)\\ID Process\",\"\\\\S\\Process(a)\\Private Bytes\",\"\\\\S\\Process(a)\\Handle Count\"\n",
    );
    for i in 0..rows as u64 {
        text.push_str(&format!(
            "\"{}\",\"{}\",\"{}\",\"{}\"\n",
            stamp(i),
            1000 + i % 2,
            1_000_000 + i,
            100 + i % 7
        ));
    }
    let log = read_bytes("pids.csv", text.as_bytes(), &ReadOptions::default()).unwrap();
    let start = Instant::now();
    let _ = perfleak::analysis::analyze(&log);
    start.elapsed().as_secs_f64()
}

/// Walks a folder of `files` logs that also holds links to itself and to its parent (each
/// file must be listed once, the links not followed).
fn walk_with_links(files: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    for i in 0..files {
        let sub = logs.join(format!("d{}", i % 100));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("{i}.csv")), "x").unwrap();
    }
    std::os::unix::fs::symlink(".", logs.join("self")).unwrap();
    std::os::unix::fs::symlink("..", logs.join("d0").join("up")).unwrap();
    let start = Instant::now();
    let (sources, _) = expand_inputs(&[logs]);
    assert_eq!(sources.len(), files);
    start.elapsed().as_secs_f64()
}

/// Runs a case at n and 10n and prints the row; `PERFLEAK_BENCH_CASE=<words>` runs only the
/// cases whose name holds them (for a profiler).
fn row(case: &str, small: usize, runs: usize, f: impl Fn(usize) -> f64) {
    if let Ok(only) = std::env::var("PERFLEAK_BENCH_CASE") {
        if !case.contains(only.as_str()) {
            return;
        }
    }
    let (a, b) = (least(runs, || f(small)), least(runs, || f(small * 10)));
    println!(
        "| {case} | {small} | {a:.3} s | {} | {b:.3} s | {:.1} |",
        small * 10,
        b / a
    );
}

fn main() {
    println!("| case | n | time | 10n | time | ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    row("zip entries listed and read", 2_000, 2, zip_entries);
    row("rollover segments joined", 4_000, 5, |n| {
        rollover_segments(n as u64)
    });
    row("copies of one log not joined", 20_000, 5, copies_of_one_log);
    row(
        "analysis, a new PID at every sample",
        50_000,
        3,
        pid_per_sample,
    );
    row(
        "folder walked, with links to itself",
        10_000,
        2,
        walk_with_links,
    );
}
