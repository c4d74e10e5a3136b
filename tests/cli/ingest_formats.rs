//! The reader against every layout a customer can send, with fixtures built in the test: encodings,
//! delimiters, line endings, odd instance names, localized names, DST, gzip/zip, bad input.

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use perfleak::ingest::{
    expand_inputs, read_bytes, read_file, read_source, LogSource, PerfLog, ReadOptions,
};

/// A PDH log as relog writes it: every cell quoted, `sep` between cells, `eol` after each line.
fn pdh(cell0: &str, paths: &[&str], rows: &[&[&str]], sep: &str, eol: &str) -> String {
    let quote = |s: &str| format!("\"{s}\"");
    let mut out = String::new();
    let header: Vec<String> = std::iter::once(cell0)
        .chain(paths.iter().copied())
        .map(quote)
        .collect();
    out.push_str(&header.join(sep));
    out.push_str(eol);
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| quote(c)).collect();
        out.push_str(&cells.join(sep));
        out.push_str(eol);
    }
    out
}

fn sample() -> String {
    pdh(
        "(PDH-CSV 4.0) (Pacific Standard Time)(480)",
        &[
            r"\\SRV01\Process(svchost#1)\Private Bytes",
            r"\\SRV01\Process(svchost#1)\Handle Count",
            r"\\SRV01\Memory\Committed Bytes",
        ],
        &[
            &["03/01/2024 10:00:00.000", " ", "100", "1.5e+009"],
            &["03/01/2024 10:00:15.000", "2048", " ", "1.5e-005"],
            &["03/01/2024 10:00:30.000", "4096", "102", "7"],
        ],
        ",",
        "\r\n",
    )
}

fn read(bytes: &[u8]) -> PerfLog {
    read_bytes("fixture.csv", bytes, &ReadOptions::default()).unwrap()
}

fn err(bytes: &[u8]) -> String {
    format!(
        "{:#}",
        read_bytes("fixture.csv", bytes, &ReadOptions::default()).unwrap_err()
    )
}

fn values(log: &PerfLog, counter: &str) -> Vec<f64> {
    log.columns
        .iter()
        .find(|c| c.path.counter == counter)
        .unwrap()
        .values
        .to_vec()
}

fn check_sample(log: &PerfLog) {
    assert_eq!(log.timestamps.len(), 3);
    assert_eq!(log.elapsed_seconds, vec![0.0, 15.0, 30.0]);
    assert_eq!(log.source.utc_offset_minutes, Some(-480));
    let pb = values(log, "Private Bytes");
    assert!(pb[0].is_nan());
    assert_eq!(&pb[1..], &[2048.0, 4096.0]);
    assert_eq!(values(log, "Committed Bytes"), &[1.5e9, 1.5e-5, 7.0]);
    let path = &log.columns[0].path;
    assert_eq!(
        (path.instance.as_deref(), path.index),
        (Some("svchost"), Some(1))
    );
}

#[test]
fn utf8_with_and_without_bom_crlf_and_lf() {
    let text = sample();
    check_sample(&read(text.as_bytes()));
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    check_sample(&read(&bom));
    check_sample(&read(text.replace("\r\n", "\n").as_bytes()));
    // No final newline.
    check_sample(&read(text.trim_end().as_bytes()));
}

#[test]
fn utf16_both_byte_orders() {
    let text = sample();
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let log = read(&le);
    assert_eq!(log.source.encoding, "UTF-16LE");
    check_sample(&log);
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    assert_eq!(read(&be).source.encoding, "UTF-16BE");
    check_sample(&read(&be));
}

#[test]
fn tab_separated() {
    let text = sample()
        .replace("\",\"", "\"\t\"")
        .replace("PDH-CSV", "PDH-TSV");
    let log = read(text.as_bytes());
    assert_eq!(log.source.format.as_str(), "pdh-tsv");
    check_sample(&log);
}

