//! The log-wide decision for one series: the verdict rules (see [`rules`](super::rules)) in
//! their order, the forecast, the notes on how the series was read, and the finding.

use super::calibrate::Calibration;
use super::load::LoadIndex;
use super::load_adjust;
use super::rules::{self, daily_cycle, Decision, Evidence};
use super::system::{self, SystemSeries};
use super::trial::SeriesTrial;
use super::{forecast, per_hour, Finding, Reason, TrendLine, Verdict};
use crate::ingest::PerfLog;

/// The finding for one series after the log-wide FDR step.
pub(super) fn decide(log: &PerfLog, s: &SeriesTrial, loads: &LoadIndex) -> Finding {
    let e = Evidence::new(log, s);
    let d = main_rules(&e);
    // Growth a cycling workload hides: tried again with the load's effect taken out.
    let adjusted = (!d.verdict.is_flagged())
        .then(|| load_adjust::retry(log, s, loads))
        .flatten();
    if let Some(a) = &adjusted {
        let e = Evidence::new(log, &a.trial);
        let mut d = main_rules(&e);
        if d.verdict.is_flagged() {
            d.reasons.insert(0, load_adjust::reason(a));
            return finish(e, d, loads);
        }
    }
    finish(e, d, loads)
}

/// The finding of a series the rules left `ok` and the second opinion reopens: the rules'
/// decision read as a suspect for the reason `why`, then finished as any other (load, the
/// forecast, the notes). Whatever the load rule makes of it stands.
pub(super) fn reopened(log: &PerfLog, s: &SeriesTrial, loads: &LoadIndex, why: Reason) -> Finding {
    let e = Evidence::new(log, s);
    let mut d = main_rules(&e);
    d.verdict = Verdict::Suspect;
    d.reasons.insert(0, why);
    finish(e, d, loads)
}

/// The main rules, in order: the first that applies sets the verdict.
fn main_rules(e: &Evidence) -> Decision {
    let mut d = rules::insufficient::decide(e)
        .or_else(|| rules::sawtooth::decide(e))
        .or_else(|| rules::warm_up::decide(e))
        .or_else(|| rules::restart_masked::decide(e))
        .or_else(|| rules::strong::decide(e))
        .or_else(|| rules::weak::decide(e))
        .unwrap_or_else(|| rules::no_growth::decide(e));
    rules::sawtooth::rising(e, &mut d);
    rules::sawtooth::unsettled(e, &mut d);
    d
}

/// What follows the main rules: load, renumbering, the forecast, the notes, the finding.
fn finish(e: Evidence, mut d: Decision, loads: &LoadIndex) -> Finding {
    let s = e.s;
    rules::load::apply(&e, &mut d, loads);
    rules::renumbering::apply(&mut d, &s.split);
    let forecast = forecast::apply(&e, &mut d);
    reading_notes(&e, &mut d);
    let decisive = d.decisive.map(|i| e.lifetime(i));
    if let Some(shape) = daily_cycle::shape_of_flat(d.verdict, d.shape, decisive) {
        d.shape = shape;
    }
    finding(&e, d, forecast)
}

/// How the series was read, after the verdict's reasons: the smallest leak a non-detection
/// could have caught, a stitched lineage, the lifetimes and a sawtooth.
fn reading_notes(e: &Evidence, d: &mut Decision) {
    let s = e.s;
    // The detectable slope bounds a test that was run; an untested series has no such bound.
    if d.verdict == Verdict::Ok {
        if let Some(mds) = min_detectable(s) {
            d.reasons.push(Reason::new(
                "detectable-leak",
                format!(
                    "could have detected a leak of about {} or more",
                    per_hour(s.kind, mds)
                ),
            ));
        }
    }
    if s.labels.len() > 1 {
        d.reasons.push(Reason::new(
            "stitched",
            format!(
                "one process lineage seen as {} (stitched by ID Process across #N renumbering)",
                s.labels.join(", ")
            ),
        ));
    }
    if !s.split.cuts.is_empty() {
        let mut why_unique: Vec<&str> = Vec::new();
        for w in s.split.cuts.iter().map(|c| c.1.describe()) {
            if !why_unique.contains(&w) {
                why_unique.push(w);
            }
        }
        d.reasons.push(Reason::new(
            "restarts",
            format!(
                "{} lifetimes ({})",
                s.lifetimes.len(),
                why_unique.join(", ")
            ),
        ));
    }
    // Drops the other counters refute, or inside one life whose teeth the floors read.
    let inside = !s.split.refuted.is_empty() || s.teeth.is_some();
    if inside && !d.reasons.iter().any(|r| r.code == "drops-not-restarts") {
        d.reasons.push(rules::sawtooth::not_restarts(e));
    }
    if s.split.sawtooth_drops > 0 {
        d.reasons.push(Reason::new(
            "sawtooth",
            format!(
                "{} recurring drops read as a sawtooth, not restarts",
                s.split.sawtooth_drops
            ),
        ));
    }
}

