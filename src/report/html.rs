//! report.html: one self-contained page (inline CSS, charts as data URIs, no external
//! resource) to attach to a ticket. Verdict and cause first, then one section per flagged
//! process, the table of every series, and the log's facts. All log-derived text is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Result;
use base64::Engine as _;

use super::escape::escape_html as h;
use super::format::{
    amount, display_unit, duration_hours, duration_interval, finding_details, finding_sentence,
    growth, headline, moved_sentence, number, p_value, percent_of_one, probability, process_label,
    quantity, rate, rate_interval,
};
use super::model::LogStatus;
use super::{RenderContext, Report, ReportWriter, CHART_HEIGHT, CHART_WIDTH};
use crate::analysis::{Finding, Verdict};

/// Writes `report.html`.
pub struct HtmlWriter;

impl ReportWriter for HtmlWriter {
    fn file_name(&self) -> &str {
        "report.html"
    }

    fn render(&self, report: &Report, ctx: &RenderContext) -> Result<Vec<u8>> {
        Ok(render_html(report, ctx.charts).into_bytes())
    }
}

const STYLE: &str = r#"
body{font-family:"Segoe UI",system-ui,-apple-system,"DejaVu Sans",Arial,sans-serif;margin:0;color:#1d2430;background:#f4f6f9;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px}
header{background:#1f2d3d;color:#fff;padding:18px 24px}
header h1{margin:0;font-size:1.5em;font-weight:600}
header p{margin:4px 0 0;color:#c9d3df;font-size:.95em}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:16px 22px;margin:0 0 20px}
h2{font-size:1.25em;margin:.2em 0 .6em;color:#1f2d3d}
h3{font-size:1.1em;margin:1em 0 .4em}
h4{font-size:1em;margin:1em 0 .3em}
.verdict{border-left:6px solid #888}
.verdict.leak{border-left-color:#c62828}.verdict.suspect{border-left-color:#ef8f00}.verdict.ok{border-left-color:#2e7d32}.verdict.unjudged{border-left-color:#78849b;background:#f3f4f6}
.headline{font-size:1.15em;font-weight:600;margin:.2em 0 .6em}
.badge{display:inline-block;white-space:nowrap;padding:1px 8px;border-radius:10px;font-size:.85em;font-weight:600;color:#fff;background:#777}
.badge.leak{background:#c62828}.badge.suspect{background:#ef8f00}.badge.ok{background:#2e7d32}.badge.insufficient-data{background:#78849b}
.kb{background:#f7f9fc;border:1px solid #dde3ea;border-radius:6px;padding:10px 16px;margin:12px 0}
.kb h3{margin-top:.3em}
.fix{background:#e8f5e9;border-radius:4px;padding:6px 10px}
img.chart{display:block;max-width:100%;height:auto;border:1px solid #dde3ea;border-radius:4px;margin:10px 0}
table{border-collapse:collapse;width:100%;font-size:.9em}
.scroll{overflow-x:auto}
th,td{border-bottom:1px solid #e3e8ee;padding:5px 6px;text-align:left;vertical-align:top}
th{background:#eef2f6;position:sticky;top:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.sortable th{cursor:pointer}
table.figures{width:auto;min-width:60%}
table.figures th{background:none;position:static;font-weight:600;width:16em}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;word-break:break-all}
.muted{color:#5f6b7a}
ul.reasons li{margin:2px 0}ul.reasons code.code{font-size:.78em;color:#5f6b7a;background:#eef2f6;border-radius:3px;padding:0 4px;white-space:nowrap}
footer{color:#5f6b7a;font-size:.85em;text-align:center;padding:0 0 24px}
header .back{margin:0 0 6px}header .back a{color:#c9d3df}
nav.toc{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:8px 22px 10px;margin:0 0 20px;font-size:.95em}
nav.toc h2{font-size:1em;margin:.3em 0}nav.toc ul{margin:0;padding-left:1.3em}nav.toc>ul{columns:2 18em}nav.toc li{break-inside:avoid}
"#;

/// Sorts a table by the clicked column (by a cell's `data-v` when it has one, numbers as
/// numbers); rows keep their worst-first order until then, so the page reads fully without
/// script. Used by report.html and the batch's index.html.
pub const SORT_SCRIPT: &str = r#"
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),asc=th.dataset.dir!=='asc';
      t.querySelectorAll('th').forEach(function(x){delete x.dataset.dir});th.dataset.dir=asc?'asc':'desc';
      rows.sort(function(r1,r2){
        var a=r1.cells[i].dataset.v!==undefined?r1.cells[i].dataset.v:r1.cells[i].textContent,
            c=r2.cells[i].dataset.v!==undefined?r2.cells[i].dataset.v:r2.cells[i].textContent,
            x=parseFloat(a),y=parseFloat(c),d=(!isNaN(x)&&!isNaN(y))?x-y:a.localeCompare(c);
        return asc?d:-d;});
      rows.forEach(function(r){b.appendChild(r)});
    });
  });
});
"#;

/// A report opened from a merged index (`perfleak merge`) carries the way back to it after
/// `#from=`: the back link then leads there, not to the index of the run that wrote the report.
/// Only a relative path to an `index.html` is taken (letters, digits, `._~%-` and `/`, any
/// `../` first): nothing in the address can make the link run script or leave the folders.
const BACK_SCRIPT: &str = r#"
(function(){
  var m=/^#from=((?:\.\.\/)*(?:[A-Za-z0-9._~%-]+\/)*index\.html)$/.exec(location.hash),a=document.getElementById('batch-index');
  if(m&&a){a.setAttribute('href',m[1]);a.textContent='\u2190 All logs of the merged batch';}
})();
"#;

fn render_html(report: &Report, charts: &BTreeMap<String, Vec<u8>>) -> String {
    let flagged = report.flagged();
    let machines = report.machines_label();
    let title = match flagged.first() {
        Some(f) => format!(
            "{} {} {}",
            f.instance,
            if f.verdict == Verdict::Leak {
                "leaks"
            } else {
                "may leak"
            },
            f.counter
        ),
        None => report.status.words().to_string(),
    };

    let mut o = String::with_capacity(64 * 1024);
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        o,
        "<title>perfleak: {} on {}</title>",
        h(&title),
        h(&machines)
    );
    let _ = writeln!(o, "<style>{STYLE}</style>\n</head>\n<body>");
    let back = match &report.batch_index {
        Some(href) => format!(
            "<p class=\"back\"><a href=\"{}\" id=\"batch-index\">← All logs of this batch</a></p>",
            h(href)
        ),
        None => String::new(),
    };
    let _ = writeln!(
        o,
        "<header>{back}<h1>perfleak report: {}</h1><p>{} · {}</p></header>\n<main>",
        h(&machines),
        h(&report.source.path),
        h(&span_text(report))
    );

    contents(&mut o, report, &flagged);
    verdict_section(&mut o, report, &flagged, charts);
    kb_section(&mut o, report);
    flagged_sections(&mut o, &flagged, charts);
    other_charts_section(&mut o, report, charts);
    all_series_section(&mut o, report);
    not_judged_section(&mut o, report);
    log_section(&mut o, report);

    let _ = writeln!(
        o,
        "</main>\n<footer>Written by {} · schema {} · figures in report.json</footer>",
        h(&report.tool),
        report.schema_version
    );
    let back_script = if report.batch_index.is_some() {
        BACK_SCRIPT
    } else {
        ""
    };
    let _ = writeln!(
        o,
        "<script>{SORT_SCRIPT}{back_script}</script>\n</body>\n</html>"
    );
    o
}

/// The table of contents: every section of the page, each flagged series under its process.
fn contents(o: &mut String, report: &Report, flagged: &[&Finding]) {
    let mut items: Vec<String> = vec!["<li><a href=\"#verdict\">Verdict</a></li>".into()];
    if let Some(kb) = report.likely_cause() {
        items.push(format!(
            "<li><a href=\"#cause\">Likely cause: {}</a></li>",
            h(&kb.id)
        ));
    }
    if flagged.is_empty() && !report.moved_most(5).is_empty() {
        items.push("<li><a href=\"#moved\">Moved most</a></li>".into());
    }
    for (k, (_, _, findings)) in groups(flagged).iter().enumerate() {
        let series: Vec<String> = findings
            .iter()
            .enumerate()
            .map(|(j, f)| {
                format!(
                    "<li><a href=\"#series-{}-{}\">{} ({})</a></li>",
                    k + 1,
                    j + 1,
                    h(&f.counter),
                    f.verdict.as_str()
                )
            })
            .collect();
        items.push(format!(
            "<li><a href=\"#process-{}\">{}</a><ul>{}</ul></li>",
            k + 1,
            h(&process_label(findings[0])),
            series.join("")
        ));
    }
    if report.other_matches().next().is_some() {
        items.push("<li><a href=\"#kb-matches\">All matching KB articles</a></li>".into());
    }
    let others = other_charted(report).len();
    if others > 0 {
        items.push(format!(
            "<li><a href=\"#other-charts\">Charts of the series not flagged ({others})</a></li>"
        ));
    }
    items.push(format!(
        "<li><a href=\"#all-series\">All series ({})</a></li>",
        report.findings.len()
    ));
    let unjudged = not_judged(report).len();
    if unjudged > 0 {
        items.push(format!(
            "<li><a href=\"#not-judged\">Not judged ({unjudged})</a></li>"
        ));
    }
    items.push("<li><a href=\"#log\">The log</a></li>".into());
    items.push(format!(
        "<li><a href=\"#warnings\">Warnings ({})</a></li>",
        report.warnings.len()
    ));
    let _ = writeln!(
        o,
        "<nav class=\"toc\" id=\"contents\" aria-label=\"Contents\"><h2>Contents</h2><ul>{}</ul></nav>",
        items.join("")
    );
}

/// The series not flagged that have a chart (`--charts all`), in report order.
fn other_charted(report: &Report) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| !f.verdict.is_flagged() && f.chart.is_some())
        .collect()
}

/// With `--charts all`: a chart per series not flagged, the ones that moved most first.
fn other_charts_section(o: &mut String, report: &Report, charts: &BTreeMap<String, Vec<u8>>) {
    let others = other_charted(report);
    if others.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "<section id=\"other-charts\">\n<h2>Charts of the series not flagged ({})</h2>\n<p class=\"muted\">Those that moved most first.</p>",
        others.len()
    );
    for (k, f) in others.iter().enumerate() {
        let on = f
            .machine
            .as_deref()
            .map(|m| format!(" on {}", h(m)))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "<h3 id=\"chart-{}\">{} {}{on} {}</h3>\n<p>{}</p>",
            k + 1,
            h(&process_label(f)),
            h(&f.counter),
            badge(f.verdict),
            h(&moved_sentence(f))
        );
        img(o, charts, f.chart.as_deref(), &super::chart::chart_alt(f));
    }
    o.push_str("</section>\n");
}

/// The series too short (or with too few samples) to judge.
fn not_judged(report: &Report) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::InsufficientData)
        .collect()
}

/// What was not judged, by name, so that "no leak found" is never read into it.
fn not_judged_section(o: &mut String, report: &Report) {
    const SHOWN: usize = 40;
    let unjudged = not_judged(report);
    if unjudged.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "<section id=\"not-judged\">\n<h2>Not judged ({})</h2>\n<p>Too few samples or too short a span to tell growth from noise; no verdict, healthy or not, is given for them.</p>\n<ul>",
        unjudged.len()
    );
    for f in unjudged.iter().take(SHOWN) {
        let _ = writeln!(
            o,
            "<li>{} {}: {} samples over {}</li>",
            h(&f.instance),
            h(&f.counter),
            f.samples,
            duration_hours(Some(f.span_hours))
        );
    }
    if unjudged.len() > SHOWN {
        let _ = writeln!(
            o,
            "<li>… and {} more in the table of all series</li>",
            unjudged.len() - SHOWN
        );
    }
    o.push_str("</ul>\n</section>\n");
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// ISO times with a space instead of the `T`, as people write them.
fn readable_time(iso: &str) -> String {
    iso.replacen('T', " ", 1)
}

fn span_text(report: &Report) -> String {
    match (&report.source.start, &report.source.end) {
        (Some(a), Some(b)) => format!("{} to {}", readable_time(a), readable_time(b)),
        _ => "no samples".to_string(),
    }
}

fn verdict_class(v: Verdict) -> &'static str {
    v.as_str()
}

fn badge(v: Verdict) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        verdict_class(v),
        v.as_str()
    )
}

