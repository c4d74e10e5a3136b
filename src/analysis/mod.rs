//! analysis: [`PerfLog`] -> [`Finding`]s. Splits each process series into lifetimes, runs robust
//! trend tests on block-aggregated lifetimes, rejects shapes that are not leaks, and forecasts
//! the time to the counter's limit.

mod blocks;
mod finding;
mod gates;
mod lifetime;
mod limit;
mod season;
pub mod stats;
mod stitch;

pub use finding::{Finding, Severity, TrendLine, Verdict};

use crate::ingest::{Column, PerfLog};
use gates::{LifetimeTrial, Outcome};
use lifetime::{Identity, Lifetimes};
use limit::{CounterKind, Limit};
use rayon::prelude::*;
use season::Calendar;
use stats::combine::{benjamini_hochberg, stouffer};
use stats::robust::{mad_sigma, median};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// q at or below which a trend counts as significant after Benjamini-Hochberg.
const Q_LEAK: f64 = 0.01;
/// q at or below which growth is worth a "suspect".
const Q_SUSPECT: f64 = 0.05;

/// Every analysed (process instance, counter) series of the log, worst first.
pub fn analyze(log: &PerfLog) -> Vec<Finding> {
    let origin = log
        .elapsed_seconds
        .iter()
        .copied()
        .find(|s| s.is_finite())
        .unwrap_or(0.0);
    let hours: Vec<f64> = log
        .elapsed_seconds
        .iter()
        .map(|s| (s - origin) / 3600.0)
        .collect();
    // Local time of the origin, for weekday/weekend patterns.
    let calendar = log
        .elapsed_seconds
        .iter()
        .position(|s| s.is_finite())
        .and_then(|i| log.timestamps.get(i))
        .map(|&origin| Calendar { origin });

    // Index the process columns by object, instance and counter once: identity columns are
    // looked up for every series. The object is part of the key: `Process(a)` and
    // `Process V2(a:1)` are different columns of one process.
    type ColumnKey = (String, String, String, Option<u32>, String);
    let key = |c: &Column, counter: &str| -> ColumnKey {
        let p = &c.path;
        (
            p.machine.as_deref().unwrap_or("").to_ascii_lowercase(),
            p.object.to_ascii_lowercase(),
            p.instance.as_deref().unwrap_or("").to_ascii_lowercase(),
            p.index,
            counter.to_ascii_lowercase(),
        )
    };
    let mut by_key: HashMap<ColumnKey, usize> = HashMap::new();
    for (i, c) in log.columns.iter().enumerate() {
        if c.path.is_process() {
            by_key.entry(key(c, &c.path.counter)).or_insert(i);
        }
    }
    // A log may hold both counter sets for the same processes (a collector set written for
    // older servers and extended for Windows 11). Process V2 is kept, Process dropped, per
    // machine, image and counter: its `name:pid` instances name one process each, so no `#N`
    // label passes between processes and nothing needs stitching (Microsoft's advice too).
    let image_key = |p: &crate::ingest::CounterPath| {
        (
            p.machine.as_deref().unwrap_or("").to_ascii_lowercase(),
            p.process_name().unwrap_or("").to_ascii_lowercase(),
            p.counter.to_ascii_lowercase(),
        )
    };
    let in_v2: HashSet<(String, String, String)> = log
        .columns
        .iter()
        .filter(|c| c.path.process_v2_pid().is_some() && c.path.is_real_process())
        .map(|c| image_key(&c.path))
        .collect();
    let series: Vec<(usize, CounterKind)> = log
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.path.is_real_process())
        .filter(|(_, c)| c.path.object != "Process" || !in_v2.contains(&image_key(&c.path)))
        .filter_map(|(i, c)| CounterKind::from_counter(&c.path.counter).map(|k| (i, k)))
        .collect();
    // Columns are kept encoded: a series and its identity columns are decoded where they are
    // worked on, one process at a time.
    let sibling = |column: usize, counter: &str| -> Option<usize> {
        by_key.get(&key(&log.columns[column], counter)).copied()
    };
    let decoded = |column: usize, counter: &str| -> Option<Vec<f64>> {
        sibling(column, counter).map(|j| log.columns[j].values.to_vec())
    };
    // Each Virtual Bytes column's largest value, decoded once: every counter of a process, and
    // of every lineage through its labels, asks for it.
    let virtual_bytes: HashSet<usize> = series
        .iter()
        .filter_map(|&(column, _)| sibling(column, "Virtual Bytes"))
        .collect();
    let largest: HashMap<usize, f64> = virtual_bytes
        .into_par_iter()
        .filter_map(|j| Some((j, log.columns[j].values.max_finite()?)))
        .collect();
    let max_of = |column: usize| -> Option<f64> {
        sibling(column, "Virtual Bytes").and_then(|j| largest.get(&j).copied())
    };

    // With `ID Process` logged, an image whose labels passed between processes is analysed per
    // process lineage (stitched by PID), not per label.
    // (machine, object, instance, counter): the labels of one image and counter.
    type GroupKey = (String, String, String, String);
    let mut groups: HashMap<GroupKey, Vec<(usize, CounterKind)>> = HashMap::new();
    for &(column, kind) in &series {
        let p = &log.columns[column].path;
        groups
            .entry((
                p.machine.as_deref().unwrap_or("").to_ascii_lowercase(),
                p.object.to_ascii_lowercase(),
                p.instance.as_deref().unwrap_or("").to_ascii_lowercase(),
                p.counter.to_ascii_lowercase(),
            ))
            .or_default()
            .push((column, kind));
    }
    let n = log.elapsed_seconds.len();
    let mut units: Vec<Unit> = Vec::new();
    let mut group_list: Vec<&Vec<(usize, CounterKind)>> = groups.values().collect();
    group_list.sort_by_key(|g| g[0].0);
    // The labels of an image share their `ID Process` columns across counters: whether they
    // moved is decided (and the PIDs decoded) once per set of those columns.
    let mut moved_pids: HashMap<Vec<usize>, Option<MovedPids>> = HashMap::new();
    for group in group_list {
        // Identity first: a group's values are decoded only when its labels did move.
        let pid_columns: Option<Vec<usize>> = (group.len() >= 2)
            .then(|| {
                group
                    .iter()
                    .map(|&(column, _)| sibling(column, "ID Process"))
                    .collect()
            })
            .flatten();
        let moved = pid_columns.and_then(|key| {
            moved_pids
                .entry(key)
                .or_insert_with_key(|key| {
                    let pids: Vec<Vec<f64>> = key
                        .iter()
                        .map(|&j| log.columns[j].values.to_vec())
                        .collect();
                    let slices: Vec<&[f64]> = pids.iter().map(Vec::as_slice).collect();
                    stitch::labels_move(&slices).then(|| Rc::new(pids))
                })
                .clone()
        });
        match moved {
            Some(pids) => {
                let decoded_members: Vec<(Vec<f64>, Option<Vec<f64>>)> = group
                    .iter()
                    .map(|&(column, _)| {
                        (
                            log.columns[column].values.to_vec(),
                            decoded(column, "Elapsed Time"),
                        )
                    })
                    .collect();
                let members: Vec<stitch::Member> = group
                    .iter()
                    .zip(&decoded_members)
                    .zip(pids.iter())
                    .map(|((&(column, _), (values, elapsed)), pid)| stitch::Member {
                        column,
                        values,
                        pid,
                        elapsed: elapsed.as_deref(),
                    })
                    .collect();
                let kind = group[0].1;
                for lineage in stitch::lineages(&members, n) {
                    units.push(Unit::Lineage(lineage.home, kind, lineage));
                }
            }
            None => units.extend(group.iter().map(|&(c, k)| Unit::Label(c, k))),
        }
    }

    // Commit headroom once per machine, not once per series.
    let mut headroom: Vec<(Option<String>, Option<f64>)> = Vec::new();
    for unit in &units {
        let machine = &log.columns[unit.column()].path.machine;
        if !headroom.iter().any(|(m, _)| eq_opt(m, machine)) {
            headroom.push((machine.clone(), commit_headroom(log, machine)));
        }
    }
    let headroom_of = |column: usize| {
        let machine = &log.columns[column].path.machine;
        headroom
            .iter()
            .find(|(m, _)| eq_opt(m, machine))
            .and_then(|(_, h)| *h)
    };

    // Series of one process share its identity columns: they are decoded once per process.
    let mut processes: Vec<Vec<(usize, Unit)>> = Vec::new();
    let mut process_of: HashMap<ColumnKey, usize> = HashMap::new();
    for (order, unit) in units.into_iter().enumerate() {
        match unit {
            Unit::Label(column, _) => {
                let slot = *process_of
                    .entry(key(&log.columns[column], ""))
                    .or_insert_with(|| {
                        processes.push(Vec::new());
                        processes.len() - 1
                    });
                processes[slot].push((order, unit));
            }
            Unit::Lineage(..) => processes.push(vec![(order, unit)]),
        }
    }
    let hours = &hours;
    let calendar = calendar.as_ref();
    let (decoded, max_of, headroom_of) = (&decoded, &max_of, &headroom_of);
    let mut ordered: Vec<(usize, SeriesTrial)> = processes
        .into_par_iter()
        .flat_map(|process| {
            let first = process[0].1.column();
            // A Process V2 instance is one process: the PID in its name is its identity for
            // every sample, as an `ID Process` column is for a classic label.
            let pid = match log.columns[first].path.process_v2_pid() {
                Some((_, pid)) => Some(vec![f64::from(pid); n]),
                None => decoded(first, "ID Process"),
            };
            let elapsed = decoded(first, "Elapsed Time");
            let max_vb = max_of(first);
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
                            };
                            // Bitness from the largest Virtual Bytes under any of the lineage's labels.
                            let max_vb =
                                l.columns.iter().filter_map(|&c| max_of(c)).reduce(f64::max);
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
                            let identity = Identity {
                                pid: pid.as_deref(),
                                elapsed: elapsed.as_deref(),
                            };
                            let values = log.columns[column].values.to_vec();
                            try_series(hours, &values, kind, identity, max_vb, calendar)
                        }
                    };
                    trial.column = column;
                    trial.commit_headroom = headroom_of(column);
                    (order, trial)
                })
                .collect();
            trials
        })
        .collect();
    ordered.sort_by_key(|(order, _)| *order);
    let mut trials: Vec<SeriesTrial> = ordered.into_iter().map(|(_, t)| t).collect();

    // One Benjamini-Hochberg pool over every lifetime test and every combined test of the log.
    let mut pool = Vec::new();
    for s in &trials {
        for l in &s.lifetimes {
            if l.mk.is_some() {
                pool.push(l.p);
            }
        }
        if let Some(p) = s.combined_p {
            pool.push(p);
        }
    }
    let q = benjamini_hochberg(&pool);
    let mut k = 0;
    for s in &mut trials {
        for l in 0..s.lifetimes.len() {
            if s.lifetimes[l].mk.is_some() {
                s.lifetime_q[l] = Some(q[k]);
                k += 1;
            }
        }
        if s.combined_p.is_some() {
            s.combined_q = Some(q[k]);
            k += 1;
        }
    }

    let mut findings: Vec<Finding> = trials.par_iter().map(|s| decide(log, s)).collect();
    corroborate(&mut findings);
    findings.sort_by(Finding::worst_first);
    findings
}

