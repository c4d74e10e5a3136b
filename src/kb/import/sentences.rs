//! What a sentence says: that a resource leaks, is never given back, or grows.

/// Words that make "leak" about a computer resource.
pub(super) const RESOURCE_WORDS: [&str; 14] = [
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

pub(super) fn has_word(haystack: &str, word: &str) -> bool {
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
pub(super) fn is_leak_sentence(lower: &str) -> bool {
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
pub(super) fn is_loss_sentence(lower: &str) -> bool {
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
pub(super) fn is_growth_sentence(lower: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leak_in_another_sense_is_not_a_leak() {
        assert!(!is_leak_sentence(
            "this is a security leak in the password dialog"
        ));
        assert!(is_leak_sentence("the service leaks memory when queried"));
        assert!(is_leak_sentence("winlogon leaks handles"));
    }
}
