//! The log as a table (services with lifetimes and PIDs, machine-wide objects) and its
//! PDH-CSV 4.0 text: instance names with `#N` are assigned per sample the way perfmon does,
//! so a restart renumbers same-name processes and the labels follow the column, not the process.

use std::io::{self, Write};

use chrono::{Datelike, Duration, NaiveDateTime, Timelike};

use super::label::{LogLabels, SeriesLabel, Truth};

/// One run of a process: samples `start..end` (end exclusive) under one PID.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifetime {
    pub start: usize,
    pub end: usize,
    pub pid: u32,
    /// Process age in hours at `start` (0 when it starts inside the log).
    pub age_hours: f64,
}

/// One counter of a service, `NaN` where the value is not logged.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCounter {
    pub counter: String,
    pub values: Vec<f64>,
    /// Digits after the decimal point in the text (0 for integer counters).
    pub decimals: usize,
    /// Ground truth, for the counters the benchmark scores (Private Bytes, Handle Count).
    pub label: Option<SeriesLabel>,
}

/// A logical process (an app pool, a service) that may restart under new PIDs.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub image: String,
    pub lifetimes: Vec<Lifetime>,
    pub counters: Vec<ServiceCounter>,
    /// Samples where the collector missed this process (all its cells blank).
    pub missing: Vec<bool>,
}

impl ServiceSpec {
    fn lifetime_at(&self, t: usize) -> Option<&Lifetime> {
        self.lifetimes.iter().find(|l| l.start <= t && t < l.end)
    }
}

/// A machine-wide column (`\Memory\Committed Bytes`, `\SMTP Server(_Total)\...`).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectColumn {
    pub object: String,
    pub instance: Option<String>,
    pub counter: String,
    pub values: Vec<f64>,
    pub decimals: usize,
}

/// Everything needed to write one log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSpec {
    pub name: String,
    pub seed: u64,
    pub host: String,
    pub time_zone: String,
    /// Minutes west of UTC, as in the header (Pacific 480).
    pub bias_minutes: i32,
    /// Local time of the first sample.
    pub start: NaiveDateTime,
    pub interval_seconds: f64,
    pub samples: usize,
    /// Millisecond jitter of each timestamp (collectors never sample exactly on the interval).
    pub jitter_ms: Vec<u32>,
    pub services: Vec<ServiceSpec>,
    /// Log `\Process(*)\ID Process`.
    pub id_process: bool,
    /// Log `\Process(*)\Elapsed Time`.
    pub elapsed_time: bool,
    /// Columns written before the process columns (Memory, Processor).
    pub objects_before: Vec<ObjectColumn>,
    /// Columns written after the process columns (server objects).
    pub objects_after: Vec<ObjectColumn>,
}

/// Which process occupies instance slot `slot` of one image at each sample.
struct ImageSlots {
    image: String,
    /// `occupant[slot][t]` = index into `LogSpec::services`.
    occupant: Vec<Vec<Option<usize>>>,
}

enum Cell {
    Service {
        image: usize,
        slot: usize,
        counter: String,
    },
    IdProcess {
        image: usize,
        slot: usize,
    },
    Elapsed {
        image: usize,
        slot: usize,
    },
    Object(bool, usize),
}

/// A log ready to be written, with the ground truth of its labelled columns.
#[derive(Debug, Clone)]
pub struct GeneratedLog {
    pub spec: LogSpec,
    pub labels: Vec<SeriesLabel>,
}

fn instance_label(image: &str, slot: usize) -> String {
    if slot == 0 {
        image.to_string()
    } else {
        format!("{image}#{slot}")
    }
}

