//! Binary perfmon logs (.blg) read natively: the four public BLGs in `../shared/realdata/blg`
//! (counts their owners' tests expect, the PowerShell pair byte for byte through `convert`),
//! the same findings as through CSV, BLGs inside archives and on stdin, and damage.

use crate::cli_common;

use std::io::Write;
use std::path::{Path, PathBuf};

use cli_common::perfleak;
use perfleak::ingest::{blg, read_bytes, ReadOptions};

fn realdata() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared absent");
        None
    }
}

fn blg_file(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join("blg").join(name)).unwrap()
}

fn read_all(name: &str, bytes: &[u8]) -> blg::BlgLog {
    let keep = |_: &str| true;
    blg::read(name, bytes, &keep).unwrap()
}

fn values(table: &blg::RelogTable, column: impl Fn(&str) -> bool) -> usize {
    (0..table.columns.len())
        .filter(|&c| column(&table.columns[c]))
        .map(|c| {
            (0..table.stamps.len())
                .filter(|&r| table.cell(c, r).is_some())
                .count()
        })
        .sum()
}

#[test]
fn convert_reproduces_relogs_csv_and_tsv_of_the_powershell_pair_byte_for_byte() {
    let Some(dir) = realdata() else { return };
    let log = dir.join("blg/pwsh_CounterSamples.blg");
    for (format, asset) in [
        ("csv", "pwsh_PST_lowercase_paths_CounterSamples.csv"),
        ("tsv", "pwsh_PST_lowercase_paths_CounterSamples.tsv"),
    ] {
        let out = perfleak()
            .args(["convert", "-f", format])
            .arg(&log)
            .assert()
            .success();
        let expected = std::fs::read(dir.join(asset)).unwrap();
        assert!(
            out.get_output().stdout == expected,
            "{format} differs from {asset}"
        );
    }
    // -o writes the same bytes to a file.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("out.csv");
    perfleak()
        .arg("convert")
        .arg(&log)
        .arg("-o")
        .arg(&file)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(dir.join("pwsh_PST_lowercase_paths_CounterSamples.csv")).unwrap()
    );
}

#[test]
fn convert_turns_csv_into_tsv_and_back() {
    let Some(dir) = realdata() else { return };
    let csv = dir.join("pwsh_PST_lowercase_paths_CounterSamples.csv");
    let tsv = perfleak()
        .args(["convert", "-f", "tsv"])
        .arg(&csv)
        .assert()
        .success();
    let tsv = tsv.get_output().stdout.clone();
    assert_eq!(
        tsv,
        std::fs::read(dir.join("pwsh_PST_lowercase_paths_CounterSamples.tsv")).unwrap()
    );
    let back = perfleak()
        .args(["convert", "-f", "csv", "-"])
        .write_stdin(tsv)
        .assert()
        .success();
    assert_eq!(back.get_output().stdout, std::fs::read(&csv).unwrap());
}

#[test]
fn tx_has_the_values_microsoft_tx_tests_expect() {
    let Some(dir) = realdata() else { return };
    let log = read_all("tx", &blg_file(&dir, "tx_BasicPerfCounters.blg"));
    let t = &log.table;
    // 601 rows: the first is blank (every counter needs two samples), 600 with values.
    assert_eq!(t.stamps.len(), 601);
    assert_eq!(values(t, |_| true), 6000);
    assert_eq!(values(t, |c| c.contains("PhysicalDisk")), 3000);
    assert!(t.columns[0].ends_with("PhysicalDisk(0 C:)\\Avg. Disk Bytes/Read"));
    assert_eq!(
        t.columns
            .iter()
            .filter(|c| c.contains("\\Processor("))
            .count(),
        5
    );
    assert_eq!(log.header.os_build, 9200);
}

