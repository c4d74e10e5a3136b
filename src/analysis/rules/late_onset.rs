//! Rule: late onset. A strong lifetime whose growth is confined to its last 20% is as much a
//! burst or a level shift in the making as a leak: `ok`, shape `late-onset`, and the reason says
//! when growth began and to record a longer log.

use super::super::hours_text;
use super::{starts_late, Evidence, Objection};
use crate::vocab::Shape;

pub(crate) fn objects(e: &Evidence, best: usize) -> Option<Objection> {
    let l = e.lifetime(best);
    starts_late(l).then(|| Objection {
        confidence: 0.5,
        shape: Some(Shape::LateOnset),
        code: "late-onset",
        reason: format!(
            "growth only from {}, in the last 20% of the lifetime: too recent to tell from a burst; record a longer log to decide",
            hours_text(l.fit_start_hours)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::relative_growth;
    use super::super::testing::{linear_trial, series};
    use super::*;

    #[test]
    fn growth_in_the_last_fifth_starts_late() {
        let mut l = linear_trial(48.0);
        assert!(!starts_late(&l));
        l.fit_start_hours = 40.0;
        assert!(starts_late(&l));
        // Growth counts from the onset: 8 h at 1/h on a level of ~124.
        assert!((relative_growth(&l) - 8.0 * l.sen.unwrap().slope / l.level).abs() < 1e-9);
        let (log, s) = series(vec![l], vec![Some(1e-9)]);
        let o = objects(&Evidence::new(&log, &s), 0).expect("late onset");
        assert!(
            o.reason.starts_with("growth only from 40.0 h"),
            "{}",
            o.reason
        );
    }
}
