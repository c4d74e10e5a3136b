//! Rule: growth confined to one lifetime. One short growing lifetime (under a day) while the
//! series' other lifetimes held still for a day or more is a warm-up or a busy spell of that
//! process, not a leak: `ok`, shape `confined`.

use super::super::hours_text;
use super::{Evidence, Objection};
use crate::vocab::Shape;

/// Hours covered by the tested lifetimes that did not grow: all of them, or those after
/// lifetime `after`.
pub(crate) fn held_still(e: &Evidence, after: Option<usize>) -> f64 {
    e.tested
        .iter()
        .filter(|&&i| !e.passing.contains(&i) && after.is_none_or(|b| i > b))
        .map(|&i| e.lifetime(i).coverage_hours())
        .sum()
}

pub(crate) fn objects(e: &Evidence, best: usize) -> Option<Objection> {
    let still_hours = held_still(e, None);
    let coverage = e.lifetime(best).coverage_hours();
    let confined = e.passing.len() == 1
        && e.passing.len() < e.tested.len()
        && coverage < 24.0
        && still_hours >= 24.0;
    if !confined {
        return None;
    }
    let others = e.tested.len() - e.passing.len();
    Some(Objection {
        confidence: 0.6,
        shape: Some(Shape::Confined),
        code: "confined",
        reason: format!(
            "growth confined to one lifetime of {}: {others} other lifetime{} over {} do{} not grow",
            hours_text(coverage),
            if others == 1 { "" } else { "s" },
            hours_text(still_hours),
            if others == 1 { "es" } else { "" }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::gates::Outcome;
    use super::super::testing::{linear_trial, series};
    use super::*;

    #[test]
    fn one_short_growing_lifetime_beside_a_still_day_is_confined() {
        let mut still = linear_trial(30.0);
        still.outcome = Outcome::NoTrend {
            shape: crate::vocab::Shape::Flat,
        };
        let (log, s) = series(vec![still, linear_trial(8.0)], vec![Some(0.5), Some(1e-9)]);
        let e = Evidence::new(&log, &s);
        let o = objects(&e, 1).expect("confined");
        assert_eq!(o.shape, Some(Shape::Confined));
        assert!(o.reason.contains("1 other lifetime over"), "{}", o.reason);
        // A growing lifetime of a day or more is not confined.
        let (log, s) = series(
            vec![linear_trial(30.0), linear_trial(30.0)],
            vec![Some(0.5), Some(1e-9)],
        );
        assert_eq!(objects(&Evidence::new(&log, &s), 1), None);
    }
}
