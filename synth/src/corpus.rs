//! The labelled benchmark corpus: a tuning split and a frozen test split drawn from disjoint seed
//! spaces, sized per family as the evaluation protocol asks, generated lazily one log at a time.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::family::{self, Grid, Recipe, MB};
use super::label::{Family, Truth};
use super::pdh::{GeneratedLog, LogSpec, ObjectColumn, ServiceSpec};
use crate::vocab::Counter;

/// Which part of the corpus: `Tune` may be looked at while tuning; `Test` is frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Tune,
    Test,
}

impl Split {
    /// Top 16 bits of every seed of the split: the two splits can never share a seed.
    fn tag(self) -> u64 {
        match self {
            Split::Tune => 0x7475,
            Split::Test => 0x7465,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Split::Tune => "tune",
            Split::Test => "test",
        }
    }
}

/// Series per family at scale 1.0 (protocol 6.1: >= 2,000 per negative family, >= 1,000 per
/// positive family and difficulty tercile).
pub fn family_quota(f: Family) -> usize {
    if f.is_leak() {
        3000
    } else {
        2000
    }
}

/// Services per benchmark log (a log's series share its interval, duration and FDR control).
pub const SERVICES_PER_LOG: usize = 12;

/// The seed of log `index` of a split; distinct splits and user seeds never collide.
pub fn log_seed(split: Split, user_seed: u64, index: u64) -> u64 {
    (split.tag() << 48) | ((user_seed & 0xffff) << 32) | (index & 0xffff_ffff)
}

/// The families of each log of the split, in order (cheap: no series is generated).
pub fn log_plan(split: Split, scale: f64, user_seed: u64) -> Vec<Vec<Family>> {
    let mut rng = SmallRng::seed_from_u64(log_seed(split, user_seed, 0xffff_ffff));
    let mut long: Vec<Family> = Vec::new();
    let mut short: Vec<Family> = Vec::new();
    for f in Family::ALL {
        let n = ((family_quota(f) as f64 * scale).round() as usize).max(1);
        let target = if f == Family::ShortLog {
            &mut short
        } else {
            &mut long
        };
        target.extend(std::iter::repeat_n(f, n));
    }
    long.shuffle(&mut rng);
    let mut plan: Vec<Vec<Family>> = long.chunks(SERVICES_PER_LOG).map(|c| c.to_vec()).collect();
    plan.extend(short.chunks(SERVICES_PER_LOG).map(|c| c.to_vec()));
    plan
}

/// The labelled logs of a split, generated one at a time. `scale` 1.0 is the full protocol size.
/// The logs with load counters (`load.rs`) follow the protocol's, from a seed space of their own.
pub fn benchmark_logs(split: Split, scale: f64) -> impl Iterator<Item = GeneratedLog> {
    benchmark_logs_seeded(split, scale, 1).chain(super::load::load_logs(split, scale))
}

/// As [`benchmark_logs`] with another corpus seed (1 is the reference corpus).
pub fn benchmark_logs_seeded(
    split: Split,
    scale: f64,
    user_seed: u64,
) -> impl Iterator<Item = GeneratedLog> {
    log_plan(split, scale, user_seed)
        .into_iter()
        .enumerate()
        .map(move |(i, families)| {
            let seed = log_seed(split, user_seed, i as u64);
            benchmark_log(&format!("{}-{:05}", split.name(), i), seed, &families)
        })
}

pub(crate) const IMAGES: [&str; 24] = [
    "w3wp",
    "java",
    "sqlservr",
    "node",
    "python",
    "dllhost",
    "MsMpEng",
    "spoolsv",
    "httpd",
    "nginx",
    "mongod",
    "redis-server",
    "Tomcat9",
    "beam.smp",
    "dotnet",
    "postgres",
    "erl",
    "ruby",
    "OWSTIMER",
    "ReportingServicesService",
    "msdtc",
    "vmtoolsd",
    "splunkd",
    "elasticsearch",
];