/// A log opened and saved again by a spreadsheet or a script: quotes gone, seconds dropped
/// (US spreadsheets), semicolons, day-first dotted dates and decimal commas (German ones), ISO
/// timestamps (pandas). The samples read the same as the original's.
#[test]
fn saved_again_by_a_spreadsheet_or_a_script() {
    let header = "(PDH-CSV 4.0) (Pacific Standard Time)(480),\\\\SRV01\\Process(svchost#1)\\Private Bytes,\\\\SRV01\\Process(svchost#1)\\Handle Count,\\\\SRV01\\Memory\\Committed Bytes";
    let us = format!(
        "{header}\r\n3/1/2024 10:00, ,100,1.5E+09\r\n3/1/2024 10:15,2048, ,1.5E-05\r\n3/1/2024 10:30,4096,102,7\r\n"
    );
    let german = format!(
        "{}\n01.03.2024 10:00; ;100;1,5E+09\n01.03.2024 10:15;2048; ;0,000015\n01.03.2024 10:30;4096;102;7\n",
        header.replace(',', ";")
    );
    let iso = us
        .replace("3/1/2024 10:", "2024-03-01T10:")
        .replace(",2048,", ",\"2048\",")
        .replace(",7\r", ",7.0\r");
    for (text, format) in [
        (&us, "pdh-csv"),
        (&german, "pdh-csv-semicolon"),
        (&iso, "pdh-csv"),
    ] {
        let log = read(text.as_bytes());
        assert_eq!(log.source.format.as_str(), format, "{text}");
        assert_eq!(log.elapsed_seconds, vec![0.0, 900.0, 1800.0], "{text}");
        assert_eq!(log.timestamps[2].to_string(), "2024-03-01 10:30:00");
        let pb = values(&log, "Private Bytes");
        assert!(pb[0].is_nan());
        assert_eq!(&pb[1..], &[2048.0, 4096.0]);
        assert_eq!(
            values(&log, "Committed Bytes"),
            &[1.5e9, 1.5e-5, 7.0],
            "{text}"
        );
        // 3/1/2024 without PDH's milliseconds reads as 1 March or 3 January: said so.
        let both_ways = log
            .warnings
            .iter()
            .filter(|w| w.contains("read both ways"))
            .count();
        assert_eq!(
            both_ways,
            usize::from(text.contains("3/1/2024")),
            "{:?}",
            log.warnings
        );
        assert_eq!(log.warnings.len(), both_ways, "{:?}", log.warnings);
    }
    // A two-digit year is refused, not read as the first century.
    let e = err(us.replace("/2024", "/24").as_bytes());
    assert!(
        e.contains("line 2, column 1") && e.contains("3/1/24 10:00"),
        "{e}"
    );
}

#[test]
fn legacy_code_pages_and_localized_names() {
    let russian = pdh(
        "(PDH-CSV 4.0) (RTZ 2 (зима))(-180)",
        &[
            r"\\СЕРВЕР\Процесс(w3wp)\Байт исключительного пользования",
            r"\\СЕРВЕР\Процесс(w3wp)\Счетчик дескрипторов",
            r"\\СЕРВЕР\Процесс(w3wp)\Идентификатор процесса",
        ],
        &[&["01/15/2024 08:00:00.000", "1000", "50", "4242"]],
        ",",
        "\r\n",
    );
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(&russian);
    let log = read(&cp1251);
    assert_eq!(log.source.encoding, "windows-1251");
    assert_eq!(log.machines(), vec!["СЕРВЕР".to_string()]);
    assert_eq!(log.source.utc_offset_minutes, Some(180));
    let counters: Vec<&str> = log
        .columns
        .iter()
        .map(|c| c.path.counter.as_str())
        .collect();
    assert_eq!(counters, ["Private Bytes", "Handle Count", "ID Process"]);
    assert_eq!(log.columns[0].path.object, "Process");
    assert_eq!(log.columns[0].path.original_object, "Процесс");

    let german = pdh(
        "(PDH-CSV 4.0) (Mitteleuropäische Zeit)(-60)",
        &[
            r"\\PC\Prozess(explorer)\Handleanzahl",
            r"\\PC\PROZESS(explorer)\private bytes",
            r"\\PC\Arbeitsspeicher\Zugesicherte Bytes",
            r"\\PC\Arbeitsspeicher\Zusagegrenze",
        ],
        &[&["01/15/2024 08:00:00.000", "900", "1e6", "5", "10"]],
        ",",
        "\r\n",
    );
    let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(&german);
    let log = read(&cp1252);
    assert_eq!(log.source.encoding, "windows-1252");
    assert_eq!(
        log.source.time_zone.as_deref(),
        Some("Mitteleuropäische Zeit")
    );
    let names: Vec<String> = log.columns.iter().map(|c| c.path.canonical()).collect();
    assert_eq!(
        names,
        [
            r"\\PC\Process(explorer)\Handle Count",
            r"\\PC\Process(explorer)\Private Bytes",
            r"\\PC\Memory\Committed Bytes",
            r"\\PC\Memory\Commit Limit"
        ]
    );
    assert_eq!(log.columns[0].path.original_counter, "Handleanzahl");

    // A forced encoding wins over the guess; an unknown label is a clear error.
    let forced = ReadOptions {
        encoding: Some("windows-1251".into()),
        ..ReadOptions::default()
    };
    let as_1251 = read_bytes("x.csv", &cp1252, &forced).unwrap();
    assert_eq!(as_1251.source.encoding, "windows-1251");
    let bad = ReadOptions {
        encoding: Some("klingon".into()),
        ..ReadOptions::default()
    };
    let e = read_bytes("x.csv", &cp1252, &bad).unwrap_err().to_string();
    assert!(e.contains("klingon"), "{e}");
}

