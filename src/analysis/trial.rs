//! Testing a series: split it into lifetimes, put each on trial (see `gates`), and pool the
//! tests of lifetimes that restarts cut short; run for every planned series, in parallel.

use std::borrow::Cow;

use rayon::prelude::*;

use super::gates::{self, LifetimeTrial, Outcome};
use super::lifetime::{self, Identity, Lifetimes};
use super::plan::{Plan, Unit};
use super::rules::recovery;
use super::season::Calendar;
use super::siblings::Siblings;
use super::stats::combine::stouffer;
use super::system;
use super::teeth::{self, Floors};
use super::Q_SUSPECT;
use crate::ingest::PerfLog;
use crate::vocab::Counter;

/// Shortest lifetime (hours, samples) tested when restarts cut every lifetime of a series below
/// [`gates::MIN_SPAN_HOURS`] or [`gates::MIN_SAMPLES`]: such lifetimes count only together, never
/// one alone.
const POOLED_MIN_SPAN_HOURS: f64 = 1.0;
const POOLED_MIN_SAMPLES: usize = 8;

/// Everything learnt about one series before the log-wide FDR step.
#[derive(Clone)]
pub(crate) struct SeriesTrial {
    pub column: usize,
    pub kind: Counter,
    pub split: Lifetimes,
    pub lifetimes: Vec<LifetimeTrial>,
    pub lifetime_q: Vec<Option<f64>>,
    pub combined_p: Option<f64>,
    pub combined_q: Option<f64>,
    pub commit_headroom: Option<f64>,
    pub max_virtual_bytes: Option<f64>,
    /// What shows the series' machine to be 64-bit, in words (`None`: nothing does).
    pub machine_x64: Option<String>,
    /// The series stitched by PID across instance labels, or the analysed form of a system
    /// series (see [`system::analysed`]) (None: the column's own values).
    pub values: Option<Vec<f64>>,
    /// What a chart draws when it is not the column's own values (bytes of `Available MBytes`).
    pub shown: Option<Vec<f64>>,
    /// What a system-wide series needs beyond the process's (`None` for a process series).
    pub system: Option<system::Context>,
    /// Instance labels of a stitched series, most samples first.
    pub labels: Vec<String>,
    /// The first and last samples that are numbers (index, value), and how many there are:
    /// what the decision needs of the whole series, kept so it need not be decoded again.
    pub first_finite: Option<(usize, f64)>,
    pub last_finite: Option<(usize, f64)>,
    pub finite_count: usize,
    /// The floors of the teeth the split's drops inside one life cut the series into (`None`
    /// where it found none, or cut the series at a restart).
    pub teeth: Option<Floors>,
}

impl SeriesTrial {
    /// The values the series was judged on: its stitched or analysed `values`, else its
    /// column's, decoded.
    pub fn judged_values<'a>(&'a self, log: &PerfLog) -> Cow<'a, [f64]> {
        match &self.values {
            Some(v) => Cow::Borrowed(v),
            None => Cow::Owned(log.columns[self.column].values.to_vec()),
        }
    }
}

/// The trial of every planned series, in plan order. `hours` are the log's sample times.
pub(crate) fn run_all(
    mut plan: Plan,
    hours: &[f64],
    calendar: Option<&Calendar>,
) -> Vec<SeriesTrial> {
    let log = plan.log;
    let n = log.elapsed_seconds.len();
    let processes = std::mem::take(&mut plan.processes);
    let plan = &plan;
    let mut ordered: Vec<(usize, SeriesTrial)> = processes
        .into_par_iter()
        .flat_map(|process| {
            let first = process[0].1.column();
            // A system-wide series has no identity: the machine's reboots are its restarts.
            let is_system = matches!(process[0].1, Unit::Label(_, k) if k.is_system());
            // A Process V2 instance is one process: the PID in its name is its identity for
            // every sample, as an `ID Process` column is for a classic label.
            let pid = match log.columns[first].path.process_v2_pid() {
                _ if is_system => None,
                Some((_, pid)) => Some(vec![f64::from(pid); n]),
                None => plan.decoded(first, "ID Process"),
            };
            let elapsed = (!is_system)
                .then(|| plan.decoded(first, "Elapsed Time"))
                .flatten();
            let max_vb = plan.max_virtual_bytes(first);
            // The process's other counters, read only where a sharp drop asks what it was.
            let column_of = |counter: &str| plan.sibling(first, counter);
            let others = Siblings::new(log, &column_of);
            // Still parallel within a process: a log of one big process has several counters.
            let trials: Vec<(usize, SeriesTrial)> = process
                .into_par_iter()
                .map(|(order, unit)| {
                    let column = unit.column();
                    let mut trial = match unit {
                        Unit::Lineage(_, kind, l) => {
                            let identity = Identity {
                                pid: Some(&l.pid),
                                elapsed: l.elapsed.as_deref(),
                                others: None,
                            };
                            // Bitness from the largest Virtual Bytes under any of the lineage's
                            // labels.
                            let max_vb = l
                                .columns
                                .iter()
                                .filter_map(|&c| plan.max_virtual_bytes(c))
                                .reduce(f64::max);
                            let mut trial =
                                try_series(hours, &l.values, kind, identity, max_vb, calendar);
                            trial.labels = l
                                .columns
                                .iter()
                                .filter_map(|&c| log.columns[c].path.instance_label())
                                .collect();
                            trial.values = Some(l.values);
                            trial
                        }
                        Unit::Label(column, kind) => {
                            let refute = |at: &[usize]| others.refute(column, at);
                            let identity = Identity {
                                pid: pid.as_deref(),
                                elapsed: elapsed.as_deref(),
                                others: (!is_system).then_some(&refute as lifetime::Refute),
                            };
                            let values = log.columns[column].values.to_vec();
                            if kind.is_system() {
                                let a = system::analysed(kind, values);
                                let mut trial =
                                    try_series(hours, &a.values, kind, identity, max_vb, calendar);
                                trial.system = Some(system::Context {
                                    ceiling: a.ceiling,
                                    observed_max: a.observed_max,
                                    commit_limit: plan.commit_limit_of(column),
                                    year: plan.year(),
                                });
                                // Values differing from the column's are kept for the rules
                                // and charts.
                                if a.shown.is_some() {
                                    trial.values = Some(a.values);
                                }
                                trial.shown = a.shown;
                                trial
                            } else {
                                try_series(hours, &values, kind, identity, max_vb, calendar)
                            }
                        }
                    };
                    trial.column = column;
                    trial.commit_headroom = plan.headroom_of(column);
                    trial.machine_x64 = plan.x64_evidence_of(column);
                    (order, trial)
                })
                .collect();
            trials
        })
        .collect();
    ordered.sort_by_key(|(order, _)| *order);
    ordered.into_iter().map(|(_, t)| t).collect()
}

