//! `perfleak inspect`: describes what a log holds (format, encoding, machines, time span,
//! interval, gaps, objects, process instances with PIDs and restarts, counters), as text or
//! JSON, so a support engineer knows what was captured before analysing it.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

use super::log::PerfLog;
use super::{expand_inputs, join_segments, read_source, IngestError, ReadOptions};

/// What `inspect` reports about one log.
#[derive(Debug, Serialize)]
pub struct Inspection {
    pub path: String,
    pub format: String,
    pub encoding: String,
    /// Why that encoding was chosen.
    pub encoding_reason: String,
    /// Files joined into this timeline (one for a single log).
    pub segments: Vec<String>,
    /// What a binary log's header and counter list say (absent for text logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blg: Option<crate::ingest::blg::BlgInfo>,
    pub time_zone: Option<String>,
    pub utc_offset_minutes: Option<i32>,
    pub machines: Vec<String>,
    pub first_local: String,
    pub last_local: String,
    pub first_utc: Option<String>,
    pub last_utc: Option<String>,
    pub samples: usize,
    pub interval_seconds: Option<f64>,
    pub duration_seconds: f64,
    pub gaps: Vec<Gap>,
    pub objects: Vec<ObjectSummary>,
    pub processes: Vec<ProcessSummary>,
    pub warnings: Vec<String>,
}

