//! The KB importer on the seed articles, on synthetic articles in both layouts (classic text
//! and Markdown), on today's Markdown support articles, and measured: against the built-in
//! catalogue over the classic archive, against the leak/other labels and the reader's index
//! of the modern collection.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use perfleak::kb::import::{
    import_paths, import_text, ArticleKind, Imported, ImportedArticle, ImportedTexts, Skip,
};
use perfleak::kb::{parse_catalogue, Catalogue, KbArticle};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kb");
const MODERN_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kb_modern");

fn shared_kb() -> Option<PathBuf> {
    let dir = Path::new(SHARED).join("kb");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

fn import_file(path: &Path) -> Imported {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    import_text(&text, &path.display().to_string()).expect("article layout")
}

fn entry(path: &Path) -> KbArticle {
    full_entry(path).article
}

fn full_entry(path: &Path) -> ImportedArticle {
    match import_file(path) {
        Imported::Entry(entry) => *entry,
        other => panic!("{}: expected an entry, got {other:?}", path.display()),
    }
}

fn skip_of(path: &Path) -> Skip {
    match import_file(path) {
        Imported::Skipped { why, .. } => why,
        Imported::Entry(entry) => panic!("{}: expected a skip, got {entry:?}", path.display()),
    }
}

fn modern_kb() -> Option<PathBuf> {
    let dir = shared_kb()?.join("modern");
    if dir.join("leak").is_dir() && dir.join("other").is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} (leak/, other/) is absent", dir.display());
        None
    }
}

#[test]
fn seed_article_q192265() {
    let Some(kb) = shared_kb() else { return };
    let a = entry(&kb.join("Q192265.txt"));
    assert_eq!(a.id, "Q192265");
    assert_eq!(a.processes, vec!["winlogon"]);
    let counters: BTreeSet<&str> = a.counters.iter().map(String::as_str).collect();
    assert_eq!(counters, BTreeSet::from(["handle_count", "private_bytes"]));
    assert!(
        a.corroborating_objects.iter().any(|o| o == "SMTPSVC"),
        "{:?}",
        a.corroborating_objects
    );
    assert!(a.fix.contains("Windows NT 4.0 SP4"), "{}", a.fix);
    assert_eq!(a.versions, vec!["4.0"]);
    assert_eq!(a.products, vec!["Windows NT"]);
}

#[test]
fn seed_article_q260554() {
    let Some(kb) = shared_kb() else { return };
    let a = entry(&kb.join("Q260554.txt"));
    assert_eq!(a.id, "Q260554");
    assert_eq!(a.processes, vec!["async"]);
    assert_eq!(a.counters, vec!["private_bytes"]);
    assert_eq!(a.fix, "Exchange Server 5.5 SP4");
    assert_eq!(
        a.corroborating_objects,
        vec!["MSExchangeMSMI"],
        "connector named -> its perfmon object"
    );
    assert!(
        a.title.starts_with("Microsoft Mail Connector"),
        "tag stripped: {}",
        a.title
    );
}

#[test]
fn synthetic_leak_article_with_crlf_lines() {
    let a = entry(&Path::new(FIXTURES).join("Q900001.txt"));
    assert_eq!(a.processes, vec!["ctrelay"]);
    let counters: BTreeSet<&str> = a.counters.iter().map(String::as_str).collect();
    assert_eq!(counters, BTreeSet::from(["handle_count", "private_bytes"]));
    assert_eq!(a.fix, "Windows NT 4.0 SP5");
    assert_eq!(a.versions, vec!["4.0", "4.0 SP4"]);
    assert!(
        a.conditions.iter().any(|c| c == "ctqueue.dll"),
        "{:?}",
        a.conditions
    );
    assert_eq!(a.corroborating_objects, vec!["MSExchangeIS"]);
}

#[test]
fn how_to_that_mentions_private_bytes_is_skipped() {
    let outcome = import_file(&Path::new(FIXTURES).join("Q900002.txt"));
    assert_eq!(
        outcome,
        Imported::Skipped {
            id: "Q900002".into(),
            why: Skip::NoLeak
        }
    );
}

