//! Healthy shapes that passed for leaks (issue #18's false alarms): each test is a series a
//! rule now reads for what it is, and, beside it, the leak the same rule must leave alone.

use perfleak::analysis::calibrate::{self, Calibration};
use perfleak::analysis::Verdict;
use rand::rngs::SmallRng;
use rand::SeedableRng;

use super::analysis_shapes::{ar1, check, only, seeds, with_noise, LogBuilder};

/// One whole day of a daily cycle: it falls to its trough 9 h in, climbs to its crest 12 h later
/// and comes back to where it began. The climb from the trough is no late onset (a leak that
/// starts late is flat before it starts), so the day is judged whole, and a day that comes
/// back to its start has not grown. With a leak on top, the growth is still found.
#[test]
fn a_day_that_falls_to_a_trough_and_climbs_back_is_not_a_late_onset() {
    for seed in seeds() {
        let mut rng = SmallRng::seed_from_u64(seed);
        let b = LogBuilder::new(24.0, 300.0);
        let t = b.hours();
        let noise = ar1(&mut rng, t.len(), 0.3, 15.0);
        let cycle =
            |h: f64| 2000.0 + 600.0 * (2.0 * std::f64::consts::PI * (h - 15.0) / 24.0).sin();
        let v = with_noise(&t, &noise, |h| cycle(h).round());
        let f = only(
            &b.process("vmtoolsd", "Handle Count", v).build(),
            "Handle Count",
        );
        check(&f, Verdict::Ok, &format!("day-long cycle, seed {seed}"));
        assert_ne!(f.shape, "late-onset", "{:?}", f.reasons);
        let rule = f.calibration.map_or(f.verdict, |c| c.rule_verdict);
        assert!(
            !rule.is_flagged(),
            "seed {seed}: the rules said {rule:?}: {:?}",
            f.reasons
        );

        let mut rng = SmallRng::seed_from_u64(seed);
        let b = LogBuilder::new(24.0, 300.0);
        let noise = ar1(&mut rng, t.len(), 0.3, 15.0);
        let v = with_noise(&t, &noise, |h| (cycle(h) + 60.0 * h).round());
        let f = only(
            &b.process("vmtoolsd", "Handle Count", v).build(),
            "Handle Count",
        );
        assert!(
            f.verdict.is_flagged(),
            "cycle plus a leak, seed {seed}: {:?} {:?}",
            f.verdict,
            f.reasons
        );
    }
}

/// A day-long climb the rules call a leak, read as the load rule leaves a series whose own
/// rising load fits the growth as well as time (`load-consistent`, a `suspect`): the
/// calibration's score does not weigh that doubt, so it does not promote the suspect to
/// `leak` (and the rising load counts among its features). The same suspect without the doubt
/// is promoted.
#[test]
fn a_suspect_whose_own_rising_load_fits_as_well_as_time_is_not_promoted() {
    for seed in seeds() {
        let mut rng = SmallRng::seed_from_u64(seed);
        let b = LogBuilder::new(24.0, 900.0);
        let t = b.hours();
        let noise = ar1(&mut rng, t.len(), 0.4, 20.0);
        let v = with_noise(&t, &noise, |h| (2000.0 + 60.0 * h).round());
        let f = only(
            &b.process("w3wp", "Handle Count", v).build(),
            "Handle Count",
        );
        assert_eq!(f.verdict, Verdict::Leak, "seed {seed}: {:?}", f.reasons);
        let as_suspect = |doubt: bool| {
            let mut g = f.clone();
            g.verdict = Verdict::Suspect;
            g.calibration = Some(Calibration::of_rules(Verdict::Suspect, 0.5));
            if doubt {
                g.reason_codes.push("load-consistent".into());
                g.reasons.push("the growth follows w3wp's % Processor Time (+150%) about as closely as it follows time: a leak cannot be told from a workload that rose steadily".into());
            }
            let mut all = [g];
            calibrate::apply_with(calibrate::builtin(), &mut all);
            let [g] = all;
            g
        };
        let plain = as_suspect(false);
        assert_eq!(
            plain.verdict,
            Verdict::Leak,
            "seed {seed}: {:?}",
            plain.reasons
        );
        let doubted = as_suspect(true);
        assert_ne!(
            doubted.verdict,
            Verdict::Leak,
            "seed {seed}: {:?}",
            doubted.reasons
        );
    }
}

