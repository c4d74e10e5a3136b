//! Rule: a sawtooth, not restarts. Sharp drops inside one life cut nothing: those the
//! process's other counters refute as restarts (every one keeps its level through each, where a
//! new process would start them all afresh: `siblings`), and those its identity shows it lived
//! through (the same `ID Process` either side, `Elapsed Time` counting on) or that recur within
//! hours. The series is one life whose memory is freed now and then (a garbage collection, a
//! trim), and the trial judges it whole. What the process keeps is the floor each tooth between
//! its collections reaches (`teeth::floors`).
//!
//! - Floors that do not rise, where the last tooth has not climbed past every level an earlier
//!   one held (a leak begun after the last drop has given nothing back yet), and whose rate
//!   reads nearer holding than the series' growth (under half the series' rate: a few noisy
//!   floors whose test finds nothing have not shown they hold when they rise at about the
//!   series' rate), make a healthy `sawtooth` whatever the trial read in the teeth: their
//!   growth is the heap filling between collections, or a climb given back. Floors that
//!   neither rise nor read nearer holding leave the trial's verdict, and say what would settle
//!   it (`floors-unsettled`).
//! - Floors that rise (an exact Mann-Kendall test over the teeth, p <= `Q_SUSPECT`, or, with
//!   teeth too few for any test, every floor above the one before; by a leak's size where their
//!   rate can be read: `teeth::Floors::small`) keep growing whatever the
//!   drops are: the trial's leak or suspect stands and says so, and a trial that read no growth
//!   in the teeth becomes a `suspect` where the test found the rise (too few teeth for it flag
//!   nothing alone). Where the test found it under the trial's leak or suspect, the rate,
//!   interval, growth and forecast the finding reports are the floors' ([`FloorsRate`]), not
//!   the teeth's, where their interval lies above zero.

use super::super::lifetime::KeptBy;
use super::super::limit::MIN_RELATIVE_GROWTH;
use super::super::stats::robust::median;
use super::super::teeth::Floors;
use super::super::{Reason, Verdict, Q_SUSPECT};
use super::{Decision, Evidence, FloorsRate};
use crate::format;
use crate::vocab::Shape;

/// The `ok` sawtooth of a series whose drops inside one life leave floors that do not rise.
pub(crate) fn decide(e: &Evidence) -> Option<Decision> {
    let f = e.s.teeth.as_ref().filter(|f| !f.rises)?;
    if f.climbs_past || !nearer_holding(e, f) {
        return None;
    }
    Some(Decision {
        verdict: Verdict::Ok,
        shape: Shape::Sawtooth,
        confidence: 0.75,
        reasons: vec![
            not_restarts(e),
            Reason::new("floors-level", level_text(e, f)),
        ],
        decisive: None,
        current: None,
        q_value: None,
        p_value: f.p,
        floors_rate: None,
    })
}

/// After the other rules: where the floors rise, the verdict is at least `suspect` and says
/// what the process keeps.
pub(crate) fn rising(e: &Evidence, d: &mut Decision) {
    let Some(f) = e.s.teeth.as_ref().filter(|f| f.rises) else {
        return;
    };
    // Teeth too few for the test (every floor above the one before) keep a flagged verdict from
    // being called healthy, but flag nothing alone: two floors are higher or lower by chance.
    let tested = f.p.is_some_and(|p| p <= Q_SUSPECT);
    if !d.verdict.is_flagged() && !tested {
        return;
    }
    let trial_flagged = d.verdict.is_flagged();
    if !trial_flagged {
        *d = Decision {
            verdict: Verdict::Suspect,
            shape: Shape::Sawtooth,
            confidence: 0.55,
            reasons: vec![not_restarts(e)],
            decisive: None,
            current: None,
            q_value: None,
            p_value: f.p,
            floors_rate: None,
        };
    }
    d.reasons.push(Reason::new(
        "floors-rise",
        format!(
            "the drops are memory freed inside one life, but what the process keeps grows: {}",
            floors_text(e, f)
        ),
    ));
    // Where the test found the rise, the floors decide, and their rate is the leak's: the teeth
    // climb at the rate the heap fills between collections, and a Sen slope over them reads
    // much of that climb. A suspect the floors alone make keeps no rate, as before: the
    // calibration weighs a rate's interval as evidence beside the test's p, and over a few
    // floors that interval is the test again (four floors in order: every slope above zero).
    // A rate whose interval reaches zero is no reading of it: the calibration would weigh it as
    // no growth where the test over the same floors found a rise.
    if tested && trial_flagged {
        d.floors_rate = floors_rate(e, f).filter(|r| r.sen.lower > 0.0);
    }
}

/// Whether floors that show no rise read nearer holding than the series' growth. A collected
/// heap's floors hold while its teeth make the series climb; a leak's floors rise at the
/// series' rate. Of the two readings the floors' rate is taken for the nearer (under half the
/// series' rate): a few noisy floors whose test finds nothing have not shown that they hold
/// when they rise at about the series' rate. Two floors (one drop) have no rate: the one after
/// the drop standing no higher than the one before is the reading.
fn nearer_holding(e: &Evidence, f: &Floors) -> bool {
    let series = e.s.lifetimes.first().and_then(|l| l.sen).map(|s| s.slope);
    match series.filter(|&s| s > 0.0) {
        Some(series) => f.slope_is(|floors| floors < 0.5 * series).unwrap_or(true),
        None => true,
    }
}