#[test]
fn information_leak_is_not_a_resource_leak() {
    let outcome = import_file(&Path::new(FIXTURES).join("Q900003.txt"));
    assert_eq!(
        outcome,
        Imported::Skipped {
            id: "Q900003".into(),
            why: Skip::NoLeak
        }
    );
}

#[test]
fn api_leak_keeps_processes_empty_rather_than_inventing_one() {
    let a = entry(&Path::new(FIXTURES).join("Q900004.txt"));
    assert!(a.processes.is_empty(), "{:?}", a.processes);
    assert_eq!(a.counters, vec!["handle_count"]);
    assert_eq!(a.fix, "hotfix (before Windows NT 4.0 SP7)");
    assert!(
        a.conditions
            .iter()
            .any(|c| c.starts_with("OpenWidgetChannel()")),
        "{:?}",
        a.conditions
    );
}

#[test]
fn tagged_how_to_about_a_leak_is_a_guide_not_a_bug() {
    let text = "DOCUMENT:Q900005  01-JAN-2000  [iis]\r\nTITLE   :HOWTO: Isolate Inetinfo Leaks\r\n\
                PRODUCT :Microsoft IIS\r\nPROD/VER:winnt:4.0\r\nKEYWORDS:\r\n\r\nSUMMARY\r\n=======\r\n\r\n\
                Inetinfo.exe leaks memory when a bad ISAPI filter is loaded; here is how to find the filter.\r\n";
    let Imported::Entry(entry) = import_text(text, "howto.txt").expect("layout") else {
        panic!("a how-to about a leak is listed, as a guide");
    };
    assert_eq!(entry.facts.kind, ArticleKind::Guide);
    assert_eq!(entry.article.processes, vec!["inetinfo"]);
    assert_eq!(entry.facts.product_versions, vec!["IIS 4.0"]);
}

#[test]
fn how_to_that_mentions_a_leak_in_passing_is_skipped() {
    let text = "DOCUMENT:Q900008  01-JAN-2000  [iis]\r\nTITLE   :HOWTO: Create a Counter Log\r\n\
                PRODUCT :Microsoft IIS\r\nPROD/VER:winnt:4.0\r\nKEYWORDS:\r\n\r\nSUMMARY\r\n=======\r\n\r\n\
                Counter logs record Processor and Memory counters. A slow rise in Private Bytes \
                may indicate a memory leak.\r\n";
    assert_eq!(
        import_text(text, "howto.txt").expect("layout"),
        Imported::Skipped {
            id: "Q900008".into(),
            why: Skip::NoLeak
        }
    );
}

/// A classic article in the archive's layout with the given title and symptoms.
fn classic(id: &str, title: &str, symptoms: &str) -> String {
    format!(
        "DOCUMENT:{id}  04-MAY-2001  [exchange]\r\nTITLE   :XADM: {title}\r\n\
         PRODUCT :Microsoft Exchange\r\nPROD/VER:winnt:5.5\r\nKEYWORDS:kbExchange550sp4Fix\r\n\r\n\
         SYMPTOMS\r\n========\r\n\r\n{symptoms}\r\n\r\nSTATUS\r\n======\r\n\r\n\
         Microsoft has confirmed this to be a problem in Exchange Server 5.5.\r\n"
    )
}

#[test]
fn classic_steady_growth_without_the_word_leak_is_a_leak_article() {
    let text = classic(
        "Q900006",
        "Directory Service Slows Down After Several Days",
        "On a busy server, the memory used by Dsxyz.exe increases steadily while\r\n\
         replication runs, and grows until the server must be restarted.",
    );
    let Imported::Entry(entry) = import_text(&text, "growth.txt").expect("layout") else {
        panic!("steady growth of a process's memory is a leak article");
    };
    assert_eq!(entry.article.processes, vec!["dsxyz"]);
    assert_eq!(entry.article.counters, vec!["private_bytes"]);
    assert_eq!(entry.article.fix, "Exchange Server 5.5 SP4");
    assert_eq!(entry.facts.kind, ArticleKind::Bug);
    assert_eq!(entry.facts.product_versions, vec!["Exchange Server 5.5"]);

    let handles = classic(
        "Q900009",
        "Message Transfer Agent Stops Responding",
        "The handle count of Emsxyz.exe keeps climbing and is never released; the\r\n\
         service eventually runs out of handles.",
    );
    let Imported::Entry(entry) = import_text(&handles, "handles.txt").expect("layout") else {
        panic!("handles never released are a leak");
    };
    assert_eq!(entry.article.processes, vec!["emsxyz"]);
    assert_eq!(entry.article.counters, vec!["handle_count"]);
}

