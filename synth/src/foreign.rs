//! A second generator (issue #18): labelled logs whose shapes and noise were drawn up apart from
//! the protocol's families (`family.rs`), so the detection bench measures perfleak's rules on
//! data they were never tuned on. GC heaps, birth-death counts, working-set trims, heavy-tailed
//! noise, stationary jumps, business hours, whole-step walks; leaks under Student-t noise, by
//! events, under a GC sawtooth, in working hours only, as a drifting walk. A check, not a
//! tuning target: a rule tuned on these shapes is no longer measured by them.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution, Exp1, Poisson, StandardNormal, StudentT};
use serde::{Deserialize, Serialize};

use super::corpus::{pid_source, week_hour};
use super::family::HANDLE_LIMIT;
use super::label::{Difficulty, Family, SeriesLabel, Truth};
use super::pdh::{GeneratedLog, Lifetime, LogSpec, ServiceCounter, ServiceSpec};

/// Environment variable with the number of logs (the bench's section and `perfleak-synth
/// foreign`); 0 skips the bench's section.
pub const FOREIGN_ENV: &str = "PERFLEAK_BENCH_FOREIGN";
/// Logs when [`FOREIGN_ENV`] is not set: 4,800 labelled series.
pub const FOREIGN_LOGS: usize = 240;

/// The shapes of the second generator; a series' family is `Family::Foreign(shape)`, named by
/// the shape (`gc-heap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForeignShape {
    /// Allocation at a steady rate, collected at a threshold that moves; collections may be
    /// hours apart.
    GcHeap,
    /// A population of objects born and freed at random (M/M/inf): an integer count that
    /// returns to its mean.
    BirthDeath,
    /// Working-set trims now and then, each followed by a slow recovery to the usual level.
    Trims,
    /// A flat level under Student-t noise of 2 degrees of freedom (no finite variance).
    HeavyTail,
    /// Big blocks taken and given back: the level jumps now and then to a new level drawn
    /// around the same base.
    Jumps,
    /// A level that follows business hours on working days and rests at weekends.
    Business,
    /// Mostly flat, moving in whole 64 KB segments or single handles around its base.
    Quantized,
    /// Growth that slows for ever (logarithmic): a cache or a slowing leak, either verdict fits.
    PlateauLog,
    /// A straight line under Student-t noise of 3 degrees of freedom.
    LeakLinearT,
    /// One handle (or one block) lost per event, events at random at a steady rate.
    LeakPoisson,
    /// A GC sawtooth whose floor rises.
    LeakGc,
    /// Leaks only while it works: growth in business hours, none at night.
    LeakBusiness,
    /// A random walk with a positive drift.
    LeakDriftRw,
}

