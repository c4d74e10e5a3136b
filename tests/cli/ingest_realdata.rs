//! Every real perfmon log in `../shared/realdata` loads, with facts checked against the files.
//! Skips cleanly when the shared folder is absent.

use std::path::PathBuf;

use perfleak::ingest::{join_segments, read_file, PerfLog, ReadOptions};

fn realdata() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/realdata"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

fn load(name: &str) -> Option<PerfLog> {
    let dir = realdata()?;
    Some(read_file(&dir.join(name), &ReadOptions::default()).expect(name))
}

fn column(log: &PerfLog, object: &str, instance: Option<&str>, counter: &str) -> Vec<f64> {
    log.columns
        .iter()
        .find(|c| {
            c.path.object == object
                && c.path.instance.as_deref() == instance
                && c.path.counter == counter
        })
        .unwrap_or_else(|| panic!("no column {object}({instance:?})\\{counter}"))
        .values
        .to_vec()
}

#[test]
fn every_csv_and_tsv_loads() {
    let Some(dir) = realdata() else { return };
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
        if matches!(ext.as_deref(), Some("csv" | "tsv")) {
            let log = read_file(&path, &ReadOptions::default())
                .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
            assert!(log.timestamps.len() >= 25, "{}", path.display());
            assert_eq!(log.timestamps.len(), log.elapsed_seconds.len());
            assert!(log.elapsed_seconds.windows(2).all(|w| w[1] >= w[0]));
            for c in &log.columns {
                assert_eq!(c.values.len(), log.timestamps.len());
            }
            count += 1;
        }
    }
    assert_eq!(count, 13);
}

#[test]
fn chinese_locale_process_log() {
    let Some(log) = load("ysu_CN_process_pb_hc_000434.csv") else {
        return;
    };
    assert_eq!(log.machines(), vec!["DESKTOP-5GTCQEM".to_string()]);
    assert_eq!(log.timestamps.len(), 121);
    assert_eq!(log.timestamps[0].to_string(), "2022-10-09 18:35:28.403");
    // Header cell is just "(PDH-CSV 4.0) (": no zone, no bias.
    assert_eq!(log.source.time_zone, None);
    assert_eq!(log.source.utc_offset_minutes, None);
    assert_eq!(log.all_paths.len(), 449);
    let handles = column(&log, "Process", Some("QQ"), "Handle Count");
    assert_eq!(
        (handles[0], handles[1], handles[120]),
        (1737.0, 1737.0, 1738.0)
    );
    assert!(column(&log, "Process", Some("QQ"), "ID Process")
        .iter()
        .all(|&p| p == 14884.0));
    // Only the first row has " " blanks.
    let committed = column(&log, "Memory", None, "Committed Bytes");
    assert_eq!(committed[0], 24490659840.0);
    assert!(column(&log, "Process", Some("chrome"), "% Processor Time")[0].is_nan());
    // 14 processes x 13 analysis counters (11, and the IO Data and IO Other Operations/sec read
    // as load since #18) + 6 Memory counters (Available MBytes too, a system series judged since
    // #17) are materialised, nothing else.
    assert_eq!(log.process_columns().count(), 14 * 13);
    assert_eq!(log.columns.len(), 14 * 13 + 6);
    assert!(log
        .columns
        .iter()
        .any(|c| c.path.object == "Memory" && c.path.counter == "Available MBytes"));
    assert!((log.interval_seconds().unwrap() - 5.0).abs() < 0.01);
}

#[test]
fn six_segments_join_into_one_hour() {
    let Some(dir) = realdata() else { return };
    // Given out of order on purpose: joining orders by time.
    let logs: Vec<PerfLog> = [439, 434, 436, 435, 438, 437]
        .iter()
        .map(|n| {
            let p = dir.join(format!("ysu_CN_process_pb_hc_000{n}.csv"));
            read_file(&p, &ReadOptions::default()).unwrap()
        })
        .collect();
    let total: usize = logs.iter().map(|l| l.timestamps.len()).sum();
    let joined = join_segments(logs);
    assert_eq!(
        joined.len(),
        1,
        "{:?}",
        joined.iter().map(|l| &l.warnings).collect::<Vec<_>>()
    );
    let run = &joined[0];
    assert_eq!(run.timestamps.len(), total);
    assert_eq!(run.source.segments.len(), 6);
    assert!(run.source.segments[0].ends_with("000434.csv"));
    assert_eq!(run.timestamps[0].to_string(), "2022-10-09 18:35:28.403");
    assert_eq!(
        run.timestamps.last().unwrap().to_string(),
        "2022-10-09 19:35:23.515"
    );
    let span = run.elapsed_seconds.last().unwrap();
    assert!((span - 3595.112).abs() < 0.01, "span {span}");
    assert!(run.elapsed_seconds.windows(2).all(|w| w[1] > w[0]));
    let handles = column(run, "Process", Some("QQ"), "Handle Count");
    assert_eq!(handles.len(), total);
    assert_eq!(*handles.last().unwrap(), 1965.0);
}

