//! `perfleak merge` at archive scale (issue 21): 1,000 small batch folders (3 logs each, the
//! summaries of a real run of the samples with the log names made unique per folder) merged
//! into one index.html, summary.csv and summary.parquet. Prints the time and the peak memory
//! of the merge process (wait4), against a merge of 10 of the same folders run in the same go:
//! a memory ratio near 1 is the one-summary-at-a-time design holding. `cargo bench --bench merge`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use polars::prelude::{
    CsvWriter, DataFrame, IntoColumn, NamedFrom, ParquetReader, ParquetWriter, SerReader,
    SerWriter, Series,
};

const FOLDERS: usize = 1_000;
const BASELINE: usize = 10;

fn perfleak() -> Command {
    Command::new(env!("CARGO_BIN_EXE_perfleak"))
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// A real batch folder of 3 sample logs, with summary.parquet.
fn template(root: &Path) -> PathBuf {
    let out = root.join("template");
    let status = perfleak()
        .args(["analyze", "-q", "--summary-parquet", "-o"])
        .arg(&out)
        .args(
            [
                "healthy-server.csv",
                "thirdparty-leak.csv",
                "winlogon-smtp-leak.csv",
            ]
            .map(sample),
        )
        .status()
        .unwrap();
    assert!(status.success());
    out
}

/// `count` batch folders under `root`: the template's index.html and summaries, each
/// folder's log names its own; with or without summary.parquet.
fn folders(template: &Path, root: &Path, count: usize, parquet: bool) -> Vec<PathBuf> {
    let file = std::fs::File::open(template.join("summary.parquet")).unwrap();
    let frame = ParquetReader::new(file).finish().unwrap();
    let index = std::fs::read(template.join("index.html")).unwrap();
    (0..count)
        .map(|i| {
            let dir = root.join(format!("b{i:04}"));
            std::fs::create_dir_all(&dir).unwrap();
            let logs: Vec<Option<String>> = frame
                .column("log")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|l| l.map(|l| format!("ticket{i:04}/{l}")))
                .collect();
            let mut copy: DataFrame = frame.clone();
            copy.with_column(Series::new("log".into(), logs).into_column())
                .unwrap();
            let mut csv = std::fs::File::create(dir.join("summary.csv")).unwrap();
            CsvWriter::new(&mut csv).finish(&mut copy).unwrap();
            if parquet {
                let out = std::fs::File::create(dir.join("summary.parquet")).unwrap();
                ParquetWriter::new(out).finish(&mut copy).unwrap();
            }
            std::fs::write(dir.join("index.html"), &index).unwrap();
            dir
        })
        .collect()
}

/// Runs the merge as its own process: (seconds, peak resident memory in MB).
// The child is reaped by wait4, which also gives its own peak memory (Child::wait would not).
#[allow(clippy::zombie_processes)]
fn merge(inputs: &[PathBuf], out: &Path) -> (f64, f64) {
    let start = Instant::now();
    let child = perfleak()
        .arg("merge")
        .args(inputs)
        .arg("-o")
        .arg(out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for this child only, which is
    // not waited for elsewhere.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(pid, child.id() as i32);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "merge failed"
    );
    // ru_maxrss is in KB on Linux.
    (seconds, usage.ru_maxrss as f64 / 1024.0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let template = template(root);
    let with_parquet = folders(&template, &root.join("pq"), FOLDERS, true);
    let csv_only = folders(&template, &root.join("csv"), FOLDERS, false);
    let rows_each = std::fs::read_to_string(template.join("summary.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;

    // The floor: reading every summary.csv once, nothing else.
    let start = Instant::now();
    let bytes: usize = csv_only
        .iter()
        .map(|d| std::fs::read(d.join("summary.csv")).unwrap().len())
        .sum();
    let floor = start.elapsed().as_secs_f64();

    let (t_base, m_base) = merge(&with_parquet[..BASELINE], &root.join("m-base"));
    let (t_pq, m_pq) = merge(&with_parquet, &root.join("m-pq"));
    let (t_csv, m_csv) = merge(&csv_only, &root.join("m-csv"));
    let merged_rows = std::fs::read_to_string(root.join("m-pq/summary.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(merged_rows, FOLDERS * rows_each);

    println!(
        "merge: {FOLDERS} batch folders of 3 logs ({rows_each} summary rows each, {merged_rows} rows, {:.1} MB of summary.csv)",
        bytes as f64 / 1e6
    );
    println!(
        "  baseline, {BASELINE} folders (parquet):  {:>7.3} s  peak {:>6.1} MB",
        t_base, m_base
    );
    println!(
        "  {FOLDERS} folders, csv + parquet:       {:>7.3} s  peak {:>6.1} MB  ({:.1} ms a folder; time x{:.0}, memory x{:.2} of the baseline)",
        t_pq,
        m_pq,
        t_pq * 1e3 / FOLDERS as f64,
        t_pq / t_base,
        m_pq / m_base
    );
    println!(
        "  {FOLDERS} folders, csv only:            {:>7.3} s  peak {:>6.1} MB  ({:.1} ms a folder; time x{:.0}, memory x{:.2} of the baseline)",
        t_csv,
        m_csv,
        t_csv * 1e3 / FOLDERS as f64,
        t_csv / t_base,
        m_csv / m_base
    );
    println!(
        "  reading the {FOLDERS} summary.csv files alone: {:.3} s ({:.0}x less than the csv-only merge)",
        floor,
        t_csv / floor
    );
}
