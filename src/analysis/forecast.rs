//! The forecast of a flagged series: the limit its counter runs into, the time to it with its
//! interval, the severity, and the reasons that state the trend; then the rules that read the
//! forecast ([`partial_day`](super::rules::partial_day)) and the leak's confidence.

use super::gates::LifetimeTrial;
use super::limit::{self, Bitness, Limit};
use super::rules::{growing_hours, partial_day, relative_growth, Decision, Evidence};
use super::stats::trend::SenSlope;
use super::system_limit;
use super::{amount, hours_text, per_hour, Reason, Severity, Verdict};
use crate::format;
use crate::vocab::Counter;

/// What the forecast adds to a finding.
pub(crate) struct Forecast {
    pub limit: Option<Limit>,
    pub time_to_limit_hours: Option<f64>,
    pub time_to_limit_ci_hours: Option<[Option<f64>; 2]>,
    pub severity: Option<Severity>,
}

/// Forecasts the series from its decisive lifetime (from the current one's level when they
/// differ) and adds the trend's reasons to a flagged decision.
pub(crate) fn apply(e: &Evidence, d: &mut Decision) -> Forecast {
    let s = e.s;
    let kind = s.kind;
    let decisive = d.decisive.map(|i| e.lifetime(i));
    let trend = Trend::of(d, decisive);
    // Where the floors decide, the live set runs out: the floors' level, not the teeth's.
    let level_now = d
        .floors_rate
        .map(|r| r.at_end())
        .or_else(|| {
            d.current
                .or(d.decisive)
                .and_then(|i| s.lifetimes[i].level_at_end())
        })
        .or(e.last)
        .unwrap_or(0.0);
    let bitness = Bitness::of(s.max_virtual_bytes, s.machine_x64.as_deref());
    // A falling series (memory left) is analysed as what it lost since its highest point: its
    // limit and level read back in the counter's own terms.
    let ceiling = s.system.as_ref().and_then(|c| c.ceiling);
    let as_logged = |v: f64| ceiling.map_or(v, |c| c - v);
    let limit = match &s.system {
        Some(ctx) => system_limit::limit_for(
            kind,
            &system_limit::Machine {
                observed_max: ctx.observed_max,
                commit_limit: ctx.commit_limit,
                x64: s.machine_x64.as_deref(),
                year: ctx.year,
            },
        )
        .map(|l| Limit {
            value: as_logged(l.value),
            ..l
        }),
        None => limit::limit_for(
            kind,
            level_now,
            s.max_virtual_bytes,
            s.commit_headroom,
            &bitness,
        ),
    };
    let mut forecast = Forecast {
        limit: None,
        time_to_limit_hours: None,
        time_to_limit_ci_hours: None,
        severity: None,
    };
    let Some(trend) = trend else {
        forecast.limit = limit;
        return forecast;
    };
    let sen = trend.sen;
    if d.verdict.is_flagged() {
        trend_reasons(d, kind, &trend);
        let band = limit::forecast_band(sen.slope, sen.lower, sen.upper, trend.halves);
        if let Some(lim) = &limit {
            if let Some((h, ci)) =
                limit::time_to_limit(lim.value, level_now, sen.slope, band.0, band.1)
            {
                forecast.time_to_limit_hours = Some(h);
                forecast.time_to_limit_ci_hours = Some(ci);
                // Judged, like the time to limit, from the trend's end: the last sample is
                // noisier. One threshold decides both.
                forecast.severity = Some(limit::severity(h));
                d.reasons.push(Reason::new(
                    "limit-forecast",
                    format!(
                        "at this rate the {} ({}) is reached in about {} ({} to {})",
                        lim.name,
                        amount(kind, as_logged(lim.value)),
                        hours_text(h),
                        ci[0].map_or("?".into(), hours_text),
                        ci[1].map_or("never".into(), hours_text),
                    ),
                ));
                if level_now >= lim.value {
                    d.reasons.push(Reason::new(
                        "limit-passed",
                        format!(
                            "already past the {} of {} ({})",
                            lim.name,
                            amount(kind, as_logged(lim.value)),
                            amount(kind, as_logged(level_now))
                        ),
                    ));
                }
                if let Some(assumption) = &lim.assumption {
                    d.reasons
                        .push(Reason::new("limit-assumption", assumption.clone()));
                }
                // Exhaustion, not an alert threshold, outweighs the partial-day caveat.
                let exhaustion_upper = match lim.exhaustion {
                    Some(fails_at) => {
                        limit::time_to_limit(fails_at, level_now, sen.slope, band.0, band.1)
                            .and_then(|(_, ci)| ci[1])
                    }
                    None => ci[1],
                };
                partial_day::apply(e, d, exhaustion_upper);
            }
        }
        if d.verdict == Verdict::Leak && d.confidence < 0.9 {
            d.confidence = leak_confidence(d.q_value, trend.relative, trend.lifetime);
        }
    }
    forecast.limit = limit;
    forecast
}

