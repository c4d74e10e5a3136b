//! The verdict rules, one per file. Each decides one thing about a series whose lifetimes were
//! tested and whose q-values are known, and says why in a reason a person reads. The driver in
//! `decide.rs` applies them in this order (the first main rule that applies sets the verdict):
//!
//! 1. [`insufficient`]: nothing testable (or only restart-cut lifetimes that do not agree).
//! 2. [`sawtooth`]: sharp drops inside one life (the process's other counters refute them as
//!    restarts, or its identity shows it lived through them, or they recur within hours: the
//!    split did not cut there), whose teeth's floors do not rise and read nearer holding than the growth.
//! 3. [`warm_up`]: restarts that warm up to where an earlier lifetime settled.
//! 4. [`restart_masked`]: growth that restarts keep cutting short, combined over lifetimes.
//! 5. [`strong`]: a lifetime with q <= [`Q_LEAK`](super::Q_LEAK); its objections, in order:
//!    [`late_onset`], [`working_day`], [`dying_out`], [`recovery`], [`daily_cycle`],
//!    [`confined`], [`not_repeated`].
//! 6. [`weak`]: growth with q <= [`Q_SUSPECT`](super::Q_SUSPECT) only (objection:
//!    [`recovery`]).
//! 7. [`no_growth`]: why the series is not flagged.
//!
//! Then, whatever the main rule: the [`sawtooth`]'s floors that rise (at least `suspect`) or
//! leave it unsettled (said so),
//! [`load`] (the workload explains the growth, or growth under a
//! steady load settles a partial day), [`renumbering`] (a moving `#N` label without `ID Process`
//! lowers a leak), the forecast (with [`partial_day`] and the leak's confidence), and the
//! notes about how the series was read.

pub(super) mod confined;
pub(super) mod daily_cycle;
pub(super) mod dying_out;
pub(super) mod insufficient;
pub(super) mod late_onset;
pub(super) mod load;
pub(super) mod no_growth;
pub(super) mod not_repeated;
pub(super) mod partial_day;
pub(super) mod recovery;
pub(super) mod renumbering;
pub(super) mod restart_masked;
pub(super) mod sawtooth;
pub(super) mod strong;
pub(super) mod warm_up;
pub(super) mod weak;
pub(super) mod working_day;

use super::gates::{LifetimeTrial, Outcome};
use super::stats::trend::SenSlope;
use super::trial::SeriesTrial;
use super::{Reason, Verdict, Q_LEAK, Q_SUSPECT};
use crate::ingest::PerfLog;
use crate::vocab::Shape;
use std::borrow::Cow;
use std::cell::OnceCell;

/// What the rules read about one series: its trial and the lifetimes sorted by what they show.
pub(crate) struct Evidence<'a> {
    pub log: &'a PerfLog,
    pub s: &'a SeriesTrial,
    /// Lifetimes that were tested (long enough), in time order.
    pub tested: Vec<usize>,
    /// Tested lifetimes with leak-shaped growth at p <= [`Q_SUSPECT`].
    pub passing: Vec<usize>,
    /// Passing lifetimes at q <= [`Q_LEAK`] that stand for something alone.
    pub strong: Vec<usize>,
    /// Every tested lifetime was tested only because restarts cut them all short.
    pub pooled: bool,
    /// The passing lifetimes together make a restart-masked leak (see [`restart_masked`]).
    pub masked: bool,
    pub first: Option<f64>,
    pub last: Option<f64>,
    /// Hours from the first to the last finite sample.
    pub span_hours: f64,
    /// The judged values, decoded on first need and shared by the rules that read samples.
    values: OnceCell<Cow<'a, [f64]>>,
}

impl<'a> Evidence<'a> {
    /// The series' judged values (see [`SeriesTrial::judged_values`]), decoded once.
    pub fn values(&self) -> &[f64] {
        self.values.get_or_init(|| self.s.judged_values(self.log))
    }

