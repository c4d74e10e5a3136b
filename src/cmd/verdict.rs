//! The verdict on the terminal after `analyze`: one row per flagged series of a log (process,
//! counter, rate, time to its limit, severity), the KB article named and where the report is;
//! for a batch one row per log, worst first, and where the index is. Written to standard error
//! (standard output carries only `--json`), coloured only on a terminal without `NO_COLOR`.

use std::io::IsTerminal;
use std::path::Path;

use perfleak::analysis::{Finding, Severity, Verdict};
use perfleak::batch::LogOutcome;
use perfleak::format;
use perfleak::kb::MatchStrength;
use perfleak::report::{escape_terminal_line, moved_sentence, LogStatus, Report};

/// Rows of flagged series shown per log; the rest are counted and left to the report.
const MAX_ROWS: usize = 10;

/// Whether rows get ANSI colours: standard error is a terminal (or `CLICOLOR_FORCE` is set to
/// something other than 0) and `NO_COLOR` is not set to anything (<https://no-color.org>).
pub fn colour_wanted() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("NO_COLOR") {
        return false;
    }
    let forced = std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0");
    forced || std::io::stderr().is_terminal()
}

/// Paints text when colours are wanted: red for leaks and critical, yellow for suspects and
/// high, grey for what could not be judged.
#[derive(Clone, Copy)]
pub struct Paint {
    pub colour: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.colour && !code.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn status(self, status: LogStatus, text: &str) -> String {
        let code = match status {
            LogStatus::Leak => "1;31",
            LogStatus::Suspect => "33",
            LogStatus::NotJudged => "2",
            LogStatus::NoLeak => "32",
        };
        self.wrap(code, text)
    }

    fn severity(self, severity: Option<Severity>, text: &str) -> String {
        let code = match severity {
            Some(Severity::Critical) => "1;31",
            Some(Severity::High) => "31",
            Some(Severity::Medium) => "33",
            _ => "",
        };
        self.wrap(code, text)
    }
}

fn severity_word(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Critical) => "critical",
        Some(Severity::High) => "high",
        Some(Severity::Medium) => "medium",
        Some(Severity::Low) => "low",
        None => "-",
    }
}

/// Pads `text` (already escaped, uncoloured) to `width` characters.
fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

/// The figures of one flagged series: `[verdict, process, counter, rate, time to limit,
/// severity]`, each escaped and formatted by the crate's one formatter.
fn series_cells(f: &Finding) -> [String; 6] {
    let time = match (f.time_to_limit_hours, &f.limit) {
        (Some(_), Some(_)) => format!("limit in {}", format::duration_hours(f.time_to_limit_hours)),
        // The limit is known, but the growth gives no rate to reach it at.
        (None, Some(_)) => "no forecast".to_string(),
        (_, None) => "no limit known".to_string(),
    };
    [
        f.verdict.as_str().to_string(),
        escape_terminal_line(&f.instance).into_owned(),
        escape_terminal_line(&f.counter).into_owned(),
        format::rate(f.slope_per_hour, &f.unit),
        time,
        severity_word(f.severity).to_string(),
    ]
}

