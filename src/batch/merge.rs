//! `perfleak merge`: batch output folders (of shards, of days, of merges) joined into one
//! index.html (worst first across all), one summary.csv and, when every input has one, one
//! summary.parquet. One folder's summary is in memory at a time: the CSV and Parquet are
//! written as each folder is read; only one index line per log is kept until the end.
//! Reports are not copied: the merged index links them where they are, by relative paths,
//! and the merged `folder` column names them relative to the merged summary.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use polars::prelude::{
    Column, CsvReadOptions, CsvWriter, DataFrame, DataType, IntoColumn, ParquetReader,
    ParquetWriter, PolarsResult, Schema, SerReader, SerWriter, StringChunked,
};

use crate::report::{self, Context, LogStatus, ReportError};

/// Refuses the merge, saying why.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err(ReportError::Refused(format!($($arg)*)))
    };
}

/// Refuses the merge unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            bail!($($arg)*);
        }
    };
}

use super::dataset::{read_failures, summary_schema, FAILURES_FILE};
use super::index::{rank_rows, render_rows, IndexRow};
use super::InputFailure;

/// Rows of summary.parquet written at a time (one row group): bounds what the merge holds.
const ROW_GROUP_ROWS: usize = 65_536;

/// What to merge and where.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// Output folders of `perfleak analyze` runs (batch layout) or of earlier merges.
    pub inputs: Vec<PathBuf>,
    /// Where index.html, summary.csv (and summary.parquet) go; not one of the inputs.
    pub out: PathBuf,
}

/// What a merge wrote.
#[derive(Debug)]
pub struct Merged {
    pub folders: usize,
    /// Index lines, one per log, ranked worst first.
    pub rows: Vec<IndexRow>,
    pub failures: Vec<InputFailure>,
    /// Rows written to summary.csv.
    pub summary_rows: usize,
    /// Whether summary.parquet was written (every input had one).
    pub parquet: bool,
}

/// One input folder: as named, and resolved.
struct Input {
    named: PathBuf,
    real: PathBuf,
}

/// Merges the inputs into `options.out`. Nothing is written when an input is not a batch
/// output folder or is the output itself.
pub fn merge(options: &MergeOptions) -> report::Result<Merged> {
    let inputs = check_inputs(options)?;
    let parquet = inputs
        .iter()
        .all(|i| i.real.join("summary.parquet").is_file());
    let mut schema = summary_schema()?;
    for input in &inputs {
        for name in column_names(input, parquet)? {
            if !schema.contains(&name) {
                // A column this version does not know (a newer summary): kept, as text.
                schema.with_column(name.into(), DataType::String);
            }
        }
    }
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    let out = std::fs::canonicalize(&options.out)
        .with_context(|| format!("cannot resolve {}", options.out.display()))?;

    let mut csv_file = temp_in(&out)?;
    let mut parquet_file = if parquet { Some(temp_in(&out)?) } else { None };
    let mut csv = BufWriter::new(csv_file.as_file_mut());
    let mut header = DataFrame::empty_with_schema(&schema);
    CsvWriter::new(&mut csv)
        .include_header(true)
        .finish(&mut header)?;
    let mut parquet_writer = match &mut parquet_file {
        Some(file) => Some(ParquetWriter::new(file.as_file_mut()).batched(&schema)?),
        None => None,
    };

    let mut rows = Vec::new();
    let mut failures = Vec::new();
    let mut summary_rows = 0;
    let mut pending: Option<DataFrame> = None;
    for input in &inputs {
        let frame = read_summary(input, parquet)?;
        let frame = conform(frame, &schema, input, &out)
            .with_context(|| format!("{}: summary does not fit", input.named.display()))?;
        index_rows(&frame, &out, &mut rows)
            .with_context(|| format!("{}: cannot read the summary", input.named.display()))?;
        let mut safe = super::summary::spreadsheet_safe(&frame)?;
        CsvWriter::new(&mut csv)
            .include_header(false)
            .finish(&mut safe)?;
        summary_rows += frame.height();
        if let Some(writer) = &mut parquet_writer {
            // Row groups of a useful size for readers, not one per folder: a bounded buffer.
            match &mut pending {
                Some(buffer) => {
                    buffer.vstack_mut_owned(frame)?;
                }
                None => pending = Some(frame),
            }
            if pending
                .as_ref()
                .is_some_and(|b| b.height() >= ROW_GROUP_ROWS)
            {
                if let Some(mut buffer) = pending.take() {
                    buffer.rechunk_mut();
                    writer.write_batch(&buffer)?;
                }
            }
        }
        failures.extend(read_failures(&input.real.join(FAILURES_FILE))?);
    }
    csv.flush()
        .with_context(|| "cannot write summary.csv".to_string())?;
    drop(csv);
    if let Some(mut writer) = parquet_writer {
        if let Some(mut buffer) = pending.take() {
            buffer.rechunk_mut();
            writer.write_batch(&buffer)?;
        }
        writer.finish()?;
    }
    rank_rows(&mut rows);
    let html = render_rows(&rows, &failures);
    persist(csv_file, &out.join("summary.csv"))?;
    if let Some(file) = parquet_file {
        persist(file, &out.join("summary.parquet"))?;
    }
    if failures.is_empty() {
        let _ = std::fs::remove_file(out.join(FAILURES_FILE));
    } else {
        super::dataset::write_failures(&failures, &out.join(FAILURES_FILE))?;
    }
    crate::report::write_atomic(&out.join("index.html"), html.as_bytes())?;
    Ok(Merged {
        folders: inputs.len(),
        rows,
        failures,
        summary_rows,
        parquet,
    })
}

