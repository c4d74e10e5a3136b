//! The shapes of the scenario families and the noise on top of them: turns a family and a time
//! grid into a service (lifetimes, PIDs, Private Bytes, Handle Count, companions) with its labels.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use rand::rngs::SmallRng;
use rand::Rng;
use rand_distr::{Distribution, Normal, StudentT};

use super::label::{Difficulty, Family, SeriesLabel, Truth};
use super::pdh::{Lifetime, ServiceCounter, ServiceSpec};
use super::score::ols_fit;
use crate::vocab::{Counter, Unit};

pub const MB: f64 = 1024.0 * 1024.0;
/// Per-process handle limit used as the Handle Count forecast target (2^24).
pub const HANDLE_LIMIT: f64 = 16_777_216.0;
const PAGE: f64 = 4096.0;

/// The two counters every service carries and the benchmark scores.
const SCORED: [Counter; 2] = [Counter::PrivateBytes, Counter::HandleCount];

/// Leak slopes per hour the protocol samples (PB 0.2-200 MB/h, HC 1-500/h); other byte
/// counters draw as Private Bytes, other counts as handles.
fn slope_range(kind: Counter) -> (f64, f64) {
    match kind.unit() {
        Unit::Bytes => (0.2 * MB, 200.0 * MB),
        Unit::Handles | Unit::Threads => (1.0, 500.0),
    }
}

fn base_range(kind: Counter) -> (f64, f64) {
    match kind.unit() {
        Unit::Bytes => (2.0 * MB, 1536.0 * MB),
        Unit::Handles | Unit::Threads => (100.0, 5000.0),
    }
}

/// Private Bytes move in whole pages, handles in whole handles.
fn quantum(kind: Counter) -> f64 {
    match kind.unit() {
        Unit::Bytes => PAGE,
        Unit::Handles | Unit::Threads => 1.0,
    }
}

/// Sampling grid of one log.
#[derive(Debug, Clone)]
pub struct Grid {
    pub samples: usize,
    pub interval_seconds: f64,
    /// Local clock of the first sample in hours since Monday 00:00 (for daily/weekly cycles).
    pub week_hour0: f64,
    /// Machine load from 0 to 1 over the log (drives load-driven growth; logged as a counter).
    pub load: Vec<f64>,
}

impl Grid {
    pub fn dt_hours(&self) -> f64 {
        self.interval_seconds / 3600.0
    }

    pub fn hours(&self, t: usize) -> f64 {
        t as f64 * self.dt_hours()
    }

    pub fn span_hours(&self) -> f64 {
        self.hours(self.samples.saturating_sub(1))
            .max(self.dt_hours())
    }
}

/// Overrides for hand-built scenarios (the samples); `None` means "draw it".
#[derive(Debug, Clone, Default)]
pub struct Recipe {
    pub pb_base: Option<f64>,
    pub hc_base: Option<f64>,
    pub pb_slope: Option<f64>,
    pub hc_slope: Option<f64>,
    /// Which counters leak in a leak family: (Private Bytes, Handle Count).
    pub leaks: Option<(bool, bool)>,
    /// Noise sd as a fraction of the base.
    pub noise_frac: Option<f64>,
    pub missing_rate: Option<f64>,
    /// Restart times in hours (restart families).
    pub restarts_at: Option<Vec<f64>>,
    /// Process age at the first sample, in hours.
    pub age_hours: Option<f64>,
    /// Write Virtual Bytes, Working Set, Thread Count, pool bytes too.
    pub companions: bool,
    /// Warm-up time constant as a fraction of the log (warm-up family).
    pub warm_up_tau_frac: Option<f64>,
}

