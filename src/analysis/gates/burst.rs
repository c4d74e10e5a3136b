//! Gate: bursts. The trend must survive dropping the 10% of blocks that sit furthest from it;
//! growth carried by a few bursts does not (`Rejected`, shape `burst`). A slope whose interval
//! already includes 0 is not trimmed but weakened.

use super::super::stats::trend::sen_lower_above_zero;
use super::{LifetimeTrial, Outcome, Tested};
use crate::vocab::Shape;

pub(super) fn judge(g: &Tested, trial: &LifetimeTrial, soft: &mut Vec<String>) -> Option<Outcome> {
    let slope_lower = trial.sen.map_or(g.sen.lower, |s| s.lower);
    if slope_lower > 0.0 {
        trimmed_away(g, trial)
    } else {
        soft.push("the slope's 95% interval includes 0".into());
        None
    }
}

/// The trend test without the 10% most deviant blocks of the growing part.
fn trimmed_away(g: &Tested, trial: &LifetimeTrial) -> Option<Outcome> {
    let (t, x, m) = (g.t, g.x, g.x.len());
    // A late onset is judged on the growing part and its own line: against the whole-log line
    // the rising end is what sits furthest, and trimming it would erase the leak.
    let from = t.partition_point(|&h| h < trial.fit_start_hours);
    let line = trial.sen.unwrap_or(g.sen);
    let mut order: Vec<usize> = (from..m).collect();
    let resid = |i: usize| (x[i] - line.intercept - line.slope * t[i]).abs();
    order.sort_by(|&a, &b| resid(a).total_cmp(&resid(b)));
    let kept = order.len() - order.len() / 10;
    let mut keep: Vec<usize> = order[..kept].to_vec();
    keep.sort_unstable();
    let kt: Vec<f64> = keep.iter().map(|&i| t[i]).collect();
    let kx: Vec<f64> = keep.iter().map(|&i| x[i]).collect();
    (!sen_lower_above_zero(&kt, &kx)).then(|| Outcome::Rejected {
        shape: Shape::Burst,
        reason: "burst-driven: without the 10% most deviant blocks the slope interval reaches 0"
            .into(),
    })
}
