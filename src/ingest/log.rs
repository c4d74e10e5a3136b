//! The in-memory form of one perfmon log: what every later stage reads.

use super::Series;
use chrono::NaiveDateTime;
use serde::Serialize;

/// Text layout of the log as written by relog/the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Comma-separated PDH log (`relog -f csv`).
    PdhCsv,
    /// Tab-separated PDH log (`relog -f tsv`).
    PdhTsv,
    /// A PDH CSV saved again by a spreadsheet in a locale whose decimal mark is a comma:
    /// semicolons between cells, `9,571` for 9.571.
    PdhCsvSemicolon,
    /// Binary perfmon log (ETW container of PDH events), read natively.
    Blg,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::PdhCsv => "pdh-csv",
            LogFormat::PdhTsv => "pdh-tsv",
            LogFormat::PdhCsvSemicolon => "pdh-csv-semicolon",
            LogFormat::Blg => "blg",
        }
    }
}

/// `\\MACHINE\Object(Parent/Instance#N)\Counter`, with object and counter names mapped to
/// canonical English; the names as written in the log are kept for display.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CounterPath {
    /// Machine name without the leading `\\`; `None` when the path has no machine part.
    pub machine: Option<String>,
    /// Canonical English object name (`Process`, `Memory`, ...), or the original when unknown.
    pub object: String,
    /// Parent instance (`Thread(explorer/3)` has parent `explorer`).
    pub parent: Option<String>,
    /// Instance name without the `#N` suffix (`svchost`), `None` for single-instance objects.
    pub instance: Option<String>,
    /// The `#N` duplicate-instance suffix, when present.
    pub index: Option<u32>,
    /// Canonical English counter name (`Private Bytes`, `Handle Count`, ...).
    pub counter: String,
    /// Object name exactly as in the log (may be localized or lower case).
    pub original_object: String,
    /// Counter name exactly as in the log.
    pub original_counter: String,
}

impl CounterPath {
    /// The instance as written in the log, with its `#N` suffix (`svchost#1`).
    pub fn instance_label(&self) -> Option<String> {
        self.instance.as_ref().map(|name| match self.index {
            Some(n) => format!("{name}#{n}"),
            None => name.clone(),
        })
    }
}

/// One materialised column: a counter path and its values, `NaN` where the cell was blank,
/// kept encoded (decode with [`Series::to_vec`] where a series is worked on).
#[derive(Debug, Clone)]
pub struct Column {
    pub path: CounterPath,
    pub values: Series,
}

/// Where a log came from and how it was decoded.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// The path the user gave (or `archive.zip!entry.csv`, or `-` for stdin); for a joined
    /// run, the first segment's path.
    pub path: String,
    pub format: LogFormat,
    /// Character encoding the bytes were decoded with (`UTF-8`, `UTF-16LE`, `windows-1252`, ...).
    pub encoding: String,
    /// Why that encoding was chosen (a byte-order mark, `--encoding`, detected, ...).
    pub encoding_reason: String,
    /// Time zone name from the header cell, when present.
    pub time_zone: Option<String>,
    /// Offset of the log's local time from UTC in minutes (the negated PDH bias: Pacific = -480).
    pub utc_offset_minutes: Option<i32>,
    /// Paths of the segments joined into this timeline (one entry for a single file).
    pub segments: Vec<String>,
    /// What a binary log's header says (for `inspect`; not part of report.json).
    #[serde(skip)]
    pub blg: Option<super::blg::BlgInfo>,
}

/// A whole log: timestamps, the materialised columns and the names of every column.
#[derive(Debug, Clone)]
pub struct PerfLog {
    pub source: SourceInfo,
    /// Local wall-clock time of each sample, as written in the log.
    pub timestamps: Vec<NaiveDateTime>,
    /// Seconds since the first sample, on a monotonic UTC timeline (DST jumps and duplicate
    /// timestamps resolved); this is the time axis every analysis uses.
    pub elapsed_seconds: Vec<f64>,
    /// The columns the analysis and the KB matcher need (the `Process` object's memory and
    /// identity counters, `Memory`, and objects named by KB articles), in log order.
    pub columns: Vec<Column>,
    /// Every counter path in the header, materialised or not (for `inspect` and the KB matcher).
    pub all_paths: Vec<CounterPath>,
    /// Problems met while reading that did not stop it (file, line and column named).
    pub warnings: Vec<String>,
}

impl PerfLog {
    /// Distinct machine names, in first-seen order.
    pub fn machines(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for path in &self.all_paths {
            if let Some(m) = &path.machine {
                if !out.iter().any(|seen| seen.eq_ignore_ascii_case(m)) {
                    out.push(m.clone());
                }
            }
        }
        out
    }

    /// Distinct canonical object names present in the header, in first-seen order.
    pub fn objects(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for path in &self.all_paths {
            if !out.contains(&path.object) {
                out.push(path.object.clone());
            }
        }
        out
    }

    /// Median sampling interval in seconds, `None` with fewer than two samples.
    pub fn interval_seconds(&self) -> Option<f64> {
        let mut steps: Vec<f64> = self
            .elapsed_seconds
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| d.is_finite() && *d > 0.0)
            .collect();
        if steps.is_empty() {
            return None;
        }
        steps.sort_by(|a, b| a.total_cmp(b));
        Some(steps[steps.len() / 2])
    }

    /// Columns of real processes: `Process` and `Process V2`, without `_Total` and `Idle`.
    pub fn process_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.path.is_real_process())
    }
}