/// A day from Sunday 13:00 to Monday 13:00, every minute, of a service busy in working hours
/// (8:00 to 18:00) and less so on the weekend: the series falls from Sunday's smaller hump to
/// the weekend's night, steps up at midnight where Monday begins, and climbs into Monday's
/// working hours. A step at the weekend's end fits it better than a line and leaves time
/// nothing to explain: the week's rhythm, not a leak. The same day with a leak on top is still
/// flagged.
#[test]
fn a_day_that_steps_up_where_the_weekend_ends_is_the_weeks_rhythm_not_a_leak() {
    let day = |h: f64| {
        // Sunday 13:00 is hour 0; Monday starts at hour 11.
        let local = (13.0 + h) % 24.0;
        let hump = if (8.0..18.0).contains(&local) {
            0.5 * (1.0 - (2.0 * std::f64::consts::PI * (local - 8.0) / 10.0).cos())
        } else {
            0.0
        };
        if h < 11.0 {
            hump * 0.55 - 0.45
        } else {
            hump
        }
    };
    for seed in seeds() {
        for leak in [0.0, 30.0] {
            let mut rng = SmallRng::seed_from_u64(seed);
            let b = LogBuilder::new(24.0, 60.0);
            let t = b.hours();
            let noise = ar1(&mut rng, t.len(), 0.3, 8.0);
            let v = with_noise(&t, &noise, |h| (1000.0 + 450.0 * day(h) + leak * h).round());
            let mut log = b.process("w3wp", "Handle Count", v).build();
            // The builder starts on a Thursday at 10:00: move the log to Sunday 13:00.
            let shift = chrono::Duration::hours(3 * 24 + 3);
            for stamp in log.timestamps.iter_mut() {
                *stamp += shift;
            }
            let f = only(&log, "Handle Count");
            if leak == 0.0 {
                check(&f, Verdict::Ok, &format!("weekend's end, seed {seed}"));
                assert_eq!(f.shape, "cyclic", "seed {seed}: {:?}", f.reasons);
                assert!(
                    f.reasons[0].starts_with("a weekend's end"),
                    "seed {seed}: {:?}",
                    f.reasons
                );
            } else {
                assert!(
                    f.verdict.is_flagged(),
                    "weekend's end with a leak, seed {seed}: {:?} {:?}",
                    f.verdict,
                    f.reasons
                );
            }
        }
    }
}

/// Random-walk-like noise (AR(1), phi 0.9) on a flat handle count over 8 h: its best broken
/// line ends on a climb (one of hundreds of draws). That climb was picked among every break
/// the search tried, so its test counts as the largest of theirs, not as one fixed in advance
/// (which read it a late onset at p 4e-5). A late onset of the same noise is still found.
#[test]
fn a_climb_picked_among_every_break_is_no_late_onset_in_flat_noise() {
    let t = LogBuilder::new(8.0, 300.0).hours();
    let draw = |seed: u64, shape: &dyn Fn(f64) -> f64| {
        let b = LogBuilder::new(8.0, 300.0);
        let mut rng = SmallRng::seed_from_u64(seed);
        let noise = ar1(&mut rng, t.len(), 0.9, 20.0);
        let v = with_noise(&t, &noise, |h| shape(h).round());
        only(
            &b.process("vmtoolsd", "Handle Count", v).build(),
            "Handle Count",
        )
    };
    let f = draw(184, &|_| 2000.0);
    let rule = f.calibration.map_or(f.verdict, |c| c.rule_verdict);
    assert!(
        !rule.is_flagged(),
        "flat noise: the rules said {rule:?}, shape {}, p {:?}: {:?}",
        f.shape,
        f.p_value,
        f.reasons
    );
    for seed in seeds() {
        let f = draw(seed, &|h| 2000.0 + 40.0 * (h - 4.0).max(0.0));
        assert!(
            f.verdict.is_flagged() && f.shape == "late-onset",
            "onset at 4 h, seed {seed}: {:?} {} {:?}",
            f.verdict,
            f.shape,
            f.reasons
        );
    }
}

/// A level that wanders over a day: random plateaus, up, then down by as much, then up again.
/// The steps make a staircase, but its five levels show no trend of their own (exact
/// Mann-Kendall over them), so it is a level that moves, not a leak's staircase. The same
/// steps with a small dip in place of the fall still climb, and are flagged.
#[test]
fn a_staircase_that_falls_as_far_as_it_rises_is_a_wandering_level() {
    let plateaus = |levels: [f64; 5]| move |h: f64| levels[((h / 24.0 * 5.0) as usize).min(4)];
    for seed in seeds() {
        let mut rng = SmallRng::seed_from_u64(seed);
        let b = LogBuilder::new(24.0, 900.0);
        let t = b.hours();
        let noise = ar1(&mut rng, t.len(), 0.3, 4.0);
        let level = plateaus([2000.0, 2400.0, 1950.0, 2300.0, 2450.0]);
        let v = with_noise(&t, &noise, |h| level(h).round());
        let f = only(
            &b.process("svchost", "Handle Count", v).build(),
            "Handle Count",
        );
        check(&f, Verdict::Ok, &format!("wandering level, seed {seed}"));
        assert!(
            f.reason_codes.iter().any(|c| c == "level-shift")
                && f.reasons.iter().any(|r| r.contains("a level that wanders")),
            "seed {seed}: {:?}",
            f.reasons
        );

        let mut rng = SmallRng::seed_from_u64(seed);
        let b = LogBuilder::new(24.0, 900.0);
        let noise = ar1(&mut rng, t.len(), 0.3, 4.0);
        let level = plateaus([2000.0, 2400.0, 2350.0, 2700.0, 2850.0]);
        let v = with_noise(&t, &noise, |h| level(h).round());
        let f = only(
            &b.process("svchost", "Handle Count", v).build(),
            "Handle Count",
        );
        let rule = f.calibration.map_or(f.verdict, |c| c.rule_verdict);
        assert!(
            rule.is_flagged(),
            "seed {seed}: a climbing staircase: {:?} {:?}",
            f.verdict,
            f.reasons
        );
    }
}

