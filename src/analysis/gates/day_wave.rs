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

use super::super::season::{harmonic_cycle, Calendar, HarmonicCycle};
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

/// What a lifetime must show under its daily rhythm for a retry to keep it.
pub(super) struct RhythmBar {
    /// The share of what a line leaves the waves must explain (F p under [`HARMONIC_P`] too).
    pub share: f64,
    /// The one-sided p the line's AR(1)-widened growth must beat (`None`: not asked).
    pub slope_p: Option<f64>,
    /// A step under the waves must leave more than this share of the line's residual.
    pub step_slack: f64,
    /// A bend under the waves must leave at least this share of the line's residual.
    pub bent_share: f64,
    /// The shapes the lifetime, tested again without the waves, may come out as.
    pub shapes: &'static [Shape],
}

/// The lifetime tested again with its daily rhythm (a line plus 24, 12 and 8 h waves) taken
/// out, when it clears `bar` and a bend alone leaves far more; with the fit and how many times
/// the line's residual a bend alone leaves. Both retries share it: a sinusoid plus a line
/// imitates a step or a warm-up, so each asks what its case needs. A lifetime that runs from a
/// weekend into working days is left alone.
pub(super) fn under_rhythm(
    mut trial: LifetimeTrial,
    t: &[f64],
    x: &[f64],
    (level, kind): (f64, Counter),
    calendar: Option<&Calendar>,
    bar: &RhythmBar,
) -> Option<(LifetimeTrial, HarmonicCycle, f64)> {
    if weekend_then_workdays(t, calendar) {
        return None;
    }
    let fit = harmonic_cycle(t, x)?;
    // The cheap tests first: most lifetimes have no strong cycle, and the rivals take a fit per
    // candidate break.
    let slope_short = bar
        .slope_p
        .is_some_and(|p| fit.slope_z < normal_quantile(1.0 - p));
    if fit.p >= HARMONIC_P || fit.share < bar.share || slope_short {
        return None;
    }
    let bend_alone = broken_stick(t, x)?.rss;
    if bend_alone < BEND_RSS_RATIO * fit.rss {
        return None;
    }
    let rivals = fit.rivals(12.min(x.len() / 4).max(3));
    if rivals
        .step_rss
        .is_some_and(|s| s <= bar.step_slack * fit.rss)
        || rivals.bend_rss.is_none_or(|b| b < bar.bent_share * fit.rss)
    {
        return None;
    }
    trial.cycle_fitted = true;
    test(&mut trial, t, &fit.adjusted, level, kind, calendar);
    let kept =
        matches!(&trial.outcome, Outcome::Candidate { shape, .. } if bar.shapes.contains(shape));
    kept.then(|| {
        let ratio = bend_alone / fit.rss;
        (trial, fit, ratio)
    })
}

/// The lifetime tried again under its daily (and weekly) rhythm, when `first` (the plain
/// trial) may hide growth; `untested` is the trial before the trend test.
pub(super) fn retry(
    first: &LifetimeTrial,
    trial: LifetimeTrial,
    t: &[f64],
    x: &[f64],
    level_kind: (f64, Counter),
    calendar: Option<&Calendar>,
) -> Option<LifetimeTrial> {
    if !may_hide(first) {
        return None;
    }
    let bar = RhythmBar {
        share: RHYTHM_SHARE,
        slope_p: Some(SLOPE_P),
        step_slack: STEP_SLACK,
        bent_share: BENT_SHARE,
        shapes: &[Shape::Linear, Shape::Stepwise],
    };
    let (mut trial, fit, _) = under_rhythm(trial, t, x, level_kind, calendar, &bar)?;
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