/// The decoded `ID Process` series of an image's labels, when PIDs moved between them.
type MovedPids = Rc<Vec<Vec<f64>>>;

/// What is analysed as one series: a column, or a process lineage stitched from several.
enum Unit {
    Label(usize, CounterKind),
    /// The lineage's home column, its counter and the lineage.
    Lineage(usize, CounterKind, stitch::Lineage),
}

impl Unit {
    fn column(&self) -> usize {
        match self {
            Unit::Label(c, _) | Unit::Lineage(c, _, _) => *c,
        }
    }
}

/// Everything learnt about one series before the log-wide FDR step.
struct SeriesTrial {
    column: usize,
    kind: CounterKind,
    split: Lifetimes,
    lifetimes: Vec<LifetimeTrial>,
    lifetime_q: Vec<Option<f64>>,
    combined_p: Option<f64>,
    combined_q: Option<f64>,
    commit_headroom: Option<f64>,
    max_virtual_bytes: Option<f64>,
    /// The series stitched by PID across instance labels (None: the column's own values).
    values: Option<Vec<f64>>,
    /// Instance labels of a stitched series, most samples first.
    labels: Vec<String>,
    /// The first and last samples that are numbers (index, value), and how many there are:
    /// what the decision needs of the whole series, kept so it need not be decoded again.
    first_finite: Option<(usize, f64)>,
    last_finite: Option<(usize, f64)>,
    finite_count: usize,
}

