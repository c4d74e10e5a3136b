//! report: one [`Report`] -> report.json, report.html, summary.md and charts/*.png.
//! Each format is one writer behind [`ReportWriter`]; [`write_report_dir`] draws the charts
//! first and writes the documents last, each through a temp file and a rename, so a folder
//! that holds report.html always holds a whole report.

mod chart;
mod error;
mod escape;
mod format;
mod html;
mod json;
mod markdown;
mod model;
mod triage;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use crate::ingest::PerfLog;

pub use chart::{chart_file_stem, register_chart_font, CHART_HEIGHT, CHART_WIDTH};
pub use error::{Context, ReportError, Result};
pub use escape::{
    escape_csv_cell, escape_html, escape_json_text, escape_markdown, escape_terminal,
    escape_terminal_line, is_unsafe_char,
};
pub use format::{duration_hours, moved_sentence};
pub use html::{HtmlWriter, SORT_SCRIPT};
pub use json::{to_json, to_json_line, JsonWriter};
pub use markdown::MarkdownWriter;
pub use model::{LogStatus, Report, ReportSource, COLLECT_NEXT, SCHEMA_VERSION};

/// Folder (inside the report folder) that holds the PNG charts.
pub const CHARTS_DIR: &str = "charts";
/// File stem of the chart that compares the worst series.
pub const OVERVIEW_STEM: &str = "overview";

/// At most this many per-series charts in one report (the worst flagged series).
pub const MAX_SERIES_CHARTS: usize = 40;
/// At most this many with `--charts all` (the flagged ones, then those that moved most): each
/// chart adds about 100 KB to report.html.
pub const MAX_ALL_CHARTS: usize = 400;

/// Which series get a chart of their own (`--charts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ChartSet {
    /// The flagged series (leak, suspect) and the overview: the default.
    #[default]
    Flagged,
    /// Every analysed series, and the overview.
    All,
    /// No charts at all: a small report, quick to write.
    None,
}

/// What a writer may need besides the report: the log (for sample values and times) and the
/// charts already rendered, keyed by their path relative to the report folder.
pub struct RenderContext<'a> {
    pub log: &'a PerfLog,
    pub charts: &'a BTreeMap<String, Vec<u8>>,
}

/// One output document of a report.
pub trait ReportWriter {
    /// File name inside the report folder.
    fn file_name(&self) -> &str;
    fn render(&self, report: &Report, ctx: &RenderContext) -> Result<Vec<u8>>;
}

/// Renders every chart, sets `Finding::chart` for the flagged series, then writes summary.md,
/// report.json and report.html (in that order) into `dir`, each atomically. Nothing else in
/// `dir` is touched: the batch writes into a fresh folder and swaps it in whole
/// (src/batch/place.rs), which is what removes an earlier report's charts.
pub fn write_report_dir(report: &mut Report, log: &PerfLog, dir: &Path) -> Result<()> {
    write_report_dir_with(report, log, dir, ChartSet::Flagged)
}

/// [`write_report_dir`] drawing the charts of `charts`.
pub fn write_report_dir_with(
    report: &mut Report,
    log: &PerfLog,
    dir: &Path,
    charts: ChartSet,
) -> Result<()> {
    let charts_dir = dir.join(CHARTS_DIR);
    std::fs::create_dir_all(&charts_dir)
        .with_context(|| format!("cannot create report folder {}", charts_dir.display()))?;

    let charts = render_charts(report, log, charts)?;
    for (rel, bytes) in &charts {
        write_atomic(&dir.join(rel), bytes)?;
    }

    let ctx = RenderContext {
        log,
        charts: &charts,
    };
    let writers: [&dyn ReportWriter; 3] = [&MarkdownWriter, &JsonWriter, &HtmlWriter];
    for writer in writers {
        let bytes = writer
            .render(report, &ctx)
            .with_context(|| format!("cannot render {}", writer.file_name()))?;
        write_atomic(&dir.join(writer.file_name()), &bytes)?;
    }
    Ok(())
}

