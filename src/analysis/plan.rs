//! Choosing the series: which columns of a log are analysed, as what counter, one label at a
//! time or stitched into process lineages by PID, grouped by process so that each process's
//! identity columns are decoded once; and what each series needs from the rest of the log
//! (its sibling columns, the largest Virtual Bytes, the machine's commit headroom).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use rayon::prelude::*;

use super::stitch;
use crate::ingest::{Column, CounterPath, PerfLog};
use crate::vocab::Counter;

/// (machine, object, instance, index, counter), lower case: one column of a process.
type ColumnKey = (String, String, String, Option<u32>, String);

/// The decoded `ID Process` series of an image's labels, when PIDs moved between them.
type MovedPids = Rc<Vec<Vec<f64>>>;

/// What is analysed as one series: a column, or a process lineage stitched from several.
pub(crate) enum Unit {
    Label(usize, Counter),
    /// The lineage's home column, its counter and the lineage.
    Lineage(usize, Counter, stitch::Lineage),
}

impl Unit {
    pub fn column(&self) -> usize {
        match self {
            Unit::Label(c, _) | Unit::Lineage(c, _, _) => *c,
        }
    }
}

/// The series of a log to analyse and what they need from its other columns.
pub(crate) struct Plan<'a> {
    pub log: &'a PerfLog,
    by_key: HashMap<ColumnKey, usize>,
    /// Each Virtual Bytes column's largest value, decoded once.
    largest: HashMap<usize, f64>,
    /// Commit headroom per machine.
    headroom: Vec<(Option<String>, Option<f64>)>,
    /// What shows each machine to be 64-bit.
    x64: Vec<(Option<String>, Option<String>)>,
    /// The units of each process, with their order in the log's plan.
    pub processes: Vec<Vec<(usize, Unit)>>,
}

fn key(c: &Column, counter: &str) -> ColumnKey {
    let p = &c.path;
    (
        p.machine.as_deref().unwrap_or("").to_ascii_lowercase(),
        p.object.to_ascii_lowercase(),
        p.instance.as_deref().unwrap_or("").to_ascii_lowercase(),
        p.index,
        counter.to_ascii_lowercase(),
    )
}

