//! Hostile and damaged input (issue 14, input side), one test per class of defect, each run on
//! the built binary as a user would: archives that claim or reach absurd sizes, nesting, walks
//! through links, duplicate zip entries, named pipes, stray quotes, delimiters in the header.

use crate::cli_common;
use cli_common::{perfleak, sample};

use std::io::Write;
use std::path::{Path, PathBuf};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `source.path` of each JSON report `analyze --json` printed (failure lines, which carry
/// `error`, left out).
fn analysed(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("a JSON line"))
        .filter(|line| line.get("error").is_none())
        .map(|report| {
            report["source"]["path"]
                .as_str()
                .expect("a path")
                .to_string()
        })
        .collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Stored, not compressed: the layers of a nested gzip hold incompressible data, which level-1
/// deflate (static Huffman codes) makes larger at every layer, exponentially over 2,000 layers.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn healthy() -> Vec<u8> {
    std::fs::read(sample("healthy-server.csv")).unwrap()
}

/// Runs `perfleak analyze --json -q` on `inputs` under a 1.5 GB address-space limit, so that an
/// allocation sized from a claimed length aborts instead of passing unseen.
fn analyze_bounded(inputs: &[&Path]) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("perfleak");
    let mut script = String::from("ulimit -v 1500000; exec \"$0\" analyze --json -q");
    for i in 1..=inputs.len() {
        script.push_str(&format!(" \"${i}\""));
    }
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(bin)
        .args(inputs)
        .output()
        .expect("runs")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn archive_memory_is_bounded_by_what_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    // A gzip whose size trailer claims 4 GB: nothing is sized from it (under 1.5 GB of address
    // space it aborted); the decoder finds the lie at the end and the log is refused clearly.
    // A narrow log past the first 8 MB block, as the sizing happened after it.
    let mut narrow = String::from("\"(PDH-CSV 4.0)\",\"\\\\S\\Process(a)\\Handle Count\"\n");
    for i in 0..400_000 {
        let (day, hour, minute, second) = (1 + i / 86400, i / 3600 % 24, i / 60 % 60, i % 60);
        narrow.push_str(&format!(
            "\"03/{day:02}/2025 {hour:02}:{minute:02}:{second:02}.000\",\"{}\"\n",
            100 + i
        ));
    }
    let mut lying = gzip(narrow.as_bytes());
    let n = lying.len();
    lying[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    let lying = write(dir.path(), "lying.csv.gz", &lying);
    let out = analyze_bounded(&[&lying]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("lying.csv.gz: corrupt gzip stream"), "{err}");

    // A log row repeated 24 MB over compresses ~1000x: past the 200x budget, refused.
    let row = b"\"03/11/2025 06:00:00.000\",\"1\",\"2\"\n";
    let mut bomb = b"\"(PDH-CSV 4.0)\",\"\\\\S\\Process(a)\\Handle Count\",\"\\\\S\\Process(a)\\Private Bytes\"\n".to_vec();
    while bomb.len() < 24 << 20 {
        bomb.extend_from_slice(row);
    }
    let bomb_gz = gzip(&bomb);
    assert!(
        bomb.len() / bomb_gz.len() > 200,
        "{} {}",
        bomb.len(),
        bomb_gz.len()
    );
    let bomb_path = write(dir.path(), "bomb.csv.gz", &bomb_gz);
    let out = analyze_bounded(&[&bomb_path]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bomb.csv.gz: refused, the archive expands over 200x"),
        "{err}"
    );

    // The same gzip inside a zip (stored: the zip's own ratio is 1): the same budget holds.
    let zip_path = dir.path().join("outer.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("inner.csv.gz", stored).unwrap();
    zip.write_all(&bomb_gz).unwrap();
    zip.finish().unwrap();
    let out = analyze_bounded(&[&zip_path]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("outer.zip!inner.csv.gz: refused, the archive expands over 200x"),
        "{err}"
    );
}

#[test]
fn nested_gzip_is_refused_past_four_layers() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = healthy();
    for _ in 0..4 {
        data = gzip(&data);
    }
    let four = write(dir.path(), "four.csv.gz", &data);
    perfleak()
        .args(["analyze", "--json", "-q"])
        .arg(&four)
        .assert()
        .success();
    // 2,000 layers around a small log (the 46 KB file): nesting, not size, is the point.
    let mut data = b"\"(PDH-CSV 4.0)\",\"\\\\S\\Process(a)\\Handle Count\"\n".to_vec();
    for _ in 0..2000 {
        data = gzip_stored(&data);
    }
    let deep = write(dir.path(), "deep.csv.gz", &data);
    let out = perfleak()
        .args(["analyze", "--json", "-q"])
        .arg(&deep)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nested more than 4 deep"), "{err}");
}

#[test]
fn walks_read_each_file_once_and_follow_no_folder_link() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let log = write(&logs, "srv.csv", &healthy());
    std::os::unix::fs::symlink(".", logs.join("self")).unwrap();
    std::os::unix::fs::symlink(".", logs.join("self2")).unwrap();
    std::os::unix::fs::symlink("/", logs.join("root")).unwrap();
    std::os::unix::fs::symlink("srv.csv", logs.join("alias.csv")).unwrap();
    std::fs::hard_link(&log, logs.join("hard.csv")).unwrap();
    let out = perfleak()
        .args(["analyze", "--json", "-q"])
        .arg(&logs)
        .arg(&log)
        .arg(logs.join("self").join("srv.csv"))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // alias.csv comes first in name order; the other four names are the same file.
    assert_eq!(
        analysed(&out),
        [logs.join("alias.csv").display().to_string()]
    );
    assert!(
        err.contains("root: not followed, a link to a folder"),
        "{err}"
    );
    assert!(err.contains("self: not followed"), "{err}");
    assert!(err.contains("srv.csv: skipped, the same file as"), "{err}");
    // A folder link given by name is walked.
    let out = perfleak()
        .args(["analyze", "--json", "-q"])
        .arg(logs.join("self"))
        .output()
        .unwrap();
    assert_eq!(analysed(&out).len(), 1, "{}", stderr_of(&out));
}