#[test]
fn the_multi_machine_log_has_275_samples_5_with_errors() {
    let Some(dir) = realdata() else { return };
    let log = read_all(
        "bad",
        &blg_file(&dir, "pwsh_BadCounterSamples_multimachine.blg"),
    );
    assert_eq!(log.table.stamps.len(), 275);
    assert_eq!(log.samples_with_errors, 5);
    assert_eq!(log.table.zone_name, "SA Eastern Standard Time");
    assert_eq!(log.table.bias, 180);
    let perf = read_bytes(
        "bad.blg",
        &blg_file(&dir, "pwsh_BadCounterSamples_multimachine.blg"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(perf.machines().len(), 26);
}

#[test]
fn the_pal_whole_object_log_reads_and_analyses_end_to_end() {
    let Some(dir) = realdata() else { return };
    let bytes = blg_file(&dir, "pal_SampleLog_process_privatebytes_handlecount.blg");
    let log = read_all("pal", &bytes);
    let t = &log.table;
    assert!(log.counters.iter().all(|c| c.whole_object()));
    // Daylight time (EDT) in the log: the header cell keeps the standard name and bias.
    assert_eq!(
        (t.zone_name.as_str(), t.bias),
        ("Eastern Standard Time", 300)
    );
    // Counter-major, then instances in first-seen order.
    assert!(t.columns[0].ends_with("LogicalDisk(HarddiskVolume1)\\% Free Space"));
    assert!(t.columns[1].ends_with("LogicalDisk(C:)\\% Free Space"));
    assert!(t.columns[3].ends_with("LogicalDisk(HarddiskVolume1)\\Free Megabytes"));
    // Repeated process names are numbered in block order.
    assert!(t
        .columns
        .iter()
        .any(|c| c.ends_with("Process(svchost#1)\\Private Bytes")));
    // Internal checks: one CPU, so Processor(_Total) + Process(Idle) time = 100 %.
    let col = |end: &str| t.columns.iter().position(|c| c.ends_with(end)).unwrap();
    let (total, idle) = (
        col("Processor(_Total)\\% Processor Time"),
        col("Process(Idle)\\% Processor Time"),
    );
    for r in 1..t.stamps.len() {
        let sum = t.cell(total, r).unwrap() + t.cell(idle, r).unwrap();
        assert!((sum - 100.0).abs() < 1e-9, "row {r}: {sum}");
    }
    for c in (0..t.columns.len()).filter(|&c| t.columns[c].ends_with("\\Private Bytes")) {
        for r in 0..t.stamps.len() {
            if let Some(v) = t.cell(c, r) {
                assert_eq!(v % 4096.0, 0.0, "{}", t.columns[c]);
            }
        }
    }

    let out = tempfile::tempdir().unwrap();
    perfleak()
        .arg("analyze")
        .arg(dir.join("blg/pal_SampleLog_process_privatebytes_handlecount.blg"))
        .arg("-o")
        .arg(out.path())
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap();
    for counter in ["Private Bytes", "Handle Count"] {
        let n = findings.iter().filter(|f| f["counter"] == counter).count();
        assert!(n > 20, "{n} {counter} findings");
    }
    assert_eq!(report["source"]["format"], "blg");
    assert!(out.path().join("report.html").is_file());
}

fn analyze_json(path: &Path) -> serde_json::Value {
    let out = perfleak()
        .args(["analyze", "--json"])
        .arg(path)
        .assert()
        .success();
    let mut v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let source = v["source"].as_object_mut().unwrap();
    for key in ["path", "format", "encoding", "segments"] {
        source.remove(key);
    }
    v
}

#[test]
fn blg_and_its_relog_csv_give_the_same_findings() {
    let Some(dir) = realdata() else { return };
    assert_eq!(
        analyze_json(&dir.join("blg/pwsh_CounterSamples.blg")),
        analyze_json(&dir.join("pwsh_PST_lowercase_paths_CounterSamples.csv"))
    );
    // The whole-object log against its own conversion: per-process findings, through both.
    let tmp = tempfile::tempdir().unwrap();
    let pal = dir.join("blg/pal_SampleLog_process_privatebytes_handlecount.blg");
    let csv = tmp.path().join("pal.csv");
    perfleak()
        .arg("convert")
        .arg(&pal)
        .arg("-o")
        .arg(&csv)
        .assert()
        .success();
    let (a, b) = (analyze_json(&pal), analyze_json(&csv));
    assert!(!a["findings"].as_array().unwrap().is_empty());
    assert_eq!(a["findings"], b["findings"]);
    assert_eq!(a["source"], b["source"]);
}

#[test]
fn a_blg_reads_inside_zip_gz_and_on_stdin() {
    let Some(dir) = realdata() else { return };
    let bytes = blg_file(&dir, "tx_BasicPerfCounters.blg");
    let tmp = tempfile::tempdir().unwrap();
    let gz = tmp.path().join("tx.blg.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&bytes).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let zip_path = tmp.path().join("logs.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file("SRV/tx.blg", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(&bytes).unwrap();
    zip.finish().unwrap();

    let samples = |out: &[u8]| -> u64 {
        let v: serde_json::Value = serde_json::from_slice(out).unwrap();
        v["source"]["samples"].as_u64().unwrap()
    };
    for path in [&gz, &zip_path] {
        let out = perfleak()
            .args(["analyze", "--json"])
            .arg(path)
            .assert()
            .success();
        assert_eq!(samples(&out.get_output().stdout), 601, "{}", path.display());
    }
    let out = perfleak()
        .args(["analyze", "--json", "-"])
        .write_stdin(bytes)
        .assert()
        .success();
    assert_eq!(samples(&out.get_output().stdout), 601);
    let out = perfleak().arg("inspect").arg(&gz).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("format      blg") && text.contains("Windows build 9200"),
        "{text}"
    );
}

/// Reads damaged bytes through the public entry point: never a panic.
fn read_damaged(bytes: &[u8]) -> Result<perfleak::ingest::PerfLog, String> {
    read_bytes("damaged.blg", bytes, &ReadOptions::default()).map_err(|e| format!("{e:#}"))
}

#[test]
fn damage_is_read_around_and_named_by_buffer_and_offset() {
    let Some(dir) = realdata() else { return };
    let tx = blg_file(&dir, "tx_BasicPerfCounters.blg");
    let full = read_all("tx", &tx).table.stamps.len();

    // Cut short in the middle of a buffer: the complete events before the cut are read.
    let cut = &tx[..3 * blg::BUFFER_LEN + 20_000];
    let log = read_damaged(cut).unwrap();
    assert!(log.timestamps.len() > 100 && log.timestamps.len() < full);
    assert!(
        log.warnings
            .iter()
            .any(|w| w.contains("buffer 3 (byte 196608)") && w.contains("cut short")),
        "{:?}",
        log.warnings
    );

    // A corrupt buffer (its used-bytes field and an event size smashed): the others are read.
    let mut bad = tx.clone();
    let b = 2 * blg::BUFFER_LEN;
    bad[b + 0x30..b + 0x34].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    bad[b + 0x48..b + 0x4A].copy_from_slice(&0xFFF0u16.to_le_bytes());
    let log = read_damaged(&bad).unwrap();
    assert!(log.timestamps.len() < full && log.timestamps.len() > 100);
    assert!(
        log.warnings
            .iter()
            .any(|w| w.contains("buffer 2 (byte 131144)")),
        "{:?}",
        log.warnings
    );

    // A lost buffer (one left out) and buffers out of order (two swapped): read, warned.
    let mut lost = tx[..2 * blg::BUFFER_LEN].to_vec();
    lost.extend_from_slice(&tx[3 * blg::BUFFER_LEN..]);
    let log = read_damaged(&lost).unwrap();
    assert!(log.timestamps.len() < full);
    let mut swapped = tx[..2 * blg::BUFFER_LEN].to_vec();
    swapped.extend_from_slice(&tx[4 * blg::BUFFER_LEN..5 * blg::BUFFER_LEN]);
    swapped.extend_from_slice(&tx[2 * blg::BUFFER_LEN..4 * blg::BUFFER_LEN]);
    swapped.extend_from_slice(&tx[5 * blg::BUFFER_LEN..]);
    let log = read_damaged(&swapped).unwrap();
    assert_eq!(log.timestamps.len(), full);
    assert!(
        log.warnings
            .iter()
            .any(|w| w.contains("buffer 3") && w.contains("older")),
        "{:?}",
        log.warnings
    );

    // A fragment index out of range in the whole-object log: that sample is skipped.
    let pal = blg_file(&dir, "pal_SampleLog_process_privatebytes_handlecount.blg");
    let full_pal = read_all("pal", &pal).table.stamps.len();
    let mut bad = pal.clone();
    // The first sample's first fragment (buffer 2, event at 0xa418): index 1 of 3 -> 7 of 3.
    let at = 2 * blg::BUFFER_LEN + 0xa418 + 0x40;
    assert_eq!(bad[at..at + 8], [1, 0, 0, 0, 3, 0, 0, 0]);
    bad[at] = 7;
    let log = read_damaged(&bad).unwrap();
    assert_eq!(log.timestamps.len(), full_pal - 1);
    assert!(
        log.warnings.iter().any(|w| w.contains("fragment 7 of 3")),
        "{:?}",
        log.warnings
    );

    // Cut inside the first buffer: a clear error, no panic.
    let e = read_damaged(&tx[..100]).unwrap_err();
    assert!(e.contains("damaged.blg") && e.contains("cut short"), "{e}");
}

#[test]
fn seeded_mutants_of_the_real_logs_never_panic() {
    let Some(dir) = realdata() else { return };
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // BLG_MUTANTS=N runs more per file (the default keeps the test short).
    let rounds: usize = std::env::var("BLG_MUTANTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(150);
    for name in [
        "pwsh_CounterSamples.blg",
        "pal_SampleLog_process_privatebytes_handlecount.blg",
        "pwsh_BadCounterSamples_multimachine.blg",
        "tx_BasicPerfCounters.blg",
    ] {
        let original = blg_file(&dir, name);
        for _ in 0..rounds {
            let mut m = original.clone();
            for _ in 0..1 + next() % 16 {
                let at = (next() as usize) % m.len();
                m[at] = next() as u8;
            }
            if next() % 4 == 0 {
                m.truncate((next() as usize) % m.len());
            }
            let _ = read_damaged(&m);
        }
    }
}

#[test]
fn a_wrapped_circular_log_is_put_back_in_time_order() {
    let Some(dir) = realdata() else { return };
    let tx = blg_file(&dir, "tx_BasicPerfCounters.blg");
    let n = tx.len() / blg::BUFFER_LEN;
    assert!(n >= 5);
    // A circular log that wrapped: the newest buffers (here 1..3, which hold the counter list)
    // were written over the start, so the file holds 0, 3..n, then 1..3.
    let buf = |i: usize| &tx[i * blg::BUFFER_LEN..(i + 1) * blg::BUFFER_LEN];
    let mut wrapped = buf(0).to_vec();
    for i in (3..n).chain(1..3) {
        wrapped.extend_from_slice(buf(i));
    }
    let original = read_all("tx", &tx);
    let log = read_all("wrapped", &wrapped);
    assert!(
        log.warnings
            .iter()
            .any(|w| w.contains("older") && w.contains("time order")),
        "{:?}",
        log.warnings
    );
    let (a, b) = (&original.table, &log.table);
    assert_eq!(a.stamps, b.stamps);
    assert_eq!(a.columns, b.columns);
    for c in 0..a.columns.len() {
        for r in 0..a.stamps.len() {
            assert_eq!(a.cell(c, r), b.cell(c, r), "column {c} row {r}");
        }
    }
}

#[test]
fn what_is_no_readable_blg_is_named() {
    // The magic of a 64 KiB buffer but no ETW header: an older or damaged binary log.
    let e = read_damaged(&[0, 0, 1, 0, 0x40, 2, 0, 0, 0, 0]).unwrap_err();
    assert!(
        e.contains("not an ETW perfmon log") && e.contains("relog"),
        "{e}"
    );
    let Some(dir) = realdata() else { return };
    // An ETW log with no PDH events in it: an event trace, not a perfmon log.
    let pwsh = blg_file(&dir, "pwsh_CounterSamples.blg");
    let e = read_damaged(&pwsh[..blg::BUFFER_LEN]).unwrap_err();
    assert!(e.contains("counter list") && e.contains(".etl"), "{e}");
}

#[test]
fn convert_reads_a_blg_on_stdin_and_survives_a_closed_pipe() {
    let Some(dir) = realdata() else { return };
    let bytes = blg_file(&dir, "pwsh_CounterSamples.blg");
    let out = perfleak()
        .args(["convert", "-f", "tsv", "-"])
        .write_stdin(bytes)
        .assert()
        .success();
    assert_eq!(
        out.get_output().stdout,
        std::fs::read(dir.join("pwsh_PST_lowercase_paths_CounterSamples.tsv")).unwrap()
    );
    // A reader that stops after the first line: no panic, exit 0.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("perfleak"))
        .arg("convert")
        .arg(dir.join("blg/tx_BasicPerfCounters.blg"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}", output);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

/// Every cell (bits), stamp, column and message of two reads of one log.
fn same_reads(a: &blg::BlgLog, b: &blg::BlgLog, what: &str) {
    assert_eq!(a.warnings, b.warnings, "{what}");
    assert_eq!(a.table.columns, b.table.columns, "{what}");
    assert_eq!(a.table.stamps, b.table.stamps, "{what}");
    assert_eq!(a.samples_with_errors, b.samples_with_errors, "{what}");
    for c in 0..a.table.columns.len() {
        for r in 0..a.table.stamps.len() {
            let bits = |t: &blg::RelogTable| t.cell(c, r).map(f64::to_bits);
            assert_eq!(
                bits(&a.table),
                bits(&b.table),
                "{what}: column {c}, row {r}"
            );
        }
    }
}

#[test]
fn a_blg_read_in_place_reads_as_from_a_stream_and_its_pages_are_let_go_in_order() {
    // A mapped file (and `read_bytes`) is read in place, a stream one buffer at a time: the
    // same table and messages, damaged or not. A log of ~120 buffers is long enough for pages
    // to be let go behind the reader, one stretch after the other.
    let log = perfleak_synth::throughput_log(200, 800, 4);
    let whole = perfleak_synth::blg::to_blg_bytes(&log);
    assert!(whole.len() > 100 * blg::BUFFER_LEN, "{} bytes", whole.len());
    let mut damaged = whole.clone();
    damaged[7 * blg::BUFFER_LEN + 5000..7 * blg::BUFFER_LEN + 9000].fill(0);
    let (a, b) = (20 * blg::BUFFER_LEN, 40 * blg::BUFFER_LEN);
    let swapped: Vec<u8> = damaged[a..a + blg::BUFFER_LEN].to_vec();
    damaged.copy_within(b..b + blg::BUFFER_LEN, a);
    damaged[b..b + blg::BUFFER_LEN].copy_from_slice(&swapped);
    damaged.truncate(damaged.len() - 30_000);
    let mut logs = vec![("generated", whole), ("damaged", damaged)];
    if let Some(dir) = realdata() {
        logs.push((
            "pal",
            blg_file(&dir, "pal_SampleLog_process_privatebytes_handlecount.blg"),
        ));
    }
    let keep = |_: &str| true;
    for (what, bytes) in &logs {
        let streamed = blg::read(what, &bytes[..], &keep).unwrap();
        let mut released = Vec::new();
        let mut release = |start, len| released.push((start, len));
        let in_place = blg::read_bytes(what, bytes, &keep, &mut release).unwrap();
        same_reads(&in_place, &streamed, what);
        let mut end = 0;
        for &(start, len) in &released {
            assert_eq!(start, end, "{what}: stretches let go one after the other");
            end = start + len;
        }
        assert!(end <= bytes.len(), "{what}");
        if bytes.len() > 100 * blg::BUFFER_LEN {
            assert!(end > 0, "{what}: a long log is let go as it is read");
        }
    }
    let (_, damaged) = &logs[1];
    let warnings = read_all("damaged", damaged).warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("older than the one before")),
        "{warnings:?}"
    );
}