pub(crate) const ZONES: [(&str, i32); 6] = [
    ("Pacific Standard Time", 480),
    ("Eastern Standard Time", 300),
    ("GMT Standard Time", 0),
    ("W. Europe Standard Time", -60),
    ("India Standard Time", -330),
    ("Tokyo Standard Time", -540),
];

/// Durations (hours) and intervals (seconds) of the protocol, kept to 32..8,000 samples.
fn draw_timing(rng: &mut SmallRng, short: bool) -> (f64, f64) {
    let intervals = [15.0, 60.0, 300.0, 900.0];
    loop {
        let hours = if short {
            family::draw_uniform(rng, 0.5, 4.0)
        } else {
            [8.0, 24.0, 72.0, 168.0, 336.0][rng.random_range(0..5)]
        };
        let interval = intervals[rng.random_range(0..4)];
        let samples = hours * 3600.0 / interval;
        let ok = if short {
            (8.0..=1000.0).contains(&samples)
        } else {
            (32.0..=8000.0).contains(&samples)
        };
        if ok {
            return (hours, interval);
        }
    }
}

/// Unique PIDs: multiples of 4, as Windows hands them out.
pub fn pid_source() -> impl FnMut(&mut SmallRng) -> u32 {
    let mut used = HashSet::new();
    move |rng: &mut SmallRng| loop {
        let pid = rng.random_range(50..10_000u32) * 4;
        if used.insert(pid) {
            return pid;
        }
    }
}

/// Local week hour (hours since Monday 00:00) of a timestamp.
pub fn week_hour(t: NaiveDateTime) -> f64 {
    f64::from(t.weekday().num_days_from_monday()) * 24.0
        + f64::from(t.hour())
        + f64::from(t.minute()) / 60.0
        + f64::from(t.second()) / 3600.0
}

fn benchmark_log(name: &str, seed: u64, families: &[Family]) -> GeneratedLog {
    let mut rng = SmallRng::seed_from_u64(seed);
    let short = families.iter().all(|f| *f == Family::ShortLog);
    let (hours, interval) = draw_timing(&mut rng, short);
    let samples = (hours * 3600.0 / interval).round() as usize + 1;
    let day0 = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default();
    let start = day0.and_hms_opt(0, 0, 0).unwrap_or_default()
        + Duration::minutes(rng.random_range(0..(35 * 24 * 60)));
    let (lo, hi) = (
        family::draw_uniform(&mut rng, 0.0, 0.4),
        family::draw_uniform(&mut rng, 0.6, 1.0),
    );
    let load: Vec<f64> = (0..samples)
        .map(|t| ((t as f64 / samples as f64 - lo) / (hi - lo)).clamp(0.0, 1.0))
        .collect();
    let grid = Grid {
        samples,
        interval_seconds: interval,
        week_hour0: week_hour(start),
        load,
    };
    let mut pids = pid_source();
    let mut images: Vec<&str> = IMAGES.to_vec();
    images.shuffle(&mut rng);
    let mut services: Vec<ServiceSpec> = Vec::new();
    for (k, &f) in families.iter().enumerate() {
        let image = images[k % images.len()];
        // A quarter of the processes also log Virtual Bytes, Working Set, threads and pool bytes.
        let recipe = Recipe {
            companions: rng.random_bool(0.25),
            ..Recipe::default()
        };
        if f == Family::ShortLog {
            let base = [
                Family::LinearLeak,
                Family::Flat,
                Family::WarmUp,
                Family::DailyCycle,
            ][rng.random_range(0..4)];
            let mut s = family::service(&mut rng, base, image, &grid, &recipe, &mut pids);
            for c in &mut s.counters {
                if let Some(l) = c.label.as_mut() {
                    l.base_family = Some(l.family);
                    l.family = Family::ShortLog;
                }
            }
            services.push(s);
            continue;
        }
        services.push(family::service(
            &mut rng, f, image, &grid, &recipe, &mut pids,
        ));
        if f == Family::RestartLeak && rng.random_bool(0.3) {
            // A second process of the same image started after the leaker: every recycle of the
            // leaker moves it behind this one, so perfmon renumbers the `#N` instances.
            let recipe = Recipe {
                age_hours: Some(0.5),
                ..Recipe::default()
            };
            services.push(family::service(
                &mut rng,
                Family::Flat,
                image,
                &grid,
                &recipe,
                &mut pids,
            ));
        }
    }
    let zone = ZONES[rng.random_range(0..ZONES.len())];
    let host = format!("SRV{:04}", rng.random_range(0..10_000));
    let load_column = ObjectColumn {
        object: "Web Service".into(),
        instance: Some("_Total".into()),
        counter: "Current Connections".into(),
        values: grid
            .load
            .iter()
            .map(|l| (40.0 + 900.0 * l + family::draw_uniform(&mut rng, 0.0, 25.0)).round())
            .collect(),
        decimals: 0,
    };
    let mut spec = finish_log(
        MachineLog {
            name: name.into(),
            seed,
            host,
            zone,
            start,
            grid: &grid,
        },
        services,
        vec![load_column],
        &mut rng,
    );
    spec.id_process = rng.random_bool(0.7);
    spec.elapsed_time = rng.random_bool(0.5);
    spec.into_generated()
}

