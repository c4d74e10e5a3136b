//! What the analysis says about one (process instance, counter) series.

use serde::Serialize;

use crate::vocab::{Shape, Unit};

/// The verdict ladder of the contract.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Sustained growth that is not warm-up, cache, cycle, step or restart artefact.
    Leak,
    /// Growth, but the evidence is weak or the log too short.
    Suspect,
    Ok,
    /// Nothing could be judged; also what a [`Finding::default`] says until it is filled in.
    #[default]
    InsufficientData,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Leak => "leak",
            Verdict::Suspect => "suspect",
            Verdict::Ok => "ok",
            Verdict::InsufficientData => "insufficient-data",
        }
    }

    /// Growth worth a person's attention: `leak` or `suspect` (charted, matched to KB articles,
    /// counted by `--fail-on suspect`).
    pub fn is_flagged(self) -> bool {
        matches!(self, Verdict::Leak | Verdict::Suspect)
    }

    /// Higher is worse; used to order findings worst first.
    pub fn rank(self) -> u8 {
        match self {
            Verdict::Leak => 3,
            Verdict::Suspect => 2,
            Verdict::Ok => 1,
            Verdict::InsufficientData => 0,
        }
    }
}

/// How soon the counter reaches its limit, from the time-to-limit point estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Under 24 hours.
    Critical,
    /// Under 7 days.
    High,
    /// Under 30 days.
    Medium,
    Low,
}

/// A straight line `value = intercept + slope * hours` valid between two times (hours since
/// the log's first sample); used to draw the fitted trend of one lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrendLine {
    pub start_hours: f64,
    pub end_hours: f64,
    pub intercept: f64,
    pub slope_per_hour: f64,
}

impl TrendLine {
    pub fn at(&self, hours: f64) -> f64 {
        self.intercept + self.slope_per_hour * hours
    }
}

/// One reason behind a verdict: a sentence a person reads and a stable kebab-case code a
/// script reads (`growth-certain`, `limit-forecast`, `restart-masked`, ...). report.json
/// carries them as two arrays of one length, `reasons` and `reason_codes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub code: &'static str,
    pub text: String,
}

impl Reason {
    pub fn new(code: &'static str, text: impl Into<String>) -> Reason {
        Reason {
            code,
            text: text.into(),
        }
    }
}

/// A reason reads as its text (rules' tests ask `reasons[0].contains(...)`).
impl std::ops::Deref for Reason {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq<str> for Reason {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl PartialEq<String> for Reason {
    fn eq(&self, other: &String) -> bool {
        &self.text == other
    }
}

/// One analysed series. Fields up to `chart` are the contract's; the rest extend it.
/// `Finding::default()` is an empty, unjudged series (for tests and fixtures:
/// `Finding { verdict: Verdict::Leak, ..Finding::default() }`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Finding {
    /// Process image name without `#N` (`svchost`).
    pub process: String,
    /// Instance name exactly as in the log (`svchost#1`).
    pub instance: String,
    /// Process IDs seen (from `ID Process`), in order of appearance.
    pub pids: Vec<u32>,
    /// Canonical English counter name.
    pub counter: String,
    pub verdict: Verdict,
    /// 0..1: the probability that the verdict is right (calibrated: P(leak) for `leak` and
    /// `suspect`, P(no leak) for `ok` and `insufficient-data`).
    pub confidence: f64,
    /// Robust (Sen) slope in counter units per hour; `None` when not estimated.
    pub slope_per_hour: Option<f64>,
    pub slope_ci95: Option<[f64; 2]>,
    /// Least-squares R^2 of the tested lifetime(s).
    pub r_squared: Option<f64>,
    /// Trend test p-value (one-sided Mann-Kendall with autocorrelation correction).
    pub p_value: Option<f64>,
    pub first: Option<f64>,
    pub last: Option<f64>,
    pub growth_percent: Option<f64>,
    /// Number of process lifetimes (restarts + 1) in the series.
    pub segments: usize,
    /// The limit the forecast runs to, in counter units.
    pub limit: Option<f64>,
    pub time_to_limit_hours: Option<f64>,
    /// Chart file relative to the report folder, set by the report stage.
    pub chart: Option<String>,

