//! Rule: load as evidence, after the main rule. A flagged series whose growth the workload
//! explains (see [`load`](super::super::load)) is `ok`, `load-driven`; a strong `suspect` held
//! back only because its lifetime cannot rule out a daily cycle is a `leak` when it keeps
//! growing while every load counter of the log stays flat or falls (a cycle would come from the
//! workload). A `leak` whose growth the process's own rising load fits about as well as time
//! is a `suspect`. The machine's load alone is read only for a suspect it may settle. A suspect
//! left with that caveat in a lifetime under a day says what would settle it.
//! Without load counters nothing changes.

use super::super::day_evidence;
use super::super::load::LoadIndex;
use super::super::{hours_text, Reason, Verdict};
use super::{Decision, Evidence};
use crate::vocab::Shape;

pub(crate) fn apply(e: &Evidence, d: &mut Decision, loads: &LoadIndex) {
    let Some(best) = d.decisive.filter(|_| d.verdict.is_flagged()) else {
        return;
    };
    let l = e.lifetime(best);
    let s = e.s;
    // A lineage stitched across labels, or a system series, has no one process's counters.
    let system_only = s.system.is_some() || s.labels.len() > 1;
    let confounded_alone =
        l.cycle_confound && e.strong.contains(&best) && e.soft_of(best).len() == 1;
    // The machine's load alone changes only a partial day's suspect: the rest is not read.
    let settles = d.verdict == Verdict::Suspect && confounded_alone;
    let own = !system_only && loads.has_own(s.column);
    if !loads.is_empty() && !own && !settles {
        return;
    }
    // The whole lifetime: how memory moved with the load before a late onset tells too. The
    // values are decoded only where a load counter is logged.
    let evidence = if loads.is_empty() {
        None
    } else {
        loads.read(
            s.column,
            system_only,
            e.values(),
            (l.start_hours, l.end_hours),
        )
    };
    match evidence {
        Some(ev) => {
            if let Some(by) = ev.explained_by() {
                d.verdict = Verdict::Ok;
                d.shape = Shape::LoadDriven;
                d.confidence = 0.6;
                d.reasons.insert(
                    0,
                    Reason::new(
                        "load-explains",
                        format!("growth explained by load: it follows {by}, and time adds nothing once load is in"),
                    ),
                );
            } else if let Some(steady) = ev
                .grows_under_steady_load()
                .filter(|_| d.verdict == Verdict::Suspect && confounded_alone)
            {
                d.verdict = Verdict::Leak;
                d.confidence = 0.75;
                d.reasons.push(Reason::new(
                    "load-steady",
                    format!("grows while the load does not ({steady}): no daily cycle of the workload explains it"),
                ));
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
            d.reasons.push(Reason::new(
                "what-would-settle",
                format!("what would settle it: {longer}, or the load counters (the process's % Processor Time and IO Data Operations/sec, Processor(_Total), System\\Context Switches/sec)"),
            ));
        }
        None => {}
    }
}
