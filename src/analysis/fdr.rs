//! The log-wide FDR step: one Benjamini-Hochberg pool over every lifetime test and every
//! combined test of the log, so that a log of thousands of series flags no more by chance than
//! a log of ten.

use super::stats::combine::benjamini_hochberg;
use super::trial::SeriesTrial;

/// Sets each tested lifetime's q and each combined test's q.
pub(crate) fn assign_q(trials: &mut [SeriesTrial]) {
    let mut pool = Vec::new();
    for s in trials.iter() {
        for l in &s.lifetimes {
            if l.mk.is_some() {
                pool.push(l.p);
            }
        }
        if let Some(p) = s.combined_p {
            pool.push(p);
        }
    }
    let q = benjamini_hochberg(&pool);
    let mut k = 0;
    for s in trials.iter_mut() {
        for l in 0..s.lifetimes.len() {
            if s.lifetimes[l].mk.is_some() {
                s.lifetime_q[l] = Some(q[k]);
                k += 1;
            }
        }
        if s.combined_p.is_some() {
            s.combined_q = Some(q[k]);
            k += 1;
        }
    }
}
