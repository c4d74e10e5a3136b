//! A seeded mutation fuzzer over what perfleak reads: the bundled samples and small generated
//! logs, as text, `.gz` and `.zip`, mutated (bytes flipped, cut, ranges repeated, quotes,
//! delimiters, NULs, huge numbers, odd dates and control characters inserted, header cells
//! edited), and each mutant run in-process through read, inspect, analysis and report writing.
//! A panic fails the test, as does a mutant that takes longer than `PERFLEAK_FUZZ_SECONDS`
//! (default 10): that is a hang. Either failure prints the seed and the mutant's index;
//! `PERFLEAK_FUZZ_SEED=<seed> PERFLEAK_FUZZ_ONLY=<index>` runs that one mutant again.
//!
//! `PERFLEAK_FUZZ_MUTANTS` sets how many (default 3,000, or as many as start within
//! `PERFLEAK_FUZZ_BUDGET_SECONDS`, default 240: a debug build on a 2-core machine runs about
//! 18 a second, so CI gets through its 3,000 in under 3 minutes; the line it prints says how
//! many ran); `PERFLEAK_FUZZ_JOBS` how many run at once
//! (default 2). The long run is
//! `PERFLEAK_FUZZ_MUTANTS=100000 cargo test --release --test fuzz_mutants -- --nocapture`.

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use perfleak::batch::analyze_log;
use perfleak::ingest::{self, inspect::Inspection, ReadOptions};
use perfleak::kb::Catalogue;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// What gets mutated: text logs, and the container each mutant is packed in.
#[derive(Clone, Copy, Debug)]
enum Container {
    Plain,
    Gzip,
    Zip,
}

/// Tokens that hostile or damaged logs hold.
const TOKENS: &[&str] = &[
    ",",
    "\"",
    "\t",
    ";",
    "\0",
    "\r\n",
    "\n",
    "1.7e308",
    "-1e308",
    "1e308",
    "NaN",
    "inf",
    "-inf",
    "99999999999999999999999",
    "-5",
    "4294967296",
    "1e-320",
    "12/31/262000 23:59:59.000",
    "01/01/0001 00:00:00.000",
    "02/30/2024 25:61:61.000",
    "2024-03-01T10:15:00",
    "01.03.2024 10:15",
    "\u{1b}[2J\u{1b}]0;t\u{7}",
    "\u{9b}31m",
    "\u{202e}",
    "\u{FEFF}",
    "\u{FFFD}",
    "(PDH-CSV 4.0)",
    "\\\\M\\Process(x#1)\\Handle Count",
    "\\\\M\\Process V2(x:12)\\ID Process",
    "\\\\M\\Process(x)\\Private Bytes",
    "\\\\M\\Process(x)\\Elapsed Time",
    "#",
    "(",
    ")",
    "\\",
    " ",
];

/// A small log: a few processes, one of them leaking, over 30 to 200 samples.
fn generated_log(rng: &mut SmallRng) -> Vec<u8> {
    let processes = rng.random_range(1..=3);
    let rows = rng.random_range(30..=200);
    let step = [15, 60, 300, 600][rng.random_range(0..4)];
    let mut header = String::from("\"(PDH-CSV 4.0) (Pacific Standard Time)(480)\"");
    for p in 0..processes {
        for counter in ["Private Bytes", "Handle Count", "ID Process"] {
            header.push_str(&format!(",\"\\\\SRV\\Process(app{p})\\{counter}\""));
        }
    }
    let mut text = header + "\n";
    let start = chrono::NaiveDate::from_ymd_opt(2023, 11, 4)
        .expect("date")
        .and_hms_opt(22, 0, 0)
        .expect("time");
    for r in 0..rows {
        let t = start + chrono::Duration::seconds(step * r as i64);
        text.push_str(&format!("\"{}\"", t.format("%m/%d/%Y %H:%M:%S%.3f")));
        for p in 0..processes {
            let leak = if p == 0 { 4096.0 * r as f64 } else { 0.0 };
            let bytes = 5e6 + leak + rng.random_range(0.0..2e4);
            let handles = 200 + if p == 0 { r / 3 } else { 0 } + rng.random_range(0..4);
            let pid = 1000 + p * 10 + usize::from(rng.random_bool(0.01));
            text.push_str(&format!(",\"{bytes:.0}\",\"{handles}\",\"{pid}\""));
        }
        text.push('\n');
    }
    text.into_bytes()
}

/// The seed texts: each bundled sample cut to its first rows (whole samples are slow in a
/// debug build and add little), plus generated logs made per mutant.
fn sample_seeds() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut seeds = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("samples")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    names.sort();
    for path in names {
        let text = std::fs::read(&path).expect("sample");
        let cut: Vec<u8> = text
            .split_inclusive(|&b| b == b'\n')
            .take(150)
            .flatten()
            .copied()
            .collect();
        seeds.push(cut);
    }
    seeds
}

