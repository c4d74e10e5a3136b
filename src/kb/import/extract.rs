//! One article's text (either layout) -> a catalogue entry and its facts, or the reason it
//! is skipped.

use super::eras::{releases_in, Releases};
use super::fix::{fix_text, modern_fix, product_names, versions};
use super::known::KnownNames;
use super::layout::{parse, sentences, Parsed};
use super::markdown::{looks_like_markdown, parse_markdown};
use super::names::{
    conditions, event_ids, find_counters, find_processes, implied_counters, objects_named,
};
use super::sentences::{
    classify, denies_leak, is_growth_sentence, is_leak_sentence, is_usage_title,
    tells_resource_rise, Says,
};
use super::{ArticleFacts, ArticleKind, Imported, ImportedArticle, Skip};
use crate::kb::KbArticle;

/// Product tags of developer tools and libraries: their leak articles are about the reader's
/// own program, which has no fixed image name.
pub(super) const DEVELOPER_TAGS: [&str; 10] = [
    "vbwin", "visualc", "foxpro", "odbc", "vfp", "msdn", "access", "vbscript", "oledb", "sdk",
];

pub(super) fn import_with(
    text: &str,
    origin: &str,
    known: &KnownNames,
) -> Result<Imported, super::ImportError> {
    let parsed = if looks_like_markdown(text) {
        parse_markdown(text, origin)?
    } else {
        parse(text, origin)?
    };
    Ok(read_article(&parsed, origin, known))
}

/// The sentences of an article, lower case, with what each says.
struct Reading {
    /// Title (and a Markdown article's description) first, then the problem sections.
    sentences: Vec<(String, Says)>,
    /// How many of `sentences` are the title's.
    title_count: usize,
}

impl Reading {
    fn new(parsed: &Parsed) -> Reading {
        let mut head = parsed.title.clone();
        let description = parsed.section("DESCRIPTION");
        if !description.is_empty() {
            head.push('\n');
            head.push_str(description);
        }
        let said = |s: &str| {
            let lower = s.to_ascii_lowercase();
            let says = classify(&lower);
            (lower, says)
        };
        let mut read: Vec<(String, Says)> = sentences(&head).into_iter().map(said).collect();
        let title_count = read.len();
        // The description was read with the title.
        let problem = parsed.problem_text_without("DESCRIPTION");
        read.extend(sentences(&problem).into_iter().map(said));
        Reading {
            sentences: read,
            title_count,
        }
    }

    fn any(&self, want: impl Fn(Says) -> bool) -> bool {
        self.sentences.iter().any(|(_, says)| want(*says))
    }

    fn title_says(&self, want: impl Fn(Says) -> bool) -> bool {
        self.sentences[..self.title_count]
            .iter()
            .any(|(_, says)| want(*says))
    }

    fn title_text_has(&self, want: impl Fn(&str) -> bool) -> bool {
        self.sentences[..self.title_count]
            .iter()
            .any(|(s, _)| want(s))
    }

    /// A bug must state the growth (a rise without "steadily" will do when the title is about
    /// memory or handle usage, unless the text denies a leak). A guide is a leak guide when
    /// its title is about leaks, growth or memory use, or its text keeps coming back to them.
    fn tells_of_leak(&self, kind: ArticleKind) -> bool {
        let usage_title = self.title_text_has(is_usage_title);
        let denied = self.sentences.iter().any(|(s, _)| denies_leak(s));
        match kind {
            ArticleKind::Bug => {
                // "Leak" as the name of a check or a tool, in a text that denies leaking.
                let only_leak_words = !self.any(|s| s.states_growth() && s != Says::Leak);
                (self.any(Says::states_growth) && !(denied && only_leak_words))
                    || (usage_title && !denied && self.any(|s| s == Says::Rise))
            }
            ArticleKind::Guide => {
                let guide_title = self.title_says(|s| s != Says::Nothing)
                    || usage_title
                    || self.title_text_has(|s| {
                        s.contains("out of memory") || s.contains("outofmemory")
                    });
                let mentions = self
                    .sentences
                    .iter()
                    .filter(|(_, s)| s.states_growth() || *s == Says::LeakTopic)
                    .count();
                (guide_title || mentions >= 3) && mentions >= 1
            }
        }
    }
}

