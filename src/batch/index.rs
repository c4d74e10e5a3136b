//! index.html of a batch run: one row per log, worst first, linking each log's report, plus
//! the inputs that could not be read or reported. Self-contained (inline CSS), everything
//! from logs escaped.

use std::fmt::Write as _;

use crate::analysis::Verdict;
use crate::report::{duration_hours, escape_html, LogStatus, Report, SORT_SCRIPT};

use super::{InputFailure, LogOutcome};

/// How bad a log is, for ranking: (leaks, suspects, soonest time to limit).
fn badness(report: &Report) -> (usize, usize, f64) {
    let count = |v: Verdict| report.findings.iter().filter(|f| f.verdict == v).count();
    let soonest = report
        .findings
        .iter()
        .filter(|f| f.verdict.is_flagged())
        .filter_map(|f| f.time_to_limit_hours)
        .fold(f64::INFINITY, f64::min);
    (count(Verdict::Leak), count(Verdict::Suspect), soonest)
}

/// Orders logs worst first: by status (leak, suspect, not judged, no leak: a log that could
/// not be judged needs more attention than a healthy one); among them the one that runs out
/// soonest (that is the server to look at first), then more leaks, then more suspects.
pub fn rank_worst_first(outcomes: &mut [LogOutcome]) {
    outcomes.sort_by(|a, b| {
        let (la, sa, ta) = badness(&a.report);
        let (lb, sb, tb) = badness(&b.report);
        a.report
            .status
            .cmp(&b.report.status)
            .then(ta.total_cmp(&tb))
            .then(lb.cmp(&la))
            .then(sb.cmp(&sa))
            .then(a.folder.cmp(&b.folder))
    });
}

/// `2 with leaks, 1 possible leak, 3 not judged, 5 without leak`: how many logs have each status.
pub fn status_counts(statuses: impl Iterator<Item = LogStatus>) -> String {
    let mut counts = [0usize; 4];
    for status in statuses {
        counts[status as usize] += 1;
    }
    format!(
        "{} with leaks, {} possible, {} not judged, {} without leak",
        counts[0], counts[1], counts[2], counts[3]
    )
}

/// One line of index.html: what the batch index shows of a log. `merge` builds these from
/// summaries; a run builds them from its reports.
#[derive(Debug, Clone)]
pub struct IndexRow {
    /// Link to the log's report.html (already fit for an href), if it was written.
    pub href: Option<String>,
    pub log: String,
    pub status: LogStatus,
    pub machines: String,
    pub span: Option<(String, String)>,
    pub leaks: usize,
    pub suspects: usize,
    /// The worst flagged finding: (verdict, instance, counter).
    pub worst: Option<(String, String, String)>,
    /// Soonest time to limit of a flagged series, hours (infinite when none).
    pub soonest: f64,
    pub kb: Option<String>,
}

impl IndexRow {
    fn of(outcome: &LogOutcome) -> IndexRow {
        let report = &outcome.report;
        let (leaks, suspects, soonest) = badness(report);
        IndexRow {
            href: Some(format!("{}/report.html", outcome.folder)),
            log: report.source.path.clone(),
            status: report.status,
            machines: report.source.machines.join(", "),
            span: report.source.start.clone().zip(report.source.end.clone()),
            leaks,
            suspects,
            worst: report
                .findings
                .iter()
                .find(|f| f.verdict.is_flagged())
                .map(|f| {
                    let verdict = f.verdict.as_str().to_string();
                    (verdict, f.instance.clone(), f.counter.clone())
                }),
            soonest,
            kb: report.likely_cause().map(|m| m.id.clone()),
        }
    }
}

/// Orders index rows worst first, as [`rank_worst_first`] orders logs.
pub fn rank_rows(rows: &mut [IndexRow]) {
    rows.sort_by(|a, b| {
        a.status
            .cmp(&b.status)
            .then(a.soonest.total_cmp(&b.soonest))
            .then(b.leaks.cmp(&a.leaks))
            .then(b.suspects.cmp(&a.suspects))
            .then(a.href.cmp(&b.href))
            .then(a.log.cmp(&b.log))
    });
}

/// Renders index.html for logs already ranked worst first.
pub fn render_index(outcomes: &[LogOutcome], failures: &[InputFailure]) -> String {
    let rows: Vec<IndexRow> = outcomes.iter().map(IndexRow::of).collect();
    render_rows(&rows, failures)
}