/// Byte ranges of the header's cells (between quotes), for header edits.
fn header_end(text: &[u8]) -> usize {
    text.iter().position(|&b| b == b'\n').unwrap_or(text.len())
}

fn mutate(text: &mut Vec<u8>, rng: &mut SmallRng) {
    let edits = rng.random_range(1..=4);
    for _ in 0..edits {
        let len = text.len().max(1);
        let at = rng.random_range(0..len).min(text.len());
        match rng.random_range(0..9) {
            0 => {
                if let Some(b) = text.get_mut(at) {
                    *b ^= 1 << rng.random_range(0..8);
                }
            }
            1 => text.truncate(at),
            2 => {
                let end = (at + rng.random_range(1..4096)).min(text.len());
                let copy = text[at..end].to_vec();
                let to = rng.random_range(0..=text.len());
                text.splice(to..to, copy);
            }
            3 | 4 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes();
                text.splice(at..at, token.iter().copied());
            }
            5 => {
                // A cell's content replaced.
                let token = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes();
                let end = text[at..]
                    .iter()
                    .position(|&b| b == b'"' || b == b',')
                    .map_or(text.len(), |p| at + p);
                text.splice(at..end, token.iter().copied());
            }
            6 => {
                // Header edit: a token put into the header line.
                let end = header_end(text);
                let at = rng.random_range(0..=end);
                let token = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes();
                text.splice(at..at, token.iter().copied());
            }
            7 => {
                // Header edit: a stretch of the header dropped or repeated.
                let end = header_end(text);
                let a = rng.random_range(0..=end);
                let b = (a + rng.random_range(0..200)).min(end);
                if rng.random_bool(0.5) {
                    text.drain(a..b);
                } else {
                    let copy = text[a..b].to_vec();
                    text.splice(b..b, copy);
                }
            }
            _ => {
                // A run of one byte (long lines, many delimiters, NULs).
                let byte = [b',', b'"', b'\t', b';', 0, b'9', b'\n'][rng.random_range(0..7)];
                let n = rng.random_range(1..5000);
                text.splice(at..at, std::iter::repeat_n(byte, n));
            }
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            writer.start_file(*name, options).expect("zip entry");
            writer.write_all(bytes).expect("zip write");
        }
        writer.finish().expect("zip");
    }
    out.into_inner()
}

