//! Gates: bend and late onset, both read off the best broken line. Growth that bends to a
//! plateau is a warm-up (bend in the first half) or growth that stopped (`Rejected`), unless
//! the bend is the daily cycle, or a jump that a level shift fits better; growth that starts
//! from a flat part is a late onset, tested on the growing part alone.

use std::cell::OnceCell;

use crate::vocab::Shape;

use super::super::hours_text;
use super::super::stats::fit::{mean_shift, BrokenStick};
use super::super::stats::scan::after_break_p;
use super::super::stats::trend::{mann_kendall_hamed_rao, sen_slope, MannKendall, SenSlope};
use super::{level_shift, persists_day_over_day, yesterday, LifetimeTrial, Outcome, Tested};
use super::{slowing_unshown, TAIL_KEEPS_RATE, UNDECIDED_TAIL_MAX_P};

/// The part of the lifetime after the break, tested only when a rule asks: a line's two slopes
/// are seldom far enough apart for a bend or an onset.
struct AfterBreak<'a> {
    t: &'a [f64],
    x: &'a [f64],
    test: OnceCell<Option<MannKendall>>,
}

impl AfterBreak<'_> {
    fn mk(&self) -> Option<MannKendall> {
        *self
            .test
            .get_or_init(|| mann_kendall_hamed_rao(self.t, self.x))
    }

    fn p(&self) -> f64 {
        self.mk().map_or(1.0, |r| r.p_increasing)
    }

    /// Sen's slope of the part with its 95% interval.
    fn sen(&self) -> Option<SenSlope> {
        self.mk()
            .and_then(|r| sen_slope(self.t, self.x, r.var_s_corrected, 0.95))
    }
}

/// Rejects a bend (or names the jump a level shift); otherwise may turn the lifetime into a
/// late onset (`shape`, the trial's slope, p and fit start). `ups`: the up-steps counted.
pub(super) fn judge(
    g: &Tested,
    trial: &mut LifetimeTrial,
    ups: usize,
    shape: &mut Shape,
    soft: &mut Vec<String>,
) -> Option<Outcome> {
    let stick = g.stick()?;
    let after = AfterBreak {
        t: &g.t[stick.break_index..],
        x: &g.x[stick.break_index..],
        test: OnceCell::new(),
    };
    if let Some(rejected) = bend(g, trial, &stick, &after, ups) {
        return Some(rejected);
    }
    late_onset(g, trial, &stick, &after, shape, soft);
    None
}

/// Warm-up then plateau, or growth that stopped.
fn bend(
    g: &Tested,
    trial: &mut LifetimeTrial,
    stick: &BrokenStick,
    after: &AfterBreak,
    ups: usize,
) -> Option<Outcome> {
    let (t, x, m, span) = (g.t, g.x, g.x.len(), g.span);
    let post_fraction = (trial.end_hours - stick.break_time) / span;
    let (s1, s2) = (stick.slope_before, stick.slope_after);
    // As for the tail: a part after the bend too noisy to rule out growth at a rate that
    // counts as continuing has not shown that growth stopped.
    let bent = post_fraction >= 0.2 && s1 > 0.0 && s2 < 0.3 * s1 && after.p() >= 0.05;
    if !bent {
        return None;
    }
    // Where the lifetime's evidence is weaker, the bend itself must be shown on every sample.
    let unshown = slowing_unshown(g, trial.level, after.x.len(), stick.rss);
    let undecided = !trial.restarted
        && after
            .sen()
            .is_some_and(|p| p.upper >= TAIL_KEEPS_RATE * g.sen.slope)
        && ((s2 >= 0.0 && trial.p <= UNDECIDED_TAIL_MAX_P) || unshown);
    if undecided {
        if unshown {
            trial.notes.push(format!(
                "slower after {}, but too few or noisy samples there to rule out the rate, and a bend fits the lifetime no better than a line",
                hours_text(stick.break_time)
            ));
        }
        return None;
    }
    if let Some((ratio, p)) = persists_day_over_day(t, x, g.sen.slope, span, trial.day_reading()) {
        trial.notes.push(format!(
            "the bend at {} is the daily cycle: the last third still rises {:.0}% of the rate day over day (sign p={p:.1e})",
            hours_text(stick.break_time),
            100.0 * ratio
        ));
        return None;
    }
    let since = stick.break_time;
    let into = since - trial.start_hours;
    // A jump fits a mean shift better than a bend: name it for what it is.
    if let Some(shift) = mean_shift(x, 12.min(m / 4).max(3)) {
        if shift.rss < stick.rss && ups < 3 && shift.mean_after > shift.mean_before {
            return Some(level_shift::rejected(t, &shift, after.p()));
        }
    }
    let (shape, what) = if into <= 0.5 * span {
        (Shape::WarmUp, "warm-up then plateau")
    } else {
        (Shape::GrowthStopped, "growth stopped")
    };
    Some(Outcome::Rejected {
        shape,
        reason: format!(
            "{what} from {} (MK p={:.2} after)",
            hours_text(since),
            after.p()
        ),
    })
}