#[test]
fn classic_growing_log_file_or_capped_cache_is_not_a_leak() {
    let log = classic(
        "Q900007",
        "Tracking Log Grows Until the Disk Is Full",
        "The message tracking log file of Emsxyz.exe grows steadily until the disk\r\n\
         space on the drive is used up.",
    );
    assert!(
        matches!(
            import_text(&log, "log.txt").expect("layout"),
            Imported::Skipped {
                why: Skip::NoLeak,
                ..
            }
        ),
        "a file that grows on disk is no leak"
    );
    let cache = classic(
        "Q900010",
        "Directory Cache Uses 512 MB of Memory",
        "The memory used by Dsxyz.exe increases steadily until it reaches the configured\r\n\
         limit of the directory cache, 512 MB.",
    );
    assert!(
        matches!(
            import_text(&cache, "cache.txt").expect("layout"),
            Imported::Skipped {
                why: Skip::NoLeak,
                ..
            }
        ),
        "a cache held to its configured ceiling is no leak"
    );
}

#[test]
fn markdown_bug_article_front_matter_sections_and_fix() {
    let e = full_entry(&Path::new(MODERN_FIXTURES).join("contoso-pool-worker-private-bytes.md"));
    let a = &e.article;
    assert_eq!(a.id, "KB5900001", "the Original KB number");
    assert_eq!(
        a.title,
        "The W3wp.exe worker process memory keeps growing when the Contoso pool module is loaded"
    );
    assert_eq!(a.processes, vec!["w3wp"]);
    assert_eq!(a.counters, vec!["private_bytes"]);
    assert_eq!(
        a.fix,
        "update KB5900002 + configuration change (PoolBufferCache)"
    );
    assert!(
        a.conditions.iter().any(|c| c == "event 5117"),
        "{:?}",
        a.conditions
    );
    assert_eq!(e.facts.kind, ArticleKind::Bug);
    assert_eq!(e.facts.windows, vec!["2019", "2022"]);
    assert_eq!(e.facts.product_versions, vec!["IIS 10.0"]);
    assert_eq!(e.facts.fix_releases, vec!["KB5900002"]);
    assert_eq!(e.facts.date, "03/14/2024");
    assert!(!e.facts.system);
    assert!(
        a.versions.contains(&"Windows Server 2019".to_string()),
        "{:?}",
        a.versions
    );
    // Links lose their address, tables and code blocks are no prose.
    assert!(!a.title.contains("http") && !a.fix.contains("http"));
}

#[test]
fn markdown_event_2020_article_is_a_paged_pool_leak_of_the_kernel() {
    let e = full_entry(&Path::new(MODERN_FIXTURES).join("fabrikam-srv-event-2020.md"));
    assert!(e.article.processes.is_empty());
    assert_eq!(e.article.counters, vec!["pool_paged"]);
    assert!(e.facts.system, "no process: the system-wide pool shows it");
    assert!(
        e.article.conditions.iter().any(|c| c == "pool tag Fab1"),
        "{:?}",
        e.article.conditions
    );
    assert!(
        e.article.id.starts_with("event-id-2020"),
        "slug: {}",
        e.article.id
    );
}

#[test]
fn markdown_guide_is_kind_guide() {
    let e = full_entry(&Path::new(MODERN_FIXTURES).join("northwind-handle-growth-guide.md"));
    assert_eq!(e.facts.kind, ArticleKind::Guide);
    assert_eq!(e.article.processes, vec!["nwagent"]);
    assert_eq!(e.article.counters, vec!["handle_count"]);
    assert!(
        e.article.fix.starts_with("troubleshooting guide"),
        "{}",
        e.article.fix
    );
}

