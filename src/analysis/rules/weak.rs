//! Rule: weak evidence. Growth whose best q lies between Q_LEAK and Q_SUSPECT is a `suspect`
//! unless it shows one of the ways noise, bursts and level shifts pass a marginal trend test
//! (`ok`, "not flagged on weak evidence") or is a process climbing back after a drop
//! ([`recovery`]).

use super::super::gates::{LifetimeTrial, Outcome};
use super::super::{hours_text, noise_chance, Reason, Verdict, Q_LEAK, Q_SUSPECT};
use super::{recovery, relative_growth, starts_late, strong, Decision, Evidence};
use crate::vocab::Shape;

/// Growth, as a share of the level, that weak evidence must show to be flagged.
const WEAK_MIN_RELATIVE_GROWTH: f64 = 0.05;

pub(crate) fn decide(e: &Evidence) -> Option<Decision> {
    let &best = e.passing.iter().rfind(|&&i| e.q_of(i) <= Q_SUSPECT)?;
    let mut d = Decision::on(e, best, Verdict::Suspect, e.candidate_shape(best), 0.4);
    let q = d.q_value.unwrap_or(1.0);
    d.reasons.push(Reason::new(
        "growth-weak",
        format!(
            "weak evidence: the chance this growth is noise is {} (trend test q={q:.1e}; a leak needs q <= {Q_LEAK})",
            noise_chance(q)
        ),
    ));
    if let Some(why) = too_weak_to_flag(e.lifetime(best)) {
        d.verdict = Verdict::Ok;
        d.confidence = 0.6;
        d.reasons.insert(
            0,
            Reason::new(
                "weak-not-flagged",
                format!("not flagged on weak evidence: {why}"),
            ),
        );
    } else if let Some(o) = recovery::objects(e, best) {
        strong::overrule(&mut d, o);
    } else {
        d.reasons.extend(e.soft_of(best));
    }
    Some(d)
}

/// Why growth with only weak evidence is not worth a "suspect", if it is not.
pub(crate) fn too_weak_to_flag(l: &LifetimeTrial) -> Option<String> {
    let sen = l.sen?;
    let relative = relative_growth(l);
    if sen.lower <= 0.0 {
        Some("the slope's 95% interval includes 0".into())
    } else if relative < WEAK_MIN_RELATIVE_GROWTH {
        Some(format!(
            "growth of {:.1}% of the level (needs {:.0}%)",
            100.0 * relative,
            100.0 * WEAK_MIN_RELATIVE_GROWTH
        ))
    } else if starts_late(l) {
        Some("the growth starts in the last 20% of the lifetime".into())
    } else if few_steps(l) {
        // A level shift with a noise blip beside it passes for two or three steps.
        Some("stepwise growth with only a few steps, where a level shift fits as well".into())
    } else if l.fit_start_hours > l.start_hours {
        // A late onset picked by the break on the same data, on weak evidence, is as often a
        // level shift as a leak that started.
        Some(format!(
            "the growth starts late ({}), where a level shift fits as well",
            hours_text(l.fit_start_hours)
        ))
    } else {
        l.tail_ratio.filter(|r| *r < 0.5).map(|r| {
            format!(
                "the last third grows at {:.0}% of the rate (needs 50%)",
                100.0 * r
            )
        })
    }
}

/// Stepwise growth of at most four steps.
fn few_steps(l: &LifetimeTrial) -> bool {
    matches!(
        &l.outcome,
        Outcome::Candidate {
            shape: Shape::Stepwise,
            ..
        }
    ) && l.up_steps.is_some_and(|n| n <= 4)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{linear_trial, series};
    use super::*;

    #[test]
    fn weak_evidence_needs_a_positive_interval_size_and_a_live_tail() {
        let mut l = linear_trial(48.0);
        assert_eq!(too_weak_to_flag(&l), None);
        l.tail_ratio = Some(0.3);
        assert!(too_weak_to_flag(&l).is_some_and(|w| w.contains("30% of the rate")));
        l.tail_ratio = Some(1.0);
        if let Some(sen) = l.sen.as_mut() {
            sen.lower = 0.0;
        }
        assert!(too_weak_to_flag(&l).is_some_and(|w| w.contains("includes 0")));
        let mut late = linear_trial(48.0);
        late.fit_start_hours = 20.0;
        assert!(too_weak_to_flag(&late).is_some_and(|w| w.contains("starts late")));
    }

    #[test]
    fn clean_weak_growth_is_a_suspect() {
        let (log, s) = series(vec![linear_trial(48.0)], vec![Some(0.03)]);
        let d = decide(&Evidence::new(&log, &s)).expect("weak");
        assert_eq!((d.verdict, d.confidence), (Verdict::Suspect, 0.4));
        assert_eq!(d.reasons[0].code, "growth-weak");
        assert!(
            d.reasons[0].starts_with(
                "weak evidence: the chance this growth is noise is about 1 in 33 (trend test q=3.0e-2"
            ),
            "{}",
            d.reasons[0]
        );
    }
}