#[test]
fn zip_entries_of_the_same_name_are_both_read() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("a.zip");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("x.csv", opts).unwrap();
    zip.write_all(&healthy()).unwrap();
    zip.start_file("y.csv", opts).unwrap();
    zip.write_all(&std::fs::read(sample("restart-leak.csv")).unwrap())
        .unwrap();
    let mut bytes = zip.finish().unwrap().into_inner();
    // The writer refuses a second `x.csv`: rename `y.csv` in the local and central headers.
    let mut renamed = 0;
    for i in 0..bytes.len() - 5 {
        if &bytes[i..i + 5] == b"y.csv" {
            bytes[i] = b'x';
            renamed += 1;
        }
    }
    assert_eq!(renamed, 2);
    std::fs::write(&zip_path, bytes).unwrap();
    let out = perfleak()
        .args(["analyze", "--json", "-q"])
        .arg(&zip_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let mut names = analysed(&out);
    names.sort();
    let a = zip_path.display();
    assert_eq!(names, [format!("{a}!x.csv"), format!("{a}!x.csv (2)")]);
}

#[test]
fn named_pipes_and_process_substitution_read_as_streams() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.csv");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut pipe = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            // The reader may stop early on an error: a broken pipe is not this test's failure.
            let _ = pipe.write_all(&healthy());
        })
    };
    let out = perfleak()
        .args(["analyze", "--json", "-q"])
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(analysed(&out).len(), 1);

    // `<(zcat …)` in bash: a gzip through a pipe too.
    let gz = write(dir.path(), "log.csv.gz", &gzip(&healthy()));
    let bin = assert_cmd::cargo::cargo_bin("perfleak");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg("\"$0\" analyze --json -q <(cat \"$1\") <(cat \"$2\")")
        .arg(bin)
        .arg(sample("restart-leak.csv"))
        .arg(&gz)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(analysed(&out).len(), 2, "{}", stderr_of(&out));
}

/// `source.samples` and `source.format` of the one log `analyze --json` read from `path`.
fn samples_and_format(path: &Path) -> (u64, String) {
    // inspect reads every row as analyze does, without analysing 300,000 of them.
    let out = perfleak()
        .args(["inspect", "--json"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        report["samples"].as_u64().unwrap(),
        report["format"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_stray_quote_reads_the_same_in_a_log_of_any_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut header = String::from(
        "\"(PDH-CSV 4.0)\",\"\\\\S\\Process(a)\\Handle Count\",\"\\\\S\\Process(a)\\Private Bytes\"",
    );
    for k in 0..30 {
        header.push_str(&format!(",\"\\\\S\\Processor({k})\\% Processor Time\""));
    }
    header.push('\n');
    let row = |i: u64| {
        let t = i * 15;
        let (day, hour, minute, second) = (1 + t / 86400, t / 3600 % 24, t / 60 % 60, t % 60);
        let month = 1 + (day - 1) / 28;
        let day = 1 + (day - 1) % 28;
        // Row 2 has a quote inside an unquoted cell of a column the analysis skips.
        let cell = if i == 1 { "12\"5" } else { "\"12.5\"" };
        format!(
            "\"{month:02}/{day:02}/2024 {hour:02}:{minute:02}:{second:02}.000\",\"{}\",\"{}\"{}\n",
            100 + i / 1000,
            1_000_000 + i,
            format!(",{cell}").repeat(30)
        )
    };
    let mut small = header.clone();
    for i in 0..1000 {
        small.push_str(&row(i));
    }
    let small_path = write(dir.path(), "small.csv", small.as_bytes());
    assert_eq!(samples_and_format(&small_path), (1000, "pdh-csv".into()));
    // Past the 64 MB record limit after the stray quote.
    let mut big =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("big.csv")).unwrap());
    big.write_all(header.as_bytes()).unwrap();
    let mut rows = 0;
    let mut len = 0;
    while len < 70 << 20 {
        let text = row(rows);
        len += text.len();
        big.write_all(text.as_bytes()).unwrap();
        rows += 1;
    }
    big.flush().unwrap();
    drop(big);
    assert_eq!(
        samples_and_format(&dir.path().join("big.csv")),
        (rows, "pdh-csv".into())
    );
}

#[test]
fn tabs_and_semicolons_in_header_cells_do_not_change_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(healthy()).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let (plain_samples, _) = samples_and_format(&sample("healthy-server.csv"));
    // A tab in one instance name; more semicolons in one than the header has commas.
    for renamed in [
        "Process(Sys\ttem)",
        "Process(Sys;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;tem)",
    ] {
        let header = header.replace("Process(System)", renamed);
        let path = write(
            dir.path(),
            "renamed.csv",
            format!("{header}\n{body}").as_bytes(),
        );
        assert_eq!(
            samples_and_format(&path),
            (plain_samples, "pdh-csv".to_string()),
            "{renamed}"
        );
    }
}
