//! Rule: a sawtooth, not restarts. Restart-masked growth whose restarts are sharp drops that
//! the process's other counters refute (they keep their level through every drop, where a new
//! process would start them all afresh: [`restart_masked::restarts_read`]) is one life whose
//! memory is freed now and then (a garbage collection, a trim). Each "lifetime" is then a
//! tooth, and its growth is the heap filling between collections, not a leak. What the process
//! keeps is the floor each tooth after a drop reaches. Floors that do not rise make a healthy
//! `sawtooth`. Floors that rise (an exact Mann-Kendall test over the teeth, p <= [`Q_SUSPECT`],
//! or, with teeth too few for any test, every floor above the one before) leave the
//! restart-masked `suspect` standing, with the floors as its reason.
//!
//! [`restart_masked::restarts_read`]: super::restart_masked::restarts_read

use super::super::stats::trend::mann_kendall_exact_p;
use super::super::{Reason, Verdict, Q_SUSPECT};
use super::{Decision, Evidence};
use crate::format;
use crate::vocab::Shape;

/// The floors of a sawtooth's teeth, as tested.
pub(crate) struct Floors {
    /// They rise: the series keeps growing whatever its drops are.
    pub rises: bool,
    /// One-sided exact Mann-Kendall p over them (`None` under three).
    pub p: Option<f64>,
    /// What they do, in words.
    pub text: String,
}

/// The floor each tooth after a drop reaches, tested for a rise; `None` under two such teeth.
pub(crate) fn floors(e: &Evidence) -> Option<Floors> {
    let s = e.s;
    let values = e.values();
    // The first tooth, from the log's start, reaches no floor a drop left.
    let floors: Vec<f64> = (1..s.split.lifetimes.len())
        .filter_map(|i| floor_of(e, values, i))
        .collect();
    if floors.len() < 2 {
        return None;
    }
    // Teeth too few for any ordering to reach Q_SUSPECT (three floors reach 1/6 at best) rise
    // where every floor is above the one before: all they can show of a rise.
    let p = mann_kendall_exact_p(&floors);
    let every_higher = floors.windows(2).all(|w| w[1] > w[0]);
    let unit = s.kind.unit();
    let test = match p {
        Some(p) => format!(" (Mann-Kendall over the teeth, exact p={p:.2})"),
        None => String::new(),
    };
    Some(Floors {
        rises: every_higher || p.is_some_and(|p| p <= Q_SUSPECT),
        p,
        text: format!(
            "the floor each of its {} teeth after a drop reaches goes from {} to {}{test}",
            floors.len(),
            format::amount(floors.first().copied(), &unit),
            format::amount(floors.last().copied(), &unit),
        ),
    })
}

/// The floor of lifetime `i` of `values` (the series' judged values): see [`lower_decile`].
pub(crate) fn floor_of(e: &Evidence, values: &[f64], i: usize) -> Option<f64> {
    let mut v: Vec<f64> = e.s.split.lifetimes[i]
        .indices()
        .map(|k| values[k])
        .filter(|v| v.is_finite())
        .collect();
    lower_decile(&mut v)
}

/// The floor of a tooth: its lower decile, not its lowest number, which may be a sample or two
/// of the drop that cut it, deeper than where the collection left the heap (the split waits
/// only one sample for a drop to hold).
fn lower_decile(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let k = v.len() / 10;
    Some(*v.select_nth_unstable_by(k, f64::total_cmp).1)
}

/// Why drops the process's other counters refute are no restarts.
pub(crate) fn not_restarts(e: &Evidence) -> Reason {
    Reason::new(
        "drops-not-restarts",
        format!(
            "its {} sharp drops are not restarts: the process's other counters keep their level through each, where a new process starts them all afresh; memory freed inside one life (a garbage collection, a trim) drops alike",
            e.s.split.cuts.len()
        ),
    )
}

/// The decision on a series whose drops are no restarts and whose floors do not rise.
pub(crate) fn healthy(e: &Evidence, f: Floors) -> Decision {
    Decision {
        verdict: Verdict::Ok,
        shape: Shape::Sawtooth,
        confidence: 0.75,
        reasons: vec![
            not_restarts(e),
            Reason::new(
                "floors-level",
                format!(
                    "the teeth are the heap filling between collections: {}, no rise",
                    f.text
                ),
            ),
        ],
        decisive: None,
        current: None,
        q_value: None,
        p_value: f.p,
    }
}