/// Every input a batch output folder, none twice, none the output.
fn check_inputs(options: &MergeOptions) -> report::Result<Vec<Input>> {
    ensure!(!options.inputs.is_empty(), "nothing to merge");
    let out = std::fs::canonicalize(&options.out).ok();
    let mut seen = HashSet::new();
    let mut inputs = Vec::new();
    for named in &options.inputs {
        let real = std::fs::canonicalize(named)
            .with_context(|| format!("{}: cannot open", named.display()))?;
        ensure!(real.is_dir(), "{}: not a folder", named.display());
        if out.as_ref() == Some(&real) {
            bail!(
                "{}: is one of the folders to merge; the merge goes to a folder of its own",
                options.out.display()
            );
        }
        ensure!(
            seen.insert(real.clone()),
            "{}: given twice",
            named.display()
        );
        ensure!(
            real.join("summary.csv").is_file(),
            "{}: no summary.csv: not the output of a batch run (several logs, or --shard) or of a merge",
            named.display()
        );
        inputs.push(Input {
            named: named.clone(),
            real,
        });
    }
    Ok(inputs)
}

fn temp_in(dir: &Path) -> report::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".perfleak-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temp file in {}", dir.display()))
}

fn persist(file: tempfile::NamedTempFile, path: &Path) -> report::Result<()> {
    file.as_file()
        .sync_all()
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        // Temp files are owner-only; a summary is shared like the reports.
        use std::os::unix::fs::PermissionsExt;
        let _ = file
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    file.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The column names of an input's summary, without reading its rows.
fn column_names(input: &Input, parquet: bool) -> report::Result<Vec<String>> {
    if parquet {
        let path = input.real.join("summary.parquet");
        let mut reader = ParquetReader::new(open(&path)?);
        let schema = reader
            .schema()
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(schema.iter_names().map(|n| n.to_string()).collect());
    }
    let path = input.real.join("summary.csv");
    let mut reader = csv::Reader::from_reader(open(&path)?);
    let headers = reader
        .headers()
        .map_err(std::io::Error::from)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(headers.iter().map(str::to_string).collect())
}

fn open(path: &Path) -> report::Result<File> {
    File::open(path).with_context(|| format!("cannot open {}", path.display()))
}

/// One input's summary: the Parquet when every input has one (its text is as logged), else
/// the CSV, every cell read as text (types come from the schema, never guessed: a machine
/// named `007` stays `007`).
fn read_summary(input: &Input, parquet: bool) -> report::Result<DataFrame> {
    if parquet {
        let path = input.real.join("summary.parquet");
        return ParquetReader::new(open(&path)?)
            .finish()
            .with_context(|| format!("cannot read {}", path.display()));
    }
    let path = input.real.join("summary.csv");
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.clone()))
        .and_then(|reader| reader.finish())
        .with_context(|| format!("cannot read {}", path.display()))
}

/// The frame with the merged columns in order and types (absent ones empty) and `folder`
/// made relative to the output.
fn conform(
    frame: DataFrame,
    schema: &Schema,
    input: &Input,
    out: &Path,
) -> PolarsResult<DataFrame> {
    let height = frame.height();
    let mut columns = Vec::with_capacity(schema.len());
    for (name, dtype) in schema.iter() {
        let column = match frame.column(name) {
            Ok(column) if column.dtype() == dtype => column.clone(),
            Ok(column) => column.strict_cast(dtype)?,
            Err(_) => Column::full_null(name.clone(), height, dtype),
        };
        columns.push(column);
    }
    let mut frame = DataFrame::new(height, columns)?;
    let folders: StringChunked = frame
        .column("folder")?
        .str()?
        .iter()
        .map(|f| {
            // A folder name never holds `'`: one in front is the CSV's defusing (`'-x`).
            f.map(|f| f.strip_prefix('\'').unwrap_or(f))
                .filter(|f| !f.is_empty())
                .map(|f| slash_path(&relative(out, &input.real.join(f))))
        })
        .collect();
    frame.with_column(folders.with_name("folder".into()).into_column())?;
    Ok(frame)
}