#[test]
fn markdown_disk_file_growth_is_not_a_leak_and_a_capped_cache_is_by_design() {
    let file = skip_of(&Path::new(MODERN_FIXTURES).join("tailspin-database-file-grows.md"));
    assert!(
        matches!(file, Skip::NoLeak | Skip::NoProcessOrCounter),
        "{file:?}"
    );
    // Growth to a configured ceiling is kept only as a by-design signature, which argues
    // against leak articles for the same process.
    let cache = full_entry(&Path::new(MODERN_FIXTURES).join("wingtip-cache-ceiling.md"));
    assert!(cache.article.by_design, "{cache:?}");
}

#[test]
fn markdown_folder_import_passes_over_notes_without_front_matter() {
    let imported: ImportedTexts =
        import_paths(&[PathBuf::from(MODERN_FIXTURES)]).expect("markdown folder imports");
    let ids: Vec<&str> = imported.articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(!ids.iter().any(|id| id.contains("tailspin")), "{ids:?}");
    assert_eq!(imported.facts.len(), imported.articles.len());
    assert_eq!(imported.passed_over.len(), 1);
    assert!(imported.passed_over[0].ends_with("README.md"));
    // The catalogue TOML of Markdown entries reads back.
    let toml = perfleak::kb::to_catalogue_toml(&imported.articles).expect("toml");
    let back = parse_catalogue(&toml, "imported.toml").expect("reads back");
    assert_eq!(back, imported.articles);
}

#[test]
fn folder_import_round_trips_through_catalogue_toml() {
    let articles = import_paths(&[PathBuf::from(FIXTURES)])
        .expect("fixtures import")
        .articles;
    let ids: Vec<&str> = articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, vec!["Q900001", "Q900004"]);
    let toml = perfleak::kb::to_catalogue_toml(&articles).expect("toml");
    let back = parse_catalogue(&toml, "imported.toml").expect("imported TOML reads back");
    assert_eq!(back, articles);
    let json = serde_json::to_value(&articles).expect("json");
    for field in [
        "id",
        "title",
        "products",
        "versions",
        "processes",
        "counters",
        "conditions",
        "corroborating_objects",
        "fix",
        "source",
    ] {
        assert!(json[0].get(field).is_some(), "JSON lacks {field}");
    }
}

#[test]
fn extra_folder_adds_articles_on_top_of_builtin() {
    let builtin = Catalogue::builtin().articles.len();
    let catalogue = Catalogue::with_extra(&[PathBuf::from(FIXTURES)]).expect("extra kb");
    assert_eq!(catalogue.articles.len(), builtin + 2);
    assert!(catalogue.get("Q900001").is_some());
    let missing = Catalogue::with_extra(&[PathBuf::from("/nonexistent/kb")]).unwrap_err();
    assert!(missing.to_string().contains("/nonexistent/kb"), "{missing}");
}

/// Kernel-only pool leaks of the archive that `../shared/research/kb-notes.md` lists: leak
/// articles the catalogue leaves out because no process shows them. The importer keeps them
/// (with `system` set), so they count as right when scoring against the catalogue.
const KERNEL_ONLY_LEAKS: [&str; 23] = [
    "Q115281", "Q131778", "Q133384", "Q145906", "Q150833", "Q164925", "Q171180", "Q171996",
    "Q174764", "Q195541", "Q216108", "Q224547", "Q226513", "Q235425", "Q244509", "Q248747",
    "Q257626", "Q262479", "Q265096", "Q268835", "Q284215", "Q315817", "Q317151",
];

