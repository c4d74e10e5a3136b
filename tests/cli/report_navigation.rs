//! Finding one's way: report.html opens on a table of contents whose every link lands on a
//! section of the page (verdict, each flagged series, KB, what was not judged, the log); a
//! log's report in a batch links back to the batch's index.html, which links every report and
//! is one self-contained sortable table.

use std::collections::HashSet;
use std::path::Path;

use crate::cli_common::{perfleak, sample};

/// Every `id="..."` of a page.
fn ids(html: &str) -> HashSet<String> {
    html.split(" id=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

/// Every `href="..."` of a page, in order.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

/// The table of contents of a report page.
fn contents(html: &str) -> &str {
    let start = html
        .find("<nav class=\"toc\" id=\"contents\"")
        .expect("a contents box");
    &html[start..start + html[start..].find("</nav>").unwrap()]
}

fn analyze(inputs: &[&Path], out: &Path) {
    perfleak()
        .args(["analyze", "-q"])
        .args(inputs)
        .arg("-o")
        .arg(out)
        .assert()
        .success();
}

#[test]
fn the_contents_link_every_section_and_each_flagged_series() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    analyze(&[&sample("winlogon-smtp-leak.csv")], &out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let toc = contents(&html);
    let targets: Vec<String> = hrefs(toc)
        .into_iter()
        .map(|h| h.strip_prefix('#').expect("in-page link").to_string())
        .collect();
    let ids = ids(&html);
    for t in &targets {
        assert!(ids.contains(t), "contents link #{t} lands nowhere");
    }
    for needed in ["verdict", "cause", "all-series", "log", "warnings"] {
        assert!(
            targets.iter().any(|t| t == needed),
            "no link to #{needed}: {targets:?}"
        );
    }
    // One link per flagged series, each on that series' heading.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let flagged = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["verdict"].as_str(), Some("leak" | "suspect")))
        .count();
    assert_eq!(flagged, 5);
    assert_eq!(
        targets.iter().filter(|t| t.starts_with("series-")).count(),
        flagged
    );
    assert!(toc.contains("Likely cause: Q192265"), "{toc}");
    // A single log is not part of a batch: no link back.
    assert!(!html.contains("batch-index"));
}

#[test]
fn what_was_not_judged_has_its_own_section() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(sample("winlogon-smtp-leak.csv")).unwrap();
    let short = dir.path().join("short.csv");
    std::fs::write(
        &short,
        text.lines().take(4).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    analyze(&[&short], &out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(contents(&html).contains("href=\"#not-judged\""));
    let section = &html[html.find("<section id=\"not-judged\">").expect("section")..];
    assert!(
        section.contains("winlogon Handle Count: 3 samples"),
        "{section:.600}"
    );
}

#[test]
fn a_batch_links_each_report_back_to_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    analyze(
        &[
            &sample("winlogon-smtp-leak.csv"),
            &sample("healthy-server.csv"),
        ],
        &out,
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    let reports: Vec<String> = hrefs(&index)
        .into_iter()
        .filter(|h| h.ends_with("/report.html"))
        .collect();
    assert_eq!(reports.len(), 2, "{index}");
    for rel in reports {
        let page = out.join(&rel);
        let html = std::fs::read_to_string(&page).unwrap();
        let back = html
            .split("<a href=\"")
            .nth(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .unwrap();
        assert_eq!(back, "../index.html", "first link of {rel}");
        let target = page.parent().unwrap().join(back).canonicalize().unwrap();
        assert_eq!(target, out.join("index.html").canonicalize().unwrap());
        assert!(contents(&html).contains("#verdict"));
    }
}

#[test]
fn the_index_is_one_sortable_page_that_wraps_long_paths() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir
        .path()
        .join("customer-archive-2025-11-collected-by-the-night-shift")
        .join("server-room-b-rack-14-unit-07-datacollector-output");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::copy(sample("restart-leak.csv"), deep.join("DataCollector01.csv")).unwrap();
    std::fs::copy(
        sample("healthy-server.csv"),
        dir.path().join("DataCollector01.csv"),
    )
    .unwrap();
    let out = dir.path().join("out");
    analyze(&[dir.path()], &out);
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("<table class=\"sortable\">"));
    assert!(index.contains("<script>") && index.contains("addEventListener('click'"));
    // Self-contained: no stylesheet, script or image fetched from anywhere.
    assert!(!index.contains("<script src") && !index.contains("<link"));
    assert!(!index.contains("http://") && !index.contains("https://"));
    // The long path wraps in its column and is whole in the cell's title.
    assert!(index.contains("td.log{max-width:26em;overflow-wrap:anywhere}"));
    let long = deep.join("DataCollector01.csv");
    let title = format!("title=\"{}\"", long.display());
    assert!(index.contains(&title), "{index}");
    // Rows are worst first without script: the leak before the healthy server.
    let leak = index.find("server-room-b-rack-14").unwrap();
    let healthy = index.rfind(">no-leak<").unwrap();
    assert!(leak < healthy);
}
