//! Gate: a late rise the whole-lifetime test cannot see. A lifetime that is flat for most of
//! its span and rises only at the end fails Mann-Kendall/Hamed-Rao: against the line through
//! the whole lifetime the flat part and the rise leave one long run of residuals below and
//! one above, which the correction reads as autocorrelation, and its p stays near 0.07 however
//! steep the rise. The rise alone has too few points for a trend test of its own (8 points
//! cannot pass z 3.34). The flat part before it has many: it shows how large the noise is and
//! how long it lingers, and the rise is judged against that noise
//! ([`onset::rise_z`](super::super::stats::onset::rise_z)), its break paid for as the largest
//! of the tests of every part the break search could have picked (as a late onset's is). A
//! rise that passes goes through the same gates as any late onset. Where the whole test
//! passed but read linear growth, its slope diluted by the flat part, the late rise replaces
//! that reading when its p is smaller and it passes those gates ([`instead`]).

use super::super::stats::fit::{bic, line_fit, mean_shift};
use super::super::stats::onset::{flat_noise, rise_z, MIN_FLAT_POINTS};
use super::super::stats::scan::after_break_p;
use super::super::stats::trend::{mann_kendall_hamed_rao, sen_slope};
use super::super::{hours_text, limit};
use super::{burst, cycle, level_shift, tail, weekend, yesterday, LifetimeTrial, Outcome, Tested};
use crate::analysis::season::Calendar;
use crate::vocab::{Counter, Shape};

/// How this gate's note begins (its reason code is `late-rise`).
pub(super) const NOTE: &str = "late rise:";

/// Shortest rise tested (as for a late onset found by the whole-lifetime test).
const MIN_RISE_POINTS: usize = 6;
/// The part before the break is flat: it moves (up or down, by the broken line) under this
/// share of what the rise climbs, as for a late onset (more, and the break is a trough). Its
/// own trend test is not asked: a drift of a few MB over hours is significant on 25 quiet
/// points and nothing beside a rise of hundreds.
const FLAT_SHARE: f64 = 0.3;
/// The rise's own trend test must point up at this one-sided p: the noise model says how
/// unusual the slope is, the rise's own ranks that it is a rise and not one jump.
const RISE_OWN_P: f64 = 0.05;
/// Evidence a rescued rise must bring (the whole-lifetime screen's level).
const RESCUE_P: f64 = 0.05;

/// The outcome for a lifetime whose whole-lifetime test found no growth but whose end rises
/// clearly above the noise of a flat part before it; `None` leaves it without a trend.
pub(super) fn judge(
    g: &Tested,
    trial: &mut LifetimeTrial,
    kind: Counter,
    (cyclic, calendar): (bool, Option<&Calendar>),
) -> Option<Outcome> {
    let stick = g.stick()?;
    let (s1, s2) = (stick.slope_before, stick.slope_after);
    let b = stick.break_index;
    let m = g.x.len();
    let moved = s1.abs() * (stick.break_time - trial.start_hours);
    let climbed = s2 * (trial.end_hours - stick.break_time);
    if !(s2 > 0.0
        && moved < FLAT_SHARE * climbed
        && b >= MIN_FLAT_POINTS
        && m - b >= MIN_RISE_POINTS)
    {
        return None;
    }
    let (tb, xb) = (&g.t[..b], &g.x[..b]);
    let (ta, xa) = (&g.t[b..], &g.x[b..]);
    let own = mann_kendall_hamed_rao(ta, xa)?;
    if own.p_increasing >= RISE_OWN_P {
        return None;
    }
    if one_step(ta, xa) || !steeper_than_before(tb, xb, ta, xa) {
        return None;
    }
    let noise = flat_noise(tb, xb)?;
    let z = rise_z(ta, xa, &noise)?;
    // Only a p under this matters: the scan stops summing once it cannot get there.
    let needed = RESCUE_P.min(trial.p);
    let p = after_break_p(z, g.t, MIN_RISE_POINTS, needed);
    if p >= needed {
        return None;
    }
    let post = sen_slope(ta, xa, own.var_s_corrected, 0.95).filter(|s| s.slope > 0.0)?;
    if let Some(note) = yesterday::back_to_yesterday(g.t, g.x, stick.break_time, post.slope) {
        trial.notes.push(note);
        return None;
    }
    let rise = post.slope * (trial.end_hours - stick.break_time);
    let level = trial.level.abs();
    if rise < (0.01 * level).max(limit::growth_floor(kind)) {
        return None;
    }
    trial.sen = Some(post);
    trial.p = p;
    trial.fit_start_hours = stick.break_time;
    trial.notes.push(format!(
        "{NOTE} onset at {}, the rise after it stands out from the noise of the flat {} before it (z={z:.1} with that noise's AR(1) phi={:.2}; p={p:.1e} with the break's choice paid for), where the whole lifetime's test cannot see so short a rise",
        hours_text(stick.break_time),
        hours_text(stick.break_time - trial.start_hours),
        noise.phi
    ));
    let mut soft = Vec::new();
    if let Some(rejected) = tail::judge(g, trial)
        .or_else(|| level_shift::judge(g, trial, 0, &mut soft))
        .or_else(|| burst::judge(g, trial, &mut soft))
        .or_else(|| {
            (!cyclic)
                .then_some(calendar)
                .flatten()
                .and_then(|c| weekend::judge(g, trial, c))
        })
    {
        return Some(rejected);
    }
    if (trial.end_hours - stick.break_time) / g.span < 0.2 {
        soft.push("onset in the last 20% of the log".into());
    }
    cycle::weaken(g, trial, &mut soft);
    Some(Outcome::Candidate {
        shape: Shape::LateOnset,
        soft,
    })
}

