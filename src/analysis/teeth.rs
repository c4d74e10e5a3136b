//! Blocks as wide as a sawtooth's teeth. A collected heap (GC, cache trims) rises and drops
//! back many times; its live set is the floor each collection leaves. Blocks of a few samples
//! hold a slice of one tooth, so their minima are not that floor and the teeth swamp the trend
//! test. When the lifetime's recurring drops are found, the blocks are widened to the longest
//! stretch between two drops: each block then holds a collection and its minimum is a floor
//! (the gates test floors where blocks spread that much: `gates::try_lifetime`).
//!
//! Where the split knows the teeth (sharp drops inside one life: those the process's other
//! counters refute as restarts, or its identity or their recurrence shows it lived through:
//! `lifetime::Lifetimes::drops_inside`), what the process keeps is the floor each tooth between
//! its collections reaches, tested for a rise over the teeth ([`Floors`]).

use super::blocks::{aggregate, Blocks};
use super::limit::practical_growth;
use super::stats::lanes::extremes;
use super::stats::robust::{mad_sigma, median, median_of_finite};
use super::stats::trend::{mann_kendall_exact_p, mk_variance, sen_slope, sen_slope_is, SenSlope};
use super::{hours_text, Q_SUSPECT};
use crate::vocab::Counter;
use std::sync::OnceLock;

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

/// The floors of a sawtooth whose teeth are known: the drops inside one life, and every
/// collection between them, cut the series into teeth, and each tooth's floor is what the
/// process kept then.
#[derive(Debug, Clone)]
pub(crate) struct Floors {
    /// Each tooth's floor, in time order (the first tooth runs from the log's start, and is left
    /// out where four teeth or more a drop began have one; a tooth of one sample has none).
    pub floors: Vec<f64>,
    /// When each floor was reached (hours).
    pub hours: Vec<f64>,
    /// The split's drops among those that cut the teeth (a drop read twice counted once).
    pub drops: usize,
    /// One-sided exact Mann-Kendall p over them (`None` under three).
    pub p: Option<f64>,
    /// The first tooth, which began where the log did, is among them.
    pub from_start: bool,
    /// The last tooth, which runs to the series' end, has climbed past every level an earlier
    /// tooth held ([`climbs_past`]): a leak begun after the last collection.
    pub climbs_past: bool,
    /// They rise: exact Mann-Kendall p <= [`Q_SUSPECT`] or, with teeth too few for any
    /// ordering to reach it (three floors reach 1/6 at best), every floor above the one before;
    /// and by a leak's size where their rate can be read (not [`Floors::small`]).
    pub rises: bool,
    /// In order, but rising, at their Sen rate from the first floor to the last, by less than
    /// the least a leak must grow (`limit::practical_growth` of their level, what the gates ask
    /// of any growth): four floors in order by chance rise by a fraction of a percent.
    pub small: bool,
    /// [`Floors::rate`], once read: several rules ask, and a heap collected every few minutes
    /// has hundreds of floors, whose pairwise slopes are the cost.
    rate: OnceLock<Option<SenSlope>>,
}

/// Fewest samples of a tooth: the process's other counters are read over three samples either
/// side of a drop, and a drop closer than that to the one before is the same drop.
const MIN_TOOTH_SAMPLES: usize = 3;
/// Teeth begun by a drop, each with a floor, from which the floors are read from them alone:
/// four, the fewest whose exact Mann-Kendall can find a rise at p <= 0.05 (1/24 at best).
const MIN_BEGUN_TEETH: usize = 4;