    pub fn new(log: &'a PerfLog, s: &'a SeriesTrial) -> Evidence<'a> {
        let span_hours = match (s.first_finite, s.last_finite) {
            (Some(a), Some(b)) => {
                match (log.elapsed_seconds.get(a.0), log.elapsed_seconds.get(b.0)) {
                    (Some(start), Some(end)) if (end - start).is_finite() => (end - start) / 3600.0,
                    _ => 0.0,
                }
            }
            _ => 0.0,
        };
        let tested: Vec<usize> = (0..s.lifetimes.len())
            .filter(|&i| s.lifetimes[i].mk.is_some())
            .collect();
        let passing: Vec<usize> = tested
            .iter()
            .copied()
            .filter(|&i| {
                matches!(s.lifetimes[i].outcome, Outcome::Candidate { .. })
                    && s.lifetimes[i].p <= Q_SUSPECT
            })
            .collect();
        let mut e = Evidence {
            log,
            s,
            tested,
            passing,
            strong: Vec::new(),
            pooled: false,
            masked: false,
            first: s.first_finite.map(|p| p.1),
            last: s.last_finite.map(|p| p.1),
            span_hours,
            values: OnceCell::new(),
        };
        // Lifetimes tested only because restarts cut them all short stand for nothing alone.
        e.pooled = e.tested.iter().all(|&i| s.lifetimes[i].pooled_only);
        e.strong = e
            .passing
            .iter()
            .copied()
            .filter(|&i| e.q_of(i) <= Q_LEAK && !e.pooled)
            .collect();
        e.masked = restart_masked::applies(&e);
        e
    }

    pub fn lifetime(&self, i: usize) -> &'a LifetimeTrial {
        &self.s.lifetimes[i]
    }

    /// Hours the growing lifetimes cover together (a restart-masked leak's evidence).
    pub fn passing_hours(&self) -> f64 {
        self.passing
            .iter()
            .map(|&i| self.lifetime(i).coverage_hours())
            .sum()
    }

    /// The lifetime's q after the log-wide FDR step (1 when untested).
    pub fn q_of(&self, i: usize) -> f64 {
        self.s.lifetime_q[i].unwrap_or(1.0)
    }

    /// What weakens a candidate lifetime's growth (empty for other outcomes).
    pub fn soft_of(&self, i: usize) -> Vec<Reason> {
        match &self.s.lifetimes[i].outcome {
            Outcome::Candidate { soft, .. } => soft
                .iter()
                .map(|text| Reason::new("weakened", text.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The candidate's shape, `linear` for any other outcome.
    pub fn candidate_shape(&self, i: usize) -> Shape {
        match &self.s.lifetimes[i].outcome {
            Outcome::Candidate { shape, .. } => *shape,
            _ => Shape::Linear,
        }
    }
}

/// The verdict of a series and everything said along the way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    pub verdict: Verdict,
    pub shape: Shape,
    pub confidence: f64,
    pub reasons: Vec<Reason>,
    /// The lifetime whose slope, fit and forecast the finding reports.
    pub decisive: Option<usize>,
    /// The lifetime the forecast starts from, when it is not the decisive one.
    pub current: Option<usize>,
    pub q_value: Option<f64>,
    pub p_value: Option<f64>,
    /// The rate the finding reports where it is not the decisive lifetime's: the floors of a
    /// sawtooth's teeth, where their rise decides ([`sawtooth::rising`]).
    pub floors_rate: Option<FloorsRate>,
}

/// What a sawtooth's floors say of its growth: for a collected heap the live set, the floor
/// each collection leaves, is what leaks and what runs out; the teeth above it are the heap
/// filling between collections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FloorsRate {
    /// Sen's slope over the floors against the hours they were reached, with its interval.
    pub sen: SenSlope,
    /// The hours the line spans: the lifetime's.
    pub start_hours: f64,
    pub end_hours: f64,
    /// The floors' median.
    pub level: f64,
    /// How many floors (teeth) it rests on.
    pub teeth: usize,
}

impl FloorsRate {
    /// Where the floors stand at the series' end.
    pub fn at_end(&self) -> f64 {
        self.sen.intercept + self.sen.slope * self.end_hours
    }

    pub fn hours(&self) -> f64 {
        self.end_hours - self.start_hours
    }

    /// The floors' growth over the span as a share of their median.
    pub fn relative_growth(&self) -> f64 {
        self.sen.slope * self.hours() / self.level.abs().max(f64::MIN_POSITIVE)
    }
}

impl Decision {
    /// A decision resting on lifetime `i`: its q and p are the finding's.
    fn on(e: &Evidence, i: usize, verdict: Verdict, shape: Shape, confidence: f64) -> Decision {
        Decision {
            verdict,
            shape,
            confidence,
            reasons: Vec::new(),
            decisive: Some(i),
            current: None,
            q_value: Some(e.q_of(i)),
            p_value: Some(e.lifetime(i).p),
            floors_rate: None,
        }
    }
}

/// Why a strong lifetime's growth is not a leak: the verdict (always `ok`), its confidence,
/// the shape it names (if any) and the reason, which goes first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Objection {
    pub confidence: f64,
    pub shape: Option<Shape>,
    pub reason: String,
    /// The reason's code.
    pub code: &'static str,
}

