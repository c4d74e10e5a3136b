//! Rule: recovery after a drop. A process whose memory is trimmed (a working-set trim, a heap
//! given back) or whose handles are closed in a batch falls sharply and then takes back what it
//! needs: it climbs back to the level it held before the drop and levels off there, slowing as
//! it nears it. A leak climbs past every level it held and keeps its rate. Growth after sharp
//! drops (inside the lifetime, or those the lifetime split cut at) is that recovery when the
//! series held the level before the first drop from its start, held no higher one before a
//! later drop, ends within noise of it (and most of the way back from the trough), and the
//! longest climb slows as it goes (an exponential approach to a level fits it better than a
//! line, beyond what the residuals' autocorrelation allows): `ok`, shape `warm-up`, reason code
//! `recovery`. Heard for strong and for weak growth, when every growing lifetime is one.

use super::super::amount;
use super::super::hours_text;
use super::super::lifetime::CutReason;
use super::super::stats::fit::{beats_line_p, line_fit};
use super::super::stats::lanes::{extremes, largest_fall};
use super::super::stats::robust::{mad_sigma, median, median_of_finite};
use super::{Evidence, Objection};
use crate::vocab::Shape;
use std::borrow::Cow;

/// A drop is sharp when one sample falls by this many robust sigmas of the sample-to-sample
/// changes (as the lifetime split and the sawtooth reading count a drop)...
const DROP_SIGMAS: f64 = 8.0;
/// ...and by at least this share of the level held just before it (the sawtooth reading's).
const DROP_SHARE: f64 = 0.05;
/// Samples before a drop whose median is the level held there, at most.
const HELD_WINDOW: usize = 12;
/// Noise sigmas the end may sit above the held level and still be "at" it.
const AT_LEVEL_SIGMAS: f64 = 2.0;
/// Points the climb after the last drop is judged on, at most (block medians).
const CLIMB_POINTS: usize = 120;
/// The climb must have at least this many points to show its curvature.
const MIN_CLIMB_POINTS: usize = 12;
/// The slowing must be this unlikely under a straight line (one-sided F test of the curvature).
const SLOWING_P: f64 = 1e-3;

/// What a recovery climbed back to, and from which drop.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Recovery {
    /// Hour of the first sharp drop.
    pub drop_hours: f64,
    /// The level held before the first drop.
    pub held: f64,
    /// The level the climb ended at (median of the lifetime's last tenth).
    pub reached: f64,
    /// p of the slowing under a straight line.
    pub slowing_p: f64,
}

pub(crate) fn objects(e: &Evidence, best: usize) -> Option<Objection> {
    let r = recovery(e, best)?;
    // Another growing lifetime that is no recovery still speaks for a leak.
    if e.passing
        .iter()
        .any(|&i| i != best && recovery(e, i).is_none())
    {
        return None;
    }
    let kind = e.s.kind;
    Some(Objection {
        confidence: 0.6,
        shape: Some(Shape::WarmUp),
        code: "recovery",
        reason: format!(
            "a recovery, not a leak: climbed back to {}, no higher than the {} it held before the drop at {}, and levelled off (the climb slows as a return to a level does; p={:.0e} under a straight line)",
            amount(kind, r.reached),
            amount(kind, r.held),
            hours_text(r.drop_hours),
            r.slowing_p
        ),
    })
}