fn read_article(parsed: &Parsed, origin: &str, known: &KnownNames) -> Imported {
    let id = parsed.id.clone();
    let skipped = |why| Imported::Skipped {
        id: id.clone(),
        why,
    };
    let title_lower = parsed.title.to_ascii_lowercase();
    let (tag, bare_title) = split_title_tag(&parsed.title);
    let kind = article_kind(parsed, &tag, &bare_title);
    let reading = Reading::new(parsed);
    // Growth the text calls expected is kept as a signature against leak articles, when it is
    // a resource's growth.
    let by_design = describes_by_design(parsed)
        && reading
            .sentences
            .iter()
            .any(|(s, _)| tells_resource_rise(s));
    let leak = reading.tells_of_leak(kind);
    if !leak && !by_design {
        return skipped(Skip::NoLeak);
    }
    if is_fix_list(&title_lower) {
        return skipped(Skip::FixList);
    }
    let strong = extraction_sentences(&reading);
    let problem_lower = format!(
        "{}\n{}",
        parsed.problem_text().to_ascii_lowercase(),
        parsed.code.to_ascii_lowercase()
    );
    let releases = article_releases(parsed);
    let mut processes = find_processes(&title_lower, &strong, known, parsed.markdown);
    if processes.is_empty() && parsed.markdown {
        // A product with one host process stands for it (ASP.NET: w3wp).
        processes.extend(
            known
                .product_hosts
                .iter()
                .filter(|h| releases.products.contains(&h.product))
                .map(|h| h.image.clone())
                .take(1),
        );
    }
    let (mut counters, stated_counter) = counters_of(&title_lower, &strong, &problem_lower);
    if processes.is_empty() && !stated_counter {
        return skipped(Skip::NoProcessOrCounter);
    }
    if processes.is_empty() && DEVELOPER_TAGS.contains(&parsed.tag.as_str()) {
        return skipped(Skip::DeveloperCode);
    }
    // Pool growth with no process is the kernel's: the system-wide counters show it.
    let system = processes.is_empty() && is_kernel_growth(&counters, &problem_lower);
    if counters.is_empty() {
        // A heap leak that names no counter shows first in the process's Private Bytes.
        counters.push("private_bytes".to_string());
    }
    let (fix, fix_releases) = fix_of(parsed, kind);
    let problem = parsed.problem_text();
    // The article type gains fields on another branch (kind, eras): they take their defaults
    // here until they are filled from `facts`.
    #[allow(clippy::needless_update)]
    let article = KbArticle {
        id: parsed.id.clone(),
        title: bare_title,
        products: if parsed.markdown {
            markdown_products(&releases)
        } else {
            product_names(&parsed.product)
        },
        versions: if parsed.markdown {
            markdown_versions(&releases)
        } else {
            versions(&parsed.prod_ver)
        },
        processes,
        counters,
        conditions: conditions_with_code(&problem, &parsed.code),
        corroborating_objects: objects_named(
            &format!("{}\n{problem}", parsed.title),
            known,
            parsed.markdown,
        ),
        fix,
        source: origin.to_string(),
        by_design,
        ..KbArticle::default()
    };
    let facts = ArticleFacts {
        kind,
        windows: releases.windows,
        product_versions: releases.product_versions,
        system,
        fix_releases,
        date: parsed.date.clone(),
    };
    Imported::Entry(Box::new(ImportedArticle { article, facts }))
}

/// The counter keys an article supports, and whether it says one plainly (named, or said as
/// plainly in other words: "handles", "ports", "memory usage keeps growing"). Counters said in
/// other words stand in when none is named; the server's pool events always count.
fn counters_of(title_lower: &str, strong: &[String], problem_lower: &str) -> (Vec<String>, bool) {
    let (mut counters, named_counter) = find_counters(title_lower, strong, problem_lower);
    let mut plainly_implied = false;
    let none_named = counters.is_empty();
    for (key, plain) in implied_counters(strong, problem_lower) {
        let pool_event = key.starts_with("pool_");
        if (none_named || pool_event) && !counters.contains(&key) {
            plainly_implied |= plain;
            counters.push(key);
        }
    }
    (counters, named_counter || plainly_implied)
}

