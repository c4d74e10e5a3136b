//! summary.csv (and optionally summary.parquet): one row per analysed series of every log,
//! built as a polars DataFrame so archive-scale runs can be queried with the usual tools.

use std::path::Path;

use polars::prelude::*;

use crate::analysis::Finding;
use crate::kb::MatchStrength;
use crate::report::{escape_csv_cell, Report};

/// The best `likely` KB match that names this finding's process (only for leaks and suspects).
fn top_kb_for(report: &Report, finding: &Finding) -> Option<String> {
    if !finding.verdict.is_flagged() {
        return None;
    }
    report
        .kb_matches
        .iter()
        .find(|m| {
            m.strength == MatchStrength::Likely
                && m.processes
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&finding.process))
        })
        .map(|m| m.id.clone())
}

/// One row per finding of every report, in the order given; a log without findings gets one
/// row of its own (its status, no series), so no log is missing from the summary.
pub fn summary_frame(reports: &[&Report]) -> PolarsResult<DataFrame> {
    let mut log = Vec::new();
    let mut status = Vec::new();
    let mut machine = Vec::new();
    let mut process = Vec::new();
    let mut instance = Vec::new();
    let mut counter = Vec::new();
    let mut verdict = Vec::new();
    let mut confidence = Vec::new();
    let mut slope = Vec::new();
    let mut growth = Vec::new();
    let mut ttl = Vec::new();
    let mut limit = Vec::new();
    let mut limit_name = Vec::new();
    let mut top_kb = Vec::new();
    let mut scope = Vec::new();
    let mut consumer = Vec::new();
    for report in reports {
        if report.findings.is_empty() {
            log.push(report.source.path.clone());
            status.push(report.status.as_str());
            machine.push(report.source.machines.first().cloned());
            process.push(None);
            instance.push(None);
            counter.push(None);
            verdict.push(None);
            confidence.push(None);
            slope.push(None);
            growth.push(None);
            ttl.push(None);
            limit.push(None);
            limit_name.push(None);
            top_kb.push(None);
            scope.push(None);
            consumer.push(None);
        }
        for f in &report.findings {
            log.push(report.source.path.clone());
            status.push(report.status.as_str());
            machine.push(f.machine.clone());
            process.push(Some(f.process.clone()));
            instance.push(Some(f.instance.clone()));
            counter.push(Some(f.counter.clone()));
            verdict.push(Some(f.verdict.as_str().to_string()));
            // As in report.json, a number that does not exist is empty, never `NaN`.
            confidence.push(Some(f.confidence).filter(|v| v.is_finite()));
            slope.push(f.slope_per_hour.filter(|v| v.is_finite()));
            growth.push(f.growth_percent.filter(|v| v.is_finite()));
            ttl.push(f.time_to_limit_hours.filter(|v| v.is_finite()));
            limit.push(f.limit.filter(|v| v.is_finite()));
            limit_name.push(f.limit_name.clone());
            top_kb.push(top_kb_for(report, f));
            scope.push(Some(if f.system.is_some() {
                "system"
            } else {
                "process"
            }));
            consumer.push(
                f.system
                    .as_ref()
                    .and_then(|s| s.likely_consumers.first())
                    .map(|c| c.instance.clone()),
            );
        }
    }
    df!(
        "log" => log,
        "machine" => machine,
        "process" => process,
        "instance" => instance,
        "counter" => counter,
        "verdict" => verdict,
        "confidence" => confidence,
        "slope_per_hour" => slope,
        "growth_percent" => growth,
        "time_to_limit_hours" => ttl,
        "top_kb" => top_kb,
        // Appended, so scripts reading the columns by position keep working.
        "status" => status,
        "limit" => limit,
        "limit_name" => limit_name,
        // `system` for a machine-wide series (pool, commit, memory left, all handles), whose
        // likeliest consumer process is named when one grew with it.
        "scope" => scope,
        "likely_consumer" => consumer,
    )
}

/// The frame with every text column defused; numbers stay numbers.
pub(crate) fn spreadsheet_safe(frame: &DataFrame) -> PolarsResult<DataFrame> {
    let columns = frame
        .columns()
        .iter()
        .map(|column| {
            if column.dtype() != &DataType::String {
                return Ok(column.clone());
            }
            let text: StringChunked = column
                .str()?
                .iter()
                .map(|cell| cell.map(escape_csv_cell))
                .collect();
            Ok(text.with_name(column.name().clone()).into_column())
        })
        .collect::<PolarsResult<Vec<Column>>>()?;
    DataFrame::new(frame.height(), columns)
}

/// Writes the frame as CSV to `path` (through a temp file, then rename). The CSV is for
/// spreadsheets, so its text cells are defused; the frame itself (and Parquet) keeps the text
/// as logged, for tools that query it.
pub fn write_csv(frame: &DataFrame, path: &Path) -> crate::report::Result<()> {
    let mut safe = spreadsheet_safe(frame)?;
    let mut bytes = Vec::new();
    CsvWriter::new(&mut bytes)
        .include_header(true)
        .finish(&mut safe)?;
    crate::report::write_atomic(path, &bytes)
}

/// Writes the frame as Parquet to `path` (through a temp file, then rename).
pub fn write_parquet(frame: &mut DataFrame, path: &Path) -> crate::report::Result<()> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(frame)?;
    crate::report::write_atomic(path, &bytes)
}
