//! Process identity on the committed `samples/restart-leak.csv`: with `ID Process` logged, the
//! leaking w3wp is followed across its recycles and across the `#N` labels it moves between,
//! and is reported once; handle growth states the time to the 16,384 soft limit.

use super::analysis_shapes::{only, pdh_csv, LogBuilder};
use perfleak::analysis::{analyze, Finding, Verdict};
use perfleak::ingest::{read_file, PerfLog, ReadOptions};
use std::path::PathBuf;

fn sample() -> Vec<perfleak::analysis::Finding> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/restart-leak.csv"
    ));
    let log = read_file(&p, &ReadOptions::default()).expect("sample loads");
    analyze(&log)
}

#[test]
fn recycled_w3wp_is_one_lineage_across_labels() {
    let findings = sample();
    let w3wp_pb: Vec<_> = findings
        .iter()
        .filter(|f| f.process == "w3wp" && f.counter == "Private Bytes")
        .collect();
    assert_eq!(w3wp_pb.len(), 2, "one finding per process lineage");
    let leaking: Vec<_> = w3wp_pb
        .iter()
        .filter(|f| matches!(f.verdict, Verdict::Leak | Verdict::Suspect))
        .collect();
    assert_eq!(leaking.len(), 1, "{w3wp_pb:#?}");
    let leak = leaking[0];
    assert_eq!(leak.verdict, Verdict::Leak, "{:?}", leak.reasons);
    // The leaker's four processes, in order, and none of the steady pool's.
    assert_eq!(leak.pids, vec![3660, 20968, 16432, 12504]);
    assert_eq!(leak.segments, 4);
    assert!(
        leak.reasons
            .iter()
            .any(|r| r.contains("seen as w3wp#1, w3wp") || r.contains("seen as w3wp, w3wp#1")),
        "{:?}",
        leak.reasons
    );
    let steady = w3wp_pb
        .iter()
        .find(|f| f.pids == vec![25344])
        .expect("steady pool");
    assert_eq!(steady.verdict, Verdict::Ok, "{:?}", steady.reasons);
}

#[test]
fn handle_growth_states_the_alert_threshold() {
    let findings = sample();
    let hc = findings
        .iter()
        .find(|f| {
            f.process == "w3wp"
                && f.counter == "Handle Count"
                && matches!(f.verdict, Verdict::Leak | Verdict::Suspect)
        })
        .expect("w3wp handle growth");
    // One threshold for the time to limit, the severity and the words.
    assert_eq!(hc.limit, Some(16_384.0));
    assert!(hc
        .limit_name
        .as_deref()
        .is_some_and(|n| n.starts_with("handle alert threshold")));
    assert!(
        hc.reasons.iter().any(|r| r.starts_with(
            "at this rate the handle alert threshold (16,384 handles) is reached in about"
        )),
        "{:?}",
        hc.reasons
    );
}

/// A process already past the alert threshold and still growing is in trouble now: its
/// severity is not taken from the hard limit years away.
#[test]
fn handles_past_the_soft_limit_are_critical() {
    let mut text = String::from(
        "\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\S\\Process(app)\\Handle Count\",\"\\\\S\\Process(app)\\ID Process\"\n",
    );
    let start = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    for i in 0..300 {
        let t = start + chrono::Duration::minutes(5 * i);
        let handles = 15_998 + 2 * i + [0, 3, -2, 1][i as usize % 4];
        text.push_str(&format!(
            "\"{}\",\"{handles}\",\"4321\"\n",
            t.format("%m/%d/%Y %H:%M:%S%.3f")
        ));
    }
    let log =
        perfleak::ingest::read_bytes("past-soft.csv", text.as_bytes(), &ReadOptions::default())
            .unwrap();
    let findings = analyze(&log);
    let hc = findings
        .iter()
        .find(|f| f.counter == "Handle Count")
        .expect("handle finding");
    assert!(
        matches!(hc.verdict, Verdict::Leak | Verdict::Suspect),
        "{hc:?}"
    );
    assert_eq!(
        hc.severity,
        Some(perfleak::analysis::Severity::Critical),
        "{:?}",
        hc.reasons
    );
    assert!(
        hc.reasons
            .iter()
            .any(|r| r.starts_with("already past the handle alert threshold")),
        "{:?}",
        hc.reasons
    );
}

const MB: f64 = 1024.0 * 1024.0;

