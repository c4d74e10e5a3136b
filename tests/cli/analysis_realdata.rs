//! The analysis on real perfmon logs from `../shared/realdata`: one finding per process series,
//! sane numbers, and no leak claimed from an hour of data. Skips when the folder is absent.

use perfleak::analysis::{analyze, Verdict};
use perfleak::ingest::{join_segments, read_file, ReadOptions};
use perfleak::vocab::Counter;
use std::path::PathBuf;

#[test]
fn one_hour_desktop_capture_gives_sane_findings() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/realdata"));
    if !dir.is_dir() {
        eprintln!("skipping: {} is absent", dir.display());
        return;
    }
    let logs: Vec<_> = (434..=439)
        .map(|n| {
            let p = dir.join(format!("ysu_CN_process_pb_hc_000{n}.csv"));
            read_file(&p, &ReadOptions::default()).expect("real log loads")
        })
        .collect();
    let joined = join_segments(logs);
    assert_eq!(joined.len(), 1);
    let log = &joined[0];
    let findings = analyze(log);
    let expected = log
        .process_columns()
        .filter(|c| {
            [
                "Private Bytes",
                "Handle Count",
                "Virtual Bytes",
                "Thread Count",
                "Pool Paged Bytes",
                "Pool Nonpaged Bytes",
            ]
            .contains(&c.path.counter.as_str())
        })
        .count();
    assert!(expected > 0);
    // The system-wide series (Memory\Available Bytes, Committed Bytes, ...) are judged too;
    // Available MBytes beside Available Bytes is the same series, judged once.
    let system: Vec<Counter> = log
        .columns
        .iter()
        .filter_map(|c| {
            let p = &c.path;
            Counter::system(&p.object, p.instance.as_deref(), &p.counter)
        })
        .collect();
    let both =
        system.contains(&Counter::AvailableBytes) && system.contains(&Counter::AvailableMBytes);
    let system = system.len() - usize::from(both);
    let memory_left = findings
        .iter()
        .filter(|f| f.process == "System (memory)")
        .count();
    assert_eq!(memory_left, 1);
    assert!(system > 0);
    assert_eq!(findings.len(), expected + system);
    for f in &findings {
        // An hour is below a day: growth may be suspect, never a confident leak from a cycle.
        assert_ne!(
            f.verdict,
            Verdict::Leak,
            "{} {} {:?}",
            f.instance,
            f.counter,
            f.reasons
        );
        assert!(f.confidence.is_finite() && (0.0..=1.0).contains(&f.confidence));
        assert!(!f.reasons.is_empty());
        assert!(f.span_hours > 0.9 && f.span_hours < 1.1, "{}", f.span_hours);
        // An hour is not tested: say what was seen, not what could have been detected.
        if f.verdict == Verdict::InsufficientData {
            assert!(f.min_detectable_slope_per_hour.is_none());
            assert!(
                f.reasons[0].starts_with(&format!("{} {} ", f.process, f.counter))
                    && f.reasons[0].contains(" in 1.0 h; too short to tell a leak from activity"),
                "{:?}",
                f.reasons
            );
            assert!(!f.reasons.iter().any(|r| r.contains("could have detected")));
        }
        assert!(f.pids.len() <= f.segments.max(1) + 1);
        if let Some(s) = f.slope_per_hour {
            assert!(s.is_finite());
        }
    }
    let qq = findings
        .iter()
        .find(|f| f.process == "QQ" && f.counter == "Handle Count");
    if let Some(qq) = qq {
        eprintln!("QQ Handle Count: {:?} {:?}", qq.verdict, qq.reasons);
    }
    // Worst first.
    assert!(findings
        .windows(2)
        .all(|w| w[0].verdict.rank() >= w[1].verdict.rank()));
}