fn log_uniform(rng: &mut SmallRng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

fn uniform(rng: &mut SmallRng, lo: f64, hi: f64) -> f64 {
    lo + rng.random::<f64>() * (hi - lo)
}

/// AR(1) noise with marginal standard deviation `sd`, plus Student-t(3) spikes on ~1% of samples.
pub fn ar1_noise(rng: &mut SmallRng, n: usize, sd: f64, phi: f64, spike_rate: f64) -> Vec<f64> {
    let innovation = Normal::new(0.0, sd * (1.0 - phi * phi).max(0.0).sqrt()).ok();
    let start = Normal::new(0.0, sd).ok();
    let spikes = StudentT::new(3.0).ok();
    let mut x = match start {
        Some(d) => d.sample(rng),
        None => 0.0,
    };
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut v = x;
        if rng.random::<f64>() < spike_rate {
            if let Some(d) = spikes {
                v += 3.0 * sd * d.sample(rng);
            }
        }
        out.push(v);
        x = phi * x + innovation.map_or(0.0, |d| d.sample(rng));
    }
    out
}

/// Daily and weekly load profile in [-1, 1]-ish units at local week hour `h`.
struct DailyProfile {
    business_hours: bool,
    phase: f64,
    weekend_dip: f64,
}

impl DailyProfile {
    fn draw(rng: &mut SmallRng) -> DailyProfile {
        DailyProfile {
            business_hours: rng.random_bool(0.5),
            phase: uniform(rng, 0.0, 24.0),
            weekend_dip: uniform(rng, 0.0, 0.5),
        }
    }

    fn at(&self, week_hour: f64) -> f64 {
        let day = (week_hour / 24.0).floor().rem_euclid(7.0);
        let h = week_hour.rem_euclid(24.0);
        let weekend = day >= 5.0;
        let daily = if self.business_hours {
            if (8.0..18.0).contains(&h) {
                0.5 * (1.0 - (2.0 * PI * (h - 8.0) / 10.0).cos())
            } else {
                0.0
            }
        } else {
            (2.0 * PI * (h - self.phase) / 24.0).sin()
        };
        if weekend {
            daily * (1.0 - self.weekend_dip) - self.weekend_dip
        } else {
            daily
        }
    }
}

/// Noise-free values of one counter plus what the label needs.
struct Shape {
    clean: Vec<f64>,
    truth: Truth,
    slope: f64,
    onset: Option<f64>,
    params: BTreeMap<String, f64>,
    note: Option<String>,
}

fn leak_slope(rng: &mut SmallRng, kind: Counter, base: f64, over_hours: f64) -> f64 {
    let growth = log_uniform(rng, 0.05, 3.0);
    let (lo, hi) = slope_range(kind);
    (growth * base / over_hours.max(1e-6)).clamp(lo, hi)
}

struct ShapeInput<'a> {
    kind: Counter,
    base: f64,
    noise_sd: f64,
    slope: Option<f64>,
    grid: &'a Grid,
    lifetimes: &'a [Lifetime],
    tau_frac: Option<f64>,
}