#[test]
fn odd_instance_names_several_machines_and_no_machine() {
    let text = pdh(
        "(PDH-CSV 4.0) (",
        &[
            r"\\A\Process(My App, v2 (x86)#3)\Handle Count",
            r"\\B\Process(svc [r] {1b4e28ba-2fa1-11d2-883f-0016d3cca427})\Handle Count",
            r"\Process(Clash for Windows)\Private Bytes",
            r"\\A\Process(_Total)\Handle Count",
        ],
        &[
            &["06/01/2024 00:00:00", "1", "2", "3", "4"],
            &["06/01/2024 00:00:01", "1", "2", "3", "4"],
        ],
        ",",
        "\n",
    );
    let log = read(text.as_bytes());
    assert_eq!(log.machines(), vec!["A".to_string(), "B".to_string()]);
    let p = &log.columns[0].path;
    assert_eq!(
        (p.instance.as_deref(), p.index),
        (Some("My App, v2 (x86)"), Some(3))
    );
    assert_eq!(
        log.columns[1].path.instance.as_deref(),
        Some("svc [r] {1b4e28ba-2fa1-11d2-883f-0016d3cca427}")
    );
    assert_eq!(log.columns[2].path.machine, None);
    assert_eq!(log.columns.len(), 4);
    // _Total is materialised but left out of the process columns.
    assert_eq!(log.process_columns().count(), 3);
}

#[test]
fn only_needed_columns_unless_all_requested() {
    let text = pdh(
        "(PDH-CSV 4.0)",
        &[
            r"\\M\Process(a)\Private Bytes",
            r"\\M\Process(a)\IO Read Bytes/sec",
            r"\\M\PhysicalDisk(_Total)\Disk Reads/sec",
        ],
        &[&["06/01/2024 00:00:00", "1", "2", "3"]],
        ",",
        "\n",
    );
    let log = read(text.as_bytes());
    assert_eq!(log.all_paths.len(), 3);
    assert_eq!(log.columns.len(), 1);
    let all = ReadOptions {
        all_columns: true,
        ..ReadOptions::default()
    };
    assert_eq!(
        read_bytes("x", text.as_bytes(), &all)
            .unwrap()
            .columns
            .len(),
        3
    );
}

fn timeline_log(stamps: &[&str]) -> PerfLog {
    let rows: Vec<Vec<&str>> = stamps.iter().map(|s| vec![*s, "1"]).collect();
    let rows: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
    let text = pdh(
        "(PDH-CSV 4.0) (Central European Standard Time)(-60)",
        &[r"\\M\Process(a)\Handle Count"],
        &rows,
        ",",
        "\r\n",
    );
    read(text.as_bytes())
}

