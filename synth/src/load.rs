//! The load families (issue #18): logs that carry workload counters beside the memory and
//! handles they drive, so that growth following the workload can be told from a leak. Each log
//! has one load regime: a workload rising unevenly (load-growth: memory and handles follow it,
//! healthy), steady or falling under a day (steady-load-leak: a leak the load cannot explain),
//! or cycling daily (daily-load-leak and daily-load-healthy). The load is logged as every
//! process's own `% Processor Time` and `IO Data Operations/sec` (or `IO Other`), the machine's
//! `Processor(_Total)\% Processor Time` and, mostly, `System\Context Switches/sec`. Generated
//! from a seed space of their own (user seed 0x4c44), after the protocol's logs, so those keep
//! their seeds and bytes.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use chrono::{Duration, NaiveDate};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::corpus::{finish_log, log_seed, pid_source, week_hour, MachineLog, Split};
use super::corpus::{IMAGES, SERVICES_PER_LOG, ZONES};
use super::family::{self, Grid, Recipe, MB};
use super::label::{Family, Truth};
use super::pdh::{GeneratedLog, ObjectColumn, ServiceCounter, ServiceSpec};
use crate::vocab::{Counter, Unit};

/// Load logs at scale 1.0 (each of [`SERVICES_PER_LOG`] / 2 services, two scored series each).
const LOGS_AT_FULL_SCALE: f64 = 750.0;
/// The user seed of the load logs' seed space.
const SEED_SPACE: u64 = 0x4c44;

/// What the workload of one log does, and the families of its services.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Regime {
    /// Rising unevenly, 6-16 h: memory that follows it.
    RisingShort,
    /// Rising unevenly over a day.
    RisingLong,
    /// Flat or falling, 6-18 h: leaks, and memory that follows the (steady) load.
    SteadyShort,
    /// A daily cycle over 24-48 h: leaks on top of it and memory that only follows it.
    DailyLong,
    /// A daily cycle over 8-16 h: memory that follows its rising or falling part.
    DailyShort,
}

const REGIMES: [Regime; 5] = [
    Regime::RisingShort,
    Regime::RisingLong,
    Regime::SteadyShort,
    Regime::DailyLong,
    Regime::DailyShort,
];

impl Regime {
    fn hours(self) -> &'static [f64] {
        match self {
            Regime::RisingShort => &[6.0, 8.0, 12.0, 16.0],
            Regime::RisingLong => &[24.0],
            Regime::SteadyShort => &[6.0, 8.0, 12.0, 18.0],
            Regime::DailyLong => &[24.0, 30.0, 48.0],
            Regime::DailyShort => &[8.0, 12.0, 16.0],
        }
    }

    /// The family of service `k` of the log.
    fn family(self, k: usize) -> Family {
        match self {
            Regime::RisingShort | Regime::RisingLong => Family::LoadGrowth,
            Regime::SteadyShort if k % 3 == 2 => Family::LoadGrowth,
            Regime::SteadyShort => Family::SteadyLoadLeak,
            Regime::DailyLong if k % 2 == 1 => Family::DailyLoadHealthy,
            Regime::DailyLong => Family::DailyLoadLeak,
            Regime::DailyShort => Family::DailyLoadHealthy,
        }
    }
}

/// The load logs of a split, one regime after the other, 750 at scale 1.0.
pub fn load_logs(split: Split, scale: f64) -> impl Iterator<Item = GeneratedLog> {
    let count = ((LOGS_AT_FULL_SCALE * scale).ceil() as u64).max(REGIMES.len() as u64);
    (0..count).map(move |i| {
        let seed = log_seed(split, SEED_SPACE, i);
        let regime = REGIMES[i as usize % REGIMES.len()];
        load_log(&format!("load-{}-{i:04}", split.name()), seed, regime)
    })
}

fn uniform(rng: &mut SmallRng, lo: f64, hi: f64) -> f64 {
    family::draw_uniform(rng, lo, hi)
}

