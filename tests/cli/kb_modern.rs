//! The KB matcher on generated logs of today's servers (`perfleak-synth ... modern`), run
//! through the binary as a user would: each family's modern article comes first at the
//! strength its label gives, no NT 4.0 article is ever `likely`, a guide is never more than
//! `possible`, and every match says its kind and Windows versions. Also the figure "top-1 per
//! era on the generated logs" of the README (`-- --nocapture` prints it).

use std::path::Path;

use perfleak_synth::{modern_logs, sample_logs, write_log_as, ModernCase, SynthFormat};
use serde_json::Value;

use crate::cli_common::{json_of, sample};

/// `perfleak analyze --json` of one log: its KB matches.
fn kb_matches(path: &Path) -> Vec<Value> {
    let report = json_of(&[
        "analyze".as_ref(),
        "--json".as_ref(),
        "--quiet".as_ref(),
        path.as_os_str(),
    ]);
    report["kb_matches"].as_array().cloned().unwrap_or_default()
}

fn windows(m: &Value) -> Vec<&str> {
    m["windows"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// What every list of matches must respect, whatever the log.
fn check_rules(name: &str, matches: &[Value], modern: bool) {
    for m in matches {
        let kind = m["kind"].as_str().unwrap_or("");
        assert!(kind == "bug" || kind == "guide", "{name}: {m:#}");
        let versions = windows(m);
        assert!(!versions.is_empty(), "{name}: no windows in {m:#}");
        if kind == "guide" {
            assert_eq!(
                m["strength"], "possible",
                "{name}: a guide is the cause: {m:#}"
            );
        }
        let nt_only = versions.iter().all(|v| v.starts_with("NT "));
        if modern && nt_only {
            assert_ne!(m["strength"], "likely", "{name}: NT article likely: {m:#}");
            let said = m["evidence"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|e| e.starts_with("set aside by era") || e.starts_with("set aside by date"));
            assert!(
                said,
                "{name}: an NT article on a modern log without the reason: {m:#}"
            );
        }
    }
}

/// One generated case: right article first at the right strength?
fn judge(case: &ModernCase, matches: &[Value]) -> (bool, bool) {
    let Some(top) = matches.first() else {
        return (false, false);
    };
    let first = top["id"] == case.expect.article;
    let strength = if case.expect.likely {
        "likely"
    } else {
        "possible"
    };
    (first, first && top["strength"] == strength)
}

#[test]
fn modern_families_rank_their_article_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    for case in modern_logs(3, 1) {
        write_log_as(dir.path(), &case.log, SynthFormat::Csv).expect("written");
        let path = dir.path().join(format!("{}.csv", case.log.name()));
        let matches = kb_matches(&path);
        check_rules(case.family, &matches, true);
        let (first, strength) = judge(&case, &matches);
        assert!(first && strength, "{}: {matches:#?}", case.family);
        let top = &matches[0];
        let evidence: Vec<&str> = top["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            evidence.iter().any(|e| e.starts_with("era fits")),
            "{}: the era agreement is said: {evidence:?}",
            case.family
        );
    }
}

#[test]
fn a_modern_log_written_as_blg_dates_itself_by_the_header_too() {
    // The generator's BLG header says build 17763 (Server 2019): the matcher reads it beside
    // the processes; the IIS family's article still comes first.
    let dir = tempfile::tempdir().expect("temp dir");
    let case = modern_logs(4, 1)
        .into_iter()
        .find(|c| c.family == "iis-aspnet-managed")
        .expect("family");
    write_log_as(dir.path(), &case.log, SynthFormat::Blg).expect("written");
    let matches = kb_matches(&dir.path().join(format!("{}.blg", case.log.name())));
    check_rules(case.family, &matches, true);
    assert_eq!(matches[0]["id"], case.expect.article, "{matches:#?}");
    let evidence = matches[0]["evidence"].to_string();
    assert!(evidence.contains("OS build 17763"), "{evidence}");
    // An NT 4.0 sample written by the same 2019 collector keeps its NT 4.0 article: the
    // processes (spoolss, rpcss) outweigh the collector's build.
    let nt = sample_logs(1)
        .into_iter()
        .find(|l| l.name() == "winlogon-smtp-leak")
        .expect("sample");
    write_log_as(dir.path(), &nt, SynthFormat::Blg).expect("written");
    let matches = kb_matches(&dir.path().join("winlogon-smtp-leak.blg"));
    assert_eq!(matches[0]["id"], "Q192265", "{matches:#?}");
    assert_eq!(matches[0]["strength"], "likely", "{matches:#?}");
}

/// The classic cases: the bundled samples with a known article, and those without.
const CLASSIC: [(&str, Option<&str>); 5] = [
    ("winlogon-smtp-leak.csv", Some("Q192265")),
    ("exchange-async-leak.csv", Some("Q260554")),
    ("thirdparty-leak.csv", None),
    ("restart-leak.csv", None),
    ("healthy-server.csv", None),
];

#[test]
fn top1_per_era_on_the_generated_logs() {
    // Classic era: the samples with a known cause must have it first and likely; the others
    // must name no likely article.
    let mut classic = (0usize, 0usize, 0usize);
    for (name, expected) in CLASSIC {
        let matches = kb_matches(&sample(name));
        check_rules(name, &matches, false);
        classic.0 += 1;
        let right = match expected {
            Some(id) => matches
                .first()
                .is_some_and(|m| m["id"] == id && m["strength"] == "likely"),
            None => matches.iter().all(|m| m["strength"] != "likely"),
        };
        classic.1 += usize::from(right);
        classic.2 += usize::from(right);
    }
    // Modern era: every family, four logs each.
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = modern_logs(1, 4);
    let mut modern = (0usize, 0usize, 0usize);
    let mut per_family: Vec<(&str, usize, usize)> = Vec::new();
    for case in &cases {
        write_log_as(dir.path(), &case.log, SynthFormat::Csv).expect("written");
        let matches = kb_matches(&dir.path().join(format!("{}.csv", case.log.name())));
        check_rules(case.family, &matches, true);
        let (first, strength) = judge(case, &matches);
        modern.0 += 1;
        modern.1 += usize::from(first);
        modern.2 += usize::from(strength);
        match per_family.iter_mut().find(|(f, _, _)| *f == case.family) {
            Some(row) => {
                row.1 += 1;
                row.2 += usize::from(first && strength);
            }
            None => per_family.push((case.family, 1, usize::from(first && strength))),
        }
        assert!(first && strength, "{}: {matches:#?}", case.log.name());
    }
    println!("| era | logs | right article first | and at the right strength |");
    println!("|---|---:|---:|---:|");
    for (era, (n, first, strength)) in [
        ("classic (NT 4.0/2000 samples)", classic),
        ("modern (2012 R2-2022 families)", modern),
    ] {
        println!("| {era} | {n} | {first} | {strength} |");
    }
    for (family, n, right) in &per_family {
        println!("| modern: {family} | {n} | {right} | {right} |");
    }
    assert_eq!(classic.1, CLASSIC.len(), "classic cases regressed");
}

#[test]
fn the_schema_lists_the_windows_versions_of_the_eras_table() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/report.schema.json"
        ))
        .expect("schema"),
    )
    .expect("JSON");
    let listed: Vec<&str> = schema["$defs"]["kb_match"]["properties"]["windows"]["items"]["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let table: Vec<&str> = perfleak::kb::Eras::builtin()
        .windows
        .iter()
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(listed, table);
}

#[test]
fn an_added_article_titled_as_a_guide_is_a_guide() {
    // The same text under two titles: a bug report, and a troubleshooting guide.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kb/Q900001.txt");
    let text = std::fs::read_to_string(&fixture).expect("fixture");
    let guide = text.replace("Q900001", "Q900099").replace(
        "TITLE   :Contoso Relay Service Leaks Handles When Queues Are Polled",
        "TITLE   :Troubleshooting Contoso Relay Service Handle Leaks",
    );
    assert_ne!(guide, text.replace("Q900001", "Q900099"), "title replaced");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("Q900099.txt"), guide).expect("written");
    std::fs::copy(&fixture, dir.path().join("Q900001.txt")).expect("copied");
    let catalogue =
        perfleak::kb::Catalogue::with_extra(&[dir.path().to_path_buf()]).expect("imports");
    assert!(catalogue.get("Q900099").is_some() && catalogue.get("Q900001").is_some());
    assert_eq!(
        catalogue.meta_of("Q900099").kind,
        perfleak::kb::ArticleKind::Guide
    );
    assert_eq!(
        catalogue.meta_of("Q900001").kind,
        perfleak::kb::ArticleKind::Bug
    );
}