/// A lifetime the whole test read as linear growth that is really a flat part and a late
/// rise: the rise judged against the flat part's noise, when that beats the whole test and
/// the rise passes the gates as a late onset. `fresh` is the trial as the whole test left it.
pub(super) fn instead(
    g: &Tested,
    mut fresh: LifetimeTrial,
    kind: Counter,
    context: (bool, Option<&Calendar>),
) -> Option<(LifetimeTrial, Outcome)> {
    match judge(g, &mut fresh, kind, context)? {
        candidate @ Outcome::Candidate { .. } => Some((fresh, candidate)),
        _ => None,
    }
}

/// The rise is one step: a mean shift fits it better than a line, by BIC (one parameter more).
/// A level shift or a burst at the end rises as steeply as a leak's onset, but all at once.
fn one_step(t: &[f64], x: &[f64]) -> bool {
    let n = x.len();
    match (line_fit(t, x), mean_shift(x, 2)) {
        (Some(line), Some(step)) => bic(step.rss, n, 3) < bic(line.rss, n, 2),
        _ => false,
    }
}

/// The rise climbs faster than any stretch of the flat part as long as it: the noise model
/// is AR(1), and a flat part that holds cycles or slow swings shows them here, in its own
/// windows, whatever the model says.
fn steeper_than_before(tb: &[f64], xb: &[f64], ta: &[f64], xa: &[f64]) -> bool {
    let Some(rise) = line_fit(ta, xa) else {
        return false;
    };
    let k = xa.len();
    (0..xb.len().saturating_sub(k - 1))
        .filter_map(|i| line_fit(&tb[i..i + k], &xb[i..i + k]))
        .all(|w| w.slope < rise.slope)
}

#[cfg(test)]
mod tests {
    use super::super::{try_lifetime, MIN_SAMPLES, MIN_SPAN_HOURS};
    use crate::vocab::Counter;

    /// Flat AR(1) noise of marginal sd 20 around 1000.
    fn flat_ar1(n: usize, phi: f64, state: &mut u64) -> Vec<f64> {
        crate::analysis::stats::onset::tests::ar1(n, phi, state)
            .into_iter()
            .map(|v| 1000.0 + 20.0 * v)
            .collect()
    }

    #[test]
    fn flat_noise_seldom_passes_for_a_late_rise() {
        // 8 h logs of flat AR(1) noise sampled every 15 minutes (33 points) and every 15
        // seconds (1920, in 180 blocks): the lifetimes this gate rescues with p under 1e-3
        // stay near that share, however long the noise lingers.
        for (n, phi, reps) in [(33, 0.5, 3000), (33, 0.9, 3000), (1920, 0.9, 300)] {
            let mut state = n as u64 + (phi * 100.0) as u64;
            let t: Vec<f64> = (0..n).map(|i| 8.0 * i as f64 / (n - 1) as f64).collect();
            let mut rescued = 0;
            for _ in 0..reps {
                let x = flat_ar1(n, phi, &mut state);
                let shortest = (MIN_SPAN_HOURS, MIN_SAMPLES);
                let trial = try_lifetime(&t, &x, Counter::HandleCount, None, shortest, false, None);
                rescued += usize::from(
                    trial.p < 1e-3 && trial.notes.iter().any(|n| n.starts_with(super::NOTE)),
                );
            }
            let share = rescued as f64 / reps as f64;
            assert!(share <= 3e-3, "n={n} phi={phi}: {rescued} of {reps}");
        }
        // The same noise with a rise of 42 sd over its last 22% is rescued (a draw whose whole
        // lifetime test misses it): the gate is reached.
        let mut state = 6;
        let t: Vec<f64> = (0..33).map(|i| i as f64 * 0.25).collect();
        let mut x = flat_ar1(33, 0.5, &mut state);
        for (i, v) in x.iter_mut().enumerate().skip(26) {
            *v += 120.0 * (i - 25) as f64;
        }
        let trial = try_lifetime(
            &t,
            &x,
            Counter::HandleCount,
            None,
            (MIN_SPAN_HOURS, MIN_SAMPLES),
            false,
            None,
        );
        assert!(
            trial.notes.iter().any(|n| n.starts_with(super::NOTE)) && trial.p < 1e-6,
            "{trial:?}"
        );
    }
}
