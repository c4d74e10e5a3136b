//! Gate: stairs. Growth carried by a few large up-steps is a staircase (`stepwise`), not a
//! ramp: the steps spread over half the lifetime, or keep coming into its last third. A
//! staircase is still a leak candidate; four steps or fewer weaken it (a level shift with a blip
//! passes for two or three). Steps that also go down, by as much as they go up (a staircase
//! with a fall, or flat levels joined by several falls and rises), are a level that wanders
//! unless the plateau levels, few and each one observation, show a trend of their own
//! ([`wandering`]).

use super::super::stats::robust::{mad_sigma, median};
use super::super::stats::trend::mann_kendall_exact_p;
use super::{Outcome, Tested};
use crate::vocab::Shape;

/// Each step of a staircase that is still stepping up in its last third is at least this share
/// of the lifetime's growth (a noise blip next to one level shift is not a second step).
const LATE_STAIR_MIN_STEP: f64 = 0.1;
/// ...and at least this share of its largest step.
const LATE_STAIR_MIN_STEP_RATIO: f64 = 0.2;
/// Share of the growth the steps of such a staircase carry together: many of its steps are too
/// small to stand out from the noise, and its last steps are what a slope misses.
const LATE_STAIRS_STEP_SHARE: f64 = 0.3;

/// A fall at least this share of the staircase's median rise is comparable to its rises.
const COMPARABLE_FALL: f64 = 0.5;
/// One-sided exact Mann-Kendall p over the plateau levels above which they show no trend.
const PLATEAU_TREND_P: f64 = 0.05;
/// Levels joined by several falls are levels only when they drift, inside themselves, by less
/// than this share of the rises between them (a ramp cut by daily dips is no set of levels).
const LEVEL_DRIFT_SHARE: f64 = 0.25;

/// The up-steps of a lifetime's block series.
pub(super) struct Steps {
    /// Indices of the block differences that are up-steps.
    pub ups: Vec<usize>,
    /// Hours from the first step to the last.
    pub spread: f64,
    /// The steps make a staircase.
    pub stairs: bool,
    /// Why the staircase is a level that wanders, not growth (`None`: it is not one).
    pub wanders: Option<String>,
}

impl Steps {
    /// The rejection of a staircase whose levels wander.
    pub(super) fn rejected(&self) -> Option<Outcome> {
        self.wanders.as_ref().map(|reason| Outcome::Rejected {
            shape: Shape::LevelShift,
            reason: reason.clone(),
        })
    }
}

/// Steps among block differences, measured against the typical difference. `level` is the
/// lifetime's level (absolute), `growth` its growth at the overall slope.
pub(super) fn steps(g: &Tested, level: f64, growth: f64) -> Steps {
    let (t, x, m) = (g.t, g.x, g.x.len());
    let diffs: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let typical = median(&diffs).unwrap_or(0.0);
    let step_sigma = mad_sigma(&diffs).unwrap_or(0.0);
    let threshold = (6.0 * step_sigma).max(0.005 * level);
    let ups: Vec<usize> = (0..diffs.len())
        .filter(|&i| diffs[i] - typical > threshold)
        .collect();
    let downs = diffs.iter().filter(|&&d| typical - d > threshold).count();
    let step_total: f64 = ups.iter().map(|&i| diffs[i]).sum();
    let spread = match (ups.first(), ups.last()) {
        (Some(&a), Some(&b)) => t[b + 1] - t[a],
        _ => 0.0,
    };
    // Steps that carry the growth make a staircase when they spread over half the lifetime, or
    // when the last of them comes in the last third: growth that keeps stepping up has not
    // stopped, and two steps of a fair size are not one level shift.
    let late_stairs = || {
        let steps = step_runs(&ups, &diffs)?;
        let late = steps.last()?.0 + 1 >= m - m / 3;
        let smallest = steps.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
        let largest = steps.iter().map(|s| s.1).fold(0.0, f64::max);
        Some(
            steps.len() >= 2
                && late
                && smallest >= LATE_STAIR_MIN_STEP * growth
                && smallest >= LATE_STAIR_MIN_STEP_RATIO * largest,
        )
    };
    // (A spike's rise is undone at once: a late staircase has no sharp fall at all.)
    let stairs = downs <= 1
        && ((ups.len() >= 3 && spread >= 0.5 * g.span && step_total >= 0.5 * growth)
            || (downs == 0
                && step_total >= LATE_STAIRS_STEP_SHARE * growth
                && late_stairs() == Some(true)));
    // Levels that move both ways: a staircase with a fall, or flat levels with several falls
    // among their rises (not stairs, yet no ramp either).
    let wanders = if stairs && downs > 0 {
        wandering(x, &diffs, typical, threshold, false)
    } else if downs > 1 && ups.len() >= 2 {
        wandering(x, &diffs, typical, threshold, true)
    } else {
        None
    };
    Steps {
        ups,
        spread,
        stairs,
        wanders,
    }
}

