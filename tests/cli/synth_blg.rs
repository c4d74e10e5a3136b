//! The generator's BLG writer against the BLG reader: a generated log written as BLG reads back
//! as the same table as its CSV (paths, timestamps, bit-identical values), converts to the same
//! text, and gives the same findings; a wide log needs many buffers and fragmented records.

use crate::cli_common;

use std::collections::BTreeSet;

use perfleak::analysis;
use perfleak::ingest::{self, PerfLog, ReadOptions};
use perfleak_synth::{self as synth, blg, sample_logs, throughput_log, GeneratedLog, Split};

use cli_common::perfleak;

fn read(name: &str, bytes: &[u8], all_columns: bool) -> PerfLog {
    let options = ReadOptions {
        all_columns,
        ..ReadOptions::default()
    };
    ingest::read_bytes(name, bytes, &options).unwrap_or_else(|e| panic!("{name}: {e:#}"))
}

/// The table of a log: every path (incl. those not kept), timestamps, and kept columns' values
/// as bits.
type Table = (Vec<String>, Vec<String>, Vec<(String, Vec<u64>)>);

fn table(log: &PerfLog) -> Table {
    let paths = log.all_paths.iter().map(|p| format!("{p:?}")).collect();
    let stamps = log.timestamps.iter().map(|t| t.to_string()).collect();
    let columns = log
        .columns
        .iter()
        .map(|c| {
            let bits = c.values.to_vec().iter().map(|v| v.to_bits()).collect();
            (format!("{:?}", c.path), bits)
        })
        .collect();
    (paths, stamps, columns)
}

/// Sample logs and a spread of benchmark logs (several scenario families).
fn corpus() -> Vec<GeneratedLog> {
    let mut logs = sample_logs(1);
    logs.extend(synth::benchmark_logs_seeded(Split::Tune, 0.02, 7).take(9));
    logs
}

fn assert_same_table(log: &GeneratedLog, all_columns: bool) {
    let csv = read(
        &format!("{}.csv", log.name()),
        &log.to_csv_bytes(),
        all_columns,
    );
    let blg_bytes = blg::to_blg_bytes(log);
    assert_eq!(blg_bytes.len() % 65536, 0, "{}: whole buffers", log.name());
    let blg = read(&format!("{}.blg", log.name()), &blg_bytes, all_columns);
    assert_eq!(blg.source.format, ingest::LogFormat::Blg);
    assert!(
        blg.warnings.is_empty(),
        "{}: a clean BLG reads without warnings: {:?}",
        log.name(),
        blg.warnings
    );
    let (a, b) = (table(&csv), table(&blg));
    assert_eq!(a.0, b.0, "{}: paths", log.name());
    assert_eq!(a.1, b.1, "{}: timestamps", log.name());
    assert_eq!(a.2.len(), b.2.len(), "{}: kept columns", log.name());
    for (x, y) in a.2.iter().zip(&b.2) {
        assert_eq!(x, y, "{}: column {} differs", log.name(), x.0);
    }
    assert_eq!(csv.source.time_zone, blg.source.time_zone);
    assert_eq!(csv.source.utc_offset_minutes, blg.source.utc_offset_minutes);
}

#[test]
fn generated_logs_read_back_from_blg_as_from_csv() {
    let logs = corpus();
    let families: BTreeSet<String> = logs
        .iter()
        .flat_map(|l| l.labels.iter().map(|s| format!("{:?}", s.family)))
        .collect();
    assert!(
        families.len() >= 8,
        "several scenario families: {families:?}"
    );
    let mut wildcards = 0;
    let mut singles = 0;
    for (k, log) in logs.iter().enumerate() {
        assert_same_table(log, true);
        if k < 3 {
            assert_same_table(log, false);
        }
        let (_, written) =
            blg::write_generated(log, std::io::Cursor::new(Vec::new())).expect("written");
        wildcards += written.wildcard_counters;
        singles += written.single_counters;
        assert_eq!(
            written.inexact_columns,
            0,
            "{}: every value exact",
            log.name()
        );
    }
    // Both sample layouts are exercised: Process(*) lists and single counters.
    assert!(
        wildcards > 20 && singles > 20,
        "{wildcards} lists, {singles} single"
    );
}

#[test]
fn findings_are_the_same_through_csv_and_blg() {
    for log in corpus().iter().skip(3).take(5) {
        let csv = read("x.csv", &log.to_csv_bytes(), false);
        let blg = read("x.blg", &blg::to_blg_bytes(log), false);
        let a = serde_json::to_string(&analysis::analyze(&csv)).expect("json");
        let b = serde_json::to_string(&analysis::analyze(&blg)).expect("json");
        assert_eq!(a, b, "{}: findings differ", log.name());
    }
}

#[test]
fn convert_and_analyze_print_the_same_for_csv_and_blg() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("blg");
    let options = synth::SynthOptions {
        out: out.clone(),
        what: "samples".into(),
        seed: 1,
        format: synth::SynthFormat::Blg,
    };
    assert_eq!(synth::run(&options).expect("samples written"), 5);
    for log in sample_logs(1) {
        let csv_path = dir.path().join(format!("{}.csv", log.name()));
        std::fs::write(&csv_path, log.to_csv_bytes()).expect("csv written");
        let blg_path = out.join(format!("{}.blg", log.name()));
        let run = |args: &[&str], path: &std::path::Path| {
            let o = perfleak().args(args).arg(path).output().expect("runs");
            assert!(o.status.success(), "{args:?} {}", path.display());
            o.stdout
        };
        let a = run(&["convert"], &csv_path);
        let b = run(&["convert"], &blg_path);
        assert!(!a.is_empty());
        assert!(a == b, "{}: convert output differs", log.name());
        let a = run(&["convert", "-f", "tsv"], &csv_path);
        let b = run(&["convert", "-f", "tsv"], &blg_path);
        assert!(a == b, "{}: convert -f tsv differs", log.name());
        let findings = |bytes: Vec<u8>| -> serde_json::Value {
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            v["findings"].clone()
        };
        let a = findings(run(&["analyze", "--json"], &csv_path));
        let b = findings(run(&["analyze", "--json"], &blg_path));
        assert!(a.as_array().is_some_and(|f| !f.is_empty()) || log.name() == "healthy-server");
        assert_eq!(a, b, "{}: analyze --json findings differ", log.name());
    }
}

#[test]
fn a_wide_log_spans_many_buffers_and_fragmented_records() {
    // 600 series: each sample record is ~30 KB, cut into ~8 KB fragments.
    let log = throughput_log(600, 1500, 3);
    let (cursor, written) =
        blg::write_generated(&log, std::io::Cursor::new(Vec::new())).expect("written");
    let bytes = cursor.into_inner();
    assert_eq!(bytes.len() as u64, written.bytes);
    assert!(written.buffers > 100, "{written:?}");
    assert!(written.fragmented_records >= 1500, "{written:?}");
    assert!(written.events > 3 * 1500, "{written:?}");
    assert_same_table(&log, false);
    // Every buffer is 64 KiB, ends in 0xFF fill, and says how much of it is used.
    for (i, b) in bytes.chunks(65536).enumerate() {
        let used = u32::from_le_bytes(b[0x30..0x34].try_into().unwrap()) as usize;
        assert!((0x48..=65536).contains(&used), "buffer {i}");
        assert!(b[used..].iter().all(|&x| x == 0xFF), "buffer {i} fill");
    }
}