/// Fast fluctuations of the load (AR(1) with a 20-minute memory), standard deviation `sd`.
fn fluctuation(rng: &mut SmallRng, n: usize, dt_hours: f64, sd: f64) -> Vec<f64> {
    let phi = (-dt_hours / 0.33).exp();
    family::ar1_noise(rng, n, sd, phi, 0.0)
}

/// A workload rising unevenly from `lo` to `hi`: segments of random slopes (some nearly flat),
/// so that it is not a line in time.
fn rising(rng: &mut SmallRng, n: usize) -> Vec<f64> {
    let (lo, hi) = (uniform(rng, 0.05, 0.35), uniform(rng, 0.6, 1.0));
    let segments = rng.random_range(3..=7usize);
    let mut bounds: Vec<f64> = (0..segments - 1).map(|_| rng.random::<f64>()).collect();
    bounds.push(0.0);
    bounds.push(1.0);
    bounds.sort_by(f64::total_cmp);
    let slopes: Vec<f64> = (0..segments)
        .map(|_| -(1.0 - rng.random::<f64>()).ln())
        .collect();
    let mut level = vec![0.0];
    for k in 0..segments {
        level.push(level[k] + slopes[k] * (bounds[k + 1] - bounds[k]));
    }
    let top = level[segments].max(f64::MIN_POSITIVE);
    (0..n)
        .map(|i| {
            let x = i as f64 / (n.max(2) - 1) as f64;
            let k = bounds.partition_point(|b| *b <= x).clamp(1, segments) - 1;
            let s = (level[k] + slopes[k] * (x - bounds[k])) / top;
            lo + (hi - lo) * s
        })
        .collect()
}

/// A steady workload, or (two times in five) one that falls by a third to two thirds.
fn steady(rng: &mut SmallRng, n: usize) -> Vec<f64> {
    let start = uniform(rng, 0.3, 0.8);
    let end = if rng.random_bool(0.4) {
        start * uniform(rng, 0.35, 0.65)
    } else {
        start
    };
    (0..n)
        .map(|i| start + (end - start) * i as f64 / (n.max(2) - 1) as f64)
        .collect()
}

/// A daily workload: a sinusoid of a random phase, or a working-hours hump.
fn daily(
    rng: &mut SmallRng,
    grid_hours: impl Fn(usize) -> f64,
    n: usize,
    week_hour0: f64,
) -> Vec<f64> {
    let phase = uniform(rng, 0.0, 24.0);
    let working_hours = rng.random_bool(0.5);
    let (low, swing) = (uniform(rng, 0.05, 0.3), uniform(rng, 0.4, 0.7));
    (0..n)
        .map(|i| {
            let h = (week_hour0 + grid_hours(i)).rem_euclid(24.0);
            let shape = if working_hours {
                if (8.0..18.0).contains(&h) {
                    0.5 * (1.0 - (2.0 * PI * (h - 8.0) / 10.0).cos())
                } else {
                    0.0
                }
            } else {
                0.5 * (1.0 + (2.0 * PI * (h - phase) / 24.0).sin())
            };
            low + swing * shape
        })
        .collect()
}

/// Noise-free values of a load family's counter over the log's load: what the family's shape
/// in `family.rs` draws for these families.
pub(crate) struct LoadShape {
    pub clean: Vec<f64>,
    pub slope: f64,
    pub params: BTreeMap<String, f64>,
}

