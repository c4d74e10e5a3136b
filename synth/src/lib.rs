//! perfleak-synth: seeded generator of labelled PDH-CSV (and BLG) logs in scenario families
//! (healthy servers, leaks, warm-ups, sawtooth, steps, cycles, restarts) for the samples, tests
//! and benchmark, and a second generator of shapes the rules were never tuned on (`foreign.rs`).
//! A crate of its own: perfleak's tests and benchmarks use it, the shipped library does not.
//! The command line is `perfleak-synth` (src/main.rs).

pub mod blg;
mod corpus;
mod family;
mod foreign;
mod label;
mod load;
mod modern;
mod pdh;
mod samples;
pub mod score;

pub use corpus::{
    benchmark_logs, benchmark_logs_seeded, family_quota, log_plan, log_seed, system_logs,
    throughput_log, truth_counts, Split,
};
pub use family::{ar1_noise, Grid, Recipe, HANDLE_LIMIT};
pub use foreign::{foreign_logs, foreign_seed, ForeignShape, FOREIGN_ENV, FOREIGN_LOGS};
pub use label::{Difficulty, Family, LogLabels, SeriesLabel, Truth};
pub use load::load_logs;
pub use modern::{modern_logs, KbExpectation, ModernCase, MODERN_FAMILIES};
pub use pdh::{GeneratedLog, Lifetime, LogSpec, ObjectColumn, ServiceCounter, ServiceSpec};
pub use samples::{sample_logs, SAMPLE_NAMES};

use std::fs;
use std::io::BufWriter;
use std::path::Path;

use anyhow::Context;

// perfleak's modules under the names the generator used when it lived inside the library.
use perfleak::{analysis, ingest, vocab};

/// What the logs are written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SynthFormat {
    /// PDH-CSV text.
    #[default]
    Csv,
    /// A binary perfmon log.
    Blg,
}

/// What to write where: [`run`]'s options.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Folder to write into.
    pub out: std::path::PathBuf,
    /// `samples`, a benchmark split (`tune`, `test`), `wide`, `modern` or `foreign`.
    pub what: String,
    /// Random seed.
    pub seed: u64,
    /// File format of the logs.
    pub format: SynthFormat,
}

/// Environment variable scaling the benchmark corpus (1.0 = the protocol's full size).
pub const SCALE_ENV: &str = "PERFLEAK_BENCH_SCALE";

/// `perfleak-synth --out DIR [samples|tune|test|wide|modern|foreign] --seed N`: returns how
/// many logs it wrote.
pub fn run(args: &SynthOptions) -> anyhow::Result<usize> {
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let logs: Box<dyn Iterator<Item = GeneratedLog>> = match args.what.as_str() {
        "samples" => Box::new(sample_logs(args.seed).into_iter()),
        "tune" | "test" => {
            let split = if args.what == "tune" {
                Split::Tune
            } else {
                Split::Test
            };
            let scale = scale_from_env()?;
            Box::new(benchmark_logs_seeded(split, scale, args.seed))
        }
        "wide" => Box::new(std::iter::once(wide_log(args.seed)?)),
        "foreign" => Box::new(foreign_logs(foreign_count()?, args.seed)),
        "modern" => return write_modern(args),
        other => {
            anyhow::bail!(
                "unknown set `{other}` (expected samples, tune, test, wide, modern or foreign)"
            )
        }
    };
    let mut count = 0usize;
    for log in logs {
        write_log_as(&args.out, &log, args.format)?;
        count += 1;
    }
    Ok(count)
}

