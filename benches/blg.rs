//! BLG reading benchmark (issue #16): one wide capture (Private Bytes and Handle Count of many
//! processes, one-minute samples) written by the generator as a BLG of about
//! `PERFLEAK_BLG_MB` megabytes (default 1,024) and as PDH-CSV; each is read by
//! `perfleak::ingest::read_file` in its own child process, so its peak RSS (VmHWM) is its own.
//! Prints time, CPU time, MB/s and peak RSS for both, and the ratios (targets: BLG time <= 0.5
//! x CSV, BLG peak RSS <= CSV).
//!
//! `PERFLEAK_BLG_SERIES` sets the width (default 2,000 series), `PERFLEAK_BLG_DIR` a folder where
//! the two files are written and kept (reused when present), `PERFLEAK_BLG_RUNS` how many times
//! each file is read, alternately (default 3: the best time of each is compared, so a busy
//! machine weighs on both alike). `cargo bench --bench blg`.
//!
//! A floor is read in the same alternation: the BLG's bytes alone, read through a 1 MiB buffer
//! and summed as 64-bit words with no decoding. No reader of the file can take less time than
//! bringing its bytes in once, so it says how far under the target the CSV's time puts it.

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use perfleak::ingest::{read_file, ReadOptions};
use perfleak_synth::{blg, throughput_log};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Writes the capture as `capture.blg` and `capture.csv` in `dir`, sized so the BLG is about
/// `mb` megabytes.
fn generate(dir: &Path, mb: usize, series: usize) -> std::io::Result<(usize, blg::Written)> {
    const PROBE_ROWS: usize = 200;
    let probe = throughput_log(series, PROBE_ROWS, 5);
    let (_, w) = blg::write_generated(&probe, std::io::Cursor::new(Vec::new()))?;
    let per_row = (w.bytes as usize / PROBE_ROWS).max(1);
    let rows = (mb << 20) / per_row + 1;
    let log = throughput_log(series, rows, 5);
    let file = std::fs::File::create(dir.join("capture.blg"))?;
    let (_, written) = blg::write_generated(&log, BufWriter::new(file))?;
    let mut csv = BufWriter::new(std::fs::File::create(dir.join("capture.csv"))?);
    log.write_csv(&mut csv)?;
    std::io::Write::flush(&mut csv)?;
    Ok((rows, written))
}

/// CPU seconds (user + system, all threads) this process has used so far.
fn cpu_secs() -> f64 {
    // Fields 14 and 15 of /proc/self/stat, after the command name in parentheses; in clock
    // ticks of 1/100 s on Linux.
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<f64> = rest
                .split_whitespace()
                .map(|v| v.parse().unwrap_or(0.0))
                .collect();
            Some((f.get(11)? + f.get(12)?) / 100.0)
        })
        .unwrap_or(f64::NAN)
}

