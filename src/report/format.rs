//! The sentences the report's documents share about a finding (headline, figures), built from
//! the crate's one formatter ([`crate::format`]), which this module also re-exports for the
//! HTML, Markdown and chart writers.

pub use crate::format::{
    amount, display_scale_for, display_unit, duration_hours, duration_interval, grouped, growth,
    number, p_value, percent_of_one, probability, quantity, rate, rate_interval,
};

use crate::analysis::{Finding, Verdict};
use crate::vocab::Shape;

/// Process and PIDs as one label: `winlogon (PID 212)`, `svchost#1 (PIDs 800, 912)`.
pub fn process_label(f: &Finding) -> String {
    match f.pids.len() {
        0 => f.instance.clone(),
        1 => format!("{} (PID {})", f.instance, f.pids[0]),
        _ => {
            let pids: Vec<String> = f.pids.iter().map(|p| p.to_string()).collect();
            format!("{} (PIDs {})", f.instance, pids.join(", "))
        }
    }
}

/// The few words a reader needs first: `winlogon (PID 212) leaks Handle Count`.
pub fn headline(f: &Finding) -> String {
    let verb = match f.verdict {
        Verdict::Leak => "leaks",
        Verdict::Suspect => "may leak",
        Verdict::Ok => "does not leak",
        Verdict::InsufficientData => "has too few samples to judge",
    };
    format!("{} {verb} {}", process_label(f), f.counter)
}

/// A series that moved without being flagged, for the "moved most" lists, with the reason it
/// was judged healthy when it was judged:
/// `QQ Handle Count: +13.1% (1,737 → 1,965 handles) in 1.0 h`.
pub fn moved_sentence(f: &Finding) -> String {
    let why = match f.reasons.first() {
        Some(r) if f.verdict == Verdict::Ok => format!("; not a leak: {r}"),
        _ => String::new(),
    };
    format!(
        "{} {}: {} ({} → {}) in {}{why}",
        f.instance,
        f.counter,
        growth(f.growth_percent),
        amount(f.first, &f.unit),
        quantity(f.last, &f.unit),
        duration_hours(Some(f.span_hours))
    )
}

/// One plain-text sentence on a series, verdict first, for the headline of every document:
/// what grows, how fast, from what to what, and when it reaches its limit.
pub fn finding_sentence(f: &Finding) -> String {
    format!("{}: {}", headline(f), finding_details(f))
}

/// The figures behind a headline: rate, range, time to the limit, confidence.
pub fn finding_details(f: &Finding) -> String {
    let mut s = format!("{} confidence", probability(f.confidence));
    if f.slope_per_hour.is_some() {
        s.push_str(&format!(", {}", rate(f.slope_per_hour, &f.unit)));
        if f.slope_ci95.is_some() {
            s.push_str(&format!(
                " (95% CI {})",
                rate_interval(f.slope_ci95, &f.unit)
            ));
        }
    }
    // After a restart the last value can be below the first: a restart-masked leak says how
    // much each lifetime grew instead, which is what the leak is.
    let lifetimes = (f.shape == Shape::RestartMasked)
        .then(|| f.reason("restart-masked"))
        .flatten();
    if let Some(grew) = lifetimes {
        s.push_str(&format!(
            "; over {} {grew}",
            duration_hours(Some(f.span_hours))
        ));
    } else if f.first.is_some() && f.last.is_some() {
        s.push_str(&format!(
            ", {} → {} over {}",
            quantity(f.first, &f.unit),
            quantity(f.last, &f.unit),
            duration_hours(Some(f.span_hours))
        ));
        if f.segments > 1 {
            s.push_str(&format!(" across {} lifetimes", f.segments));
        }
    }
    // The limit is named wherever it is given: "its commit headroom", "its handle alert
    // threshold", so a reader knows what runs out.
    let limit_name = f.limit_name.as_deref().unwrap_or("limit");
    match (f.limit, f.time_to_limit_hours) {
        (Some(limit), Some(ttl)) if limit.is_finite() && ttl.is_finite() => {
            s.push_str(&format!(
                "; reaches its {limit_name} of {} in {}",
                quantity(Some(limit), &f.unit),
                duration_hours(Some(ttl))
            ));
            let lo_known =
                matches!(f.time_to_limit_ci_hours, Some([Some(lo), _]) if lo.is_finite());
            if lo_known {
                s.push_str(&format!(
                    " (interval {})",
                    duration_interval(f.time_to_limit_ci_hours)
                ));
            }
        }
        (Some(limit), Some(ttl)) if limit.is_finite() && ttl.is_infinite() => {
            s.push_str(&format!(
                "; at this rate it never reaches its {limit_name} of {}",
                quantity(Some(limit), &f.unit)
            ));
        }
        _ => {}
    }
    s.push('.');
    s
}