    /// Machine the series was logged on.
    pub machine: Option<String>,
    pub severity: Option<Severity>,
    /// Benjamini-Hochberg adjusted p-value across all series of the log.
    pub q_value: Option<f64>,
    /// Interval of the time to limit from the slope's interval (upper bound `None` = never).
    pub time_to_limit_ci_hours: Option<[Option<f64>; 2]>,
    /// Ordinary least-squares slope per hour and its standard error (linregress).
    pub ols_slope_per_hour: Option<f64>,
    pub ols_slope_se: Option<f64>,
    /// Smallest slope per hour this series could have shown as a leak (for non-detections).
    pub min_detectable_slope_per_hour: Option<f64>,
    /// Shape class: `linear`, `stepwise`, `late-onset`, `restart-masked`, `warm-up`,
    /// `level-shift`, `growth-stopped`, `burst`, `cyclic`, `flat`, ...
    pub shape: Shape,
    /// Sentences a person can read, most important first.
    pub reasons: Vec<String>,
    /// One stable kebab-case code per reason, in the same order (docs/report-json.md lists
    /// them).
    pub reason_codes: Vec<String>,
    pub samples: usize,
    pub span_hours: f64,
    /// Unit of the counter for display (`bytes`, `handles`, `threads`).
    pub unit: Unit,
    /// What `limit` is (`commit headroom` (Commit Limit - Committed Bytes), `2 GB address
    /// space of a 32-bit process`, `handle alert threshold ...`).
    pub limit_name: Option<String>,
    /// The assumption the limit rests on, when the log does not prove it (bitness, the
    /// Windows era of a pool maximum).
    pub limit_assumption: Option<String>,
    /// A system-wide series (pool, commit, memory left, handles of all processes): what it is
    /// and its likely consumers. Absent from report.json for a process's series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<super::system::SystemSeries>,
    /// The verdict rules' own output (verdict, hand-set confidence) and the calibrated
    /// P(leak) that `confidence` comes from; absent until the rules have judged the series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<super::calibrate::Calibration>,
    /// What the second opinion on the rules' close calls read ([`super::opinion`]): absent
    /// where it does not judge the series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second_opinion: Option<super::opinion::SecondOpinion>,

    /// Index of the series' column in `PerfLog::columns` (for charts; not serialised).
    #[serde(skip)]
    pub column: usize,
    /// Sample indices where a new lifetime starts (restarts), for charts.
    #[serde(skip)]
    pub restarts: Vec<usize>,
    /// Sample indices of sharp drops the process's other counters refute as restarts (memory
    /// freed inside one life: no new lifetime), for charts.
    #[serde(skip)]
    pub refuted_drops: Vec<usize>,
    /// Robust trend line per tested lifetime.
    #[serde(skip)]
    pub robust_fits: Vec<TrendLine>,
    /// The robust line is a sawtooth's floors' (what the process keeps), below its samples: the
    /// forecast starts on it, not at the last samples.
    #[serde(skip)]
    pub fit_on_floors: bool,
    /// Least-squares trend line per tested lifetime.
    #[serde(skip)]
    pub ols_fits: Vec<TrendLine>,
    /// The values analysed when the series was stitched by PID across `#N` labels (None: the
    /// values of `column` itself); charts must draw these, not the column.
    #[serde(skip)]
    pub stitched_values: Option<Vec<f64>>,
}

impl Finding {
    /// Adds a reason and its code, keeping `reasons` and `reason_codes` in step.
    pub fn push_reason(&mut self, reason: Reason) {
        self.reason_codes.push(reason.code.to_string());
        self.reasons.push(reason.text);
    }

    /// Puts a reason and its code at `at` (0: first, the reason that explains the verdict).
    pub fn insert_reason(&mut self, at: usize, reason: Reason) {
        let at = at.min(self.reasons.len());
        self.reason_codes.insert(at, reason.code.to_string());
        self.reasons.insert(at, reason.text);
    }

    /// The text of the reason with this code, if the finding has one.
    pub fn reason(&self, code: &str) -> Option<&str> {
        self.reason_codes
            .iter()
            .position(|c| c == code)
            .and_then(|i| self.reasons.get(i))
            .map(String::as_str)
    }

    /// The sample values this finding was computed from, one per log timestamp.
    pub fn values<'a>(
        &'a self,
        log: &crate::ingest::PerfLog,
    ) -> Option<std::borrow::Cow<'a, [f64]>> {
        match &self.stitched_values {
            Some(values) => Some(std::borrow::Cow::Borrowed(values)),
            None => log
                .columns
                .get(self.column)
                .map(|c| std::borrow::Cow::Owned(c.values.to_vec())),
        }
    }

    /// A system-wide series whose growth named processes explain (their own findings come
    /// first: they are what to act on).
    pub fn explained_by_processes(&self) -> bool {
        self.system
            .as_ref()
            .is_some_and(|s| !s.likely_consumers.is_empty())
    }

    /// Sort key: worse verdict, then a process before the system series it explains, then
    /// higher confidence, then sooner exhaustion.
    pub fn worst_first(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        b.verdict
            .rank()
            .cmp(&a.verdict.rank())
            .then(a.explained_by_processes().cmp(&b.explained_by_processes()))
            .then(b.confidence.total_cmp(&a.confidence))
            .then(
                a.time_to_limit_hours
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.time_to_limit_hours.unwrap_or(f64::INFINITY)),
            )
            .then(a.instance.cmp(&b.instance))
            .then(a.counter.cmp(&b.counter))
    }
}