/// Draws the per-series charts (of flagged findings, or of all with [`ChartSet::All`]) and the
/// overview; records each chart's path in the report. A series whose chart cannot be drawn
/// keeps `chart: null` and gets a warning, since one bad series must not cost the whole report.
fn render_charts(
    report: &mut Report,
    log: &PerfLog,
    set: ChartSet,
) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut charts = BTreeMap::new();
    if set == ChartSet::None {
        for finding in &mut report.findings {
            finding.chart = None;
        }
        report.overview_chart = None;
        return Ok(charts);
    }
    register_chart_font()?;
    let timeline = chart::Timeline::new(log);
    let mut used: HashSet<String> = HashSet::new();
    used.insert(OVERVIEW_STEM.to_string());
    let mut problems = Vec::new();

    // Findings are worst first; a log where hundreds of series leak gets charts for the worst
    // ones only, so the report stays readable and its size bounded.
    let (limit, what) = match set {
        ChartSet::All => (MAX_ALL_CHARTS, "analysed"),
        _ => (MAX_SERIES_CHARTS, "flagged"),
    };
    let mut planned = Vec::new();
    let mut wanted = 0usize;
    for (index, finding) in report.findings.iter_mut().enumerate() {
        finding.chart = None;
        if set == ChartSet::Flagged && !finding.verdict.is_flagged() {
            continue;
        }
        wanted += 1;
        if planned.len() < limit {
            planned.push((index, unique_stem(&chart_file_stem(finding), &mut used)));
        }
    }
    if wanted > planned.len() {
        problems.push(format!(
            "charts drawn for the {} worst of {wanted} {what} series",
            planned.len()
        ));
    }
    let findings = &report.findings;
    let rendered: Vec<_> = planned
        .par_iter()
        .map(|(index, stem)| {
            let finding = &findings[*index];
            let png = chart::render_series_chart(finding, &timeline).map_err(|e| {
                format!(
                    "chart for {} {} not drawn: {e:#}",
                    finding.instance, finding.counter
                )
            });
            (*index, stem, png)
        })
        .collect();
    for (index, stem, png) in rendered {
        match png {
            Ok(png) => {
                let rel = format!("{CHARTS_DIR}/{stem}.png");
                report.findings[index].chart = Some(rel.clone());
                charts.insert(rel, png);
            }
            Err(problem) => problems.push(problem),
        }
    }
    match chart::render_overview_chart(report, &timeline) {
        Ok(Some(png)) => {
            let rel = format!("{CHARTS_DIR}/{OVERVIEW_STEM}.png");
            report.overview_chart = Some(rel.clone());
            charts.insert(rel, png);
        }
        Ok(None) => report.overview_chart = None,
        Err(e) => {
            report.overview_chart = None;
            problems.push(format!("overview chart not drawn: {e:#}"));
        }
    }
    report.warnings.extend(problems);
    Ok(charts)
}

/// `stem`, or `stem-2`, `stem-3`, ... when an earlier series took it (case-insensitive
/// file systems see `A` and `a` as one file, and stems are lower case already).
fn unique_stem(stem: &str, used: &mut HashSet<String>) -> String {
    let mut candidate = stem.to_string();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{stem}-{n}");
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

/// Writes through a temp file in the same folder and renames it over `path`, so a reader sees
/// the old file or the whole new one, never half; the temp file is removed on any failure.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".perfleak-")
        .suffix(".tmp")
        .tempfile_in(parent)
        .with_context(|| format!("cannot create a temp file in {}", parent.display()))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    // Temp files are created owner-only; a report is meant to be shared like any other file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o644);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set permissions of {}", tmp.path().display()))?;
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_made_unique() {
        let mut used = HashSet::new();
        used.insert(OVERVIEW_STEM.to_string());
        assert_eq!(
            unique_stem("svchost-handle-count", &mut used),
            "svchost-handle-count"
        );
        assert_eq!(
            unique_stem("svchost-handle-count", &mut used),
            "svchost-handle-count-2"
        );
        assert_eq!(
            unique_stem("svchost-handle-count", &mut used),
            "svchost-handle-count-3"
        );
        assert_eq!(unique_stem("overview", &mut used), "overview-2");
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.txt")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644, "readable by others like any written file");
        }
    }

    #[test]
    fn atomic_write_into_missing_folder_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(&dir.path().join("nope/a.txt"), b"x").unwrap_err();
        assert!(format!("{err:#}").contains("nope"), "{err:#}");
    }
}
