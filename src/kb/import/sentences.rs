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
    // Today's articles write "doesn't" and "isn't" where the archive wrote "does not".
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
        "n't deallocate",
        "n't free ",
        "n't freed",
        "n't release",
        "n't released",
        "n't closed",
        "n't close ",
        "fails to free",
        "fail to free",
        "failed to free",
        "fails to release",
        "fail to release",
        "failed to release",
        "fails to close",
        "not returned to",
        "never returned",
        "never gives back",
        "doesn't give back",
    ];
    loss.iter().any(|w| lower.contains(w))
        && ["memory", "handle", "pool", "heap", "socket"]
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

/// What a sentence says about a process's or the kernel's resources, in the words of the
/// article (the word "leak" is one way among several).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Says {
    /// "X leaks handles", "a memory leak in Y".
    Leak,
    /// Memory or handles taken and never given back ("is not released", "never freed").
    Loss,
    /// A resource that keeps growing ("increases steadily", "continues to grow", "grows
    /// until the server must be restarted", "doesn't shrink").
    Growth,
    /// A pool, heap, handle or port supply used up ("runs out of handles", "the paged pool
    /// was empty", "port exhaustion").
    Exhaustion,
    /// A resource said to grow, with no word that makes it steady ("causes the working set
    /// to grow"): a leak only in an article whose title is about that resource's usage.
    Rise,
    /// Leaks as the topic of a search ("to find a memory leak", "troubleshoot leaks"): what
    /// a guide is about, not a defect it states.
    LeakTopic,
    /// Nothing about a resource growing.
    Nothing,
}

impl Says {
    /// States a defect, rather than a topic to look into.
    pub(super) fn states_growth(self) -> bool {
        matches!(
            self,
            Says::Leak | Says::Loss | Says::Growth | Says::Exhaustion
        )
    }
}

/// What a resource's growth is said of: memory, handles, pool, heap, threads, sockets, ports.
const GROWTH_SUBJECTS: [&str; 19] = [
    "memory",
    "handle",
    "paged pool",
    "nonpaged pool",
    "non-paged pool",
    "pool usage",
    "private bytes",
    "virtual bytes",
    "working set",
    "heap",
    "thread count",
    "number of threads",
    "socket",
    "port usage",
    "commit",
    "address space",
    "ram usage",
    "ram use",
    "memory clerk",
];

/// Words that make growth steady rather than a one-off step.
const PERSISTENCE: [&str; 35] = [
    "more and more",
    "indefinitely",
    "ever-increasing",
    "ever increasing",
    "over several",
    "over a period",
    "over days",
    "over hours",
    "slowly",
    "steadily",
    "steady",
    "continu",
    "keeps ",
    "keep ",
    "constantly",
    "over time",
    "gradually",
    "until",
    "never ",
    "not decrease",
    "n't decrease",
    "not shrink",
    "n't shrink",
    "not drop",
    "n't drop",
    "not go down",
    "n't go down",
    "without limit",
    "unbounded",
    "linearly",
    "each time",
    "every time",
    "with each",
    "day after day",
    "consistently",
];

const GROWTH_VERBS: [&str; 10] = [
    "more and more",
    "increas",
    "grow",
    "grew",
    "rise",
    "rising",
    "climb",
    "accumulat",
    "build up",
    "builds up",
];

/// A sentence that describes something other than a process's or the kernel's resources
/// growing: a file or disk, a cache held to its configured size, the processor, or growth
/// the article calls expected.
pub(super) fn negative_cue(lower: &str) -> bool {
    const CUES: [&str; 14] = [
        // SQL Server's buffer pool grows to its setting by design.
        "max server memory",
        "maximum server memory",
        "by design",
        "expected behavior",
        "expected behaviour",
        "configured limit",
        "configured maximum",
        "configured size",
        "maximum size",
        "size limit",
        "high cpu",
        "cpu usage",
        "processor time",
        "cpu utilization",
    ];
    const DENIALS: [&str; 12] = [
        "not a leak",
        "not a memory leak",
        "isn't a leak",
        "isn't a memory leak",
        "not indicate a",
        "n't indicate a",
        "n't always indicate",
        "not necessarily",
        "rather than a leak",
        "not caused by a leak",
        "no leak",
        "looks like a leak",
    ];
    about_disk(lower)
        || CUES.iter().any(|w| lower.contains(w))
        || DENIALS.iter().any(|w| lower.contains(w))
}