/// Precision and recall of the importer on the classic collection (`archive` + `other`):
/// which articles it keeps, scored against the catalogue's entries (and against them plus the
/// research notes' kernel-only pool leaks), and the processes and counters of the ones both
/// keep. Prints the figures (`cargo test --test cli kb_import::importer_precision --
/// --nocapture`).
#[test]
fn importer_precision_and_recall_against_catalogue() {
    let Some(kb) = shared_kb() else { return };
    let folders = [kb.join("archive"), kb.join("other")];
    if !folders.iter().all(|f| f.is_dir()) {
        eprintln!("skipped: archive/ or other/ absent");
        return;
    }
    let mut files: BTreeSet<String> = BTreeSet::new();
    let mut in_other: BTreeSet<String> = BTreeSet::new();
    for folder in &folders {
        for entry in std::fs::read_dir(folder).expect("folder") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .to_ascii_uppercase();
            if let Some(id) = name.strip_suffix(".TXT") {
                files.insert(id.to_string());
                if folder.ends_with("other") {
                    in_other.insert(id.to_string());
                }
            }
        }
    }
    let started = Instant::now();
    let imported = import_paths(&folders).expect("archive imports");
    let elapsed = started.elapsed();
    let entries = imported.entries();
    let imported = imported.articles;

    let catalogue = Catalogue::builtin();
    let truth: Vec<&KbArticle> = catalogue
        .articles
        .iter()
        .filter(|a| files.contains(&a.id))
        .collect();
    let truth_ids: BTreeSet<&str> = truth.iter().map(|a| a.id.as_str()).collect();
    let got_ids: BTreeSet<&str> = imported.iter().map(|a| a.id.as_str()).collect();
    let hits = truth_ids.intersection(&got_ids).count() as f64;
    let precision = hits / got_ids.len() as f64;
    let recall = hits / truth_ids.len() as f64;
    let with_kernel: BTreeSet<&str> = truth_ids
        .iter()
        .copied()
        .chain(
            KERNEL_ONLY_LEAKS
                .iter()
                .copied()
                .filter(|id| files.contains(*id)),
        )
        .collect();
    let kernel_hits = with_kernel.intersection(&got_ids).count() as f64;
    let kernel_precision = kernel_hits / got_ids.len() as f64;
    let kernel_recall = kernel_hits / with_kernel.len() as f64;

    let field_scores = |field: fn(&KbArticle) -> &Vec<String>| {
        let (mut both, mut got, mut want) = (0usize, 0usize, 0usize);
        for t in &truth {
            let Some(i) = imported.iter().find(|a| a.id == t.id) else {
                continue;
            };
            let a: BTreeSet<&String> = field(i).iter().collect();
            let b: BTreeSet<&String> = field(t).iter().collect();
            both += a.intersection(&b).count();
            got += a.len();
            want += b.len();
        }
        (
            both as f64 / got.max(1) as f64,
            both as f64 / want.max(1) as f64,
        )
    };
    let (proc_p, proc_r) = field_scores(|a| &a.processes);
    let (ctr_p, ctr_r) = field_scores(|a| &a.counters);
    let count =
        |want: &dyn Fn(&ImportedArticle) -> bool| entries.iter().filter(|e| want(e)).count();
    println!(
        "kb import (classic): {} files, {} imported, catalogue has {} of them; {:.0} ms (this build)",
        files.len(),
        got_ids.len(),
        truth_ids.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    println!("  articles:  precision {precision:.2}  recall {recall:.2} (against the catalogue)");
    println!(
        "  articles:  precision {kernel_precision:.2}  recall {kernel_recall:.2} (catalogue + {} kernel-only pool leaks of the research notes)",
        with_kernel.len() - truth_ids.len()
    );
    println!("  processes: precision {proc_p:.2}  recall {proc_r:.2}");
    println!("  counters:  precision {ctr_p:.2}  recall {ctr_r:.2}");
    println!(
        "  imported: {} bugs with a process, {} with none, {} kernel (system), {} guides; {} from other/",
        count(&|e| e.facts.kind == ArticleKind::Bug && !e.article.processes.is_empty()),
        count(&|e| e.facts.kind == ArticleKind::Bug
            && e.article.processes.is_empty()
            && !e.facts.system),
        count(&|e| e.facts.kind == ArticleKind::Bug && e.facts.system),
        count(&|e| e.facts.kind == ArticleKind::Guide),
        got_ids.iter().filter(|id| in_other.contains(**id)).count()
    );
    let missed: Vec<&&str> = truth_ids.difference(&got_ids).collect();
    println!("  catalogue articles not imported: {missed:?}");

    assert!(recall >= 0.95, "article recall {recall:.2}");
    assert!(
        kernel_precision >= 0.60,
        "article precision {kernel_precision:.2}"
    );
    assert!(
        proc_p >= 0.92 && proc_r >= 0.82,
        "processes {proc_p:.2}/{proc_r:.2}"
    );
    assert!(
        ctr_p >= 0.90 && ctr_r >= 0.90,
        "counters {ctr_p:.2}/{ctr_r:.2}"
    );
}

