//! summary.md: a short summary to paste into a ticket comment: verdict first, the top
//! findings as a table, the best KB match with its fix. Log-derived text is escaped.

use super::Result;

use super::escape::escape_markdown as md;
use super::format::{
    duration_hours, finding_details, headline, moved_sentence, percent_of_one, probability,
    quantity, rate,
};
use super::{RenderContext, Report, ReportWriter};

/// Rows of the findings table: enough for a ticket, the rest is in report.html.
const TOP_ROWS: usize = 10;

/// Writes `summary.md`.
pub struct MarkdownWriter;

impl ReportWriter for MarkdownWriter {
    fn file_name(&self) -> &str {
        "summary.md"
    }

    fn render(&self, report: &Report, _ctx: &RenderContext) -> Result<Vec<u8>> {
        Ok(render_markdown(report).into_bytes())
    }
}

fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let flagged = report.flagged();
    let machines = report.machines_label();

    match flagged.first() {
        Some(worst) => out.push_str(&format!(
            "### perfleak: {} on {}\n\n",
            md(&headline(worst)),
            md(&machines)
        )),
        None => out.push_str(&format!(
            "### perfleak: {} on {}\n\n",
            report.status.words(),
            md(&machines)
        )),
    }

    if flagged.is_empty() {
        out.push_str(&format!(
            "**Verdict:** {}\n\n",
            md(&report.no_leak_sentence())
        ));
        let moved = report.moved_most(5);
        if !moved.is_empty() {
            out.push_str("**Moved most** (not flagged; worth a look first):\n\n");
            for f in moved {
                out.push_str(&format!("- {}\n", md(&moved_sentence(f))));
            }
            out.push('\n');
        }
    } else {
        out.push_str("**Verdict:**\n\n");
        for f in flagged.iter().take(5) {
            out.push_str(&format!(
                "- **{}**: {}\n",
                md(&headline(f)),
                md(&finding_details(f))
            ));
        }
        if flagged.len() > 5 {
            out.push_str(&format!(
                "- … and {} more flagged series (see report.html)\n",
                flagged.len() - 5
            ));
        }
        out.push('\n');
    }

    match report.likely_cause() {
        Some(kb) => {
            out.push_str(&format!(
                "**Likely cause:** {} — {} (match score {})\n\n",
                md(&kb.id),
                md(&kb.title),
                percent_of_one(kb.score)
            ));
            for e in kb.evidence.iter().take(5) {
                out.push_str(&format!("- {}\n", md(e)));
            }
            if !kb.evidence.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("**Fix:** {}\n\n", md(&kb.fix)));
            let others = report.related_articles(md);
            if !others.is_empty() {
                out.push_str(&format!(
                    "Other candidate articles: {}\n\n",
                    others.join(", ")
                ));
            }
        }
        None if !flagged.is_empty() => {
            let related = report.related_articles(md);
            out.push_str(
                "**Likely cause:** no KB article explains these findings with confidence.",
            );
            if !related.is_empty() {
                out.push_str(&format!(
                    " Related articles to check: {}.",
                    related.join(", ")
                ));
            }
            out.push_str("\n\n");
        }
        None => {}
    }

    if !report.findings.is_empty() {
        out.push_str("| Process | Counter | Verdict | Confidence | Growth | First → last | Time to limit |\n");
        out.push_str("|---|---|---|---:|---:|---:|---:|\n");
        for f in report.findings.iter().take(TOP_ROWS) {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} → {} | {} |\n",
                md(&f.instance),
                md(&f.counter),
                f.verdict.as_str(),
                probability(f.confidence),
                md(&rate(f.slope_per_hour, &f.unit)),
                md(&quantity(f.first, &f.unit)),
                md(&quantity(f.last, &f.unit)),
                md(&duration_hours(f.time_to_limit_hours)),
            ));
        }
        if report.findings.len() > TOP_ROWS {
            out.push_str(&format!(
                "\n{} series in all; the full table is in report.html.\n",
                report.findings.len()
            ));
        }
        out.push('\n');
    }

    let s = &report.source;
    let span = match (&s.start, &s.end) {
        (Some(a), Some(b)) => format!("{} to {}", md(a), md(b)),
        _ => "no samples".to_string(),
    };
    let interval = s
        .interval_seconds
        .map(|v| format!(" every {v} s"))
        .unwrap_or_default();
    out.push_str(&format!(
        "_Log {}: {}, {} samples{}. {}._\n",
        md(&s.path),
        span,
        s.samples,
        interval,
        md(&report.tool)
    ));
    if !report.warnings.is_empty() {
        out.push_str(&format!(
            "_{} warning(s) while reading; see report.html._\n",
            report.warnings.len()
        ));
    }
    out
}