/// Shortest growing part tested as a late onset.
const MIN_ONSET_POINTS: usize = 6;

/// The p of the part after the break once the break's choice is paid for: its trend z against
/// the largest of those of every final part the break search tries (at least
/// [`MIN_ONSET_POINTS`] long) and of the whole lifetime; `cap` when that is not below it (the
/// lifetime's own p, which the onset's can only replace when smaller).
fn onset_p(g: &Tested, after: &AfterBreak, cap: f64) -> f64 {
    let Some(z) = after.mk().map(|r| r.z) else {
        return cap;
    };
    after_break_p(z, g.t, MIN_ONSET_POINTS, cap)
}

/// A part before the break falling at this one-sided p...
const TROUGH_P: f64 = 0.05;
/// ...by at least this share of the rise after it is a trough, not a flat part before an onset.
const TROUGH_SHARE: f64 = 0.3;

/// Late onset only when the part before the break is itself flat: neither rising nor falling
/// into a trough.
fn late_onset(
    g: &Tested,
    trial: &mut LifetimeTrial,
    stick: &BrokenStick,
    after: &AfterBreak,
    shape: &mut Shape,
    soft: &mut Vec<String>,
) {
    let (s1, s2) = (stick.slope_before, stick.slope_after);
    let before = || {
        let (tb, xb) = (&g.t[..stick.break_index], &g.x[..stick.break_index]);
        mann_kendall_hamed_rao(tb, xb)
    };
    if !(s2 > 0.0 && s1 < 0.3 * s2 && after.x.len() >= MIN_ONSET_POINTS && after.p() < 0.05) {
        return;
    }
    let before = before();
    if before.is_some_and(|r| r.p_increasing < 0.05) {
        return;
    }
    // A leak that starts late is flat before it starts. A part that falls first, by a good
    // share of the rise after, makes the break a trough (a daily cycle's low, a dip between
    // two levels), and the rise from a trough is no onset: the whole lifetime is judged.
    let fall = -s1 * (stick.break_time - trial.start_hours);
    let rise = s2 * (trial.end_hours - stick.break_time);
    if before.is_some_and(|r| r.p_increasing > 1.0 - TROUGH_P) && fall >= TROUGH_SHARE * rise {
        trial.notes.push(format!(
            "no onset at {}: it fell {:.0}% of the later rise before it (a trough, not the start of a leak)",
            hours_text(stick.break_time),
            100.0 * fall / rise
        ));
        return;
    }
    let Some(post) = after.sen().filter(|p| p.slope > 0.0) else {
        return;
    };
    if let Some(note) = yesterday::back_to_yesterday(g.t, g.x, stick.break_time, post.slope) {
        trial.notes.push(note);
        return;
    }
    *shape = Shape::LateOnset;
    trial.sen = Some(post);
    // The flat part before the onset dilutes the whole-lifetime test; the growing part is the
    // evidence. Its break was chosen on the same data among many: its test counts as the
    // largest of the tests of every part the search could have picked (and the whole).
    trial.p = onset_p(g, after, trial.p);
    trial.fit_start_hours = stick.break_time;
    trial
        .notes
        .push(format!("onset at {}", hours_text(stick.break_time)));
    let post_fraction = (trial.end_hours - stick.break_time) / g.span;
    if post_fraction < 0.2 {
        soft.push("onset in the last 20% of the log".into());
    }
}