#[test]
fn truncated_and_mangled_articles_never_panic() {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join("Q900001.txt")).expect("fixture");
    let mut cut = 0;
    while cut < text.len() {
        if text.is_char_boundary(cut) {
            // Either an entry, a skip, or an error naming the file: never a panic.
            if let Err(e) = import_text(&text[..cut], "cut.txt") {
                assert!(e.to_string().starts_with("cut.txt:"), "{e}");
            }
        }
        cut += 37;
    }
    let mangled = text
        .replace("=", "")
        .replace(".", "\u{e9}.")
        .replace("\r\n", "\n\u{ff}");
    let _ = import_text(&mangled, "mangled.txt");
}

#[test]
fn truncated_and_mangled_markdown_never_panics() {
    let text = std::fs::read_to_string(
        Path::new(MODERN_FIXTURES).join("contoso-pool-worker-private-bytes.md"),
    )
    .expect("fixture");
    for cut in (0..text.len()).step_by(23) {
        if text.is_char_boundary(cut) {
            if let Err(e) = import_text(&text[..cut], "cut.md") {
                assert!(e.to_string().starts_with("cut.md:"), "{e}");
            }
        }
    }
    // Unclosed links, fences and front matter, stray brackets, entities and non-ASCII text.
    for mangled in [
        text.replace(')', ""),
        text.replace(']', ""),
        text.replace("```", "``"),
        text.replacen("---", "", 2),
        text.replace(' ', "\u{a0}[&"),
        text.replace('.', "\u{e9}!["),
        format!("---\ntitle: x\n{}", text.replace('\n', "\r\n")),
    ] {
        let _ = import_text(&mangled, "mangled.md");
    }
}

#[test]
fn modern_w3wp_article_names_w3wp_and_private_bytes() {
    let Some(modern) = modern_kb() else { return };
    let e = full_entry(&modern.join("leak/exchange2010-w3wp-default-apppool-memory-handles.md"));
    assert_eq!(e.article.id, "KB3007848");
    assert_eq!(e.article.processes, vec!["w3wp"]);
    let counters: BTreeSet<&str> = e.article.counters.iter().map(String::as_str).collect();
    assert_eq!(counters, BTreeSet::from(["handle_count", "private_bytes"]));
    assert_eq!(e.facts.kind, ArticleKind::Bug);
    assert_eq!(e.facts.product_versions, vec!["Exchange Server 2010"]);
}

#[test]
fn modern_event_2020_article_is_paged_pool() {
    let Some(modern) = modern_kb() else { return };
    let e = full_entry(&modern.join("leak/srv-event-2020-paged-pool-empty.md"));
    assert_eq!(e.article.id, "KB312362");
    assert_eq!(e.article.counters, vec!["pool_paged"]);
    assert!(e.article.processes.is_empty() && e.facts.system);
    assert_eq!(e.facts.windows, vec!["2012 R2"]);
    assert!(
        e.article.fix.contains("PoolUsageMaximum"),
        "{}",
        e.article.fix
    );
}

