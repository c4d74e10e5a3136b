//! Ingest benchmark: generates a big, wide PDH-CSV log in a temporary folder, then reads it
//! with perfleak's streaming reader and, as the baseline, with polars' eager CSV reader
//! projected to the same columns. Each reader runs in its own child process so its peak RSS
//! (VmHWM) is its own. Prints MB/s, peak RSS as a fraction of the file size, and the ratios.
//!
//! `PERFLEAK_BENCH_MB` sets the file size (default 1024), `PERFLEAK_BENCH_COLUMNS` the width
//! (default 3000), `PERFLEAK_BENCH_KEEP` a path where the file is written and kept (reused when
//! its size fits), `PERFLEAK_BENCH_PHASES=1` adds a breakdown of where the reading time goes.
//! Run with `cargo bench --bench ingest`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use perfleak::ingest::{read_file, CounterPath, ReadOptions};

const PROCESS_COUNTERS: &[&str] = &[
    "% Processor Time",
    "% User Time",
    "% Privileged Time",
    "Virtual Bytes Peak",
    "Virtual Bytes",
    "Page Faults/sec",
    "Working Set Peak",
    "Working Set",
    "Page File Bytes Peak",
    "Page File Bytes",
    "Private Bytes",
    "Thread Count",
    "Priority Base",
    "Elapsed Time",
    "ID Process",
    "Creating Process ID",
    "Pool Paged Bytes",
    "Pool Nonpaged Bytes",
    "Handle Count",
    "IO Read Operations/sec",
];
const MEMORY_COUNTERS: &[&str] = &[
    "Available Bytes",
    "Committed Bytes",
    "Commit Limit",
    "Pool Paged Bytes",
    "Pool Nonpaged Bytes",
    "Pages/sec",
];
const OTHER_COUNTERS: &[&str] = &[
    "Disk Reads/sec",
    "Disk Writes/sec",
    "Avg. Disk sec/Read",
    "% Idle Time",
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn header(columns: usize) -> Vec<String> {
    let mut out = vec!["(PDH-CSV 4.0) (Pacific Standard Time)(480)".to_string()];
    for c in MEMORY_COUNTERS {
        out.push(format!("\\\\SRV01\\Memory\\{c}"));
    }
    // Two thirds of the width are processes, the rest disks (objects the analysis skips).
    let process_columns = (columns * 2 / 3) / PROCESS_COUNTERS.len() * PROCESS_COUNTERS.len();
    for p in 0..process_columns / PROCESS_COUNTERS.len() {
        for c in PROCESS_COUNTERS {
            out.push(format!(
                "\\\\SRV01\\Process(svc_{p:04}, worker#{})\\{c}",
                p % 7
            ));
        }
    }
    let mut disk = 0;
    while out.len() <= columns {
        for c in OTHER_COUNTERS {
            out.push(format!("\\\\SRV01\\PhysicalDisk({disk} C:)\\{c}"));
        }
        disk += 1;
    }
    out.truncate(columns + 1);
    out
}

fn generate(path: &Path, target_bytes: u64, columns: usize) -> std::io::Result<(u64, usize)> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let head: Vec<String> = header(columns).iter().map(|h| format!("\"{h}\"")).collect();
    w.write_all(head.join(",").as_bytes())?;
    w.write_all(b"\r\n")?;
    let mut written = 0u64;
    let mut rows = 0usize;
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let start = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid start date");
    let mut line = Vec::with_capacity(columns * 16);
    while written < target_bytes {
        line.clear();
        let t = start + chrono::Duration::seconds(15 * rows as i64);
        write!(line, "\"{}\"", t.format("%m/%d/%Y %H:%M:%S%.3f"))?;
        for col in 0..columns {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if (rows == 0 && col.is_multiple_of(3)) || state.is_multiple_of(100) {
                line.extend_from_slice(b",\" \"");
            } else if col.is_multiple_of(5) {
                write!(line, ",\"{}.{:06}\"", state % 1000, state % 999_983)?;
            } else {
                write!(
                    line,
                    ",\"{}\"",
                    1_000_000 + (state % 90_000_000) + rows as u64
                )?;
            }
        }
        line.extend_from_slice(b"\r\n");
        w.write_all(&line)?;
        written += line.len() as u64;
        rows += 1;
    }
    w.flush()?;
    Ok((std::fs::metadata(path)?.len(), rows))
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

fn run_ours(path: &Path) -> (usize, usize, f64) {
    let log = read_file(path, &ReadOptions::default()).expect("perfleak reads the bench file");
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
    (log.columns.len(), log.timestamps.len(), sum)
}

fn run_polars(path: &Path) -> (usize, usize, f64) {
    use polars::prelude::*;
    let names = header(env_usize("PERFLEAK_BENCH_COLUMNS", 3000));
    // The same columns perfleak materialises: decided from the header with the same rules.
    let mut projection = vec![0usize];
    for (i, raw) in names.iter().enumerate().skip(1) {
        if CounterPath::parse(raw).is_ok_and(|p| p.is_needed_by_analysis()) {
            projection.push(i);
        }
    }
    // A forced schema: inference would pick Int64 for some columns and then fail on decimals.
    let schema: Schema = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let dtype = if i == 0 {
                DataType::String
            } else {
                DataType::Float64
            };
            Field::new(n.as_str().into(), dtype)
        })
        .collect();
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(schema)))
        .with_projection(Some(Arc::new(projection)))
        .map_parse_options(|o| o.with_null_values(Some(NullValues::AllColumnsSingle(" ".into()))))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .expect("polars opens the bench file")
        .finish()
        .expect("polars reads the bench file");
    let mut sum = 0.0;
    for column in df.columns().iter().skip(1) {
        let series = column.as_materialized_series();
        let values: Vec<f64> = series
            .f64()
            .expect("Float64 column")
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect();
        sum += values.iter().filter(|v| v.is_finite()).sum::<f64>();
    }
    (df.width() - 1, df.height(), sum)
}

