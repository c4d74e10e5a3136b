//! Rule: load as evidence, after the main rule. A flagged series whose growth the workload
//! explains (see [`load`](super::super::load)) is `ok`, `load-driven`; a strong `suspect` held
//! back only because its lifetime cannot rule out a daily cycle is a `leak` when it keeps
//! growing while every load counter of the log stays flat or falls (a cycle would come from the
//! workload). A `leak` whose growth the process's own rising load fits about as well as time
//! is a `suspect`. The machine's load alone is read only for a suspect it may settle. A suspect
//! left with that caveat in a lifetime under a day says what would settle it.
//! An `ok` that only that caveat decided (strong growth, small and at moderate q, in a lifetime
//! under 20 h) is heard the same way: steady load makes it a `suspect`, load that explains it
//! makes it `load-driven`, and otherwise it says what would settle it.
//! Without load counters nothing changes but what the reasons say would settle it.

use super::super::day_evidence;
use super::super::load::{LoadEvidence, LoadIndex};
use super::super::{hours_text, Reason, Verdict};
use super::{confined, daily_cycle, not_repeated, Decision, Evidence};
use crate::vocab::Shape;

pub(crate) fn apply(e: &Evidence, d: &mut Decision, loads: &LoadIndex) {
    if let Some(best) = held_back(e, d) {
        settle_held_back(e, d, loads, best);
        return;
    }
    let Some(best) = d.decisive.filter(|_| d.verdict.is_flagged()) else {
        return;
    };
    let l = e.lifetime(best);
    let confounded_alone =
        l.cycle_confound && e.strong.contains(&best) && e.soft_of(best).len() == 1;
    // The machine's load alone changes only a partial day's suspect: the rest is not read.
    let settles = d.verdict == Verdict::Suspect && confounded_alone;
    let own = !system_only(e) && loads.has_own(e.s.column);
    if !loads.is_empty() && !own && !settles {
        return;
    }
    match read(e, loads, best) {
        Some(ev) => {
            if let Some(by) = ev.explained_by() {
                explained(d, &by);
            } else if let Some(steady) = ev
                .grows_under_steady_load()
                .filter(|_| d.verdict == Verdict::Suspect && confounded_alone)
            {
                d.verdict = Verdict::Leak;
                d.confidence = 0.75;
                d.reasons.push(steady_reason(&steady));
            } else if let Some(with) = ev
                .as_consistent_with()
                .filter(|_| d.verdict == Verdict::Leak)
            {
                d.verdict = Verdict::Suspect;
                d.confidence = 0.5;
                d.reasons.push(Reason::new(
                    "load-consistent",
                    format!("the growth follows {with} about as closely as it follows time: a leak cannot be told from a workload that rose steadily"),
                ));
            } else if let Some(own) = ev.grows_beyond_own_load() {
                // A load that moves with the day but does not climb with the series: its
                // rise from the log's start to its end is the cycle's phase, not a workload
                // growing with the series.
                d.reasons.push(Reason::new(
                    "load-beyond",
                    format!(
                        "load: {}; the growth goes on with each load counter of its own in the fit ({own}), none of which climbs in step with it",
                        ev.described()
                    ),
                ));
            } else {
                // A rising workload of its own is evidence the calibration weighs.
                let code = if ev.own_rising() {
                    "load-rising"
                } else {
                    "load"
                };
                d.reasons
                    .push(Reason::new(code, format!("load: {}", ev.described())));
            }
        }
        None if d.verdict == Verdict::Suspect
            && l.cycle_confound
            && l.coverage_hours() < day_evidence::MIN_COVERAGE_HOURS =>
        {
            d.reasons.push(what_would_settle(e, best, unread(e, loads)));
        }
        None => {}
    }
}

/// A lineage stitched across labels, or a system series, has no one process's counters.
fn system_only(e: &Evidence) -> bool {
    e.s.system.is_some() || e.s.labels.len() > 1
}

/// The load counters' reading over lifetime `best` (`None`: the log has none that apply).
fn read(e: &Evidence, loads: &LoadIndex, best: usize) -> Option<LoadEvidence> {
    if loads.is_empty() {
        return None;
    }
    let l = e.lifetime(best);
    // The whole lifetime: how memory moved with the load before a late onset tells too. The
    // values are decoded only where a load counter is logged.
    loads.read(
        e.s.column,
        system_only(e),
        e.values(),
        (l.start_hours, l.end_hours),
    )
}

/// Growth the workload explains is `ok`, `load-driven`, and says so first.
fn explained(d: &mut Decision, by: &str) {
    d.verdict = Verdict::Ok;
    d.shape = Shape::LoadDriven;
    d.confidence = 0.6;
    d.reasons.insert(
        0,
        Reason::new(
            "load-explains",
            format!(
                "growth explained by load: it follows {by}, and time adds nothing once load is in"
            ),
        ),
    );
}

fn steady_reason(steady: &str) -> Reason {
    Reason::new(
        "load-steady",
        format!(
            "grows while the load does not ({steady}): no daily cycle of the workload explains it"
        ),
    )
}

/// What the log's load counters said of a partial day's caveat, when they did not settle it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoadSaid {
    /// None that apply is logged: offer them.
    Unlogged,
    /// Some are logged, but too few of their samples lie beside the lifetime's to be read.
    NoReading,
    /// They were read: none explains the growth, and it does not clearly go on while they hold.
    Unsettled,
}

/// Why load counters gave no reading: none is logged, or those logged could not be read.
fn unread(e: &Evidence, loads: &LoadIndex) -> LoadSaid {
    if loads.counters_for(e.s.column, system_only(e)).is_empty() {
        LoadSaid::Unlogged
    } else {
        LoadSaid::NoReading
    }
}