/// Asserts that `f` reads `verdict` with `shape` (its reasons printed where not).
fn reads(f: &Finding, verdict: Verdict, shape: &str) {
    assert_eq!(
        (f.verdict, f.shape.as_str()),
        (verdict, shape),
        "{:?}",
        f.reasons
    );
}

/// Asserts that `f` gives the reason `code` and that its words hold `text`.
fn says(f: &Finding, code: &str, text: &str) {
    assert!(
        f.reason(code).is_some_and(|r| r.contains(text)),
        "no `{code}` saying {text:?}: {:?} {} {:?}",
        f.verdict,
        f.shape,
        f.reasons
    );
}

/// A small deterministic wiggle of -6 to 6, for sample `i`.
fn wiggle(i: usize) -> f64 {
    ((i * 7919) % 13) as f64 - 6.0
}

/// Private Bytes at hours `t` climbing 120 MB over 8 h and dropping back, each drop landing
/// `floor_rise` MB above the one before.
fn climbs_and_drops(t: &[f64], floor_rise: f64) -> Vec<f64> {
    t.iter()
        .enumerate()
        .map(|(i, &h)| {
            let floor = 200.0 + floor_rise * (h / 8.0).floor();
            (floor + 15.0 * (h % 8.0) + wiggle(i) * 0.2) * MB
        })
        .collect()
}

/// What a process's Handle Count does at its Private Bytes' drops, in the tests below.
#[derive(Clone, Copy, PartialEq)]
enum Handles {
    /// They fall with every drop and climb back, as a new process's do.
    Reset,
    /// They keep their level through every drop.
    Held,
    /// They are not logged.
    Absent,
}

/// A process whose Private Bytes climb 120 MB over 8 h and drop back, nine times in 72 h, in a
/// log with no `ID Process` or `Elapsed Time`, each drop landing `floor_rise` MB above the one
/// before.
fn drops_alone(handles: Handles, floor_rise: f64) -> perfleak::analysis::Finding {
    let b = LogBuilder::new(72.0, 300.0);
    let t = b.hours();
    let mut b = b.process("svc", "Private Bytes", climbs_and_drops(&t, floor_rise));
    if handles != Handles::Absent {
        let counts = t
            .iter()
            .enumerate()
            .map(|(i, &h)| {
                let climb = if handles == Handles::Reset {
                    60.0 * (h % 8.0)
                } else {
                    0.0
                };
                (400.0 + climb + wiggle(i)).round()
            })
            .collect();
        b = b.process("svc", "Handle Count", counts);
    }
    only(&b.build(), "Private Bytes")
}

/// When the handles fall with every drop, as a new process's do, the drops are restarts and
/// the climbs a leak they hide (`leak`). When no other counter of the process is logged,
/// nothing tells a restart from the process freeing memory (a trim, a garbage collection): a
/// `suspect` that says what would settle it, and the calibration does not promote it.
#[test]
fn restarts_read_from_drops_alone_are_shown_by_the_other_counters_falling_with_them() {
    let shown = drops_alone(Handles::Reset, 0.0);
    let what = format!(
        "{:?} {:?} {:?}",
        shown.verdict, shown.reasons, shown.restarts
    );
    assert_eq!(shown.verdict, Verdict::Leak, "{what}");
    assert!(
        !shown
            .reason_codes
            .iter()
            .any(|c| c == "restarts-unconfirmed"),
        "{what}"
    );
    let alone = drops_alone(Handles::Absent, 0.0);
    let what = format!("{:?} {:?}", alone.verdict, alone.reasons);
    assert_eq!(alone.shape, shown.shape, "{what}");
    assert_eq!(alone.verdict, Verdict::Suspect, "{what}");
    says(&alone, "restarts-unconfirmed", "ID Process");
}

