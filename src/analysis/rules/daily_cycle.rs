//! Rule: daily cycle. Growth with moderate evidence in a lifetime with a daily cycle is the
//! rising phase of a cycle, or what is left of one, as often as a leak: small growth needs
//! strong evidence, and so does growth already slowing in its last third (`ok`). Also names a
//! flat series whose daily cycle was removed `cyclic`.

use super::super::gates::LifetimeTrial;
use super::super::Verdict;
use super::{relative_growth, Evidence, Objection};
use crate::vocab::Shape;

/// Growth (as a share of the level) under which a daily cycle may be all there is, and the q
/// such growth must beat to be flagged: in a lifetime that cannot rule a cycle out (under a
/// day, or a failed lag-24 h test), and in one whose strong cycle was removed (the removal
/// leaves drifts of a few percent, up to ~20% with a weekly pattern on top, on the tune split).
const CYCLE_CONFOUND_MIN_GROWTH: f64 = 0.10;
const CYCLE_CONFOUND_Q: f64 = 1e-4;
const CYCLE_REMOVED_MIN_GROWTH: f64 = 0.20;
/// A last third growing at under 30% of the rate, in a lifetime that cannot rule out a daily
/// cycle, needs q at or below 1e-3 (a cycle's crest or a level shift passes for slowing growth).
const SLOWING_TAIL: f64 = 0.3;
const CYCLE_CONFOUND_SLOWING_Q: f64 = 1e-3;
const CYCLE_REMOVED_Q: f64 = 1e-8;

pub(crate) fn objects(e: &Evidence, best: usize) -> Option<Objection> {
    cycle_residue(e.lifetime(best), e.q_of(best)).map(|reason| Objection {
        confidence: 0.5,
        shape: None,
        reason,
        code: "cycle-confound",
    })
}

/// Growth at `q` in lifetime `l` held back only as a cycle the lifetime cannot rule out: too
/// small and its evidence too moderate (the first of [`cycle_residue`]'s cases). What the load
/// counters or a longer log may settle.
pub(crate) fn small_under_possible_cycle(l: &LifetimeTrial, q: f64) -> bool {
    l.cycle_confound && q > CYCLE_CONFOUND_Q && relative_growth(l) < CYCLE_CONFOUND_MIN_GROWTH
}

/// Why growth at `q` in lifetime `l` may be a daily cycle, if it may.
pub(crate) fn cycle_residue(l: &LifetimeTrial, q: f64) -> Option<String> {
    let relative = relative_growth(l);
    let growth = format!("growth of {:.1}% at q={q:.1e}", 100.0 * relative);
    if small_under_possible_cycle(l, q) {
        Some(format!(
            "{growth} in a lifetime that cannot rule out a daily cycle: not flagged (needs q <= {CYCLE_CONFOUND_Q:.0e} or {:.0}% growth)",
            100.0 * CYCLE_CONFOUND_MIN_GROWTH
        ))
    } else if let Some(tail) = l.tail_ratio.filter(|r| {
        l.cycle_confound && q > CYCLE_CONFOUND_SLOWING_Q && *r < SLOWING_TAIL && !l.slowing_unshown
    }) {
        Some(format!(
            "{growth}, its last third at {:.0}% of the rate, in a lifetime that cannot rule out a daily cycle: not flagged (needs q <= {CYCLE_CONFOUND_SLOWING_Q:.0e})",
            100.0 * tail
        ))
    } else if (l.cycle_removed || l.cycle_fitted)
        && q > CYCLE_REMOVED_Q
        && relative < CYCLE_REMOVED_MIN_GROWTH
    {
        Some(format!(
            "{growth} left after removing a strong daily cycle: not flagged (needs q <= {CYCLE_REMOVED_Q:.0e} or {:.0}% growth)",
            100.0 * CYCLE_REMOVED_MIN_GROWTH
        ))
    } else {
        None
    }
}

/// A series judged `ok` and `flat` once its daily cycle was removed is `cyclic`.
pub(crate) fn shape_of_flat(
    verdict: Verdict,
    shape: Shape,
    decisive: Option<&LifetimeTrial>,
) -> Option<Shape> {
    (verdict == Verdict::Ok
        && shape == Shape::Flat
        && decisive.is_some_and(|l| l.notes.iter().any(|n| n.starts_with("daily cycle removed"))))
    .then_some(Shape::Cyclic)
}

#[cfg(test)]
mod tests {
    use super::super::testing::linear_trial;
    use super::*;

    #[test]
    fn small_growth_under_a_possible_cycle_needs_strong_evidence() {
        let mut l = linear_trial(30.0);
        l.level *= 100.0; // the same slope is now well under 10% of the level
        assert_eq!(cycle_residue(&l, 1e-3), None, "no cycle in question");
        l.cycle_confound = true;
        assert!(cycle_residue(&l, 1e-3).is_some());
        assert_eq!(cycle_residue(&l, 1e-6), None, "strong evidence still flags");
    }

    #[test]
    fn a_flat_series_whose_cycle_was_removed_is_cyclic() {
        let mut l = linear_trial(30.0);
        assert_eq!(shape_of_flat(Verdict::Ok, Shape::Flat, Some(&l)), None);
        l.notes.push("daily cycle removed (F_s=0.80)".into());
        assert_eq!(
            shape_of_flat(Verdict::Ok, Shape::Flat, Some(&l)),
            Some(Shape::Cyclic)
        );
        assert_eq!(shape_of_flat(Verdict::Leak, Shape::Flat, Some(&l)), None);
    }
}