#[test]
fn daylight_saving_fall_back_and_repeats() {
    let log = timeline_log(&[
        "10/27/2024 02:58:00.000",
        "10/27/2024 02:59:00.000",
        "10/27/2024 02:00:00.000",
        "10/27/2024 02:01:00.000",
        "10/27/2024 02:01:00.000",
    ]);
    assert_eq!(log.elapsed_seconds, vec![0.0, 60.0, 120.0, 180.0, 180.0]);
    assert!(
        log.warnings[0].contains("line 4, column 1"),
        "{:?}",
        log.warnings
    );
    assert!(log.warnings[0].contains("daylight saving"));
    assert!(log.warnings[1].contains("line 6, column 1") && log.warnings[1].contains("repeats"));
    // Local wall-clock time is kept as written.
    assert_eq!(log.timestamps[2].to_string(), "2024-10-27 02:00:00");

    let jump = timeline_log(&[
        "01/01/2024 10:00:00",
        "01/01/2024 10:00:15",
        "01/01/2024 09:59:00",
    ]);
    assert_eq!(jump.elapsed_seconds, vec![0.0, 15.0, 30.0]);
    assert!(jump.warnings[0].contains("line 4") && jump.warnings[0].contains("goes back"));
}

#[test]
fn bad_input_names_file_line_and_column() {
    assert!(err(b"").contains("empty"));
    let header_only = "\"(PDH-CSV 4.0)\",\"\\\\M\\Process(a)\\Handle Count\"\r\n";
    assert!(err(header_only.as_bytes()).contains("no samples"));
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let e = err(&garbage);
    assert!(
        e.contains("fixture.csv") && (e.contains("binary") || e.contains("not")),
        "{e}"
    );
    assert!(err(b"name,age\nbob,42\n").contains("line 1, column 2"));
    // Text content under a .blg name (PowerShell's CorruptBlg.blg is one) is read as text.
    let named_blg = read_bytes(
        "CorruptBlg.blg",
        sample().as_bytes(),
        &ReadOptions::default(),
    );
    check_sample(&named_blg.unwrap());
    let old_blg: Vec<u8> = b"Lo"
        .iter()
        .copied()
        .chain((0..600u32).map(|i| (i % 7) as u8))
        .collect();
    let e = format!(
        "{:#}",
        read_bytes("old.BLG", &old_blg, &ReadOptions::default()).unwrap_err()
    );
    assert!(e.contains("relog"), "{e}");
    let blg = [0u8, 0, 1, 0, 0x40, 2, 0, 0, 0, 0];
    let e = err(&blg);
    assert!(e.contains("relog") && e.contains("-f csv"), "{e}");

    let text = sample().replace("\"2048\"", "\"n/a\"");
    let log = read(text.as_bytes());
    assert!(values(&log, "Private Bytes")[1].is_nan());
    assert!(log
        .warnings
        .iter()
        .any(|w| w.contains("line 3, column 2") && w.contains("n/a")));

    let text = sample().replace("03/01/2024 10:00:15.000", "yesterday");
    let e = err(text.as_bytes());
    assert!(
        e.contains("fixture.csv: line 3, column 1") && e.contains("yesterday"),
        "{e}"
    );

    // A last line cut short is dropped with a warning, not read as a short series.
    let mut cut = sample();
    cut.push_str("\"03/01/2024 10:00:45.000\",\"81");
    let log = read(cut.as_bytes());
    assert_eq!(log.timestamps.len(), 3);
    assert!(log
        .warnings
        .iter()
        .any(|w| w.contains("line 5") && w.contains("cut short")));
}

fn temp_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn gzip_zip_folders_and_sources() {
    let dir = tempfile::tempdir().unwrap();
    let text = sample();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz_path = temp_file(dir.path(), "log.csv.gz", &gz.finish().unwrap());
    check_sample(&read_file(&gz_path, &ReadOptions::default()).unwrap());

    let zip_path = dir.path().join("nested").join("bundle.ZIP");
    std::fs::create_dir_all(zip_path.parent().unwrap()).unwrap();
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("../../evil/run1.csv", opts).unwrap();
    zip.write_all(text.as_bytes()).unwrap();
    zip.start_file("notes.doc", opts).unwrap();
    zip.write_all(b"ignored").unwrap();
    zip.start_file("zeros.csv", opts).unwrap();
    zip.write_all(&vec![b'0'; 8 << 20]).unwrap();
    zip.finish().unwrap();
    temp_file(dir.path(), "readme.md", b"not a log");

    let (sources, errors) = expand_inputs(&[dir.path().to_path_buf()]);
    let names: Vec<String> = sources.iter().map(LogSource::name).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("bundle.ZIP!evil/run1.csv")),
        "{names:?}"
    );
    assert!(errors
        .iter()
        .any(|(n, e)| n.ends_with("zeros.csv") && e.to_string().contains("refused")));
    for source in &sources {
        let log = read_source(source, &ReadOptions::default()).unwrap();
        check_sample(&log);
        assert_eq!(log.source.path, source.name());
    }
    let (_, missing) = expand_inputs(&[dir.path().join("nope.csv")]);
    assert_eq!(missing.len(), 1);
}