pub(crate) fn clean(
    rng: &mut SmallRng,
    family: Family,
    kind: Counter,
    base: f64,
    grid: &Grid,
) -> LoadShape {
    let span = grid.span_hours();
    let leaks = family.is_leak();
    let gain = if leaks {
        uniform(rng, 0.05, 0.5)
    } else {
        uniform(rng, 0.2, 1.0)
    };
    let slope = if leaks {
        let growth = family::draw_log_uniform(rng, 0.05, 3.0);
        let (lo, hi) = match kind.unit() {
            Unit::Bytes => (0.2 * MB, 200.0 * MB),
            Unit::Handles | Unit::Threads => (1.0, 500.0),
        };
        (growth * base / span.max(1e-6)).clamp(lo, hi)
    } else {
        0.0
    };
    let mut params = BTreeMap::new();
    params.insert("load_gain".into(), gain);
    let clean = (0..grid.samples)
        .map(|i| {
            let load = grid.load.get(i).copied().unwrap_or(0.0);
            base * (1.0 + gain * load) + slope * grid.hours(i)
        })
        .collect();
    LoadShape {
        clean,
        slope,
        params,
    }
}

/// The process's own load counters: its share of the machine's load as `% Processor Time`, and
/// its IO (`IO Data Operations/sec`, or `IO Other` for some), each with noise of its own.
fn own_load(rng: &mut SmallRng, load: &[f64], dt_hours: f64) -> Vec<ServiceCounter> {
    let n = load.len();
    let cpu_share = uniform(rng, 5.0, 60.0);
    let cpu_noise = fluctuation(rng, n, dt_hours, 0.04 * cpu_share);
    let cpu = load
        .iter()
        .zip(&cpu_noise)
        .map(|(l, e)| (0.5 + cpu_share * l + e).clamp(0.0, 100.0))
        .collect();
    let mut out = vec![ServiceCounter {
        counter: "% Processor Time".into(),
        values: cpu,
        decimals: 3,
        label: None,
    }];
    let io = rng.random::<f64>();
    if io < 0.85 {
        let rate = family::draw_log_uniform(rng, 5.0, 500.0);
        let noise = fluctuation(rng, n, dt_hours, 0.05 * rate);
        out.push(ServiceCounter {
            counter: if io < 0.7 {
                "IO Data Operations/sec"
            } else {
                "IO Other Operations/sec"
            }
            .into(),
            values: load
                .iter()
                .zip(&noise)
                .map(|(l, e)| (rate * l + e).max(0.0))
                .collect(),
            decimals: 3,
            label: None,
        });
    }
    out
}

