//! The KB importer on the seed articles, on synthetic articles in the same layout, and measured
//! against the built-in catalogue over the whole archive.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use perfleak::kb::import::{import_paths, import_text, Imported, Skip};
use perfleak::kb::{parse_catalogue, Catalogue, KbArticle};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kb");

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
    match import_file(path) {
        Imported::Entry(entry) => entry.article,
        other => panic!("{}: expected an entry, got {other:?}", path.display()),
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
fn tagged_how_to_is_skipped_even_when_it_says_leak() {
    let text = "DOCUMENT:Q900005  01-JAN-2000  [iis]\r\nTITLE   :HOWTO: Isolate Inetinfo Leaks\r\n\
                PRODUCT :Microsoft IIS\r\nPROD/VER:winnt:4.0\r\nKEYWORDS:\r\n\r\nSUMMARY\r\n=======\r\n\r\n\
                Inetinfo.exe leaks memory when a bad ISAPI filter is loaded; here is how to find the filter.\r\n";
    let outcome = import_text(text, "howto.txt").expect("layout");
    assert_eq!(
        outcome,
        Imported::Skipped {
            id: "Q900005".into(),
            why: Skip::HowTo
        }
    );
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

/// Precision and recall of the importer against the catalogue's facts: which archive articles
/// it keeps, and the processes and counters of the ones both keep. Prints the figures
/// (`cargo test --test cli kb_import:: -- --nocapture`).
#[test]
fn importer_precision_and_recall_against_catalogue() {
    let Some(kb) = shared_kb() else { return };
    let folders = [kb.join("archive"), kb.join("other")];
    if !folders.iter().all(|f| f.is_dir()) {
        eprintln!("skipped: archive/ or other/ absent");
        return;
    }
    let mut files: BTreeSet<String> = BTreeSet::new();
    for folder in &folders {
        for entry in std::fs::read_dir(folder).expect("folder") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .to_ascii_uppercase();
            if let Some(id) = name.strip_suffix(".TXT") {
                files.insert(id.to_string());
            }
        }
    }
    let started = Instant::now();
    let imported = import_paths(&folders).expect("archive imports").articles;
    let elapsed = started.elapsed();

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
    println!(
        "kb import: {} files, {} imported, catalogue has {} of them; {:.0} ms (this build)",
        files.len(),
        got_ids.len(),
        truth_ids.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    println!("  articles:  precision {precision:.2}  recall {recall:.2}");
    println!("  processes: precision {proc_p:.2}  recall {proc_r:.2}");
    println!("  counters:  precision {ctr_p:.2}  recall {ctr_r:.2}");
    let missed: Vec<&&str> = truth_ids.difference(&got_ids).collect();
    println!("  catalogue articles not imported: {missed:?}");

    assert!(recall >= 0.92, "article recall {recall:.2}");
    assert!(precision >= 0.65, "article precision {precision:.2}");
    assert!(
        proc_p >= 0.92 && proc_r >= 0.82,
        "processes {proc_p:.2}/{proc_r:.2}"
    );
    assert!(
        ctr_p >= 0.92 && ctr_r >= 0.88,
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
