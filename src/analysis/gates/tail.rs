//! Gate: tail persistence. A leak's last third still grows; a last third that slowed to a
//! fraction of the rate (and is not merely too noisy or short to show its rate, nor rising day
//! over day under a daily cycle) is growth that stopped (`Rejected`).

use super::super::stats::trend::trend_test;
use super::{persists_day_over_day, slowing_unshown, untied, LifetimeTrial, Outcome, Tested};
use super::{TAIL_KEEPS_RATE, UNDECIDED_TAIL_MAX_P};
use crate::vocab::Shape;

pub(super) fn judge(g: &Tested, trial: &mut LifetimeTrial) -> Option<Outcome> {
    let (t, x, m) = (g.t, g.x, g.x.len());
    let third = m - m / 3;
    let (tt, tx) = (&t[third..], &x[third..]);
    if tx.len() < 4 {
        return None;
    }
    let overall = trial.sen.map_or(g.sen.slope, |s| s.slope);
    let (tail_mk, tail) = trend_test(tt, tx)?;
    let ratio = untied(tail.slope, tt, tx) / overall;
    trial.tail_ratio = Some(ratio);
    // Judging the tail day over day for one to three days of data was tried: it let warm-ups
    // that restart through (their first day always grows).
    // A tail that keeps most of the rate but is too short or noisy to be significant on its own
    // (a sawtooth, a slow leak) has not stopped: a tail under a tenth of the rate stops whatever
    // its p; otherwise only a tail that is both slow-ish and insignificant counts as stopping.
    // (Warm-ups whose tail still creeps up are left to the halves test of the rules.)
    let tail_p = tail_mk.p_increasing;
    let slow =
        ratio < 0.1 || (ratio < 0.3 && tail_p >= 0.1) || (tail_p >= 0.3 && ratio < TAIL_KEEPS_RATE);
    // A third of a slow leak under noise is often too short to show its rate: a tail whose
    // interval still reaches a rate this rule accepts has not shown that growth stopped, when
    // the whole lifetime's evidence is strong. Not where restarts cut the series: there each
    // lifetime opens with a warm-up whose tail is short, and the lifetimes' evidence is pooled.
    // Whatever the lifetime's evidence, a tail that cannot rule the rate out has not shown
    // that growth stopped on too few points unless the whole lifetime bends
    // (see [`slowing_unshown`]).
    let reaches_rate = !trial.restarted && tail.upper >= TAIL_KEEPS_RATE * overall;
    trial.slowing_unshown = reaches_rate
        && ratio < TAIL_KEEPS_RATE
        && g.stick()
            .is_some_and(|s| slowing_unshown(g, trial.level, tx.len(), s.rss));
    let undecided = reaches_rate
        && ((ratio >= 0.0 && trial.p <= UNDECIDED_TAIL_MAX_P) || trial.slowing_unshown);
    let stopped = slow && !undecided;
    let day_over_day = if stopped {
        persists_day_over_day(t, x, overall, g.span, trial.day_reading())
    } else {
        None
    };
    if let Some((dd_ratio, p)) = day_over_day {
        // The tail's rate is the day-over-day one; its own slope is the cycle.
        trial.tail_ratio = Some(dd_ratio);
        trial.notes.push(format!(
            "the last third rises {:.0}% of the rate against the same hours a day before (sign p={p:.1e}); its own slope is the daily cycle",
            100.0 * dd_ratio
        ));
    } else if stopped {
        return Some(Outcome::Rejected {
            shape: Shape::GrowthStopped,
            reason: format!(
                "growth stopped: last third rises at {:.0}% of the overall rate (MK p={:.2})",
                100.0 * ratio,
                tail_mk.p_increasing
            ),
        });
    } else if slow {
        let no_bend = if trial.slowing_unshown {
            ", and a bend fits the lifetime no better than a line"
        } else {
            ""
        };
        trial.notes.push(format!(
            "tail {:.0}% of the slope, its interval up to {:.0}%{no_bend}: too noisy to show the growth stopped",
            100.0 * ratio,
            100.0 * tail.upper / overall
        ));
    } else {
        trial
            .notes
            .push(format!("tail {:.0}% of the slope", 100.0 * ratio));
    }
    None
}
