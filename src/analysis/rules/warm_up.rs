//! Rule: warm-up after restarts. Growing lifetimes that each end no higher than an earlier,
//! non-growing lifetime of the same series settled are restarts warming up again, not a leak:
//! the verdict is `ok`, shape `warm-up`.

use super::super::stats::robust::{mad_sigma, median};
use super::super::{amount, Reason, Verdict};
use super::{Decision, Evidence};
use crate::vocab::Shape;

/// Share of the earlier plateau a warm-up must reach to count as climbing back to it.
const CLIMB_BACK_SHARE: f64 = 0.5;

pub(crate) fn decide(e: &Evidence) -> Option<Decision> {
    let (best, reached, held) = climbs_back(e)?;
    let kind = e.s.kind;
    let one = e.passing.len() == 1;
    let mut d = Decision::on(e, best, Verdict::Ok, Shape::WarmUp, 0.7);
    d.reasons.push(Reason::new("warm-up", format!(
        "warm-up after restarts: {} reach{} {}, within noise of the {} an earlier lifetime held without growing",
        if one { "the growing lifetime" } else { "the growing lifetimes" },
        if one { "es" } else { "" },
        amount(kind, reached),
        amount(kind, held)
    )));
    Some(d)
}

/// Returns the last growing lifetime that climbs back, the highest level they reached and the
/// level held before. Levels come from the raw samples: the median of the last tenth (at least
/// three samples) for the end, the median of the second half for a settled level, allowing two
/// noise sigmas (MAD) of that half so that the same plateau seen through noise still counts.
fn climbs_back(e: &Evidence) -> Option<(usize, f64, f64)> {
    let (passing, tested) = (&e.passing, &e.tested);
    // A plateau to climb back to needs a settled lifetime besides a growing one.
    if passing.is_empty() || passing.len() == tested.len() {
        return None;
    }
    let (s, values) = (e.s, e.values());
    let samples = |i: usize| -> Vec<f64> {
        s.split.lifetimes[i]
            .indices()
            .filter_map(|k| values.get(k).copied())
            .collect()
    };
    let settled: Vec<(usize, f64, f64)> = tested
        .iter()
        .filter(|i| !passing.contains(i))
        .filter_map(|&i| {
            let v = samples(i);
            let late = &v[v.len() / 2..];
            let level = median(late)?;
            Some((i, level, level + 2.0 * mad_sigma(late)?))
        })
        .collect();
    let mut highest: Option<(f64, f64)> = None;
    for &p in passing {
        let held = settled
            .iter()
            .filter(|h| h.0 < p)
            .map(|h| (h.1, h.2))
            .reduce(|a, b| if b.1 > a.1 { b } else { a })?;
        let v = samples(p);
        let reached = median(&v[v.len() - (v.len() / 10).max(3).min(v.len())..])?;
        // Climbing back means reaching the old plateau: a lifetime far below it (another
        // process under a reused `#N` label, say) says nothing about this one.
        if reached > held.1 || reached < CLIMB_BACK_SHARE * held.0 {
            return None;
        }
        if highest.is_none_or(|h| reached > h.0) {
            highest = Some((reached, held.0));
        }
    }
    let (reached, held) = highest?;
    Some((*passing.last()?, reached, held))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{linear_trial, series};
    use super::*;

    #[test]
    fn growth_without_a_settled_lifetime_before_it_is_not_a_warm_up() {
        // One growing lifetime, nothing settled to climb back to.
        let (log, s) = series(vec![linear_trial(48.0)], vec![Some(1e-9)]);
        let e = Evidence::new(&log, &s);
        assert_eq!(climbs_back(&e), None);
        assert_eq!(decide(&e), None);
    }
}
