//! Gate: a daily cycle not ruled out. Growth in a lifetime under a day, or of one to three days
//! whose lag-24 h differences do not rise consistently, may be a cycle's rising phase: the
//! candidate is weakened and marked `cycle_confound` for the rules. Also records Cox-Stuart's
//! disagreement.

use super::super::day_evidence;
use super::super::hours_text;
use super::super::season::lag24_sign_test;
use super::super::stats::trend::cox_stuart_increasing;
use super::{LifetimeTrial, Tested};

pub(super) fn weaken(g: &Tested, trial: &mut LifetimeTrial, soft: &mut Vec<String>) {
    if let Some(p_cs) = cox_stuart_increasing(g.x) {
        if p_cs > 0.2 {
            soft.push(format!("Cox-Stuart disagrees (p={p_cs:.2})"));
        }
    }
    let coverage = trial.coverage_hours();
    if coverage < 24.0 {
        trial.cycle_confound = true;
        soft.push(format!(
            "lifetime {} < 24 h: a daily cycle cannot be ruled out",
            hours_text(g.span)
        ));
    } else if coverage < 72.0 {
        match lag24_sign_test(g.t, g.x) {
            Some((d, p)) if d > 0.0 && p < 0.01 => {
                trial.notes.push(format!("lag-24h sign test p={p:.1e}"));
            }
            Some((_, p)) => {
                trial.cycle_confound = true;
                soft.push(format!(
                    "lag-24h sign test p={p:.2}: a daily cycle is not ruled out"
                ));
            }
            None => {
                trial.cycle_confound = true;
                // After a fitted cycle is taken out, the doubt is what it may have left.
                soft.push(if trial.cycle_fitted {
                    "too few whole days to check day over day what the fitted cycle left".into()
                } else {
                    "too few whole days to rule out a daily cycle".into()
                });
            }
        }
    }
    // From about 20 h the data can rule the cycle out (a line, a line plus a 24 h wave, the
    // wave alone): then the caveat just pushed goes.
    if trial.cycle_confound
        && !(trial.cycle_removed || trial.cycle_fitted)
        && coverage >= day_evidence::MIN_COVERAGE_HOURS
    {
        if let Some(why) =
            day_evidence::compare(g.t, g.x).and_then(|d| d.rules_out_cycle(trial.level))
        {
            trial.cycle_confound = false;
            soft.pop();
            trial.notes.insert(0, why);
        }
    }
}