fn img(o: &mut String, charts: &BTreeMap<String, Vec<u8>>, rel: Option<&str>, alt: &str) {
    let Some(bytes) = rel.and_then(|r| charts.get(r)) else {
        return;
    };
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    let _ = writeln!(
        o,
        "<img class=\"chart\" alt=\"{}\" width=\"{CHART_WIDTH}\" height=\"{CHART_HEIGHT}\" src=\"data:image/png;base64,{data}\">",
        h(alt)
    );
}

fn verdict_section(
    o: &mut String,
    report: &Report,
    flagged: &[&Finding],
    charts: &BTreeMap<String, Vec<u8>>,
) {
    let class = match flagged.first() {
        Some(f) => verdict_class(f.verdict),
        None if report.status == LogStatus::NotJudged => "unjudged",
        None => "ok",
    };
    let _ = writeln!(
        o,
        "<section class=\"verdict {class}\" id=\"verdict\">\n<h2>Verdict</h2>"
    );
    match flagged.first() {
        Some(worst) => {
            let _ = writeln!(
                o,
                "<p class=\"headline\">{} {}</p>",
                badge(worst.verdict),
                h(&headline(worst))
            );
            let _ = writeln!(o, "<p>{}</p>", h(&capitalize(&finding_details(worst))));
            if flagged.len() > 1 {
                o.push_str("<p>Also flagged:</p>\n<ul>\n");
                for f in flagged.iter().skip(1).take(8) {
                    let _ = writeln!(
                        o,
                        "<li>{} {}</li>",
                        badge(f.verdict),
                        h(&finding_sentence(f))
                    );
                }
                if flagged.len() > 9 {
                    let _ = writeln!(
                        o,
                        "<li>… {} more in the table below</li>",
                        flagged.len() - 9
                    );
                }
                o.push_str("</ul>\n");
            }
        }
        None => {
            let _ = writeln!(
                o,
                "<p class=\"headline\">{}</p>",
                h(&report.no_leak_sentence())
            );
            let moved = report.moved_most(5);
            if !moved.is_empty() {
                o.push_str(
                    "<p id=\"moved\">Moved most (not flagged; worth a look first):</p>\n<ul>\n",
                );
                for f in moved {
                    let _ = writeln!(o, "<li>{}</li>", h(&moved_sentence(f)));
                }
                o.push_str("</ul>\n");
            }
        }
    }

    match report.likely_cause() {
        Some(kb) => {
            let _ = writeln!(
                o,
                "<div class=\"kb\" id=\"cause\"><h3>Likely cause: {} — {}</h3>\n<p class=\"muted\">Match score {}{}</p>",
                h(&kb.id),
                h(&kb.title),
                percent_of_one(kb.score),
                if kb.processes.is_empty() {
                    String::new()
                } else {
                    format!(" · processes: {}", h(&kb.processes.join(", ")))
                }
            );
            if !kb.evidence.is_empty() {
                o.push_str("<p>Why this article:</p>\n<ul>\n");
                for e in &kb.evidence {
                    let _ = writeln!(o, "<li>{}</li>", h(e));
                }
                o.push_str("</ul>\n");
            }
            let _ = writeln!(
                o,
                "<p class=\"fix\"><strong>Fix:</strong> {}</p>\n</div>",
                h(&kb.fix)
            );
        }
        None if !flagged.is_empty() => {
            let related = report.related_articles(h);
            let related = if related.is_empty() {
                String::new()
            } else {
                format!(
                    " Related articles to check, none conclusive: {}.",
                    related.join(", ")
                )
            };
            let _ = writeln!(
                o,
                "<div class=\"kb\"><h3>Likely cause</h3><p>No KB article in the catalogue explains these findings with confidence.{related}</p></div>"
            );
        }
        None => {}
    }
    img(
        o,
        charts,
        report.overview_chart.as_deref(),
        "Change of the worst series since the first sample",
    );
    o.push_str("</section>\n");
}