#[test]
fn sources_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<LogSource>();
}

#[test]
fn inspect_command() {
    let dir = tempfile::tempdir().unwrap();
    let good = temp_file(dir.path(), "good.csv", sample().as_bytes());
    let out = Command::cargo_bin("perfleak")
        .unwrap()
        .args(["inspect"])
        .arg(&good)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("SRV01") && text.contains("svchost#1"),
        "{text}"
    );
    assert!(text.contains("2024-03-01 18:00:00.000Z"), "{text}");

    let out = Command::cargo_bin("perfleak")
        .unwrap()
        .args(["inspect", "--json"])
        .arg(&good)
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["samples"], 3);
    assert_eq!(json["machines"][0], "SRV01");

    let out = Command::cargo_bin("perfleak")
        .unwrap()
        .args(["inspect", "-"])
        .write_stdin(sample())
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("SRV01"));

    let bad = temp_file(
        dir.path(),
        "bad.csv",
        sample()
            .replace("03/01/2024 10:00:30.000", "soon")
            .as_bytes(),
    );
    let out = Command::cargo_bin("perfleak")
        .unwrap()
        .arg("inspect")
        .arg(&bad)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("perfleak:") && stderr.contains("line 4, column 1"),
        "{stderr}"
    );

    let blg = temp_file(dir.path(), "log.blg", &[0, 0, 1, 0, 1, 2, 3, 4]);
    let out = Command::cargo_bin("perfleak")
        .unwrap()
        .arg("inspect")
        .arg(&blg)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("relog"));
}

#[test]
fn segments_join_only_when_consecutive() {
    let segment = |name: &str, start_minute: u32| {
        let stamps: Vec<String> = (0..4)
            .map(|i| {
                format!(
                    "03/01/2024 10:{:02}:{:02}.000",
                    start_minute + (i * 15) / 60,
                    (i * 15) % 60
                )
            })
            .collect();
        let rows: Vec<Vec<&str>> = stamps.iter().map(|s| vec![s.as_str(), "7"]).collect();
        let rows: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
        let text = pdh(
            "(PDH-CSV 4.0)",
            &[r"\\M\Process(a)\Handle Count"],
            &rows,
            ",",
            "\r\n",
        );
        read_bytes(name, text.as_bytes(), &ReadOptions::default()).unwrap()
    };
    // 10:00-10:00:45, 10:01-10:01:45 (15 s after), and one overlapping the first.
    let joined =
        perfleak::ingest::join_segments(vec![segment("b", 1), segment("a", 0), segment("c", 0)]);
    assert_eq!(joined.len(), 2);
    let run = joined
        .iter()
        .find(|l| l.source.segments.len() == 2)
        .unwrap();
    assert_eq!(run.source.segments, ["a", "b"]);
    assert_eq!(
        run.elapsed_seconds,
        vec![0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0, 105.0]
    );
    assert_eq!(run.columns[0].values.len(), 8);
    let apart = joined
        .iter()
        .find(|l| l.source.segments.len() == 1)
        .unwrap();
    assert!(
        apart.warnings.iter().any(|w| w.contains("not joined")),
        "{:?}",
        apart.warnings
    );
}