fn eq_opt(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        (None, None) => true,
        _ => false,
    }
}

/// Commit Limit - Committed Bytes of the machine at the end of the log.
fn commit_headroom(log: &PerfLog, machine: &Option<String>) -> Option<f64> {
    let memory = |counter: &str| {
        log.columns
            .iter()
            .find(|c| {
                c.path.object == "Memory"
                    && eq_opt(&c.path.machine, machine)
                    && c.path.counter.eq_ignore_ascii_case(counter)
            })
            .and_then(|c| c.values.last_finite())
    };
    Some(memory("Commit Limit")? - memory("Committed Bytes")?)
}

fn try_series(
    hours: &[f64],
    values: &[f64],
    kind: CounterKind,
    identity: Identity,
    max_virtual_bytes: Option<f64>,
    calendar: Option<&Calendar>,
) -> SeriesTrial {
    let split = lifetime::split(values, hours, identity);
    let restarted = split.lifetimes.len() > 1;
    // A single lifetime holds every finite sample: the split's scale of their changes is its own.
    let change_sigma = split.change_sigma.filter(|_| !restarted);
    let trial_all = |shortest: (f64, usize)| -> Vec<LifetimeTrial> {
        split
            .lifetimes
            .iter()
            .map(|life| match life.contiguous() {
                Some(r) => gates::try_lifetime(
                    &hours[r.clone()],
                    &values[r],
                    kind,
                    calendar,
                    shortest,
                    restarted,
                    change_sigma,
                ),
                None => {
                    let t: Vec<f64> = life.indices().map(|i| hours[i]).collect();
                    let v: Vec<f64> = life.indices().map(|i| values[i]).collect();
                    gates::try_lifetime(&t, &v, kind, calendar, shortest, restarted, None)
                }
            })
            .collect()
    };
    let mut lifetimes = trial_all((gates::MIN_SPAN_HOURS, gates::MIN_SAMPLES));
    // Restarts that cut every lifetime short of the minimum would leave a restart-masked leak
    // untested: shorter lifetimes are tested then, and only judged together (see `decide`).
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
        values: None,
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
    }
}

/// Shortest lifetime (hours, samples) tested when restarts cut every lifetime of a series below
/// [`gates::MIN_SPAN_HOURS`] or [`gates::MIN_SAMPLES`]: such lifetimes count only together, never
/// one alone.
const POOLED_MIN_SPAN_HOURS: f64 = 1.0;
const POOLED_MIN_SAMPLES: usize = 8;

/// Quantity in the counter's unit, short.
fn amount(kind: CounterKind, v: f64) -> String {
    if kind.unit() != "bytes" {
        return if v.abs() >= 100.0 || v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        };
    }
    let a = v.abs();
    let (scale, unit) = if a >= 1024.0 * 1024.0 * 1024.0 {
        (1024.0 * 1024.0 * 1024.0, "GB")
    } else if a >= 1024.0 * 1024.0 {
        (1024.0 * 1024.0, "MB")
    } else if a >= 1024.0 {
        (1024.0, "KB")
    } else {
        return format!("{v:.0} B");
    };
    format!("{:.2} {unit}", v / scale)
}

fn per_hour(kind: CounterKind, v: f64) -> String {
    match kind.unit() {
        "bytes" => format!("{}/h", amount(kind, v)),
        unit => format!("{} {unit}/h", amount(kind, v)),
    }
}

/// Hours for reasons: `5.2 h` under two days, `3.1 d` above.
pub(crate) fn hours_text(h: f64) -> String {
    if h >= 48.0 {
        format!("{:.1} d", h / 24.0)
    } else {
        format!("{h:.1} h")
    }
}

/// Share of the earlier plateau a warm-up must reach to count as climbing back to it.
const CLIMB_BACK_SHARE: f64 = 0.5;

/// Growing lifetimes that each end no higher than an earlier, non-growing lifetime of the same
/// series settled: restarts warming up again, not a leak. Returns the last of them, the highest
/// level they reached and the level held before. Levels come from the raw samples: the median
/// of the last tenth (at least three samples) for the end, the median of the second half for a
/// settled level, allowing two noise sigmas (MAD) of that half so that the same plateau seen
/// through noise still counts.
fn climbs_back(
    s: &SeriesTrial,
    log: &PerfLog,
    passing: &[usize],
    tested: &[usize],
) -> Option<(usize, f64, f64)> {
    // A plateau to climb back to needs a settled lifetime besides a growing one.
    if passing.is_empty() || passing.len() == tested.len() {
        return None;
    }
    let decoded;
    let values: &[f64] = match &s.values {
        Some(v) => v,
        None => {
            decoded = log.columns[s.column].values.to_vec();
            &decoded
        }
    };
    let samples = |i: usize| -> Vec<f64> {
        s.split.lifetimes[i]
            .indices()
            .filter_map(|k| values.get(k).copied())
            .collect()
    };
    let settled: Vec<(usize, f64, f64)> = tested
        .iter()
        .filter(|i| !passing.contains(i))
        .filter_map(|&i| {
            let v = samples(i);
            let late = &v[v.len() / 2..];
            let level = median(late)?;
            Some((i, level, level + 2.0 * mad_sigma(late)?))
        })
        .collect();
    let mut highest: Option<(f64, f64)> = None;
    for &p in passing {
        let held = settled
            .iter()
            .filter(|h| h.0 < p)
            .map(|h| (h.1, h.2))
            .reduce(|a, b| if b.1 > a.1 { b } else { a })?;
        let v = samples(p);
        let reached = median(&v[v.len() - (v.len() / 10).max(3).min(v.len())..])?;
        // Climbing back means reaching the old plateau: a lifetime far below it (another
        // process under a reused `#N` label, say) says nothing about this one.
        if reached > held.1 || reached < CLIMB_BACK_SHARE * held.0 {
            return None;
        }
        if highest.is_none_or(|h| reached > h.0) {
            highest = Some((reached, held.0));
        }
    }
    let (reached, held) = highest?;
    Some((*passing.last()?, reached, held))
}