fn kb_section(o: &mut String, report: &Report) {
    if report.other_matches().next().is_none() {
        return;
    }
    o.push_str("<section id=\"kb-matches\">\n<h2>All matching KB articles</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>Article</th><th>Title</th><th>Strength</th><th class=\"num\">Score</th><th>Evidence</th><th>Fix</th></tr></thead>\n<tbody>\n");
    for kb in &report.kb_matches {
        let evidence: Vec<String> = kb.evidence.iter().map(|e| h(e)).collect();
        // What kind of article it is and when it applies, so a guide or an article of another
        // era reads as such at a glance.
        let mut about = kb.kind.as_str().to_string();
        if !kb.windows.is_empty() {
            about.push_str("; Windows ");
            about.push_str(&kb.windows.join(", "));
        }
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}<br><small>{}</small></td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            h(&kb.id),
            h(&kb.title),
            h(&about),
            kb.strength.as_str(),
            percent_of_one(kb.score),
            evidence.join("<br>"),
            h(&kb.fix)
        );
    }
    o.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// A flagged process instance on its machine and its flagged series, worst first.
type Group<'a> = (&'a Option<String>, &'a str, Vec<&'a Finding>);

/// The flagged series grouped by process instance (on its machine), in worst-first order: one
/// section each, `process-K` with its series `series-K-J` (both from 1).
fn groups<'a>(flagged: &[&'a Finding]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for f in flagged {
        match groups
            .iter_mut()
            .find(|(m, i, _)| *m == &f.machine && *i == f.instance)
        {
            Some(g) => g.2.push(f),
            None => groups.push((&f.machine, &f.instance, vec![f])),
        }
    }
    groups
}