/// The fix and the releases it names: a Markdown article's resolution, or the classic
/// STATUS / keyword release.
fn fix_of(parsed: &Parsed, kind: ArticleKind) -> (String, Vec<String>) {
    if parsed.markdown {
        return modern_fix(parsed, kind == ArticleKind::Guide);
    }
    let fix = fix_text(parsed);
    let releases = if fix.is_empty() || fix == "hotfix" || fix == "workaround only" {
        Vec::new()
    } else {
        vec![fix.clone()]
    };
    (fix, releases)
}

/// The conditions of the problem text, and the event ids its code and output blocks show
/// (sample code's calls are no condition of the problem).
fn conditions_with_code(problem: &str, code: &str) -> Vec<String> {
    let mut out = conditions(problem);
    for id in event_ids(&code.to_ascii_lowercase()) {
        let condition = format!("event {id}");
        if out.len() < 8 && !out.contains(&condition) {
            out.push(condition);
        }
    }
    out
}

/// Sentences that can name the leaking image or counter: what each says about growth, plus
/// usage and perfmon recipe lines ("Instance: csrss"); a bullet list introduced by such a
/// sentence ("The following services use ...:") belongs to it.
fn extraction_sentences(reading: &Reading) -> Vec<String> {
    let mut strong: Vec<String> = Vec::new();
    let mut in_list = false;
    for (lower, says) in &reading.sentences {
        let bullet = lower.starts_with("- ");
        let own = *says != Says::Nothing
            || is_leak_sentence(lower)
            || is_growth_sentence(lower)
            || lower.starts_with("instance")
            || lower.contains("counter")
            || lower.contains("performance monitor")
            || lower.contains("high memory")
            || lower.contains("high handle")
            || lower.contains("out of memory");
        if !bullet {
            in_list = own && lower.ends_with(':');
        }
        if own || (bullet && in_list) {
            strong.push(lower.clone());
        }
    }
    strong
}

fn is_fix_list(title_lower: &str) -> bool {
    const FIX_LIST: [&str; 16] = [
        "list of",
        "readme",
        "fix list",
        "fixlist",
        "fixes list",
        "bugs fixed",
        "release notes",
        "rollup",
        "post-sp",
        "post-service pack",
        "contents of",
        "fixed bugs",
        "confirmed bugs",
        "fixes in",
        "hotfixes",
        " srp",
    ];
    FIX_LIST.iter().any(|w| title_lower.contains(w))
}

/// A guide lists things to check or data to collect; a bug states one defect with its fix.
fn article_kind(parsed: &Parsed, tag: &str, bare_title: &str) -> ArticleKind {
    let title = bare_title.to_ascii_lowercase();
    let howto_tag = matches!(tag, "HOWTO" | "HOW TO" | "SAMPLE" | "DOC" | "INFO");
    let guide_words = [
        "how to",
        "troubleshoot",
        "guide",
        "things to check",
        "data capture",
        "capture data",
        "overview",
        "best practice",
        "checklist",
        "isolate",
    ];
    // The catalogue's guide title words (data/kb/aliases.toml) and the importer's own.
    let says_guide = howto_tag
        || crate::kb::Aliases::builtin().is_guide_title(bare_title)
        || guide_words.iter().any(|w| title.contains(w))
        || parsed.issue_type.to_ascii_lowercase().contains("kbhowto");
    // A Markdown article without Symptoms and Cause is not built as one bug.
    let bug_shape = !parsed.section("SYMPTOMS").is_empty() && !parsed.section("CAUSE").is_empty();
    if says_guide || (parsed.markdown && !bug_shape && parsed.section("RESOLUTION").is_empty()) {
        ArticleKind::Guide
    } else {
        ArticleKind::Bug
    }
}

/// Only pool or system-cache counters, or the text says the growth is the kernel's.
fn is_kernel_growth(counters: &[String], problem_lower: &str) -> bool {
    let pool_only = !counters.is_empty() && counters.iter().all(|c| c.starts_with("pool_"));
    pool_only
        || [
            "system cache",
            "cache manager",
            "kernel memory",
            "system working set",
        ]
        .iter()
        .any(|w| problem_lower.contains(w))
}