/// A log of several read blocks, so it is cut into blocks and pieces parsed in parallel: the
/// warnings must still name the right lines and the series come out whole and in order.
#[test]
fn big_log_read_in_blocks_keeps_order_and_line_numbers() {
    let processes = 12;
    let mut paths = vec![r"\\SRV01\Memory\Committed Bytes".to_string()];
    for p in 0..processes {
        paths.push(format!(r"\\SRV01\Process(svc{p})\Private Bytes"));
        paths.push(format!(r"\\SRV01\PhysicalDisk({p} C:)\Disk Reads/sec"));
    }
    let width = paths.len() + 1;
    let rows = 120_000;
    let start = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let mut text = String::new();
    text.push_str("\"(PDH-CSV 4.0) (UTC)(0)\"");
    for p in &paths {
        text.push_str(&format!(",\"{p}\""));
    }
    text.push_str("\r\n");
    let mut line = 1;
    let mut lines = std::collections::HashMap::new();
    for r in 0..rows {
        line += 1;
        lines.insert(r, line);
        let t = start + chrono::Duration::seconds(15 * r as i64);
        text.push_str(&format!("\"{}\"", t.format("%m/%d/%Y %H:%M:%S%.3f")));
        if r == 40_000 {
            // A row cut short in the middle of the file is skipped.
            text.push_str(",\"1\",\"2\"\r\n");
            continue;
        }
        text.push_str(&format!(",\"{}\"", 1e9 + r as f64));
        for p in 0..processes {
            if r == 30_000 && p == 3 {
                text.push_str(",\"n/a\"");
            } else {
                text.push_str(&format!(",\"{}\"", 1000 * p + r));
            }
            if r == 20_000 && p == 0 {
                // A quoted line break in a cell the analysis does not keep.
                text.push_str(",\"odd\r\ncell\"");
                line += 1;
            } else {
                text.push_str(",\" \"");
            }
        }
        text.push_str("\r\n");
    }
    assert!(text.len() > 17 << 20, "{} bytes", text.len());

    for bytes in [
        text.clone().into_bytes(),
        text.replace("\r\n", "\n").into_bytes(),
    ] {
        let log = read(&bytes);
        assert_eq!(log.timestamps.len(), rows - 1);
        assert_eq!(log.columns.len(), processes + 1);
        let kept: Vec<usize> = (0..rows).filter(|&r| r != 40_000).collect();
        for (p, column) in log.columns.iter().skip(1).enumerate() {
            assert_eq!(column.values.len(), rows - 1);
            // Kept encoded: steps of one take a byte each, not eight.
            assert!(column.values.encoded_len() < 2 * rows, "process {p}");
            let values = column.values.to_vec();
            for (i, &r) in kept.iter().enumerate() {
                let v = values[i];
                if r == 30_000 && p == 3 {
                    assert!(v.is_nan());
                } else {
                    assert_eq!(v, (1000 * p + r) as f64, "process {p} row {r}");
                }
            }
        }
        assert_eq!(
            log.columns[0].values.to_vec()[rows - 2],
            1e9 + (rows - 1) as f64
        );
        assert!(log
            .elapsed_seconds
            .windows(2)
            .all(|w| w[1] - w[0] == 15.0 || w[1] - w[0] == 30.0));
        let bad = format!("line {}, column {}: 'n/a'", lines[&30_000], 2 + 3 * 2 + 1);
        assert!(
            log.warnings.iter().any(|w| w.contains(&bad)),
            "{bad}: {:?}",
            log.warnings
        );
        let short = format!(
            "line {}, column 3: row has 3 of {width} fields",
            lines[&40_000]
        );
        assert!(
            log.warnings.iter().any(|w| w.contains(&short)),
            "{short}: {:?}",
            log.warnings
        );
        assert_eq!(log.warnings.len(), 2, "{:?}", log.warnings);
    }

    // The same text through the UTF-16 transcoder reads the same.
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let wide = read(&utf16);
    let narrow = read(text.as_bytes());
    assert_eq!(wide.timestamps, narrow.timestamps);
    assert_eq!(
        wide.columns[5].values.to_vec(),
        narrow.columns[5].values.to_vec()
    );
}

/// A log of `rows` samples a minute apart, in the layout of [`sample`].
fn minutes(rows: usize) -> Vec<String> {
    let head = sample().lines().next().unwrap().to_string();
    let mut lines = vec![head];
    for r in 0..rows {
        lines.push(format!(
            "\"03/01/2024 {:02}:{:02}:00.000\",\"{}\",\"{}\",\"7\"",
            10 + r / 60,
            r % 60,
            1000 + r,
            100 + r
        ));
    }
    lines
}

