//! `--charts`: the flagged series by default, every analysed series with `all`, none with
//! `none`; and every chart names its limit to the reader (the image's text alternative),
//! as the chart itself draws it (a line, or an arrow when off the chart).

use std::path::Path;

use crate::cli_common::{perfleak, sample};

fn report_with(charts: Option<&str>, out: &Path) -> serde_json::Value {
    let mut cmd = perfleak();
    cmd.args(["analyze", "-q"]).arg(sample("restart-leak.csv"));
    if let Some(c) = charts {
        cmd.args(["--charts", c]);
    }
    cmd.arg("-o").arg(out).assert().success();
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

fn pngs(out: &Path) -> usize {
    std::fs::read_dir(out.join("charts"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn charts_flagged_by_default_all_or_none_when_asked() {
    let dir = tempfile::tempdir().unwrap();

    let default = dir.path().join("default");
    let json = report_with(None, &default);
    let findings = json["findings"].as_array().unwrap();
    let flagged = findings
        .iter()
        .filter(|f| matches!(f["verdict"].as_str(), Some("leak" | "suspect")))
        .count();
    assert_eq!(flagged, 5);
    for f in findings {
        let is_flagged = matches!(f["verdict"].as_str(), Some("leak" | "suspect"));
        assert_eq!(f["chart"].is_string(), is_flagged, "{}", f["instance"]);
    }
    assert_eq!(
        pngs(&default),
        flagged + 1,
        "the flagged series and the overview"
    );

    let all = dir.path().join("all");
    let json = report_with(Some("all"), &all);
    let findings = json["findings"].as_array().unwrap();
    assert!(findings.len() > 20);
    for f in findings {
        let rel = f["chart"].as_str().expect("every series has a chart");
        assert!(all.join(rel).is_file(), "{rel}");
    }
    assert_eq!(pngs(&all), findings.len() + 1);
    let html = std::fs::read_to_string(all.join("report.html")).unwrap();
    assert_eq!(
        html.matches("<img class=\"chart\"").count(),
        findings.len() + 1
    );
    let section = &html[html
        .find("<section id=\"other-charts\">")
        .expect("a section")..];
    assert!(section.contains(&format!(
        "Charts of the series not flagged ({})",
        findings.len() - flagged
    )));
    assert!(
        html.contains("href=\"#other-charts\""),
        "listed in the contents"
    );

    let none = dir.path().join("none");
    let json = report_with(Some("none"), &none);
    assert!(json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["chart"].is_null()));
    assert!(json["overview_chart"].is_null());
    assert_eq!(pngs(&none), 0);
    let html = std::fs::read_to_string(none.join("report.html")).unwrap();
    assert!(!html.contains("<img"));
}

#[test]
fn each_chart_names_its_limit_and_when_it_is_reached() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    perfleak()
        .args(["analyze", "-q"])
        .arg(sample("winlogon-smtp-leak.csv"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // 3,300 handles now, the 16,384 alert threshold in 13.6 days: off the chart, an arrow.
    assert!(
        html.contains(
            "alt=\"winlogon Handle Count over time; 16,384 handles limit in ~13.6 days\""
        ),
        "{}",
        &html[html.find("alt=\"winlogon Handle").unwrap_or(0)..][..200]
    );
}
