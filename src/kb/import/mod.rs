//! KB article texts in the classic plain-text layout (`DOCUMENT:Q...` header, `=`-underlined
//! sections, keyword footer) -> catalogue entries. Articles that describe no process leak are
//! skipped; images, counters and objects are only taken from what the text says.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rayon::prelude::*;

use super::{Aliases, Catalogue, KbArticle};

/// Why an article text was not turned into an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The text names no memory, handle or resource leak.
    NoLeak,
    /// A how-to, sample or documentation article (may mention leaks as a topic).
    HowTo,
    /// A leak is described, but neither a process image nor a perfmon counter is named.
    NoProcessOrCounter,
    /// A list of many fixes (service-pack fix lists, readmes, rollups), not one problem.
    FixList,
    /// Only kernel pool leaks in a driver or the kernel: no process shows it.
    KernelOnly,
    /// A leak in the reader's own program built with a developer product (no service image).
    DeveloperCode,
}

/// The outcome of reading one article text.
#[derive(Debug, Clone, PartialEq)]
pub enum Imported {
    Entry(Box<KbArticle>),
    Skipped { id: String, why: Skip },
}

/// Reads files and folders (recursively, files ending `.txt`) and returns the entries of the
/// articles that describe a leak, sorted by id. A file named directly must be an article;
/// in folders, files without the layout are passed over with a warning on stderr.
pub fn import_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<KbArticle>> {
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_texts(path, &mut files)?;
        } else if path.exists() {
            files.push((path.clone(), true));
        } else {
            bail!("{}: no such file or folder", path.display());
        }
    }
    let known = KnownNames::new();
    let results: Vec<anyhow::Result<Option<KbArticle>>> = files
        .par_iter()
        .map(|(file, named)| {
            let bytes =
                std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
            let text = decode(&bytes);
            let origin = file.display().to_string();
            if !looks_like_article(&text) {
                if *named {
                    bail!("{origin}:1:1: not a KB article text (expected a 'DOCUMENT:Q...' first line)");
                }
                eprintln!("perfleak: {origin}: not a KB article text, skipped");
                return Ok(None);
            }
            match import_with(&text, &origin, &known)? {
                Imported::Entry(article) => Ok(Some(*article)),
                Imported::Skipped { .. } => Ok(None),
            }
        })
        .collect();
    let mut out = Vec::new();
    for result in results {
        if let Some(article) = result? {
            out.push(article);
        }
    }
    out.sort_by(|a, b| {
        id_number(&a.id)
            .cmp(&id_number(&b.id))
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

fn collect_texts(dir: &Path, out: &mut Vec<(PathBuf, bool)>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot read folder", dir.display()))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("{}: cannot read folder", dir.display()))?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_texts(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
        {
            out.push((path, false));
        }
    }
    Ok(())
}

/// The archive is ASCII; anything else is most likely a Windows code page.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.trim_start_matches('\u{feff}').to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

fn looks_like_article(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_start().starts_with("DOCUMENT:"))
}

fn id_number(id: &str) -> u64 {
    id.trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .unwrap_or(u64::MAX)
}

/// Reads one article text; `origin` names it in messages and becomes the entry's `source`.
pub fn import_text(text: &str, origin: &str) -> anyhow::Result<Imported> {
    import_with(text, origin, &KnownNames::new())
}

/// Image, object and service names the importer may recognise without a `.exe`: the built-in
/// catalogue's and the alias tables'.
struct KnownNames {
    images: Vec<String>,
    objects: Vec<String>,
    services: Vec<(String, String)>,
    /// (component name as articles say it, lower case) -> perfmon object.
    object_names: Vec<(String, String)>,
}

/// Objects too common (or too generic a word) to say anything about one article.
const GENERIC_OBJECTS: [&str; 9] = [
    "Memory",
    "Objects",
    "Server",
    "Process",
    "System",
    "IP",
    "TCP",
    "Network Interface",
    "Thread",
];