impl LogSpec {
    /// Perfmon lists live processes of one image in creation order and numbers them 0, 1, 2...
    fn slots(&self) -> Vec<ImageSlots> {
        let interval_h = self.interval_seconds / 3600.0;
        let mut images: Vec<String> = Vec::new();
        for s in &self.services {
            if !images.contains(&s.image) {
                images.push(s.image.clone());
            }
        }
        images
            .into_iter()
            .map(|image| {
                let members: Vec<usize> = (0..self.services.len())
                    .filter(|&i| self.services[i].image == image)
                    .collect();
                let mut occupant: Vec<Vec<Option<usize>>> = Vec::new();
                for t in 0..self.samples {
                    let mut live: Vec<(f64, usize)> = members
                        .iter()
                        .filter_map(|&i| {
                            self.services[i]
                                .lifetime_at(t)
                                .map(|l| (l.start as f64 * interval_h - l.age_hours, i))
                        })
                        .collect();
                    live.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    for (slot, (_, i)) in live.iter().enumerate() {
                        if occupant.len() <= slot {
                            occupant.push(vec![None; self.samples]);
                        }
                        occupant[slot][t] = Some(*i);
                    }
                }
                ImageSlots { image, occupant }
            })
            .collect()
    }

    fn counter_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for s in &self.services {
            for c in &s.counters {
                if !names.contains(&c.counter) {
                    names.push(c.counter.clone());
                }
            }
        }
        names
    }

    fn layout(&self, slots: &[ImageSlots]) -> Vec<(String, Cell)> {
        let host = &self.host;
        let mut cells = Vec::new();
        for (k, o) in self.objects_before.iter().enumerate() {
            cells.push((object_path(host, o), Cell::Object(false, k)));
        }
        let mut process_counters = self.counter_names();
        if self.id_process {
            process_counters.push("ID Process".into());
        }
        if self.elapsed_time {
            process_counters.push("Elapsed Time".into());
        }
        for counter in process_counters {
            for (image, s) in slots.iter().enumerate() {
                for slot in 0..s.occupant.len() {
                    // Companion counters are logged only for the instances that carry them.
                    let carried = matches!(counter.as_str(), "ID Process" | "Elapsed Time")
                        || s.occupant[slot].iter().flatten().any(|&i| {
                            self.services[i]
                                .counters
                                .iter()
                                .any(|c| c.counter == counter)
                        });
                    if !carried {
                        continue;
                    }
                    let path = format!(
                        "\\\\{host}\\Process({})\\{counter}",
                        instance_label(&s.image, slot)
                    );
                    let cell = match counter.as_str() {
                        "ID Process" if self.id_process => Cell::IdProcess { image, slot },
                        "Elapsed Time" if self.elapsed_time => Cell::Elapsed { image, slot },
                        _ => Cell::Service {
                            image,
                            slot,
                            counter: counter.clone(),
                        },
                    };
                    cells.push((path, cell));
                }
            }
        }
        for (k, o) in self.objects_after.iter().enumerate() {
            cells.push((object_path(host, o), Cell::Object(true, k)));
        }
        cells
    }

    /// Writes the log as PDH-CSV 4.0 (every field quoted, CRLF line ends).
    pub fn write_csv<W: Write>(&self, out: &mut W) -> io::Result<()> {
        let slots = self.slots();
        let cells = self.layout(&slots);
        write!(
            out,
            "\"(PDH-CSV 4.0) ({})({})\"",
            self.time_zone, self.bias_minutes
        )?;
        for (path, _) in &cells {
            write!(out, ",\"{path}\"")?;
        }
        out.write_all(b"\r\n")?;
        let mut line = String::new();
        for t in 0..self.samples {
            line.clear();
            let ts = self.timestamp(t);
            line.push_str(&format!(
                "\"{:02}/{:02}/{:04} {:02}:{:02}:{:02}.{:03}\"",
                ts.month(),
                ts.day(),
                ts.year(),
                ts.hour(),
                ts.minute(),
                ts.second(),
                ts.nanosecond() / 1_000_000
            ));
            for (_, cell) in &cells {
                line.push_str(",\"");
                self.push_cell(&mut line, &slots, cell, t);
                line.push('"');
            }
            line.push_str("\r\n");
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    fn push_cell(&self, line: &mut String, slots: &[ImageSlots], cell: &Cell, t: usize) {
        let (value, decimals) = self.cell_value(slots, cell, t);
        if value.is_finite() {
            line.push_str(&format!("{value:.decimals$}"));
        } else {
            // PDH writes a single space for a value it could not collect.
            line.push(' ');
        }
    }

    /// The value of a cell (`NaN` = blank) and the digits it is written with.
    fn cell_value(&self, slots: &[ImageSlots], cell: &Cell, t: usize) -> (f64, usize) {
        match cell {
            Cell::Object(after, k) => {
                let o = if *after {
                    &self.objects_after[*k]
                } else {
                    &self.objects_before[*k]
                };
                (o.values.get(t).copied().unwrap_or(f64::NAN), o.decimals)
            }
            Cell::Service {
                image,
                slot,
                counter,
            } => match self.live(slots, *image, *slot, t) {
                Some((s, _)) => match s.counters.iter().find(|c| &c.counter == counter) {
                    Some(c) => (c.values.get(t).copied().unwrap_or(f64::NAN), c.decimals),
                    None => (f64::NAN, 0),
                },
                None => (f64::NAN, 0),
            },
            Cell::IdProcess { image, slot } => match self.live(slots, *image, *slot, t) {
                Some((_, l)) => (f64::from(l.pid), 0),
                None => (f64::NAN, 0),
            },
            Cell::Elapsed { image, slot } => match self.live(slots, *image, *slot, t) {
                Some((_, l)) => {
                    let secs = l.age_hours * 3600.0 + (t - l.start) as f64 * self.interval_seconds;
                    (secs, 3)
                }
                None => (f64::NAN, 0),
            },
        }
    }

    /// The log as a table of columns and rows, for writers of other formats (BLG).
    pub fn table(&self) -> Table<'_> {
        let slots = self.slots();
        let cells = self.layout(&slots);
        Table {
            spec: self,
            slots,
            cells,
        }
    }

    /// Every column as (counter path, values with `NaN` for blanks), in file order, without
    /// going through text (for in-memory benchmarks of very large logs).
    pub fn columns(&self) -> Vec<(String, Vec<f64>)> {
        let slots = self.slots();
        self.layout(&slots)
            .into_iter()
            .map(|(path, cell)| {
                let values = (0..self.samples)
                    .map(|t| self.cell_value(&slots, &cell, t).0)
                    .collect();
                (path, values)
            })
            .collect()
    }

    /// Local time of sample `t` as written in the log.
    pub fn timestamp(&self, t: usize) -> NaiveDateTime {
        let ms = (t as f64 * self.interval_seconds * 1000.0).round() as i64
            + i64::from(self.jitter_ms.get(t).copied().unwrap_or(0));
        self.start + Duration::milliseconds(ms)
    }

    /// The service and lifetime in a slot at sample `t`, unless absent or missed.
    fn live<'a>(
        &'a self,
        slots: &[ImageSlots],
        image: usize,
        slot: usize,
        t: usize,
    ) -> Option<(&'a ServiceSpec, &'a Lifetime)> {
        let i = slots
            .get(image)?
            .occupant
            .get(slot)?
            .get(t)
            .copied()
            .flatten()?;
        let s = &self.services[i];
        if s.missing.get(t).copied().unwrap_or(false) {
            return None;
        }
        s.lifetime_at(t).map(|l| (s, l))
    }

    /// The labels of the log's columns: each (instance, counter) column takes the label of the
    /// service that filled most of it; a column shared by several processes (renumbering) says so.
    pub fn column_labels(&self) -> Vec<SeriesLabel> {
        let slots = self.slots();
        let mut out = Vec::new();
        for counter in self.counter_names() {
            for s in &slots {
                for (slot, occupants) in s.occupant.iter().enumerate() {
                    let mut share: Vec<(usize, usize)> = Vec::new();
                    let mut pids: Vec<u32> = Vec::new();
                    for (t, o) in occupants.iter().enumerate() {
                        let Some(i) = *o else { continue };
                        match share.iter_mut().find(|(j, _)| *j == i) {
                            Some(entry) => entry.1 += 1,
                            None => share.push((i, 1)),
                        }
                        if let Some(l) = self.services[i].lifetime_at(t) {
                            if pids.last() != Some(&l.pid) {
                                pids.push(l.pid);
                            }
                        }
                    }
                    let total: usize = share.iter().map(|(_, n)| n).sum();
                    let Some(&(major, major_n)) =
                        share.iter().max_by_key(|(i, n)| (*n, usize::MAX - i))
                    else {
                        continue;
                    };
                    let label_of = |i: usize| {
                        self.services[i]
                            .counters
                            .iter()
                            .find(|c| c.counter == counter)
                            .and_then(|c| c.label.clone())
                    };
                    let Some(mut label) = label_of(major) else {
                        continue;
                    };
                    label.instance = instance_label(&s.image, slot);
                    label.pids = pids;
                    if share.len() > 1 {
                        let minority_leak = share
                            .iter()
                            .filter(|(i, _)| *i != major)
                            .any(|(i, _)| label_of(*i).is_some_and(|l| l.truth == Truth::Leak));
                        if label.truth != Truth::Leak && minority_leak {
                            label.truth = Truth::Ambiguous;
                        }
                        label.note = Some(format!(
                            "column shared by {} processes after #N renumbering; labelled by the one \
                             filling {:.0}% of it",
                            share.len(),
                            100.0 * major_n as f64 / total as f64
                        ));
                    }
                    out.push(label);
                }
            }
        }
        out
    }

    /// The log with its column labels.
    pub fn into_generated(self) -> GeneratedLog {
        let labels = self.column_labels();
        GeneratedLog { spec: self, labels }
    }
}