fn shape(rng: &mut SmallRng, family: Family, input: &ShapeInput) -> Shape {
    let ShapeInput {
        kind,
        base,
        noise_sd,
        slope,
        grid,
        lifetimes,
        tau_frac,
    } = *input;
    let n = grid.samples;
    let span = grid.span_hours();
    let mut params = BTreeMap::new();
    let mut truth = if family.is_leak() {
        Truth::Leak
    } else {
        Truth::NotLeak
    };
    let mut onset = None;
    let mut note = None;
    let mut leak = 0.0;
    let t = |i: usize| grid.hours(i);
    let clean: Vec<f64> = match family {
        Family::Flat | Family::ShortLog => vec![base; n],
        // The second generator's shapes are drawn by `foreign.rs`; asked here, a flat line.
        Family::Foreign(_) => {
            truth = Truth::NotLeak;
            vec![base; n]
        }
        Family::LinearLeak => {
            leak = slope.unwrap_or_else(|| leak_slope(rng, kind, base, span));
            onset = Some(0.0);
            (0..n).map(|i| base + leak * t(i)).collect()
        }
        Family::SlowLeak => {
            let snr = uniform(rng, 1.0, 8.0);
            leak = slope.unwrap_or(snr * noise_sd / span);
            params.insert("target_snr".into(), snr);
            onset = Some(0.0);
            (0..n).map(|i| base + leak * t(i)).collect()
        }
        Family::StepwiseLeak => {
            let k = rng.random_range(3..=20usize);
            let total = uniform(rng, 0.2, 1.5) * base;
            let mut times: Vec<f64> = (0..k).map(|_| uniform(rng, 0.0, span)).collect();
            times.sort_by(f64::total_cmp);
            let weights: Vec<f64> = (0..k).map(|_| -(1.0 - rng.random::<f64>()).ln()).collect();
            let wsum: f64 = weights.iter().sum();
            leak = slope.unwrap_or(total / span);
            let scale = leak * span / wsum;
            params.insert("steps".into(), k as f64);
            // A staircase whose last third barely rises looks exactly like a cache that filled
            // (family 10), and one dominated by a single step like a level shift (family 14):
            // both are labelled not-leak there, so here either answer is defensible.
            let late: f64 = times
                .iter()
                .zip(&weights)
                .filter(|(at, _)| **at > 2.0 * span / 3.0)
                .map(|(_, w)| w / wsum)
                .sum();
            let largest = weights.iter().copied().fold(0.0, f64::max) / wsum;
            if late < 0.1 || largest >= 0.8 {
                truth = Truth::Ambiguous;
                note = Some(format!(
                    "staircase with {:.0}% of its growth in the last third and {:.0}% in its largest step: \
                     indistinguishable from a filled cache or a level shift",
                    100.0 * late,
                    100.0 * largest
                ));
            }
            onset = times.first().copied();
            (0..n)
                .map(|i| {
                    let up: f64 = times
                        .iter()
                        .zip(&weights)
                        .filter(|(at, _)| **at <= t(i))
                        .map(|(_, w)| w * scale)
                        .sum();
                    base + up
                })
                .collect()
        }
        Family::RestartLeak | Family::Restarts => {
            let dip = uniform(rng, 0.2, 0.6);
            let tau = uniform(rng, 0.01, 0.04) * span;
            if family == Family::RestartLeak {
                let mean_life = span / lifetimes.len().max(1) as f64;
                leak = slope.unwrap_or_else(|| leak_slope(rng, kind, base, mean_life));
                onset = Some(0.0);
            }
            params.insert("restarts".into(), lifetimes.len().saturating_sub(1) as f64);
            params.insert("warm_up_tau_hours".into(), tau);
            let mut v = vec![f64::NAN; n];
            for (k, l) in lifetimes.iter().enumerate() {
                for (i, slot) in v.iter_mut().enumerate().take(l.end).skip(l.start) {
                    let life = l.age_hours + t(i) - t(l.start);
                    let warm = if k == 0 && l.age_hours > 0.0 {
                        0.0
                    } else {
                        dip * (-life / tau).exp()
                    };
                    *slot = base * (1.0 - warm) + leak * life;
                }
            }
            v
        }
        Family::SawtoothLeak | Family::Sawtooth => {
            let amplitude = uniform(rng, 0.1, 0.5) * base;
            let period = log_uniform(rng, 5.0 / 60.0, 3.0);
            let phase = rng.random::<f64>();
            if family == Family::SawtoothLeak {
                leak = slope.unwrap_or_else(|| leak_slope(rng, kind, base, span));
                onset = Some(0.0);
            }
            params.insert("amplitude".into(), amplitude);
            params.insert("period_hours".into(), period);
            (0..n)
                .map(|i| base + leak * t(i) + amplitude * (t(i) / period + phase).fract())
                .collect()
        }
        Family::CyclicLeak | Family::DailyCycle => {
            let amplitude = uniform(rng, 0.05, 0.5) * base;
            let profile = DailyProfile::draw(rng);
            if family == Family::DailyCycle && span < 24.0 {
                // Less than a day of a daily cycle: its rising part is growth for all the log
                // can tell.
                truth = Truth::Ambiguous;
                note = Some("less than one day of a daily cycle: a rising phase is indistinguishable from growth".into());
            }
            if family == Family::CyclicLeak {
                leak = slope.unwrap_or_else(|| leak_slope(rng, kind, base, span));
                onset = Some(0.0);
            }
            params.insert("amplitude".into(), amplitude);
            params.insert("weekend_dip".into(), profile.weekend_dip);
            (0..n)
                .map(|i| base + leak * t(i) + amplitude * profile.at(grid.week_hour0 + t(i)))
                .collect()
        }
        Family::LateOnsetLeak => {
            let t0 = uniform(rng, 0.2, 0.8) * span;
            leak = slope.unwrap_or_else(|| leak_slope(rng, kind, base, span - t0));
            onset = Some(t0);
            (0..n).map(|i| base + leak * (t(i) - t0).max(0.0)).collect()
        }
        Family::WarmUp => {
            let amplitude = uniform(rng, 0.1, 3.0) * base;
            let tau = tau_frac.unwrap_or_else(|| uniform(rng, 0.03, 0.3)) * span;
            if tau > 0.2 * span {
                truth = Truth::Ambiguous;
                note = Some(
                    "warm-up time constant above 0.2 of the log: still rising at the end".into(),
                );
            }
            params.insert("amplitude".into(), amplitude);
            params.insert("tau_hours".into(), tau);
            (0..n)
                .map(|i| base + amplitude * (1.0 - (-t(i) / tau).exp()))
                .collect()
        }
        Family::CacheFill => {
            let cap = uniform(rng, 0.1, 1.5) * base;
            let fill = uniform(rng, 0.1, 0.6) * span;
            params.insert("cap".into(), cap);
            params.insert("fill_hours".into(), fill);
            (0..n)
                .map(|i| base + cap * (t(i) / fill).min(1.0))
                .collect()
        }
        Family::Bursts => {
            let mut v = vec![base; n];
            let count = 1 + (span / 12.0 * rng.random::<f64>() * 2.0) as usize;
            let mut bursts = Vec::new();
            for _ in 0..count {
                bursts.push((uniform(rng, 0.0, span), uniform(rng, 1.0, 60.0) / 60.0));
            }
            if rng.random_bool(0.15) {
                let from = uniform(rng, 0.7, 0.9) * span;
                bursts.push((from, span - from + 1.0));
                truth = Truth::Ambiguous;
                note = Some("a long burst is still running at the end of the log".into());
            }
            params.insert("bursts".into(), bursts.len() as f64);
            for (from, length) in bursts {
                let height = uniform(rng, 0.2, 3.0) * base;
                for (i, slot) in v.iter_mut().enumerate() {
                    if t(i) >= from && t(i) < from + length {
                        *slot += height;
                    }
                }
            }
            v
        }
        Family::LevelShift => {
            let at = uniform(rng, 0.2, 0.8) * span;
            let height = uniform(rng, 0.1, 0.8) * base;
            params.insert("shift_hours".into(), at);
            params.insert("height".into(), height);
            (0..n)
                .map(|i| if t(i) >= at { base + height } else { base })
                .collect()
        }
        f @ (Family::LoadGrowth
        | Family::SteadyLoadLeak
        | Family::DailyLoadLeak
        | Family::DailyLoadHealthy) => {
            let s = super::load::clean(rng, f, kind, base, grid);
            leak = s.slope;
            onset = Some(0.0);
            params = s.params;
            s.clean
        }
        Family::LoadDriven => {
            let k = uniform(rng, 0.2, 1.0);
            truth = Truth::Ambiguous;
            note = Some("grows with the logged load counter, not with time".into());
            params.insert("load_gain".into(), k);
            (0..n)
                .map(|i| base * (1.0 + k * grid.load.get(i).copied().unwrap_or(0.0)))
                .collect()
        }
    };
    Shape {
        clean,
        truth,
        slope: if truth == Truth::Leak { leak } else { 0.0 },
        onset,
        params,
        note,
    }
}