impl ForeignShape {
    pub const ALL: [ForeignShape; 13] = [
        ForeignShape::GcHeap,
        ForeignShape::BirthDeath,
        ForeignShape::Trims,
        ForeignShape::HeavyTail,
        ForeignShape::Jumps,
        ForeignShape::Business,
        ForeignShape::Quantized,
        ForeignShape::PlateauLog,
        ForeignShape::LeakLinearT,
        ForeignShape::LeakPoisson,
        ForeignShape::LeakGc,
        ForeignShape::LeakBusiness,
        ForeignShape::LeakDriftRw,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ForeignShape::GcHeap => "gc-heap",
            ForeignShape::BirthDeath => "birth-death",
            ForeignShape::Trims => "trims",
            ForeignShape::HeavyTail => "heavy-tail",
            ForeignShape::Jumps => "jumps",
            ForeignShape::Business => "business",
            ForeignShape::Quantized => "quantized",
            ForeignShape::PlateauLog => "plateau-log",
            ForeignShape::LeakLinearT => "leak-linear-t",
            ForeignShape::LeakPoisson => "leak-poisson",
            ForeignShape::LeakGc => "leak-gc",
            ForeignShape::LeakBusiness => "leak-business",
            ForeignShape::LeakDriftRw => "leak-drift-rw",
        }
    }

    /// The shape's truth (a leak-business series whose log holds almost no working time is
    /// relabelled ambiguous, see [`foreign_logs`]).
    pub fn truth(self) -> Truth {
        match self {
            ForeignShape::GcHeap
            | ForeignShape::BirthDeath
            | ForeignShape::Trims
            | ForeignShape::HeavyTail
            | ForeignShape::Jumps
            | ForeignShape::Business
            | ForeignShape::Quantized => Truth::NotLeak,
            ForeignShape::PlateauLog => Truth::Ambiguous,
            ForeignShape::LeakLinearT
            | ForeignShape::LeakPoisson
            | ForeignShape::LeakGc
            | ForeignShape::LeakBusiness
            | ForeignShape::LeakDriftRw => Truth::Leak,
        }
    }

    /// Position in [`ForeignShape::ALL`].
    pub fn index(self) -> usize {
        ForeignShape::ALL
            .iter()
            .position(|s| *s == self)
            .unwrap_or(0)
    }

    fn of(truth: Truth) -> Vec<ForeignShape> {
        ForeignShape::ALL
            .into_iter()
            .filter(|s| s.truth() == truth)
            .collect()
    }
}

/// Top 16 bits of every seed ("fo"): disjoint from the tune and test splits' seeds.
const SEED_TAG: u64 = 0x666f;

/// The seed of foreign log `index` under `user_seed`.
pub fn foreign_seed(user_seed: u64, index: u64) -> u64 {
    (SEED_TAG << 48) | ((user_seed & 0xffff) << 32) | (index & 0xffff_ffff)
}

/// `count` labelled logs of the second generator, one at a time; log `i` is the same whatever
/// `count` is.
pub fn foreign_logs(count: usize, user_seed: u64) -> impl Iterator<Item = GeneratedLog> {
    (0..count).map(move |i| foreign_log(i, foreign_seed(user_seed, i as u64)))
}

/// Process images the logs draw ten of.
const IMAGES: [&str; 20] = [
    "svchost",
    "lsass",
    "w3wp",
    "sqlservr",
    "MsMpEng",
    "spoolsv",
    "dfsrs",
    "explorer",
    "inetinfo",
    "store",
    "java",
    "node",
    "postgres",
    "nginx",
    "httpd",
    "dns",
    "wmiprvse",
    "TrustedInstaller",
    "ccmexec",
    "sfc",
];

/// Chance that a series leaks, and that it is the ambiguous shape; the rest are healthy.
const LEAK_SHARE: f64 = 0.30;
const AMBIGUOUS_SHARE: f64 = 0.05;
/// Samples per log at most: the interval doubles until the log fits.
const MAX_SAMPLES: usize = 5000;

fn foreign_log(index: usize, seed: u64) -> GeneratedLog {
    let mut rng = SmallRng::seed_from_u64(seed);
    let hours = *[8.0, 24.0, 24.0, 72.0, 168.0]
        .choose(&mut rng)
        .unwrap_or(&24.0);
    let mut interval = *[15.0, 60.0, 300.0, 900.0].choose(&mut rng).unwrap_or(&60.0);
    while samples_of(hours, interval) > MAX_SAMPLES {
        interval *= 2.0;
    }
    let samples = samples_of(hours, interval);
    let start = NaiveDate::from_ymd_opt(2026, 3, 2)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
        + Duration::minutes(rng.random_range(0..14 * 24 * 60));
    let clock = Clock {
        samples,
        dt_h: interval / 3600.0,
        week_hour0: week_hour(start),
    };
    let host = format!("ALIEN{index:04}");
    let mut pids = pid_source();
    let images: Vec<&str> = IMAGES.choose_multiple(&mut rng, 10).copied().collect();
    let services = images
        .iter()
        .map(|image| {
            let counters = [Kind::Bytes, Kind::Handles]
                .into_iter()
                .map(|kind| counter(&mut rng, &clock, &host, image, kind))
                .collect();
            ServiceSpec {
                image: image.to_string(),
                lifetimes: vec![Lifetime {
                    start: 0,
                    end: samples,
                    pid: pids(&mut rng),
                    age_hours: rng.random_range(1.0..500.0),
                }],
                counters,
                missing: vec![false; samples],
            }
        })
        .collect();
    LogSpec {
        name: format!("foreign-{index:04}"),
        seed,
        host,
        time_zone: "Coordinated Universal Time".into(),
        bias_minutes: 0,
        start,
        interval_seconds: interval,
        samples,
        jitter_ms: vec![0; samples],
        services,
        // Half the logs carry a constant `ID Process` per process.
        id_process: index.is_multiple_of(2),
        elapsed_time: false,
        objects_before: Vec::new(),
        objects_after: Vec::new(),
    }
    .into_generated()
}

