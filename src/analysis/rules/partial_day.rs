//! Rule: exhaustion outweighs a partial day. A strong `suspect` whose only objection is that
//! its lifetime cannot rule out a daily cycle, but whose counter would run out within a day even
//! at the slow end of the forecast, is a `leak`: whatever the cycle does, there is no time to
//! wait for a longer log. Not when another doubt stands beside the cycle's (restarts read from
//! drops alone, a moving `#N` label, a rising load of its own): then the growth may not be a
//! leak at all, and a forecast from one lifetime's rate says nothing about running out.

use super::super::calibrate::is_unmeasured_doubt;
use super::super::{Reason, Verdict};
use super::{Decision, Evidence};

/// `tte_upper`: the time to limit at the slow end of the forecast (None: never).
pub(crate) fn apply(e: &Evidence, d: &mut Decision, tte_upper: Option<f64>) {
    let Some(best) = d.decisive else {
        return;
    };
    if d.verdict == Verdict::Suspect
        && e.lifetime(best).cycle_confound
        && e.strong.contains(&best)
        && e.soft_of(best).len() == 1
        && tte_upper.is_some_and(|hi| hi < 24.0)
        && !d.reasons.iter().any(|r| is_unmeasured_doubt(r.code))
    {
        d.verdict = Verdict::Leak;
        d.confidence = 0.7;
        d.reasons.push(Reason::new(
            "partial-day",
            "exhaustion within a day outweighs the partial-day caveat",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::strong;
    use super::super::testing::{linear_trial, series};
    use super::*;

    #[test]
    fn a_day_old_suspect_running_out_within_a_day_is_a_leak() {
        // Under a day: the cycle caveat is the one soft objection, and it is not the last
        // lifetime, so the strong rule leaves a suspect.
        let l = linear_trial(12.0);
        assert!(l.cycle_confound);
        let (log, s) = series(vec![l.clone(), l], vec![Some(1e-9), Some(0.9)]);
        let e = Evidence::new(&log, &s);
        let mut d = strong::decide(&e).expect("strong");
        assert_eq!(d.verdict, Verdict::Suspect);
        apply(&e, &mut d, Some(30.0));
        assert_eq!(d.verdict, Verdict::Suspect);
        let mut doubted = d.clone();
        apply(&e, &mut d, Some(10.0));
        assert_eq!((d.verdict, d.confidence), (Verdict::Leak, 0.7));
        // Restarts read from drops alone: the growth may be a heap that collects, whose
        // one-lifetime forecast says nothing about running out.
        doubted
            .reasons
            .push(Reason::new("restarts-unconfirmed", "drops alone"));
        apply(&e, &mut doubted, Some(10.0));
        assert_eq!(doubted.verdict, Verdict::Suspect);
    }
}