/// A stretch without samples longer than twice the usual interval.
#[derive(Debug, Serialize)]
pub struct Gap {
    pub after_local: String,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct ObjectSummary {
    pub object: String,
    /// The names the log itself uses for it, when they differ (localized or lower case).
    pub written_as: Vec<String>,
    pub instances: usize,
    pub counters: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ProcessSummary {
    pub machine: Option<String>,
    pub instance: String,
    /// Distinct `ID Process` values in order of appearance.
    pub pids: Vec<u64>,
    /// Times `ID Process` changed: the process exited and another took its name.
    pub restarts: usize,
    pub counters: Vec<String>,
}

fn fmt_time(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

impl Inspection {
    pub fn of(log: &PerfLog) -> Inspection {
        let offset = log.source.utc_offset_minutes;
        let to_utc = |t: &NaiveDateTime| {
            // Near chrono's last date the shift can overflow: then no UTC time is given.
            let o = offset?;
            let utc = t.checked_sub_signed(Duration::minutes(i64::from(o)))?;
            Some(format!("{}Z", fmt_time(&utc)))
        };
        let first = log.timestamps.first();
        let last = log.timestamps.last();
        // Timestamps have millisecond resolution; more digits would only be float noise.
        let ms = |s: f64| (s * 1000.0).round() / 1000.0;
        let interval = log.interval_seconds().map(ms);
        let mut gaps = Vec::new();
        if let Some(step) = interval {
            for (i, w) in log.elapsed_seconds.windows(2).enumerate() {
                if w[1] - w[0] > 2.0 * step {
                    gaps.push(Gap {
                        after_local: fmt_time(&log.timestamps[i]),
                        seconds: ms(w[1] - w[0]),
                    });
                }
            }
        }

        let mut objects: Vec<ObjectSummary> = Vec::new();
        for name in log.objects() {
            let paths = log.all_paths.iter().filter(|p| p.object == name);
            let mut written_as = BTreeSet::new();
            let mut instances = BTreeSet::new();
            let mut counters = Vec::new();
            for p in paths {
                if p.original_object != p.object {
                    written_as.insert(p.original_object.clone());
                }
                if let Some(label) = p.instance_label() {
                    instances.insert((p.machine.clone(), p.parent.clone(), label));
                }
                if !counters.contains(&p.counter) {
                    counters.push(p.counter.clone());
                }
            }
            objects.push(ObjectSummary {
                object: name,
                written_as: written_as.into_iter().collect(),
                instances: instances.len(),
                counters,
            });
        }

        // Processes and their `ID Process` columns are found by (machine, label) in maps: a
        // wide log has tens of thousands of instances. A Process V2 instance (`name:pid`) is
        // listed under its own label, with the PID from its name.
        let mut processes: Vec<ProcessSummary> = Vec::new();
        let mut place: HashMap<(Option<String>, String), usize> = HashMap::new();
        let mut v2_pid: Vec<Option<u32>> = Vec::new();
        for p in log.all_paths.iter().filter(|p| p.is_process()) {
            let Some(label) = p.instance_label() else {
                continue;
            };
            let slot = *place
                .entry((p.machine.clone(), label.clone()))
                .or_insert_with(|| {
                    processes.push(ProcessSummary {
                        machine: p.machine.clone(),
                        instance: label,
                        pids: Vec::new(),
                        restarts: 0,
                        counters: Vec::new(),
                    });
                    v2_pid.push(p.process_v2_pid().map(|(_, pid)| pid));
                    processes.len() - 1
                });
            let entry = &mut processes[slot];
            if !entry.counters.contains(&p.counter) {
                entry.counters.push(p.counter.clone());
            }
        }
        let mut id_columns: HashMap<(Option<String>, String), usize> = HashMap::new();
        for (i, c) in log.columns.iter().enumerate() {
            if c.path.object == "Process" && c.path.counter == "ID Process" {
                if let Some(label) = c.path.instance_label() {
                    id_columns
                        .entry((c.path.machine.clone(), label))
                        .or_insert(i);
                }
            }
        }
        for (summary, v2_pid) in processes.iter_mut().zip(v2_pid) {
            if let Some(pid) = v2_pid {
                summary.pids.push(u64::from(pid));
                continue;
            }
            let ids = id_columns
                .get(&(summary.machine.clone(), summary.instance.clone()))
                .map(|&i| &log.columns[i]);
            if let Some(column) = ids {
                let mut previous: Option<u64> = None;
                for v in column.values.to_vec() {
                    if !v.is_finite() || v < 0.0 {
                        continue;
                    }
                    let pid = v as u64;
                    if previous.is_some_and(|p| p != pid) {
                        summary.restarts += 1;
                    }
                    previous = Some(pid);
                    if !summary.pids.contains(&pid) {
                        summary.pids.push(pid);
                    }
                }
            }
        }

        Inspection {
            path: log.source.path.clone(),
            format: log.source.format.as_str().to_string(),
            encoding: log.source.encoding.clone(),
            encoding_reason: log.source.encoding_reason.clone(),
            segments: log.source.segments.clone(),
            blg: log.source.blg.clone(),
            time_zone: log.source.time_zone.clone(),
            utc_offset_minutes: offset,
            machines: log.machines(),
            first_local: first.map(fmt_time).unwrap_or_default(),
            last_local: last.map(fmt_time).unwrap_or_default(),
            first_utc: first.and_then(to_utc),
            // The header bias holds when the log starts; later instants follow the monotonic
            // timeline, so a daylight-saving change inside the log does not bend them.
            last_utc: first.zip(log.elapsed_seconds.last()).and_then(|(t, e)| {
                let span = Duration::try_milliseconds((e * 1000.0).round() as i64)?;
                to_utc(&t.checked_add_signed(span)?)
            }),
            samples: log.timestamps.len(),
            interval_seconds: interval,
            duration_seconds: ms(log.elapsed_seconds.last().copied().unwrap_or(0.0)),
            gaps,
            objects,
            processes,
            warnings: log.warnings.clone(),
        }
    }

    /// The text a person reads in a terminal.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "{}", self.path);
        let _ = writeln!(o, "  format      {}", self.format);
        let _ = writeln!(
            o,
            "  encoding    {}: {}",
            self.encoding, self.encoding_reason
        );
        if self.segments.len() > 1 {
            let _ = writeln!(
                o,
                "  segments    {} joined: {}",
                self.segments.len(),
                self.segments.join(", ")
            );
        }
        if let Some(b) = &self.blg {
            let _ = writeln!(
                o,
                "  binary log  Windows build {}, ETW {}, {}-bit; {} buffers",
                b.os_build,
                b.etw_version,
                b.pointer_size * 8,
                b.buffers
            );
            let _ = writeln!(o, "  logger      {} ({})", b.logger_name, b.log_file_name);
            let _ = writeln!(
                o,
                "  counters    {} in the list{}; zone stored as {}",
                b.counters,
                if b.whole_object {
                    ", whole objects logged"
                } else {
                    ""
                },
                b.time_zone_stored
            );
            if b.samples_with_errors > 0 {
                let _ = writeln!(
                    o,
                    "  errors      {} samples with a counter status error (blank cells)",
                    b.samples_with_errors
                );
            }
        }
        let zone = match (&self.time_zone, self.utc_offset_minutes) {
            (Some(z), Some(m)) => format!("{z}, UTC{:+}:{:02}", m / 60, (m % 60).abs()),
            (Some(z), None) => format!("{z}, offset unknown"),
            (None, Some(m)) => format!("UTC{:+}:{:02}", m / 60, (m % 60).abs()),
            (None, None) => "not in the header (times are local)".into(),
        };
        let _ = writeln!(o, "  time zone   {zone}");
        let machines = if self.machines.is_empty() {
            "(paths have no machine name)".to_string()
        } else {
            self.machines.join(", ")
        };
        let _ = writeln!(o, "  machines    {machines}");
        let utc = |t: &Option<String>| t.as_ref().map(|u| format!("  ({u})")).unwrap_or_default();
        let _ = writeln!(
            o,
            "  first       {}{}",
            self.first_local,
            utc(&self.first_utc)
        );
        let _ = writeln!(
            o,
            "  last        {}{}",
            self.last_local,
            utc(&self.last_utc)
        );
        let interval = self
            .interval_seconds
            .map_or("-".to_string(), |s| format!("{s:.3} s"));
        let _ = writeln!(
            o,
            "  samples     {} every {interval}, {:.0} s in all",
            self.samples, self.duration_seconds
        );
        if self.gaps.is_empty() {
            let _ = writeln!(o, "  gaps        none");
        } else {
            let _ = writeln!(o, "  gaps        {}", self.gaps.len());
            for g in self.gaps.iter().take(20) {
                let _ = writeln!(
                    o,
                    "    after {}: {:.0} s without samples",
                    g.after_local, g.seconds
                );
            }
        }
        let _ = writeln!(o, "  objects     {}", self.objects.len());
        for obj in &self.objects {
            let written = if obj.written_as.is_empty() {
                String::new()
            } else {
                format!(" (written as {})", obj.written_as.join(", "))
            };
            let _ = writeln!(
                o,
                "    {}{written}: {} instances, counters: {}",
                obj.object,
                obj.instances,
                obj.counters.join(", ")
            );
        }
        if !self.processes.is_empty() {
            let _ = writeln!(o, "  processes   {}", self.processes.len());
            let common: Vec<&String> = self.processes[0]
                .counters
                .iter()
                .filter(|c| self.processes.iter().all(|p| p.counters.contains(c)))
                .collect();
            for p in &self.processes {
                let pids = if p.pids.is_empty() {
                    "PID not logged".to_string()
                } else {
                    let list: Vec<String> = p.pids.iter().map(u64::to_string).collect();
                    format!("PID {}", list.join(", "))
                };
                let restarts = if p.restarts > 0 {
                    format!(", {} restart(s)", p.restarts)
                } else {
                    String::new()
                };
                let extra: Vec<&str> = p
                    .counters
                    .iter()
                    .filter(|c| !common.contains(c))
                    .map(String::as_str)
                    .collect();
                let extra = if extra.is_empty() {
                    String::new()
                } else {
                    format!("; also {}", extra.join(", "))
                };
                let machine = p
                    .machine
                    .as_ref()
                    .map(|m| format!("{m}\\"))
                    .unwrap_or_default();
                let _ = writeln!(o, "    {machine}{} ({pids}{restarts}){extra}", p.instance);
            }
            let names: Vec<&str> = common.iter().map(|s| s.as_str()).collect();
            let _ = writeln!(o, "    counters of every process: {}", names.join(", "));
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(o, "  warnings    {}", self.warnings.len());
            for w in &self.warnings {
                let _ = writeln!(o, "    {w}");
            }
        }
        o
    }
}

/// What `inspect` found under one input: a description per log (rolled-over segments joined
/// into the one run they are), and the files beside them that could not be read.
pub struct Inspected {
    pub logs: Vec<Inspection>,
    pub failures: Vec<IngestError>,
}

/// Describes the log(s) at `input` (a file, folder, archive or `-`). Fails with the first
/// failure when no log could be read; one unreadable file in a folder does not hide the others.
pub fn inspect(input: &Path, options: &ReadOptions) -> Result<Inspected, IngestError> {
    let (sources, errors) = expand_inputs(std::slice::from_ref(&input.to_path_buf()));
    let mut failures: Vec<IngestError> = errors.into_iter().map(|(_, e)| e).collect();
    let mut logs = Vec::new();
    for source in &sources {
        match read_source(source, options) {
            Ok(log) => logs.push(log),
            Err(e) => failures.push(e),
        }
    }
    if logs.is_empty() {
        return Err(failures
            .into_iter()
            .next()
            .unwrap_or_else(|| IngestError::input(input, "no perfmon logs found")));
    }
    let logs = join_segments(logs).iter().map(Inspection::of).collect();
    Ok(Inspected { logs, failures })
}