/// One section per flagged process instance (on its machine), its series in worst-first order.
fn flagged_sections(o: &mut String, flagged: &[&Finding], charts: &BTreeMap<String, Vec<u8>>) {
    for (k, (machine, _, findings)) in groups(flagged).iter().enumerate() {
        let first = findings[0];
        let on = machine
            .as_deref()
            .map(|m| format!(" on {}", h(m)))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "<section class=\"verdict {}\" id=\"process-{}\">\n<h2>{}{}</h2>",
            verdict_class(first.verdict),
            k + 1,
            h(&process_label(first)),
            on
        );
        for (j, f) in findings.iter().enumerate() {
            let _ = writeln!(
                o,
                "<h3 id=\"series-{}-{}\">{} {}</h3>",
                k + 1,
                j + 1,
                h(&f.counter),
                badge(f.verdict)
            );
            img(o, charts, f.chart.as_deref(), &super::chart::chart_alt(f));
            figures_table(o, f);
            if !f.reasons.is_empty() {
                o.push_str("<h4>Why</h4>\n<ul class=\"reasons\">\n");
                for (i, r) in f.reasons.iter().enumerate() {
                    let code = f
                        .reason_codes
                        .get(i)
                        .map(|c| format!(" <code class=\"code\" title=\"reason code in report.json\">{}</code>", h(c)))
                        .unwrap_or_default();
                    let _ = writeln!(o, "<li>{}{code}</li>", h(r));
                }
                o.push_str("</ul>\n");
            }
        }
        o.push_str("</section>\n");
    }
}