/// The page's style: it fits a laptop screen (1366 px wide) without scrolling sideways; long
/// log paths wrap inside their column (the full path is also the cell's title).
const STYLE: &str = "body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:1.2em;color:#222}\
h1{font-size:1.3em}\
table{border-collapse:collapse;margin:1em 0;width:100%;font-size:.9em}\
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}\
th{background:#f0f0f0}table.sortable th{cursor:pointer;white-space:nowrap}\
table.sortable th[data-dir=asc]::after{content:' \\25B2'}table.sortable th[data-dir=desc]::after{content:' \\25BC'}\
td.log{max-width:26em;overflow-wrap:anywhere}tbody td:nth-child(3){white-space:nowrap}td.num{text-align:right;white-space:nowrap}td.span{min-width:9em}\
.leak{color:#b00020;font-weight:bold}.suspect{color:#b36b00}\
.ok{color:#2e7d32}.unjudged{color:#5f6b7a;font-style:italic}.fail{color:#b00020}\
.muted{color:#5f6b7a;font-size:.9em}";

/// `2025-09-15T00:00:00.000` as `2025-09-15 00:00`: short enough for the span column.
fn short_time(iso: &str) -> String {
    let text = iso.replacen('T', " ", 1);
    text.get(..16).map_or(text.clone(), str::to_string)
}

/// Renders index.html for rows already ranked worst first. The table sorts by a click on a
/// column heading (a few lines of inline script; the page stays one self-contained file) and
/// reads the same without script, in its worst-first order.
pub fn render_rows(rows: &[IndexRow], failures: &[InputFailure]) -> String {
    let mut html = String::new();
    let _ = writeln!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>perfleak batch report</title><style>{STYLE}</style></head><body>"
    );
    let _ = writeln!(
        html,
        "<h1>perfleak: {} logs reported, {}, {} inputs failed</h1>",
        rows.len(),
        status_counts(rows.iter().map(|r| r.status)),
        failures.len()
    );
    html.push_str(
        "<p class=\"muted\">Worst first; click a column heading to sort by it.</p>\n\
         <table class=\"sortable\"><thead><tr><th>#</th><th>Log</th><th>Status</th><th>Machines</th><th>Span</th><th>Leaks</th>\
         <th>Suspects</th><th>Worst finding</th><th>Soonest limit</th><th>KB</th></tr></thead><tbody>\n",
    );
    for (rank, row) in rows.iter().enumerate() {
        let worst = match &row.worst {
            Some((verdict, instance, counter)) => {
                let class = escape_html(verdict);
                format!(
                    "<span class=\"{class}\">{class}</span> {} {}",
                    escape_html(instance),
                    escape_html(counter)
                )
            }
            None => {
                let class = match row.status {
                    LogStatus::NotJudged => "unjudged",
                    _ => "ok",
                };
                format!("<span class=\"{class}\">{}</span>", row.status.words())
            }
        };
        let (span, span_key) = match &row.span {
            Some((s, e)) => (
                format!(
                    "{} to {}",
                    escape_html(&short_time(s)),
                    escape_html(&short_time(e))
                ),
                escape_html(s),
            ),
            None => ("-".to_string(), String::new()),
        };
        let log = match &row.href {
            Some(href) => format!(
                "<a href=\"{}\">{}</a>",
                escape_html(href),
                escape_html(&row.log)
            ),
            None => escape_html(&row.log),
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"log\" title=\"{}\">{log}</td>\
             <td data-v=\"{}\" class=\"{}\">{}</td><td>{}</td><td class=\"span\" data-v=\"{span_key}\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\" data-v=\"{}\">{}</td><td>{}</td></tr>",
            rank + 1,
            escape_html(&row.log),
            row.status as u8,
            match row.status {
                LogStatus::Leak => "leak",
                LogStatus::Suspect => "suspect",
                LogStatus::NotJudged => "unjudged",
                LogStatus::NoLeak => "ok",
            },
            row.status.as_str(),
            escape_html(&row.machines),
            span,
            row.leaks,
            row.suspects,
            worst,
            if row.soonest.is_finite() {
                format!("{}", row.soonest)
            } else {
                "1e308".to_string()
            },
            // Same wording as the logs' own reports; no flagged series with a limit reads `-`.
            if row.soonest.is_finite() {
                duration_hours(Some(row.soonest))
            } else {
                "-".to_string()
            },
            row.kb.as_deref().map(escape_html).unwrap_or_default()
        );
    }
    html.push_str("</tbody></table>\n");
    if !failures.is_empty() {
        html.push_str("<h2 class=\"fail\">Inputs that could not be read or reported</h2><table><thead><tr><th>Input</th><th>Error</th></tr></thead><tbody>\n");
        for failure in failures {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{}</td></tr>",
                escape_html(&failure.input),
                escape_html(&failure.error.to_string())
            );
        }
        html.push_str("</tbody></table>\n");
    }
    let _ = writeln!(
        html,
        "<p>Per-series figures for every log: <a href=\"summary.csv\">summary.csv</a>.</p>\n<script>{SORT_SCRIPT}</script></body></html>"
    );
    html
}