/// A staircase with a fall comparable to its rises (at least [`COMPARABLE_FALL`] of the median
/// rise) is a level that moves both ways. A leak's staircase only climbs; levels drawn at
/// random also climb after a low one. Its evidence is then its plateau levels, one
/// observation each (the samples of a plateau say nothing about the next level): when an
/// exact Mann-Kendall test over them finds no trend (one-sided p above [`PLATEAU_TREND_P`]),
/// the growth is the levels wandering. Steps are runs of large block differences
/// (`threshold` from the `typical` difference) no more than two blocks apart, counted by
/// their net change. With `flat_levels` (steps that are not a staircase), the parts between
/// steps must be levels: drifting by under [`LEVEL_DRIFT_SHARE`] of the rises.
fn wandering(
    x: &[f64],
    diffs: &[f64],
    typical: f64,
    threshold: f64,
    flat_levels: bool,
) -> Option<String> {
    // (first difference, last difference, net change)
    let mut runs: Vec<(usize, usize, f64)> = Vec::new();
    for (i, &d) in diffs.iter().enumerate() {
        if (d - typical).abs() <= threshold {
            continue;
        }
        match runs.last_mut() {
            Some(r) if i <= r.1 + 2 => {
                r.1 = i;
                r.2 += d;
            }
            _ => runs.push((i, i, d)),
        }
    }
    // A run whose net change is within the threshold is a spike, not a step (it still
    // bounds the plateaus beside it).
    let rises: Vec<f64> = runs
        .iter()
        .filter(|r| r.2 > threshold)
        .map(|r| r.2)
        .collect();
    let fall = runs
        .iter()
        .filter(|r| r.2 < -threshold)
        .map(|r| -r.2)
        .fold(0.0, f64::max);
    let rise = median(&rises)?;
    if fall < COMPARABLE_FALL * rise {
        return None;
    }
    // Plateaus between the steps; a part under two blocks long is a spike, not a level.
    let mut levels = Vec::new();
    let mut drift = 0.0;
    let mut start = 0;
    for r in runs
        .iter()
        .map(|r| (r.0, r.1))
        .chain([(x.len() - 1, x.len())])
    {
        let part = &x[start..(r.0 + 1).min(x.len())];
        if part.len() >= 2 {
            levels.extend(median(part));
        }
        if part.len() >= 4 {
            drift += median(&part[part.len() / 2..])? - median(&part[..part.len() / 2])?;
        }
        start = r.1 + 1;
    }
    if flat_levels && drift > LEVEL_DRIFT_SHARE * rises.iter().sum::<f64>() {
        return None;
    }
    let p = mann_kendall_exact_p(&levels)?;
    (p > PLATEAU_TREND_P).then(|| {
        format!(
            "a level that wanders: it falls by {:.0}% of its typical rise, and its {} plateau levels show no trend of their own (exact Mann-Kendall p={:.2})",
            100.0 * fall / rise,
            levels.len(),
            p
        )
    })
}

