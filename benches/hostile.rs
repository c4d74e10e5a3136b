//! Hostile-input scaling (issue 14): the steps a hostile input can make large must stay
//! near-linear. Each case runs at a size and at ten times it and prints both times and their
//! ratio (10 is linear, 100 quadratic). `cargo bench --bench hostile`.

use std::io::Write;
use std::time::Instant;

use perfleak::ingest::{expand_inputs, join_segments, read_bytes, read_source, ReadOptions};

/// A small log of `rows` samples `step` s apart from `first` (seconds after midnight, 1 March).
fn log_text(first: u64, rows: u64, step: u64) -> String {
    let mut text = String::from(
        "\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\S\\Process(a)\\Handle Count\",\"\\\\S\\Process(a)\\Private Bytes\"\n",
    );
    for i in 0..rows {
        let t = first + i * step;
        let (day, hour, minute, second) = (1 + t / 86400, t / 3600 % 24, t / 60 % 60, t % 60);
        text.push_str(&format!(
            "\"03/{day:02}/2024 {hour:02}:{minute:02}:{second:02}.000\",\"{}\",\"{}\"\n",
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

/// Joins `segments` consecutive rollover segments of 200 samples a second apart into one timeline.
fn rollover_segments(segments: u64) -> f64 {
    let logs: Vec<_> = (0..segments)
        .map(|s| {
            let text = log_text(s * 200, 200, 1);
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

fn row(case: &str, small: usize, runs: usize, f: impl Fn(usize) -> f64) {
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
    row("rollover segments joined", 400, 3, |n| {
        rollover_segments(n as u64)
    });
    row("copies of one log not joined", 2_000, 3, copies_of_one_log);
}
