//! Rule: restart-masked growth. Restarts that keep cutting a leaking process short hide the
//! leak from any one lifetime's test; when at least half the tested lifetimes grow (two or
//! more), their tests combined (Stouffer, then the log-wide FDR) reach q <= Q_LEAK, their
//! slopes agree within 3x (or three or more lifetimes all grow) and not all of them are dying
//! out, the series leaks (`restart-masked`). Lifetimes covering under a day in all cannot rule
//! out a daily cycle: `suspect` then; so are restarts read from sharp drops alone that neither
//! an identity counter nor the process's other counters falling with them show (a process
//! freeing memory drops too). Drops that every one of those other counters keeps its level
//! through are no restarts: the split does not cut there (see `siblings`).

use super::super::lifetime::CutReason;
use super::super::siblings::fell_at;
use super::super::{gates, growth_sentence, hours_text, per_hour, Reason, Verdict, Q_LEAK};
use super::dying_out::dying_out;
use super::{Decision, Evidence};
use crate::format;
use crate::vocab::{Counter, Shape};

/// Whether the passing lifetimes make a restart-masked leak (computed with the evidence).
pub(crate) fn applies(e: &Evidence) -> bool {
    let s = e.s;
    let (passing, tested) = (&e.passing, &e.tested);
    let slopes_agree = |idx: &[usize]| {
        let slopes: Vec<f64> = idx
            .iter()
            .filter_map(|&i| s.lifetimes[i].sen.map(|x| x.slope))
            .collect();
        let (lo, hi) = slopes
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        slopes.len() == idx.len() && lo > 0.0 && hi <= 3.0 * lo
    };
    passing.len() >= 2
        && 2 * passing.len() >= tested.len()
        && s.combined_q.is_some_and(|q| q <= Q_LEAK)
        && (slopes_agree(passing) || (passing.len() >= 3 && passing.len() == tested.len()))
        && !passing.iter().all(|&i| dying_out(e, i).is_some())
}

pub(crate) fn decide(e: &Evidence) -> Option<Decision> {
    if !e.masked {
        return None;
    }
    let shown = restarts_shown(e);
    let s = e.s;
    // The slope comes from the longest growing lifetime (a short last one is mostly the
    // warm-up after the restart); the forecast still starts from the current level.
    let longest = e
        .passing
        .iter()
        .copied()
        .max_by(|&a, &b| {
            s.lifetimes[a]
                .coverage_hours()
                .total_cmp(&s.lifetimes[b].coverage_hours())
        })
        .unwrap_or(e.tested[0]);
    let mut d = Decision {
        verdict: Verdict::Leak,
        shape: Shape::RestartMasked,
        confidence: 0.0,
        reasons: Vec::new(),
        decisive: Some(longest),
        current: e.passing.last().copied(),
        q_value: s.combined_q,
        p_value: s.combined_p,
        floors_rate: None,
    };
    let covered = e.passing_hours();
    d.reasons
        .push(Reason::new("restart-masked", lifetimes_grew(e, longest)));
    d.reasons.push(Reason::new(
        "growth-certain",
        growth_sentence(
            d.q_value.unwrap_or(1.0),
            "trend tests of its lifetimes combined (Stouffer),",
        ),
    ));
    d.reasons.push(Reason::new(
        "lifetimes-agree",
        format!(
            "{}/{} lifetimes agree on the growth",
            e.passing.len(),
            e.tested.len()
        ),
    ));
    if e.pooled {
        d.reasons.push(Reason::new(
            "lifetimes-pooled",
            format!(
                "every lifetime is shorter than {} h: they are judged together only",
                gates::MIN_SPAN_HOURS
            ),
        ));
    }
    if covered < 24.0 {
        d.verdict = Verdict::Suspect;
        d.reasons.push(Reason::new(
            "cycle-confound",
            format!(
                "lifetimes cover only {}: a daily cycle cannot be ruled out",
                hours_text(covered)
            ),
        ));
    }
    if !shown {
        d.verdict = Verdict::Suspect;
        d.reasons.push(Reason::new(
            "restarts-unconfirmed",
            "the restarts are read from sharp drops alone: with no ID Process or Elapsed Time in the log, a process that frees memory (a trim, a garbage collection) drops alike and climbs back; logging either would settle it",
        ));
    }
    d.confidence = if d.verdict == Verdict::Leak {
        0.9
    } else {
        0.55
    };
    Some(d)
}

