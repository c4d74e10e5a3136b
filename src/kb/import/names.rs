//! What an article names: the leaking images, the counters, the objects, and the short facts
//! (DLLs, API calls, event ids, registry keys) that tell its leak from others.

use super::known::{KnownNames, TOOLS, WORDLIKE_IMAGES};
use super::sentences::{has_word, is_growth_sentence, is_leak_sentence};

pub(super) fn is_image_name(name: &str) -> bool {
    (2..=24).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.chars().any(|c| c.is_ascii_alphabetic())
}

/// Byte offset where the run of word characters that ends `text` begins (a char boundary, also
/// when the character before it is not ASCII).
pub(super) fn word_start(text: &str, is_word: impl Fn(char) -> bool) -> usize {
    text.char_indices()
        .rev()
        .find(|(_, c)| !is_word(*c))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0)
}

/// `foo.exe` mentions in a lower-case sentence, as image names.
pub(super) fn exe_mentions(lower: &str) -> Vec<String> {
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

pub(super) fn find_processes(
    title_lower: &str,
    strong: &[String],
    known: &KnownNames,
) -> Vec<String> {
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
pub(super) fn find_counters(
    title_lower: &str,
    strong: &[String],
    problem_lower: &str,
) -> (Vec<String>, bool) {
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
pub(super) fn mentions_paged_pool(lower: &str) -> bool {
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
pub(super) fn conditions(problem: &str) -> Vec<String> {
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
pub(super) fn objects_named(text: &str, known: &KnownNames) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paged_pool_is_not_nonpaged_pool() {
        assert!(!mentions_paged_pool(
            "the nonpaged pool grows and non-paged pool too"
        ));
        assert!(mentions_paged_pool("paged pool grows"));
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
}