/// A week-long log of `series / 2` services (Private Bytes and Handle Count each) with
/// `samples` one-minute samples, families 1-16 in turn: the analysis-throughput workload.
pub fn throughput_log(series: usize, samples: usize, seed: u64) -> GeneratedLog {
    let mut rng = SmallRng::seed_from_u64(seed);
    let start = NaiveDate::from_ymd_opt(2026, 2, 2)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    let load = (0..samples)
        .map(|t| t as f64 / samples.max(1) as f64)
        .collect();
    let grid = Grid {
        samples,
        interval_seconds: 60.0,
        week_hour0: week_hour(start),
        load,
    };
    let mut pids = pid_source();
    let services = (0..series.div_ceil(2))
        .map(|k| {
            let family = Family::ALL[k % 16];
            let image = format!("svc{k:05}");
            family::service(
                &mut rng,
                family,
                &image,
                &grid,
                &Recipe::default(),
                &mut pids,
            )
        })
        .collect();
    let m = MachineLog {
        name: "throughput".into(),
        seed,
        host: "BENCH".into(),
        zone: ZONES[0],
        start,
        grid: &grid,
    };
    let mut spec = finish_log(m, services, Vec::new(), &mut rng);
    spec.id_process = false;
    spec.elapsed_time = false;
    spec.into_generated()
}

/// What identifies a log apart from its processes.
pub struct MachineLog<'a> {
    pub name: String,
    pub seed: u64,
    pub host: String,
    pub zone: (&'a str, i32),
    pub start: NaiveDateTime,
    pub grid: &'a Grid,
}

