//! Gate: level shift. Growth that is one jump to a level that then holds (a configuration or
//! load change) is not a leak (`Rejected`, shape `level-shift`), when a mean shift beats a line
//! by a clear BIC margin, the part after it does not grow and no daily cycle explains the end.
//! A shift too near the end to judge only weakens the growth.

use super::super::hours_text;
use super::super::stats::fit::{bic, line_fit, mean_shift, MeanShift};
use super::super::stats::trend::mann_kendall_hamed_rao;
use super::{persists_day_over_day, LifetimeTrial, Outcome, Tested};
use crate::vocab::Shape;

/// The rejection of a lifetime whose growth is one jump to a level that then holds.
pub(super) fn rejected(t: &[f64], shift: &MeanShift, post_p: f64) -> Outcome {
    let (before, after) = (shift.mean_before, shift.mean_after);
    Outcome::Rejected {
        shape: Shape::LevelShift,
        reason: format!(
            "single level shift at {} (+{:.0}%), flat after (MK p={:.2})",
            hours_text(t[shift.split]),
            100.0 * (after - before) / before.abs().max(f64::MIN_POSITIVE),
            post_p
        ),
    }
}

/// `ups`: the up-steps counted (three or more make it a staircase, not one shift).
pub(super) fn judge(
    g: &Tested,
    trial: &LifetimeTrial,
    ups: usize,
    soft: &mut Vec<String>,
) -> Option<Outcome> {
    let (t, x, m) = (g.t, g.x, g.x.len());
    let min_segment = 12.min(m / 4).max(3);
    let (line, shift) = (line_fit(t, x)?, mean_shift(x, min_segment)?);
    let delta_bic = bic(line.rss, m, 2) - bic(shift.rss, m, 3);
    if !(delta_bic > 10.0 && ups < 3 && shift.mean_after > shift.mean_before) {
        return None;
    }
    let post = &x[shift.split..];
    let post_p = mann_kendall_hamed_rao(&t[shift.split..], post).map_or(1.0, |r| r.p_increasing);
    let cycle_explains =
        || persists_day_over_day(t, x, g.sen.slope, g.span, trial.day_reading()).is_some();
    if post.len() >= 12 && post_p >= 0.05 && !cycle_explains() {
        return Some(rejected(t, &shift, post_p));
    }
    if post.len() < 12 {
        soft.push("a level shift near the end could explain the growth".into());
    }
    None
}