/// Flat levels that move up and down every five hours for three days, ending above where they
/// began: several falls as large as the rises make them no staircase and no ramp, and fifteen
/// levels without a trend of their own are a level that wanders. The same levels on a leak's
/// climb trend as levels, and are flagged.
#[test]
fn levels_that_fall_as_often_as_they_rise_are_no_leak() {
    const LEVELS: [f64; 15] = [
        2000.0, 2400.0, 2050.0, 2350.0, 2150.0, 2450.0, 2000.0, 2300.0, 2200.0, 2450.0, 2100.0,
        2400.0, 2250.0, 2450.0, 2300.0,
    ];
    for seed in seeds() {
        for leak in [0.0, 100.0] {
            let mut rng = SmallRng::seed_from_u64(seed);
            let b = LogBuilder::new(72.0, 900.0);
            let t = b.hours();
            let noise = ar1(&mut rng, t.len(), 0.3, 4.0);
            let level = |h: f64| {
                let i = ((h / 5.0) as usize).min(14);
                LEVELS[i] + leak * i as f64
            };
            let v = with_noise(&t, &noise, |h| level(h).round());
            let f = only(
                &b.process("sqlservr", "Handle Count", v).build(),
                "Handle Count",
            );
            let rule = f.calibration.map_or(f.verdict, |c| c.rule_verdict);
            if leak == 0.0 {
                check(&f, Verdict::Ok, &format!("wandering levels, seed {seed}"));
                assert!(
                    f.reasons.iter().any(|r| r.contains("a level that wanders")),
                    "seed {seed}: {:?}",
                    f.reasons
                );
            } else {
                assert!(
                    rule.is_flagged(),
                    "seed {seed}: levels on a leak: {:?} {:?}",
                    f.verdict,
                    f.reasons
                );
            }
        }
    }
}

/// A day from Thursday 15:00 to Friday 15:00, every minute, of a handle count that follows
/// the working day (8:00 to 18:00): up in the afternoon, flat all night, then up again on
/// Friday morning to where it stood on Thursday afternoon. In about one draw of the noise in
/// eight the morning's climb stands out of the quiet night as a late onset (these seeds; 49 of
/// 400 were flagged before this rule, none after), but it ends at the level of the same hour a
/// day earlier: the working day coming back, not a leak starting. A leak that starts at 7:00
/// on Friday, under the same working day, ends its whole rise above that level and is still
/// flagged.
#[test]
fn a_rise_back_to_the_same_hours_level_a_day_earlier_is_the_working_day_not_a_leak() {
    let working_day = |h: f64| {
        // Hour 0 is Thursday 15:00.
        let clock = (15.0 + h) % 24.0;
        if (8.0..18.0).contains(&clock) {
            7.75 * (1.0 - (2.0 * std::f64::consts::PI * (clock - 8.0) / 10.0).cos())
        } else {
            0.0
        }
    };
    for seed in [6u64, 17, 18, 30, 46] {
        for leak in [0.0, 3.0] {
            let mut rng = SmallRng::seed_from_u64(seed);
            let b = LogBuilder::new(24.0, 60.0);
            let t = b.hours();
            let noise = ar1(&mut rng, t.len(), 0.3, 5.5);
            let v = with_noise(&t, &noise, |h| {
                (160.0 + working_day(h) + leak * (h - 16.0).max(0.0)).round()
            });
            let mut log = b.process("ruby", "Handle Count", v).build();
            // The builder starts on a Thursday at 10:00: move the log to 15:00.
            for stamp in log.timestamps.iter_mut() {
                *stamp += chrono::Duration::hours(5);
            }
            let f = only(&log, "Handle Count");
            let label = format!("seed {seed}, leak {leak}/h");
            if leak > 0.0 {
                assert!(
                    f.verdict.is_flagged(),
                    "{label}: {:?} {:?}",
                    f.verdict,
                    f.reasons
                );
            } else {
                check(&f, Verdict::Ok, &label);
                assert_ne!(f.shape, "late-onset", "{label}: {:?}", f.reasons);
            }
        }
    }
}
