//! Rule: too little to test. A series with no lifetime long enough to test, or whose only
//! tested lifetimes are restart-cut short ones that do not add up to a restart-masked leak, is
//! `insufficient-data`: the reason says what the series did (the observed change, not a
//! verdict) and what a test needs, so a short log is never read as a clean bill of health.

use super::super::{amount, gates, hours_text, Reason, Verdict};
use super::{Decision, Evidence};
use crate::vocab::{Counter, Shape};

pub(crate) fn decide(e: &Evidence) -> Option<Decision> {
    if !(e.tested.is_empty() || (e.pooled && !e.masked)) {
        return None;
    }
    let s = e.s;
    let col = &e.log.columns[s.column];
    let longest = (0..s.lifetimes.len()).max_by(|&a, &b| {
        s.lifetimes[a]
            .span_hours()
            .total_cmp(&s.lifetimes[b].span_hours())
    });
    let (span, n) = longest.map_or((0.0, 0), |i| {
        (s.lifetimes[i].span_hours(), s.lifetimes[i].samples)
    });
    // A system series is named for the system, its change told as logged (memory left falls).
    let name = match s.kind.system_area() {
        Some(area) => area.process_name(),
        None => col.path.instance.clone().unwrap_or_default(),
    };
    let ceiling = s.system.as_ref().and_then(|c| c.ceiling);
    let as_logged = |v: f64| ceiling.map_or(v, |c| c - v);
    let mut reasons = vec![observed_change(
        &name,
        &col.path.counter,
        s.kind,
        e.first
            .zip(e.last)
            .map(|(a, b)| (as_logged(a), as_logged(b))),
        e.span_hours,
    )];
    if s.lifetimes.len() > 1 {
        // The log is long enough; its processes did not live long enough.
        reasons[0] = reasons[0].replace("too short", "each process lifetime too short");
        reasons.push(format!(
            "{} lifetimes, the longest {} with {} samples",
            s.lifetimes.len(),
            hours_text(span),
            n
        ));
    }
    let mut reasons: Vec<Reason> = reasons
        .into_iter()
        .map(|text| Reason::new("short-lifetimes", text))
        .collect();
    if let Some(first) = reasons.first_mut() {
        first.code = "insufficient-data";
    }
    Some(Decision {
        verdict: Verdict::InsufficientData,
        shape: Shape::Unknown,
        confidence: 0.3,
        reasons,
        decisive: None,
        current: None,
        q_value: None,
        p_value: None,
        floors_rate: None,
    })
}

/// What an untested (too short) series did, in words: the observed change, not a verdict.
fn observed_change(
    process: &str,
    counter: &str,
    kind: Counter,
    ends: Option<(f64, f64)>,
    span_hours: f64,
) -> String {
    let needs = format!(
        "too short to tell a leak from activity (needs >= {} h and {} samples)",
        gates::MIN_SPAN_HOURS,
        gates::MIN_SAMPLES
    );
    let Some((first, last)) = ends else {
        return format!("{process} {counter}: no values; {needs}");
    };
    let change = last - first;
    let what = if first > 0.0 {
        let pct = 100.0 * change / first;
        if pct.abs() < 1.0 {
            format!("held within 1% ({})", amount(kind, last))
        } else {
            format!(
                "{} {:.0}% ({} to {})",
                if pct > 0.0 { "rose" } else { "fell" },
                pct.abs(),
                amount(kind, first),
                amount(kind, last)
            )
        }
    } else {
        format!(
            "went from {} to {}",
            amount(kind, first),
            amount(kind, last)
        )
    };
    format!(
        "{process} {counter} {what} in {}; {needs}",
        hours_text(span_hours)
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::series;
    use super::*;

    #[test]
    fn an_untested_series_says_what_it_did_and_what_a_test_needs() {
        let (log, s) = series(Vec::new(), Vec::new());
        let d = decide(&Evidence::new(&log, &s)).expect("nothing tested");
        assert_eq!(d.verdict, Verdict::InsufficientData);
        assert!(d.reasons[0].starts_with("app Handle Count: no values; too short"));
        let rose = observed_change(
            "app",
            "Handle Count",
            Counter::HandleCount,
            Some((100.0, 150.0)),
            2.0,
        );
        assert!(
            rose.starts_with("app Handle Count rose 50% (100 handles to 150 handles) in 2.0 h"),
            "{rose}"
        );
    }

    #[test]
    fn a_tested_series_is_left_to_the_other_rules() {
        let (log, s) = series(
            vec![super::super::testing::linear_trial(48.0)],
            vec![Some(1e-9)],
        );
        assert_eq!(decide(&Evidence::new(&log, &s)), None);
    }
}