/// When the handles keep their level through every drop, no new process started: the drops
/// are memory freed inside one life, cut no lifetime (the report counts one, and no restart),
/// each climb is a tooth of a sawtooth, and what the process keeps is the floor each tooth
/// reaches. Floors that stay put are a healthy `sawtooth` (`ok`); floors that rise 8 MB a tooth
/// still leak: the rules flag it (at least `suspect`) and say the floors rise (the calibration,
/// which weighs such suspects, has the last word on the verdict).
#[test]
fn drops_the_other_counters_do_not_follow_are_a_sawtooth_judged_by_its_floors() {
    let level = drops_alone(Handles::Held, 0.0);
    let what = format!("{:?} {:?} {:?}", level.verdict, level.shape, level.reasons);
    reads(&level, Verdict::Ok, "sawtooth");
    says(
        &level,
        "drops-not-restarts",
        "9 sharp drops are not restarts",
    );
    says(
        &level,
        "floors-level",
        "the floor each of the 8 teeth a collection began reaches",
    );
    says(&level, "floors-level", "no rise");
    assert_eq!((level.segments, level.restarts.len()), (1, 0), "{what}");
    assert_eq!(
        level.refuted_drops.len(),
        11,
        "{what}: each drop, some read twice"
    );
    let rising = drops_alone(Handles::Held, 8.0);
    let what = format!("{:?} {:?}", rising.verdict, rising.reasons);
    assert!(
        rising
            .calibration
            .is_some_and(|c| c.rule_verdict.is_flagged()),
        "{what}"
    );
    says(&rising, "floors-rise", "exact p=0.00");
    says(
        &rising,
        "drops-not-restarts",
        "sharp drops are not restarts",
    );
    assert_eq!((rising.segments, rising.restarts.len()), (1, 0), "{what}");
}

/// A heap that climbs fast and drops back every few hours, with no other counter of the
/// process logged: its climbs would reach the 2 GB of a 32-bit process within hours if they
/// went on, but a collection stops them, and nothing shows a restart. The urgency of running
/// out within a day settles a partial day's doubt about a daily cycle, not this one: it stays
/// a `suspect` that says what would settle it. With its handles logged and holding still
/// through the drops, it is a healthy sawtooth.
#[test]
fn exhaustion_within_a_day_does_not_settle_restarts_read_from_drops_alone() {
    // One sample a minute: 200 MB/h for 5 h (300 samples), then back down, four times.
    let b = LogBuilder::new(20.0, 60.0);
    let n = b.hours().len();
    let bytes: Vec<f64> = (0..n)
        .map(|i| 500.0 * MB + 200.0 * MB * ((i % 300) as f64 / 60.0) + wiggle(i) * 0.5 * MB)
        .collect();
    let handles = (0..n).map(|i| (400.0 + wiggle(i)).round()).collect();
    let with_handles = LogBuilder::new(20.0, 60.0)
        .process("svc", "Private Bytes", bytes.clone())
        .process("svc", "Handle Count", handles)
        .build();
    let g = only(&with_handles, "Private Bytes");
    reads(&g, Verdict::Ok, "sawtooth");
    // Its four floors lie in order by chance, 0.6 % apart from first to last: no leak's size,
    // so they hold their level (not a suspect the calibration had to set aside).
    says(
        &g,
        "floors-level",
        "a rise under the least a leak must grow",
    );
    let log = b.process("svc", "Private Bytes", bytes).build();
    let f = only(&log, "Private Bytes");
    let what = format!(
        "{:?} {:?} {:?}",
        f.verdict, f.reasons, f.time_to_limit_hours
    );
    assert!(f.time_to_limit_hours.is_some_and(|h| h < 24.0), "{what}");
    assert_eq!(f.verdict, Verdict::Suspect, "{what}");
    says(&f, "restarts-unconfirmed", "");
    assert!(f.reason("partial-day").is_none(), "{what}");
}