/// Programs articles name as the way to observe or provoke a problem, not as the leaker.
const TOOLS: [&str; 24] = [
    "regedt32", "regedit", "poolmon", "pmon", "pviewer", "pview", "tlist", "taskmgr", "srvinfo",
    "dh", "umdh", "net", "cmd", "setup", "winmsd", "drwtsn32", "kill", "pstat", "qslice", "update",
    "hotfix", "oh", "sp4hfixi", "notepad",
];

/// Image names that are also everyday words ("services", "store", "explorer"): only a `.exe`
/// or "X process" mention counts for them.
const WORDLIKE_IMAGES: [&str; 10] = [
    "services", "store", "explorer", "async", "cron", "mad", "perfmon", "mmc", "dns", "system",
];

impl KnownNames {
    fn new() -> KnownNames {
        let builtin = Catalogue::builtin();
        let aliases = Aliases::builtin();
        let mut images: Vec<String> = Vec::new();
        let mut objects: Vec<String> = Vec::new();
        for article in &builtin.articles {
            images.extend(article.processes.iter().cloned());
            objects.extend(article.corroborating_objects.iter().cloned());
        }
        for group in &aliases.groups {
            images.extend(group.images.iter().cloned());
        }
        images.sort();
        images.dedup();
        objects.retain(|o| o.len() >= 3 && !GENERIC_OBJECTS.contains(&o.as_str()));
        objects.sort();
        objects.dedup();
        let services = aliases
            .services
            .iter()
            .flat_map(|s| {
                s.names
                    .iter()
                    .map(|n| (n.to_ascii_lowercase(), s.image.clone()))
            })
            .collect();
        let object_names = aliases
            .objects
            .iter()
            .flat_map(|o| {
                o.names
                    .iter()
                    .map(|n| (n.to_ascii_lowercase(), o.object.clone()))
            })
            .collect();
        KnownNames {
            images,
            objects,
            services,
            object_names,
        }
    }
}

/// The parts of an article the extraction reads.
struct Parsed {
    id: String,
    /// Product tag from the DOCUMENT line (`winnt`, `exchange`, `vbwin`, ...), lower case.
    tag: String,
    title: String,
    product: String,
    prod_ver: String,
    keywords: String,
    issue_type: String,
    /// (heading in upper case, paragraphs joined into single lines)
    sections: Vec<(String, String)>,
}

fn parse(text: &str, origin: &str) -> anyhow::Result<Parsed> {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let first = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let document = lines.get(first).map(|l| l.trim()).unwrap_or("");
    let Some(rest) = document.strip_prefix("DOCUMENT:") else {
        bail!(
            "{origin}:{}:1: not a KB article text (expected a 'DOCUMENT:Q...' line)",
            first + 1
        );
    };
    let id = rest.split_whitespace().next().unwrap_or("").to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("{origin}:{}:10: no article id after 'DOCUMENT:'", first + 1);
    }
    let tag = rest
        .split_once('[')
        .and_then(|(_, t)| t.split_once(']'))
        .map(|(t, _)| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let header = |key: &str| -> String {
        lines
            .iter()
            .take(first + 12)
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == key).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let title = header("TITLE");
    if title.is_empty() {
        bail!(
            "{origin}:{}:1: article {id} has no 'TITLE   :' line",
            first + 2
        );
    }
    let product = header("PRODUCT");
    let prod_ver = header("PROD/VER");
    let keywords = header("KEYWORDS");
    let issue_type = lines
        .iter()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "Issue type").then(|| v.trim().to_string())
        })
        .unwrap_or_default();

    // Body: from the first heading to the "Additional query words" line or the footer rule.
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let mut paragraph = String::new();
    let mut i = first + 1;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.starts_with("Additional query words")
            || trimmed.starts_with("Keywords          :")
        {
            break;
        }
        let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or("");
        let is_heading = !trimmed.is_empty()
            && next.len() >= 3
            && next.chars().all(|c| c == '=')
            && next.len() <= trimmed.len() + 2
            && trimmed.chars().any(|c| c.is_ascii_uppercase());
        if is_heading {
            if let Some((name, mut paras)) = current.take() {
                flush(&mut paragraph, &mut paras);
                sections.push((name, paras.join("\n")));
            }
            current = Some((trimmed.to_ascii_uppercase(), Vec::new()));
            i += 2;
            continue;
        }
        if let Some((_, paras)) = current.as_mut() {
            if trimmed.is_empty() || trimmed.chars().all(|c| c == '-' || c == '=') {
                flush(&mut paragraph, paras);
            } else {
                // Bullets and table rows stand alone; prose lines join into one paragraph.
                if trimmed.starts_with("- ") || trimmed.starts_with('|') || line.starts_with("   ")
                {
                    flush(&mut paragraph, paras);
                }
                if !paragraph.is_empty() {
                    paragraph.push(' ');
                }
                paragraph.push_str(trimmed);
            }
        }
        i += 1;
    }
    if let Some((name, mut paras)) = current.take() {
        flush(&mut paragraph, &mut paras);
        sections.push((name, paras.join("\n")));
    }
    Ok(Parsed {
        id,
        tag,
        title,
        product,
        prod_ver,
        keywords,
        issue_type,
        sections,
    })
}

