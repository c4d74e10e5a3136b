//! Rule: dying out. A strong lifetime whose growing part's second half rises at under 15% of its
//! first half's rate (or falls) has the shape of a warm-up or a cache filling up, not of a leak:
//! `ok`, shape `warm-up`. Staircases are exempt: their halves differ by where the steps fall.

use super::super::gates::{LifetimeTrial, Outcome};
use super::{Evidence, Objection};
use crate::vocab::Shape;

/// Second-half rate, as a share of the first half's, below which growth is dying out.
const DYING_OUT_SHARE: f64 = 0.15;

/// The share of the first half's rate the second half keeps, when it is dying out.
pub(crate) fn dying_out_share(l: &LifetimeTrial) -> Option<f64> {
    let (first, second) = l.half_slopes?;
    let share = second / first;
    (first > 0.0 && share < DYING_OUT_SHARE && !l.slowing_unshown).then_some(share)
}

/// [`dying_out_share`] of a lifetime of the series, stairs excepted.
pub(crate) fn dying_out(e: &Evidence, i: usize) -> Option<f64> {
    match &e.lifetime(i).outcome {
        Outcome::Candidate { shape, .. } if *shape != Shape::Stepwise => {
            dying_out_share(e.lifetime(i))
        }
        _ => None,
    }
}

pub(crate) fn objects(e: &Evidence, best: usize) -> Option<Objection> {
    let share = dying_out(e, best)?;
    let second_half = if share < 0.0 {
        "falls".to_string()
    } else {
        format!("rises at {:.0}% of the first half's rate", 100.0 * share)
    };
    Some(Objection {
        confidence: 0.6,
        shape: Some(Shape::WarmUp),
        code: "dying-out",
        reason: format!(
            "growth dying out: the second half {second_half} (warm-up or a filling cache)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{linear_trial, series};
    use super::*;

    #[test]
    fn halves_tell_a_dying_out_rise_from_a_steady_one() {
        let mut l = linear_trial(48.0);
        assert_eq!(dying_out_share(&l), None);
        l.half_slopes = Some((10.0, 1.0));
        assert_eq!(dying_out_share(&l), Some(0.1));
        l.half_slopes = Some((10.0, -2.0));
        assert_eq!(dying_out_share(&l), Some(-0.2));
        let (log, s) = series(vec![l], vec![Some(1e-9)]);
        let o = objects(&Evidence::new(&log, &s), 0).expect("dying out");
        assert_eq!(o.shape, Some(Shape::WarmUp));
        assert!(o.reason.contains("the second half falls"), "{}", o.reason);
    }
}
