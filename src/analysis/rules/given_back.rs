//! Objection: growth given back. A lifetime that grew and then ended at a sharp drop which the
//! process's other counters refute as a restart (they keep their level through every drop:
//! [`restarts_read`]) is one tooth of a process that freed memory inside one life (a garbage
//! collection, a trim). Where no later tooth's floor stands above its own, what it grew was
//! given back and not regained: a leak's memory is never given back short of a restart. `ok`,
//! shape `sawtooth`. A lifetime that runs to the log's end has given nothing back yet.
//!
//! [`restarts_read`]: super::restart_masked::restarts_read

use super::restart_masked::{restarts_read, Restarts};
use super::sawtooth::floor_of;
use super::{Evidence, Objection};
use crate::format;
use crate::vocab::Shape;

pub(crate) fn objects(e: &Evidence, best: usize) -> Option<Objection> {
    let s = e.s;
    let count = s.split.lifetimes.len();
    if best + 1 >= count || restarts_read(e) != Restarts::Refuted {
        return None;
    }
    let values = e.values();
    let own = floor_of(e, values, best)?;
    let highest_later = (best + 1..count)
        .filter_map(|i| floor_of(e, values, i))
        .reduce(f64::max)?;
    if highest_later > own {
        return None;
    }
    let unit = s.kind.unit();
    Some(Objection {
        confidence: 0.6,
        shape: Some(Shape::Sawtooth),
        code: "growth-given-back",
        reason: format!(
            "growth given back: {} (the process's other counters keep their level through {}), and after the growing tooth no floor stands above its own {} (floors from its lower decile): memory freed inside one life, not leaked",
            match s.split.cuts.len() {
                1 => "the drop is not a restart".to_string(),
                n => format!("the {n} drops are not restarts"),
            },
            if s.split.cuts.len() == 1 { "it" } else { "each" },
            format::amount(Some(own), &unit),
        ),
    })
}