/// What would settle a partial day's caveat on lifetime `best`: a longer log, and the load
/// counters as the log's own left them ([`LoadSaid`]).
fn what_would_settle(e: &Evidence, best: usize, load: LoadSaid) -> Reason {
    let l = e.lifetime(best);
    // In a log of a day or more the short part is this process's life, not the log.
    let longer = if e.span_hours >= day_evidence::MIN_COVERAGE_HOURS {
        format!(
            "a whole day of this process's life (this one covers {} of the log's {})",
            hours_text(l.coverage_hours()),
            hours_text(e.span_hours)
        )
    } else {
        "a log of a whole day or more".to_string()
    };
    let load = match load {
        LoadSaid::Unlogged => ", or the load counters (the process's % Processor Time and IO Data Operations/sec, Processor(_Total), System\\Context Switches/sec)",
        LoadSaid::NoReading => ", or load counters logged beside it (those in this log give no reading over it: too few of their samples lie beside its own)",
        LoadSaid::Unsettled => " (the load counters logged do not settle it: none explains the growth, and it does not clearly go on while they hold steady)",
    };
    Reason::new(
        "what-would-settle",
        format!("what would settle it: {longer}{load}"),
    )
}

/// The lifetime of an `ok` that only the possible daily cycle of a lifetime under 20 h decided:
/// strong growth, too small and its evidence too moderate to outweigh the caveat, no other doubt
/// beside it, and none of the objections the strong rule would have heard next (growth
/// confined to one lifetime, or not repeated by later ones).
fn held_back(e: &Evidence, d: &Decision) -> Option<usize> {
    let best = d.decisive?;
    let l = e.lifetime(best);
    (d.verdict == Verdict::Ok
        && d.reasons
            .first()
            .is_some_and(|r| r.code == "cycle-confound")
        && e.strong.contains(&best)
        && e.soft_of(best).len() == 1
        && l.coverage_hours() < day_evidence::MIN_COVERAGE_HOURS
        && daily_cycle::small_under_possible_cycle(l, e.q_of(best))
        && confined::objects(e, best).is_none()
        && not_repeated::objects(e, best).is_none())
    .then_some(best)
}

/// An `ok` held back by a possible daily cycle. A cycle comes from the workload: growth while
/// every load counter stays flat or falls takes the caveat away, and the growth is a `suspect`
/// (small and its evidence moderate: not a `leak`); load that explains it makes it
/// `load-driven`; otherwise the reasons say what would settle it.
fn settle_held_back(e: &Evidence, d: &mut Decision, loads: &LoadIndex, best: usize) {
    let evidence = read(e, loads, best);
    if let Some(ev) = &evidence {
        if let Some(by) = ev.explained_by() {
            explained(d, &by);
            return;
        }
        if let Some(steady) = ev.grows_under_steady_load() {
            // The objection goes; the caveat stays beside the load that answers it.
            d.reasons.remove(0);
            d.verdict = Verdict::Suspect;
            d.confidence = 0.5;
            d.reasons.extend(e.soft_of(best));
            d.reasons.push(steady_reason(&steady));
            return;
        }
    }
    let said = match evidence {
        Some(_) => LoadSaid::Unsettled,
        None => unread(e, loads),
    };
    d.reasons.push(what_would_settle(e, best, said));
}

#[cfg(test)]
mod tests {
    use super::super::super::gates::{LifetimeTrial, Outcome};
    use super::super::strong;
    use super::super::testing::{linear_trial, series};
    use super::*;

    /// 8 h of growth at about 4% of the level: at q=1e-3 only the possible daily cycle holds
    /// it back.
    fn small_partial_day() -> LifetimeTrial {
        let mut l = linear_trial(8.0);
        l.level *= 2.0;
        l
    }

    fn still_day() -> LifetimeTrial {
        let mut l = linear_trial(30.0);
        l.outcome = Outcome::NoTrend { shape: Shape::Flat };
        l
    }

    #[test]
    fn only_an_ok_that_the_partial_days_cycle_alone_decided_is_held_back() {
        let (log, s) = series(vec![small_partial_day()], vec![Some(1e-3)]);
        let e = Evidence::new(&log, &s);
        let d = strong::decide(&e).expect("strong");
        assert_eq!(
            (d.verdict, d.reasons[0].code),
            (Verdict::Ok, "cycle-confound")
        );
        assert_eq!(held_back(&e, &d), Some(0));
        // Evidence strong enough to outweigh the caveat leaves a suspect, not an `ok`.
        let (log, s) = series(vec![small_partial_day()], vec![Some(1e-6)]);
        let e = Evidence::new(&log, &s);
        let d = strong::decide(&e).expect("strong");
        assert_eq!(d.verdict, Verdict::Suspect);
        assert_eq!(held_back(&e, &d), None);
        // The cycle's objection is heard first, but growth confined to one short lifetime
        // beside a still day, or not repeated by a still day after it, stays held: load
        // cannot make either a suspect.
        for (lifetimes, q, best) in [
            (
                vec![still_day(), small_partial_day()],
                vec![Some(0.5), Some(1e-3)],
                1,
            ),
            (
                vec![small_partial_day(), still_day()],
                vec![Some(1e-3), Some(0.5)],
                0,
            ),
        ] {
            let (log, s) = series(lifetimes, q);
            let e = Evidence::new(&log, &s);
            let d = strong::decide(&e).expect("strong");
            assert_eq!(d.decisive, Some(best));
            assert_eq!(
                (d.verdict, d.reasons[0].code),
                (Verdict::Ok, "cycle-confound")
            );
            assert_eq!(held_back(&e, &d), None, "{:?}", d.reasons);
        }
    }
}