/// A sentence about files and space on disk.
fn about_disk(lower: &str) -> bool {
    const DISK: [&str; 18] = [
        "disk space",
        "disk usage",
        "free space",
        "on disk",
        "log file",
        "database file",
        "file size",
        "size of the file",
        "transaction log",
        ".edb",
        ".ldf",
        ".mdf",
        ".pst",
        ".ost",
        ".vhd",
        "checkpoint file",
        "paging file size",
        "page file size",
    ];
    DISK.iter().any(|w| lower.contains(w))
}

/// A process's or the kernel's resource said to grow, however the sentence judges it (by
/// design, up to a limit): what a by-design article must describe to be a signature.
pub(super) fn tells_resource_rise(lower: &str) -> bool {
    is_rise(lower) && !about_disk(lower)
}

/// Resource supplies whose exhaustion is a leak's end (plain "out of memory" is not: a
/// process can run out with a fragmented or too small address space).
const EXHAUSTIBLE: [&str; 10] = [
    "handles",
    "paged pool",
    "nonpaged pool",
    "non-paged pool",
    "pool memory",
    "desktop heap",
    "ports",
    "port exhaustion",
    "sockets",
    "socket space",
];

fn is_exhaustion_sentence(lower: &str) -> bool {
    const VERBS: [&str; 12] = [
        "run out of",
        "runs out of",
        "ran out of",
        "running out of",
        "out of ",
        "exhaust",
        "deplet",
        "was empty",
        "is empty",
        "unable to allocate",
        "cannot allocate",
        "could not allocate",
    ];
    // Memory itself counts when all of it is taken ("consumes all available memory").
    let all_memory = [
        "consum",
        "uses all",
        "use all",
        "using all",
        "takes all",
        "eat",
    ]
    .iter()
    .any(|v| lower.contains(v))
        && [
            "all available memory",
            "all the available memory",
            "all of the available memory",
            "all memory",
            "all of the memory",
            "all the memory",
            "consuming available memory",
            "consumes available memory",
        ]
        .iter()
        .any(|w| lower.contains(w));
    all_memory
        || (VERBS.iter().any(|v| lower.contains(v))
            && EXHAUSTIBLE.iter().any(|w| lower.contains(w)))
}

/// A resource said to grow ("memory" as a word: `dm_os_memory_clerks` is a name, not memory).
fn is_rise(lower: &str) -> bool {
    GROWTH_SUBJECTS.iter().any(|w| starts_word_at(lower, w))
        && GROWTH_VERBS.iter().any(|w| lower.contains(w))
}

/// A resource said to grow, with a word that makes the growth steady.
fn is_steady_growth(lower: &str) -> bool {
    is_rise(lower) && PERSISTENCE.iter().any(|w| lower.contains(w))
}

/// `word` occurs where a word starts (its end may run on: "handle" finds "handles").
fn starts_word_at(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(at, _)| {
        haystack[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_' && c != '.')
    })
}

/// A sentence that says there is no leak ("no permanent resource leaks are expected").
pub(super) fn denies_leak(lower: &str) -> bool {
    let words: Vec<&str> = lower.split_whitespace().collect();
    words.iter().enumerate().any(|(i, w)| {
        matches!(*w, "no" | "not" | "never" | "without" | "doesn't" | "isn't")
            && words[i + 1..(i + 5).min(words.len())]
                .iter()
                .any(|n| n.starts_with("leak"))
    })
}