/// Draws the lifetimes of a service: one spanning the log, or several for restart families.
fn lifetimes(
    rng: &mut SmallRng,
    family: Family,
    grid: &Grid,
    recipe: &Recipe,
    pids: &mut dyn FnMut(&mut SmallRng) -> u32,
) -> Vec<Lifetime> {
    let span = grid.span_hours();
    let age0 = recipe.age_hours.unwrap_or_else(|| match family {
        Family::WarmUp | Family::CacheFill => 0.0,
        Family::RestartLeak | Family::Restarts => uniform(rng, 0.0, 0.3) * span,
        _ => log_uniform(rng, 1.0, 24.0 * 30.0),
    });
    let mut cuts: Vec<f64> = match (&recipe.restarts_at, family) {
        (Some(at), _) => at.clone(),
        (None, Family::RestartLeak | Family::Restarts) => {
            let mut at = Vec::new();
            let mut next = uniform(rng, 0.2, 0.6) * span;
            while next < span {
                at.push(next);
                next += uniform(rng, 0.2, 0.6) * span;
            }
            at
        }
        _ => Vec::new(),
    };
    cuts.retain(|h| *h > 0.0 && *h < span);
    let mut starts = vec![0usize];
    for h in cuts {
        let i = (h / grid.dt_hours()).ceil() as usize;
        if i > *starts.last().unwrap_or(&0) && i < grid.samples {
            starts.push(i);
        }
    }
    let mut out = Vec::new();
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(grid.samples);
        out.push(Lifetime {
            start,
            end,
            pid: pids(rng),
            age_hours: if k == 0 { age0 } else { 0.0 },
        });
    }
    out
}