/// Windows eras and product versions: those the article says it applies to, else those its
/// title and problem text name.
fn article_releases(parsed: &Parsed) -> Releases {
    let mut head = format!("{}\n{}", parsed.prod_ver, parsed.title);
    if parsed.markdown {
        head.push('\n');
        head.push_str(parsed.section("DESCRIPTION"));
    } else {
        head.push('\n');
        head.push_str(&parsed.product);
    }
    let mut releases = releases_in(&head);
    if !parsed.markdown {
        releases.merge(classic_releases(parsed));
    }
    if releases.windows.is_empty() || releases.product_versions.is_empty() {
        let body = releases_in(&parsed.problem_text());
        if releases.windows.is_empty() {
            releases.windows = body.windows;
        }
        if releases.product_versions.is_empty() {
            releases.product_versions = body.product_versions;
            if releases.products.is_empty() {
                releases.products = body.products;
            }
        }
    }
    if releases.is_empty() {
        return Releases::default();
    }
    releases.sorted()
}

/// A Markdown article's products: Windows Server when it names server releases, then the
/// products it names.
fn markdown_products(releases: &Releases) -> Vec<String> {
    let server = releases.windows.iter().any(|w| !w.starts_with("NT "));
    let mut out: Vec<String> = Vec::new();
    if server {
        out.push("Windows Server".into());
    }
    out.extend(releases.products.iter().cloned());
    out
}

/// A Markdown article's versions, each with its product (a bare "2019" could be SQL Server's):
/// `Windows Server 2012 R2`, `IIS 7.0`.
fn markdown_versions(releases: &Releases) -> Vec<String> {
    let mut out: Vec<String> = releases
        .windows
        .iter()
        .map(|w| match w.strip_prefix("NT ") {
            Some(nt) => format!("Windows NT {nt}"),
            None if w == "2000" => "Windows 2000".to_string(),
            None => format!("Windows Server {w}"),
        })
        .collect();
    out.extend(releases.product_versions.iter().cloned());
    out
}

/// The classic header's product tag and `PROD/VER` versions as releases (`winnt` 4.0 ->
/// era NT 4.0, `exchange` 5.5 -> Exchange Server 5.5).
fn classic_releases(parsed: &Parsed) -> Releases {
    let product = match parsed.tag.as_str() {
        "winnt" => "Windows NT",
        "exchange" => "Exchange Server",
        "iis" => "IIS",
        "sna" => "SNA Server",
        "sms" => "SMS",
        _ => return Releases::default(),
    };
    let mut text = String::new();
    for v in versions(&parsed.prod_ver) {
        if v.starts_with(|c: char| c.is_ascii_digit()) {
            let release = v.split_whitespace().next().unwrap_or("");
            let windows_2000 = product == "Windows NT" && release.starts_with("5.0");
            if windows_2000 {
                text.push_str("Windows 2000; ");
            } else {
                text.push_str(&format!("{product} {release}; "));
            }
        }
    }
    let mut releases = releases_in(&text);
    if product == "SNA Server" || product == "SMS" {
        for v in versions(&parsed.prod_ver) {
            let item = format!("{product} {v}");
            if !releases.product_versions.contains(&item) {
                releases.product_versions.push(item);
            }
        }
    }
    releases
}

/// `XADM: Title` -> (`XADM`, `Title`); no tag -> (``, title).
pub(super) fn split_title_tag(title: &str) -> (String, String) {
    if let Some((tag, rest)) = title.split_once(':') {
        let tag = tag.trim();
        let is_tag = !tag.is_empty()
            && tag.len() <= 8
            && tag
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' ');
        if is_tag && !rest.trim().is_empty() {
            return (tag.to_string(), rest.trim().to_string());
        }
    }
    (String::new(), title.trim().to_string())
}

/// Behaviour the article calls expected, with no confirmed problem.
pub(super) fn describes_by_design(parsed: &Parsed) -> bool {
    let text =
        format!("{}\n{}", parsed.section("STATUS"), parsed.problem_text()).to_ascii_lowercase();
    let expected = text.contains("by design") || text.contains("expected behavior");
    expected
        && !text.contains("confirmed this to be a problem")
        && !text.contains("confirmed that this is a problem")
        && !text.contains("confirmed that it's a problem")
}