/// The bytes of mutant `index` and the name it is read as.
fn make_mutant(seed: u64, index: u64, seeds: &[Vec<u8>]) -> (String, Vec<u8>, Container) {
    let mut rng = SmallRng::seed_from_u64(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut text = if rng.random_bool(0.5) {
        generated_log(&mut rng)
    } else {
        seeds[rng.random_range(0..seeds.len())].clone()
    };
    let container = match rng.random_range(0..10) {
        0 | 1 => Container::Gzip,
        2 => Container::Zip,
        _ => Container::Plain,
    };
    // Archives are mutated inside, outside or both.
    let inside = !matches!(container, Container::Plain) && rng.random_bool(0.7);
    if matches!(container, Container::Plain) || inside {
        mutate(&mut text, &mut rng);
    }
    let (name, mut bytes) = match container {
        Container::Plain => ("mutant.csv".to_string(), text),
        Container::Gzip => ("mutant.csv.gz".to_string(), gzip(&text)),
        Container::Zip => {
            let second = generated_log(&mut rng);
            let entry =
                ["a/log.csv", "b\u{1b}[2J.csv", "../up.csv", "c/log.tsv"][rng.random_range(0..4)];
            (
                "mutant.zip".to_string(),
                zip(&[(entry, &text), ("second.csv", &second)]),
            )
        }
    };
    if !inside && !matches!(container, Container::Plain) {
        mutate(&mut bytes, &mut rng);
    }
    (name, bytes, container)
}

/// Read, inspect, analyse and write the report of every log the mutant holds. Errors are
/// fine (damaged input is refused with a message); only panics and hangs are defects.
fn run_mutant(name: &str, bytes: &[u8], container: Container, out: &Path, catalogue: &Catalogue) {
    let options = ReadOptions::default();
    let logs: Vec<ingest::PerfLog> = match container {
        Container::Zip => {
            let path = out.join(name);
            std::fs::write(&path, bytes).expect("mutant written");
            let (sources, _) = ingest::expand_inputs(&[path]);
            sources
                .iter()
                .filter_map(|s| ingest::read_source(s, &options).ok())
                .collect()
        }
        _ => ingest::read_bytes(name, bytes, &options)
            .into_iter()
            .collect(),
    };
    for (i, log) in ingest::join_segments(logs).into_iter().enumerate() {
        let inspection = Inspection::of(&log);
        let _ = inspection.to_text();
        let mut report = analyze_log(&log, catalogue);
        let _ = perfleak::report::to_json_line(&report);
        let dir = out.join(format!("report-{i}"));
        std::fs::create_dir_all(&dir).expect("report folder");
        let _ = perfleak::report::write_report_dir(&mut report, &log, &dir);
    }
}

/// How one mutant ended.
type Outcome = Result<(), String>;

#[test]
fn mutants_never_panic_or_hang() {
    let seed = env_number("PERFLEAK_FUZZ_SEED", 14);
    let asked = std::env::var("PERFLEAK_FUZZ_MUTANTS").is_ok();
    let count = env_number("PERFLEAK_FUZZ_MUTANTS", 3_000);
    // The default run stops starting mutants after this many seconds (a CI machine gets
    // through its 3,000 first); a run that names its count has no budget unless it sets one.
    let budget = Duration::from_secs(env_number(
        "PERFLEAK_FUZZ_BUDGET_SECONDS",
        if asked { u64::MAX / 4 } else { 240 },
    ));
    let bound = Duration::from_secs(env_number("PERFLEAK_FUZZ_SECONDS", 10));
    let jobs = env_number("PERFLEAK_FUZZ_JOBS", 2).max(1) as usize;
    let only = std::env::var("PERFLEAK_FUZZ_ONLY")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    let seeds = std::sync::Arc::new(sample_seeds());
    let catalogue = std::sync::Arc::new(Catalogue::builtin());
    // Reports go to memory where there is a tmpfs: each file is synced, and 100,000 reports'
    // syncs would time the disk, not perfleak.
    let shm = Path::new("/dev/shm");
    let work = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir");
    let started = Instant::now();
    let mut pending: Vec<u64> = match only {
        Some(i) => vec![i],
        None => (0..count).rev().collect(),
    };
    let reproduce = |index: u64| {
        format!("reproduce: PERFLEAK_FUZZ_SEED={seed} PERFLEAK_FUZZ_ONLY={index} cargo test --test fuzz_mutants")
    };
    // Each mutant runs on its own thread (a hung one cannot be stopped, only reported), at
    // most `jobs` at a time.
    let (tx, rx) = mpsc::channel::<(u64, Container, Outcome)>();
    let mut running: Vec<(u64, Instant)> = Vec::new();
    let (mut done, mut slowest) = (0usize, Duration::ZERO);
    let mut kinds = [0usize; 3];
    while !pending.is_empty() || !running.is_empty() {
        if started.elapsed() > budget {
            pending.clear();
        }
        while running.len() < jobs {
            let Some(index) = pending.pop() else { break };
            let (tx, seeds, catalogue) = (tx.clone(), seeds.clone(), catalogue.clone());
            let out = work.path().join(index.to_string());
            running.push((index, Instant::now()));
            std::thread::Builder::new()
                .name(format!("mutant-{index}"))
                .spawn(move || {
                    let (name, bytes, container) = make_mutant(seed, index, &seeds);
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        std::fs::create_dir_all(&out).expect("mutant folder");
                        run_mutant(&name, &bytes, container, &out, &catalogue);
                        let _ = std::fs::remove_dir_all(&out);
                    }));
                    let outcome = result.map_err(|p| {
                        p.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default()
                    });
                    let _ = tx.send((index, container, outcome));
                })
                .expect("thread");
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok((index, container, outcome)) => {
                if let Err(message) = outcome {
                    panic!(
                        "mutant {index} ({container:?}) panicked: {message}\n  {}",
                        reproduce(index)
                    );
                }
                if let Some(k) = running.iter().position(|(i, _)| *i == index) {
                    slowest = slowest.max(running.swap_remove(k).1.elapsed());
                }
                kinds[container as usize] += 1;
                done += 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("this thread holds a sender"),
        }
        if let Some((index, since)) = running.iter().find(|(_, t)| t.elapsed() > bound) {
            panic!(
                "mutant {index} still running after {:?}: a hang\n  {}",
                since.elapsed(),
                reproduce(*index)
            );
        }
    }
    assert!(done > 0, "no mutant ran");
    eprintln!(
        "fuzz_mutants: seed {seed}, {done} mutants (plain {}, gzip {}, zip {}), 0 panics, 0 hangs, slowest {slowest:.2?}, {:.1?} in all",
        kinds[0],
        kinds[1],
        kinds[2],
        started.elapsed()
    );
}