/// Noise, quantisation and a floor at zero on top of a clean shape.
fn realise(rng: &mut SmallRng, clean: &[f64], kind: Counter, sd: f64, phi: f64) -> Vec<f64> {
    let noise = ar1_noise(rng, clean.len(), sd, phi, 0.01);
    let q = quantum(kind);
    clean
        .iter()
        .zip(noise)
        .map(|(c, e)| {
            if c.is_finite() {
                ((c + e).max(q) / q).round() * q
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// Builds one service of `family`. Labels carry `machine` empty and `instance` = image; the
/// log fills both in. The Private Bytes limit is set later from the Memory object.
pub fn service(
    rng: &mut SmallRng,
    family: Family,
    image: &str,
    grid: &Grid,
    recipe: &Recipe,
    pids: &mut dyn FnMut(&mut SmallRng) -> u32,
) -> ServiceSpec {
    let lifetimes = lifetimes(rng, family, grid, recipe, pids);
    let leaks = recipe.leaks.unwrap_or_else(|| {
        let r = rng.random::<f64>();
        (!(0.4..0.7).contains(&r), r >= 0.4)
    });
    let mut counters = Vec::new();
    let mut pb_clean = Vec::new();
    let span = grid.span_hours();
    for kind in SCORED {
        let (lo, hi) = base_range(kind);
        let (base_override, slope_override, leaks_here) = match kind {
            Counter::HandleCount => (recipe.hc_base, recipe.hc_slope, leaks.1),
            _ => (recipe.pb_base, recipe.pb_slope, leaks.0),
        };
        let base = base_override.unwrap_or_else(|| log_uniform(rng, lo, hi));
        let this_family = if family.is_leak() && !leaks_here {
            family.twin()
        } else {
            family
        };
        let phi = if matches!(this_family, Family::SlowLeak | Family::Flat) {
            uniform(rng, 0.0, 0.97)
        } else {
            uniform(rng, 0.0, 0.8)
        };
        let noise_frac = recipe
            .noise_frac
            .unwrap_or_else(|| log_uniform(rng, 0.005, 0.05));
        let sd = noise_frac * base;
        let input = ShapeInput {
            kind,
            base,
            noise_sd: sd,
            slope: slope_override,
            grid,
            lifetimes: &lifetimes,
            tau_frac: recipe.warm_up_tau_frac,
        };
        let s = shape(rng, this_family, &input);
        let mut clean = s.clean;
        for (i, v) in clean.iter_mut().enumerate() {
            if !lifetimes.iter().any(|l| l.start <= i && i < l.end) {
                *v = f64::NAN;
            }
        }
        let values = realise(rng, &clean, kind, sd, phi);
        let level_at_end = clean
            .iter()
            .rev()
            .find(|v| v.is_finite())
            .copied()
            .unwrap_or(base);
        let leak_hours = span - s.onset.unwrap_or(0.0);
        let snr = (s.truth == Truth::Leak && sd > 0.0).then(|| {
            s.slope
                * if this_family == Family::RestartLeak {
                    span / lifetimes.len() as f64
                } else {
                    leak_hours
                }
                / sd
        });
        let mut label = SeriesLabel {
            machine: String::new(),
            process: image.to_string(),
            instance: image.to_string(),
            counter: kind.name().to_string(),
            pids: lifetimes.iter().map(|l| l.pid).collect(),
            family: this_family,
            base_family: None,
            truth: s.truth,
            base,
            slope_per_hour: s.slope,
            onset_hours: s.onset,
            level_at_end,
            limit: None,
            time_to_limit_hours: None,
            noise_sd: sd,
            ar_phi: phi,
            snr,
            difficulty: snr.map(Difficulty::from_snr),
            params: s.params,
            note: s.note,
            clean_rise: (s.truth == Truth::Leak)
                .then(|| clean_rise(grid, &clean, lifetimes.iter().map(|l| (l.start, l.end))))
                .flatten(),
        };
        if kind == Counter::HandleCount {
            label.limit = Some(HANDLE_LIMIT);
            label.time_to_limit_hours = label.time_to(HANDLE_LIMIT);
        }
        if kind == Counter::PrivateBytes {
            pb_clean = clean.clone();
        }
        counters.push(ServiceCounter {
            counter: kind.name().into(),
            values,
            decimals: 0,
            label: Some(label),
        });
    }
    if recipe.companions {
        counters.extend(companions(rng, &pb_clean, &counters[1].values));
    }
    let missing_rate = recipe
        .missing_rate
        .unwrap_or_else(|| uniform(rng, 0.0, 0.02));
    let missing = (0..grid.samples)
        .map(|_| rng.random::<f64>() < missing_rate)
        .collect();
    ServiceSpec {
        image: image.to_string(),
        lifetimes,
        counters,
        missing,
    }
}

/// Virtual Bytes, Working Set, Thread Count and pool bytes that move with the scored counters.
fn companions(rng: &mut SmallRng, pb_clean: &[f64], handles: &[f64]) -> Vec<ServiceCounter> {
    let n = pb_clean.len();
    let reserve = log_uniform(rng, 20.0 * MB, 400.0 * MB);
    let ws_ratio = uniform(rng, 0.4, 1.1);
    let threads = uniform(rng, 3.0, 90.0).round();
    let per_handle_paged = uniform(rng, 40.0, 160.0);
    let noise = ar1_noise(rng, n, 0.02, 0.8, 0.0);
    let thread_noise = ar1_noise(rng, n, threads * 0.05, 0.5, 0.0);
    let virtual_bytes = pb_clean
        .iter()
        .map(|p| ((p + reserve) / 65536.0).round() * 65536.0)
        .collect();
    let working_set = pb_clean
        .iter()
        .zip(&noise)
        .map(|(p, e)| ((p * ws_ratio * (1.0 + e)) / PAGE).round() * PAGE)
        .collect();
    let thread_count = pb_clean
        .iter()
        .zip(&thread_noise)
        .map(|(p, e)| {
            if p.is_finite() {
                (threads + e).round().max(1.0)
            } else {
                f64::NAN
            }
        })
        .collect();
    let paged = handles
        .iter()
        .map(|h| {
            if h.is_finite() {
                (h * per_handle_paged + 20_000.0).round()
            } else {
                f64::NAN
            }
        })
        .collect();
    let nonpaged = handles
        .iter()
        .map(|h| {
            if h.is_finite() {
                (h * per_handle_paged * 0.15 + 3_000.0).round()
            } else {
                f64::NAN
            }
        })
        .collect();
    [
        ("Virtual Bytes", virtual_bytes),
        ("Working Set", working_set),
        ("Thread Count", thread_count),
        ("Pool Paged Bytes", paged),
        ("Pool Nonpaged Bytes", nonpaged),
    ]
    .into_iter()
    .map(|(name, values)| ServiceCounter {
        counter: name.into(),
        values,
        decimals: 0,
        label: None,
    })
    .collect()
}

/// Sets the Private Bytes limit of every service to the commit headroom at the end of the log
/// (commit limit - committed bytes + the process's own Private Bytes), as the forecast assumes.
pub fn set_commit_limits(services: &mut [ServiceSpec], commit_limit: f64, committed_at_end: f64) {
    for s in services {
        for c in &mut s.counters {
            if let Some(label) = c.label.as_mut() {
                if label.counter == Counter::PrivateBytes.name() {
                    let limit = commit_limit - committed_at_end + label.level_at_end;
                    label.limit = Some(limit);
                    label.time_to_limit_hours = label.time_to(limit);
                }
            }
        }
    }
}

/// Private Bytes of a service at sample `t` (0 when absent), summed into Committed Bytes.
pub fn logged_private_bytes(s: &ServiceSpec, t: usize) -> f64 {
    s.counters
        .iter()
        .find(|c| c.counter == Counter::PrivateBytes.name())
        .and_then(|c| c.values.get(t).copied())
        .filter(|v| v.is_finite())
        .unwrap_or(0.0)
}

pub fn draw_log_uniform(rng: &mut SmallRng, lo: f64, hi: f64) -> f64 {
    log_uniform(rng, lo, hi)
}

pub fn draw_uniform(rng: &mut SmallRng, lo: f64, hi: f64) -> f64 {
    uniform(rng, lo, hi)
}

/// One system-wide series (`Memory` pool or commit, `Process(_Total)` handles) of `family`,
/// with its label under the name a finding gives it (`System (pool)`): the machine's totals
/// take the shapes of one process's series, with less noise relative to their level.
pub fn system_series(
    rng: &mut SmallRng,
    family: Family,
    kind: Counter,
    base: f64,
    grid: &Grid,
) -> (Vec<f64>, SeriesLabel) {
    let span = grid.span_hours();
    let phi = uniform(rng, 0.0, 0.9);
    let sd = log_uniform(rng, 0.002, 0.03) * base;
    // One lifetime: the machine does not reboot inside the log.
    let lifetimes = [Lifetime {
        start: 0,
        end: grid.samples,
        pid: 0,
        age_hours: 24.0 * 30.0,
    }];
    let input = ShapeInput {
        kind,
        base,
        noise_sd: sd,
        slope: None,
        grid,
        lifetimes: &lifetimes,
        tau_frac: None,
    };
    let s = shape(rng, family, &input);
    let values = realise(rng, &s.clean, kind, sd, phi);
    let level_at_end = s.clean.last().copied().unwrap_or(base);
    let snr = (s.truth == Truth::Leak && sd > 0.0)
        .then(|| s.slope * (span - s.onset.unwrap_or(0.0)) / sd);
    let name = kind
        .system_area()
        .map(|a| a.process_name())
        .unwrap_or_default();
    let label = SeriesLabel {
        machine: String::new(),
        process: name.clone(),
        instance: name,
        counter: kind.name().to_string(),
        pids: Vec::new(),
        family,
        base_family: None,
        truth: s.truth,
        base,
        slope_per_hour: s.slope,
        onset_hours: s.onset,
        level_at_end,
        limit: None,
        time_to_limit_hours: None,
        noise_sd: sd,
        ar_phi: phi,
        snr,
        difficulty: snr.map(Difficulty::from_snr),
        params: s.params,
        note: s.note,
        clean_rise: (s.truth == Truth::Leak)
            .then(|| clean_rise(grid, &s.clean, std::iter::once((0, s.clean.len()))))
            .flatten(),
    };
    (values, label)
}

/// The most a least-squares line through the noise-free `clean` values of one of the
/// lifetimes (index ranges `runs`) rises over it; `None` without three values in any.
fn clean_rise(
    grid: &Grid,
    clean: &[f64],
    runs: impl Iterator<Item = (usize, usize)>,
) -> Option<f64> {
    runs.filter_map(|(start, end)| {
        let values = clean.get(start..end.min(clean.len()))?;
        let hours: Vec<f64> = (start..start + values.len())
            .map(|i| grid.hours(i))
            .collect();
        let (slope, _, _) = ols_fit(&hours, values)?;
        let finite = |i: &usize| values[*i].is_finite();
        let first = (0..values.len()).find(finite)?;
        let last = (0..values.len()).rfind(finite)?;
        Some(slope * (hours[last] - hours[first]))
    })
    .reduce(f64::max)
}