fn flush(paragraph: &mut String, paras: &mut Vec<String>) {
    if !paragraph.is_empty() {
        paras.push(std::mem::take(paragraph));
    }
}

impl Parsed {
    fn section(&self, name: &str) -> &str {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_str())
            .unwrap_or("")
    }

    /// The sections that say what goes wrong (not how to fix it).
    fn problem_text(&self) -> String {
        let mut out = String::new();
        for (name, body) in &self.sections {
            if !matches!(name.as_str(), "RESOLUTION" | "STATUS" | "REFERENCES") {
                out.push_str(body);
                out.push('\n');
            }
        }
        out
    }
}

/// Splits prose into sentences (on `. `, `? `, `! ` and paragraph ends).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut start = 0;
        let bytes = para.as_bytes();
        for i in 0..bytes.len() {
            let end_mark = matches!(bytes[i], b'.' | b'?' | b'!')
                && bytes.get(i + 1).is_some_and(|b| *b == b' ')
                && bytes.get(i + 2).is_some_and(|b| b.is_ascii_uppercase());
            if end_mark {
                out.push(para[start..=i].trim());
                start = i + 1;
            }
        }
        let tail = para[start..].trim();
        if !tail.is_empty() {
            out.push(tail);
        }
    }
    out
}

/// Product tags of developer tools and libraries: their leak articles are about the reader's
/// own program, which has no fixed image name.
const DEVELOPER_TAGS: [&str; 10] = [
    "vbwin", "visualc", "foxpro", "odbc", "vfp", "msdn", "access", "vbscript", "oledb", "sdk",
];

/// Words that make "leak" about a computer resource.
const RESOURCE_WORDS: [&str; 14] = [
    "memory",
    "handle",
    "resource",
    "pool",
    "bytes",
    "heap",
    "thread",
    "virtual",
    "working set",
    "selector",
    "gdi",
    "object",
    "socket",
    "address space",
];

fn has_word(haystack: &str, word: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = haystack[from..].find(word) {
        let at = from + pos;
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + word.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
        if boundary(before) && boundary(after) {
            return true;
        }
        from = at + word.len();
    }
    false
}

/// A sentence (lower case) that says a resource leaks, and not in another sense of the word.
fn is_leak_sentence(lower: &str) -> bool {
    if !lower.contains("leak") {
        return false;
    }
    let other_sense = [
        "security leak",
        "information leak",
        "leak information",
        "leaks information",
        "leak of information",
        "leak sensitive",
        "password leak",
        "leak passwords",
        "leaks passwords",
        "leaked out",
        "light leak",
    ];
    if other_sense.iter().any(|w| lower.contains(w)) {
        return false;
    }
    // Sentences about looking for a leak do not say there is one.
    let searching = [
        "suspect a",
        "suspect that",
        "to find a",
        "to find the",
        "to detect",
        "troubleshoot",
        "to isolate",
        "diagnose",
        "track down",
        "determine whether",
        "determine if",
        "how to",
        "whether a",
        "whether the",
        "if you think",
    ];
    if searching.iter().any(|w| lower.contains(w)) {
        return false;
    }
    RESOURCE_WORDS.iter().any(|w| lower.contains(w))
        || lower.contains("leaks")
        || lower.contains("leaking")
        || lower.contains("leak in")
}