fn samples_of(hours: f64, interval_seconds: f64) -> usize {
    (hours * 3600.0 / interval_seconds) as usize + 1
}

/// The time grid of one log.
struct Clock {
    samples: usize,
    dt_h: f64,
    week_hour0: f64,
}

impl Clock {
    fn hour(&self, i: usize) -> f64 {
        i as f64 * self.dt_h
    }

    fn span(&self) -> f64 {
        self.hour(self.samples - 1).max(self.dt_h)
    }

    /// How much the office works at sample `i`, 0 to 1.
    fn work(&self, i: usize) -> f64 {
        business_hours(self.week_hour0 + self.hour(i))
    }
}

/// Working days: nothing before 7:00, ramping up to 9:00, full until 17:00, ramping down to
/// 19:00; weekends a tenth all day.
fn business_hours(week_hour: f64) -> f64 {
    let day = (week_hour / 24.0).floor() as i64 % 7;
    let h = week_hour.rem_euclid(24.0);
    if day >= 5 {
        return 0.1;
    }
    match h {
        h if !(7.0..19.0).contains(&h) => 0.0,
        h if h < 9.0 => (h - 7.0) / 2.0,
        h if h < 17.0 => 1.0,
        h => (19.0 - h) / 2.0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bytes,
    Handles,
}

impl Kind {
    fn counter(self) -> &'static str {
        match self {
            Kind::Bytes => "Private Bytes",
            Kind::Handles => "Handle Count",
        }
    }

    /// What the counter moves by: a page, a handle.
    fn quantum(self) -> f64 {
        match self {
            Kind::Bytes => 4096.0,
            Kind::Handles => 1.0,
        }
    }

    fn base(self, rng: &mut SmallRng) -> f64 {
        match self {
            Kind::Bytes => rng.random_range(5e6..8e8),
            Kind::Handles => rng.random_range(100.0..5000.0),
        }
    }
}

/// One labelled counter of a process: draws its shape and values.
fn counter(
    rng: &mut SmallRng,
    clock: &Clock,
    host: &str,
    image: &str,
    kind: Kind,
) -> ServiceCounter {
    let base = kind.base(rng);
    let r: f64 = rng.random();
    let truth = if r < LEAK_SHARE {
        Truth::Leak
    } else if r < LEAK_SHARE + AMBIGUOUS_SHARE {
        Truth::Ambiguous
    } else {
        Truth::NotLeak
    };
    let shape = *ForeignShape::of(truth)
        .choose(rng)
        .unwrap_or(&ForeignShape::HeavyTail);
    let drawn = draw(rng, shape, clock, base, kind);
    let q = kind.quantum();
    // A counter is never negative, and moves in whole pages or handles.
    let values: Vec<f64> = drawn
        .values
        .iter()
        .map(|v| (v.max(0.0) / q).round() * q)
        .collect();
    let label = label(shape, kind, base, clock, &values, drawn, host, image);
    ServiceCounter {
        counter: kind.counter().into(),
        values,
        decimals: 0,
        label: Some(label),
    }
}