/// One long tooth: Private Bytes climb 200 MB over 14 h, drop back and hold still for the
/// log's last 10 h, with no `ID Process` or `Elapsed Time` logged. With the handles holding
/// their level through the drop, no restart happened: the climb was given back inside one
/// life (a collection, a trim), an `ok` sawtooth that says so. With the handles falling at the
/// drop, a new process started there, and the climb is not read as given back; nor where a
/// second instance of the image (`svc#1`) is logged: without `ID Process` the label may have
/// passed to that other process at the drop, whose handles hold by chance.
#[test]
fn a_climb_given_back_at_a_drop_that_is_no_restart_is_not_a_leak() {
    let run = |handles: Handles, twin: bool| {
        let b = LogBuilder::new(24.0, 300.0);
        let t = b.hours();
        let bytes = t
            .iter()
            .enumerate()
            .map(|(i, &h)| {
                let climb = if h < 14.0 { 200.0 * h / 14.0 } else { 0.0 };
                (200.0 + climb + wiggle(i) * 0.5) * MB
            })
            .collect();
        let counts = t
            .iter()
            .enumerate()
            .map(|(i, &h)| {
                let fresh = handles == Handles::Reset && h >= 14.0;
                (if fresh { 150.0 } else { 400.0 } + wiggle(i)).round()
            })
            .collect();
        let mut b = b
            .process("svc", "Private Bytes", bytes)
            .process("svc", "Handle Count", counts);
        if twin {
            b = b.process("svc#1", "Handle Count", vec![300.0; t.len()]);
        }
        only(&b.build(), "Private Bytes")
    };
    let held = run(Handles::Held, false);
    let what = format!("{:?} {:?} {:?}", held.verdict, held.shape, held.reasons);
    reads(&held, Verdict::Ok, "sawtooth");
    says(
        &held,
        "drops-not-restarts",
        "its sharp drop is not a restart",
    );
    says(
        &held,
        "floors-level",
        "growth given back: the floor after the drop",
    );
    assert_eq!(held.segments, 1, "{what}");
    for (handles, twin) in [(Handles::Reset, false), (Handles::Held, true)] {
        let f = run(handles, twin);
        let what = format!("{:?} {:?}", f.verdict, f.reasons);
        assert!(f.reason("drops-not-restarts").is_none(), "{what}");
        assert!(f.reason("floors-level").is_none(), "{what}");
        assert_ne!(f.shape.as_str(), "sawtooth", "{what}");
        assert_eq!(f.segments, 2, "{what}: the drop is read as a restart");
    }
}

/// `Elapsed Time` settles what the drops are. Where it keeps counting with the clock through
/// every sharp drop, one process lived through them and freed memory: one lifetime whose
/// climbs are given back, not restarts hiding a leak. Where it falls at each drop, they are
/// restarts, and the climbs they cut short are a leak.
#[test]
fn elapsed_time_counting_through_a_sharp_drop_is_no_restart() {
    let read = |restarts: bool| {
        let b = LogBuilder::new(72.0, 300.0);
        let t = b.hours();
        let bytes = climbs_and_drops(&t, 0.0);
        let elapsed = t
            .iter()
            .map(|&h| 3600.0 * if restarts { h % 8.0 } else { h + 100.0 })
            .collect();
        let log = b
            .process("svc", "Private Bytes", bytes)
            .process("svc", "Elapsed Time", elapsed)
            .build();
        only(&log, "Private Bytes")
    };
    let lived = read(false);
    let what = format!("{:?} {:?}", lived.verdict, lived.reasons);
    assert_eq!((lived.segments, lived.restarts.len()), (1, 0), "{what}");
    assert_eq!(lived.verdict, Verdict::Ok, "{what}");
    let restarted = read(true);
    let what = format!("{:?} {:?}", restarted.verdict, restarted.reasons);
    // Nine restarts, and the last sample a tenth process just started.
    assert!(restarted.segments >= 9, "{what}");
    assert_eq!(restarted.verdict, Verdict::Leak, "{what}");
}

/// A trim that is no restart, then a leak: Private Bytes hold at 300 MB for 8 h, drop to
/// 200 MB with the handles holding their level (memory freed inside one life), and from 10 h
/// climb 25 MB/h to 550 MB by the log's end. The floor after the drop stands below the one
/// before, but the last tooth has given nothing back yet: it climbed past every level the
/// process held before, as a leak does and a refilling heap does not. Not an `ok` sawtooth:
/// the growth is flagged, and the drop is still said to be no restart.
#[test]
fn a_leak_begun_after_a_drop_that_is_no_restart_is_not_a_level_sawtooth() {
    let b = LogBuilder::new(24.0, 300.0);
    let t = b.hours();
    let bytes = t
        .iter()
        .enumerate()
        .map(|(i, &h)| {
            let level = match h {
                h if h < 8.0 => 300.0,
                h if h < 10.0 => 200.0,
                h => 200.0 + 25.0 * (h - 10.0),
            };
            (level + wiggle(i) * 0.5) * MB
        })
        .collect();
    let handles = (0..t.len()).map(|i| (400.0 + wiggle(i)).round()).collect();
    let log = b
        .process("svc", "Private Bytes", bytes)
        .process("svc", "Handle Count", handles)
        .build();
    let f = only(&log, "Private Bytes");
    let what = format!("{:?} {:?} {:?}", f.verdict, f.shape, f.reasons);
    assert!(f.verdict.is_flagged(), "{what}");
    assert!(f.reason("floors-level").is_none(), "{what}");
    says(&f, "drops-not-restarts", "its sharp drop is not a restart");
    assert_eq!((f.segments, f.restarts.len()), (1, 0), "{what}");
}