/// A sentence (lower case) that says memory or handles are taken and never given back, in
/// other words than "leak".
fn is_loss_sentence(lower: &str) -> bool {
    let loss = [
        "does not deallocate",
        "not deallocate",
        "fails to deallocate",
        "does not free",
        "not freed",
        "never freed",
        "never released",
        "does not release",
        "not released",
        "not closed",
        "never closed",
    ];
    loss.iter().any(|w| lower.contains(w))
        && ["memory", "handle", "pool"]
            .iter()
            .any(|w| lower.contains(w))
}

/// A sentence (lower case) that says a resource grows without being given back.
fn is_growth_sentence(lower: &str) -> bool {
    let growth = [
        "increase",
        "grow",
        "rise",
        "rising",
        "climb",
        "not freed",
        "not released",
        "not closed",
        "deallocate",
        "does not free",
        "does not release",
        "fails to release",
        "fail to release",
        "not be released",
        "excessive",
        "exhaust",
        "consum",
    ];
    growth.iter().any(|w| lower.contains(w)) && RESOURCE_WORDS.iter().any(|w| lower.contains(w))
}

fn import_with(text: &str, origin: &str, known: &KnownNames) -> anyhow::Result<Imported> {
    let parsed = parse(text, origin)?;
    let id = parsed.id.clone();
    let skipped = |why| {
        Ok(Imported::Skipped {
            id: id.clone(),
            why,
        })
    };

    let title_lower = parsed.title.to_ascii_lowercase();
    let (tag, bare_title) = split_title_tag(&parsed.title);
    let howto_tag = matches!(tag.as_str(), "HOWTO" | "HOW TO" | "SAMPLE" | "DOC" | "INFO");
    let howto = howto_tag
        || title_lower.starts_with("how to")
        || bare_title.to_ascii_lowercase().starts_with("how to")
        || parsed.issue_type.to_ascii_lowercase().contains("kbhowto");

    let problem = parsed.problem_text();
    let title_and_problem = format!("{}\n{}", parsed.title, problem);
    let all_sentences = sentences(&title_and_problem);
    let leak_sentences: Vec<String> = all_sentences
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .filter(|s| is_leak_sentence(s) || is_loss_sentence(s))
        .collect();
    let by_design = describes_by_design(&parsed);
    if howto && !by_design {
        return skipped(Skip::HowTo);
    }
    if leak_sentences.is_empty() && !by_design {
        return skipped(Skip::NoLeak);
    }
    let fix_list = [
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
    if fix_list.iter().any(|w| title_lower.contains(w)) {
        return skipped(Skip::FixList);
    }
    // Sentences that can name the leaking image or counter: leak or growth statements and the
    // perfmon recipe lines ("Instance: csrss").
    let mut strong: Vec<String> = Vec::new();
    // A bullet list introduced by a leak statement ("The following services use ...:")
    // belongs to that statement.
    let mut in_list = false;
    for sentence in &all_sentences {
        let lower = sentence.to_ascii_lowercase();
        let bullet = lower.starts_with("- ");
        let own = is_leak_sentence(&lower)
            || is_growth_sentence(&lower)
            || lower.starts_with("instance")
            || lower.contains("counter")
            || lower.contains("performance monitor");
        if !bullet {
            in_list = own && lower.ends_with(':');
        }
        if own || (bullet && in_list) {
            strong.push(lower);
        }
    }

    let processes = find_processes(&title_lower, &strong, known);
    let (mut counters, named_counter) =
        find_counters(&title_lower, &strong, &problem.to_ascii_lowercase());
    if processes.is_empty() && !named_counter {
        return skipped(Skip::NoProcessOrCounter);
    }
    if processes.is_empty() && DEVELOPER_TAGS.contains(&parsed.tag.as_str()) {
        return skipped(Skip::DeveloperCode);
    }
    if processes.is_empty()
        && counters.iter().all(|c| c.starts_with("pool_"))
        && !counters.is_empty()
    {
        return skipped(Skip::KernelOnly);
    }
    if counters.is_empty() {
        // A heap leak that names no counter shows first in the process's Private Bytes.
        counters.push("private_bytes".to_string());
    }

    let article = KbArticle {
        id: parsed.id.clone(),
        title: bare_title,
        products: product_names(&parsed.product),
        versions: versions(&parsed.prod_ver),
        processes,
        counters,
        conditions: conditions(&problem),
        corroborating_objects: objects_named(&title_and_problem, known),
        fix: fix_text(&parsed),
        source: origin.to_string(),
        by_design,
    };
    Ok(Imported::Entry(Box::new(article)))
}

/// `XADM: Title` -> (`XADM`, `Title`); no tag -> (``, title).
fn split_title_tag(title: &str) -> (String, String) {
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
fn describes_by_design(parsed: &Parsed) -> bool {
    let text =
        format!("{}\n{}", parsed.section("STATUS"), parsed.problem_text()).to_ascii_lowercase();
    let expected = text.contains("by design") || text.contains("expected behavior");
    expected
        && !text.contains("confirmed this to be a problem")
        && !text.contains("confirmed that this is a problem")
}

fn is_image_name(name: &str) -> bool {
    (2..=24).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.chars().any(|c| c.is_ascii_alphabetic())
}

/// Byte offset where the run of word characters that ends `text` begins (a char boundary, also
/// when the character before it is not ASCII).
fn word_start(text: &str, is_word: impl Fn(char) -> bool) -> usize {
    text.char_indices()
        .rev()
        .find(|(_, c)| !is_word(*c))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0)
}

/// `foo.exe` mentions in a lower-case sentence, as image names.
fn exe_mentions(lower: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(".exe") {
        let at = from + pos;
        let after = lower[at + 4..].chars().next();
        if after.is_none_or(|c| !c.is_ascii_alphanumeric()) {
            let start = word_start(&lower[..at], |c| {
                c.is_ascii_alphanumeric() || c == '_' || c == '-'
            });
            let name = &lower[start..at];
            if is_image_name(name) && !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
        from = at + 4;
    }
    out
}

fn find_processes(title_lower: &str, strong: &[String], known: &KnownNames) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let add = |name: &str, out: &mut Vec<String>| {
        if !TOOLS.contains(&name) && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    };
    // The title names the culprit when it names an image at all.
    for name in exe_mentions(title_lower) {
        add(&name, &mut out);
    }
    for sentence in strong {
        for name in exe_mentions(sentence) {
            // Articles observe leaks with Performance Monitor; only a sentence that makes it
            // the subject of the leak accuses it.
            let accused = [
                "perfmon.exe) may leak",
                "perfmon.exe may leak",
                "perfmon.exe leaks",
                "leak in perfmon",
            ]
            .iter()
            .any(|w| sentence.contains(w));
            if name == "perfmon" && !accused {
                continue;
            }
            add(&name, &mut out);
        }
        for image in &known.images {
            let as_process = [
                format!("{image} process"),
                format!("instance: {image}"),
                format!("{image} instance"),
                format!("{image} service"),
            ];
            if as_process.iter().any(|p| has_word(sentence, p)) {
                add(image, &mut out);
            }
        }
        for (service, image) in &known.services {
            if has_word(sentence, service) {
                add(image, &mut out);
            }
        }
    }
    // A known image named as a bare word where the text says something leaks or grows.
    let title_tells = is_leak_sentence(title_lower) || is_growth_sentence(title_lower);
    for image in &known.images {
        if image.len() < 4 || WORDLIKE_IMAGES.contains(&image.as_str()) {
            continue;
        }
        let in_title = title_tells && has_word(title_lower, image);
        let in_leak = strong
            .iter()
            .any(|s| (is_leak_sentence(s) || is_growth_sentence(s)) && has_word(s, image));
        if in_title || in_leak {
            add(image, &mut out);
        }
    }
    out
}

/// Counter keys the text supports, and whether one was named outright (not inferred from
/// "memory leak").
fn find_counters(title_lower: &str, strong: &[String], problem_lower: &str) -> (Vec<String>, bool) {
    let mut out: Vec<String> = Vec::new();
    let mut push = |key: &str| {
        if !out.iter().any(|k| k == key) {
            out.push(key.to_string());
        }
    };
    // Perfmon counter names are distinctive wherever they appear in the problem text.
    let named = [
        (
            "private_bytes",
            &["private bytes", "private byte", "page file bytes"][..],
        ),
        (
            "handle_count",
            &[
                "handle count",
                "handlecount",
                "number of open handles",
                "number of handles",
            ][..],
        ),
        (
            "virtual_bytes",
            &["virtual bytes", "virtual byte", "vm size"][..],
        ),
        ("working_set", &["working set", "mem usage"][..]),
        (
            "pool_nonpaged",
            &[
                "pool nonpaged",
                "nonpaged pool",
                "non-paged pool",
                "non paged pool",
                "nonpaged memory",
                "non-paged memory",
            ][..],
        ),
        ("thread_count", &["thread count", "number of threads"][..]),
    ];
    for (key, words) in named {
        if words
            .iter()
            .any(|w| problem_lower.contains(w) || title_lower.contains(w))
        {
            push(key);
        }
    }
    if mentions_paged_pool(problem_lower) || mentions_paged_pool(title_lower) {
        push("pool_paged");
    }
    // Handle and thread leaks are often told in words rather than counter names.
    let leak_text: Vec<&str> = std::iter::once(title_lower)
        .chain(strong.iter().map(|s| s.as_str()))
        .collect();
    for s in &leak_text {
        if !is_leak_sentence(s) && !is_growth_sentence(s) {
            continue;
        }
        if [
            "handle leak",
            "leaks handles",
            "release one handle",
            "release handles",
            "releasing handles",
            "leak handles",
            "leaks a handle",
            "leak a handle",
            "leaking handles",
            "handles leak",
            "handles are not closed",
            "handle is not closed",
            "leaks one handle",
            "handles to leak",
            "handles are leaked",
        ]
        .iter()
        .any(|w| s.contains(w))
        {
            push("handle_count");
        }
        if [
            "thread leak",
            "leaks threads",
            "leaks a thread",
            "threads leak",
        ]
        .iter()
        .any(|w| s.contains(w))
        {
            push("thread_count");
        }
    }
    let named_counter = !out.is_empty();
    (out, named_counter)
}

/// "paged pool" that is not the tail of "nonpaged pool"/"non-paged pool".
fn mentions_paged_pool(lower: &str) -> bool {
    for pattern in ["paged pool", "pool paged"] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(pattern) {
            let at = from + pos;
            let before = &lower[..at];
            let negated = pattern == "paged pool"
                && (before.ends_with("non")
                    || before.ends_with("non-")
                    || before.ends_with("non "));
            if !negated {
                return true;
            }
            from = at + pattern.len();
        }
    }
    false
}

