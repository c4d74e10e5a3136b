//! Gate: back to yesterday's level. A rise at the end of a lifetime of a day or more can be
//! compared with the same hour a day before it. A daily cycle's upswing (the working day
//! starting) brings the series back to where it stood at that hour the day before; a leak
//! that began within the last day climbs above it by all of its rise. So a late rise, or a
//! late onset, of the last day whose end stands less than half its rise above the same hour a
//! day earlier is the cycle coming back, not growth starting: the lifetime is judged whole.
//! A rise begun earlier is left alone: a day back lies on the rise itself, or after a level
//! shift, which its own gate judges.

use super::super::hours_text;
use super::super::stats::robust::median;

/// How this gate's note begins (its reason code is `back-to-yesterday`).
pub(super) const NOTE: &str = "back to yesterday's level:";

/// Hours at the end compared with the same hours a day earlier (and an hour either side of
/// those, where the lifetime reaches that far back): short against a daily cycle.
const WINDOW_HOURS: f64 = 1.0;
/// Blocks each window needs.
const MIN_WINDOW_BLOCKS: usize = 2;
/// The end must stand at least this share of the rise above the same hour a day before:
/// halfway between a cycle (none of it) and a leak (all of it).
const DAY_CLIMB_SHARE: f64 = 0.5;

/// When the rise from `onset` at `slope` per hour ends back at the level of the same hour a
/// day earlier, the note that says so; `None` when the lifetime is shorter than a day or the
/// end stands above yesterday's level as growth would.
pub(super) fn back_to_yesterday(t: &[f64], x: &[f64], onset: f64, slope: f64) -> Option<String> {
    let (first, end) = (*t.first()?, *t.last()?);
    let day_before = end - 24.0;
    // Only a rise that began within the last day: the same hour a day before is then on the
    // flat part before it, where a leak had not yet started.
    if day_before < first - 0.5 * WINDOW_HOURS || onset <= day_before || slope <= 0.0 {
        return None;
    }
    let within = |lo: f64, hi: f64| -> Vec<f64> {
        t.iter()
            .zip(x)
            .filter(|(h, _)| (lo..=hi).contains(*h))
            .map(|(_, v)| *v)
            .collect()
    };
    let today = within(end - WINDOW_HOURS, end);
    let before = within(day_before - WINDOW_HOURS, day_before + WINDOW_HOURS);
    if today.len() < MIN_WINDOW_BLOCKS || before.len() < MIN_WINDOW_BLOCKS {
        return None;
    }
    let (now, then) = (median(&today)?, median(&before)?);
    let climb = slope * (end - onset);
    (now - then < DAY_CLIMB_SHARE * climb).then(|| {
        format!(
            "{NOTE} no onset at {}, the rise ends where the series stood at the same hour a day before ({:.0}% of the rise above it): a daily cycle's upswing, not growth starting",
            hours_text(onset),
            100.0 * (now - then) / climb
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A day (15:00 to 15:00) of a working-hours hump: high at the start, flat overnight,
    /// rising from 8:00 back to the start's level. With a leak that starts at 7:00 instead,
    /// the end stands the whole rise above the start.
    #[test]
    fn the_working_day_coming_back_is_not_an_onset_and_a_leak_is() {
        let t: Vec<f64> = (0..=96).map(|i| f64::from(i) * 0.25).collect();
        let hump = |h: f64| {
            let clock = (15.0 + h) % 24.0;
            if (8.0..18.0).contains(&clock) {
                50.0 * (std::f64::consts::PI * (clock - 8.0) / 10.0).sin()
            } else {
                0.0
            }
        };
        let cycle: Vec<f64> = t.iter().map(|&h| 1000.0 + hump(h)).collect();
        let note = back_to_yesterday(&t, &cycle, 17.0, 50.0 / 7.0);
        assert!(
            note.is_some_and(|n| n.starts_with("back to yesterday's level: no onset at 17.0 h"))
        );

        let leak: Vec<f64> = t
            .iter()
            .map(|&h| 1000.0 + 8.0 * (h - 16.0).max(0.0))
            .collect();
        assert_eq!(back_to_yesterday(&t, &leak, 16.0, 8.0), None);
        // Under a day there is no yesterday to compare with.
        assert_eq!(back_to_yesterday(&t[..80], &cycle[..80], 17.0, 7.0), None);
    }
}