/// What a collector that crashed, a disk error or `copy a.csv+b.csv` leaves behind: a few rows
/// without a timestamp are skipped with a warning, a repeated header too; a header with other
/// columns would put values under the wrong counters, so it stops the read at its line.
#[test]
fn corrupt_rows_and_joined_logs() {
    let mut lines = minutes(40);
    lines[11] = format!("{}{}", "\0".repeat(3000), lines[11]);
    lines[20] = "\"garbage\",\"1\",\"2\",\"3\"".to_string();
    let text = lines.join("\r\n") + "\r\n" + &"\0".repeat(4096);
    let log = read(text.as_bytes());
    assert_eq!(log.timestamps.len(), 38);
    assert_eq!(values(&log, "Private Bytes")[10], 1011.0);
    let zeros = log
        .warnings
        .iter()
        .find(|w| w.contains("line 12, column 1"));
    assert!(
        zeros.is_some_and(|w| w.contains("\\u{0}") && w.len() < 400 && w.contains("skipped")),
        "{:?}",
        log.warnings
    );
    assert!(log
        .warnings
        .iter()
        .any(|w| w.contains("line 21, column 1") && w.contains("'garbage' is not a timestamp")));

    // More than a tenth of the rows without a timestamp: not read as a log.
    let mut lines = minutes(40);
    for line in lines.iter_mut().skip(3).step_by(5) {
        line.insert(0, 'x');
    }
    let e = err(lines.join("\n").as_bytes());
    assert!(
        e.contains("fixture.csv: line 4, column 1") && e.contains("8 of 40 rows"),
        "{e}"
    );

    // Two segments joined end to end: the second header is skipped.
    let first = minutes(40);
    let mut joined = first[..21].to_vec();
    joined.push(first[0].clone());
    joined.extend_from_slice(&first[21..]);
    let log = read(joined.join("\n").as_bytes());
    assert_eq!(log.timestamps.len(), 40);
    assert!(log
        .warnings
        .iter()
        .any(|w| w.contains("line 22, column 1") && w.contains("header again")));

    // A header with other columns (the same count): an error at its line.
    joined[21] = joined[21].replace("Handle Count", "Thread Count");
    let e = err(joined.join("\n").as_bytes());
    assert!(
        e.contains("fixture.csv: line 22, column 1") && e.contains("other columns"),
        "{e}"
    );
}

/// A UTF-16 log cut after an odd number of bytes (a copy that stopped mid-character).
#[test]
fn utf16_cut_mid_character() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(sample().encode_utf16().flat_map(u16::to_le_bytes));
    bytes.extend(
        "\"03/01/2024 10:00:45.000\",\"1\""
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    bytes.push(b'8');
    let log = read(&bytes);
    check_sample(&log);
    assert!(log.warnings.iter().any(|w| w.contains("cut short")));
}

/// A gzip cut short (a download that stopped): the error names the file once and says why once.
#[test]
fn gzip_cut_short() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(minutes(2000).join("\n").as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let e = format!(
        "{:#}",
        read_bytes(
            "cut.csv.gz",
            &bytes[..bytes.len() / 2],
            &ReadOptions::default()
        )
        .unwrap_err()
    );
    assert!(e.starts_with("cut.csv.gz: "), "{e}");
    assert_eq!(e.matches("deflate").count(), 1, "{e}");
}

/// Damage repeated on every row: each kind of warning lists ten and sums up the rest.
#[test]
fn warnings_are_capped_per_kind() {
    let lines = minutes(40);
    let mut text = vec![lines[0].clone()];
    for row in &lines[1..] {
        text.push(row.clone());
        text.push(lines[0].clone());
        text.push("\"03/01/2024 09:00:00.000\",\"1\"".to_string());
    }
    let log = read(text.join("\n").as_bytes());
    assert_eq!(log.timestamps.len(), 40);
    let count = |what: &str| log.warnings.iter().filter(|w| w.contains(what)).count();
    assert_eq!(count("header again"), 10, "{:?}", log.warnings);
    assert_eq!(count("of 4 fields"), 10, "{:?}", log.warnings);
    assert!(log
        .warnings
        .iter()
        .any(|w| w.ends_with("30 more repeated headers skipped")));
    assert!(log
        .warnings
        .iter()
        .any(|w| w.ends_with("30 more rows with too few fields skipped")));
    assert_eq!(log.warnings.len(), 22);
}