/// The path from folder `from` to `to` (both absolute, resolved).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in common..from.len() {
        path.push("..");
    }
    for part in &to[common..] {
        path.push(part);
    }
    path
}

fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A relative path as a URL path: bytes other than letters, digits, `-._~/` percent-encoded.
fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parse_status(text: &str) -> Option<LogStatus> {
    [
        LogStatus::Leak,
        LogStatus::Suspect,
        LogStatus::NotJudged,
        LogStatus::NoLeak,
    ]
    .into_iter()
    .find(|s| s.as_str() == text)
}

/// The link to a log's report from the merged index at `out`: its folder (relative to `out`),
/// and after `#from=` the way back from the report to this index. A report's own back link
/// leads to the index of the run that wrote it; its page follows `#from=` instead, so a reader
/// who came from the merged index returns to it.
fn report_href(out: &Path, folder: &str) -> String {
    let mut report = out.to_path_buf();
    for part in Path::new(folder).components() {
        match part {
            Component::ParentDir => {
                report.pop();
            }
            Component::CurDir => {}
            other => report.push(other),
        }
    }
    let back = slash_path(&relative(&report, out).join("index.html"));
    format!("{}/report.html#from={}", url_path(folder), url_path(&back))
}

/// One index line per log of a summary (a log's rows are consecutive, worst finding first).
fn index_rows(frame: &DataFrame, out: &Path, rows: &mut Vec<IndexRow>) -> report::Result<()> {
    let text =
        |name: &str| -> report::Result<StringChunked> { Ok(frame.column(name)?.str()?.clone()) };
    let (log, status, machine) = (text("log")?, text("status")?, text("machine")?);
    let (verdict, instance, counter) = (text("verdict")?, text("instance")?, text("counter")?);
    let (top_kb, folder, start, end) = (
        text("top_kb")?,
        text("folder")?,
        text("start")?,
        text("end")?,
    );
    let ttl = frame.column("time_to_limit_hours")?.f64()?.clone();
    let mut last: Option<(Option<&str>, Option<&str>)> = None;
    for i in 0..frame.height() {
        let key = (folder.get(i), log.get(i));
        if last != Some(key) {
            last = Some(key);
            let status_text = status.get(i).unwrap_or_default();
            let status = parse_status(status_text).ok_or_else(|| {
                ReportError::Summary(format!("row {}: unknown status '{status_text}'", i + 1))
            })?;
            rows.push(IndexRow {
                href: folder.get(i).map(|f| report_href(out, f)),
                log: log.get(i).unwrap_or_default().to_string(),
                status,
                machines: String::new(),
                span: start
                    .get(i)
                    .zip(end.get(i))
                    .map(|(s, e)| (s.to_string(), e.to_string())),
                leaks: 0,
                suspects: 0,
                worst: None,
                soonest: f64::INFINITY,
                kb: None,
            });
        }
        let Some(row) = rows.last_mut() else { continue };
        if let Some(m) = machine.get(i) {
            if !row.machines.split(", ").any(|known| known == m) {
                if !row.machines.is_empty() {
                    row.machines.push_str(", ");
                }
                row.machines.push_str(m);
            }
        }
        let v = verdict.get(i).unwrap_or_default();
        if v != "leak" && v != "suspect" {
            continue;
        }
        if v == "leak" {
            row.leaks += 1;
        } else {
            row.suspects += 1;
        }
        if row.worst.is_none() {
            let (inst, ctr) = (
                instance.get(i).unwrap_or_default(),
                counter.get(i).unwrap_or_default(),
            );
            row.worst = Some((v.to_string(), inst.to_string(), ctr.to_string()));
        }
        if let Some(t) = ttl.get(i).filter(|t| t.is_finite()) {
            row.soonest = row.soonest.min(t);
        }
        if row.kb.is_none() {
            row.kb = top_kb.get(i).map(str::to_string);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_then_descend() {
        let rel = relative(Path::new("/a/b/out"), Path::new("/a/c/shard 1/srv01"));
        assert_eq!(slash_path(&rel), "../../c/shard 1/srv01");
        assert_eq!(
            slash_path(&relative(Path::new("/a"), Path::new("/a/x"))),
            "x"
        );
        assert_eq!(url_path("../c/shard 1/srv#1"), "../c/shard%201/srv%231");
    }

    #[test]
    fn a_report_link_carries_the_way_back_to_the_merged_index() {
        let out = Path::new("/a/b/out");
        assert_eq!(
            report_href(out, "../../c/shard 1/srv01"),
            "../../c/shard%201/srv01/report.html#from=../../../b/out/index.html"
        );
        assert_eq!(
            report_href(out, "sub/srv01"),
            "sub/srv01/report.html#from=../../index.html"
        );
    }
}