/// The smallest slope any lifetime's test could have detected.
fn min_detectable(s: &SeriesTrial) -> Option<f64> {
    s.lifetimes
        .iter()
        .filter_map(|l| l.min_detectable_slope)
        .reduce(f64::min)
}

/// The trend line of each tested lifetime: robust (Sen, from a late onset on) or least-squares;
/// where a sawtooth's floors decide, the robust line is theirs, over the lifetime.
fn fits(e: &Evidence, d: &Decision, robust: bool) -> Vec<TrendLine> {
    if let Some(r) = d.floors_rate.filter(|_| robust) {
        return vec![TrendLine {
            start_hours: r.start_hours,
            end_hours: r.end_hours,
            intercept: r.sen.intercept,
            slope_per_hour: r.sen.slope,
        }];
    }
    e.tested
        .iter()
        .filter_map(|&i| {
            let l = e.lifetime(i);
            if robust {
                l.sen.map(|f| TrendLine {
                    start_hours: l.fit_start_hours,
                    end_hours: l.end_hours,
                    intercept: f.intercept,
                    slope_per_hour: f.slope,
                })
            } else {
                l.ols.map(|f| TrendLine {
                    start_hours: l.start_hours,
                    end_hours: l.end_hours,
                    intercept: f.intercept,
                    slope_per_hour: f.slope,
                })
            }
        })
        .collect()
}

/// Codes of the sentences a flagged series' reasons open with, in this order: what the leak
/// looks like, how sure the growth is, when the limit is reached. The statistics follow.
const LEADING: [&str; 6] = [
    "restart-masked",
    "growth-certain",
    "growth-weak",
    "limit-forecast",
    "limit-passed",
    "partial-day",
];

fn finding(e: &Evidence, mut d: Decision, forecast: forecast::Forecast) -> Finding {
    let s = e.s;
    if d.verdict.is_flagged() {
        // Stable: the other reasons keep their order after the leading sentences.
        d.reasons.sort_by_key(|r| {
            LEADING
                .iter()
                .position(|c| *c == r.code)
                .unwrap_or(LEADING.len())
        });
    }
    let f = process_finding(e, d, forecast);
    match &s.system {
        Some(ctx) => system_finding(e, f, ctx.ceiling),
        None => f,
    }
}

/// A system series' finding: named for the system (`System (pool)`), its figures read back
/// from memory lost to memory left when the counter falls.
fn system_finding(e: &Evidence, mut f: Finding, ceiling: Option<f64>) -> Finding {
    let kind = e.s.kind;
    let path = &e.log.columns[e.s.column].path;
    let area = kind.system_area().expect("a system counter");
    // Named for the system in both: every document labels a series by its instance, and
    // the logged path is in `system.path`.
    f.process = area.process_name();
    f.instance = f.process.clone();
    f.system = Some(SystemSeries {
        area,
        path: path.canonical(),
        falling: kind.falls(),
        likely_consumers: Vec::new(),
        kind: Some(kind),
    });
    let Some(c) = ceiling else {
        return f;
    };
    let back = |v: Option<f64>| v.map(|v| c - v);
    f.first = back(f.first);
    f.last = back(f.last);
    f.growth_percent = match (f.first, f.last) {
        (Some(a), Some(b)) if a > 0.0 => Some(100.0 * (b - a) / a),
        _ => None,
    };
    f.limit = back(f.limit);
    f.slope_per_hour = f.slope_per_hour.map(|v| -v);
    f.slope_ci95 = f.slope_ci95.map(|[lo, hi]| [-hi, -lo]);
    f.ols_slope_per_hour = f.ols_slope_per_hour.map(|v| -v);
    for line in f.robust_fits.iter_mut().chain(f.ols_fits.iter_mut()) {
        *line = system::line_as_logged(*line, c);
    }
    f
}