/// A day of four 6 h teeth, 300 MB each, whose floors rise 5 MB a tooth, sampled every 5
/// minutes, with the handles holding their level through every drop (no restart).
fn rising_floors_log() -> PerfLog {
    let b = LogBuilder::new(24.0, 300.0);
    let t = b.hours();
    let bytes = t
        .iter()
        .enumerate()
        .map(|(i, &h)| {
            let floor = 200.0 + 5.0 * (h / 6.0).floor();
            (floor + 300.0 * (h % 6.0) / 6.0 + wiggle(i) * 0.5) * MB
        })
        .collect();
    let handles = (0..t.len()).map(|i| (400.0 + wiggle(i)).round()).collect();
    b.process("svc", "Private Bytes", bytes)
        .process("svc", "Handle Count", handles)
        .build()
}

/// Teeth of 6 h climbing 300 MB, each collection leaving the heap 5 MB above the one before,
/// over a day, with the handles holding their level (no restart), and the last drop at the
/// log's last sample. What the process keeps rises at every tooth: flagged, and the floors say
/// so. (Read as a share of each tooth, a lower decile, the long teeth's floors stood part way
/// up their climbs and the last one-sample tooth's at the bottom: the rise was read as none.)
#[test]
fn floors_that_rise_at_every_tooth_are_flagged_whatever_the_teeth_last() {
    let log = rising_floors_log();
    let f = only(&log, "Private Bytes");
    let what = format!("{:?} {:?} {:?}", f.verdict, f.shape, f.reasons);
    assert!(f.verdict.is_flagged(), "{what}");
    says(&f, "floors-rise", "the floor each of its 4 teeth reaches");
    says(
        &f,
        "drops-not-restarts",
        "its 4 sharp drops are not restarts",
    );
}

/// The level sawtooth of the test above, but the process vanishes for two hours mid-log and
/// returns (its cells blank): that return is a new lifetime, whatever the drops are. The drops
/// the handles hold through still cut nothing and are said to be no restarts, but the floors
/// are not compared across the two processes: no `floors-level` sawtooth verdict rests on them.
#[test]
fn floors_are_not_compared_across_a_restart() {
    let b = LogBuilder::new(72.0, 300.0);
    let t = b.hours();
    let gap = |h: f64| (30.0..32.0).contains(&h);
    let bytes = climbs_and_drops(&t, 0.0)
        .into_iter()
        .zip(&t)
        .map(|(v, &h)| if gap(h) { f64::NAN } else { v })
        .collect();
    let handles = t
        .iter()
        .enumerate()
        .map(|(i, &h)| {
            if gap(h) {
                f64::NAN
            } else {
                (400.0 + wiggle(i)).round()
            }
        })
        .collect();
    let log = b
        .process("svc", "Private Bytes", bytes)
        .process("svc", "Handle Count", handles)
        .build();
    let f = only(&log, "Private Bytes");
    let what = format!("{:?} {:?} {:?}", f.verdict, f.shape, f.reasons);
    assert_eq!((f.segments, f.restarts.len()), (2, 1), "{what}");
    assert!(f.reason("floors-level").is_none(), "{what}");
    assert!(f.reason("floors-rise").is_none(), "{what}");
    says(&f, "drops-not-restarts", "sharp drops are not restarts");
}

/// The rising sawtooth of `floors_that_rise_at_every_tooth_are_flagged_whatever_the_teeth_last`
/// (teeth of 6 h climbing 300 MB, each collection leaving the heap 5 MB above the one before,
/// handles holding their level) as a PDH-CSV log analysed through the binary to a report
/// directory, with its charts; the report directory and the Private Bytes finding's JSON.
fn rising_sawtooth_report() -> (tempfile::TempDir, std::path::PathBuf, serde_json::Value) {
    let text = pdh_csv(&rising_floors_log());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sawtooth.csv");
    std::fs::write(&log, text).unwrap();
    let out = dir.path().join("report");
    crate::cli_common::perfleak()
        .args(["analyze", "-q"])
        .arg(&log)
        .args(["--charts", "all", "-o"])
        .arg(&out)
        .assert()
        .success();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["counter"] == "Private Bytes")
        .expect("Private Bytes")
        .clone();
    (dir, out, f)
}

