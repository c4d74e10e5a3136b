//! Gate: a weekend's end. Servers run lighter on weekends, so a lifetime of under three days
//! that runs from a weekend into a working day steps up at the boundary, and a day or two of
//! data cannot take that step out as a weekly profile (that needs several weeks). When a step
//! at the boundary (with a 24 h wave from a day on, the working day's rhythm) fits clearly
//! better than a line and rises at least three quarters of what the line does (a line through
//! a ramp steps up only half its rise at any boundary), the rise is the week's rhythm, not a
//! leak (`Rejected`, shape `cyclic`).

use std::f64::consts::PI;

use super::super::hours_text;
use super::super::season::Calendar;
use super::super::stats::regress::regress;
use super::{LifetimeTrial, Outcome, Tested};
use crate::vocab::Shape;

/// Lifetimes (coverage, hours) this gate reads: from three days a weekly offset is estimated
/// (and removed with the daily cycle).
const MAX_COVERAGE_HOURS: f64 = 72.0;
/// From this coverage a 24 h wave is fitted beside the step and the line.
const WAVE_FROM_HOURS: f64 = 20.0;
/// Blocks each side of the boundary needs.
const MIN_SIDE: usize = 6;
/// BIC by which the step must beat the line: a clear step.
const STEP_FITS_BETTER: f64 = 10.0;
/// The step must rise at least this share of what the line does: a line through a ramp
/// steps up half its rise at any boundary, through a step about all of it (0.9 on the tune
/// split caught 3 of 17 weekend-crossing daily cycles, 0.75 caught 7, recall unchanged).
const STEP_EXPLAINS: f64 = 0.75;

pub(super) fn judge(g: &Tested, trial: &LifetimeTrial, calendar: &Calendar) -> Option<Outcome> {
    let coverage = trial.coverage_hours();
    if coverage >= MAX_COVERAGE_HOURS {
        return None;
    }
    let (t, x, m) = (g.t, g.x, g.x.len());
    // A weekend first, then working days to the end: only that way does the week step up.
    if !calendar.is_weekend(*t.first()?) {
        return None;
    }
    let from = t.iter().position(|&h| !calendar.is_weekend(h))?;
    if from < MIN_SIDE || m - from < MIN_SIDE || t[from..].iter().any(|&h| calendar.is_weekend(h)) {
        return None;
    }
    let step: Vec<f64> = (0..m).map(|i| if i >= from { 1.0 } else { 0.0 }).collect();
    let sin: Vec<f64> = t.iter().map(|h| (2.0 * PI * h / 24.0).sin()).collect();
    let cos: Vec<f64> = t.iter().map(|h| (2.0 * PI * h / 24.0).cos()).collect();
    let wave: Vec<(&str, &[f64])> = if coverage >= WAVE_FROM_HOURS {
        vec![("S", &sin), ("C", &cos)]
    } else {
        Vec::new()
    };
    let with = |cols: &[(&str, &[f64])]| {
        let mut all = cols.to_vec();
        all.extend(wave.iter().copied());
        regress(x, &all)
    };
    let line = with(&[("T", t)])?;
    let stepped = with(&[("W", &step)])?;
    let (rise, jump) = (line.params[1] * g.span, stepped.params[1]);
    if !(rise > 0.0
        && jump >= STEP_EXPLAINS * rise
        && stepped.bic() + STEP_FITS_BETTER <= line.bic())
    {
        return None;
    }
    let level = trial.level.abs().max(f64::MIN_POSITIVE);
    Some(Outcome::Rejected {
        shape: Shape::Cyclic,
        reason: format!(
            "a weekend's end: the series steps up {:.0}% of its level where the weekend gives way to a working day ({}), close to what a line through it rises ({:.0}%), and the step fits better (BIC {:+.0}{})",
            100.0 * jump / level,
            hours_text(t[from]),
            100.0 * rise / level,
            stepped.bic() - line.bic(),
            if wave.is_empty() { "" } else { ", a 24 h wave beside both" }
        ),
    })
}
