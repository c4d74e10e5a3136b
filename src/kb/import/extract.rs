//! One article's text -> a catalogue entry, or the reason it is skipped.

use super::fix::{fix_text, product_names, versions};
use super::known::KnownNames;
use super::layout::{parse, sentences, Parsed};
use super::names::{conditions, find_counters, find_processes, objects_named};
use super::sentences::{is_growth_sentence, is_leak_sentence, is_loss_sentence};
use super::{Imported, Skip};
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
}