/// The trend a finding reports: its decisive lifetime's Sen slope, or, where a sawtooth's
/// floors decide, theirs (`rules::sawtooth::rising`).
struct Trend<'a> {
    sen: SenSlope,
    /// The slopes of the two halves, which widen the forecast's band.
    halves: Option<(f64, f64)>,
    /// Growth over the growing part at the slope, as a share of the level, and those hours.
    relative: f64,
    hours: f64,
    lifetime: Option<&'a LifetimeTrial>,
    /// The teeth whose floors it is read from.
    floors: Option<usize>,
}

impl<'a> Trend<'a> {
    fn of(d: &Decision, decisive: Option<&'a LifetimeTrial>) -> Option<Trend<'a>> {
        if let Some(r) = d.floors_rate {
            return Some(Trend {
                sen: r.sen,
                halves: None,
                relative: r.relative_growth(),
                hours: r.hours(),
                lifetime: decisive,
                floors: Some(r.teeth),
            });
        }
        let l = decisive?;
        Some(Trend {
            sen: l.sen?,
            halves: l.half_slopes,
            relative: relative_growth(l),
            hours: growing_hours(l),
            lifetime: Some(l),
            floors: None,
        })
    }
}

/// The slope with its interval second, the growth over the growing part third, then the
/// lifetime's own notes.
fn trend_reasons(d: &mut Decision, kind: Counter, trend: &Trend) {
    let sen = trend.sen;
    let (over, of) = match trend.floors {
        Some(n) => (
            format!(" over the floors of its {n} teeth, what the process keeps"),
            "of the floors' median level",
        ),
        None => (String::new(), "of the median level"),
    };
    let reasons = &mut d.reasons;
    reasons.insert(
        1.min(reasons.len()),
        Reason::new(
            "slope",
            format!(
                "Sen {}{over} (95% CI {})",
                per_hour(kind, sen.slope),
                format::rate_interval(
                    Some(if kind.falls() {
                        [-sen.upper, -sen.lower]
                    } else {
                        [sen.lower, sen.upper]
                    }),
                    &kind.unit()
                )
            ),
        ),
    );
    reasons.insert(
        2.min(reasons.len()),
        // Relative to the median level, not to the first sample as `growth_percent` is: say
        // so, or the two figures read as a contradiction.
        Reason::new(
            "growth-relative",
            format!(
                "trend +{:.0}% {of} over {}",
                100.0 * trend.relative,
                hours_text(trend.hours)
            ),
        ),
    );
    reasons.extend(
        trend
            .lifetime
            .iter()
            .flat_map(|l| &l.notes)
            .map(|note| Reason::new(super::gates::note_code(note), note.clone())),
    );
}

/// A leak's confidence: high for a strong q, large growth, a persistent tail and a full day
/// (or several lifetimes) so that a cycle cannot pass for growth; scaled by the q's strength.
/// `rel`: the reported growth as a share of the level.
fn leak_confidence(q_value: Option<f64>, rel: f64, l: Option<&LifetimeTrial>) -> f64 {
    let high = q_value.is_some_and(|q| q <= 1e-4)
        && rel >= 0.2
        && l.is_none_or(|l| l.tail_ratio.is_none_or(|r| r >= 0.6) && !l.cycle_confound);
    let strength = q_value.map_or(0.0, |q| (-q.max(1e-300).log10() / 20.0).min(1.0));
    if high {
        0.9 + 0.09 * strength
    } else {
        0.75 + 0.1 * strength
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::testing::linear_trial;
    use super::*;

    #[test]
    fn a_strong_large_steady_leak_is_highly_confident() {
        let l = linear_trial(48.0);
        // ~40% growth over 48 h on a level of ~124, q 1e-20: 0.9 + 0.09.
        let rel = relative_growth(&l);
        assert!((leak_confidence(Some(1e-20), rel, Some(&l)) - 0.99).abs() < 1e-12);
        assert!((leak_confidence(Some(1e-3), rel, Some(&l)) - (0.75 + 0.1 * 0.15)).abs() < 1e-12);
        let mut confounded = l.clone();
        confounded.cycle_confound = true;
        assert!(leak_confidence(Some(1e-20), rel, Some(&confounded)) < 0.9);
    }
}