/// A shape's values before rounding, the trend its label states, and its parameters.
struct Drawn {
    values: Vec<f64>,
    /// Mean growth per hour over the log (0 unless a leak).
    slope: f64,
    /// The shape's trend at the last sample (its base for stationary shapes).
    level_at_end: f64,
    params: BTreeMap<String, f64>,
    note: Option<String>,
}

impl Drawn {
    fn flat(values: Vec<f64>, base: f64, params: &[(&str, f64)]) -> Drawn {
        Drawn {
            values,
            slope: 0.0,
            level_at_end: base,
            params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            note: None,
        }
    }

    /// A leak growing by `growth` over the log.
    fn leak(values: Vec<f64>, base: f64, growth: f64, span: f64, params: &[(&str, f64)]) -> Drawn {
        Drawn {
            slope: growth / span,
            level_at_end: base + growth,
            ..Drawn::flat(values, base, params)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn label(
    shape: ForeignShape,
    kind: Kind,
    base: f64,
    clock: &Clock,
    values: &[f64],
    drawn: Drawn,
    host: &str,
    image: &str,
) -> SeriesLabel {
    // How far the written values stray from the label's straight line (base + slope * t).
    let n = values.len().max(1) as f64;
    let sd = (values
        .iter()
        .enumerate()
        .map(|(i, v)| (v - base - drawn.slope * clock.hour(i)).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let mut truth = shape.truth();
    let mut note = drawn.note;
    if shape == ForeignShape::LeakBusiness && drawn.slope == 0.0 {
        truth = Truth::Ambiguous;
        note = Some("leaks only in working hours and the log holds almost none".into());
    }
    let leak = truth == Truth::Leak;
    let snr = (leak && sd > 0.0).then(|| drawn.slope * clock.span() / sd);
    let mut label = SeriesLabel {
        machine: host.to_string(),
        process: image.to_string(),
        instance: image.to_string(),
        counter: kind.counter().to_string(),
        pids: Vec::new(),
        family: Family::Foreign(shape),
        base_family: None,
        truth,
        base,
        slope_per_hour: if leak { drawn.slope } else { 0.0 },
        onset_hours: None,
        level_at_end: drawn.level_at_end,
        limit: None,
        time_to_limit_hours: None,
        noise_sd: sd,
        ar_phi: 0.0,
        snr,
        difficulty: snr.map(Difficulty::from_snr),
        params: drawn.params,
        note,
        clean_rise: None,
    };
    if leak && kind == Kind::Handles {
        label.limit = Some(HANDLE_LIMIT);
        label.time_to_limit_hours = label.time_to(HANDLE_LIMIT);
    }
    label
}

fn gauss(rng: &mut SmallRng) -> f64 {
    StandardNormal.sample(rng)
}

fn student_t(rng: &mut SmallRng, df: f64) -> f64 {
    StudentT::new(df).map_or(0.0, |d| d.sample(rng))
}

fn poisson(rng: &mut SmallRng, mean: f64) -> f64 {
    if mean > 0.0 {
        Poisson::new(mean).map_or(0.0, |d| d.sample(rng))
    } else {
        0.0
    }
}

/// Whether an event with a mean gap of `gap_h` hours falls inside one sample.
fn happens(rng: &mut SmallRng, dt_h: f64, gap_h: f64) -> bool {
    rng.random::<f64>() < 1.0 - (-dt_h / gap_h).exp()
}

fn draw(rng: &mut SmallRng, shape: ForeignShape, c: &Clock, base: f64, kind: Kind) -> Drawn {
    match shape {
        ForeignShape::GcHeap => gc_heap(rng, c, base),
        ForeignShape::BirthDeath => birth_death(rng, c, base, kind),
        ForeignShape::Trims => trims(rng, c, base),
        ForeignShape::HeavyTail => {
            let s = base * rng.random_range(0.005..0.05);
            let values = (0..c.samples)
                .map(|_| base + s * student_t(rng, 2.0))
                .collect();
            Drawn::flat(values, base, &[("scale", s)])
        }
        ForeignShape::Jumps => jumps(rng, c, base),
        ForeignShape::Business => {
            let amp = base * rng.random_range(0.1..0.6);
            let values = (0..c.samples)
                .map(|i| base + amp * c.work(i) + 0.01 * base * gauss(rng))
                .collect();
            Drawn::flat(values, base, &[("amplitude", amp)])
        }
        ForeignShape::Quantized => quantized(rng, c, base, kind),
        ForeignShape::PlateauLog => {
            let a = base * rng.random_range(0.1..0.5);
            let tau = c.span() * rng.random_range(0.05..0.3);
            let values = (0..c.samples)
                .map(|i| base + a * (c.hour(i) / tau).ln_1p() + 0.01 * base * gauss(rng))
                .collect();
            Drawn {
                level_at_end: base + a * (c.span() / tau).ln_1p(),
                note: Some("growth that slows for ever: a cache filling or a slowing leak".into()),
                ..Drawn::flat(values, base, &[("amplitude", a), ("tau_hours", tau)])
            }
        }
        ForeignShape::LeakLinearT => {
            let growth = base * rng.random_range(0.1..1.0);
            let s = base * rng.random_range(0.005..0.03);
            let values = (0..c.samples)
                .map(|i| base + growth * c.hour(i) / c.span() + s * student_t(rng, 3.0))
                .collect();
            Drawn::leak(values, base, growth, c.span(), &[("scale", s)])
        }
        ForeignShape::LeakPoisson => leak_poisson(rng, c, base, kind),
        ForeignShape::LeakGc => leak_gc(rng, c, base),
        ForeignShape::LeakBusiness => leak_business(rng, c, base),
        ForeignShape::LeakDriftRw => {
            let growth = base * rng.random_range(0.3..1.0);
            let step_sd = 0.006 * base * c.dt_h.sqrt();
            let mut level = base;
            let values = (0..c.samples)
                .map(|_| {
                    level += growth / c.span() * c.dt_h + step_sd * gauss(rng);
                    level
                })
                .collect();
            Drawn::leak(values, base, growth, c.span(), &[("step_sd", step_sd)])
        }
    }
}

/// Allocation at a steady mean rate, in random amounts; a collection at a threshold drawn
/// afresh each time brings the heap back near its base.
fn gc_heap(rng: &mut SmallRng, c: &Clock, base: f64) -> Drawn {
    let rate = base * rng.random_range(0.05..2.0);
    let mut threshold = base * rng.random_range(1.3..2.0);
    let mut level = base;
    let mut values = Vec::with_capacity(c.samples);
    for _ in 0..c.samples {
        let e: f64 = Exp1.sample(rng);
        level += rate * c.dt_h * e;
        if level > threshold {
            level = base * rng.random_range(0.9..1.1);
            threshold = base * rng.random_range(1.3..2.0);
        }
        values.push(level);
    }
    Drawn::flat(values, base, &[("rate_per_hour", rate)])
}

/// Objects of one size born at random and each freed after an exponential life: the count is
/// Poisson around its mean at every moment and returns to it at the turnover rate.
fn birth_death(rng: &mut SmallRng, c: &Clock, base: f64, kind: Kind) -> Drawn {
    let unit = match kind {
        Kind::Bytes => *[4096.0, 16384.0, 65536.0].choose(rng).unwrap_or(&4096.0),
        Kind::Handles => 1.0,
    };
    let mean = (base / unit).max(1.0);
    let turnover = rng.random_range(0.2..5.0);
    let survive = (-turnover * c.dt_h).exp();
    let mut count = poisson(rng, mean);
    let mut values = Vec::with_capacity(c.samples);
    for _ in 0..c.samples {
        let kept = Binomial::new(count as u64, survive).map_or(count, |d| d.sample(rng) as f64);
        count = (kept + poisson(rng, mean * (1.0 - survive))).max(1.0);
        values.push(count * unit);
    }
    Drawn::flat(
        values,
        base,
        &[("object_bytes", unit), ("turnover_per_hour", turnover)],
    )
}

/// Trims to 50-80 % of the working set at random, each followed by a slow climb back.
fn trims(rng: &mut SmallRng, c: &Clock, base: f64) -> Drawn {
    let gap = rng.random_range(3.0..24.0);
    let tau = rng.random_range(0.5..6.0);
    let recover = 1.0 - (-c.dt_h / tau).exp();
    let mut level = base;
    let mut values = Vec::with_capacity(c.samples);
    for _ in 0..c.samples {
        if happens(rng, c.dt_h, gap) {
            level = base * rng.random_range(0.5..0.8);
        }
        level += (base - level) * recover;
        values.push(level * (1.0 + 0.01 * gauss(rng)));
    }
    Drawn::flat(values, base, &[("gap_hours", gap), ("tau_hours", tau)])
}

/// Level changes at random times, each new level drawn within 30 % of the base.
fn jumps(rng: &mut SmallRng, c: &Clock, base: f64) -> Drawn {
    let gap = rng.random_range(1.0..12.0);
    let mut level = base;
    let mut values = Vec::with_capacity(c.samples);
    for _ in 0..c.samples {
        if happens(rng, c.dt_h, gap) {
            level = base * (1.0 + rng.random_range(-0.3..0.3));
        }
        values.push(level * (1.0 + 0.002 * gauss(rng)));
    }
    Drawn::flat(values, base, &[("gap_hours", gap)])
}

/// A walk in whole steps (64 KB segments, single handles), one move in ten samples: below the
/// base most moves go up, at it half, and none once it is `room` above it.
fn quantized(rng: &mut SmallRng, c: &Clock, base: f64, kind: Kind) -> Drawn {
    let step = match kind {
        Kind::Bytes => 65536.0,
        Kind::Handles => 1.0,
    };
    let room = 0.02 * base + 20.0 * step;
    let mut level = base;
    let mut values = Vec::with_capacity(c.samples);
    for _ in 0..c.samples {
        if rng.random::<f64>() < 0.1 {
            let up_share = (0.5 - (level - base) / (2.0 * room)).clamp(0.0, 1.0);
            level += if rng.random::<f64>() < up_share {
                step
            } else {
                -step
            };
            level = level.max(0.5 * base);
        }
        values.push(level);
    }
    Drawn::flat(values, base, &[("step", step)])
}

/// One handle, or one block of 1, 4 or 16 pages, lost per event; events at random at the
/// rate that adds `growth` over the log; handle counts jitter by a few, bytes by 0.5 %.
fn leak_poisson(rng: &mut SmallRng, c: &Clock, base: f64, kind: Kind) -> Drawn {
    let growth = base * rng.random_range(0.1..1.0);
    let per = match kind {
        Kind::Bytes => 4096.0 * *[1.0, 4.0, 16.0].choose(rng).unwrap_or(&1.0),
        Kind::Handles => 1.0,
    };
    let events_per_sample = growth / c.span() / per * c.dt_h;
    let mut level = base;
    let mut values = Vec::with_capacity(c.samples);
    for _ in 0..c.samples {
        level += per * poisson(rng, events_per_sample);
        let jitter = match kind {
            Kind::Bytes => 0.005 * base * gauss(rng),
            Kind::Handles => *[-2.0, -1.0, 0.0, 0.0, 1.0, 2.0].choose(rng).unwrap_or(&0.0),
        };
        values.push(level + jitter);
    }
    Drawn::leak(values, base, growth, c.span(), &[("per_event", per)])
}

/// A GC sawtooth (collections at 0.6 x base above the floor) whose floor rises by `growth`.
fn leak_gc(rng: &mut SmallRng, c: &Clock, base: f64) -> Drawn {
    let growth = base * rng.random_range(0.2..1.0);
    let rate = base * rng.random_range(0.2..2.0);
    let mut level = base;
    let mut values = Vec::with_capacity(c.samples);
    for i in 0..c.samples {
        let floor = base + growth * c.hour(i) / c.span();
        let e: f64 = Exp1.sample(rng);
        level += rate * c.dt_h * e;
        if level > floor + 0.6 * base {
            level = floor * rng.random_range(0.97..1.03);
        }
        values.push(level.max(floor));
    }
    Drawn::leak(values, base, growth, c.span(), &[("rate_per_hour", rate)])
}

/// Grows only while the office works (the growth shared out by working time) and its level
/// follows the work too. A log of (almost) no working time shows no growth: slope 0, and the
/// label says ambiguous.
fn leak_business(rng: &mut SmallRng, c: &Clock, base: f64) -> Drawn {
    let growth = base * rng.random_range(0.2..1.0);
    let amp = base * rng.random_range(0.1..0.4);
    let work_hours: f64 = (0..c.samples).map(|i| c.work(i)).sum::<f64>() * c.dt_h;
    let per_work_hour = if work_hours >= 1.0 {
        growth / work_hours
    } else {
        0.0
    };
    let mut leaked = 0.0;
    let mut values = Vec::with_capacity(c.samples);
    for i in 0..c.samples {
        let w = c.work(i);
        leaked += per_work_hour * w * c.dt_h;
        values.push(base + leaked + amp * w + 0.01 * base * gauss(rng));
    }
    let params = [("amplitude", amp), ("work_hours", work_hours)];
    if per_work_hour == 0.0 {
        return Drawn::flat(values, base, &params);
    }
    Drawn::leak(values, base, growth, c.span(), &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_hours_follow_the_working_week() {
        // Monday 03:00, 08:00, 12:00, 18:00; Saturday noon.
        assert_eq!(business_hours(3.0), 0.0);
        assert_eq!(business_hours(8.0), 0.5);
        assert_eq!(business_hours(12.0), 1.0);
        assert_eq!(business_hours(18.0), 0.5);
        assert_eq!(business_hours(5.0 * 24.0 + 12.0), 0.1);
        // The week wraps: the next Monday noon.
        assert_eq!(business_hours(7.0 * 24.0 + 12.0), 1.0);
    }

    #[test]
    fn shapes_have_the_truth_their_group_says() {
        let leaks = ForeignShape::of(Truth::Leak);
        assert_eq!(leaks.len(), 5);
        assert!(leaks.iter().all(|s| s.name().starts_with("leak-")));
        assert_eq!(
            ForeignShape::of(Truth::Ambiguous),
            [ForeignShape::PlateauLog]
        );
        assert_eq!(ForeignShape::of(Truth::NotLeak).len(), 7);
    }

    #[test]
    fn a_leak_with_no_working_time_is_ambiguous() {
        // Monday 20:00 to Tuesday 04:00: nobody works.
        let c = Clock {
            samples: 33,
            dt_h: 0.25,
            week_hour0: 20.0,
        };
        let mut rng = SmallRng::seed_from_u64(3);
        let d = leak_business(&mut rng, &c, 1000.0);
        assert_eq!(d.slope, 0.0);
        let values = d.values.clone();
        let l = label(
            ForeignShape::LeakBusiness,
            Kind::Handles,
            1000.0,
            &c,
            &values,
            d,
            "H",
            "p",
        );
        assert_eq!(l.truth, Truth::Ambiguous);
        assert!(l.note.is_some());
    }
}