/// The floor: the file's bytes read once and summed, nothing decoded.
fn child_bytes(path: &Path) {
    use std::io::Read;
    let started = Instant::now();
    let mut file = std::fs::File::open(path).expect("bench file opens");
    let mut buf = vec![0u8; 1 << 20];
    let mut sum = 0u64;
    loop {
        let n = file.read(&mut buf).expect("bench file reads");
        if n == 0 {
            break;
        }
        for word in buf[..n].chunks_exact(8) {
            let word: [u8; 8] = word.try_into().expect("8 bytes");
            sum = sum.wrapping_add(u64::from_le_bytes(word));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "RESULT {secs} {} 0 0 {} {}",
        peak_rss_kb(),
        sum % 1000,
        cpu_secs()
    );
}

fn child(path: &Path) {
    let started = Instant::now();
    let log = read_file(path, &ReadOptions::default()).expect("perfleak reads the bench file");
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_secs();
    let sum: f64 = log
        .columns
        .iter()
        .map(|c| {
            c.values
                .to_vec()
                .iter()
                .filter(|v| v.is_finite())
                .sum::<f64>()
        })
        .sum();
    println!(
        "RESULT {secs} {} {} {} {sum} {cpu}",
        peak_rss_kb(),
        log.columns.len(),
        log.timestamps.len()
    );
}

struct Measured {
    secs: f64,
    rss_mb: f64,
    columns: usize,
    rows: usize,
    sum: f64,
    /// CPU seconds of all its threads (on a busy machine, a steadier measure than time).
    cpu: f64,
}

fn measure(path: &Path) -> Measured {
    measure_as("child", path)
}

fn measure_as(mode: &str, path: &Path) -> Measured {
    let exe = std::env::current_exe().expect("bench executable path");
    let out = Command::new(exe)
        .arg(mode)
        .arg(path)
        .output()
        .expect("child bench runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "{} failed: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let f: Vec<f64> = line[7..]
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(f64::NAN))
        .collect();
    Measured {
        secs: f[0],
        rss_mb: f[1] / 1024.0,
        columns: f[2] as usize,
        rows: f[3] as usize,
        sum: f[4],
        cpu: f[5],
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 3 && args[1] == "child" {
        child(&PathBuf::from(&args[2]));
        return;
    }
    if args.len() >= 3 && args[1] == "child-bytes" {
        child_bytes(&PathBuf::from(&args[2]));
        return;
    }
    let mb = env_usize("PERFLEAK_BLG_MB", 1024);
    let series = env_usize("PERFLEAK_BLG_SERIES", 2000);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = std::env::var_os("PERFLEAK_BLG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("bench folder");
    let (blg_path, csv_path) = (dir.join("capture.blg"), dir.join("capture.csv"));
    if !(blg_path.exists() && csv_path.exists()) {
        let t = Instant::now();
        let (rows, w) = generate(&dir, mb, series).expect("bench files written");
        println!(
            "generated {series} series x {rows} rows in {:.1} s: {} buffers, {} events, {} fragmented records, {} wildcard counters",
            t.elapsed().as_secs_f64(),
            w.buffers,
            w.events,
            w.fragmented_records,
            w.wildcard_counters
        );
    }
    let size_mb = |p: &Path| std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1048576.0);
    let (blg_mb, csv_mb) = (size_mb(&blg_path), size_mb(&csv_path));
    let runs = env_usize("PERFLEAK_BLG_RUNS", 3).max(1);
    let mut pairs = Vec::new();
    let mut floors = Vec::new();
    for _ in 0..runs {
        pairs.push((measure(&blg_path), measure(&csv_path)));
        floors.push(measure_as("child-bytes", &blg_path).secs);
    }
    let best = |pick: fn(&(Measured, Measured)) -> &Measured| {
        let all: Vec<&Measured> = pairs.iter().map(pick).collect();
        let times: Vec<String> = all.iter().map(|m| format!("{:.2}", m.secs)).collect();
        let m = all
            .into_iter()
            .min_by(|a, b| a.secs.total_cmp(&b.secs))
            .expect("one run");
        (m, times.join(", "))
    };
    let ((b, b_times), (c, c_times)) = (best(|p| &p.0), best(|p| &p.1));
    println!("BLG reads (s): {b_times}; CSV reads (s): {c_times}; best of each below");
    for (name, m, file_mb) in [("BLG", b, blg_mb), ("CSV", c, csv_mb)] {
        println!(
            "{name}: {file_mb:.0} MB read in {:.2} s ({:.2} CPU s), {:.0} MB/s, peak RSS {:.0} MB, {} columns x {} rows",
            m.secs,
            m.cpu,
            file_mb / m.secs,
            m.rss_mb,
            m.columns,
            m.rows
        );
    }
    let same = b.columns == c.columns
        && b.rows == c.rows
        && (b.sum - c.sum).abs() <= 1e-12 * c.sum.abs().max(1.0);
    println!(
        "BLG / CSV: time {:.2}x (target <= 0.5), CPU {:.2}x, peak RSS {:.2}x (target <= 1); same columns, rows and sum: {same}",
        b.secs / c.secs,
        b.cpu / c.cpu,
        b.rss_mb / c.rss_mb
    );
    let floor = floors.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "floor: the BLG's bytes alone (read once through a 1 MiB buffer and summed, nothing decoded) in {floor:.2} s, best of {}: {:.2}x the CSV read; the target 0.5x is {:.2} s",
        floors.len(),
        floor / c.secs,
        0.5 * c.secs
    );
}