/// The floors of the teeth of `values` (a `kind` counter sampled at `hours`) between the sharp
/// drops inside one life at samples `drops` (ascending) and the collections between them
/// ([`collections`]), `None` without a drop or with a tooth holding no number.
/// `change_sigma`, when the split computed it over every sample, is the robust sigma of the
/// changes from one value to the next.
pub(crate) fn floors(
    hours: &[f64],
    values: &[f64],
    drops: &[usize],
    (kind, change_sigma): (Counter, Option<f64>),
) -> Option<Floors> {
    if drops.is_empty() {
        return None;
    }
    // A drop straddling two samples is read twice: the second opens no tooth of its own. (A
    // drop at the log's end opens one: where the collection left the heap is its floor.)
    let opened = |cuts: &[usize]| {
        let mut bounds: Vec<usize> = vec![0];
        for &d in cuts {
            if d >= bounds[bounds.len() - 1] + MIN_TOOTH_SAMPLES && d < values.len() {
                bounds.push(d);
            }
        }
        bounds.push(values.len());
        bounds
    };
    // The split's drops, as the reasons count them; the teeth are cut at every collection.
    let split_drops = opened(drops).len() - 2;
    let bounds = opened(&collections(values, drops, change_sigma));
    let teeth: Vec<Option<(f64, f64)>> = bounds
        .windows(2)
        .map(|w| {
            let mut v: Vec<(f64, f64)> = (w[0]..w[1].min(hours.len()))
                .map(|i| (values[i], hours[i]))
                .filter(|(x, h)| x.is_finite() && h.is_finite())
                .collect();
            second_lowest(&mut v)
        })
        .collect();
    // The first tooth began where the log did, often part way up a climb, not where a
    // collection left the heap: where enough teeth a drop began have a floor, they alone are
    // read.
    let begun = teeth[1..].iter().flatten().count();
    let first = usize::from(begun >= MIN_BEGUN_TEETH);
    let (floors, hours): (Vec<f64>, Vec<f64>) = teeth[first..].iter().flatten().copied().unzip();
    if floors.is_empty() {
        return None;
    }
    let p = mann_kendall_exact_p(&floors);
    let every_higher = floors.windows(2).all(|w| w[1] > w[0]);
    let mut out = Floors {
        rises: every_higher || p.is_some_and(|p| p <= Q_SUSPECT),
        small: false,
        p,
        floors,
        hours,
        drops: split_drops,
        from_start: first == 0,
        climbs_past: climbs_past(values, bounds[bounds.len() - 2]),
        rate: OnceLock::new(),
    };
    if out.rises {
        let span = out.hours[out.hours.len() - 1] - out.hours[0];
        out.small = match (out.rate(), median(&out.floors)) {
            (Some(rate), Some(level)) => rate.slope * span < practical_growth(kind, level),
            _ => false,
        };
        out.rises = !out.small;
    }
    Some(out)
}

impl Floors {
    /// `below` of the slope of [`Floors::rate`], for a threshold test (true up to some slope):
    /// the pairwise slopes counted against it, without keying and selecting them or the
    /// interval's ranks, Var(S) and intercept (see [`sen_slope_is`]).
    pub fn slope_is(&self, below: impl Fn(f64) -> bool) -> Option<bool> {
        if let Some(rate) = self.rate.get() {
            return rate.map(|r| below(r.slope));
        }
        (self.floors.len() >= 3)
            .then(|| sen_slope_is(&self.hours, &self.floors, below))
            .flatten()
    }

    /// The rate the floors rise at: Sen's slope over them against the hours they were reached,
    /// with its 95 % interval from the floors' own Var(S) (each floor is left by another
    /// collection: the exact test over them takes them as independent too). `None` under three
    /// floors, whose one or two slopes are no interval.
    pub fn rate(&self) -> Option<SenSlope> {
        *self.rate.get_or_init(|| {
            if self.floors.len() < 3 {
                return None;
            }
            sen_slope(&self.hours, &self.floors, mk_variance(&self.floors), 0.95)
        })
    }
}

/// Every collection of a series whose teeth the drops `drops` (sample indices, ascending) are
/// known to cut: those drops and each fall between them past the bar the blocks call a
/// sawtooth's ([`DROP_SIGMAS`] robust sigmas of the changes and [`DROP_SHARE`] of the level).
/// The split's drops fall 30 % and more, the bar for a restart; a heap collected every few
/// minutes falls by less most times, and a part between two such drops then spans many teeth,
/// whose lowest number is the deepest of their floors, not what the process kept then.
/// `change_sigma`: the robust sigma of every change from one value to the next, when known.
fn collections(values: &[f64], drops: &[usize], change_sigma: Option<f64>) -> Vec<usize> {
    let fall = |i: usize| values[i - 1] - values[i];
    let sigma = change_sigma.or_else(|| {
        let diffs: Vec<f64> = values
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|x| x.is_finite())
            .collect();
        mad_sigma(&diffs)
    });
    let (Some(sigma), Some(level)) = (sigma, median_of_finite(values).map(f64::abs)) else {
        return drops.to_vec();
    };
    let bar = (DROP_SIGMAS * sigma).max(DROP_SHARE * level);
    if bar.is_nan() || bar <= 0.0 {
        return drops.to_vec();
    }
    let mut all: Vec<usize> = (1..values.len()).filter(|&i| fall(i) > bar).collect();
    all.extend_from_slice(drops);
    all.sort_unstable();
    all.dedup();
    all
}