/// Short facts that tell this leak from others: DLLs, API calls, event ids, registry keys.
fn conditions(problem: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let push = |s: String, out: &mut Vec<String>| {
        if out.len() < 8 && !out.iter().any(|o| o.eq_ignore_ascii_case(&s)) {
            out.push(s);
        }
    };
    for token in
        problem.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '(' | ')'))
    {
        let token = token.trim_matches(|c: char| matches!(c, '.' | ':' | '\'' | '`'));
        let lower = token.to_ascii_lowercase();
        if lower.ends_with(".dll") && is_image_name(&lower[..lower.len() - 4]) {
            push(lower, &mut out);
        } else if token.starts_with("HKEY_") {
            let tail: Vec<&str> = token.rsplit('\\').take(2).collect();
            push(
                format!(
                    "registry key ...\\{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\\")
                ),
                &mut out,
            );
        }
    }
    // API names written as `Name()` or `Name( )`.
    let bytes = problem.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'(' {
            let close = problem[i..].find(')').map(|p| i + p);
            let inside_empty = close.is_some_and(|c| problem[i + 1..c].trim().is_empty());
            let start = word_start(&problem[..i], |c| c.is_ascii_alphanumeric() || c == '_');
            let name = &problem[start..i];
            if inside_empty
                && name.len() >= 4
                && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            {
                push(format!("{name}() calls"), &mut out);
            }
        }
        i += 1;
    }
    let lower = problem.to_ascii_lowercase();
    for marker in ["event id ", "event "] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(marker) {
            let at = from + pos + marker.len();
            let digits: String = lower[at..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if (3..=5).contains(&digits.len()) {
                push(format!("event {digits}"), &mut out);
            }
            from = at;
        }
    }
    out
}