/// The modern KB families (4 logs each), each with `<name>.kb.json` naming the article a
/// matcher should rank first and whether it may be the likely cause.
fn write_modern(args: &SynthOptions) -> anyhow::Result<usize> {
    let cases = modern_logs(args.seed, 4);
    for case in &cases {
        write_log_as(&args.out, &case.log, args.format)?;
        let path = args.out.join(format!("{}.kb.json", case.log.name()));
        let expect = serde_json::json!({
            "family": case.family,
            "article": case.expect.article,
            "likely": case.expect.likely,
            "windows": case.expect.windows,
        });
        fs::write(&path, format!("{expect:#}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(cases.len())
}

/// One wide log for throughput benchmarks: `PERFLEAK_WIDE_SERIES` series (default 4,000) with as
/// many one-minute samples as fill `PERFLEAK_WIDE_MB` megabytes (default 1,024).
fn wide_log(seed: u64) -> anyhow::Result<GeneratedLog> {
    let number = |name: &str, default: usize| -> anyhow::Result<usize> {
        match std::env::var(name) {
            Ok(v) => v
                .trim()
                .parse()
                .with_context(|| format!("{name}={v}: not a whole number")),
            Err(_) => Ok(default),
        }
    };
    let megabytes = number("PERFLEAK_WIDE_MB", 1024)?;
    let series = number("PERFLEAK_WIDE_SERIES", 4000)?.max(2);
    // Row width depends on the generated values, so measure it on a short log of the same width.
    const PROBE_ROWS: usize = 20;
    let mut probe = Vec::new();
    throughput_log(series, PROBE_ROWS, seed).write_csv(&mut probe)?;
    let bytes_per_row = (probe.len() / PROBE_ROWS).max(1);
    let samples = (megabytes * 1024 * 1024 / bytes_per_row).max(PROBE_ROWS);
    Ok(throughput_log(series, samples, seed))
}

/// How many logs of the second generator: `PERFLEAK_BENCH_FOREIGN` (default 240).
pub fn foreign_count() -> anyhow::Result<usize> {
    match std::env::var(FOREIGN_ENV) {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("{FOREIGN_ENV}={v}: not a whole number")),
        Err(_) => Ok(FOREIGN_LOGS),
    }
}

/// The corpus scale from `PERFLEAK_BENCH_SCALE` (default 1.0).
pub fn scale_from_env() -> anyhow::Result<f64> {
    match std::env::var(SCALE_ENV) {
        Ok(v) => {
            let scale: f64 = v
                .trim()
                .parse()
                .with_context(|| format!("{SCALE_ENV}={v}: not a number"))?;
            anyhow::ensure!(
                scale > 0.0 && scale.is_finite(),
                "{SCALE_ENV}={v}: must be above 0"
            );
            Ok(scale)
        }
        Err(_) => Ok(1.0),
    }
}

/// Writes `<name>.csv` and `<name>.labels.json` into `dir`.
pub fn write_log(dir: &Path, log: &GeneratedLog) -> anyhow::Result<()> {
    write_log_as(dir, log, SynthFormat::Csv)
}

/// Writes `<name>.csv` (or `<name>.blg`) and `<name>.labels.json` into `dir`.
pub fn write_log_as(dir: &Path, log: &GeneratedLog, format: SynthFormat) -> anyhow::Result<()> {
    if format == SynthFormat::Blg {
        let path = dir.join(format!("{}.blg", log.name()));
        let file =
            fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        blg::write_generated(log, BufWriter::new(file))
            .and_then(|(mut out, _)| std::io::Write::flush(&mut out))
            .with_context(|| format!("cannot write {}", path.display()))?;
        return write_labels(dir, log);
    }
    let csv_path = dir.join(format!("{}.csv", log.name()));
    let file = fs::File::create(&csv_path)
        .with_context(|| format!("cannot create {}", csv_path.display()))?;
    let mut out = BufWriter::new(file);
    log.write_csv(&mut out)
        .with_context(|| format!("cannot write {}", csv_path.display()))?;
    std::io::Write::flush(&mut out)
        .with_context(|| format!("cannot write {}", csv_path.display()))?;
    write_labels(dir, log)
}

fn write_labels(dir: &Path, log: &GeneratedLog) -> anyhow::Result<()> {
    let labels_path = dir.join(format!("{}.labels.json", log.name()));
    fs::write(&labels_path, log.labels_json())
        .with_context(|| format!("cannot write {}", labels_path.display()))?;
    Ok(())
}