fn figures_table(o: &mut String, f: &Finding) {
    let rows: Vec<(&str, String)> = vec![
        (
            "Verdict",
            format!(
                "{} ({} confidence)",
                f.verdict.as_str(),
                probability(f.confidence)
            ),
        ),
        (
            "Severity",
            f.severity
                .map(|s| format!("{s:?}").to_lowercase())
                .unwrap_or_else(|| "n/a".into()),
        ),
        ("Shape", f.shape.to_string()),
        ("Growth (robust slope)", rate(f.slope_per_hour, &f.unit)),
        (
            "95% interval of the slope",
            rate_interval(f.slope_ci95, &f.unit),
        ),
        (
            "Least-squares slope",
            match (f.ols_slope_per_hour, f.ols_slope_se) {
                (Some(_), Some(se)) => format!(
                    "{} ± {}",
                    rate(f.ols_slope_per_hour, &f.unit),
                    quantity(Some(se), &f.unit)
                ),
                _ => rate(f.ols_slope_per_hour, &f.unit),
            },
        ),
        ("R²", number(f.r_squared, 3)),
        (
            "Trend p-value / q-value",
            format!("{} / {}", p_value(f.p_value), p_value(f.q_value)),
        ),
        (
            "First → last",
            format!(
                "{} → {}",
                quantity(f.first, &f.unit),
                quantity(f.last, &f.unit)
            ),
        ),
        ("Change", growth(f.growth_percent)),
        (
            "Limit",
            match &f.limit_name {
                Some(name) => format!("{} ({name})", quantity(f.limit, &f.unit)),
                None => quantity(f.limit, &f.unit),
            },
        ),
        ("Time to limit", duration_hours(f.time_to_limit_hours)),
        (
            "Interval of time to limit",
            duration_interval(f.time_to_limit_ci_hours),
        ),
        ("Lifetimes (restarts + 1)", f.segments.to_string()),
        (
            "Samples / span",
            format!("{} over {}", f.samples, duration_hours(Some(f.span_hours))),
        ),
    ];
    o.push_str("<table class=\"figures\">\n");
    for (name, value) in rows {
        let _ = writeln!(o, "<tr><th>{}</th><td>{}</td></tr>", h(name), h(&value));
    }
    o.push_str("</table>\n");
}