/// Perfmon objects and services the text names (from the names the catalogue knows).
fn objects_named(text: &str, known: &KnownNames) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut out: Vec<String> = known
        .objects
        .iter()
        .filter(|o| has_word(&lower, &o.to_ascii_lowercase()))
        .cloned()
        .collect();
    for (name, object) in &known.object_names {
        // Short names ("IIS", "ASP", "RAS") only count in their usual capitals.
        let found = if name.len() <= 4 {
            has_word(text, &name.to_ascii_uppercase())
        } else {
            has_word(&lower, name)
        };
        if found && !out.iter().any(|o| o == object) {
            out.push(object.clone());
        }
    }
    out
}

fn product_names(product: &str) -> Vec<String> {
    let name = product.trim();
    if name.is_empty() {
        return Vec::new();
    }
    vec![name.strip_prefix("Microsoft ").unwrap_or(name).to_string()]
}

/// `WINDOWS:3.5; winnt:5.5` -> [`3.5`, `5.5`]; `:4.0,4.0 SP6a` -> [`4.0`, `4.0 SP6a`].
fn versions(prod_ver: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in prod_ver.split(';') {
        let list = part.split_once(':').map(|(_, v)| v).unwrap_or(part);
        for v in list.split(',') {
            let v = v.trim();
            if !v.is_empty() && !out.iter().any(|o| o == v) {
                out.push(v.to_string());
            }
        }
    }
    out
}

