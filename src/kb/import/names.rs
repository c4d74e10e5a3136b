//! What an article names: the leaking images, the counters, the objects, and the short facts
//! (DLLs, API calls, event ids, registry keys) that tell its leak from others.

use super::known::{KnownNames, TOOLS, WORDLIKE_IMAGES};
use super::sentences::{
    classify, has_word, is_growth_sentence, is_leak_sentence, negative_cue, Says,
};

pub(super) fn is_image_name(name: &str) -> bool {
    (2..=40).contains(&name.len())
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
            // Today's images may hold dots (`Microsoft.Exchange.Store.Worker.exe`).
            let start = word_start(&lower[..at], |c| {
                c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
            });
            let name = lower[start..at].trim_start_matches('.');
            let dotted_ok =
                !name.contains('.') || name.split('.').all(|p| !p.is_empty() && is_image_name(p));
            if dotted_ok && is_image_name(&name.replace('.', "")) && !out.iter().any(|n| n == name)
            {
                out.push(name.to_string());
            }
        }
        from = at + 4;
    }
    out
}

/// The leaking images: `.exe` names in the title and in `strong` sentences, known images
/// said as processes, services that stand for an image. `modern`: a Markdown article, read
/// with today's service names, where an NT-era image is never the answer.
pub(super) fn find_processes(
    title_lower: &str,
    strong: &[String],
    known: &KnownNames,
    modern: bool,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let add = |name: &str, out: &mut Vec<String>| {
        let old = modern && known.old_images.iter().any(|o| o == name);
        if !TOOLS.contains(&name) && !old && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    };
    let services = if modern {
        &known.modern_services
    } else {
        &known.services
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
        for image in known
            .images
            .iter()
            .filter(|i| sentence.contains(i.as_str()))
        {
            let as_process = [
                format!("{image} process"),
                format!("instance: {image}"),
                format!("{image} instance"),
            ];
            // Today's services run in shared hosts: "X service" is not image X.
            let as_service = !modern && has_word(sentence, &format!("{image} service"));
            if as_service || as_process.iter().any(|p| has_word(sentence, p)) {
                add(image, &mut out);
            }
        }
        for (service, image) in services {
            if has_word(sentence, service) {
                add(image, &mut out);
            }
        }
    }
    // A known image named as a bare word where the text says something leaks or grows.
    let title_tells = is_leak_sentence(title_lower) || is_growth_sentence(title_lower);
    let telling: Vec<&String> = strong
        .iter()
        .filter(|s| is_leak_sentence(s) || is_growth_sentence(s))
        .collect();
    for image in &known.images {
        if image.len() < 4 || WORDLIKE_IMAGES.contains(&image.as_str()) {
            continue;
        }
        let in_title = title_tells && has_word(title_lower, image);
        let in_leak = telling.iter().any(|s| has_word(s, image));
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
            &[
                "private bytes",
                "private byte",
                "page file bytes",
                "commit size",
                "committed bytes",
                "commit charge",
            ][..],
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

/// Pool tags a text names: `the MmSt tag`, `pool tag Thre`, `tag 'Toke'` (four characters,
/// letters or digits, at least one capital, as poolmon shows them).
pub(super) fn pool_tags(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    let is_tag = |w: &str| {
        let w = w.trim_matches(|c: char| matches!(c, '\'' | '"' | '`' | ',' | '.' | '(' | ')'));
        (w.len() == 4
            && w.chars().all(|c| c.is_ascii_alphanumeric())
            && w.chars().any(|c| c.is_ascii_uppercase())
            && w.chars().any(|c| c.is_ascii_lowercase()))
        .then(|| w.to_string())
    };
    for (i, word) in words.iter().enumerate() {
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if !bare.eq_ignore_ascii_case("tag") {
            continue;
        }
        let before = i.checked_sub(1).and_then(|p| is_tag(words[p]));
        let after = words.get(i + 1).and_then(|w| is_tag(w));
        for tag in [before, after].into_iter().flatten() {
            if !out.contains(&tag) && tag != "Pool" && tag != "Tags" {
                out.push(tag);
            }
        }
    }
    out
}

/// Event ids a lower-case text names: `event id 2020`, `event 2020`, `event id - 2020`,
/// `event id: 2004`, `event ids 4227 and 4231` (3 to 5 digits), in order, once each.
pub(super) fn event_ids(lower: &str) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    let mut from = 0;
    while let Some(pos) = lower[from..].find("event") {
        let mut at = from + pos + "event".len();
        from = at;
        let rest = &lower[at..];
        let skip = rest
            .char_indices()
            .find(|(_, c)| !matches!(c, ' ' | '-' | ':' | '#'))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        at += skip;
        for word in ["ids", "id"] {
            if lower[at..].starts_with(word) {
                at += word.len();
                let rest = &lower[at..];
                at += rest
                    .char_indices()
                    .find(|(_, c)| !matches!(c, ' ' | '-' | ':' | '#'))
                    .map(|(i, _)| i)
                    .unwrap_or(rest.len());
                break;
            }
        }
        // A list of ids: "4227 and 4231", "2019, 2020".
        loop {
            let digits: String = lower[at..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if !(3..=5).contains(&digits.len()) {
                break;
            }
            if let Ok(id) = digits.parse() {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            at += digits.len();
            let sep = [", ", " and ", " or ", "/", " "]
                .iter()
                .find(|s| lower[at..].starts_with(*s));
            match sep {
                Some(sep) => at += sep.len(),
                None => break,
            }
        }
    }
    out
}

/// Counters the text implies without naming them: the server's pool events (2020: paged,
/// 2019: nonpaged), and in sentences about growth, sockets and ports (handles), threads,
/// address space, and a process's memory or heap (its Private Bytes). Each with whether the
/// text says it as plainly as a counter name: "handles", "ports" or "memory usage keeps
/// growing" do; "leaks memory" does not (any heap leak says that).
pub(super) fn implied_counters(strong: &[String], problem_lower: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut push = |key: &str, plain: bool| match out.iter_mut().find(|(k, _)| k == key) {
        Some(found) => found.1 |= plain,
        None => out.push((key.to_string(), plain)),
    };
    let ids = event_ids(problem_lower);
    if ids.contains(&2020) {
        push("pool_paged", true);
    }
    if ids.contains(&2019) {
        push("pool_nonpaged", true);
    }
    for s in strong {
        let says = classify(s);
        // "consumes lots of handles and memory" says which resources, not that they leak.
        let usage = ["consum", "high memory", "uses lots of", "uses a lot of"]
            .iter()
            .any(|w| s.contains(w))
            && !negative_cue(s);
        if !says.states_growth() && !usage {
            continue;
        }
        let says = if says.states_growth() {
            says
        } else {
            Says::Leak
        };
        let kernel = ["pool", "system cache", "cache manager", "kernel"]
            .iter()
            .any(|w| s.contains(w));
        if [
            "socket",
            "port usage",
            "ports",
            "event handles",
            "handles",
            "handle count",
        ]
        .iter()
        .any(|w| s.contains(w))
        {
            push("handle_count", true);
        }
        if has_word(s, "threads") {
            push("thread_count", true);
        }
        if ["virtual memory", "address space", "virtual address"]
            .iter()
            .any(|w| s.contains(w))
        {
            push("virtual_bytes", says != Says::Leak);
        }
        let memory = ["memory", "heap", "commit"].iter().any(|w| s.contains(w));
        if memory && !kernel {
            push("private_bytes", says != Says::Leak);
        }
    }
    out
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
    for id in event_ids(&problem.to_ascii_lowercase()) {
        push(format!("event {id}"), &mut out);
    }
    for tag in pool_tags(problem) {
        push(format!("pool tag {tag}"), &mut out);
    }
    out
}

/// Perfmon objects and services the text names (from the names the catalogue knows).
/// `modern`: a Markdown article, read with today's component names too.
pub(super) fn objects_named(text: &str, known: &KnownNames, modern: bool) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut out: Vec<String> = known
        .objects
        .iter()
        .filter(|o| has_word(&lower, &o.to_ascii_lowercase()))
        .cloned()
        .collect();
    let modern_names: &[(String, String)] = if modern {
        &known.modern_object_names
    } else {
        &[]
    };
    for (name, object) in known.object_names.iter().chain(modern_names) {
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
    fn pool_tags_next_to_the_word_tag() {
        assert_eq!(
            pool_tags("the MmSt tag is the largest; pool tag Thre grows; the Pool tag list"),
            vec!["MmSt", "Thre"]
        );
    }

    #[test]
    fn event_ids_in_their_written_forms() {
        assert_eq!(
            event_ids("event id - 2020 and event 2019; event ids 4227 and 4231. event id: 10010"),
            vec![2020, 2019, 4227, 4231, 10010]
        );
        assert!(event_ids("the event viewer shows 2020 entries").is_empty());
    }

    #[test]
    fn counters_implied_by_growth_sentences() {
        let strong = vec![
            "the port usage from your application grows constantly and never drops".to_string(),
            "memory usage continues to increase until an outofmemoryexception".to_string(),
        ];
        let keys = |implied: Vec<(String, bool)>| -> Vec<(String, bool)> { implied };
        assert_eq!(
            keys(implied_counters(&strong, "srv event id 2020")),
            vec![
                ("pool_paged".to_string(), true),
                ("handle_count".to_string(), true),
                ("private_bytes".to_string(), true)
            ]
        );
        let generic = vec!["the service leaks memory".to_string()];
        assert_eq!(
            implied_counters(&generic, ""),
            vec![("private_bytes".to_string(), false)],
            "a leak said in general is no counter named"
        );
    }

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
    fn dotted_image_names_are_whole() {
        assert_eq!(
            exe_mentions("microsoft.exchange.store.worker.exe grows. see the file.exe"),
            vec!["microsoft.exchange.store.worker", "file"]
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