/// The log's columns and rows as the CSV text holds them.
pub struct Table<'a> {
    spec: &'a LogSpec,
    slots: Vec<ImageSlots>,
    cells: Vec<(String, Cell)>,
}

impl Table<'_> {
    /// Column paths, in file order.
    pub fn paths(&self) -> Vec<String> {
        self.cells.iter().map(|(p, _)| p.clone()).collect()
    }

    pub fn rows(&self) -> usize {
        self.spec.samples
    }

    /// Row `t`: its local time, and each cell as (value, digits after the point it is written
    /// with), `NaN` for a blank.
    pub fn row(&self, t: usize, out: &mut Vec<(f64, usize)>) -> NaiveDateTime {
        out.clear();
        out.extend(
            self.cells
                .iter()
                .map(|(_, cell)| self.spec.cell_value(&self.slots, cell, t)),
        );
        self.spec.timestamp(t)
    }
}

fn object_path(host: &str, o: &ObjectColumn) -> String {
    match &o.instance {
        Some(i) => format!("\\\\{host}\\{}({i})\\{}", o.object, o.counter),
        None => format!("\\\\{host}\\{}\\{}", o.object, o.counter),
    }
}

impl GeneratedLog {
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn write_csv<W: Write>(&self, out: &mut W) -> io::Result<()> {
        self.spec.write_csv(out)
    }

    /// The whole PDH-CSV text in memory.
    pub fn to_csv_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = self.spec.write_csv(&mut out);
        out
    }

    pub fn log_labels(&self) -> LogLabels {
        LogLabels {
            log: self.spec.name.clone(),
            seed: self.spec.seed,
            interval_seconds: self.spec.interval_seconds,
            samples: self.spec.samples,
            series: self.labels.clone(),
        }
    }

    /// `<name>.labels.json`, pretty-printed, newline-terminated.
    pub fn labels_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.log_labels()).unwrap_or_default();
        s.push('\n');
        s
    }
}