/// Where the time goes: each phase adds one step of the reading work to the previous one, run
/// on the same file (`PERFLEAK_BENCH_PHASES=1`). Single-threaded, csv crate tokenizer, std
/// float parsing: the figures of the reader before it was made parallel.
fn phases(path: &Path) {
    use std::io::Read;
    let mb = std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / (1 << 20) as f64);
    let report = |what: &str, started: Instant| {
        let secs = started.elapsed().as_secs_f64();
        println!("  phase {what:<44} {secs:6.2} s {:7.0} MB/s", mb / secs);
    };
    let t = Instant::now();
    let mut file = std::fs::File::open(path).expect("bench file");
    let mut block = vec![0u8; 8 << 20];
    let mut newlines = 0usize;
    loop {
        let n = file.read(&mut block).expect("read");
        if n == 0 {
            break;
        }
        newlines += block[..n].iter().filter(|&&b| b == b'\n').count();
    }
    report("read 8 MB blocks + count newlines", t);

    let kept: Vec<usize> = {
        let names = header(env_usize("PERFLEAK_BENCH_COLUMNS", 3000));
        let mut kept = Vec::new();
        for (i, raw) in names.iter().enumerate().skip(1) {
            if CounterPath::parse(raw).is_ok_and(|p| p.is_needed_by_analysis()) {
                kept.push(i);
            }
        }
        kept
    };
    for parse_floats in [false, true] {
        let t = Instant::now();
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_path(path)
            .expect("bench file");
        let mut record = csv::ByteRecord::new();
        let mut fields = 0usize;
        let mut sum = 0.0;
        while csv.read_byte_record(&mut record).expect("csv record") {
            fields += record.len();
            if parse_floats && fields > record.len() {
                for &i in &kept {
                    let cell = std::str::from_utf8(&record[i]).unwrap_or("").trim();
                    sum += cell.parse::<f64>().unwrap_or(0.0);
                }
            }
        }
        let what = if parse_floats {
            "csv ByteRecord + std f64 parse of kept cells"
        } else {
            "csv ByteRecord tokenizing only"
        };
        report(what, t);
        std::hint::black_box((fields, sum));
    }
    let t = Instant::now();
    let log = read_file(path, &ReadOptions::default()).expect("perfleak reads the bench file");
    report("perfleak read_file (everything)", t);
    std::hint::black_box((newlines, log.columns.len()));
}

