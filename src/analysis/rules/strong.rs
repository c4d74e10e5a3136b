//! Rule: strong growth. The last lifetime with leak-shaped growth at q <= Q_LEAK decides. Its
//! objections are heard in order, the first that applies wins (`ok`): [`late_onset`],
//! [`working_day`], [`dying_out`], [`recovery`], [`daily_cycle`], [`confined`]. Without one,
//! growth with nothing weakening it in the last tested lifetime is a `leak`; otherwise
//! [`not_repeated`] may still object, and what is left is `suspect` (later lifetimes do not
//! repeat it, or soft objections weaken it).
//!
//! [`late_onset`]: super::late_onset
//! [`working_day`]: super::working_day
//! [`dying_out`]: super::dying_out
//! [`recovery`]: super::recovery
//! [`daily_cycle`]: super::daily_cycle
//! [`confined`]: super::confined
//! [`not_repeated`]: super::not_repeated

use super::super::{growth_sentence, Reason, Verdict};
use super::{confined, daily_cycle, dying_out, late_onset, not_repeated, recovery, working_day};
use super::{Decision, Evidence, Objection};

/// The objections heard before a clean leak is accepted, in order.
const OBJECTIONS: [fn(&Evidence, usize) -> Option<Objection>; 6] = [
    late_onset::objects,
    working_day::objects,
    dying_out::objects,
    recovery::objects,
    daily_cycle::objects,
    confined::objects,
];

pub(crate) fn decide(e: &Evidence) -> Option<Decision> {
    let &best = e.strong.last()?;
    let soft = e.soft_of(best);
    let mut d = Decision::on(e, best, Verdict::Suspect, e.candidate_shape(best), 0.5);
    d.reasons.push(Reason::new(
        "growth-certain",
        growth_sentence(d.q_value.unwrap_or(1.0), "trend test"),
    ));
    // One lifetime stands for the series only when it is the last one tested: growth that
    // later lifetimes do not repeat is weaker evidence.
    let is_last = e.tested.last() == Some(&best);
    if let Some(o) = OBJECTIONS.iter().find_map(|rule| rule(e, best)) {
        overrule(&mut d, o);
    } else if soft.is_empty() && is_last {
        d.verdict = Verdict::Leak;
        d.confidence = 0.75;
    } else if let Some(o) = not_repeated::objects(e, best) {
        overrule(&mut d, o);
    } else if soft.is_empty() {
        d.reasons.push(Reason::new(
            "not-repeated",
            "later lifetimes do not repeat the growth",
        ));
    } else {
        d.reasons.extend(soft);
    }
    if e.tested.len() > 1 {
        d.reasons.push(Reason::new(
            "lifetimes-grow",
            format!("{} of {} lifetimes grow", e.passing.len(), e.tested.len()),
        ));
    }
    Some(d)
}

/// An objection makes the decision `ok` and its reason the first.
pub(super) fn overrule(d: &mut Decision, o: Objection) {
    d.verdict = Verdict::Ok;
    d.confidence = o.confidence;
    if let Some(shape) = o.shape {
        d.shape = shape;
    }
    d.reasons.insert(0, Reason::new(o.code, o.reason));
}

#[cfg(test)]
mod tests {
    use super::super::testing::{linear_trial, series};
    use super::*;

    #[test]
    fn clean_growth_in_the_last_lifetime_is_a_leak_and_a_late_rise_is_not() {
        let (log, s) = series(vec![linear_trial(48.0)], vec![Some(1e-9)]);
        let d = decide(&Evidence::new(&log, &s)).expect("strong");
        assert_eq!((d.verdict, d.confidence), (Verdict::Leak, 0.75));
        assert_eq!(
            d.reasons,
            vec![Reason::new(
                "growth-certain",
                "growth is certain: the chance this is noise is below 1 in 10^9 (trend test q=1.0e-9)"
            )]
        );
        let mut late = linear_trial(48.0);
        late.fit_start_hours = 40.0;
        let (log, s) = series(vec![late], vec![Some(1e-9)]);
        let d = decide(&Evidence::new(&log, &s)).expect("strong");
        assert_eq!(
            (d.verdict, d.shape),
            (Verdict::Ok, crate::vocab::Shape::LateOnset)
        );
        assert!(d.reasons[0].starts_with("growth only from"));
    }

    #[test]
    fn weak_q_is_not_strong() {
        let (log, s) = series(vec![linear_trial(48.0)], vec![Some(0.03)]);
        assert_eq!(decide(&Evidence::new(&log, &s)), None);
    }
}