/// Growth (as a share of the level) under which a daily cycle may be all there is, and the q
/// such growth must beat to be flagged: in a lifetime that cannot rule a cycle out (under a
/// day, or a failed lag-24 h test), and in one whose strong cycle was removed (the removal
/// leaves drifts of a few percent, up to ~20% with a weekly pattern on top, on the tune split).
const CYCLE_CONFOUND_MIN_GROWTH: f64 = 0.10;
const CYCLE_CONFOUND_Q: f64 = 1e-4;
const CYCLE_REMOVED_MIN_GROWTH: f64 = 0.20;
/// A last third growing at under 30% of the rate, in a lifetime that cannot rule out a daily
/// cycle, needs q at or below 1e-3 (a cycle's crest or a level shift passes for slowing growth).
const SLOWING_TAIL: f64 = 0.3;
const CYCLE_CONFOUND_SLOWING_Q: f64 = 1e-3;
const CYCLE_REMOVED_Q: f64 = 1e-8;
/// Growth, as a share of the level, that weak evidence must show to be flagged.
const WEAK_MIN_RELATIVE_GROWTH: f64 = 0.05;

/// Why growth with only weak evidence (q between [`Q_LEAK`] and [`Q_SUSPECT`]) is not worth a
/// "suspect": each of these is how noise, bursts and level shifts pass a marginal trend test.
fn too_weak_to_flag(l: &LifetimeTrial) -> Option<String> {
    let sen = l.sen?;
    let relative = relative_growth(l);
    if sen.lower <= 0.0 {
        Some("the slope's 95% interval includes 0".into())
    } else if relative < WEAK_MIN_RELATIVE_GROWTH {
        Some(format!(
            "growth of {:.1}% of the level (needs {:.0}%)",
            100.0 * relative,
            100.0 * WEAK_MIN_RELATIVE_GROWTH
        ))
    } else if starts_late(l) {
        Some("the growth starts in the last 20% of the lifetime".into())
    } else if few_steps(l) {
        // A level shift with a noise blip beside it passes for two or three steps.
        Some("stepwise growth with only a few steps, where a level shift fits as well".into())
    } else if l.fit_start_hours > l.start_hours {
        // A late onset picked by the break on the same data, on weak evidence, is as often a
        // level shift as a leak that started.
        Some(format!(
            "the growth starts late ({}), where a level shift fits as well",
            hours_text(l.fit_start_hours)
        ))
    } else {
        l.tail_ratio.filter(|r| *r < 0.5).map(|r| {
            format!(
                "the last third grows at {:.0}% of the rate (needs 50%)",
                100.0 * r
            )
        })
    }
}

/// Stepwise growth of at most four steps.
fn few_steps(l: &LifetimeTrial) -> bool {
    matches!(
        &l.outcome,
        Outcome::Candidate {
            shape: "stepwise",
            ..
        }
    ) && l.up_steps.is_some_and(|n| n <= 4)
}

/// Hours the reported slope applies to: the whole lifetime, or from a late onset on.
fn growing_hours(l: &LifetimeTrial) -> f64 {
    l.end_hours - l.fit_start_hours.max(l.start_hours)
}

/// Growth of the growing part at the reported slope, as a share of the lifetime's level.
fn relative_growth(l: &LifetimeTrial) -> f64 {
    l.sen.map_or(0.0, |x| x.slope) * growing_hours(l) / l.level.abs().max(f64::MIN_POSITIVE)
}

/// Why growth with moderate evidence in a lifetime with a daily cycle is not flagged: the
/// rising phase of a cycle, or what is left of one, as often as a leak. Small growth needs
/// strong evidence, and so does growth already slowing in its last third.
fn cycle_residue(l: &LifetimeTrial, q: f64) -> Option<String> {
    let relative = relative_growth(l);
    let growth = format!("growth of {:.1}% at q={q:.1e}", 100.0 * relative);
    if l.cycle_confound && q > CYCLE_CONFOUND_Q && relative < CYCLE_CONFOUND_MIN_GROWTH {
        Some(format!(
            "{growth} in a lifetime that cannot rule out a daily cycle: not flagged (needs q <= {CYCLE_CONFOUND_Q:.0e} or {:.0}% growth)",
            100.0 * CYCLE_CONFOUND_MIN_GROWTH
        ))
    } else if let Some(tail) = l
        .tail_ratio
        .filter(|r| l.cycle_confound && q > CYCLE_CONFOUND_SLOWING_Q && *r < SLOWING_TAIL)
    {
        Some(format!(
            "{growth}, its last third at {:.0}% of the rate, in a lifetime that cannot rule out a daily cycle: not flagged (needs q <= {CYCLE_CONFOUND_SLOWING_Q:.0e})",
            100.0 * tail
        ))
    } else if (l.cycle_removed || l.cycle_fitted)
        && q > CYCLE_REMOVED_Q
        && relative < CYCLE_REMOVED_MIN_GROWTH
    {
        Some(format!(
            "{growth} left after removing a strong daily cycle: not flagged (needs q <= {CYCLE_REMOVED_Q:.0e} or {:.0}% growth)",
            100.0 * CYCLE_REMOVED_MIN_GROWTH
        ))
    } else {
        None
    }
}

/// Second-half rate, as a share of the first half's, below which growth is dying out.
const DYING_OUT_SHARE: f64 = 0.15;

/// The growing part's second half rises at under 15% of its first half's rate (or falls): the
/// shape of a warm-up or a cache filling up, not of a leak. Returns that share.
fn dying_out_share(l: &LifetimeTrial) -> Option<f64> {
    let (first, second) = l.half_slopes?;
    let share = second / first;
    (first > 0.0 && share < DYING_OUT_SHARE).then_some(share)
}

/// The growing part is only the last 20% of the lifetime.
fn starts_late(l: &LifetimeTrial) -> bool {
    let span = l.span_hours();
    span > 0.0 && (l.end_hours - l.fit_start_hours) < 0.2 * span
}