/// Splits one series into lifetimes and tries each; lifetimes all cut short by restarts are
/// tried with a shorter minimum and their tests combined (Stouffer, weighted by blocks).
pub(crate) fn try_series(
    hours: &[f64],
    values: &[f64],
    kind: Counter,
    identity: Identity,
    max_virtual_bytes: Option<f64>,
    calendar: Option<&Calendar>,
) -> SeriesTrial {
    let split = lifetime::split(values, hours, identity);
    // Teeth only where the drops inside one life (refuted, or kept by the process's identity)
    // leave one life: where a real restart cuts it too, the floors would run across processes.
    // A process's: a machine-wide counter's drops are not one heap's collections.
    let teeth = (split.cuts.is_empty() && !kind.is_system())
        .then(|| {
            // The split's scale of the changes is the teeth's where it read every sample.
            let sigma = split.change_sigma.filter(|_| split.every_sample_read);
            teeth::floors(hours, values, &split.drops_inside(), (kind, sigma))
        })
        .flatten();
    let restarted = split.lifetimes.len() > 1;
    // A single lifetime holds every finite sample: the split's scale of their changes is its own.
    let change_sigma = split.change_sigma.filter(|_| !restarted);
    // The recovery rule's quick looks, taken while the samples are decoded at a candidate the
    // rules may ask it of (one at p <= Q_SUSPECT: `rules::Evidence::passing`).
    let looked = |mut trial: LifetimeTrial, v: &[f64]| {
        let passing = matches!(trial.outcome, Outcome::Candidate { .. }) && trial.p <= Q_SUSPECT;
        if !kind.is_system() && passing {
            trial.recovery_passed_over = recovery::passed_over(v);
        }
        trial
    };
    let trial_all = |shortest: (f64, usize)| -> Vec<LifetimeTrial> {
        split
            .lifetimes
            .iter()
            .map(|life| match life.contiguous() {
                Some(r) => {
                    let (t, v) = (&hours[r.clone()], &values[r]);
                    let sigma = change_sigma;
                    let trial =
                        gates::try_lifetime(t, v, kind, calendar, shortest, restarted, sigma);
                    looked(trial, v)
                }
                None => {
                    let (t, v) = (life.gather(hours), life.gather(values));
                    let trial =
                        gates::try_lifetime(&t, &v, kind, calendar, shortest, restarted, None);
                    looked(trial, &v)
                }
            })
            .collect()
    };
    let mut lifetimes = trial_all((gates::MIN_SPAN_HOURS, gates::MIN_SAMPLES));
    // Restarts that cut every lifetime short of the minimum would leave a restart-masked leak
    // untested: shorter lifetimes are tested then, and only judged together (see `rules`).
    if split.lifetimes.len() >= 2 && lifetimes.iter().all(|l| l.mk.is_none()) {
        lifetimes = trial_all((POOLED_MIN_SPAN_HOURS, POOLED_MIN_SAMPLES));
        for l in lifetimes.iter_mut().filter(|l| l.mk.is_some()) {
            l.pooled_only = true;
        }
    }
    let tested: Vec<&LifetimeTrial> = lifetimes.iter().filter(|l| l.mk.is_some()).collect();
    let combined_p = if tested.len() >= 2 {
        let p: Vec<f64> = tested.iter().map(|l| l.p).collect();
        let w: Vec<f64> = tested.iter().map(|l| (l.blocks as f64).sqrt()).collect();
        stouffer(&p, &w)
    } else {
        None
    };
    SeriesTrial {
        column: 0,
        kind,
        lifetime_q: vec![None; lifetimes.len()],
        split,
        lifetimes,
        combined_p,
        combined_q: None,
        commit_headroom: None,
        max_virtual_bytes,
        machine_x64: None,
        values: None,
        shown: None,
        system: None,
        labels: Vec::new(),
        first_finite: values
            .iter()
            .copied()
            .enumerate()
            .find(|(_, v)| v.is_finite()),
        last_finite: values
            .iter()
            .copied()
            .enumerate()
            .rfind(|(_, v)| v.is_finite()),
        finite_count: values.iter().filter(|v| v.is_finite()).count(),
        teeth,
    }
}