/// What a user reads of drops that are no restarts, through the binary: the rising sawtooth
/// above as a PDH-CSV log analysed to a report directory. The JSON counts one lifetime and
/// gives the reasons' codes, and the HTML report's "Lifetimes (restarts + 1)" row says 1,
/// not one per tooth; the chart is drawn.
#[test]
fn the_report_counts_one_lifetime_where_the_drops_are_no_restarts() {
    let (_dir, out, f) = rising_sawtooth_report();
    assert_eq!(f["segments"], 1, "{f}");
    let codes: Vec<&str> = f["reason_codes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(
        codes.contains(&"drops-not-restarts") && codes.contains(&"floors-rise"),
        "{codes:?}"
    );
    assert!(!codes.contains(&"restarts"), "{codes:?}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("<tr><th>Lifetimes (restarts + 1)</th><td>1</td></tr>"),
        "no one-lifetime row"
    );
    assert!(!html.contains("<tr><th>Lifetimes (restarts + 1)</th><td>5</td></tr>"));
    let chart = f["chart"].as_str().expect("a chart");
    assert!(out.join(chart).is_file(), "{chart}");
}

/// What leaks in the rising sawtooth is what each collection leaves: its floors rise 5 MB a
/// 6 h tooth (0.83 MB/h) while the teeth climb 50 MB/h. The rate, its interval, the growth, the
/// forecast and the chart's robust trend the report gives are the floors' (a Sen slope over the
/// teeth read 5.6 MB/h and the 2 GB of a 32-bit process in 12 days), and the reason says so.
#[test]
fn a_sawtooth_whose_floors_decide_reports_the_floors_rate() {
    let (_dir, out, f) = rising_sawtooth_report();
    let floors_rate = 5.0 * MB / 6.0;
    let slope = f["slope_per_hour"].as_f64().expect("a slope");
    assert!(
        (slope / floors_rate - 1.0).abs() < 0.3,
        "{} MB/h where the floors rise 0.83 MB/h: {f}",
        slope / MB
    );
    let ci: Vec<f64> = f["slope_ci95"]
        .as_array()
        .expect("an interval")
        .iter()
        .filter_map(|x| x.as_f64())
        .collect();
    assert!(
        ci.len() == 2 && ci[0] <= slope && slope <= ci[1] && ci[1] < 1.3 * floors_rate,
        "{ci:?}"
    );
    says_json(&f, "slope", "over the floors of its 4 teeth");
    says_json(&f, "growth-relative", "of the floors' median level");
    // From the floors' 220 MB at the floors' rate, the 2 GB are about 90 days away.
    let ttl = f["time_to_limit_hours"].as_f64().expect("a forecast");
    assert!((60.0 * 24.0..130.0 * 24.0).contains(&ttl), "{ttl} h");
    says_json(&f, "limit-forecast", "is reached in about");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let rate = format!("+{:.0} KB/h", slope / 1024.0);
    assert!(md.contains(&rate), "{rate} not in {md}");
    // The chart's robust trend is the floors' line, through the floors at the end.
    let log = rising_floors_log();
    let lib = only(&log, "Private Bytes");
    // The same rate, but for the CSV's bytes rounded to whole numbers.
    assert!(lib
        .slope_per_hour
        .is_some_and(|s| (s / slope - 1.0).abs() < 1e-6));
    let [fit] = lib.robust_fits.as_slice() else {
        panic!("{:?}", lib.robust_fits)
    };
    assert_eq!(Some(fit.slope_per_hour), lib.slope_per_hour);
    let at_end = fit.at(fit.end_hours) / MB;
    assert!((210.0..235.0).contains(&at_end), "{at_end} MB");
}

/// Asserts that the finding `f` (JSON) gives the reason `code` and that its words hold `text`.
fn says_json(f: &serde_json::Value, code: &str, text: &str) {
    let codes = f["reason_codes"].as_array().unwrap();
    let reasons = f["reasons"].as_array().unwrap();
    assert!(
        codes
            .iter()
            .zip(reasons)
            .any(|(c, r)| c == code && r.as_str().is_some_and(|r| r.contains(text))),
        "no `{code}` saying {text:?}: {reasons:?}"
    );
}