#[test]
fn modern_guides_are_guides_and_bugs_are_bugs() {
    let Some(modern) = modern_kb() else { return };
    for guide in [
        "leak/wmi-performance-memory-handle-leak-scenario-guide.md",
        "leak/troubleshoot-application-service-memory-leaks.md",
        "leak/iis7-native-memory-leak-app-pool.md",
    ] {
        assert_eq!(
            full_entry(&modern.join(guide)).facts.kind,
            ArticleKind::Guide,
            "{guide}"
        );
    }
    let wmi = full_entry(&modern.join("leak/wmi-performance-memory-handle-leak-scenario-guide.md"));
    let images: BTreeSet<&str> = wmi.article.processes.iter().map(String::as_str).collect();
    assert_eq!(images, BTreeSet::from(["svchost", "wmiprvse"]));
    for bug in [
        "leak/refs-heavy-memory-usage.md",
        "leak/winforms-settooltip-memory-not-released.md",
    ] {
        assert_eq!(
            full_entry(&modern.join(bug)).facts.kind,
            ArticleKind::Bug,
            "{bug}"
        );
    }
    let refs = full_entry(&modern.join("leak/refs-heavy-memory-usage.md"));
    assert_eq!(refs.facts.fix_releases, vec!["KB4013429"]);
    assert_eq!(refs.facts.windows, vec!["2016", "2019"]);
}

#[test]
fn modern_growing_files_and_by_design_limits_are_not_leaks() {
    let Some(modern) = modern_kb() else { return };
    for negative in [
        "other/sql2022-inmemory-oltp-log-file-grows.md",
        "other/hyperv-checkpoints-rapid-disk-consumption.md",
        "other/windows-edb-larger-than-expected-pst.md",
        "other/wmi-arbitrator-new-behavior.md",
        "other/azure-vm-bugcheck-0x19-bad-pool-header.md",
        "other/tcpip-default-dynamic-port-range.md",
    ] {
        if let Imported::Entry(entry) = import_file(&modern.join(negative)) {
            panic!("{negative}: not a leak article, imported as {entry:?}");
        }
    }
}

/// The labels and the reader's index of the modern collection (`index.tsv`): per file, its
/// label and the processes and counters it concerns.
struct IndexRow {
    file: String,
    leak: bool,
    processes: BTreeSet<String>,
    counters: BTreeSet<String>,
}

fn modern_index(modern: &Path) -> Vec<IndexRow> {
    let text = std::fs::read_to_string(modern.join("index.tsv")).expect("index.tsv");
    let list = |cell: &str| -> BTreeSet<String> {
        cell.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            (cells.len() >= 6).then(|| IndexRow {
                file: cells[0].to_string(),
                leak: cells[3] == "leak",
                processes: list(cells[4]),
                counters: list(cells[5]),
            })
        })
        .collect()
}