/// The fix: the release STATUS says first corrected it, else what the keywords encode, else
/// whether a hotfix or a workaround exists.
fn fix_text(parsed: &Parsed) -> String {
    let status = parsed.section("STATUS");
    let lower = status.to_ascii_lowercase();
    for marker in [
        "first corrected in ",
        "was corrected in ",
        "has been corrected in ",
        "has been fixed in ",
        "problem is resolved in ",
        "was fixed in ",
        "is fixed in ",
    ] {
        if let Some(pos) = lower.find(marker) {
            let rest = &status[pos + marker.len()..];
            let end = rest
                .find(". ")
                .or_else(|| rest.find(".\n"))
                .unwrap_or(rest.len());
            let release = tidy_release(rest[..end].trim_end_matches('.'));
            if !release.is_empty() {
                return release;
            }
        }
    }
    if let Some(fix) = fix_from_keywords(&parsed.keywords) {
        return fix;
    }
    let all = format!("{}\n{}", parsed.section("RESOLUTION"), status).to_ascii_lowercase();
    if all.contains("supported fix") || all.contains("hotfix") {
        return "hotfix".to_string();
    }
    if !parsed.section("WORKAROUND").is_empty() {
        return "workaround only".to_string();
    }
    String::new()
}

/// "Windows NT 4.0 Service Pack 4.0 and ..." -> "Windows NT 4.0 SP4 and ...".
fn tidy_release(text: &str) -> String {
    let mut out = text
        .replace("Service Pack ", "SP")
        .replace("the latest ", "latest ");
    for n in 1..=9 {
        out = out.replace(&format!("SP{n}.0"), &format!("SP{n}"));
    }
    let out = out.replace("U.S. ", "");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `kbWinNT400sp4fix` -> "Windows NT 4.0 SP4"; `kbExchange550sp4Fix` -> "Exchange Server 5.5
/// SP4"; `...PreSP7Fix` -> "hotfix (before ... SP7)".
fn fix_from_keywords(keywords: &str) -> Option<String> {
    let products = [
        ("kbwinnt", "Windows NT"),
        ("kbwin2000", "Windows 2000"),
        ("kbexchange", "Exchange Server"),
        ("kbsna", "SNA Server"),
        ("kbsms", "SMS"),
        ("kbiis", "IIS"),
        ("exc", "Exchange Server"),
    ];
    for keyword in keywords.split_whitespace() {
        let lower = keyword.to_ascii_lowercase();
        if !lower.ends_with("fix") {
            continue;
        }
        for (prefix, product) in products {
            let Some(rest) = lower.strip_prefix(prefix) else {
                continue;
            };
            let body = &rest[..rest.len() - 3];
            let (version_digits, sp) = match body
                .find("presp")
                .map(|p| (p, true))
                .or_else(|| body.find("sp").map(|p| (p, false)))
            {
                Some((p, pre)) => (
                    &body[..p],
                    Some((
                        pre,
                        body[p..]
                            .trim_start_matches("pre")
                            .trim_start_matches("sp")
                            .to_string(),
                    )),
                ),
                None => (body, None),
            };
            let version = keyword_version(version_digits, product);
            let Some((pre, number)) = sp else { continue };
            if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let release = format!("{product}{version} SP{number}");
            return Some(if pre {
                format!("hotfix (before {release})")
            } else {
                release
            });
        }
    }
    None
}

/// `400` -> " 4.0", `4` -> " 4.0", `550` -> " 5.5", `` -> "".
fn keyword_version(digits: &str, product: &str) -> String {
    let digits: String = digits.chars().filter(|c| c.is_ascii_digit()).collect();
    if product == "Windows 2000" {
        return String::new();
    }
    match digits.len() {
        0 => String::new(),
        1 => format!(" {digits}.0"),
        _ => format!(" {}.{}", &digits[..1], &digits[1..2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_fixes_decode() {
        assert_eq!(
            fix_from_keywords("kbWinNT400sp4fix").as_deref(),
            Some("Windows NT 4.0 SP4")
        );
        assert_eq!(
            fix_from_keywords("kbWinNT4sp6fix").as_deref(),
            Some("Windows NT 4.0 SP6")
        );
        assert_eq!(
            fix_from_keywords("kbWinNT400PreSP7Fix").as_deref(),
            Some("hotfix (before Windows NT 4.0 SP7)")
        );
        assert_eq!(
            fix_from_keywords("exc55 kbExchange550sp4Fix").as_deref(),
            Some("Exchange Server 5.5 SP4")
        );
        assert_eq!(
            fix_from_keywords("kbWin2000SP2Fix").as_deref(),
            Some("Windows 2000 SP2")
        );
        assert_eq!(fix_from_keywords("kbnetwork kbAPI"), None);
    }

    #[test]
    fn versions_split_on_products_and_commas() {
        assert_eq!(versions("WINDOWS:3.5; winnt:5.5"), vec!["3.5", "5.5"]);
        assert_eq!(versions(":4.0,4.0 SP6a"), vec!["4.0", "4.0 SP6a"]);
        assert!(versions("").is_empty());
    }

    #[test]
    fn paged_pool_is_not_nonpaged_pool() {
        assert!(!mentions_paged_pool(
            "the nonpaged pool grows and non-paged pool too"
        ));
        assert!(mentions_paged_pool("paged pool grows"));
    }

    #[test]
    fn leak_in_another_sense_is_not_a_leak() {
        assert!(!is_leak_sentence(
            "this is a security leak in the password dialog"
        ));
        assert!(is_leak_sentence("the service leaks memory when queried"));
        assert!(is_leak_sentence("winlogon leaks handles"));
    }

    #[test]
    fn non_ascii_text_before_names_does_not_break_slicing() {
        assert_eq!(exe_mentions("über«winlogon.exe» leaks"), vec!["winlogon"]);
        assert_eq!(exe_mentions("éwinlogon.exe"), vec!["winlogon"]);
        assert_eq!(
            conditions("appel «CreateFoo()» répété"),
            vec!["CreateFoo() calls"]
        );
    }

    #[test]
    fn exe_names_come_out_lower_case_without_extension() {
        assert_eq!(
            exe_mentions("the winlogon.exe and services.exe processes"),
            vec!["winlogon", "services"]
        );
        assert!(exe_mentions("an .exe file").is_empty());
    }

    #[test]
    fn text_without_layout_is_an_error_naming_the_file() {
        let err = import_text("hello\nworld\n", "notes.txt")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("notes.txt:1:1:"), "{err}");
    }
}