fn child(which: &str, path: &Path) {
    let started = Instant::now();
    let (columns, rows, sum) = match which {
        "ours" => run_ours(path),
        _ => run_polars(path),
    };
    let secs = started.elapsed().as_secs_f64();
    println!("RESULT {secs} {} {columns} {rows} {sum}", peak_rss_kb());
}

struct Measured {
    secs: f64,
    rss_mb: f64,
    columns: usize,
    rows: usize,
    sum: f64,
}

fn measure(which: &str, path: &Path) -> Measured {
    let exe = std::env::current_exe().expect("bench executable path");
    let out = Command::new(exe)
        .args(["child", which])
        .arg(path)
        .output()
        .expect("child bench runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| panic!("{which} failed: {}", String::from_utf8_lossy(&out.stderr)));
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
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 4 && args[1] == "child" {
        child(&args[2], &PathBuf::from(&args[3]));
        return;
    }
    if args.len() >= 3 && args[1] == "phases" {
        phases(&PathBuf::from(&args[2]));
        return;
    }
    let mb = env_usize("PERFLEAK_BENCH_MB", 1024) as u64;
    let columns = env_usize("PERFLEAK_BENCH_COLUMNS", 3000);
    let dir = tempfile::tempdir().expect("temp dir");
    // PERFLEAK_BENCH_KEEP=<path> writes the file there and leaves it for end-to-end runs; an
    // existing file of the right size is reused rather than generated again.
    let kept = std::env::var_os("PERFLEAK_BENCH_KEEP").map(PathBuf::from);
    let path = kept.clone().unwrap_or_else(|| dir.path().join("bench.csv"));
    let t = Instant::now();
    let reusable = kept.is_some()
        && std::fs::metadata(&path)
            .is_ok_and(|m| m.len() >= mb << 20 && m.len() < (mb << 20) + (4 << 20));
    let (bytes, rows) = if reusable {
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        (bytes, 0)
    } else {
        generate(&path, mb << 20, columns).expect("bench file written")
    };
    let file_mb = bytes as f64 / (1 << 20) as f64;
    let verb = if reusable { "reused" } else { "generated" };
    println!(
        "{verb} {file_mb:.0} MB, {columns} columns, {rows} rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    if std::env::var_os("PERFLEAK_BENCH_PHASES").is_some() {
        let exe = std::env::current_exe().expect("bench executable path");
        let status = Command::new(exe).arg("phases").arg(&path).status();
        if !status.is_ok_and(|s| s.success()) {
            println!("phases run failed");
        }
    }
    let ours = measure("ours", &path);
    let polars = measure("polars", &path);
    for (name, m) in [("perfleak", &ours), ("polars  ", &polars)] {
        println!(
            "{name}: {:.2} s, {:.0} MB/s, peak RSS {:.0} MB = {:.3} x file, {} columns x {} rows",
            m.secs,
            file_mb / m.secs,
            m.rss_mb,
            m.rss_mb / file_mb,
            m.columns,
            m.rows
        );
    }
    let agree = (ours.sum - polars.sum).abs() <= 1e-9 * ours.sum.abs().max(1.0);
    println!(
        "perfleak / polars: time {:.2}x, peak RSS {:.2}x; same columns and values: {}",
        ours.secs / polars.secs,
        ours.rss_mb / polars.rss_mb,
        ours.columns == polars.columns && ours.rows == polars.rows && agree
    );
}