/// The recovery lifetime `i` of the series shows, if it is one.
fn recovery(e: &Evidence, i: usize) -> Option<Recovery> {
    // A lifetime read alone that the trial's look passed over needs no decoding.
    if first_read(e, i)? == i && e.lifetime(i).recovery_passed_over {
        return None;
    }
    let values = e.values();
    let v = sample_values(e, values, i)?;
    if passed_over(&v) {
        return None;
    }
    let n = v.len();
    let tail = (n / 10).max(3);
    let diffs: Vec<f64> = v.windows(2).map(|w| w[1] - w[0]).collect();
    let change_sigma = mad_sigma(&diffs)?;
    let drops = sharp_drops(&v, change_sigma);
    // The drops the growth follows: not those in the last tenth, which the end's level reads.
    let before_end = drops.partition_point(|&k| k < n - tail);
    let &first = drops.first()?;
    if before_end == 0 {
        return None;
    }
    // The level held before each drop: the median of the samples since the drop before it.
    let mut held = Vec::with_capacity(before_end);
    let mut since = 0;
    for &k in &drops[..before_end] {
        held.push(median(&v[since.max(k.saturating_sub(HELD_WINDOW))..k])?);
        since = k;
    }
    let level = held[0];
    // Sample noise from the changes: a level's spread, free of the climb's trend.
    let noise = change_sigma / std::f64::consts::SQRT_2;
    let slack = AT_LEVEL_SIGMAS * noise;
    // The series held that level from its start (growth before the drop is a leak that a
    // restart or a dip interrupted), came back to no higher one before a later drop (rising
    // tops are a sawtooth that leaks) and ends at it: not clearly above, and most of the way
    // back from the trough.
    let start = median(&v[..first.min(HELD_WINDOW)])?;
    let trough = v[first..].iter().copied().fold(f64::INFINITY, f64::min);
    let reached = median(&v[n - tail..])?;
    let highest = held.iter().copied().fold(level, f64::max);
    if start < level - slack
        || highest > level + slack
        || reached > level + slack
        || reached - trough < 0.5 * (level - trough)
    {
        return None;
    }
    // The longest climb between drops (or from the last one to the end) shows the slowing.
    let climb = drops[..before_end]
        .iter()
        .enumerate()
        .map(|(j, &k)| (k, drops.get(j + 1).copied().unwrap_or(n)))
        .max_by_key(|(a, b)| b - a)?;
    let origin = e
        .log
        .elapsed_seconds
        .iter()
        .copied()
        .find(|s| s.is_finite())?;
    let t = samples(e, values, i, |_, s| (s - origin) / 3600.0)?;
    let slowing_p = slowing_p(&t[climb.0..climb.1], &v[climb.0..climb.1])?;
    (slowing_p <= SLOWING_P).then(|| Recovery {
        drop_hours: t[first],
        held: level,
        reached,
        slowing_p,
    })
}

/// One number per sample of lifetime `i`, preceded by the lifetimes before it as long as the
/// split cut between them at sharp drops (a restart read from a drop alone may be a trim):
/// `read(value, seconds)` of each sample whose value and time are both known. The values are
/// read first and the hours only for the few lifetimes that pass the quick looks.
fn samples(
    e: &Evidence,
    values: &[f64],
    i: usize,
    read: impl Fn(f64, f64) -> f64,
) -> Option<Vec<f64>> {
    let lifetimes = &e.s.split.lifetimes;
    let from = first_read(e, i)?;
    let seconds = &e.log.elapsed_seconds;
    let mut out = Vec::with_capacity(values.len());
    for r in lifetimes[from..=i].iter().flat_map(|l| l.runs()) {
        let end = r.end.min(values.len()).min(seconds.len());
        let (v, s) = (
            &values[r.start.min(end)..end],
            &seconds[r.start.min(end)..end],
        );
        // A run of known samples (most) is read in one go, without a check per sample.
        if all_known(v) && all_known(s) {
            out.extend(v.iter().zip(s).map(|(&x, &s)| read(x, s)));
        } else {
            let known = v
                .iter()
                .zip(s)
                .filter(|(x, s)| x.is_finite() && s.is_finite());
            out.extend(known.map(|(&x, &s)| read(x, s)));
        }
    }
    Some(out)
}

/// Whether every value is a number (a fold without early exit: one vectorised pass).
fn all_known(v: &[f64]) -> bool {
    v.iter().fold(true, |ok, x| ok & x.is_finite())
}

/// The values [`samples`] reads, borrowed where they are one gapless run of known samples
/// (most lifetimes): the quick looks then copy nothing.
fn sample_values<'a>(e: &Evidence, values: &'a [f64], i: usize) -> Option<Cow<'a, [f64]>> {
    let lifetimes = &e.s.split.lifetimes;
    if first_read(e, i)? == i {
        if let Some(r) = lifetimes[i].contiguous() {
            if let (Some(v), Some(s)) = (values.get(r.clone()), e.log.elapsed_seconds.get(r)) {
                if all_known(v) && all_known(s) {
                    return Some(Cow::Borrowed(v));
                }
            }
        }
    }
    samples(e, values, i, |x, _| x).map(Cow::Owned)
}