/// A title about how much memory or how many handles something uses.
pub(super) fn is_usage_title(lower: &str) -> bool {
    [
        "high memory",
        "heavy memory",
        "excessive memory",
        "memory usage",
        "memory consumption",
        "memory use",
        "handle count",
        "handle usage",
        "too much memory",
        "lots of memory",
        "large amount of memory",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Leak wording about looking for a leak rather than stating one.
fn is_leak_topic(lower: &str) -> bool {
    lower.contains("leak")
        && !is_leak_sentence(lower)
        && (RESOURCE_WORDS.iter().any(|w| lower.contains(w)) || lower.contains("leaks"))
        && !lower.contains("security")
        && !lower.contains("information leak")
}

/// A line that cites another article by number and title ("q148336 memory leak in ...",
/// "kb 2551125 ports run out"): that article's subject, not this one's.
fn is_reference(lower: &str) -> bool {
    let line = lower.trim_start_matches("- ");
    let Some(rest) = line
        .strip_prefix("kb")
        .or_else(|| line.strip_prefix('q'))
        .map(str::trim_start)
    else {
        return false;
    };
    rest.chars().take_while(|c| c.is_ascii_digit()).count() >= 5
}

/// What a lower-case sentence says about a resource.
pub(super) fn classify(lower: &str) -> Says {
    // Every kind of statement names one of these: most sentences name none, and are done.
    const ANY: [&str; 13] = [
        "leak",
        "memory",
        "handle",
        "pool",
        "heap",
        "thread",
        "socket",
        "port",
        "bytes",
        "working set",
        "commit",
        "address space",
        "ram ",
    ];
    if !ANY.iter().any(|w| lower.contains(w)) {
        return Says::Nothing;
    }
    if negative_cue(lower) || denies_leak(lower) || is_reference(lower) {
        return Says::Nothing;
    }
    if is_leak_sentence(lower) {
        Says::Leak
    } else if is_loss_sentence(lower) {
        Says::Loss
    } else if is_exhaustion_sentence(lower) {
        Says::Exhaustion
    } else if is_steady_growth(lower) {
        Says::Growth
    } else if is_leak_topic(lower) {
        Says::LeakTopic
    } else if is_rise(lower) {
        Says::Rise
    } else {
        Says::Nothing
    }
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

    #[test]
    fn steady_growth_without_the_word_leak() {
        assert_eq!(
            classify("the memory used by dsamain.exe increases steadily until the server must be restarted"),
            Says::Growth
        );
        assert_eq!(
            classify("the handle count of the service keeps climbing"),
            Says::Growth
        );
        assert_eq!(
            classify("the service consumes more and more memory"),
            Says::Growth
        );
        assert_eq!(
            classify("the service consumes a lot of memory"),
            Says::Nothing,
            "consumption alone is no growth"
        );
        assert_eq!(
            classify("memory used by the agent increases slowly over several days"),
            Says::Growth
        );
        assert_eq!(
            classify("the allocated memory isn't released when the session ends"),
            Says::Loss
        );
        assert_eq!(
            classify("the w3wp.exe process eventually runs out of handles and stops responding"),
            Says::Exhaustion
        );
        assert_eq!(
            classify("the server is out of paged pool memory"),
            Says::Exhaustion
        );
    }

    #[test]
    fn files_caches_and_cpu_are_not_resource_growth() {
        assert_eq!(
            classify("the log file keeps growing until the disk space is used up"),
            Says::Nothing
        );
        assert_eq!(
            classify("memory use of the cache continues to increase up to its configured limit"),
            Says::Nothing
        );
        assert_eq!(
            classify("high cpu usage and memory increase steadily"),
            Says::Nothing
        );
        assert_eq!(
            classify("high memory usage doesn't always indicate a leak"),
            Says::Nothing
        );
        assert_eq!(
            classify("the process may run out of memory"),
            Says::Nothing,
            "plain out of memory is not exhaustion of a leaked supply"
        );
        assert_eq!(
            classify("use these steps to find a memory leak"),
            Says::LeakTopic
        );
        assert_eq!(
            classify("q148336 memory leak in windows 95 kernel using windows sockets"),
            Says::Nothing,
            "a cited article's title"
        );
        assert_eq!(
            classify("there is no evident memory leak in performance data"),
            Says::Nothing
        );
    }
}