/// A sortable cell value: the number itself, or an extreme so missing values sort last
/// when ascending.
fn sort_key(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x}"),
        _ => "1e308".to_string(),
    }
}

fn all_series_section(o: &mut String, report: &Report) {
    let _ = writeln!(
        o,
        "<section id=\"all-series\">\n<h2>All series ({})</h2>\n<p class=\"muted\">Worst first; click a column heading to sort.</p>",
        report.findings.len()
    );
    if report.findings.is_empty() {
        o.push_str("<p>No series were analysed.</p>\n</section>\n");
        return;
    }
    // A machine column only helps when the log covers several machines.
    let several_machines = {
        let mut m: Vec<&str> = report
            .findings
            .iter()
            .filter_map(|f| f.machine.as_deref())
            .collect();
        m.sort_unstable();
        m.dedup();
        m.len() > 1
    };
    o.push_str("<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr>");
    if several_machines {
        o.push_str("<th>Machine</th>");
    }
    o.push_str("<th>Instance</th><th>Counter</th><th>Verdict</th><th class=\"num\">Confidence</th><th class=\"num\">Growth</th><th class=\"num\">R²</th><th class=\"num\">p-value</th><th class=\"num\">First</th><th class=\"num\">Last</th><th class=\"num\">Time to limit</th><th>Shape</th></tr></thead>\n<tbody>\n");
    for f in &report.findings {
        o.push_str("<tr>");
        if several_machines {
            let _ = write!(o, "<td>{}</td>", h(f.machine.as_deref().unwrap_or("")));
        }
        let _ = writeln!(
            o,
            "<td>{}</td><td>{}</td><td data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td><td>{}</td></tr>",
            h(&f.instance),
            h(&f.counter),
            3 - f.verdict.rank(),
            badge(f.verdict),
            if f.confidence.is_finite() { f.confidence } else { -1.0 },
            probability(f.confidence),
            sort_key(f.slope_per_hour),
            h(&rate(f.slope_per_hour, &f.unit)),
            sort_key(f.r_squared),
            number(f.r_squared, 3),
            sort_key(f.p_value),
            h(&p_value(f.p_value)),
            sort_key(f.first),
            h(&amount(f.first, &f.unit)),
            sort_key(f.last),
            h(&amount(f.last, &f.unit)),
            sort_key(f.time_to_limit_hours),
            h(&duration_hours(f.time_to_limit_hours)),
            h(f.shape.as_str()),
        );
    }
    o.push_str("</tbody>\n</table></div>\n");
    let units: Vec<&str> = {
        let mut u: Vec<&str> = report
            .findings
            .iter()
            .map(|f| display_unit(&f.unit))
            .collect();
        u.sort();
        u.dedup();
        u
    };
    let _ = writeln!(
        o,
        "<p class=\"muted\">Units: {}; First and Last are in the growth column's unit unless named; 1 MB = 1,048,576 bytes, 1 KB = 1,024 bytes.</p>\n</section>",
        h(&units.join(", "))
    );
}

