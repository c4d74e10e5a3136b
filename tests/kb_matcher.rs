//! The KB matcher on hand-built logs and findings: the seed situations rank their article
//! first, healthy or unknown leaks match nothing, and decoys rank below.

use chrono::NaiveDate;
use perfleak::analysis::{Finding, Verdict};
use perfleak::ingest::{CounterPath, LogFormat, PerfLog, SourceInfo};
use perfleak::kb::{match_findings, Catalogue, KbArticle, KbMatch};

/// Builds the parts of a log the matcher reads: its counter paths.
struct LogBuilder {
    paths: Vec<CounterPath>,
}

impl LogBuilder {
    fn new() -> Self {
        LogBuilder { paths: Vec::new() }
    }

    fn path(mut self, object: &str, instance: Option<&str>, counter: &str) -> Self {
        self.paths.push(CounterPath {
            machine: Some("SRV01".into()),
            object: object.into(),
            parent: None,
            instance: instance.map(str::to_string),
            index: None,
            counter: counter.into(),
            original_object: object.into(),
            original_counter: counter.into(),
        });
        self
    }

    /// `Process(<name>)` with the usual memory counters.
    fn process(self, name: &str) -> Self {
        self.path("Process", Some(name), "Private Bytes")
            .path("Process", Some(name), "Handle Count")
            .path("Process", Some(name), "Working Set")
    }

    fn build(self) -> PerfLog {
        let start = NaiveDate::from_ymd_opt(2001, 8, 9)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("date");
        let timestamps: Vec<_> = (0..4).map(|i| start + chrono::Duration::hours(i)).collect();
        PerfLog {
            source: SourceInfo {
                path: "built.csv".into(),
                format: LogFormat::PdhCsv,
                encoding: "UTF-8".into(),
                time_zone: None,
                utc_offset_minutes: None,
                segments: vec!["built.csv".into()],
            },
            elapsed_seconds: (0..4).map(|i| i as f64 * 3600.0).collect(),
            timestamps,
            columns: Vec::new(),
            all_paths: self.paths,
            warnings: Vec::new(),
        }
    }
}

/// One analysed series with the verdict, slope and confidence given.
fn finding(
    process: &str,
    counter: &str,
    verdict: Verdict,
    slope_per_hour: f64,
    confidence: f64,
) -> Finding {
    Finding {
        process: process.into(),
        instance: process.into(),
        pids: vec![212],
        counter: counter.into(),
        verdict,
        confidence,
        slope_per_hour: Some(slope_per_hour),
        slope_ci95: None,
        r_squared: Some(0.96),
        p_value: Some(1e-20),
        first: Some(450.0),
        last: Some(3460.0),
        growth_percent: Some(668.9),
        segments: 1,
        limit: None,
        time_to_limit_hours: None,
        chart: None,
        machine: Some("SRV01".into()),
        severity: None,
        q_value: None,
        time_to_limit_ci_hours: None,
        ols_slope_per_hour: None,
        ols_slope_se: None,
        min_detectable_slope_per_hour: None,
        shape: if verdict == Verdict::Ok {
            "flat".into()
        } else {
            "linear".into()
        },
        reasons: Vec::new(),
        samples: 865,
        span_hours: 72.0,
        unit: if counter.contains("Bytes") {
            "bytes".into()
        } else {
            "handles".into()
        },
        column: 0,
        restarts: Vec::new(),
        robust_fits: Vec::new(),
        ols_fits: Vec::new(),
    }
}

fn ids(matches: &[KbMatch]) -> Vec<&str> {
    matches.iter().map(|m| m.id.as_str()).collect()
}

fn rank(matches: &[KbMatch], id: &str) -> Option<usize> {
    matches.iter().position(|m| m.id == id)
}

#[test]
fn winlogon_leak_with_smtp_server_ranks_q192265_first() {
    let log = LogBuilder::new()
        .process("winlogon")
        .process("services")
        .path("SMTP Server", None, "Bytes Sent/sec")
        .path("Memory", None, "Available Bytes")
        .build();
    let findings = vec![
        finding("winlogon", "Handle Count", Verdict::Leak, 41.7, 0.98),
        finding("winlogon", "Private Bytes", Verdict::Leak, 52_000.0, 0.95),
        finding("services", "Private Bytes", Verdict::Ok, 0.0, 0.9),
    ];
    let matches = match_findings(&Catalogue::builtin(), &log, &findings);
    assert_eq!(ids(&matches).first(), Some(&"Q192265"), "{matches:#?}");
    let top = &matches[0];
    assert!(top.score > 0.85 && top.score <= 1.0, "{}", top.score);
    assert_eq!(top.processes, vec!["winlogon"]);
    assert!(
        top.evidence
            .iter()
            .any(|e| e == "winlogon Handle Count: leak, +41.7/h"),
        "{:?}",
        top.evidence
    );
    assert!(
        top.evidence
            .iter()
            .any(|e| e == "object 'SMTP Server' present in the log"),
        "{:?}",
        top.evidence
    );
    assert!(top.fix.contains("SP4"));
    // Decoys: other Winlogon leaks that need other counters or objects rank below.
    for decoy in ["Q191830", "Q193090", "Q191852"] {
        if let Some(r) = rank(&matches, decoy) {
            assert!(
                r > 0 && matches[r].score < top.score,
                "{decoy} at {r}: {matches:#?}"
            );
        }
    }
    assert!(
        matches.len() <= 3,
        "a handful per process: {:?}",
        ids(&matches)
    );
}