/// The first lifetime [`samples`] reads for lifetime `i`: the earliest of those before it
/// that the split cut from each other at sharp drops.
fn first_read(e: &Evidence, i: usize) -> Option<usize> {
    let lifetimes = &e.s.split.lifetimes;
    lifetimes.get(i)?;
    let cut_at_drop = |j: usize| {
        lifetimes[j].indices().next().is_some_and(|first| {
            e.s.split
                .cuts
                .iter()
                .any(|&(k, why)| k == first && why == CutReason::SharpDrop)
        })
    };
    let mut from = i;
    while from > 0 && cut_at_drop(from) {
        from -= 1;
    }
    Some(from)
}

/// Whether the quick looks pass over samples `v` (a lifetime's, in order): too few, or (most
/// growing series) an end far above the start, or no fall by a drop's share of the level. They
/// come before the noise scale is read.
pub(crate) fn passed_over(v: &[f64]) -> bool {
    let tail = (v.len() / 10).max(3);
    v.len() < MIN_CLIMB_POINTS + tail || ends_too_high(v, tail) || !falls_by_a_share(v)
}

/// Whether any sample lies [`DROP_SHARE`] below the highest of the five before it: what
/// [`sharp_drops`] needs of a fall from the median of those five, read without a sort.
fn falls_by_a_share(v: &[f64]) -> bool {
    // A stretch whose values (with the five before it) are positive and never differ by the
    // share holds no such sample: one pass over its extremes spares the windows (the values
    // are known numbers).
    (1..v.len()).step_by(FALL_CHUNK).any(|from| {
        let to = (from + FALL_CHUNK).min(v.len());
        let (lowest, highest) = extremes(&v[from.saturating_sub(5)..to]);
        (lowest <= 0.0 || lowest <= (1.0 - DROP_SHARE) * highest)
            && (from..to).any(|k| {
                let top = v[k.saturating_sub(5)..k]
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max);
                top <= 0.0 || v[k] <= (1.0 - DROP_SHARE) * top
            })
    })
}

/// Samples per stretch [`falls_by_a_share`] checks at once.
const FALL_CHUNK: usize = 64;

/// Whether the end (median of the last `tail` samples) stands above the series' start by
/// more than any noise scale its largest fall allows: the start (at most the highest of its
/// first [`HELD_WINDOW`] samples) and the end must both sit within [`AT_LEVEL_SIGMAS`] of the
/// held level, and a drop's [`DROP_SIGMAS`] bound the sigma from above. A leak, whose end
/// stands far above its start, is passed over before the noise scale is read.
fn ends_too_high(v: &[f64], tail: usize) -> bool {
    let largest_fall = largest_fall(v);
    let start_at_most = v[..v.len().min(HELD_WINDOW)]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let noise_at_most = largest_fall / DROP_SIGMAS / std::f64::consts::SQRT_2;
    median(&v[v.len() - tail..])
        .is_some_and(|end| end - start_at_most > 2.0 * AT_LEVEL_SIGMAS * noise_at_most)
}

/// Positions of sharp drops: one sample falling by [`DROP_SIGMAS`] of the changes
/// and [`DROP_SHARE`] of the level before it, and the next sample staying down (a lone low
/// sample is an outlier).
fn sharp_drops(v: &[f64], change_sigma: f64) -> Vec<usize> {
    (1..v.len())
        .filter(|&k| {
            let fall = v[k - 1] - v[k];
            if fall <= DROP_SIGMAS * change_sigma {
                return false;
            }
            let local = median_of_finite(&v[k.saturating_sub(5)..k]).unwrap_or(v[k - 1]);
            let halfway = (v[k] + local) / 2.0;
            local - v[k] >= DROP_SHARE * local.abs() && v.get(k + 1).is_none_or(|&x| x < halfway)
        })
        .collect()
}