/// Adds the machine-wide Memory and Processor columns, sets the Private Bytes limits from the
/// commit headroom and the machine name on every label, and lays the log out.
pub fn finish_log(
    m: MachineLog,
    mut services: Vec<ServiceSpec>,
    objects_after: Vec<ObjectColumn>,
    rng: &mut SmallRng,
) -> LogSpec {
    let grid = m.grid;
    let n = grid.samples;
    let overhead = family::draw_log_uniform(rng, 150.0 * MB, 1500.0 * MB);
    let committed: Vec<f64> = (0..n)
        .map(|t| {
            let sum: f64 = services
                .iter()
                .map(|s| family::logged_private_bytes(s, t))
                .sum();
            ((overhead + sum) / 4096.0).round() * 4096.0
        })
        .collect();
    let peak = committed.iter().copied().fold(0.0, f64::max);
    let commit_limit = ((peak * family::draw_uniform(rng, 1.4, 3.0)) / MB).round() * MB;
    let ram = commit_limit * family::draw_uniform(rng, 0.5, 0.8);
    family::set_commit_limits(
        &mut services,
        commit_limit,
        committed.last().copied().unwrap_or(0.0),
    );
    let cpu: Vec<f64> = grid
        .load
        .iter()
        .map(|l| (5.0 + 40.0 * l + family::draw_uniform(rng, 0.0, 15.0)).min(100.0))
        .collect();
    let objects_before = vec![
        memory("Committed Bytes", committed.clone()),
        memory("Commit Limit", vec![commit_limit; n]),
        memory(
            "Available Bytes",
            committed
                .iter()
                .map(|c| (ram - c * 0.6).max(64.0 * MB))
                .collect(),
        ),
        ObjectColumn {
            object: "Processor".into(),
            instance: Some("_Total".into()),
            counter: "% Processor Time".into(),
            values: cpu,
            decimals: 3,
        },
    ];
    for s in &mut services {
        for c in &mut s.counters {
            if let Some(l) = c.label.as_mut() {
                l.machine = m.host.clone();
            }
        }
    }
    let jitter_ms = (0..n).map(|_| rng.random_range(0..40u32)).collect();
    LogSpec {
        name: m.name,
        seed: m.seed,
        host: m.host,
        time_zone: m.zone.0.into(),
        bias_minutes: m.zone.1,
        start: m.start,
        interval_seconds: grid.interval_seconds,
        samples: n,
        jitter_ms,
        services,
        id_process: true,
        elapsed_time: true,
        objects_before,
        objects_after,
    }
}

fn memory(counter: &str, values: Vec<f64>) -> ObjectColumn {
    ObjectColumn {
        object: "Memory".into(),
        instance: None,
        counter: counter.into(),
        values,
        decimals: 0,
    }
}

/// The system-wide series of the system-only logs, with their level ranges: the nonpaged and
/// paged pools, the machine's commit and every process's handles together.
const SYSTEM_SERIES: [(Counter, f64, f64); 4] = [
    (Counter::SystemPoolNonpaged, 40.0 * MB, 600.0 * MB),
    (Counter::SystemPoolPaged, 100.0 * MB, 900.0 * MB),
    (Counter::CommittedBytes, 1024.0 * MB, 24_576.0 * MB),
    (Counter::TotalHandleCount, 8_000.0, 120_000.0),
];

/// Families a system series is drawn from: growth that does not stop, and the shapes of a
/// healthy machine's totals (steady, daily load, a service started, a cache filled, bursts).
const SYSTEM_FAMILIES: [Family; 11] = [
    Family::LinearLeak,
    Family::SlowLeak,
    Family::StepwiseLeak,
    Family::CyclicLeak,
    Family::LateOnsetLeak,
    Family::Flat,
    Family::DailyCycle,
    Family::LevelShift,
    Family::WarmUp,
    Family::CacheFill,
    Family::Bursts,
];

/// Logs of system counters only (issue #17: a driver's pool leak or commit running out shows
/// in no process), 400 at scale 1.0, each series drawn from [`SYSTEM_FAMILIES`]; from their own
/// seed space (user seed 0x5359), so the process corpus is unchanged.
pub fn system_logs(split: Split, scale: f64) -> impl Iterator<Item = GeneratedLog> {
    let count = ((400.0 * scale).ceil() as u64).max(1);
    (0..count).map(move |i| {
        let seed = log_seed(split, 0x5359, i);
        system_log(&format!("system-{}-{i:04}", split.name()), seed)
    })
}