/// A heap over `hours` of 1-minute samples with `ID Process` logged and no other counter of
/// the process: climbing `climb` MB/h from each floor, collected every `tooth` hours, the k-th
/// collection leaving it at `floor(k)` MB.
fn collected_heap(hours: f64, tooth: f64, climb: f64, floor: impl Fn(usize) -> f64) -> Finding {
    let b = LogBuilder::new(hours, 60.0);
    let t = b.hours();
    let bytes = t
        .iter()
        .enumerate()
        .map(|(i, &h)| {
            let k = (h / tooth).floor();
            (floor(k as usize) + climb * (h - k * tooth) + wiggle(i) * 0.1) * MB
        })
        .collect();
    let pid = vec![4242.0; t.len()];
    let log = b
        .process("svc", "Private Bytes", bytes)
        .process("svc", "ID Process", pid)
        .build();
    only(&log, "Private Bytes")
}

/// An 8 h log of a heap that climbs 80 MB/h and is collected back to 300 MB every 2.7 h, with
/// its `ID Process` the same throughout: the drops are collections inside one life (the PID
/// shows it, as the other counters holding would), and what the process keeps is the floor
/// each leaves. Floors that hold are a healthy sawtooth, whatever the teeth's climb reads as;
/// floors that rise 40 MB at every collection still leak.
#[test]
fn drops_the_process_id_lives_through_are_a_sawtooth_judged_by_its_floors() {
    let level = collected_heap(8.0, 2.7, 80.0, |_| 300.0);
    let what = format!("{:?} {:?} {:?}", level.verdict, level.shape, level.reasons);
    reads(&level, Verdict::Ok, "sawtooth");
    says(
        &level,
        "drops-not-restarts",
        "its 2 sharp drops are not restarts: its ID Process stays the same through each",
    );
    says(&level, "floors-level", "no rise");
    assert_eq!((level.segments, level.restarts.len()), (1, 0), "{what}");
    let rising = collected_heap(8.0, 2.7, 80.0, |k| 300.0 + 40.0 * k as f64);
    let what = format!("{:?} {:?}", rising.verdict, rising.reasons);
    assert!(rising.verdict.is_flagged(), "{what}");
    says(&rising, "floors-rise", "from 301 MB to 381 MB");
    says(
        &rising,
        "drops-not-restarts",
        "its ID Process stays the same through each",
    );
}

/// A day of a heap climbing 80 MB/h, collected every 3 h, whose floors climb 10 MB a
/// collection, as its series does, but up and down 25 MB about that line: over the seven teeth
/// a collection began the exact Mann-Kendall test finds no rise (p=0.12), yet their rate is
/// about the series' own, nearer it than holding. Floors that fail to show a rise have not
/// shown that they hold: the growth stays flagged, not a level sawtooth, and says what would
/// settle it.
#[test]
fn floors_rising_at_about_the_series_rate_are_no_level_sawtooth() {
    let f = collected_heap(24.0, 3.0, 80.0, |k| {
        300.0 + 10.0 * k as f64 + if k % 2 == 0 { 25.0 } else { -25.0 }
    });
    let what = format!("{:?} {:?} {:?}", f.verdict, f.shape, f.reasons);
    assert!(f.verdict.is_flagged(), "{what}");
    assert!(f.reason("floors-level").is_none(), "{what}");
    says(
        &f,
        "floors-unsettled",
        "more collections logged would settle it",
    );
    // Floors that tell neither way are a doubt the calibration's score does not weigh: the
    // suspect is not promoted to a confident leak.
    assert_eq!(f.verdict, Verdict::Suspect, "{what}");
}

/// A day of a heap climbing 60 MB/h, collected every 4 h, whose floors rise 20 MB a
/// collection but for one that falls 5 MB: over the five teeth a collection began the exact
/// Mann-Kendall test finds the rise (p=0.04), but one of their slopes is below zero, so their
/// rate's 95 % interval reaches it: no reading of the rate. The floors' rise keeps the growth
/// flagged; the rate the finding reports is not theirs.
#[test]
fn a_floors_rate_whose_interval_reaches_zero_is_not_reported() {
    let floors = [300.0, 300.0, 320.0, 340.0, 335.0, 360.0];
    let f = collected_heap(24.0, 4.0, 60.0, |k| floors[k.min(5)]);
    let what = format!("{:?} {:?} {:?}", f.verdict, f.shape, f.reasons);
    assert!(f.verdict.is_flagged(), "{what}");
    says(&f, "floors-rise", "exact p=0.04");
    let slope = f.reason("slope").unwrap_or_default();
    assert!(!slope.contains("over the floors"), "{what}");
}