/// p of the climb's slowing under a straight line: an approach to a level, a + b e^(-t/tau)
/// (b < 0: rising and slowing; tau searched), against the line it nests as tau grows, by an F
/// test whose statistic is shrunk for the residuals' lag-1 autocorrelation. `None` when the
/// climb is too short or no rising approach fits.
fn slowing_p(t: &[f64], v: &[f64]) -> Option<f64> {
    let (t, v) = blocks(t, v);
    let n = v.len();
    if n < MIN_CLIMB_POINTS {
        return None;
    }
    let line = line_fit(&t, &v)?;
    let (t0, span) = (t[0], t[n - 1] - t[0]);
    if line.slope <= 0.0 || span <= 0.0 {
        return None;
    }
    let approach = |tau: f64| -> Vec<f64> { t.iter().map(|ti| (-(ti - t0) / tau).exp()).collect() };
    // Time constants from a fiftieth of the climb to three times it.
    let (fit, x) = (0..=40)
        .map(|j| approach(span * 0.02 * 150f64.powf(f64::from(j) / 40.0)))
        .filter_map(|x| Some((line_fit(&x, &v).filter(|f| f.slope < 0.0)?, x)))
        .min_by(|a, b| a.0.rss.total_cmp(&b.0.rss))?;
    if !(fit.rss > 0.0 && fit.rss < line.rss) {
        return None;
    }
    beats_line_p(line.rss, fit.rss, &fit.residuals(&x, &v))
}

/// Medians of consecutive blocks of samples, at most [`CLIMB_POINTS`] of them.
fn blocks(t: &[f64], v: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let width = v.len().div_ceil(CLIMB_POINTS).max(1);
    t.chunks(width)
        .zip(v.chunks(width))
        .filter_map(|(tc, vc)| Some((median(tc)?, median(vc)?)))
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` samples a quarter hour apart of `f(h)` plus deterministic noise of about `sd`.
    fn series(n: usize, sd: f64, f: impl Fn(f64) -> f64) -> (Vec<f64>, Vec<f64>) {
        let mut state: u64 = 7;
        (0..n)
            .map(|i| {
                state = (state * 1_103_515_245 + 12_345) % (1 << 31);
                let u = state as f64 / (1u64 << 31) as f64 - 0.5;
                let h = i as f64 / 4.0;
                (h, f(h) + 3.46 * sd * u)
            })
            .unzip()
    }

    #[test]
    fn a_return_to_a_level_slows_and_a_line_does_not() {
        let (t, v) = series(40, 5.0, |h| 2000.0 - 800.0 * (-h / 3.0).exp());
        assert!(slowing_p(&t, &v).is_some_and(|p| p < 1e-6));
        let (t, v) = series(40, 5.0, |h| 1200.0 + 80.0 * h);
        assert!(slowing_p(&t, &v).is_none_or(|p| p > SLOWING_P));
        // A climb that speeds up is no approach to a level either.
        let (t, v) = series(40, 5.0, |h| 1200.0 + 8.0 * h * h);
        assert!(slowing_p(&t, &v).is_none_or(|p| p > SLOWING_P));
    }

    #[test]
    fn a_drop_is_sharp_when_it_stays_down_not_for_a_lone_low_sample() {
        let mut v = vec![
            1000.0, 1002.0, 998.0, 1001.0, 999.0, 1000.0, 700.0, 710.0, 720.0,
        ];
        assert_eq!(sharp_drops(&v, 2.0), vec![6]);
        v[7] = 1000.0;
        v[8] = 1001.0;
        assert_eq!(sharp_drops(&v, 2.0), Vec::<usize>::new());
        // Under 5 % of the level is no drop, however quiet the series.
        let v = [1000.0, 1000.0, 1000.0, 970.0, 970.0];
        assert_eq!(sharp_drops(&v, 0.0), Vec::<usize>::new());
        // The quick look that passes most series over sees the same: a 30 % fall, not a 3 %
        // one, nor a climb.
        let v = [1000.0, 1002.0, 998.0, 1001.0, 999.0, 1000.0, 700.0, 710.0];
        assert!(falls_by_a_share(&v));
        assert!(!falls_by_a_share(&[1000.0, 1000.0, 1000.0, 970.0, 970.0]));
        assert!(!falls_by_a_share(&[1.0, 2.0, 3.0, 2.9, 4.0]));
    }
}
