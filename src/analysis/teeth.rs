//! Blocks as wide as a sawtooth's teeth. A collected heap (GC, cache trims) rises and drops
//! back many times; its live set is the floor each collection leaves. Blocks of a few samples
//! hold a slice of one tooth, so their minima are not that floor and the teeth swamp the trend
//! test. When the lifetime's recurring drops are found, the blocks are widened to the longest
//! stretch between two drops: each block then holds a collection and its minimum is a floor
//! (the gates test floors where blocks spread that much: `gates::try_lifetime`).

use super::blocks::{aggregate, Blocks};
use super::hours_text;
use super::stats::robust::{mad_sigma, median};

/// A drop counts as a collection when it exceeds this many robust sigmas of the sample-to-sample
/// changes and [`DROP_SHARE`] of the level: the bars the gates use to call a block spread a
/// sawtooth.
const DROP_SIGMAS: f64 = 8.0;
const DROP_SHARE: f64 = 0.05;
/// Fewest drops that make teeth rather than a shift or two.
const MIN_DROPS: usize = 4;
/// Fewest tooth-wide blocks to test: the trend test's correction for autocorrelation and the
/// tail gate's last third need more points than a lifetime's fewest samples (12); on the tune
/// split, floors of 12-23 wide blocks of healthy sawtooths that wander passed for a late onset
/// as often as they found a leak.
const MIN_BLOCKS: usize = 24;
/// Coverage from which the gates take a daily profile out of the blocks (`gates::try_lifetime`):
/// it needs blocks by the hour of the day, which tooth-wide ones of an hour or two are not.
const PROFILE_COVERAGE_HOURS: f64 = 72.0;

/// `blocks` of the samples (`hours`, `values`), or the same samples in tooth-wide blocks when
/// the lifetime is a sawtooth of at least [`MIN_BLOCKS`] such blocks, `blocks` are narrower,
/// and it covers less than [`PROFILE_COVERAGE_HOURS`]; with the width (hours) when widened.
/// `change_sigma`, when the split computed it, is the robust sigma of these samples' changes.
pub(crate) fn widen(
    hours: &[f64],
    values: &[f64],
    blocks: Blocks,
    change_sigma: Option<f64>,
) -> (Blocks, Option<f64>) {
    match tooth_blocks(hours, values, change_sigma) {
        Some((count, widest)) if count < blocks.level.len() => {
            (aggregate(hours, values, count), Some(widest))
        }
        _ => (blocks, None),
    }
}

/// What the gates say when they test a sawtooth's `blocks` floors, `tooth` wide (hours) when
/// [`widen`] widened them.
pub(crate) fn floor_note(tooth: Option<f64>, blocks: usize) -> String {
    match tooth {
        Some(w) => format!(
            "sawtooth: tested the floor each collection left, in {blocks} blocks as wide as its longest tooth ({})",
            hours_text(w)
        ),
        None => "sawtooth: tested the post-collection floor".into(),
    }
}

/// How many blocks each hold a drop (the span over the longest stretch between two drops), and
/// that stretch in hours. Cheapest tests first: it runs on every lifetime under three days.
fn tooth_blocks(hours: &[f64], values: &[f64], change_sigma: Option<f64>) -> Option<(usize, f64)> {
    let n = values.len().min(hours.len());
    if n < 2 * MIN_BLOCKS {
        return None;
    }
    let span = hours[n - 1] - hours[0];
    if span * n as f64 / (n - 1) as f64 >= PROFILE_COVERAGE_HOURS {
        return None;
    }
    let sigma = match change_sigma {
        Some(s) => s,
        None => {
            let diffs: Vec<f64> = values[..n].windows(2).map(|w| w[1] - w[0]).collect();
            mad_sigma(&diffs)?
        }
    };
    // The bar is the larger of the two: drops past the sigma bar alone are the candidates.
    let fall = |i: usize| values[i] - values[i + 1];
    let candidates: Vec<usize> = (0..n - 1)
        .filter(|&i| fall(i) > DROP_SIGMAS * sigma)
        .collect();
    if candidates.len() < MIN_DROPS {
        return None;
    }
    let level = median(&values[..n])?.abs();
    let bar = (DROP_SIGMAS * sigma).max(DROP_SHARE * level);
    if bar.is_nan() || bar <= 0.0 {
        return None;
    }
    let drops: Vec<f64> = candidates
        .into_iter()
        .filter(|&i| fall(i) > bar)
        .map(|i| hours[i + 1])
        .collect();
    if drops.len() < MIN_DROPS {
        return None;
    }
    let widest = drops
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(0.0_f64, f64::max);
    if widest <= 0.0 {
        return None;
    }
    let count = (span / widest).floor() as usize;
    (count >= MIN_BLOCKS).then_some((count, widest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sawtooth over `hours` sampled every minute: teeth of `period` hours rising `amp` from a
    /// floor at 1000 + `drift` per hour.
    fn sawtooth(hours: f64, period: f64, amp: f64, drift: f64) -> (Vec<f64>, Vec<f64>) {
        let t: Vec<f64> = (0..=(hours * 60.0) as usize)
            .map(|i| i as f64 / 60.0)
            .collect();
        let x = t
            .iter()
            .map(|&h| 1000.0 + drift * h + amp * (h / period).fract() + 3.0 * (h * 97.0).sin())
            .collect();
        (t, x)
    }

    #[test]
    fn teeth_widen_the_blocks_to_hold_a_collection_each() {
        let (t, x) = sawtooth(8.0, 0.25, 300.0, 5.0);
        let narrow = aggregate(&t, &x, 180);
        let (wide, widest) = widen(&t, &x, narrow, None);
        assert!(
            widest.is_some_and(|w| (0.2..0.3).contains(&w)),
            "{widest:?}"
        );
        assert_eq!(wide.level.len(), 32, "8 h of 15-minute teeth");
        // Each block's minimum is a floor: they climb with the drift, not with the teeth.
        let (first, last) = (wide.floor[0], wide.floor[31]);
        assert!((25.0..45.0).contains(&(last - first)), "{:?}", wide.floor);
        let narrow_floor = aggregate(&t, &x, 180).floor;
        let swing = |f: &[f64]| {
            f.iter().fold(f64::MIN, |a, b| a.max(*b)) - f.iter().fold(f64::MAX, |a, b| a.min(*b))
        };
        assert!(swing(&wide.floor) < 60.0 && swing(&narrow_floor) > 250.0);
    }

    #[test]
    fn a_smooth_series_or_too_few_teeth_keep_their_blocks() {
        let (t, x) = sawtooth(8.0, 100.0, 300.0, 5.0);
        assert_eq!(
            widen(&t, &x, aggregate(&t, &x, 180), None).0.level.len(),
            180
        );
        let (t, x) = sawtooth(8.0, 0.5, 300.0, 5.0);
        assert_eq!(
            widen(&t, &x, aggregate(&t, &x, 180), None).0.level.len(),
            180
        );
    }
}