#[test]
fn segments_of_other_runs_stay_apart() {
    let Some(dir) = realdata() else { return };
    let read = |n: &str| read_file(&dir.join(n), &ReadOptions::default()).unwrap();
    // 434 and 436 have the same columns but 435 is missing between them.
    let joined = join_segments(vec![
        read("ysu_CN_process_pb_hc_000434.csv"),
        read("ysu_CN_process_pb_hc_000436.csv"),
        read("ysu_CN_disk_000394.csv"),
    ]);
    assert_eq!(joined.len(), 3);
    assert!(joined
        .iter()
        .any(|l| l.warnings.iter().any(|w| w.contains("not joined"))));
}

#[test]
fn lower_case_paths_and_tsv_equal_csv() {
    let (Some(csv), Some(tsv)) = (
        load("pwsh_PST_lowercase_paths_CounterSamples.csv"),
        load("pwsh_PST_lowercase_paths_CounterSamples.tsv"),
    ) else {
        return;
    };
    assert_eq!(csv.source.format.as_str(), "pdh-csv");
    assert_eq!(tsv.source.format.as_str(), "pdh-tsv");
    assert_eq!(csv.source.utc_offset_minutes, Some(-480));
    assert_eq!(
        csv.source.time_zone.as_deref(),
        Some("Pacific Standard Time")
    );
    assert_eq!(csv.machines(), vec!["charlieparker".to_string()]);
    let nic = &csv.all_paths[0];
    assert_eq!(nic.object, "network interface");
    assert_eq!(
        nic.instance.as_deref(),
        Some("intel[r] ethernet connection i218-lm")
    );
    assert!(csv
        .all_paths
        .iter()
        .any(|p| p.instance.as_deref() == Some("isatap.{ea2a01ef-c879-4737-9677-c2fbbc1b5af4}")));
    assert!(csv
        .all_paths
        .iter()
        .any(|p| p.object == "Memory" && p.original_object == "memory"));
    assert_eq!(csv.timestamps, tsv.timestamps);
    assert_eq!(csv.all_paths, tsv.all_paths);
    let all = ReadOptions {
        all_columns: true,
        ..ReadOptions::default()
    };
    let dir = realdata().unwrap();
    let a = read_file(
        &dir.join("pwsh_PST_lowercase_paths_CounterSamples.csv"),
        &all,
    )
    .unwrap();
    let b = read_file(
        &dir.join("pwsh_PST_lowercase_paths_CounterSamples.tsv"),
        &all,
    )
    .unwrap();
    assert_eq!(a.columns.len(), 10);
    for (x, y) in a.columns.iter().zip(&b.columns) {
        assert_eq!(x.path, y.path);
        let same = x
            .values
            .to_vec()
            .iter()
            .zip(&y.values.to_vec())
            .all(|(p, q)| p == q || (p.is_nan() && q.is_nan()));
        assert!(same, "{}", x.path.canonical());
    }
    assert_eq!(a.columns[1].values.to_vec()[1], 2345.3290343446924);
}

#[test]
fn duplicate_columns_and_missing_prefix() {
    let Some(disk) = load("ysu_CN_disk_000394.csv") else {
        return;
    };
    let dupes = disk
        .warnings
        .iter()
        .filter(|w| w.contains("duplicate column"))
        .count();
    assert_eq!(dupes, 7);
    assert!(disk.warnings[0].contains("line 1, column 11"));
    let all = ReadOptions {
        all_columns: true,
        ..ReadOptions::default()
    };
    let dir = realdata().unwrap();
    let disk_all = read_file(&dir.join("ysu_CN_disk_000394.csv"), &all).unwrap();
    assert_eq!(disk_all.all_paths.len(), 30);
    assert_eq!(disk_all.columns.len(), 23);

    let pwsh = load("pwsh_CorruptBlg_is_truncated_csv_no_PDH_prefix_dup_cols.csv").unwrap();
    assert_eq!(pwsh.timestamps.len(), 500);
    assert_eq!(
        pwsh.source.time_zone.as_deref(),
        Some("Pacific Daylight Time")
    );
    assert_eq!(pwsh.source.utc_offset_minutes, Some(-420));
    assert_eq!(pwsh.machines(), vec!["CHANDSR-X86".to_string()]);
    assert_eq!(pwsh.timestamps[499].to_string(), "2008-05-29 11:45:20.279");

    let derived = load("ysu_CN_disk_000394_DERIVED_first_row_removed.csv").unwrap();
    assert_eq!(derived.timestamps.len(), 119);
    assert_eq!(derived.timestamps[0], disk.timestamps[1]);
}