fn log_section(o: &mut String, report: &Report) {
    let s = &report.source;
    let offset = s.utc_offset_minutes.map(|m| {
        let sign = if m < 0 { '-' } else { '+' };
        format!("UTC{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
    });
    let facts: Vec<(&str, String)> = vec![
        ("File", s.path.clone()),
        ("Format", s.format.clone()),
        (
            "Machines",
            if s.machines.is_empty() {
                "n/a".into()
            } else {
                s.machines.join(", ")
            },
        ),
        (
            "First sample",
            s.start.clone().unwrap_or_else(|| "n/a".into()),
        ),
        ("Last sample", s.end.clone().unwrap_or_else(|| "n/a".into())),
        (
            "Time zone",
            match (&s.time_zone, offset) {
                (Some(z), Some(off)) => format!("{z} ({off})"),
                (Some(z), None) => z.clone(),
                (None, Some(off)) => off,
                (None, None) => "not stated in the log".into(),
            },
        ),
        ("Samples", s.samples.to_string()),
        (
            "Interval",
            s.interval_seconds
                .map(|v| format!("{v} s"))
                .unwrap_or_else(|| "n/a".into()),
        ),
        ("Encoding", s.encoding.clone()),
        (
            "Segments",
            if s.segments.is_empty() {
                "1".into()
            } else {
                s.segments.join("\n")
            },
        ),
    ];
    o.push_str("<section id=\"log\">\n<h2>The log</h2>\n<dl class=\"facts\">\n");
    for (name, value) in facts {
        let value = h(&value).replace('\n', "<br>");
        let _ = writeln!(o, "<dt>{}</dt><dd>{}</dd>", h(name), value);
    }
    o.push_str("</dl>\n");
    let _ = writeln!(
        o,
        "<h3 id=\"warnings\">Warnings ({})</h3>",
        report.warnings.len()
    );
    if report.warnings.is_empty() {
        o.push_str("<p class=\"muted\">None.</p>\n");
    } else {
        o.push_str("<ul>\n");
        for w in &report.warnings {
            let _ = writeln!(o, "<li>{}</li>", h(w));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</section>\n");
}