#[test]
fn winlogon_private_bytes_leak_with_snmp_prefers_inetmib1_article() {
    // Private Bytes only, with the SNMP and TCP objects Q193090 names: the SMTPSVC article
    // (which needs the handle count too and the SMTP object) must not win.
    let log = LogBuilder::new()
        .process("winlogon")
        .path("SNMP", None, "SNMP Incoming Requests/sec")
        .build();
    let findings = vec![
        finding("winlogon", "Private Bytes", Verdict::Leak, 20_000.0, 0.9),
        finding("winlogon", "Handle Count", Verdict::Ok, 0.0, 0.9),
    ];
    let matches = match_findings(&Catalogue::builtin(), &log, &findings);
    assert_eq!(ids(&matches).first(), Some(&"Q193090"), "{matches:#?}");
    if let Some(r) = rank(&matches, "Q192265") {
        assert!(r > 0);
    }
}

#[test]
fn async_leak_with_msmi_object_ranks_q260554_first() {
    let log = LogBuilder::new()
        .process("async")
        .process("store")
        .path("MSExchangeMSMI", None, "Messages Sent")
        .path("MSExchangeIS", None, "User Count")
        .build();
    let findings = vec![
        finding("async", "Private Bytes", Verdict::Leak, 80_000.0, 0.9),
        finding("async", "Handle Count", Verdict::Ok, 0.0, 0.9),
        finding("store", "Private Bytes", Verdict::Ok, 0.0, 0.9),
    ];
    let matches = match_findings(&Catalogue::builtin(), &log, &findings);
    assert_eq!(ids(&matches).first(), Some(&"Q260554"), "{matches:#?}");
    assert!(
        matches[0]
            .evidence
            .iter()
            .any(|e| e.contains("MSExchangeMSMI")),
        "{:?}",
        matches[0].evidence
    );
    assert!(matches[0]
        .evidence
        .iter()
        .any(|e| e.starts_with("async Private Bytes: leak, +78.1 KB/h")));
    assert_eq!(matches[0].fix, "Exchange Server 5.5 SP4");
}

#[test]
fn healthy_log_matches_nothing() {
    let log = LogBuilder::new()
        .process("winlogon")
        .path("SMTP Server", None, "Bytes Sent/sec")
        .build();
    let findings = vec![
        finding("winlogon", "Handle Count", Verdict::Ok, 0.1, 0.9),
        finding(
            "winlogon",
            "Private Bytes",
            Verdict::InsufficientData,
            10.0,
            0.2,
        ),
    ];
    assert!(match_findings(&Catalogue::builtin(), &log, &findings).is_empty());
    assert!(match_findings(&Catalogue::builtin(), &log, &[]).is_empty());
}

#[test]
fn unknown_third_party_service_matches_nothing() {
    let log = LogBuilder::new()
        .process("acmeagent")
        .path("Memory", None, "Available Bytes")
        .path("TCP", None, "Segments/sec")
        .build();
    let findings = vec![
        finding("acmeagent", "Handle Count", Verdict::Leak, 120.0, 0.99),
        finding("acmeagent", "Private Bytes", Verdict::Leak, 900_000.0, 0.99),
    ];
    let matches = match_findings(&Catalogue::builtin(), &log, &findings);
    assert!(matches.is_empty(), "{matches:#?}");
}

#[test]
fn era_decides_between_spooler_articles() {
    let catalogue = Catalogue::builtin();
    let is_nt4_spooler = |id: &str| {
        catalogue
            .get(id)
            .is_some_and(|a| a.processes.iter().any(|p| p == "spoolss"))
    };
    // A Server 2003+ log (w3wp, svchost): the spoolsv article fits, the NT 4.0 spoolss ones
    // (same component, older name) are argued away by the era.
    let findings = vec![finding(
        "spoolsv",
        "Private Bytes",
        Verdict::Leak,
        50_000.0,
        0.95,
    )];
    let modern = LogBuilder::new()
        .process("spoolsv")
        .process("svchost")
        .process("w3wp")
        .build();
    let matches = match_findings(&catalogue, &modern, &findings);
    assert_eq!(ids(&matches).first(), Some(&"KB951638"), "{matches:#?}");
    assert!(
        !matches.iter().any(|m| is_nt4_spooler(&m.id)),
        "{:?}",
        ids(&matches)
    );
    // An NT 4.0 log (spoolss itself) gets the NT 4.0 spooler articles and not the 2008 one.
    let findings = vec![finding(
        "spoolss",
        "Private Bytes",
        Verdict::Leak,
        50_000.0,
        0.95,
    )];
    let nt = LogBuilder::new()
        .process("spoolss")
        .process("winlogon")
        .build();
    let matches = match_findings(&catalogue, &nt, &findings);
    assert!(
        !matches.is_empty() && matches.iter().all(|m| is_nt4_spooler(&m.id)),
        "{matches:#?}"
    );
    assert!(matches.len() <= 3);
}