/// After the other rules: where the series stays flagged and its floors show no rise but read
/// nearer the series' growth than holding, say so, and what would settle it: a collected heap's
/// verdict rests on what it keeps, and a few noisy floors have not shown it either way.
pub(crate) fn unsettled(e: &Evidence, d: &mut Decision) {
    let Some(f) = e.s.teeth.as_ref().filter(|f| !f.rises) else {
        return;
    };
    if !d.verdict.is_flagged() || f.climbs_past || nearer_holding(e, f) {
        return;
    }
    let (Some(rate), Some(series)) = (f.rate(), e.s.lifetimes.first().and_then(|l| l.sen)) else {
        return;
    };
    let unit = e.s.kind.unit();
    d.reasons.push(Reason::new(
        "floors-unsettled",
        format!(
            "{}: no rise, but their rate, {} (95 % interval {} to {}), is half the series' {} or more: the floors tell a heap that holds from a leak neither way, and more collections logged would settle it",
            floors_text(e, f),
            format::rate(Some(rate.slope), &unit),
            format::rate(Some(rate.lower), &unit),
            format::rate(Some(rate.upper), &unit),
            format::rate(Some(series.slope), &unit),
        ),
    ));
}

/// The floors' rate over the series' one lifetime (`None` under three floors).
fn floors_rate(e: &Evidence, f: &Floors) -> Option<FloorsRate> {
    let sen = f.rate()?;
    let start_hours = e.s.lifetimes.first().map_or(f.hours[0], |l| l.start_hours);
    let end_hours =
        e.s.lifetimes
            .last()
            .map_or(f.hours[f.hours.len() - 1], |l| l.end_hours);
    Some(FloorsRate {
        sen,
        start_hours,
        end_hours,
        level: median(&f.floors)?,
        teeth: f.floors.len(),
    })
}

/// Why the drops inside one life are no restarts: the process's identity shows it (the same
/// `ID Process` either side, `Elapsed Time` counting on), or its other counters refute them.
pub(crate) fn not_restarts(e: &Evidence) -> Reason {
    // Counted as teeth: a drop read twice, a sample apart, is one.
    let n =
        e.s.teeth
            .as_ref()
            .map_or(e.s.split.drops_inside().len(), |f| f.drops);
    let (drops, each) = match n {
        1 => ("its sharp drop is not a restart".to_string(), "it"),
        n => (format!("its {n} sharp drops are not restarts"), "each"),
    };
    let why = match e.s.split.kept_by.filter(|_| !e.s.split.kept.is_empty()) {
        Some(KeptBy::Pid) => format!("its ID Process stays the same through {each}"),
        Some(KeptBy::Elapsed) => format!("its Elapsed Time counts on with the clock through {each}"),
        Some(KeptBy::Recurring) => "they recur within hours, too often for restarts".to_string(),
        None => format!(
            "the process's other counters keep their level through {each}, where a new process starts them all afresh"
        ),
    };
    Reason::new(
        "drops-not-restarts",
        format!(
            "{drops}: {why}; memory freed inside one life (a garbage collection, a trim) drops alike"
        ),
    )
}

/// What level floors say: a climb given back (one drop), or the heap filling between
/// collections.
fn level_text(e: &Evidence, f: &Floors) -> String {
    let unit = e.s.kind.unit();
    match f.floors.as_slice() {
        [before, after] => format!(
            "growth given back: the floor after the drop ({}) stands no higher than the one before it ({}, each part's lowest number but one)",
            format::amount(Some(*after), &unit),
            format::amount(Some(*before), &unit),
        ),
        _ if f.small => format!(
            "the teeth are the heap filling between collections: {}, a rise under the least a leak must grow ({:.0} % of the level, or the counter's own floor)",
            floors_text(e, f),
            100.0 * MIN_RELATIVE_GROWTH
        ),
        _ => format!(
            "the teeth are the heap filling between collections: {}, no rise",
            floors_text(e, f)
        ),
    }
}

/// The floors in words: "the floor each of its 9 teeth reaches goes from 201 MB to 201 MB
/// (Mann-Kendall over the teeth, exact p=0.62)".
fn floors_text(e: &Evidence, f: &Floors) -> String {
    let unit = e.s.kind.unit();
    let test = match f.p {
        Some(p) => format!(" (Mann-Kendall over the teeth, exact p={p:.2})"),
        None => String::new(),
    };
    let teeth = if f.from_start {
        format!("each of its {} teeth", f.floors.len())
    } else {
        // The first tooth began where the log did, not at a collection.
        format!("each of the {} teeth a collection began", f.floors.len())
    };
    format!(
        "the floor {teeth} reaches goes from {} to {}{test}",
        format::amount(f.floors.first().copied(), &unit),
        format::amount(f.floors.last().copied(), &unit),
    )
}