fn system_log(name: &str, seed: u64) -> GeneratedLog {
    let mut rng = SmallRng::seed_from_u64(seed);
    let (hours, interval) = draw_timing(&mut rng, false);
    let samples = (hours * 3600.0 / interval).round() as usize + 1;
    let day0 = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default();
    let start = day0.and_hms_opt(0, 0, 0).unwrap_or_default()
        + Duration::minutes(rng.random_range(0..(35 * 24 * 60)));
    let grid = Grid {
        samples,
        interval_seconds: interval,
        week_hour0: week_hour(start),
        load: vec![0.5; samples],
    };
    let host = format!("SYS{:04}", rng.random_range(0..10_000));
    let mut columns = Vec::new();
    let mut labels = Vec::new();
    for (kind, lo, hi) in SYSTEM_SERIES {
        let family = SYSTEM_FAMILIES[rng.random_range(0..SYSTEM_FAMILIES.len())];
        let base = family::draw_log_uniform(&mut rng, lo, hi);
        let (values, mut label) = family::system_series(&mut rng, family, kind, base, &grid);
        label.machine = host.clone();
        if kind == Counter::CommittedBytes {
            let peak = values.iter().copied().fold(0.0, f64::max);
            let limit = ((peak * family::draw_uniform(&mut rng, 1.3, 3.0)) / MB).round() * MB;
            label.limit = Some(limit);
            label.time_to_limit_hours = label.time_to(limit);
            columns.push(memory("Commit Limit", vec![limit; samples]));
        }
        columns.push(match kind {
            Counter::TotalHandleCount => ObjectColumn {
                object: "Process".into(),
                instance: Some("_Total".into()),
                counter: kind.name().into(),
                values,
                decimals: 0,
            },
            _ => memory(kind.name(), values),
        });
        labels.push(label);
    }
    let zone = ZONES[rng.random_range(0..ZONES.len())];
    let jitter_ms = (0..samples).map(|_| rng.random_range(0..40u32)).collect();
    GeneratedLog {
        spec: LogSpec {
            name: name.to_string(),
            seed,
            host: host.clone(),
            time_zone: zone.0.into(),
            bias_minutes: zone.1,
            start,
            interval_seconds: interval,
            samples,
            jitter_ms,
            services: Vec::new(),
            id_process: false,
            elapsed_time: false,
            objects_before: columns,
            objects_after: Vec::new(),
        },
        labels,
    }
}

/// Counts of labelled series per family and truth (for a corpus summary).
pub fn truth_counts(logs: &[GeneratedLog]) -> Vec<(Family, Truth, usize)> {
    let mut out: Vec<(Family, Truth, usize)> = Vec::new();
    for l in logs.iter().flat_map(|g| &g.labels) {
        match out
            .iter_mut()
            .find(|(f, t, _)| *f == l.family && *t == l.truth)
        {
            Some(e) => e.2 += 1,
            None => out.push((l.family, l.truth, 1)),
        }
    }
    out.sort_by_key(|(f, _, _)| f.number());
    out
}

#[cfg(test)]
mod system_tests {
    use super::*;

    #[test]
    fn system_logs_hold_labelled_system_series_only() {
        let logs: Vec<GeneratedLog> = system_logs(Split::Tune, 0.01).collect();
        assert_eq!(logs.len(), 4);
        for log in &logs {
            assert!(log.spec.services.is_empty());
            let names: Vec<&str> = log.labels.iter().map(|l| l.instance.as_str()).collect();
            assert_eq!(
                names,
                [
                    "System (pool)",
                    "System (pool)",
                    "System (commit)",
                    "System (handles)"
                ]
            );
            // The commit series runs into the Commit Limit logged beside it.
            let commit = &log.labels[2];
            let limit = log
                .spec
                .objects_before
                .iter()
                .find(|c| c.counter == "Commit Limit")
                .map(|c| c.values[0]);
            assert_eq!(commit.limit, limit);
            assert!(log.labels.iter().all(|l| l.machine == log.spec.host));
        }
        // Seeded: the same split and scale give the same logs.
        let again: Vec<GeneratedLog> = system_logs(Split::Tune, 0.01).collect();
        assert_eq!(logs[0].labels, again[0].labels);
        assert_eq!(logs[0].to_csv_bytes(), again[0].to_csv_bytes());
    }
}
