//! Ground truth carried by every generated series: its scenario family, whether it is a leak,
//! and the true parameters (slope, onset, level, limit, time to limit) the benchmark scores against.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::foreign::ForeignShape;

/// Scenario families of the evaluation protocol (research note, section 6.1), numbered 1-17.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    LinearLeak,
    SlowLeak,
    StepwiseLeak,
    RestartLeak,
    SawtoothLeak,
    CyclicLeak,
    LateOnsetLeak,
    Flat,
    WarmUp,
    CacheFill,
    Sawtooth,
    DailyCycle,
    Bursts,
    LevelShift,
    Restarts,
    LoadDriven,
    ShortLog,
    /// Families 18-21 (issue #18, `load.rs`): logs that carry load counters.
    LoadGrowth,
    SteadyLoadLeak,
    DailyLoadLeak,
    DailyLoadHealthy,
    /// A shape of the second generator (`foreign.rs`), named (and written in labels) by the
    /// shape alone: not a protocol family, in neither [`Family::ALL`] nor [`Family::LOAD`].
    #[serde(untagged)]
    Foreign(ForeignShape),
}

impl Family {
    pub const ALL: [Family; 17] = [
        Family::LinearLeak,
        Family::SlowLeak,
        Family::StepwiseLeak,
        Family::RestartLeak,
        Family::SawtoothLeak,
        Family::CyclicLeak,
        Family::LateOnsetLeak,
        Family::Flat,
        Family::WarmUp,
        Family::CacheFill,
        Family::Sawtooth,
        Family::DailyCycle,
        Family::Bursts,
        Family::LevelShift,
        Family::Restarts,
        Family::LoadDriven,
        Family::ShortLog,
    ];

    /// The load families (18-21), generated in logs of their own (`load.rs`): not in [`ALL`],
    /// so the plan of the protocol's logs, and their seeds, stay as they were.
    ///
    /// [`ALL`]: Family::ALL
    pub const LOAD: [Family; 4] = [
        Family::LoadGrowth,
        Family::SteadyLoadLeak,
        Family::DailyLoadLeak,
        Family::DailyLoadHealthy,
    ];

    /// The family's number in the protocol table (1-17), then the load families (18-21), then
    /// the second generator's shapes (22-34).
    pub fn number(self) -> u8 {
        if let Family::Foreign(shape) = self {
            return (Family::ALL.len() + Family::LOAD.len() + 1 + shape.index()) as u8;
        }
        Family::ALL
            .iter()
            .chain(&Family::LOAD)
            .position(|f| *f == self)
            .unwrap_or(0) as u8
            + 1
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::LinearLeak => "linear-leak",
            Family::SlowLeak => "slow-leak",
            Family::StepwiseLeak => "stepwise-leak",
            Family::RestartLeak => "restart-leak",
            Family::SawtoothLeak => "sawtooth-leak",
            Family::CyclicLeak => "cyclic-leak",
            Family::LateOnsetLeak => "late-onset-leak",
            Family::Flat => "flat",
            Family::WarmUp => "warm-up",
            Family::CacheFill => "cache-fill",
            Family::Sawtooth => "sawtooth",
            Family::DailyCycle => "daily-cycle",
            Family::Bursts => "bursts",
            Family::LevelShift => "level-shift",
            Family::Restarts => "restarts",
            Family::LoadDriven => "load-driven",
            Family::ShortLog => "short-log",
            Family::LoadGrowth => "load-growth",
            Family::SteadyLoadLeak => "steady-load-leak",
            Family::DailyLoadLeak => "daily-load-leak",
            Family::DailyLoadHealthy => "daily-load-healthy",
            Family::Foreign(shape) => shape.name(),
        }
    }

    /// Families 1-7 and the load families' leaks: the series grows without bound (label 1);
    /// a foreign shape by its own truth.
    pub fn is_leak(self) -> bool {
        match self {
            Family::Foreign(shape) => shape.truth() == Truth::Leak,
            f => f.number() <= 7 || matches!(f, Family::SteadyLoadLeak | Family::DailyLoadLeak),
        }
    }

    /// A family of the logs that carry load counters (`load.rs`).
    pub fn is_load(self) -> bool {
        Family::LOAD.contains(&self)
    }

    /// The same process structure without the trend: what a leak family's non-leaking counter
    /// looks like (a restarting process restarts on every counter, a cycle cycles on every counter).
    pub fn twin(self) -> Family {
        match self {
            Family::RestartLeak => Family::Restarts,
            Family::SawtoothLeak => Family::Sawtooth,
            Family::CyclicLeak => Family::DailyCycle,
            Family::SteadyLoadLeak => Family::LoadGrowth,
            Family::DailyLoadLeak => Family::DailyLoadHealthy,
            f @ Family::Foreign(_) => f,
            f if f.is_leak() => Family::Flat,
            f => f,
        }
    }
}