fn process_finding(e: &Evidence, d: Decision, forecast: forecast::Forecast) -> Finding {
    let s = e.s;
    let col = &e.log.columns[s.column];
    let decisive = d.decisive.map(|i| e.lifetime(i));
    let sen = d
        .floors_rate
        .map(|r| r.sen)
        .or_else(|| decisive.and_then(|l| l.sen));
    let ols = decisive.and_then(|l| l.ols);
    let growth_percent = match (e.first, e.last) {
        (Some(f), Some(l)) if f > 0.0 => Some(100.0 * (l - f) / f),
        _ => None,
    };
    let evidence_hours = evidence_hours(e, &d);
    let (robust_fits, ols_fits) = (fits(e, &d, true), fits(e, &d, false));
    Finding {
        process: col.path.process_name().unwrap_or_default().to_string(),
        instance: col.path.instance_label().unwrap_or_default(),
        pids: s.split.pids.clone(),
        counter: col.path.counter.clone(),
        verdict: d.verdict,
        confidence: d.confidence.clamp(0.0, 1.0),
        slope_per_hour: sen.map(|x| x.slope),
        slope_ci95: sen.map(|x| [x.lower, x.upper]),
        r_squared: ols.map(|o| o.r_squared),
        p_value: d.p_value,
        first: e.first,
        last: e.last,
        growth_percent,
        segments: s.lifetimes.len().max(1),
        limit: forecast.limit.as_ref().map(|l| l.value),
        limit_name: forecast.limit.as_ref().map(|l| l.name.clone()),
        limit_assumption: forecast.limit.as_ref().and_then(|l| l.assumption.clone()),
        time_to_limit_hours: forecast.time_to_limit_hours,
        chart: None,
        machine: col.path.machine.clone(),
        severity: forecast.severity,
        q_value: d.q_value,
        time_to_limit_ci_hours: forecast.time_to_limit_ci_hours,
        ols_slope_per_hour: ols.map(|o| o.slope),
        ols_slope_se: ols.map(|o| o.slope_se),
        min_detectable_slope_per_hour: if d.verdict == Verdict::InsufficientData {
            None
        } else {
            min_detectable(s)
        },
        shape: d.shape,
        reason_codes: d.reasons.iter().map(|r| r.code.to_string()).collect(),
        reasons: d.reasons.into_iter().map(|r| r.text).collect(),
        samples: s.finite_count,
        span_hours: e.span_hours,
        unit: s.kind.unit(),
        column: s.column,
        restarts: s.split.cuts.iter().map(|c| c.0).collect(),
        refuted_drops: s.split.refuted.clone(),
        robust_fits,
        fit_on_floors: d.floors_rate.is_some(),
        ols_fits,
        stitched_values: s.shown.clone().or_else(|| s.values.clone()),
        system: None,
        calibration: Some(Calibration {
            evidence_hours,
            ..Calibration::of_rules(d.verdict, d.confidence.clamp(0.0, 1.0))
        }),
        second_opinion: None,
    }
}

/// Hours of data the verdict's growth rests on: the lifetimes a restart-masked leak combines,
/// else the decisive lifetime's growing part (from the onset of a late onset). A log of a day
/// whose growth was judged on a few hours of it has not shown a day of growth.
fn evidence_hours(e: &Evidence, d: &Decision) -> Option<f64> {
    if d.shape == crate::vocab::Shape::RestartMasked {
        return Some(e.passing_hours());
    }
    Some(e.lifetime(d.decisive?).growth_hours())
}
