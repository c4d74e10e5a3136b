//! The batch summary as a dataset (docs/summary-parquet.md): the columns that place each row
//! (`folder`, `start`, `end`, after those of summary.rs), the schema they make together, and
//! failures.csv, the inputs that could not be read or reported. What `merge` reads back.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use crate::report::Report;

use super::{FailureCause, InputFailure};
use crate::report::{self, Context, ReportError};

/// The batch file listing the inputs that failed (written only when some did).
pub const FAILURES_FILE: &str = "failures.csv";

/// Appends `folder` (the log's report folder, relative to the summary; empty when the report
/// could not be written), `start` and `end` (the log's span, as in report.json) to a summary
/// frame, matching rows to reports by `log`.
pub fn with_log_columns(
    mut frame: DataFrame,
    reports: &[(&Report, Option<&str>)],
) -> PolarsResult<DataFrame> {
    let by_log: HashMap<&str, &(&Report, Option<&str>)> = reports
        .iter()
        .map(|entry| (entry.0.source.path.as_str(), entry))
        .collect();
    let logs = frame.column("log")?.str()?.clone();
    let mut folder = Vec::with_capacity(logs.len());
    let mut start = Vec::with_capacity(logs.len());
    let mut end = Vec::with_capacity(logs.len());
    for log in logs.iter() {
        let entry = log.and_then(|l| by_log.get(l));
        folder.push(entry.and_then(|(_, f)| f.map(str::to_string)));
        start.push(entry.and_then(|(r, _)| r.source.start.clone()));
        end.push(entry.and_then(|(r, _)| r.source.end.clone()));
    }
    frame.with_column(Column::new("folder".into(), folder))?;
    frame.with_column(Column::new("start".into(), start))?;
    frame.with_column(Column::new("end".into(), end))?;
    Ok(frame)
}

/// The columns of summary.csv and summary.parquet, in order, with their types: those of an
/// empty summary, so this follows summary.rs as columns are added.
pub fn summary_schema() -> PolarsResult<Schema> {
    let empty = with_log_columns(super::summary_frame(&[])?, &[])?;
    Ok(empty.schema().as_ref().clone())
}

/// Writes failures.csv (`input`, `error`) through a temp file.
pub fn write_failures(failures: &[InputFailure], path: &Path) -> report::Result<()> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["input", "error"]).map_err(io_error)?;
    for failure in failures {
        out.write_record([
            report::escape_csv_cell(&failure.input).as_ref(),
            report::escape_csv_cell(&failure.error.to_string()).as_ref(),
        ])
        .map_err(io_error)?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    report::write_atomic(path, &bytes)
}

fn io_error(e: csv::Error) -> std::io::Error {
    e.into()
}

/// Reads failures.csv by column name; no file means no failures.
pub fn read_failures(path: &Path) -> report::Result<Vec<InputFailure>> {
    let mut reader = match csv::Reader::from_path(path) {
        Ok(reader) => reader,
        Err(e) if matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound) => {
            return Ok(Vec::new())
        }
        Err(e) => {
            return Err(io_error(e)).with_context(|| format!("cannot read {}", path.display()))
        }
    };
    let headers = reader
        .headers()
        .map_err(io_error)
        .with_context(|| format!("cannot read {}", path.display()))?
        .clone();
    let at = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ReportError::Summary(format!("{}: no column '{name}'", path.display())))
    };
    let (input, error) = (at("input")?, at("error")?);
    let mut failures = Vec::new();
    for record in reader.records() {
        let record = record
            .map_err(io_error)
            .with_context(|| path.display().to_string())?;
        failures.push(InputFailure {
            input: record.get(input).unwrap_or_default().to_string(),
            error: FailureCause::Recorded(record.get(error).unwrap_or_default().to_string()),
        });
    }
    Ok(failures)
}