/// The rows of one log: its flagged series as an aligned table, then the KB article.
pub fn log_lines(report: &Report, paint: Paint) -> Vec<String> {
    let flagged = report.flagged();
    let mut lines = Vec::new();
    if flagged.is_empty() {
        lines.push(format!(
            "  {}",
            escape_terminal_line(&report.no_leak_sentence())
        ));
        // What moved most comes first, so a log without a verdict still says where to look.
        for f in report.moved_most(3) {
            lines.push(format!(
                "  moved most: {}",
                escape_terminal_line(&moved_sentence(f))
            ));
        }
    }
    let rows: Vec<[String; 6]> = flagged
        .iter()
        .take(MAX_ROWS)
        .map(|f| series_cells(f))
        .collect();
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for (row, f) in rows.iter().zip(&flagged) {
        let status = if f.verdict == Verdict::Leak {
            LogStatus::Leak
        } else {
            LogStatus::Suspect
        };
        let cells: Vec<String> = row[..5]
            .iter()
            .zip(widths)
            .map(|(cell, w)| pad(cell, w))
            .collect();
        lines.push(format!(
            "  {}  {}  {}  {}  {}  {}",
            paint.status(status, &cells[0]),
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            paint.severity(f.severity, &row[5])
        ));
    }
    if flagged.len() > MAX_ROWS {
        lines.push(format!(
            "  ... and {} more flagged series (see the report)",
            flagged.len() - MAX_ROWS
        ));
    }
    let best = report.likely_cause().or(report.kb_matches.first());
    if let Some(kb) = best {
        let how = match kb.strength {
            MatchStrength::Likely => "likely cause",
            MatchStrength::Possible => "related article to check",
        };
        lines.push(format!(
            "  KB {} ({how}): {}",
            escape_terminal_line(&kb.id),
            escape_terminal_line(&kb.title)
        ));
    }
    lines
}

/// The whole answer of one log: its status and name, its rows, its report.
pub fn single_lines(report: &Report, report_path: Option<&Path>, paint: Paint) -> Vec<String> {
    let mut lines = vec![format!(
        "{}: {} on {}",
        escape_terminal_line(&report.source.path),
        paint.status(report.status, report.status.words()),
        escape_terminal_line(&report.machines_label())
    )];
    lines.extend(log_lines(report, paint));
    if let Some(path) = report_path {
        lines.push(format!(
            "  report: {}",
            escape_terminal_line(&path.display().to_string())
        ));
    }
    lines
}

/// A batch: one row per log worst first (the outcomes come ranked), with its status, its
/// worst series, the KB article and its report folder, then where the index is (`None` with
/// `--json`: no folder exists to point to).
pub fn batch_lines(
    ranked: &[&LogOutcome],
    not_written: &[&LogOutcome],
    index: Option<&Path>,
    paint: Paint,
) -> Vec<String> {
    let all: Vec<(&LogOutcome, bool)> = ranked
        .iter()
        .map(|o| (*o, true))
        .chain(not_written.iter().map(|o| (*o, false)))
        .collect();
    let status_width = all
        .iter()
        .map(|(o, _)| o.report.status.as_str().len())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::new();
    for (outcome, written) in all {
        let report = &outcome.report;
        let status = pad(report.status.as_str(), status_width);
        let mut line = format!(
            "  {}  {}",
            paint.status(report.status, &status),
            escape_terminal_line(&report.source.path)
        );
        let flagged = report.flagged();
        if let Some(worst) = flagged.first() {
            let [_, process, counter, rate, time, severity] = series_cells(worst);
            line.push_str(&format!(": {process} {counter} {rate}, {time}, {severity}"));
            if flagged.len() > 1 {
                line.push_str(&format!(" (+{} more)", flagged.len() - 1));
            }
        }
        if let Some(kb) = report.likely_cause() {
            line.push_str(&format!("; KB {}", escape_terminal_line(&kb.id)));
        }
        if index.is_none() {
            // --json: no report folder exists to point to.
        } else if written {
            line.push_str(&format!(
                " [{}/report.html]",
                escape_terminal_line(&outcome.folder)
            ));
        } else {
            line.push_str(" [report not written]");
        }
        lines.push(line);
    }
    if let Some(index) = index {
        lines.push(format!(
            "  index: {}",
            escape_terminal_line(&index.display().to_string())
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_limit_without_a_rate_to_reach_it_is_no_forecast_not_an_unknown_limit() {
        let cells = |limit: Option<f64>, hours: Option<f64>| {
            series_cells(&Finding {
                limit,
                time_to_limit_hours: hours,
                ..Finding::default()
            })[4]
                .clone()
        };
        assert_eq!(cells(Some(2048.0), Some(48.0)), "limit in 2.0 days");
        assert_eq!(cells(Some(2048.0), None), "no forecast");
        assert_eq!(cells(None, None), "no limit known");
    }
}
