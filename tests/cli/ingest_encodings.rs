//! Encodings as customers' machines write them: legacy East Asian code pages, names far into
//! a wide header, undecodable bytes. The encoding is judged on the whole header, said by
//! `inspect`, and a name that could not be decoded is never garbled without a warning.

use crate::cli_common;

use cli_common::perfleak;
use encoding_rs::{Encoding, SHIFT_JIS, WINDOWS_1252};

/// A log of `extra` ASCII processes, then one process named `late` (so its bytes stand after
/// the first `extra * 150` bytes of the header), 6 hourly rows.
fn wide_log(late: &str, extra: usize) -> String {
    let mut names: Vec<String> = (0..extra).map(|i| format!("svc{i:04}")).collect();
    names.push(late.to_string());
    let mut text = String::from("\"(PDH-CSV 4.0) (Tokyo Standard Time)(-540)\"");
    for name in &names {
        for counter in ["Private Bytes", "Handle Count"] {
            text += &format!(",\"\\\\SRV01\\Process({name})\\{counter}\"");
        }
    }
    text += "\r\n";
    for hour in 0..6 {
        text += &format!("\"03/01/2024 {:02}:00:00.000\"", 10 + hour);
        for i in 0..names.len() {
            text += &format!(",\"{}\",\"{}\"", 1_000_000 + i * 4096, 100 + hour);
        }
        text += "\r\n";
    }
    text
}

fn encode(encoding: &'static Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

fn inspect_json(bytes: &[u8], args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("DataCollector01.csv");
    std::fs::write(&path, bytes).unwrap();
    let mut all: Vec<&std::ffi::OsStr> = vec!["inspect".as_ref(), "--json".as_ref()];
    all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    all.push(path.as_os_str());
    cli_common::json_of(&all)
}

fn process_names(report: &serde_json::Value) -> Vec<String> {
    report["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["instance"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn shift_jis_names_far_into_a_wide_header() {
    // 2,000 ASCII processes put the first Japanese byte about 160 KB in: past the 64 KB the
    // encoding used to be judged on.
    let text = wide_log("サーバー管理", 2_000);
    let first_non_ascii = text.find('サ').unwrap();
    assert!(first_non_ascii > 100_000, "{first_non_ascii}");
    let report = inspect_json(&encode(SHIFT_JIS, &text), &[]);
    assert_eq!(report["encoding"], "Shift_JIS");
    assert!(report["encoding_reason"]
        .as_str()
        .unwrap()
        .contains("detected"));
    assert!(process_names(&report).contains(&"サーバー管理".to_string()));
    assert_eq!(report["warnings"].as_array().unwrap().len(), 0, "{report}");
}

#[test]
fn inspect_says_which_encoding_and_why() {
    let text = wide_log("explorer", 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.csv");
    std::fs::write(&path, &text).unwrap();
    let out = perfleak().arg("inspect").arg(&path).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("encoding    UTF-8: only ASCII in the header and first rows"),
        "{stdout}"
    );
    // --encoding still wins, and says so.
    let report = inspect_json(
        &encode(SHIFT_JIS, &wide_log("メモ帳", 3)),
        &["--encoding", "windows-1252"],
    );
    assert_eq!(report["encoding"], "windows-1252");
    assert_eq!(report["encoding_reason"], "given with --encoding");
}

#[test]
fn undecodable_names_are_warned_about() {
    // Valid UTF-8 up to a lone invalid byte in one instance name: read as UTF-8 would garble
    // it silently; the name is warned about with its column.
    let text = wide_log("smss", 2);
    let mut bytes = text.into_bytes();
    let at = bytes.windows(4).position(|w| w == b"smss").unwrap();
    bytes[at + 1] = 0xFF;
    // Some valid UTF-8 beside it, so the log is not taken for a legacy code page.
    let report = inspect_json(&bytes, &["--encoding", "utf-8"]);
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("not valid UTF-8"), "{warnings}");
    assert!(warnings.contains("column 6"), "{warnings}");
    // Without --encoding the byte makes it a legacy code page, read without loss.
    let report = inspect_json(&bytes, &[]);
    assert_eq!(report["encoding"], WINDOWS_1252.name());
    assert!(
        process_names(&report).contains(&"sÿss".to_string()),
        "{report}"
    );
}