/// The up-steps among block differences `diffs` at indices `ups` (in order), as (index of the
/// step's last difference, rise): a step that falls inside a block shows as two consecutive
/// differences and is one step. `None` when up-differences come closer than three blocks apart
/// over more than two differences: a ramp, not a step.
fn step_runs(ups: &[usize], diffs: &[f64]) -> Option<Vec<(usize, f64)>> {
    // (first difference, last difference, rise)
    let mut steps: Vec<(usize, usize, f64)> = Vec::new();
    for &i in ups {
        let d = *diffs.get(i)?;
        match steps.last_mut() {
            Some(last) if i <= last.1 + 2 => {
                last.1 = i;
                last.2 += d;
            }
            _ => steps.push((i, i, d)),
        }
    }
    if steps.iter().any(|s| s.1 - s.0 > 1) {
        return None;
    }
    Some(steps.into_iter().map(|s| (s.1, s.2)).collect())
}

#[cfg(test)]
mod tests {
    use super::super::super::stats::trend::SenSlope;
    use super::*;

    #[test]
    fn a_step_split_over_two_blocks_is_one_step_and_a_ramp_none() {
        let diffs = [0.0, 5.0, 4.0, 0.0, 0.0, 7.0, 0.0];
        assert_eq!(
            step_runs(&[1, 2, 5], &diffs),
            Some(vec![(2, 9.0), (5, 7.0)])
        );
        let ramp = [3.0, 3.0, 3.0, 3.0, 3.0, 3.0];
        assert_eq!(step_runs(&[0, 1, 2], &ramp), None);
        assert_eq!(step_runs(&[0, 2, 4], &ramp), None);
    }

    #[test]
    fn three_spread_steps_are_stairs_and_a_ramp_is_not() {
        let t: Vec<f64> = (0..48).map(f64::from).collect();
        let stairs: Vec<f64> = t
            .iter()
            .map(|h| 100.0 + 50.0 * (h / 12.0).floor())
            .collect();
        let sen = SenSlope {
            slope: 150.0 / 47.0,
            intercept: 100.0,
            lower: 2.0,
            upper: 4.0,
        };
        let g = Tested::new(&t, &stairs, sen, 47.0);
        let s = steps(&g, 175.0, 150.0);
        assert!(s.stairs);
        assert_eq!(s.ups, vec![11, 23, 35]);
        let ramp: Vec<f64> = t.iter().map(|h| 100.0 + 3.0 * h).collect();
        let g = Tested::new(&t, &ramp, sen, 47.0);
        assert!(!steps(&g, 175.0, 150.0).stairs);
    }

    #[test]
    fn a_staircase_that_falls_as_far_as_it_rises_wanders_and_one_that_climbs_does_not() {
        let t: Vec<f64> = (0..96).map(|i| f64::from(i) * 0.25).collect();
        let sen = SenSlope {
            slope: 2.0,
            intercept: 100.0,
            lower: 1.0,
            upper: 3.0,
        };
        let levels = |plateaus: &[f64]| -> Vec<f64> {
            (0..96usize)
                .map(|i| plateaus[i * plateaus.len() / 96] + [0.0, 0.4, -0.3, 0.1][i % 4])
                .collect()
        };
        // Up 40, down 45, up 35, up 15: five levels, S = 4 of at most 10 (p = 29/120).
        let wander = levels(&[100.0, 140.0, 95.0, 130.0, 145.0]);
        let g = Tested::new(&t, &wander, sen, 23.75);
        let s = steps(&g, 140.0, 60.0);
        assert!(s.stairs, "the staircase gate reads it as stairs");
        let why = s.wanders.clone().expect("a level that wanders");
        assert!(why.contains("5 plateau levels"), "{why}");
        assert!(matches!(
            s.rejected(),
            Some(Outcome::Rejected {
                shape: Shape::LevelShift,
                ..
            })
        ));
        // The same rises with a small dip: a climbing staircase.
        let climb = levels(&[100.0, 140.0, 135.0, 180.0, 220.0]);
        let g = Tested::new(&t, &climb, sen, 23.75);
        let s = steps(&g, 160.0, 110.0);
        assert!(s.stairs && s.wanders.is_none());
    }
}
