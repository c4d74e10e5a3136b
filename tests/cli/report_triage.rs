//! Triage when nothing is flagged: the series that moved most (and most steadily) come first in
//! report.json, report.html, summary.md and on the terminal, and the overview chart draws them;
//! not the first names in the alphabet. On a generated log here, and on the real one-hour
//! capture in `../shared/realdata/` where only QQ moved (skipped when absent).

use std::path::{Path, PathBuf};

use crate::cli_common::perfleak;

/// One hour at 15-second samples of three processes' Private Bytes: `aardvark` flat,
/// `beaver` noisy around a level, `zebra` growing steadily by 20% over the hour.
fn generated_log(dir: &Path) -> PathBuf {
    let names = ["aardvark", "beaver", "zebra"];
    let mut text = String::from("\"(PDH-CSV 4.0) (UTC)(0)\"");
    for n in names {
        text += &format!(",\"\\\\SRV\\Process({n})\\Private Bytes\"");
    }
    text.push('\n');
    for i in 0..240u32 {
        let (m, s) = (i / 4, (i % 4) * 15);
        let noise = f64::from((i * 7919) % 13) - 6.0;
        let values = [
            50_000_000.0,
            80_000_000.0 + noise * 400_000.0,
            100_000_000.0 * (1.0 + 0.2 * f64::from(i) / 240.0) + noise * 50_000.0,
        ];
        text += &format!("\"03/01/2024 10:{m:02}:{s:02}.000\"");
        for v in values {
            text += &format!(",\"{v}\"");
        }
        text.push('\n');
    }
    let path = dir.join("short-hour.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `analyze` into `out` without colour; returns what it printed on standard error.
fn analyze(inputs: &[PathBuf], out: &Path) -> String {
    let output = perfleak()
        .env("NO_COLOR", "1")
        .arg("analyze")
        .args(inputs)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stderr).unwrap()
}

/// The instance of each finding in report.json, in order.
fn json_order(out: &Path) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["instance"].as_str().unwrap().to_string())
        .collect()
}

/// The first cell of each row of the HTML table of all series.
fn html_order(out: &Path) -> Vec<String> {
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let table = &html[html.find("id=\"all-series\"").unwrap()..];
    let body = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    body.split("<tr><td>")
        .skip(1)
        .map(|row| row[..row.find("</td>").unwrap()].to_string())
        .collect()
}

/// The first column of the Markdown table's rows.
fn markdown_order(out: &Path) -> Vec<String> {
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    md.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Process"))
        .map(|l| l.split('|').nth(1).unwrap().trim().to_string())
        .collect()
}

#[test]
fn the_series_that_grew_comes_first_not_the_first_name() {
    let dir = tempfile::tempdir().unwrap();
    let log = generated_log(dir.path());
    let out = dir.path().join("out");
    let err = analyze(&[log], &out);
    // The two that did not move keep their order after it.
    assert_eq!(json_order(&out), ["zebra", "aardvark", "beaver"]);
    assert_eq!(html_order(&out)[0], "zebra");
    assert_eq!(markdown_order(&out)[0], "zebra");
    assert!(
        err.contains("moved most: zebra Private Bytes: +20."),
        "terminal names what moved:\n{err}"
    );
    assert!(!err.contains("moved most: aardvark"), "{err}");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("**Moved most**"), "{md}");
    assert!(out.join("charts/overview.png").exists());
}

#[test]
fn in_the_real_hour_where_only_qq_moved_qq_comes_first() {
    let shared = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/realdata"));
    let segments: Vec<PathBuf> = (434..=439)
        .map(|n| shared.join(format!("ysu_CN_process_pb_hc_000{n}.csv")))
        .collect();
    if !segments.iter().all(|p| p.exists()) {
        eprintln!(
            "skipping: the ysu QQ segments are not in {}",
            shared.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let err = analyze(&segments, &out);
    let json = json_order(&out);
    assert!(json.iter().take(5).all(|i| i == "QQ"), "{json:?}");
    assert_eq!(html_order(&out)[0], "QQ");
    assert_eq!(markdown_order(&out)[0], "QQ");
    let moved: Vec<&str> = err.lines().filter(|l| l.contains("moved most:")).collect();
    assert!(!moved.is_empty(), "{err}");
    assert!(moved.iter().all(|l| l.contains("moved most: QQ ")), "{err}");
    // The overview draws the movers, not the alphabet's first process.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let moved_list = &html[html.find("id=\"moved\"").expect("a moved-most list")..];
    let first_item = &moved_list[moved_list.find("<li>").unwrap()..];
    assert!(first_item.starts_with("<li>QQ "), "{first_item:.80}");
}