/// Whether the series' restarts are shown to be restarts: by identity (`ID Process` changed,
/// `Elapsed Time` fell, the instance vanished and returned), or, where only a sharp drop cut
/// it, by most other level counters of the process logged (handles, threads, memory) falling
/// at the same samples, as a new process's do. A process that frees memory (a trim, a garbage
/// collection) or closes a pool of handles drops one or two counters, not most. (Drops that
/// none of them moves at were no restarts and cut nothing.)
fn restarts_shown(e: &Evidence) -> bool {
    let s = e.s;
    let cuts = &s.split.cuts;
    if s.system.is_some()
        || s.labels.len() > 1
        || cuts.is_empty()
        || cuts.iter().any(|&(_, why)| why != CutReason::SharpDrop)
    {
        return true;
    }
    let me = &e.log.columns[s.column].path;
    let siblings: Vec<Vec<f64>> = e
        .log
        .columns
        .iter()
        .enumerate()
        .filter(|&(i, c)| {
            i != s.column
                && c.path.same_instance(me)
                && Counter::from_name(&c.path.counter).is_some_and(|k| !k.is_system())
        })
        .map(|(_, c)| c.values.to_vec())
        .collect();
    // Most, not all: a new process may start as many threads as the old one ran.
    !siblings.is_empty()
        && cuts.iter().all(|&(at, _)| {
            2 * siblings.iter().filter(|v| fell_at(v, at)).count() >= siblings.len()
        })
}

/// How much each growing lifetime grew, in the counter's terms: "each of its 4 lifetimes
/// grew, by 31–48 MB (about +12.2 MB/h); restarts hide it". Not first → last of the whole log,
/// which after a restart reads as a fall.
fn lifetimes_grew(e: &Evidence, longest: usize) -> String {
    let s = e.s;
    let growths: Vec<f64> = e.passing.iter().map(|&i| s.lifetimes[i].growth).collect();
    let (lo, hi) = growths
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &g| {
            (a.min(g), b.max(g))
        });
    let total = s.lifetimes.len().max(e.tested.len());
    let which = if e.passing.len() == total {
        format!("each of its {total} lifetimes")
    } else {
        format!("{} of its {total} lifetimes", e.passing.len())
    };
    let rate = s.lifetimes[longest]
        .sen
        .map(|x| format!(" (about {})", per_hour(s.kind, x.slope)))
        .unwrap_or_default();
    format!(
        "{which} grew, by {}{rate}; restarts hide it",
        format::amount_range(lo, hi, &s.kind.unit())
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::{linear_trial, series};
    use super::*;

    #[test]
    fn agreeing_lifetimes_with_a_strong_combined_test_leak() {
        let (log, mut s) = series(
            vec![linear_trial(30.0), linear_trial(30.0)],
            vec![Some(0.02), Some(0.02)],
        );
        s.combined_q = Some(1e-6);
        let d = decide(&Evidence::new(&log, &s)).expect("restart-masked");
        assert_eq!((d.verdict, d.shape), (Verdict::Leak, Shape::RestartMasked));
        assert!(
            d.reasons[0].starts_with("each of its 2 lifetimes grew, by "),
            "{}",
            d.reasons[0]
        );
        assert!(d.reasons[0].ends_with("; restarts hide it"));
        assert_eq!(d.reasons[2], "2/2 lifetimes agree on the growth");
        // A combined test that is not strong enough leaves the series to the other rules.
        s.combined_q = Some(0.05);
        assert_eq!(decide(&Evidence::new(&log, &s)), None);
    }

    #[test]
    fn lifetimes_covering_under_a_day_are_only_suspect() {
        let (log, mut s) = series(
            vec![linear_trial(8.0), linear_trial(8.0)],
            vec![Some(0.02), Some(0.02)],
        );
        s.combined_q = Some(1e-6);
        let d = decide(&Evidence::new(&log, &s)).expect("restart-masked");
        assert_eq!((d.verdict, d.confidence), (Verdict::Suspect, 0.55));
        assert!(d.reasons.last().unwrap().contains("cannot be ruled out"));
    }
}