#[test]
fn any_caller_article_needs_specific_corroboration() {
    // Q197517 (RasDial handle leak in whichever process calls it) must not fit a bare handle
    // leak; with the RAS objects present it may.
    let findings = vec![finding("dialer", "Handle Count", Verdict::Leak, 30.0, 0.95)];
    let bare = LogBuilder::new().process("dialer").build();
    assert!(match_findings(&Catalogue::builtin(), &bare, &findings).is_empty());
    let ras = LogBuilder::new()
        .process("dialer")
        .path("RAS Total", None, "Bytes Transmitted")
        .build();
    let matches = match_findings(&Catalogue::builtin(), &ras, &findings);
    assert!(
        matches
            .iter()
            .all(|m| m.evidence.iter().any(|e| e.contains("RAS"))),
        "{matches:#?}"
    );
}

#[test]
fn by_design_growth_argues_against() {
    let leak = KbArticle {
        id: "Q900010".into(),
        title: "Cache service leaks memory".into(),
        processes: vec!["cachesvc".into()],
        counters: vec!["working_set".into()],
        corroborating_objects: vec!["Cache Service".into()],
        ..Default::default()
    };
    let design = KbArticle {
        id: "Q900011".into(),
        title: "Cache service working set grows by design".into(),
        processes: vec!["cachesvc".into()],
        counters: vec!["working_set".into()],
        by_design: true,
        ..Default::default()
    };
    let log = LogBuilder::new()
        .process("cachesvc")
        .path("Cache Service", None, "Hits/sec")
        .build();
    let findings = vec![finding(
        "cachesvc",
        "Working Set",
        Verdict::Leak,
        4_000_000.0,
        0.9,
    )];
    let without = Catalogue {
        articles: vec![leak.clone()],
    };
    let matches = match_findings(&without, &log, &findings);
    assert_eq!(ids(&matches), vec!["Q900010"], "{matches:#?}");
    let with = Catalogue {
        articles: vec![leak, design],
    };
    assert!(
        match_findings(&with, &log, &findings).is_empty(),
        "by-design growth must argue the leak away"
    );
    // The built-in Store rule: no Store leak article claims its working set.
    let store = LogBuilder::new()
        .process("store")
        .path("MSExchangeIS", None, "User Count")
        .build();
    let store_findings = vec![finding(
        "store",
        "Working Set",
        Verdict::Leak,
        4_000_000.0,
        0.9,
    )];
    assert!(match_findings(&Catalogue::builtin(), &store, &store_findings).is_empty());
}

#[test]
fn two_leaking_processes_get_their_own_articles() {
    let log = LogBuilder::new()
        .process("winlogon")
        .process("async")
        .path("SMTP Server", None, "Bytes Sent/sec")
        .path("MSExchangeMSMI", None, "Messages Sent")
        .build();
    let findings = vec![
        finding("winlogon", "Handle Count", Verdict::Leak, 41.7, 0.98),
        finding("winlogon", "Private Bytes", Verdict::Leak, 52_000.0, 0.95),
        finding("async", "Private Bytes", Verdict::Suspect, 80_000.0, 0.7),
    ];
    let matches = match_findings(&Catalogue::builtin(), &log, &findings);
    let found = ids(&matches);
    assert!(
        found.contains(&"Q192265") && found.contains(&"Q260554"),
        "{found:?}"
    );
    let scores: Vec<f64> = matches.iter().map(|m| m.score).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "ranked: {scores:?}"
    );
}

#[test]
fn bare_winlogon_leak_prefers_the_article_that_needs_no_missing_object() {
    let log = LogBuilder::new().process("winlogon").build();
    let findings = vec![
        finding("winlogon", "Handle Count", Verdict::Leak, 41.7, 0.98),
        finding("winlogon", "Private Bytes", Verdict::Leak, 52_000.0, 0.95),
    ];
    let matches = match_findings(&Catalogue::builtin(), &log, &findings);
    assert_eq!(ids(&matches).first(), Some(&"Q191830"), "{matches:#?}");
    let smtp = matches
        .iter()
        .find(|m| m.id == "Q192265")
        .expect("still a candidate");
    assert!(
        smtp.evidence
            .iter()
            .any(|e| e.starts_with("no sign in the log of SMTP Server")),
        "{:?}",
        smtp.evidence
    );
}