fn load_log(name: &str, seed: u64, regime: Regime) -> GeneratedLog {
    let mut rng = SmallRng::seed_from_u64(seed);
    let (hours, interval) = loop {
        let choices = regime.hours();
        let hours = choices[rng.random_range(0..choices.len())];
        let interval = [15.0, 60.0, 300.0, 900.0][rng.random_range(0..4)];
        if (32.0..=8000.0).contains(&(hours * 3600.0 / interval)) {
            break (hours, interval);
        }
    };
    let samples = (hours * 3600.0 / interval).round() as usize + 1;
    let day0 = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default();
    let start = day0.and_hms_opt(0, 0, 0).unwrap_or_default()
        + Duration::minutes(rng.random_range(0..(35 * 24 * 60)));
    let dt = interval / 3600.0;
    let week_hour0 = week_hour(start);
    let trend = match regime {
        Regime::RisingShort | Regime::RisingLong => rising(&mut rng, samples),
        Regime::SteadyShort => steady(&mut rng, samples),
        Regime::DailyLong | Regime::DailyShort => {
            daily(&mut rng, |i| i as f64 * dt, samples, week_hour0)
        }
    };
    let wobble_sd = uniform(&mut rng, 0.02, 0.06);
    let wobble = fluctuation(&mut rng, samples, dt, wobble_sd);
    let load: Vec<f64> = trend
        .iter()
        .zip(&wobble)
        .map(|(l, e)| (l + e).clamp(0.0, 1.0))
        .collect();
    let grid = Grid {
        samples,
        interval_seconds: interval,
        week_hour0,
        load,
    };
    let mut pids = pid_source();
    let mut images: Vec<&str> = IMAGES.to_vec();
    images.shuffle(&mut rng);
    // Most logs carry each process's own load; some only the machine's.
    let own = rng.random_bool(0.8);
    let mut services: Vec<ServiceSpec> = Vec::new();
    for (k, image) in images.iter().take(SERVICES_PER_LOG / 2).enumerate() {
        let recipe = Recipe {
            companions: rng.random_bool(0.25),
            ..Recipe::default()
        };
        let mut s = family::service(&mut rng, regime.family(k), image, &grid, &recipe, &mut pids);
        if own {
            s.counters.extend(own_load(&mut rng, &grid.load, dt));
        } else if regime != Regime::DailyLong {
            // Growth that follows only the machine's load, the process's own not logged: as
            // likely a leak that coincides with a busier machine as memory that follows it.
            for label in s.counters.iter_mut().filter_map(|c| c.label.as_mut()) {
                if label.truth == Truth::NotLeak {
                    label.truth = Truth::Ambiguous;
                    label.note = Some(
                        "follows the machine's load, and the process's own load is not logged"
                            .into(),
                    );
                }
            }
        }
        services.push(s);
    }
    let mut after = Vec::new();
    if rng.random_bool(0.7) {
        let rate = family::draw_log_uniform(&mut rng, 5_000.0, 60_000.0);
        let noise = fluctuation(&mut rng, samples, dt, 0.04 * rate);
        after.push(ObjectColumn {
            object: "System".into(),
            instance: None,
            counter: "Context Switches/sec".into(),
            values: grid
                .load
                .iter()
                .zip(&noise)
                .map(|(l, e)| (800.0 + rate * l + e).max(0.0))
                .collect(),
            decimals: 3,
        });
    }
    let zone = ZONES[rng.random_range(0..ZONES.len())];
    let host = format!("LOAD{:04}", rng.random_range(0..10_000));
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
        after,
        &mut rng,
    );
    spec.id_process = rng.random_bool(0.7);
    spec.elapsed_time = rng.random_bool(0.5);
    spec.into_generated()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_logs_carry_load_counters_and_labelled_load_families() {
        let logs: Vec<GeneratedLog> = load_logs(Split::Tune, 0.01).collect();
        assert_eq!(logs.len(), 8);
        for (i, log) in logs.iter().enumerate() {
            let regime = REGIMES[i % REGIMES.len()];
            assert!(log.labels.iter().all(|l| l.family.is_load()), "{i}");
            let hours =
                log.spec.samples.saturating_sub(1) as f64 * log.spec.interval_seconds / 3600.0;
            assert!(
                regime.hours().iter().any(|h| (h - hours).abs() < 0.01),
                "{i}: {hours}"
            );
            let csv = String::from_utf8(log.to_csv_bytes()).expect("text");
            let header = csv.lines().next().unwrap_or("");
            assert!(header.contains("\\Processor(_Total)\\% Processor Time"));
        }
        let leaks = logs
            .iter()
            .flat_map(|l| &l.labels)
            .filter(|l| l.truth == Truth::Leak)
            .count();
        assert!(leaks > 0);
        // Seeded, and apart from the protocol's logs.
        let again: Vec<GeneratedLog> = load_logs(Split::Tune, 0.01).collect();
        assert_eq!(logs[3].to_csv_bytes(), again[3].to_csv_bytes());
        let test: Vec<GeneratedLog> = load_logs(Split::Test, 0.01).collect();
        assert_ne!(logs[0].to_csv_bytes(), test[0].to_csv_bytes());
    }

    #[test]
    fn a_rising_load_is_not_a_line_and_a_steady_one_does_not_rise() {
        let mut rng = SmallRng::seed_from_u64(3);
        for _ in 0..20 {
            let up = rising(&mut rng, 200);
            assert!(up[199] > up[0] + 0.2);
            assert!(up.windows(2).all(|w| w[1] >= w[0] - 1e-12));
            let flat = steady(&mut rng, 200);
            assert!(flat[199] <= flat[0]);
        }
    }
}
