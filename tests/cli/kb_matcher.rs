//! The KB matcher on hand-built logs and findings: the seed situations rank their article
//! first, healthy or unknown leaks match nothing, and decoys rank below.

use chrono::NaiveDate;
use perfleak::analysis::{Finding, Verdict};
use perfleak::ingest::{CounterPath, LogFormat, PerfLog, SourceInfo};
use perfleak::kb::{match_findings, ArticleKind, Catalogue, KbArticle, KbMatch, MatchStrength};
use perfleak::vocab::{Shape, Unit};

/// Builds the parts of a log the matcher reads: its counter paths and when it starts.
struct LogBuilder {
    paths: Vec<CounterPath>,
    year: i32,
}

impl LogBuilder {
    fn new() -> Self {
        LogBuilder {
            paths: Vec::new(),
            year: 2001,
        }
    }

    fn dated(mut self, year: i32) -> Self {
        self.year = year;
        self
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
        let start = NaiveDate::from_ymd_opt(self.year, 8, 9)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("date");
        let timestamps: Vec<_> = (0..4).map(|i| start + chrono::Duration::hours(i)).collect();
        PerfLog {
            source: SourceInfo {
                path: "built.csv".into(),
                format: LogFormat::PdhCsv,
                encoding: "UTF-8".into(),
                encoding_reason: String::new(),
                time_zone: None,
                utc_offset_minutes: None,
                segments: vec!["built.csv".into()],
                blg: None,
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
        r_squared: Some(0.96),
        p_value: Some(1e-20),
        first: Some(450.0),
        last: Some(3460.0),
        growth_percent: Some(668.9),
        segments: 1,
        machine: Some("SRV01".into()),
        shape: if verdict == Verdict::Ok {
            Shape::Flat
        } else {
            Shape::Linear
        },
        samples: 865,
        span_hours: 72.0,
        unit: if counter.contains("Bytes") {
            Unit::Bytes
        } else {
            Unit::Handles
        },
        ..Finding::default()
    }
}

/// The built-in catalogue's matches for these findings in this log.
fn builtin_matches(log: &PerfLog, findings: &[Finding]) -> Vec<KbMatch> {
    match_findings(&Catalogue::builtin(), log, findings)
}

/// The seed situation of Q192265: winlogon leaks handles and private bytes together.
fn winlogon_smtpsvc_leak() -> Vec<Finding> {
    vec![
        finding("winlogon", "Handle Count", Verdict::Leak, 41.7, 0.98),
        finding("winlogon", "Private Bytes", Verdict::Leak, 52_000.0, 0.95),
    ]
}

fn ids(matches: &[KbMatch]) -> Vec<&str> {
    matches.iter().map(|m| m.id.as_str()).collect()
}

fn rank(matches: &[KbMatch], id: &str) -> Option<usize> {
    matches.iter().position(|m| m.id == id)
}

fn likely(matches: &[KbMatch]) -> Vec<&str> {
    matches
        .iter()
        .filter(|m| m.strength == MatchStrength::Likely)
        .map(|m| m.id.as_str())
        .collect()
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
    let matches = builtin_matches(&log, &findings);
    assert_eq!(ids(&matches).first(), Some(&"Q192265"), "{matches:#?}");
    let top = &matches[0];
    assert!(top.score > 0.85 && top.score <= 1.0, "{}", top.score);
    assert_eq!(likely(&matches), vec!["Q192265"], "{matches:#?}");
    assert_eq!(top.processes, vec!["winlogon"]);
    assert!(
        top.evidence
            .iter()
            .any(|e| e == "winlogon Handle Count: leak, +41.7 handles/h"),
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
    let matches = builtin_matches(&log, &findings);
    assert_eq!(ids(&matches).first(), Some(&"Q193090"), "{matches:#?}");
    assert_eq!(likely(&matches), vec!["Q193090"], "{matches:#?}");
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
    let matches = builtin_matches(&log, &findings);
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
    assert_eq!(matches[0].strength, MatchStrength::Likely);
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
    assert!(builtin_matches(&log, &findings).is_empty());
    assert!(builtin_matches(&log, &[]).is_empty());
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
    let matches = builtin_matches(&log, &findings);
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
        .dated(2012)
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
    assert!(builtin_matches(&bare, &findings).is_empty());
    let ras = LogBuilder::new()
        .process("dialer")
        .path("RAS Total", None, "Bytes Transmitted")
        .build();
    let matches = builtin_matches(&ras, &findings);
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
    let without = Catalogue::from_articles(vec![leak.clone()]);
    let matches = match_findings(&without, &log, &findings);
    assert_eq!(ids(&matches), vec!["Q900010"], "{matches:#?}");
    let with = Catalogue::from_articles(vec![leak, design]);
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
    assert!(builtin_matches(&store, &store_findings).is_empty());
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
    let matches = builtin_matches(&log, &findings);
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
    let findings = winlogon_smtpsvc_leak();
    let matches = builtin_matches(&log, &findings);
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

#[test]
fn imported_seed_articles_match_like_the_catalogue() {
    let kb = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/kb"));
    if !kb.is_dir() {
        eprintln!("skipped: {} is absent", kb.display());
        return;
    }
    let articles =
        perfleak::kb::import::import_paths(&[kb.join("Q192265.txt"), kb.join("Q260554.txt")])
            .expect("seed articles import")
            .articles;
    let catalogue = Catalogue::from_articles(articles);
    let log = LogBuilder::new()
        .process("winlogon")
        .process("async")
        .path("SMTP Server", None, "Bytes Sent/sec")
        .path("MSExchangeMSMI", None, "Messages Sent")
        .build();
    let findings = vec![
        finding("winlogon", "Handle Count", Verdict::Leak, 41.7, 0.98),
        finding("winlogon", "Private Bytes", Verdict::Leak, 52_000.0, 0.95),
        finding("async", "Private Bytes", Verdict::Leak, 80_000.0, 0.9),
    ];
    let matches = match_findings(&catalogue, &log, &findings);
    assert_eq!(ids(&matches), vec!["Q192265", "Q260554"], "{matches:#?}");
    assert_eq!(likely(&matches), vec!["Q192265", "Q260554"]);
}

#[test]
fn machine_wide_pool_leak_points_to_the_service_that_runs() {
    // NT 4.0 print server: the spooler's own counters are flat, Memory\Pool Paged Bytes climbs.
    let log = LogBuilder::new()
        .process("spoolss")
        .process("winlogon")
        .path("Memory", None, "Pool Paged Bytes")
        .path("Print Queue", Some("_Total"), "Jobs")
        .build();
    let findings = vec![
        finding("spoolss", "Private Bytes", Verdict::Ok, 0.0, 0.9),
        finding("", "Pool Paged Bytes", Verdict::Leak, 300_000.0, 0.95),
    ];
    let matches = builtin_matches(&log, &findings);
    assert!(
        !matches.is_empty(),
        "a spooler paged-pool article should fit"
    );
    for m in &matches {
        assert_eq!(m.processes, vec!["spoolss"], "{matches:#?}");
        assert!(m
            .evidence
            .iter()
            .any(|e| e == "spoolss runs in the log; its own counters do not grow"));
        assert!(m
            .evidence
            .iter()
            .any(|e| e.starts_with("machine-wide Pool Paged Bytes: leak")));
    }
    // Without the spooler in the log, nothing is charged to it.
    let bare = LogBuilder::new()
        .process("winlogon")
        .path("Memory", None, "Pool Paged Bytes")
        .build();
    let matches = builtin_matches(&bare, &findings[1..]);
    assert!(
        matches.iter().all(|m| m.processes != vec!["spoolss"]),
        "{matches:#?}"
    );
}

/// A Windows Server 2019-style web server: w3wp leaks private bytes, nothing but the objects
/// every IIS server has.
fn modern_web_server(year: i32) -> LogBuilder {
    LogBuilder::new()
        .dated(year)
        .process("MsMpEng")
        .process("Registry")
        .process("wininit")
        .process("svchost")
        .process("vmtoolsd")
        .process("w3wp")
        .path("Web Service", Some("_Total"), "Current Connections")
        .path("Memory", None, "Available Bytes")
        .path("Processor", Some("_Total"), "% Processor Time")
}

fn w3wp_private_bytes_leak() -> Vec<Finding> {
    vec![
        finding("w3wp", "Private Bytes", Verdict::Leak, 24_000_000.0, 0.97),
        finding("w3wp", "Handle Count", Verdict::Ok, 0.0, 0.9),
    ]
}

#[test]
fn modern_iis_leak_with_only_web_service_names_no_cause() {
    let log = modern_web_server(2024).build();
    let matches = builtin_matches(&log, &w3wp_private_bytes_leak());
    assert!(likely(&matches).is_empty(), "{matches:#?}");
    // The IIS 6.0 articles tie on "w3wp leaks + Web Service": neither may be reported as
    // the cause of a 2024 leak.
    for id in ["KB911822", "KB916984"] {
        assert!(rank(&matches, id).is_none(), "{id}: {matches:#?}");
    }
    // Same log written in 2008 (IIS 6.0 still in service): the two still tie, so both are
    // at best possible, and the weakness of the evidence is said.
    let log = LogBuilder::new()
        .dated(2008)
        .process("svchost")
        .process("w3wp")
        .path("Web Service", Some("_Total"), "Current Connections")
        .build();
    let matches = builtin_matches(&log, &w3wp_private_bytes_leak());
    assert!(likely(&matches).is_empty(), "{matches:#?}");
    let cache = matches
        .iter()
        .find(|m| m.id == "KB911822")
        .expect("IIS 6.0 article possible in 2008");
    assert!(
        cache.evidence.iter().any(|e| e.contains("weak evidence")),
        "{:?}",
        cache.evidence
    );
    assert!(
        cache
            .evidence
            .iter()
            .any(|e| e.contains("KB916984") && e.contains("about as well")),
        "{:?}",
        cache.evidence
    );
}

#[test]
fn specific_object_breaks_the_tie() {
    // The user-mode cache object is specific to KB911822: on a 2008 log it is the likely cause
    // and the ASP article is not.
    let log = LogBuilder::new()
        .dated(2008)
        .process("svchost")
        .process("w3wp")
        .path("Web Service", Some("_Total"), "Current Connections")
        .path("Web Service Cache", None, "Current URIs Cached")
        .build();
    let matches = builtin_matches(&log, &w3wp_private_bytes_leak());
    assert_eq!(ids(&matches).first(), Some(&"KB911822"), "{matches:#?}");
    assert_eq!(likely(&matches), vec!["KB911822"], "{matches:#?}");
    // In a 2024 log whose processes rule out Server 2003 (Registry, wininit), the specific
    // object keeps the IIS 6.0 article in view, lowered by the era, only as possible.
    let log = modern_web_server(2024)
        .path("Web Service Cache", None, "Current URIs Cached")
        .build();
    let matches = builtin_matches(&log, &w3wp_private_bytes_leak());
    assert!(likely(&matches).is_empty(), "{matches:#?}");
    let cache = matches
        .iter()
        .find(|m| m.id == "KB911822")
        .expect("specific corroboration keeps it");
    assert!(cache.score < 0.7, "{cache:#?}");
    assert!(
        cache
            .evidence
            .iter()
            .any(|e| e.contains("the log's processes and objects look")),
        "{:?}",
        cache.evidence
    );
    assert!(rank(&matches, "KB916984").is_none(), "{matches:#?}");
    // A 2019 log that might still be Server 2003 (w3wp, svchost only) by its processes: the
    // article stays, lowered, as possible.
    let log = LogBuilder::new()
        .dated(2019)
        .process("svchost")
        .process("w3wp")
        .path("Web Service", Some("_Total"), "Current Connections")
        .path("Web Service Cache", None, "Current URIs Cached")
        .build();
    let matches = builtin_matches(&log, &w3wp_private_bytes_leak());
    assert!(likely(&matches).is_empty(), "{matches:#?}");
    let top = matches.first().expect("kept as possible");
    assert_eq!(top.id, "KB911822", "{matches:#?}");
    assert!(
        top.evidence
            .iter()
            .any(|e| e.contains("unlikely to be in service")),
        "{:?}",
        top.evidence
    );
}

#[test]
fn nt4_articles_drop_out_of_a_2024_log() {
    let findings = winlogon_smtpsvc_leak();
    let log = modern_web_server(2024).process("winlogon").build();
    let matches = builtin_matches(&log, &findings);
    assert!(matches.is_empty(), "{matches:#?}");
    // The same leak in an NT 4.0 log from 1999 does get its article.
    let nt = LogBuilder::new()
        .dated(1999)
        .process("winlogon")
        .process("spoolss")
        .process("rpcss")
        .build();
    let matches = builtin_matches(&nt, &findings);
    assert_eq!(ids(&matches).first(), Some(&"Q191830"), "{matches:#?}");
    // Strong specific corroboration keeps an NT 4.0 article visible on a modern log, but
    // never as the likely cause.
    let smtp = modern_web_server(2024)
        .process("winlogon")
        .path("SMTP Server", None, "Bytes Sent/sec")
        .build();
    let matches = builtin_matches(&smtp, &findings);
    assert!(likely(&matches).is_empty(), "{matches:#?}");
    assert!(
        matches.iter().all(|m| m.id == "Q192265"),
        "only the corroborated article survives: {matches:#?}"
    );
}

#[test]
fn likely_matches_rank_before_possible_ones() {
    let log = LogBuilder::new()
        .process("winlogon")
        .process("spoolss")
        .path("SMTP Server", None, "Bytes Sent/sec")
        .build();
    let findings = vec![
        finding("winlogon", "Handle Count", Verdict::Leak, 41.7, 0.98),
        finding("winlogon", "Private Bytes", Verdict::Leak, 52_000.0, 0.95),
        finding("winlogon", "Pool Paged Bytes", Verdict::Leak, 2_000.0, 0.9),
    ];
    let matches = builtin_matches(&log, &findings);
    let strengths: Vec<MatchStrength> = matches.iter().map(|m| m.strength).collect();
    assert!(strengths.windows(2).all(|w| w[0] <= w[1]), "{matches:#?}");
    assert_eq!(likely(&matches), vec!["Q192265"], "{matches:#?}");
    // Without a possible match behind the likely one the ordering above proves nothing.
    assert!(matches.len() >= 2, "{matches:#?}");
    let json = serde_json::to_value(&matches).expect("serialises");
    assert_eq!(json[0]["strength"], "likely");
    assert_eq!(json[1]["strength"], "possible");
}

#[test]
fn growth_that_levels_off_is_never_the_likely_cause() {
    let log = LogBuilder::new()
        .dated(1998)
        .process("winlogon")
        .path("SMTP Server", None, "Bytes Sent/sec")
        .build();
    let mut findings = winlogon_smtpsvc_leak();
    assert_eq!(likely(&builtin_matches(&log, &findings)), vec!["Q192265"]);
    for f in &mut findings {
        f.shape = Shape::GrowthStopped;
    }
    let matches = builtin_matches(&log, &findings);
    assert!(likely(&matches).is_empty(), "{matches:#?}");
}

/// A Windows Server 2019 file server (Registry, dwm, MsMpEng, SMB server objects).
fn file_server_2019() -> LogBuilder {
    LogBuilder::new()
        .dated(2024)
        .process("Registry")
        .process("dwm")
        .process("MsMpEng")
        .process("svchost")
        .process("lsass")
        .path(
            "SMB Server Shares",
            Some("_Total"),
            "Current Open File Count",
        )
        .path("Server", None, "Files Open")
}

#[test]
fn a_dc_article_is_only_possible_without_the_dc_role() {
    let findings = vec![finding(
        "lsass",
        "Private Bytes",
        Verdict::Leak,
        4_000_000.0,
        0.97,
    )];
    let matches = builtin_matches(&file_server_2019().build(), &findings);
    assert_eq!(ids(&matches).first(), Some(&"KB5035857"), "{matches:#?}");
    assert!(likely(&matches).is_empty(), "{matches:#?}");
    assert!(
        matches[0].evidence.iter().any(|e| e.contains("NTDS")),
        "{:?}",
        matches[0].evidence
    );
    // NT 4.0's lsass articles are set aside by the era, saying so, whatever their score.
    for m in matches.iter().filter(|m| m.windows == ["NT 4.0"]) {
        assert_eq!(m.strength, MatchStrength::Possible, "{m:#?}");
        assert!(m.evidence.iter().any(|e| e.starts_with("set aside by era")));
    }
    // On a domain controller (NTDS) the same growth names the article as the cause.
    let dc = file_server_2019()
        .path("NTDS", None, "LDAP Searches/sec")
        .build();
    let matches = builtin_matches(&dc, &findings);
    assert_eq!(likely(&matches), vec!["KB5035857"], "{matches:#?}");
}

#[test]
fn a_guide_is_never_the_likely_cause() {
    // WmiPrvSE leaks handles and memory on a 2022 server: the WMI guide fits it perfectly, and
    // is still only possible, saying why; WMI articles of Windows 2000/2003 are set aside.
    let log = file_server_2019()
        .process("WmiPrvSE")
        .path("Process V2", Some("WmiPrvSE:4410"), "Handle Count")
        .build();
    let findings = vec![
        finding("WmiPrvSE", "Handle Count", Verdict::Leak, 220.0, 0.98),
        finding(
            "WmiPrvSE",
            "Private Bytes",
            Verdict::Leak,
            3_000_000.0,
            0.97,
        ),
    ];
    let matches = builtin_matches(&log, &findings);
    let top = matches.first().expect("the guide");
    assert_eq!(
        top.id, "troubleshoot-wmi-performance-issues",
        "{matches:#?}"
    );
    assert_eq!(top.kind, ArticleKind::Guide);
    assert_eq!(top.strength, MatchStrength::Possible);
    assert!(top.score >= 0.75, "{top:#?}");
    assert!(
        top.evidence
            .iter()
            .any(|e| e.contains("troubleshooting guide")),
        "{:?}",
        top.evidence
    );
    assert!(
        top.evidence
            .iter()
            .any(|e| e.starts_with("era fits") && e.contains("Process V2")),
        "{:?}",
        top.evidence
    );
    assert!(likely(&matches).is_empty(), "{matches:#?}");
}

#[test]
fn a_64_bit_address_space_rules_out_nt_4() {
    // No marker process: only winlogon, whose Virtual Bytes passed 4 GB. NT 4.0 was 32-bit,
    // so Q192265 (NT 4.0) cannot be the likely cause even with the SMTP object present.
    let log = LogBuilder::new()
        .dated(2005)
        .process("winlogon")
        .path("SMTP Server", None, "Bytes Sent/sec")
        .build();
    let mut findings = winlogon_smtpsvc_leak();
    assert_eq!(likely(&builtin_matches(&log, &findings)), vec!["Q192265"]);
    let mut virtual_bytes = finding("winlogon", "Virtual Bytes", Verdict::Ok, 0.0, 0.9);
    virtual_bytes.first = Some(6.0e9);
    virtual_bytes.last = Some(6.0e9);
    findings.push(virtual_bytes);
    let matches = builtin_matches(&log, &findings);
    assert!(likely(&matches).is_empty(), "{matches:#?}");
    let q = matches.iter().find(|m| m.id == "Q192265").expect("kept");
    assert!(
        q.evidence
            .iter()
            .any(|e| e.starts_with("set aside by era") && e.contains("64-bit")),
        "{:?}",
        q.evidence
    );
}

#[test]
fn a_paged_pool_leak_under_the_server_service_gets_its_article() {
    use perfleak::analysis::SystemSeries;
    use perfleak::vocab::SystemArea;
    let pool = |path: &str| {
        let mut f = finding(
            "System (pool)",
            "Pool Paged Bytes",
            Verdict::Leak,
            9.0e6,
            0.97,
        );
        f.system = Some(SystemSeries {
            area: SystemArea::Pool,
            path: path.into(),
            falling: false,
            likely_consumers: Vec::new(),
            kind: None,
        });
        f
    };
    let findings = vec![pool(r"\\FS01\Memory\Pool Paged Bytes")];
    // A 2012 R2-era file server logging the Server object's pool counters.
    let log = LogBuilder::new()
        .dated(2019)
        .process("wininit")
        .process("dwm")
        .process("svchost")
        .path("Memory", None, "Pool Paged Bytes")
        .path("Server", None, "Pool Paged Bytes")
        .path(
            "SMB Server Shares",
            Some("_Total"),
            "Current Open File Count",
        )
        .build();
    let matches = builtin_matches(&log, &findings);
    let top = matches.first().expect("KB312362");
    assert_eq!(top.id, "KB312362", "{matches:#?}");
    // Machine-wide: the article describes it, but names no process that could be the cause.
    assert_eq!(top.strength, MatchStrength::Possible);
    assert!(top.processes.is_empty());
    assert!(
        top.evidence
            .iter()
            .any(|e| e.contains(r"counter 'Server\Pool Paged Bytes' present")),
        "{:?}",
        top.evidence
    );
    // Without anything of the Server service in the log, a kernel pool article is a guess.
    let bare = LogBuilder::new()
        .dated(2019)
        .process("wininit")
        .path("Memory", None, "Pool Paged Bytes")
        .build();
    assert!(rank(&builtin_matches(&bare, &findings), "KB312362").is_none());
}

#[test]
fn a_better_backed_article_outdoes_a_corroborated_one() {
    // Exchange 2010 CAS (RPC/HTTP Proxy and RpcClientAccess objects): the w3wp handle and
    // memory growth is KB3007848's; the UAG article shares the proxy object but not the rest.
    let log = LogBuilder::new()
        .dated(2016)
        .process("wininit")
        .process("dwm")
        .process("svchost")
        .process("w3wp")
        .path("RPC/HTTP Proxy", None, "Current Number of Unique Users")
        .path("MSExchange RpcClientAccess", None, "Connection Count")
        .path("Processor Information", Some("_Total"), "% Processor Time")
        .build();
    let findings = vec![
        finding("w3wp", "Handle Count", Verdict::Leak, 400.0, 0.98),
        finding("w3wp", "Private Bytes", Verdict::Leak, 20_000_000.0, 0.97),
    ];
    let matches = builtin_matches(&log, &findings);
    assert_eq!(likely(&matches), vec!["KB3007848"], "{matches:#?}");
    let uag = matches
        .iter()
        .find(|m| m.id == "KB2909365")
        .expect("listed");
    assert!(
        uag.evidence
            .iter()
            .any(|e| e == "KB3007848 fits this log better"),
        "{:?}",
        uag.evidence
    );
}
