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
