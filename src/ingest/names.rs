//! Localized object and counter names -> canonical English, from the data table in
//! `data/names/counters.toml` (compiled in), so a German `Prozess\Handleanzahl` column is read
//! as `Process\Handle Count`. Matching ignores case.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Deserialize)]
struct Table {
    objects: HashMap<String, Vec<String>>,
    counters: HashMap<String, HashMap<String, Vec<String>>>,
}

struct Names {
    /// lower-cased name (English or localized) -> canonical object
    objects: HashMap<String, String>,
    /// (canonical object, lower-cased counter name) -> canonical counter
    counters: HashMap<(String, String), String>,
}

fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(|| {
        let table: Table = crate::data::builtin!("names/counters.toml");
        let mut objects = HashMap::new();
        for (canonical, localized) in &table.objects {
            objects.insert(canonical.to_lowercase(), canonical.clone());
            for name in localized {
                objects.insert(name.to_lowercase(), canonical.clone());
            }
        }
        let mut counters = HashMap::new();
        for (object, map) in &table.counters {
            objects
                .entry(object.to_lowercase())
                .or_insert_with(|| object.clone());
            for (canonical, localized) in map {
                counters.insert(
                    (object.clone(), canonical.to_lowercase()),
                    canonical.clone(),
                );
                for name in localized {
                    counters.insert((object.clone(), name.to_lowercase()), canonical.clone());
                }
            }
        }
        Names { objects, counters }
    })
}

/// Canonical English object name, or `None` when the name is not in the table.
pub fn canonical_object(name: &str) -> Option<&'static str> {
    names()
        .objects
        .get(&name.trim().to_lowercase())
        .map(String::as_str)
}

/// Canonical English counter name of `counter` within the canonical `object`, or `None`.
pub fn canonical_counter(object: &str, counter: &str) -> Option<&'static str> {
    names()
        .counters
        .get(&(object.to_string(), counter.trim().to_lowercase()))
        .map(String::as_str)
}

/// Every localized object and counter name of the table that is not plain ASCII, lower case:
/// the words that tell one legacy code page from another (`Mémoire` reads as `Mйmoire` in the
/// wrong one).
pub fn non_ascii_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let table = names();
        let mut out: Vec<String> = table
            .objects
            .keys()
            .chain(table.counters.keys().map(|(_, counter)| counter))
            .filter(|name| !name.is_ascii())
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    })
}

/// Counters of the `Process` object the analysis reads (memory, handles and identity).
pub const PROCESS_COUNTERS: &[&str] = &[
    "Private Bytes",
    "Handle Count",
    "Virtual Bytes",
    "Working Set",
    "Pool Paged Bytes",
    "Pool Nonpaged Bytes",
    "Thread Count",
    "ID Process",
    "Elapsed Time",
    "% Processor Time",
    "Creating Process ID",
    "IO Data Operations/sec",
    "IO Other Operations/sec",
];

/// Counters of the `Memory` object the analysis reads (commit and pool headroom, and the
/// system-wide series it judges).
pub const MEMORY_COUNTERS: &[&str] = &[
    "Committed Bytes",
    "Commit Limit",
    "Available Bytes",
    "Available MBytes",
    "Pool Paged Bytes",
    "Pool Nonpaged Bytes",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_needed_counter_has_a_table_entry() {
        for c in PROCESS_COUNTERS {
            assert_eq!(canonical_counter("Process", c), Some(*c));
            assert_eq!(canonical_counter("Process V2", c), Some(*c));
        }
        assert_eq!(canonical_object("PROCESS V2"), Some("Process V2"));
        assert_eq!(
            canonical_counter("Process V2", "Process ID"),
            Some("ID Process")
        );
        for c in MEMORY_COUNTERS {
            assert_eq!(canonical_counter("Memory", c), Some(*c));
        }
    }

    #[test]
    fn no_name_means_two_things() {
        let table: Table = crate::data::builtin!("names/counters.toml");
        let mut seen = HashMap::new();
        for (canonical, names) in &table.objects {
            for n in names.iter().chain(std::iter::once(canonical)) {
                let prev = seen.insert(n.to_lowercase(), canonical.clone());
                assert!(prev.is_none_or(|p| &p == canonical), "object name {n}");
            }
        }
        for (object, map) in &table.counters {
            let mut seen = HashMap::new();
            for (canonical, names) in map {
                for n in names.iter().chain(std::iter::once(canonical)) {
                    let prev = seen.insert(n.to_lowercase(), canonical.clone());
                    assert!(prev.is_none_or(|p| &p == canonical), "{object} counter {n}");
                }
            }
        }
    }

    #[test]
    fn localized_names_map_case_insensitively() {
        assert_eq!(canonical_object("PROZESS"), Some("Process"));
        assert_eq!(canonical_object("процесс"), Some("Process"));
        assert_eq!(
            canonical_counter("Process", "handleanzahl"),
            Some("Handle Count")
        );
        assert_eq!(
            canonical_counter("Process", "Octets privés"),
            Some("Private Bytes")
        );
        assert_eq!(
            canonical_counter("Memory", "zugesicherte bytes"),
            Some("Committed Bytes")
        );
        assert_eq!(canonical_object("Network Interface"), None);
    }
}