/// The answer a perfect detector gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Truth {
    Leak,
    NotLeak,
    /// Either answer is defensible (slow warm-up, a burst still running at the end, load-driven
    /// growth, a column shared by several processes); scored apart from precision and recall.
    Ambiguous,
}

/// Difficulty tercile of a leak, from its signal-to-noise ratio (growth over the log / noise sd).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    pub fn from_snr(snr: f64) -> Difficulty {
        if snr < 4.0 {
            Difficulty::Hard
        } else if snr < 16.0 {
            Difficulty::Medium
        } else {
            Difficulty::Easy
        }
    }
}

/// The ground truth of one (process instance, counter) column of a generated log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesLabel {
    pub machine: String,
    /// Image name without `#N`.
    pub process: String,
    /// Instance as written in the column header (`w3wp#1`).
    pub instance: String,
    /// Canonical counter name (`Private Bytes`, `Handle Count`).
    pub counter: String,
    /// Process IDs that occupied the column, in order of appearance.
    pub pids: Vec<u32>,
    pub family: Family,
    /// For short logs: the family the short series was drawn from.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub base_family: Option<Family>,
    pub truth: Truth,
    /// Noise-free level at the start of the first lifetime in the log.
    pub base: f64,
    /// True growth per hour of the leak (0 when not a leak).
    pub slope_per_hour: f64,
    /// Hours since the first sample when the leak starts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub onset_hours: Option<f64>,
    /// Noise-free level at the last sample.
    pub level_at_end: f64,
    /// The limit the true time to limit runs to (commit headroom for Private Bytes,
    /// 16,777,216 for Handle Count).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub limit: Option<f64>,
    /// Hours from the last sample until the noise-free series reaches `limit`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub time_to_limit_hours: Option<f64>,
    /// Marginal standard deviation of the AR(1) noise, in counter units.
    pub noise_sd: f64,
    pub ar_phi: f64,
    /// Growth over the log divided by `noise_sd` (leaks only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub snr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub difficulty: Option<Difficulty>,
    /// Family-specific parameters (amplitude, tau, period, steps, ...).
    pub params: BTreeMap<String, f64>,
    /// Why the truth is what it is, when not obvious.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    /// For a leak of the first generator: the most a least-squares line through one
    /// lifetime's noise-free values rises over that lifetime. Zero or less: no lifetime shows
    /// the leak as growth, whatever the noise (a daily downswing or a falling workload
    /// outweighs it); only a model of what made it fall could find it. Not written to the
    /// labels file.
    #[serde(skip)]
    pub clean_rise: Option<f64>,
}

impl SeriesLabel {
    /// True time to `limit` hours from the end of the log for a leak (None when not growing).
    pub fn time_to(&self, limit: f64) -> Option<f64> {
        (self.truth == Truth::Leak && self.slope_per_hour > 0.0)
            .then(|| ((limit - self.level_at_end) / self.slope_per_hour).max(0.0))
    }
}

/// Labels of one generated log, as written to `<name>.labels.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLabels {
    pub log: String,
    pub seed: u64,
    pub interval_seconds: f64,
    pub samples: usize,
    pub series: Vec<SeriesLabel>,
}