/// Whether the tooth from sample `last_cut` (the last collection) to the series' end has climbed
/// past every level an earlier tooth held (its upper decile above their highest sample): a
/// collected heap fills to about where it was collected before, a leak climbs past it. Read
/// here, where the trial has the values, so that the rule decodes none.
fn climbs_past(values: &[f64], last_cut: usize) -> bool {
    if last_cut == 0 {
        return false;
    }
    let (earlier, last) = values.split_at(last_cut.min(values.len()));
    // The largest number from eight lanes; only an infinity there needs the finite ones alone.
    let before = match extremes(earlier).1 {
        f64::INFINITY => earlier
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(f64::NEG_INFINITY, f64::max),
        highest => highest,
    };
    let mut last: Vec<f64> = last.iter().copied().filter(|x| x.is_finite()).collect();
    if last.is_empty() {
        return false;
    }
    let k = last.len() * 9 / 10;
    let upper = *last.select_nth_unstable_by(k, f64::total_cmp).1;
    upper > before
}

/// The floor of a tooth: where the collection that began it left the heap, its lowest number
/// but one (a lone sample may dip below, as a trim's working set pages back in at once). The
/// same measure for a tooth of two samples as for one of a hundred: a share of a tooth (its
/// lower decile) reads a long tooth's floor part way up its climb and a short one's at the
/// bottom, which hid floors that rose. A lone sample (a drop at the log's end) has none. Of
/// (value, hours) pairs: the floor and when it was reached.
fn second_lowest(v: &mut [(f64, f64)]) -> Option<(f64, f64)> {
    if v.len() < 2 {
        return None;
    }
    Some(*v.select_nth_unstable_by(1, |a, b| a.0.total_cmp(&b.0)).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_begun_part_way_up_a_climb_reads_the_teeth_a_collection_began() {
        // Six teeth of 20 samples whose floors rise 10 a tooth; the log began 60 above the
        // first tooth's floor, part way up its climb.
        let values: Vec<f64> = (0..120)
            .map(|i| {
                let begun_late = if i < 20 { 60.0 } else { 0.0 };
                1000.0 + 10.0 * (i / 20) as f64 + 5.0 * (i % 20) as f64 + begun_late
            })
            .collect();
        let hours: Vec<f64> = (0..120).map(f64::from).collect();
        let f = floors(
            &hours,
            &values,
            &[20, 40, 60, 80, 100],
            (Counter::HandleCount, None),
        )
        .unwrap();
        assert!(!f.from_start);
        assert_eq!(f.floors, vec![1015.0, 1025.0, 1035.0, 1045.0, 1055.0]);
        assert_eq!(f.p, Some(1.0 / 120.0));
        assert!(f.rises);
        // Three teeth a drop began are too few to leave the first out.
        let short = floors(
            &hours[..80],
            &values[..80],
            &[20, 40, 60],
            (Counter::HandleCount, None),
        )
        .unwrap();
        assert!(short.from_start && short.floors.len() == 4);
    }

    #[test]
    fn the_floors_of_known_teeth_rise_or_stay() {
        // Four teeth of 20 samples climbing 100 from a floor.
        let teeth = |rise: f64| -> Vec<f64> {
            (0..80)
                .map(|i| 1000.0 + rise * (i / 20) as f64 + 5.0 * (i % 20) as f64)
                .collect()
        };
        let drops = [20, 40, 60];
        let hours: Vec<f64> = (0..80).map(f64::from).collect();
        let floors = |values: &[f64], drops: &[usize]| {
            floors(&hours, values, drops, (Counter::HandleCount, None))
        };
        let level = floors(&teeth(0.0), &drops).unwrap();
        assert_eq!(level.floors, vec![1005.0; 4]);
        assert!(!level.rises, "{level:?}");
        let rising = floors(&teeth(30.0), &drops).unwrap();
        assert_eq!(rising.p, Some(1.0 / 24.0));
        assert!(rising.rises);
        // Each floor a tooth's second sample, 20 h after the one before and 30 above it: the
        // floors rise 1.5 an hour, where the teeth climb 5.
        assert_eq!(rising.hours, vec![1.0, 21.0, 41.0, 61.0]);
        let rate = rising.rate().unwrap();
        assert_eq!((rate.slope, rate.lower, rate.upper), (1.5, 1.5, 1.5));
        assert_eq!(level.rate().unwrap().slope, 0.0);
        // In order, but 3 over a level of 1000 (0.3 %): under a leak's size, not a rise.
        let slight = floors(&teeth(1.0), &drops).unwrap();
        assert_eq!(slight.p, Some(1.0 / 24.0));
        assert!(slight.small && !slight.rises, "{slight:?}");
        assert!(!rising.small);
        // One climb given back: the tooth after the drop stands below the climb's floor.
        let given: Vec<f64> = (0..40)
            .map(|i| {
                if i < 20 {
                    1000.0 + 10.0 * i as f64
                } else {
                    1000.0
                }
            })
            .collect();
        let back = floors(&given, &[20]).unwrap();
        assert_eq!((back.p, back.rises), (None, false));
        assert!(floors(&given, &[]).is_none());
        // A drop read again a sample later opens no tooth.
        let again = floors(&given, &[20, 21]).unwrap();
        assert_eq!(
            (again.floors, again.hours, again.drops, again.p),
            (back.floors.clone(), back.hours.clone(), back.drops, back.p)
        );
        // A drop at the last sample opens a tooth of one sample, which has no floor.
        let end = floors(&given, &[20, 39]).unwrap();
        assert_eq!((end.floors, end.drops), (back.floors, 2));
    }

    #[test]
    fn every_collection_cuts_a_tooth_not_only_the_drops_the_split_found() {
        // Six teeth of 20 samples climbing 100 from floors that rise 10 a tooth; the split
        // found one drop (the others fell short of its 30 %).
        let values: Vec<f64> = (0..120)
            .map(|i| 1000.0 + 10.0 * (i / 20) as f64 + 5.0 * (i % 20) as f64)
            .collect();
        let hours: Vec<f64> = (0..120).map(f64::from).collect();
        let f = floors(&hours, &values, &[60], (Counter::HandleCount, None)).unwrap();
        assert_eq!(f.floors, vec![1015.0, 1025.0, 1035.0, 1045.0, 1055.0]);
        // The last tooth (from sample 100) tops out 10 above the one before: past it.
        assert_eq!((f.drops, f.climbs_past), (1, true));
        assert!(f.rises);
        // The split's drop and the four that fell short of its bar.
        assert_eq!(collections(&values, &[60], None), vec![20, 40, 60, 80, 100]);
    }

    #[test]
    fn a_last_tooth_climbs_past_where_it_tops_every_earlier_one() {
        // Three teeth of 20 samples climbing 100 from 1000, the last from `at`.
        let teeth = |last_floor: f64| -> Vec<f64> {
            (0..60)
                .map(|i| if i < 40 { 1000.0 } else { last_floor } + 5.0 * (i % 20) as f64)
                .collect()
        };
        assert!(!climbs_past(&teeth(1000.0), 40));
        assert!(climbs_past(&teeth(1010.0), 40));
        // Its upper decile decides, not one high sample; no earlier tooth, no climb past.
        let mut spike = teeth(1000.0);
        spike[59] = 5000.0;
        assert!(!climbs_past(&spike, 40));
        assert!(!climbs_past(&teeth(1010.0), 0));
        // An infinity earlier is no level a tooth held; a NaN is passed over.
        let mut odd = teeth(1010.0);
        odd[3] = f64::INFINITY;
        odd[4] = f64::NAN;
        assert!(climbs_past(&odd, 40));
    }

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