/// What an untested (too short) series did, in words: the observed change, not a verdict.
fn observed_change(
    process: &str,
    counter: &str,
    kind: CounterKind,
    ends: Option<(f64, f64)>,
    span_hours: f64,
) -> String {
    let needs = format!(
        "too short to tell a leak from activity (needs >= {} h and {} samples)",
        gates::MIN_SPAN_HOURS,
        gates::MIN_SAMPLES
    );
    let Some((first, last)) = ends else {
        return format!("{process} {counter}: no values; {needs}");
    };
    let change = last - first;
    let what = if first > 0.0 {
        let pct = 100.0 * change / first;
        if pct.abs() < 1.0 {
            format!("held within 1% ({})", amount(kind, last))
        } else {
            format!(
                "{} {:.0}% ({} to {})",
                if pct > 0.0 { "rose" } else { "fell" },
                pct.abs(),
                amount(kind, first),
                amount(kind, last)
            )
        }
    } else {
        format!(
            "went from {} to {}",
            amount(kind, first),
            amount(kind, last)
        )
    };
    format!(
        "{process} {counter} {what} in {}; {needs}",
        hours_text(span_hours)
    )
}

/// The log-wide decision for one series.
fn decide(log: &PerfLog, s: &SeriesTrial) -> Finding {
    let col = &log.columns[s.column];
    let kind = s.kind;
    let first = s.first_finite.map(|p| p.1);
    let last = s.last_finite.map(|p| p.1);
    let span_hours = match (s.first_finite, s.last_finite) {
        (Some(a), Some(b)) => match (log.elapsed_seconds.get(a.0), log.elapsed_seconds.get(b.0)) {
            (Some(start), Some(end)) if (end - start).is_finite() => (end - start) / 3600.0,
            _ => 0.0,
        },
        _ => 0.0,
    };
    let growth_percent = match (first, last) {
        (Some(f), Some(l)) if f > 0.0 => Some(100.0 * (l - f) / f),
        _ => None,
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
    let q_of = |i: usize| s.lifetime_q[i].unwrap_or(1.0);
    // Stairs excepted: their halves differ by where the steps fall.
    let dying_out = |i: usize| match &s.lifetimes[i].outcome {
        Outcome::Candidate { shape, .. } if *shape != "stepwise" => {
            dying_out_share(&s.lifetimes[i])
        }
        _ => None,
    };
    let soft_of = |i: usize| match &s.lifetimes[i].outcome {
        Outcome::Candidate { soft, .. } => soft.clone(),
        _ => Vec::new(),
    };

    let mut verdict;
    let mut reasons: Vec<String> = Vec::new();
    let mut shape: String;
    let mut confidence;
    // The lifetime whose slope, fit and forecast the finding reports.
    let decisive: Option<usize>;
    // The lifetime the forecast starts from, when it is not the decisive one.
    let mut current: Option<usize> = None;
    let mut q_value = None;
    let mut p_value = None;

    let slopes_agree = |idx: &[usize]| {
        let slopes: Vec<f64> = idx
            .iter()
            .filter_map(|&i| s.lifetimes[i].sen.map(|x| x.slope))
            .collect();
        let (lo, hi) = slopes
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        slopes.len() == idx.len() && lo > 0.0 && hi <= 3.0 * lo
    };
    // Lifetimes tested only because restarts cut them all short stand for nothing alone.
    let pooled = tested.iter().all(|&i| s.lifetimes[i].pooled_only);
    let strong: Vec<usize> = passing
        .iter()
        .copied()
        .filter(|&i| q_of(i) <= Q_LEAK && !pooled)
        .collect();
    let masked = passing.len() >= 2
        && 2 * passing.len() >= tested.len()
        && s.combined_q.is_some_and(|q| q <= Q_LEAK)
        && (slopes_agree(&passing) || (passing.len() >= 3 && passing.len() == tested.len()))
        && !passing.iter().all(|&i| dying_out(i).is_some());

    if tested.is_empty() || (pooled && !masked) {
        verdict = Verdict::InsufficientData;
        shape = "unknown".into();
        confidence = 0.3;
        let longest = (0..s.lifetimes.len()).max_by(|&a, &b| {
            s.lifetimes[a]
                .span_hours()
                .total_cmp(&s.lifetimes[b].span_hours())
        });
        decisive = None;
        let (span, n) = longest.map_or((0.0, 0), |i| {
            (s.lifetimes[i].span_hours(), s.lifetimes[i].samples)
        });
        reasons.push(observed_change(
            &col.path.instance.clone().unwrap_or_default(),
            &col.path.counter,
            kind,
            first.zip(last),
            span_hours,
        ));
        if s.lifetimes.len() > 1 {
            // The log is long enough; its processes did not live long enough.
            reasons[0] = reasons[0].replace("too short", "each process lifetime too short");
            reasons.push(format!(
                "{} lifetimes, the longest {} with {} samples",
                s.lifetimes.len(),
                hours_text(span),
                n
            ));
        }
    } else if let Some((best, reached, held)) = climbs_back(s, log, &passing, &tested) {
        // Restarts without a leak: each new process warms up to where the last one settled.
        decisive = Some(best);
        verdict = Verdict::Ok;
        confidence = 0.7;
        q_value = Some(q_of(best));
        p_value = Some(s.lifetimes[best].p);
        shape = "warm-up".into();
        reasons.push(format!(
            "warm-up after restarts: {} reach{} {}, within noise of the {} an earlier lifetime held without growing",
            if passing.len() == 1 { "the growing lifetime" } else { "the growing lifetimes" },
            if passing.len() == 1 { "es" } else { "" },
            amount(kind, reached),
            amount(kind, held)
        ));
    } else if masked {
        // The slope comes from the longest growing lifetime (a short last one is mostly the
        // warm-up after the restart); the forecast still starts from the current level.
        let longest = passing
            .iter()
            .copied()
            .max_by(|&a, &b| {
                s.lifetimes[a]
                    .coverage_hours()
                    .total_cmp(&s.lifetimes[b].coverage_hours())
            })
            .unwrap_or(tested[0]);
        decisive = Some(longest);
        current = passing.last().copied();
        verdict = Verdict::Leak;
        shape = "restart-masked".into();
        q_value = s.combined_q;
        p_value = s.combined_p;
        let covered: f64 = passing
            .iter()
            .map(|&i| s.lifetimes[i].coverage_hours())
            .sum();
        reasons.push(format!(
            "MK-HR q={:.1e} combined over lifetimes (Stouffer)",
            q_value.unwrap_or(1.0)
        ));
        reasons.push(format!(
            "{}/{} lifetimes agree on the growth",
            passing.len(),
            tested.len()
        ));
        if pooled {
            reasons.push(format!(
                "every lifetime is shorter than {} h: they are judged together only",
                gates::MIN_SPAN_HOURS
            ));
        }
        if covered < 24.0 {
            verdict = Verdict::Suspect;
            reasons.push(format!(
                "lifetimes cover only {}: a daily cycle cannot be ruled out",
                hours_text(covered)
            ));
        }
        confidence = if verdict == Verdict::Leak { 0.9 } else { 0.55 };
    } else if let Some(&best) = strong.last() {
        decisive = Some(best);
        let soft = soft_of(best);
        q_value = Some(q_of(best));
        p_value = Some(s.lifetimes[best].p);
        shape = match &s.lifetimes[best].outcome {
            Outcome::Candidate { shape, .. } => (*shape).into(),
            _ => "linear".into(),
        };
        reasons.push(format!("MK-HR q={:.1e}", q_value.unwrap_or(1.0)));
        // One lifetime stands for the series only when it is the last one tested: growth that
        // later lifetimes do not repeat is weaker evidence.
        let is_last = tested.last() == Some(&best);
        // Hours covered by the tested lifetimes that did not grow, all of them and those after
        // the decisive one.
        let held_still = |after: Option<usize>| -> f64 {
            tested
                .iter()
                .filter(|&&i| !passing.contains(&i) && after.is_none_or(|b| i > b))
                .map(|&i| s.lifetimes[i].coverage_hours())
                .sum()
        };
        let still_hours = held_still(None);
        let later_still_hours = held_still(Some(best));
        // Growth confined to one short lifetime while the series' other lifetimes held still
        // for a day or more: a warm-up or a busy spell of that process, not a leak.
        let confined = passing.len() == 1
            && passing.len() < tested.len()
            && s.lifetimes[best].coverage_hours() < 24.0
            && still_hours >= 24.0;
        if starts_late(&s.lifetimes[best]) {
            // A rise confined to the end is as much a burst or a level shift in the making as
            // a leak; the report says when to look again.
            verdict = Verdict::Ok;
            confidence = 0.5;
            shape = "late-onset".into();
            reasons.insert(
                0,
                format!(
                    "growth only from {}, in the last 20% of the lifetime: too recent to tell from a burst; record a longer log to decide",
                    hours_text(s.lifetimes[best].fit_start_hours)
                ),
            );
        } else if let Some(share) = dying_out(best) {
            verdict = Verdict::Ok;
            confidence = 0.6;
            shape = "warm-up".into();
            let second_half = if share < 0.0 {
                "falls".to_string()
            } else {
                format!("rises at {:.0}% of the first half's rate", 100.0 * share)
            };
            reasons.insert(
                0,
                format!(
                    "growth dying out: the second half {second_half} (warm-up or a filling cache)"
                ),
            );
        } else if let Some(why) = cycle_residue(&s.lifetimes[best], q_of(best)) {
            verdict = Verdict::Ok;
            confidence = 0.5;
            reasons.insert(0, why);
        } else if confined {
            verdict = Verdict::Ok;
            confidence = 0.6;
            shape = "confined".into();
            let others = tested.len() - passing.len();
            reasons.insert(
                0,
                format!(
                    "growth confined to one lifetime of {}: {others} other lifetime{} over {} do{} not grow",
                    hours_text(s.lifetimes[best].coverage_hours()),
                    if others == 1 { "" } else { "s" },
                    hours_text(still_hours),
                    if others == 1 { "es" } else { "" }
                ),
            );
        } else if soft.is_empty() && is_last {
            verdict = Verdict::Leak;
            confidence = 0.75;
        } else if later_still_hours >= 24.0
            && later_still_hours >= s.lifetimes[best].coverage_hours()
        {
            // The processes that came after lived as long and did not grow: what grew was
            // that one process's fill (a cache, a queue), not a leak in the program.
            verdict = Verdict::Ok;
            confidence = 0.6;
            reasons.insert(
                0,
                format!(
                    "later lifetimes, {} in all, do not repeat the growth of the one before",
                    hours_text(later_still_hours)
                ),
            );
        } else if soft.is_empty() {
            verdict = Verdict::Suspect;
            confidence = 0.5;
            reasons.push("later lifetimes do not repeat the growth".into());
        } else {
            verdict = Verdict::Suspect;
            confidence = 0.5;
            reasons.extend(soft);
        }
        if tested.len() > 1 {
            reasons.push(format!(
                "{} of {} lifetimes grow",
                passing.len(),
                tested.len()
            ));
        }
    } else if let Some(&best) = passing.iter().rfind(|&&i| q_of(i) <= Q_SUSPECT) {
        decisive = Some(best);
        verdict = Verdict::Suspect;
        confidence = 0.4;
        q_value = Some(q_of(best));
        p_value = Some(s.lifetimes[best].p);
        shape = match &s.lifetimes[best].outcome {
            Outcome::Candidate { shape, .. } => (*shape).into(),
            _ => "linear".into(),
        };
        reasons.push(format!(
            "weak evidence: MK-HR q={:.1e} (leak needs q <= {Q_LEAK})",
            q_value.unwrap_or(1.0)
        ));
        if let Some(why) = too_weak_to_flag(&s.lifetimes[best]) {
            verdict = Verdict::Ok;
            confidence = 0.6;
            reasons.insert(0, format!("not flagged on weak evidence: {why}"));
        } else {
            reasons.extend(soft_of(best));
        }
    } else {
        // Not a leak: explain with the lifetime that came closest (rejected growth first).
        let pick = tested
            .iter()
            .copied()
            .rfind(|&i| matches!(s.lifetimes[i].outcome, Outcome::Rejected { .. }))
            .unwrap_or(tested[tested.len() - 1]);
        decisive = Some(pick);
        verdict = Verdict::Ok;
        q_value = Some(q_of(pick));
        p_value = Some(s.lifetimes[pick].p);
        let l = &s.lifetimes[pick];
        match &l.outcome {
            Outcome::Rejected { shape: sh, reason } => {
                shape = (*sh).into();
                confidence = 0.8;
                reasons.push(reason.clone());
            }
            Outcome::NoTrend { shape: sh } => {
                shape = (*sh).into();
                confidence = if l.p > 0.5 { 0.9 } else { 0.75 };
                reasons.push(format!("no significant growth (MK-HR p={:.2})", l.p));
            }
            Outcome::Candidate { shape: sh, .. } => {
                shape = (*sh).into();
                confidence = 0.6;
                reasons.push(format!(
                    "growth not significant across the log's {} tests (q={:.2})",
                    log.columns.len(),
                    q_of(pick)
                ));
            }
            Outcome::Untestable => {
                shape = "unknown".into();
                confidence = 0.3;
            }
        }
    }

    if s.split.renumbered && s.split.pids.is_empty() && verdict == Verdict::Leak {
        verdict = Verdict::Suspect;
        confidence = 0.5;
        reasons.push("the instance label moves between processes (#N renumbering): log ID Process to be sure".into());
    } else if s.split.renumbered {
        reasons.push(
            "#N renumbering: the label passed between processes (split by ID Process)".into(),
        );
    }

    let d = decisive.map(|i| &s.lifetimes[i]);
    let sen = d.and_then(|l| l.sen);
    let level_now = current
        .or(decisive)
        .and_then(|i| s.lifetimes[i].level_at_end())
        .or(last)
        .unwrap_or(0.0);
    let limit: Option<Limit> =
        limit::limit_for(kind, level_now, s.max_virtual_bytes, s.commit_headroom);
    let mut time_to_limit_hours = None;
    let mut time_to_limit_ci_hours = None;
    let mut severity = None;
    if let (Some(l), Some(sen)) = (d, sen) {
        if matches!(verdict, Verdict::Leak | Verdict::Suspect) {
            reasons.insert(
                1.min(reasons.len()),
                format!(
                    "Sen {} [{}, {}]",
                    per_hour(kind, sen.slope),
                    per_hour(kind, sen.lower),
                    per_hour(kind, sen.upper)
                ),
            );
            reasons.insert(
                2.min(reasons.len()),
                // Relative to the median level, not to the first sample as `growth_percent`
                // is: say so, or the two figures read as a contradiction.
                format!(
                    "trend +{:.0}% of the median level over {}",
                    100.0 * relative_growth(l),
                    hours_text(growing_hours(l))
                ),
            );
            reasons.extend(l.notes.iter().cloned());
            let (slope_low, slope_high) =
                limit::forecast_band(sen.slope, sen.lower, sen.upper, l.half_slopes);
            if let Some(lim) = &limit {
                if let Some((h, ci)) =
                    limit::time_to_limit(lim.value, level_now, sen.slope, slope_low, slope_high)
                {
                    time_to_limit_hours = Some(h);
                    time_to_limit_ci_hours = Some(ci);
                    // Judged, like the time to limit, from the trend's end: the last sample is
                    // noisier.
                    let soft_level = level_now;
                    let severity_hours = if lim.severity_value == lim.value {
                        h
                    } else {
                        (lim.severity_value - soft_level).max(0.0) / sen.slope
                    };
                    severity = Some(limit::severity(severity_hours));
                    reasons.push(format!(
                        "TTE({}) {} [{}, {}] ({})",
                        amount(kind, lim.value),
                        hours_text(h),
                        ci[0].map_or("?".into(), hours_text),
                        ci[1].map_or("never".into(), hours_text),
                        lim.note
                    ));
                    // The hard limit is years away for most handle leaks; the soft limit is
                    // where trouble starts, so say when it is reached.
                    if kind == CounterKind::HandleCount && soft_level >= lim.severity_value {
                        reasons.push(format!(
                            "already past the 16,384-handle soft limit ({})",
                            amount(kind, soft_level)
                        ));
                    } else if kind == CounterKind::HandleCount && lim.severity_value < lim.value {
                        if let Some((hs, cis)) = limit::time_to_limit(
                            lim.severity_value,
                            soft_level,
                            sen.slope,
                            slope_low,
                            slope_high,
                        ) {
                            reasons.push(format!(
                                "16,384-handle soft limit in {} [{}, {}]",
                                hours_text(hs),
                                cis[0].map_or("?".into(), hours_text),
                                cis[1].map_or("never".into(), hours_text)
                            ));
                        }
                    }
                    // Growth so fast that the partial-day caveat does not matter.
                    if verdict == Verdict::Suspect
                        && l.cycle_confound
                        && strong.contains(&decisive.unwrap_or(usize::MAX))
                        && soft_of(decisive.unwrap_or(0)).len() == 1
                        && ci[1].is_some_and(|hi| hi < 24.0)
                    {
                        verdict = Verdict::Leak;
                        confidence = 0.7;
                        reasons.push(
                            "exhaustion within a day outweighs the partial-day caveat".into(),
                        );
                    }
                }
            }
            if verdict == Verdict::Leak && confidence < 0.9 {
                // High confidence: strong q, large growth, persistent tail, and a full day (or
                // several lifetimes) so that a cycle cannot pass for growth.
                let rel = relative_growth(l);
                let high = q_value.is_some_and(|q| q <= 1e-4)
                    && rel >= 0.2
                    && l.tail_ratio.is_none_or(|r| r >= 0.6)
                    && !l.cycle_confound;
                let strength = q_value.map_or(0.0, |q| (-q.max(1e-300).log10() / 20.0).min(1.0));
                confidence = if high {
                    0.9 + 0.09 * strength
                } else {
                    0.75 + 0.1 * strength
                };
            }
        }
    }
    // The detectable slope bounds a test that was run; an untested series has no such bound.
    if verdict == Verdict::Ok {
        let mds = s
            .lifetimes
            .iter()
            .filter_map(|l| l.min_detectable_slope)
            .reduce(f64::min);
        if let Some(mds) = mds {
            reasons.push(format!(
                "could have detected a leak of about {} or more",
                per_hour(kind, mds)
            ));
        }
    }
    if s.labels.len() > 1 {
        reasons.push(format!(
            "one process lineage seen as {} (stitched by ID Process across #N renumbering)",
            s.labels.join(", ")
        ));
    }
    if !s.split.cuts.is_empty() {
        let why: Vec<&str> = s.split.cuts.iter().map(|c| c.1.describe()).collect();
        let mut why_unique: Vec<&str> = Vec::new();
        for w in why {
            if !why_unique.contains(&w) {
                why_unique.push(w);
            }
        }
        reasons.push(format!(
            "{} lifetimes ({})",
            s.lifetimes.len(),
            why_unique.join(", ")
        ));
    }
    if s.split.sawtooth_drops > 0 {
        reasons.push(format!(
            "{} recurring drops read as a sawtooth, not restarts",
            s.split.sawtooth_drops
        ));
    }

    let min_detectable = if verdict == Verdict::InsufficientData {
        None
    } else {
        s.lifetimes
            .iter()
            .filter_map(|l| l.min_detectable_slope)
            .reduce(f64::min)
    };
    let fits = |robust: bool| -> Vec<TrendLine> {
        tested
            .iter()
            .filter_map(|&i| {
                let l = &s.lifetimes[i];
                if robust {
                    l.sen.map(|f| TrendLine {
                        start_hours: l.fit_start_hours,
                        end_hours: l.end_hours,
                        intercept: f.intercept,
                        slope_per_hour: f.slope,
                    })
                } else {
                    l.ols.map(|f| TrendLine {
                        start_hours: l.start_hours,
                        end_hours: l.end_hours,
                        intercept: f.intercept,
                        slope_per_hour: f.slope,
                    })
                }
            })
            .collect()
    };
    let (robust_fits, ols_fits) = (fits(true), fits(false));
    if verdict == Verdict::Ok
        && shape == "flat"
        && d.is_some_and(|l| l.notes.iter().any(|n| n.starts_with("daily cycle removed")))
    {
        shape = "cyclic".into();
    }

    Finding {
        process: col.path.process_name().unwrap_or_default().to_string(),
        instance: col.path.instance_label().unwrap_or_default(),
        pids: s.split.pids.clone(),
        counter: col.path.counter.clone(),
        verdict,
        confidence: confidence.clamp(0.0, 1.0),
        slope_per_hour: sen.map(|x| x.slope),
        slope_ci95: sen.map(|x| [x.lower, x.upper]),
        r_squared: d.and_then(|l| l.ols).map(|o| o.r_squared),
        p_value,
        first,
        last,
        growth_percent,
        segments: s.lifetimes.len().max(1),
        limit: limit.as_ref().map(|l| l.value),
        time_to_limit_hours,
        chart: None,
        machine: col.path.machine.clone(),
        severity,
        q_value,
        time_to_limit_ci_hours,
        ols_slope_per_hour: d.and_then(|l| l.ols).map(|o| o.slope),
        ols_slope_se: d.and_then(|l| l.ols).map(|o| o.slope_se),
        min_detectable_slope_per_hour: min_detectable,
        shape,
        reasons,
        samples: s.finite_count,
        span_hours,
        unit: kind.unit().into(),
        column: s.column,
        restarts: s.split.cuts.iter().map(|c| c.0).collect(),
        robust_fits,
        ols_fits,
        stitched_values: s.values.clone(),
    }
}

/// Other counters of the same process growing too make a leak more believable (handles with
/// pool, private with virtual bytes); it never makes or breaks a verdict.
fn corroborate(findings: &mut [Finding]) {
    let growing: Vec<(Option<String>, String, String)> = findings
        .iter()
        .filter(|f| matches!(f.verdict, Verdict::Leak | Verdict::Suspect))
        .map(|f| (f.machine.clone(), f.instance.clone(), f.counter.clone()))
        .collect();
    for f in findings.iter_mut() {
        if f.verdict != Verdict::Leak {
            continue;
        }
        let others: Vec<&str> = growing
            .iter()
            .filter(|(m, i, c)| *m == f.machine && *i == f.instance && *c != f.counter)
            .map(|(_, _, c)| c.as_str())
            .collect();
        if !others.is_empty() {
            f.reasons.push(format!("co-trend: {}", others.join(", ")));
            f.confidence = (f.confidence + 0.02 * others.len() as f64).min(0.99);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clean linear lifetime of `hours` growing 1%/h from 100, tested as a candidate.
    fn linear_trial(hours: f64) -> LifetimeTrial {
        let t: Vec<f64> = (0..=(hours as usize * 4)).map(|i| i as f64 / 4.0).collect();
        let v: Vec<f64> = t
            .iter()
            .map(|h| 100.0 + h + 0.01 * (h * 7.0).sin())
            .collect();
        let trial = gates::try_lifetime(
            &t,
            &v,
            CounterKind::HandleCount,
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

    #[test]
    fn growth_in_the_last_fifth_starts_late() {
        let mut l = linear_trial(48.0);
        assert!(!starts_late(&l));
        l.fit_start_hours = 40.0;
        assert!(starts_late(&l));
        // Growth counts from the onset: 8 h at 1/h on a level of ~124.
        assert!((relative_growth(&l) - 8.0 * l.sen.unwrap().slope / l.level).abs() < 1e-9);
    }

    #[test]
    fn halves_tell_a_dying_out_rise_from_a_steady_one() {
        let mut l = linear_trial(48.0);
        assert_eq!(dying_out_share(&l), None);
        l.half_slopes = Some((10.0, 1.0));
        assert_eq!(dying_out_share(&l), Some(0.1));
        l.half_slopes = Some((10.0, -2.0));
        assert_eq!(dying_out_share(&l), Some(-0.2));
    }

    #[test]
    fn weak_evidence_needs_a_positive_interval_size_and_a_live_tail() {
        let mut l = linear_trial(48.0);
        assert_eq!(too_weak_to_flag(&l), None);
        l.tail_ratio = Some(0.3);
        assert!(too_weak_to_flag(&l).is_some_and(|w| w.contains("30% of the rate")));
        l.tail_ratio = Some(1.0);
        if let Some(sen) = l.sen.as_mut() {
            sen.lower = 0.0;
        }
        assert!(too_weak_to_flag(&l).is_some_and(|w| w.contains("includes 0")));
        let mut late = linear_trial(48.0);
        late.fit_start_hours = 20.0;
        assert!(too_weak_to_flag(&late).is_some_and(|w| w.contains("starts late")));
    }

    #[test]
    fn small_growth_under_a_possible_cycle_needs_strong_evidence() {
        let mut l = linear_trial(30.0);
        l.level *= 100.0; // the same slope is now well under 10% of the level
        assert_eq!(cycle_residue(&l, 1e-3), None, "no cycle in question");
        l.cycle_confound = true;
        assert!(cycle_residue(&l, 1e-3).is_some());
        assert_eq!(cycle_residue(&l, 1e-6), None, "strong evidence still flags");
    }
}