/// Precision and recall of the importer on the modern collection (`modern/leak` against
/// `modern/other`), and how well it reads the processes and counters of the leak articles
/// against the reader's index. Prints the figures
/// (`cargo test --test cli kb_import::modern_ -- --nocapture`).
#[test]
fn modern_precision_recall_and_field_accuracy() {
    let Some(modern) = modern_kb() else { return };
    let index = modern_index(&modern);
    assert!(index.len() >= 100, "{} index rows", index.len());
    let started = Instant::now();
    let imported = import_paths(&[modern.join("leak"), modern.join("other")]).expect("imports");
    let elapsed = started.elapsed();
    let entries = imported.entries();
    let by_file = |file: &str| {
        entries
            .iter()
            .find(|e| Path::new(&e.article.source).ends_with(file))
    };
    let leaks: Vec<&IndexRow> = index.iter().filter(|r| r.leak).collect();
    let found = leaks.iter().filter(|r| by_file(&r.file).is_some()).count();
    let false_hits: Vec<&str> = index
        .iter()
        .filter(|r| !r.leak && by_file(&r.file).is_some())
        .map(|r| r.file.as_str())
        .collect();
    let precision = found as f64 / entries.len().max(1) as f64;
    let recall = found as f64 / leaks.len() as f64;

    // Fields, on the leak articles imported; counters the catalogue has no key for
    // (committed_bytes) are left out of the index's side.
    let keys: BTreeSet<&str> = perfleak::kb::COUNTER_KEYS.iter().map(|(k, _)| *k).collect();
    let (mut p_both, mut p_got, mut p_want, mut c_both, mut c_want) = (0, 0, 0, 0, 0);
    for row in &leaks {
        let Some(e) = by_file(&row.file) else {
            continue;
        };
        let got: BTreeSet<String> = e.article.processes.iter().cloned().collect();
        p_both += got.intersection(&row.processes).count();
        p_got += got.len();
        p_want += row.processes.len();
        let want: BTreeSet<&String> = row
            .counters
            .iter()
            .filter(|c| keys.contains(c.as_str()))
            .collect();
        c_both += want
            .iter()
            .filter(|c| e.article.counters.contains(c))
            .count();
        c_want += want.len();
    }
    let ratio = |a: usize, b: usize| a as f64 / b.max(1) as f64;
    let guides = entries
        .iter()
        .filter(|e| e.facts.kind == ArticleKind::Guide)
        .count();
    println!(
        "kb import (modern): {} files, {} imported ({} guides); {:.0} ms (this build)",
        index.len(),
        entries.len(),
        guides,
        elapsed.as_secs_f64() * 1000.0
    );
    println!(
        "  articles:  precision {precision:.2}  recall {recall:.2} ({found} of {} leak articles)",
        leaks.len()
    );
    println!(
        "  processes: precision {:.2}  recall {:.2} (against index.tsv)",
        ratio(p_both, p_got),
        ratio(p_both, p_want)
    );
    println!("  counters:  recall {:.2}", ratio(c_both, c_want));
    let missed: Vec<&str> = leaks
        .iter()
        .filter(|r| by_file(&r.file).is_none())
        .map(|r| r.file.as_str())
        .collect();
    println!("  leak articles not imported: {missed:?}");
    println!("  other articles imported: {false_hits:?}");

    assert!(recall >= 0.85, "article recall {recall:.2}");
    assert!(precision >= 0.85, "article precision {precision:.2}");
    assert!(ratio(p_both, p_got) >= 0.85, "process precision");
    assert!(ratio(c_both, c_want) >= 0.75, "counter recall");
}

#[test]
fn a_folder_added_with_kb_keeps_each_texts_kind_and_windows() {
    // `--kb DIR` of article texts: what the importer read of each text (a guide by its layout,
    // the Windows versions it names) reaches the matcher's catalogue, not only title words.
    let imported = import_paths(&[PathBuf::from(MODERN_FIXTURES)]).expect("imports");
    let catalogue =
        Catalogue::with_extra(&[PathBuf::from(MODERN_FIXTURES)]).expect("the folder reads");
    assert!(!imported.articles.is_empty());
    for (article, facts) in imported.articles.iter().zip(&imported.facts) {
        let meta = catalogue.meta_of(&article.id);
        assert_eq!(meta.kind, facts.kind, "{}", article.id);
        assert_eq!(meta.windows, facts.windows, "{}", article.id);
    }
    assert!(imported.facts.iter().any(|f| f.kind == ArticleKind::Guide));
    assert!(imported.facts.iter().any(|f| !f.windows.is_empty()));
}

#[test]
fn imported_catalogue_toml_keeps_kind_and_windows() {
    let imported = import_paths(&[PathBuf::from(MODERN_FIXTURES)]).expect("imports");
    let toml = imported.to_catalogue_toml().expect("toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("imported.toml");
    std::fs::write(&path, &toml).expect("write");
    let catalogue = Catalogue::with_extra(&[path]).expect("the catalogue reads it back");
    let bug = catalogue.meta_of("KB5900001");
    assert_eq!(bug.kind, ArticleKind::Bug);
    assert_eq!(bug.windows, vec!["2019", "2022"]);
    let guide_id = &imported.articles[imported
        .facts
        .iter()
        .position(|f| f.kind == ArticleKind::Guide)
        .expect("a guide")]
    .id;
    assert_eq!(catalogue.meta_of(guide_id).kind, ArticleKind::Guide);
    // The facts give the catalogue's meta directly, for texts added with --kb.
    assert_eq!(imported.facts[0].meta().windows, imported.facts[0].windows);
}
