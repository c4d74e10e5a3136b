//! The names the importer recognises without a `.exe`: those of the built-in catalogue and
//! of the alias tables.

use crate::kb::{Aliases, Catalogue};

/// Image, object and service names the importer may recognise without a `.exe`: the built-in
/// catalogue's and the alias tables'.
pub(super) struct KnownNames {
    pub(super) images: Vec<String>,
    pub(super) objects: Vec<String>,
    pub(super) services: Vec<(String, String)>,
    /// (component name as articles say it, lower case) -> perfmon object.
    pub(super) object_names: Vec<(String, String)>,
}

/// Objects too common (or too generic a word) to say anything about one article.
pub(super) const GENERIC_OBJECTS: [&str; 9] = [
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
pub(super) const TOOLS: [&str; 24] = [
    "regedt32", "regedit", "poolmon", "pmon", "pviewer", "pview", "tlist", "taskmgr", "srvinfo",
    "dh", "umdh", "net", "cmd", "setup", "winmsd", "drwtsn32", "kill", "pstat", "qslice", "update",
    "hotfix", "oh", "sp4hfixi", "notepad",
];

/// Image names that are also everyday words ("services", "store", "explorer"): only a `.exe`
/// or "X process" mention counts for them.
pub(super) const WORDLIKE_IMAGES: [&str; 10] = [
    "services", "store", "explorer", "async", "cron", "mad", "perfmon", "mmc", "dns", "system",
];

impl KnownNames {
    pub(super) fn new() -> KnownNames {
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
