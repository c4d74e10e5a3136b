//! Second look at a lifetime of one to three days with a strong daily rhythm, when the plain test
//! read its growth as none, stopped, a warm-up or a level shift (the cycle's downswing) and the
//! harmonic retry of `gates/mod.rs` did not take it: a line plus 24, 12 and 8 h waves is fitted;
//! the line's growth must stand out of residuals that wander together (an AR(1)-widened standard
//! error), a bend alone, or a step or a bend under the same waves, must not fit as well, and what
//! is left once the waves are out must pass the trend test and the shape gates as linear (or
//! stepwise) growth.
//! A lifetime that runs from a weekend into working days is left alone: a day or two cannot
//! tell the week's rhythm from growth (a weekend offset beside the waves read healthy daily
//! cycles as leaks on the tune split).

use super::super::season::{harmonic_cycle, Calendar};
use super::super::stats::fit::broken_stick;
use super::super::stats::normal_quantile;
use super::{test, LifetimeTrial, Outcome, BEND_RSS_RATIO, HARMONIC_COVERAGE, HARMONIC_P};
use crate::vocab::{Counter, Shape};

/// The rhythm must explain at least this share of what a line leaves.
const RHYTHM_SHARE: f64 = 0.5;
/// One-sided p the line's growth under the rhythm must beat, with the AR(1)-widened error.
const SLOPE_P: f64 = 1e-4;
/// A step at its best place under the same rhythm must leave more than this share of what the
/// line leaves: not all of it, because the step's place is chosen among all (a free parameter
/// more) and a sinusoid's misfit to a business-hours bump leaves a jump a step takes up by chance
/// (on the tune split leaks under a cycle left 0.8-0.95 to their best step).
const STEP_SLACK: f64 = 0.7;
/// A bend under the rhythm must leave at least this share of what the line leaves.
const BENT_SHARE: f64 = 0.3;

/// How the note this retry leaves begins (its reason code: [`note_code`]).
const NOTE: &str = "growth under a daily cycle:";

/// The reason code of a lifetime's note: `cycle-fitted-growth` for this retry's, `trend-note`
/// for the others.
pub(crate) fn note_code(note: &str) -> &'static str {
    if note.starts_with(NOTE) {
        "cycle-fitted-growth"
    } else {
        "trend-note"
    }
}

/// What the plain test made of the lifetime leaves growth a daily rhythm may hide.
fn may_hide(trial: &LifetimeTrial) -> bool {
    HARMONIC_COVERAGE.contains(&trial.coverage_hours())
        && match &trial.outcome {
            Outcome::NoTrend { .. } => true,
            Outcome::Rejected { shape, .. } => matches!(
                *shape,
                Shape::WarmUp | Shape::GrowthStopped | Shape::LevelShift
            ),
            _ => false,
        }
}

/// The lifetime runs from a weekend into working days: a day or two cannot tell the week's
/// rhythm (a lower level, often a smaller cycle, on the weekend) from growth. (The fall into a
/// weekend only hides growth.)
fn weekend_then_workdays(t: &[f64], calendar: Option<&Calendar>) -> bool {
    calendar.is_some_and(|c| {
        t.iter()
            .position(|&h| c.is_weekend(h))
            .is_some_and(|from| t[from..].iter().any(|&h| !c.is_weekend(h)))
    })
}

/// The lifetime tried again under its daily (and weekly) rhythm, when `first` (the plain
/// trial) may hide growth; `untested` is the trial before the trend test.
pub(super) fn retry(
    first: &LifetimeTrial,
    mut trial: LifetimeTrial,
    t: &[f64],
    x: &[f64],
    (level, kind): (f64, Counter),
    calendar: Option<&Calendar>,
) -> Option<LifetimeTrial> {
    if !may_hide(first) {
        return None;
    }
    let m = x.len();
    if weekend_then_workdays(t, calendar) {
        return None;
    }
    let fit = harmonic_cycle(t, x)?;
    if fit.p >= HARMONIC_P
        || fit.share < RHYTHM_SHARE
        || fit.slope_z < normal_quantile(1.0 - SLOPE_P)
    {
        return None;
    }
    let bend_alone = broken_stick(t, x)?.rss;
    let rivals = fit.rivals(12.min(m / 4).max(3));
    if bend_alone < BEND_RSS_RATIO * fit.rss
        || rivals.step_rss.is_some_and(|s| s <= STEP_SLACK * fit.rss)
        || rivals.bend_rss.is_none_or(|b| b < BENT_SHARE * fit.rss)
    {
        return None;
    }
    trial.cycle_fitted = true;
    test(&mut trial, t, &fit.adjusted, level, kind, calendar);
    if !matches!(
        trial.outcome,
        Outcome::Candidate {
            shape: Shape::Linear | Shape::Stepwise,
            ..
        }
    ) {
        return None;
    }
    trial.notes.insert(
        0,
        format!(
            "{NOTE} 24, 12 and 8 h harmonics explain {:.0}% of what a line leaves (F p={:.1e}); the line under them rises {:.1} standard errors (widened for autocorrelation), and no step or bend under them, nor a bend alone, fits as well",
            100.0 * fit.share,
            fit.p,
            fit.slope_z
        ),
    );
    Some(trial)
}