impl<'a> Plan<'a> {
    pub fn new(log: &'a PerfLog) -> Plan<'a> {
        // Index the process columns by object, instance and counter once: identity columns are
        // looked up for every series. The object is part of the key: `Process(a)` and
        // `Process V2(a:1)` are different columns of one process.
        let mut by_key: HashMap<ColumnKey, usize> = HashMap::new();
        for (i, c) in log.columns.iter().enumerate() {
            if c.path.is_process() {
                by_key.entry(key(c, &c.path.counter)).or_insert(i);
            }
        }
        let mut plan = Plan {
            log,
            by_key,
            largest: HashMap::new(),
            headroom: Vec::new(),
            x64: Vec::new(),
            processes: Vec::new(),
        };
        let series = chosen_series(log);
        // Every counter of a process, and of every lineage through its labels, asks for it.
        let virtual_bytes: HashSet<usize> = series
            .iter()
            .filter_map(|&(column, _)| plan.sibling(column, "Virtual Bytes"))
            .collect();
        plan.largest = virtual_bytes
            .into_par_iter()
            .filter_map(|j| Some((j, log.columns[j].values.max_finite()?)))
            .collect();
        let units = plan.units(&series);
        // Commit headroom once per machine, not once per series.
        for unit in &units {
            let machine = &log.columns[unit.column()].path.machine;
            if !plan.headroom.iter().any(|(m, _)| eq_opt(m, machine)) {
                plan.headroom
                    .push((machine.clone(), commit_headroom(log, machine)));
                let evidence = x64_evidence(log, machine, &plan.largest);
                plan.x64.push((machine.clone(), evidence));
            }
        }
        plan.processes = plan.by_process(units);
        plan
    }

    /// The column of the same process instance holding `counter`.
    pub fn sibling(&self, column: usize, counter: &str) -> Option<usize> {
        self.by_key
            .get(&key(&self.log.columns[column], counter))
            .copied()
    }

    /// Columns are kept encoded: a series and its identity columns are decoded where they are
    /// worked on, one process at a time.
    pub fn decoded(&self, column: usize, counter: &str) -> Option<Vec<f64>> {
        self.sibling(column, counter)
            .map(|j| self.log.columns[j].values.to_vec())
    }

    /// The largest Virtual Bytes of the column's process instance.
    pub fn max_virtual_bytes(&self, column: usize) -> Option<f64> {
        self.sibling(column, "Virtual Bytes")
            .and_then(|j| self.largest.get(&j).copied())
    }

    /// Commit Limit - Committed Bytes of the column's machine at the end of the log.
    pub fn headroom_of(&self, column: usize) -> Option<f64> {
        let machine = &self.log.columns[column].path.machine;
        self.headroom
            .iter()
            .find(|(m, _)| eq_opt(m, machine))
            .and_then(|(_, h)| *h)
    }

    /// The year of the log's first sample (what Windows was in service then).
    pub fn year(&self) -> Option<i32> {
        self.log.timestamps.first().map(chrono::Datelike::year)
    }

    /// The last logged `Memory\\Commit Limit` of the column's machine.
    pub fn commit_limit_of(&self, column: usize) -> Option<f64> {
        memory_last(
            self.log,
            &self.log.columns[column].path.machine,
            "Commit Limit",
        )
    }

    /// What shows the column's machine to be 64-bit.
    pub fn x64_evidence_of(&self, column: usize) -> Option<String> {
        let machine = &self.log.columns[column].path.machine;
        self.x64
            .iter()
            .find(|(m, _)| eq_opt(m, machine))
            .and_then(|(_, e)| e.clone())
    }

    /// With `ID Process` logged, an image whose labels passed between processes is analysed
    /// per process lineage (stitched by PID), not per label.
    fn units(&self, series: &[(usize, Counter)]) -> Vec<Unit> {
        let log = self.log;
        // (machine, object, instance, counter): the labels of one image and counter.
        type GroupKey = (String, String, String, String);
        let mut groups: HashMap<GroupKey, Vec<(usize, Counter)>> = HashMap::new();
        for &(column, kind) in series {
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
        let mut units: Vec<Unit> = Vec::new();
        let mut group_list: Vec<&Vec<(usize, Counter)>> = groups.values().collect();
        group_list.sort_by_key(|g| g[0].0);
        // The labels of an image share their `ID Process` columns across counters: whether
        // they moved is decided (and the PIDs decoded) once per set of those columns.
        let mut moved_pids: HashMap<Vec<usize>, Option<MovedPids>> = HashMap::new();
        for group in group_list {
            // Identity first: a group's values are decoded only when its labels did move.
            let pid_columns: Option<Vec<usize>> = (group.len() >= 2)
                .then(|| {
                    group
                        .iter()
                        .map(|&(column, _)| self.sibling(column, "ID Process"))
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
                Some(pids) => units.extend(self.lineages(group, &pids)),
                None => units.extend(group.iter().map(|&(c, k)| Unit::Label(c, k))),
            }
        }
        units
    }

    /// The process lineages of one image and counter whose labels moved between processes.
    fn lineages(&self, group: &[(usize, Counter)], pids: &[Vec<f64>]) -> Vec<Unit> {
        let log = self.log;
        let decoded_members: Vec<(Vec<f64>, Option<Vec<f64>>)> = group
            .iter()
            .map(|&(column, _)| {
                (
                    log.columns[column].values.to_vec(),
                    self.decoded(column, "Elapsed Time"),
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
        stitch::lineages(&members, log.elapsed_seconds.len())
            .into_iter()
            .map(|lineage| Unit::Lineage(lineage.home, kind, lineage))
            .collect()
    }

    /// Series of one process share its identity columns: they are decoded once per process.
    fn by_process(&self, units: Vec<Unit>) -> Vec<Vec<(usize, Unit)>> {
        let mut processes: Vec<Vec<(usize, Unit)>> = Vec::new();
        let mut process_of: HashMap<ColumnKey, usize> = HashMap::new();
        for (order, unit) in units.into_iter().enumerate() {
            match unit {
                // A system-wide series stands alone: it has no identity columns to share.
                Unit::Label(_, kind) if kind.is_system() => processes.push(vec![(order, unit)]),
                Unit::Label(column, _) => {
                    let slot = *process_of
                        .entry(key(&self.log.columns[column], ""))
                        .or_insert_with(|| {
                            processes.push(Vec::new());
                            processes.len() - 1
                        });
                    processes[slot].push((order, unit));
                }
                Unit::Lineage(..) => processes.push(vec![(order, unit)]),
            }
        }
        processes
    }
}

/// The analysed columns with their counter: those of real processes, then the system-wide
/// series (`Memory`, `Process(_Total)`). The analysed columns of real processes: A log may hold both counter sets
/// for the same processes (a collector set written for older servers and extended for Windows
/// 11). Process V2 is kept, Process dropped, per machine, image and counter: its `name:pid`
/// instances name one process each, so no `#N` label passes between processes and nothing
/// needs stitching (Microsoft's advice too).
fn chosen_series(log: &PerfLog) -> Vec<(usize, Counter)> {
    let image_key = |p: &CounterPath| {
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
    let mut series: Vec<(usize, Counter)> = log
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.path.is_real_process())
        .filter(|(_, c)| c.path.object != "Process" || !in_v2.contains(&image_key(&c.path)))
        .filter_map(|(i, c)| Counter::from_name(&c.path.counter).map(|k| (i, k)))
        .collect();
    // One column per machine and system counter (a log joined from two captures may repeat
    // one): the first.
    let mut seen: HashSet<(String, Counter)> = HashSet::new();
    let mut system: Vec<(usize, Counter, String)> = Vec::new();
    for (i, c) in log.columns.iter().enumerate() {
        let p = &c.path;
        if let Some(kind) = Counter::system(&p.object, p.instance.as_deref(), &p.counter) {
            let machine = p.machine.as_deref().unwrap_or("").to_ascii_lowercase();
            if p.index.is_none() && seen.insert((machine.clone(), kind)) {
                system.push((i, kind, machine));
            }
        }
    }
    // Memory left in bytes and in megabytes is one series: the bytes are kept.
    system.retain(|(_, kind, machine)| {
        *kind != Counter::AvailableMBytes
            || !seen.contains(&(machine.clone(), Counter::AvailableBytes))
    });
    series.extend(system.into_iter().map(|(i, kind, _)| (i, kind)));
    series
}

fn eq_opt(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        (None, None) => true,
        _ => false,
    }
}

#[derive(serde::Deserialize)]
struct X64Markers {
    marker: Vec<X64Marker>,
}

#[derive(serde::Deserialize)]
struct X64Marker {
    process: Option<String>,
    object: Option<String>,
    why: String,
}

fn x64_markers() -> &'static [X64Marker] {
    static MARKERS: std::sync::OnceLock<Vec<X64Marker>> = std::sync::OnceLock::new();
    MARKERS.get_or_init(|| {
        let table: X64Markers = crate::data::builtin!("limits/x64_markers.toml");
        table.marker
    })
}

/// What in the log shows `machine` to be 64-bit: a process's Virtual Bytes above 4 GB (the
/// largest of each Virtual Bytes column, `largest`), or a process or object that exists only on
/// 64-bit Windows (`data/limits/x64_markers.toml`).
fn x64_evidence(
    log: &PerfLog,
    machine: &Option<String>,
    largest: &HashMap<usize, f64>,
) -> Option<String> {
    let on_machine = |p: &CounterPath| eq_opt(&p.machine, machine);
    let mut proven: Vec<(&usize, &f64)> = largest
        .iter()
        .filter(|(&j, &v)| v > 4.3e9 && on_machine(&log.columns[j].path))
        .collect();
    proven.sort_by_key(|(&j, _)| j);
    if let Some((&j, _)) = proven.first() {
        let name = log.columns[j].path.instance_label().unwrap_or_default();
        return Some(format!("{name}'s Virtual Bytes passed 4 GB"));
    }
    x64_markers().iter().find_map(|m| {
        let seen = log.all_paths.iter().filter(|p| on_machine(p)).any(|p| {
            m.object
                .as_ref()
                .is_some_and(|o| p.object.eq_ignore_ascii_case(o))
                || m.process.as_ref().is_some_and(|name| {
                    p.is_process()
                        && p.instance
                            .as_ref()
                            .is_some_and(|i| i.eq_ignore_ascii_case(name))
                })
        });
        seen.then(|| m.why.clone())
    })
}

/// The last logged value of a `Memory` counter of the machine.
fn memory_last(log: &PerfLog, machine: &Option<String>, counter: &str) -> Option<f64> {
    log.columns
        .iter()
        .find(|c| {
            c.path.object == "Memory"
                && eq_opt(&c.path.machine, machine)
                && c.path.counter.eq_ignore_ascii_case(counter)
        })
        .and_then(|c| c.values.last_finite())
}

/// Commit Limit - Committed Bytes of the machine at the end of the log.
fn commit_headroom(log: &PerfLog, machine: &Option<String>) -> Option<f64> {
    Some(memory_last(log, machine, "Commit Limit")? - memory_last(log, machine, "Committed Bytes")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_x64_markers_load_and_each_names_a_process_or_an_object() {
        let markers = x64_markers();
        assert!(!markers.is_empty());
        for m in markers {
            assert!(m.process.is_some() || m.object.is_some(), "{}", m.why);
        }
    }
}
