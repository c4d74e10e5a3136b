//! Gate: stairs. Growth carried by a few large up-steps is a staircase (`stepwise`), not a
//! ramp: the steps spread over half the lifetime, or keep coming into its last third. A
//! staircase is still a leak candidate; four steps or fewer weaken it (a level shift with a blip
//! passes for two or three).

use super::super::stats::robust::{mad_sigma, median};
use super::Tested;

/// Each step of a staircase that is still stepping up in its last third is at least this share
/// of the lifetime's growth (a noise blip next to one level shift is not a second step).
const LATE_STAIR_MIN_STEP: f64 = 0.1;
/// ...and at least this share of its largest step.
const LATE_STAIR_MIN_STEP_RATIO: f64 = 0.2;
/// Share of the growth the steps of such a staircase carry together: many of its steps are too
/// small to stand out from the noise, and its last steps are what a slope misses.
const LATE_STAIRS_STEP_SHARE: f64 = 0.3;

/// The up-steps of a lifetime's block series.
pub(super) struct Steps {
    /// Indices of the block differences that are up-steps.
    pub ups: Vec<usize>,
    /// Hours from the first step to the last.
    pub spread: f64,
    /// The steps make a staircase.
    pub stairs: bool,
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
    Steps {
        ups,
        spread,
        stairs,
    }
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
}