/// Hours the reported slope applies to: the whole lifetime, or from a late onset on.
pub(crate) fn growing_hours(l: &LifetimeTrial) -> f64 {
    l.end_hours - l.fit_start_hours.max(l.start_hours)
}

/// Growth of the growing part at the reported slope, as a share of the lifetime's level.
pub(crate) fn relative_growth(l: &LifetimeTrial) -> f64 {
    l.sen.map_or(0.0, |x| x.slope) * growing_hours(l) / l.level.abs().max(f64::MIN_POSITIVE)
}

/// The growing part is only the last 20% of the lifetime.
pub(crate) fn starts_late(l: &LifetimeTrial) -> bool {
    let span = l.span_hours();
    span > 0.0 && (l.end_hours - l.fit_start_hours) < 0.2 * span
}

#[cfg(test)]
pub(crate) mod testing {
    //! Lifetimes and series for the rules' unit tests.

    use super::super::gates::{self, LifetimeTrial, Outcome};
    use super::super::lifetime::Lifetimes;
    use super::super::trial::SeriesTrial;
    use crate::ingest::{Column, CounterPath, LogFormat, PerfLog, SourceInfo};
    use crate::vocab::Counter;

    /// A clean linear lifetime of `hours` growing 1/h from 100, tested as a candidate.
    pub fn linear_trial(hours: f64) -> LifetimeTrial {
        let t: Vec<f64> = (0..=(hours as usize * 4)).map(|i| i as f64 / 4.0).collect();
        let v: Vec<f64> = t
            .iter()
            .map(|h| 100.0 + h + 0.01 * (h * 7.0).sin())
            .collect();
        let trial = gates::try_lifetime(
            &t,
            &v,
            Counter::HandleCount,
            None,
            (gates::MIN_SPAN_HOURS, gates::MIN_SAMPLES),
            false,
            None,
        );
        assert!(
            matches!(trial.outcome, Outcome::Candidate { .. }),
            "{trial:?}"
        );
        trial
    }

    /// A series of the given lifetimes with the given q-values, and an empty log to read it in.
    pub fn series(lifetimes: Vec<LifetimeTrial>, q: Vec<Option<f64>>) -> (PerfLog, SeriesTrial) {
        let path = CounterPath {
            machine: None,
            original_object: "Process".into(),
            object: "Process".into(),
            parent: None,
            instance: Some("app".into()),
            index: None,
            original_counter: "Handle Count".into(),
            counter: "Handle Count".into(),
        };
        let log = PerfLog {
            source: SourceInfo {
                path: "test.csv".into(),
                format: LogFormat::PdhCsv,
                encoding: "UTF-8".into(),
                encoding_reason: String::new(),
                time_zone: None,
                utc_offset_minutes: None,
                segments: Vec::new(),
                blg: None,
            },
            timestamps: Vec::new(),
            elapsed_seconds: Vec::new(),
            all_paths: vec![path.clone()],
            columns: vec![Column {
                path,
                values: Vec::<f64>::new().into(),
            }],
            warnings: Vec::new(),
        };
        let s = SeriesTrial {
            machine_x64: None,
            column: 0,
            kind: Counter::HandleCount,
            split: Lifetimes::default(),
            lifetime_q: q,
            lifetimes,
            combined_p: None,
            combined_q: None,
            commit_headroom: None,
            max_virtual_bytes: None,
            values: None,
            shown: None,
            system: None,
            labels: Vec::new(),
            first_finite: None,
            last_finite: None,
            finite_count: 0,
            teeth: None,
        };
        (log, s)
    }
}
