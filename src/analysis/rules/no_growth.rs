//! Rule: no growth worth flagging. What is left after every other main rule is `ok`, explained
//! by the lifetime that came closest: a rejected shape first (its gate's reason), else the
//! last tested lifetime (no trend, or a trend that did not survive the log-wide FDR step).

use super::super::gates::Outcome;
use super::super::{Reason, Verdict};
use super::{Decision, Evidence};
use crate::vocab::Shape;

pub(crate) fn decide(e: &Evidence) -> Decision {
    let s = e.s;
    let pick = e
        .tested
        .iter()
        .copied()
        .rfind(|&i| matches!(s.lifetimes[i].outcome, Outcome::Rejected { .. }))
        .unwrap_or(e.tested[e.tested.len() - 1]);
    let l = e.lifetime(pick);
    let mut d = Decision::on(e, pick, Verdict::Ok, Shape::Unknown, 0.0);
    match &l.outcome {
        Outcome::Rejected { shape, reason } => {
            d.shape = *shape;
            d.confidence = 0.8;
            d.reasons.push(Reason::new(shape.as_str(), reason.clone()));
        }
        Outcome::NoTrend { shape } => {
            d.shape = *shape;
            d.confidence = if l.p > 0.5 { 0.9 } else { 0.75 };
            d.reasons.push(Reason::new(
                "no-growth",
                format!("no significant growth (MK-HR p={:.2})", l.p),
            ));
        }
        Outcome::Candidate { shape, .. } => {
            d.shape = *shape;
            d.confidence = 0.6;
            d.reasons.push(Reason::new(
                "not-significant",
                format!(
                    "growth not significant across the log's {} tests (q={:.2})",
                    e.log.columns.len(),
                    e.q_of(pick)
                ),
            ));
        }
        Outcome::Untestable => {
            d.shape = Shape::Unknown;
            d.confidence = 0.3;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::super::testing::{linear_trial, series};
    use super::*;

    #[test]
    fn a_rejected_shape_explains_the_verdict() {
        let mut rejected = linear_trial(30.0);
        rejected.outcome = Outcome::Rejected {
            shape: Shape::LevelShift,
            reason: "single level shift".into(),
        };
        let (log, s) = series(
            vec![rejected, linear_trial(30.0)],
            vec![Some(0.5), Some(0.5)],
        );
        let d = decide(&Evidence::new(&log, &s));
        assert_eq!((d.verdict, d.shape), (Verdict::Ok, Shape::LevelShift));
        assert_eq!(d.reasons, vec!["single level shift".to_string()]);
        assert_eq!(d.decisive, Some(0));
    }

    #[test]
    fn a_candidate_that_lost_the_fdr_step_says_so() {
        let (log, s) = series(vec![linear_trial(30.0)], vec![Some(0.2)]);
        let d = decide(&Evidence::new(&log, &s));
        assert_eq!((d.shape, d.confidence), (Shape::Linear, 0.6));
        assert_eq!(
            d.reasons[0],
            "growth not significant across the log's 1 tests (q=0.20)"
        );
    }
}