/// Logs no analysis can use say why, at the line that shows it.
#[test]
fn unusable_layouts_are_named() {
    // Every row wider than the header: an instance name with a comma, unquoted.
    let lines = minutes(5);
    let wide: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.clone()
            } else {
                l.replace("\"7\"", "\"7\",\"8\"")
            }
        })
        .collect();
    let e = err(wide.join("\n").as_bytes());
    assert!(
        e.contains("line 2, column 1") && e.contains("header's 4 fields (this one has 5)"),
        "{e}"
    );
    // Rows sorted newest first.
    let mut backwards = minutes(30);
    backwards[1..].reverse();
    let e = err(backwards.join("\n").as_bytes());
    assert!(e.contains("run back in time (29 of 29 steps"), "{e}");
    // Day-first dates past the 12th read day first, and say so.
    let day_first: Vec<String> = minutes(3)
        .iter()
        .map(|l| l.replace("03/01/2024", "13/03/2024"))
        .collect();
    let log = read(day_first.join("\n").as_bytes());
    assert_eq!(log.timestamps[0].date().to_string(), "2024-03-13");
    assert!(
        log.warnings[0].contains("dates read day first"),
        "{:?}",
        log.warnings
    );
    // A day-first date among month-first ones that fixed the order is no timestamp.
    let mut mixed = minutes(30);
    mixed[29] = mixed[29].replace("03/01/2024", "03/13/2024");
    mixed[30] = mixed[30].replace("03/01/2024", "13/03/2024");
    let log = read(mixed.join("\n").as_bytes());
    assert!(
        log.warnings.iter().any(|w| w.contains("'13/03/2024")),
        "{:?}",
        log.warnings
    );
    // An unclosed quote: the read stops at 64 MB, not at the end of memory.
    let mut open_quote = minutes(2).join("\n");
    open_quote.push_str("\n\"03/01/2024 11:00:00.000\",\"");
    open_quote.push_str(&"1".repeat(65 << 20));
    let e = err(open_quote.as_bytes());
    assert!(
        e.contains("line 4, column 1") && e.contains("unclosed quote"),
        "{e}"
    );
}

/// Spreadsheets that group thousands: points in a decimal-comma log, quoted commas in a
/// comma-separated one. PDH writes neither, so they are read only where nothing else fits.
#[test]
fn thousands_separators_of_spreadsheets() {
    let header = minutes(0)[0].clone();
    let german = format!(
        "{}\n01.03.2024 10:00;1.048.576;1.013;7\n01.03.2024 10:15;2.097.152;1.014;8\n",
        header.replace("\",\"", "\";\"")
    );
    let log = read(german.as_bytes());
    assert_eq!(log.source.format.as_str(), "pdh-csv-semicolon");
    assert_eq!(values(&log, "Private Bytes"), &[1_048_576.0, 2_097_152.0]);
    assert_eq!(values(&log, "Handle Count"), &[1013.0, 1014.0]);
    // A Swiss one writes decimal points: they stay decimals.
    let swiss = german.replace("1.013", "1.0135").replace("1.014", "1.5");
    let log = read(swiss.as_bytes());
    assert_eq!(values(&log, "Handle Count"), &[1.0135, 1.5]);
    let us = format!(
        "{header}\n\"03/01/2024 10:00:00\",\"1,048,576\",\"1,013\",\"7\"\n\"03/01/2024 10:15:00\",\"2,097,152.5\",\"1,014\",\"8\"\n"
    );
    let log = read(us.as_bytes());
    assert_eq!(values(&log, "Private Bytes"), &[1_048_576.0, 2_097_152.5]);
    assert_eq!(log.warnings.len(), 1, "{:?}", log.warnings);
    assert!(
        log.warnings[0].contains("read both ways"),
        "{:?}",
        log.warnings
    );
}
