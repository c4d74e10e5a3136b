//! Rule: growth not repeated. When the processes that came after the growing one lived as long
//! (a day or more in all) and did not grow, what grew was that one process's fill (a cache, a
//! queue), not a leak in the program: `ok`. Applies only where the growing lifetime is not the
//! last one or its growth has soft objections (a clean last lifetime is a leak before this).

use super::super::hours_text;
use super::confined::held_still;
use super::{Evidence, Objection};

pub(crate) fn objects(e: &Evidence, best: usize) -> Option<Objection> {
    let later_still_hours = held_still(e, Some(best));
    (later_still_hours >= 24.0 && later_still_hours >= e.lifetime(best).coverage_hours()).then(
        || Objection {
            confidence: 0.6,
            shape: None,
            code: "not-repeated",
            reason: format!(
                "later lifetimes, {} in all, do not repeat the growth of the one before",
                hours_text(later_still_hours)
            ),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::super::gates::Outcome;
    use super::super::testing::{linear_trial, series};
    use super::*;

    #[test]
    fn a_longer_still_lifetime_after_the_growth_objects() {
        let mut still = linear_trial(48.0);
        still.outcome = Outcome::NoTrend {
            shape: crate::vocab::Shape::Flat,
        };
        let (log, s) = series(vec![linear_trial(30.0), still], vec![Some(1e-9), Some(0.5)]);
        let o = objects(&Evidence::new(&log, &s), 0).expect("not repeated");
        assert!(
            o.reason.starts_with("later lifetimes, 2.0 days in all"),
            "{}",
            o.reason
        );
        // Nothing after the growing lifetime: no objection.
        let (log, s) = series(vec![linear_trial(30.0)], vec![Some(1e-9)]);
        assert_eq!(objects(&Evidence::new(&log, &s), 0), None);
    }
}
