//! Growth hidden under the workload (issue #18 part 2, the load adjustment). A series that
//! follows a cycling or falling workload (a daily load cycle) can carry a leak the plain trend
//! test does not see: it finds no significant growth, or growth that "dies out" on the cycle's
//! downswing. For a series the rules left `ok`, each load counter of the process's own is
//! regressed with it on time (series ~ time + load, on block medians, `linregress`); when the
//! load's coefficient is real and the load is not a rise close to a line in time (then the two
//! effects cannot be told apart), the series is tried again with the part that follows the load
//! taken out, by the same trend test and shape gates. Growth that is left, and that an error of
//! half the load's coefficient would not explain, is growth that time, not the workload,
//! explains.

use super::gates::{self, MIN_SAMPLES, MIN_SPAN_HOURS};
use super::load::{blocks, LoadIndex};
use super::stats::regress::regress;
use super::trial::SeriesTrial;
use super::Reason;
use crate::ingest::PerfLog;

/// p under which load's coefficient, with time in the regression, is taken as real.
const LOAD_REAL_P: f64 = 1e-3;
/// R² of a rising load counter on time above which the load is close to a line in time: its
/// effect and time's cannot be told apart (a workload rising steadily is `load.rs`'s case).
const MAX_COLLINEAR_R2: f64 = 0.5;
/// Share by which the load's coefficient may be off (a noisy counter's coefficient comes out
/// too small, chance makes it too large): growth left must outgrow what such an error moves
/// with the load's own drift over the lifetime.
const COEFFICIENT_DOUBT: f64 = 0.5;

/// A series tried again with the load's effect taken out.
pub(crate) struct Adjusted {
    /// The series' trial on the adjusted values (one lifetime, its q among the log's tests).
    pub trial: SeriesTrial,
    /// The load counter whose effect was taken out, named for a reader.
    pub counter: String,
    /// p of the load's coefficient with time in.
    pub load_p: f64,
    /// R² of series ~ time + load, and of series ~ time alone.
    pub r_squared: (f64, f64),
}

/// The trial of `s` with the effect of its best-fitting load counter taken out, when the log
/// has load counters for it, the series is one process's single tested lifetime, and some
/// counter's effect is real and separable from time's. `None` otherwise.
pub(crate) fn retry(log: &PerfLog, s: &SeriesTrial, loads: &LoadIndex) -> Option<Adjusted> {
    let single = s.lifetimes.len() == 1 && s.lifetimes[0].mk.is_some();
    // The process's own counters only: the machine's load is every process's, and a
    // coefficient on it fitted to one process's noise takes out growth or puts it in.
    if s.system.is_some() || s.labels.len() > 1 || !single || !loads.has_own(s.column) {
        return None;
    }
    let values: &[f64] = &s.judged_values(log);
    let lifetime = &s.lifetimes[0];
    let window = (lifetime.start_hours, lifetime.end_hours);
    let hours = loads.hours();
    struct Fit<L> {
        name: String,
        coefficient: f64,
        centre: f64,
        rss: f64,
        p: f64,
        /// The series' change that the load's drift over the lifetime carries.
        drift: f64,
        r_squared: (f64, f64),
        load: L,
    }
    let best = loads
        .counters_for(s.column, false)
        .into_iter()
        .filter(|(_, own, _)| *own)
        .filter_map(|(name, _, load)| {
            let (t, y, x) = blocks(hours, values, &load, window)?;
            let load_on_time = regress(&x, &[("T", &t)])?;
            // A load that climbs in step with time takes time's part with it; one that falls
            // or holds can only hide growth (a coefficient that comes out too small leaves its
            // fall in the series, which no rise can be mistaken for).
            let rises = load_on_time.params[1] > 0.0;
            if rises && load_on_time.r_squared > MAX_COLLINEAR_R2 {
                return None;
            }
            let span = t.last()? - t.first()?;
            let on_time = regress(&y, &[("T", &t)])?;
            let both = regress(&y, &[("T", &t), ("L", &x)])?;
            let (b, p) = (both.params[2], both.p_values[2]);
            (b > 0.0 && p < LOAD_REAL_P).then(|| Fit {
                name,
                coefficient: b,
                centre: x.iter().sum::<f64>() / x.len() as f64,
                rss: both.rss,
                p,
                drift: b * (load_on_time.params[1] * span).abs(),
                r_squared: (both.r_squared, on_time.r_squared),
                load,
            })
        })
        .min_by(|a, b| a.rss.total_cmp(&b.rss))?;
    let (mut t, mut v) = (Vec::new(), Vec::new());
    for i in s.split.lifetimes.first()?.indices() {
        let (Some(&h), Some(&y), Some(&x)) = (hours.get(i), values.get(i), best.load.get(i)) else {
            continue;
        };
        if y.is_finite() && x.is_finite() {
            t.push(h);
            v.push(y - best.coefficient * (x - best.centre));
        }
    }
    let shortest = (MIN_SPAN_HOURS, MIN_SAMPLES);
    let trial = gates::try_lifetime(&t, &v, s.kind, None, shortest, false, None);
    trial.mk?;
    if trial.growth <= COEFFICIENT_DOUBT * best.drift {
        return None;
    }
    let q = loads.q_among_tests(trial.p);
    let mut adjusted = s.clone();
    adjusted.lifetimes = vec![trial];
    adjusted.lifetime_q = vec![Some(q)];
    adjusted.combined_p = None;
    adjusted.combined_q = None;
    Some(Adjusted {
        trial: adjusted,
        counter: best.name,
        load_p: best.p,
        r_squared: best.r_squared,
    })
}

/// Why a series tried with its load taken out is flagged, first among its reasons.
pub(crate) fn reason(a: &Adjusted) -> Reason {
    Reason::new(
        "load-adjusted",
        format!(
            "growth beyond the workload: with the part that follows {} taken out (series ~ time + load: load p={:.1e}; R² {:.2} with load, {:.2} with time alone), the series still grows",
            a.counter, a.load_p, a.r_squared.0, a.r_squared.1
        ),
    )
}
