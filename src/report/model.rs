//! The one `Report` value per log that every writer (JSON, HTML, Markdown, PNG) reads, and
//! the selections they share (flagged series, likely cause, related articles), so every
//! document tells the same story.

use serde::Serialize;

use crate::analysis::{Finding, Verdict};
use crate::ingest::PerfLog;
use crate::kb::{KbMatch, MatchStrength};

pub const SCHEMA_VERSION: u32 = 1;

/// `source` block of report.json.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSource {
    pub path: String,
    pub format: String,
    pub machines: Vec<String>,
    /// First and last sample, local wall-clock time as in the log (ISO 8601, milliseconds).
    pub start: Option<String>,
    pub end: Option<String>,
    pub utc_offset_minutes: Option<i32>,
    pub samples: usize,
    pub interval_seconds: Option<f64>,
    /// Extensions beyond the contract.
    pub encoding: String,
    pub time_zone: Option<String>,
    pub segments: Vec<String>,
}

/// What a log's report says as a whole. `not-judged` (nothing analysable, or every series too
/// short to judge) is never shown as a healthy result: a triage tool that says "no leak" where
/// it did not look is worse than none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogStatus {
    Leak,
    Suspect,
    NotJudged,
    NoLeak,
}

impl LogStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LogStatus::Leak => "leak",
            LogStatus::Suspect => "suspect",
            LogStatus::NotJudged => "not-judged",
            LogStatus::NoLeak => "no-leak",
        }
    }

    /// The status in words, for titles, headings and the terminal.
    pub fn words(self) -> &'static str {
        match self {
            LogStatus::Leak => "leak found",
            LogStatus::Suspect => "possible leak",
            LogStatus::NotJudged => "not judged (too little data)",
            LogStatus::NoLeak => "no leak found",
        }
    }

    /// The status of a log with these findings.
    pub fn of(findings: &[Finding]) -> LogStatus {
        let any = |v: Verdict| findings.iter().any(|f| f.verdict == v);
        if any(Verdict::Leak) {
            LogStatus::Leak
        } else if any(Verdict::Suspect) {
            LogStatus::Suspect
        } else if findings
            .iter()
            .all(|f| f.verdict == Verdict::InsufficientData)
        {
            LogStatus::NotJudged
        } else {
            LogStatus::NoLeak
        }
    }
}

/// What to collect so that a log that could not be judged can be.
pub const COLLECT_NEXT: &str = "Collect at least 3 hours, better a day or more, of \\Process(*)\\Private Bytes, \\Process(*)\\Handle Count and \\Process(*)\\ID Process (and \\Memory\\Pool Nonpaged Bytes, Pool Paged Bytes, Committed Bytes and Commit Limit), sampled every 15 to 60 seconds.";

/// report.json (`schema_version` 1).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: String,
    /// The log as a whole: `leak`, `suspect`, `no-leak` or `not-judged`.
    pub status: LogStatus,
    pub source: ReportSource,
    pub findings: Vec<Finding>,
    pub kb_matches: Vec<KbMatch>,
    pub warnings: Vec<String>,
    /// Extension: the chart comparing the worst series, relative to the report folder; set
    /// by the report stage.
    pub overview_chart: Option<String>,
    /// How many findings after the flagged ones moved steadily towards a leak (they come
    /// first among the rest): what a log with nothing flagged shows first.
    #[serde(skip)]
    pub moved: usize,
    /// Link from report.html back to the batch's index.html, relative to the report folder;
    /// set by the batch when the report is one of several.
    #[serde(skip)]
    pub batch_index: Option<String>,
}

fn iso(ts: &chrono::NaiveDateTime) -> String {
    ts.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

impl Report {
    /// Assembles the report; findings are put worst first: the flagged ones by verdict,
    /// confidence and time to limit, then the others by how much and how steadily they moved
    /// towards a leak ([`super::triage`]).
    pub fn new(log: &PerfLog, mut findings: Vec<Finding>, kb_matches: Vec<KbMatch>) -> Report {
        findings.sort_by(Finding::worst_first);
        let (findings, moved) = super::triage::order(findings, log);
        Report {
            schema_version: SCHEMA_VERSION,
            tool: format!("perfleak {}", env!("CARGO_PKG_VERSION")),
            status: LogStatus::of(&findings),
            source: ReportSource {
                path: log.source.path.clone(),
                format: log.source.format.as_str().to_string(),
                machines: log.machines(),
                start: log.timestamps.first().map(iso),
                end: log.timestamps.last().map(iso),
                utc_offset_minutes: log.source.utc_offset_minutes,
                samples: log.timestamps.len(),
                interval_seconds: log.interval_seconds(),
                encoding: log.source.encoding.clone(),
                time_zone: log.source.time_zone.clone(),
                segments: log.source.segments.clone(),
            },
            findings,
            kb_matches,
            warnings: log.warnings.clone(),
            overview_chart: None,
            moved,
            batch_index: None,
        }
    }

    /// The leak and suspect findings, worst first: the series every document discusses.
    pub fn flagged(&self) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| f.verdict.is_flagged())
            .collect()
    }

    /// The series not flagged that moved most towards a leak, most first (at most `n`).
    pub fn moved_most(&self, n: usize) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| !f.verdict.is_flagged())
            .take(self.moved.min(n))
            .collect()
    }

    /// The log's machines for a title: `SRV01, SRV02`, or `unknown machine`.
    pub fn machines_label(&self) -> String {
        if self.source.machines.is_empty() {
            "unknown machine".to_string()
        } else {
            self.source.machines.join(", ")
        }
    }

    /// The verdict when nothing is flagged, saying how much was actually judged, and for a
    /// log that could not be judged, what to collect next.
    pub fn no_leak_sentence(&self) -> String {
        let total = self.findings.len();
        let unjudged = self
            .findings
            .iter()
            .filter(|f| f.verdict == Verdict::InsufficientData)
            .count();
        match (total, unjudged) {
            (0, _) => format!(
                "Not judged: the log holds no process or system memory series to analyse. {COLLECT_NEXT}"
            ),
            (t, u) if u == t => format!(
                "Not judged: all {t} series have too few samples or too short a span to judge (at least 3 hours are needed). {COLLECT_NEXT}"
            ),
            (t, 0) => format!("No leak found: none of the {t} analysed series grows like a leak."),
            (t, u) => format!(
                "No leak found: {} of {t} series look healthy; {u} have too little data to judge.",
                t - u
            ),
        }
    }

    /// The KB article the report names as the cause: the best match the matcher called
    /// `likely`. `possible` matches are only listed as related articles to check.
    pub fn likely_cause(&self) -> Option<&KbMatch> {
        self.kb_matches
            .iter()
            .find(|m| m.strength == MatchStrength::Likely)
    }

    /// Matches other than the likely cause, best first.
    pub fn other_matches(&self) -> impl Iterator<Item = &KbMatch> {
        let cause = self.likely_cause().map(|m| m.id.clone());
        self.kb_matches
            .iter()
            .filter(move |m| Some(&m.id) != cause.as_ref())
    }

    /// Up to four articles other than the likely cause as `ID (score)`, the ids passed
    /// through `escape` for the document they go into.
    pub fn related_articles(&self, escape: fn(&str) -> String) -> Vec<String> {
        self.other_matches()
            .take(4)
            .map(|k| {
                format!(
                    "{} ({})",
                    escape(&k.id),
                    super::format::percent_of_one(k.score)
                )
            })
            .collect()
    }
}
