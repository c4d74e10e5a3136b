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
    /// (service name as today's articles say it, lower case) -> image.
    pub(super) modern_services: Vec<(String, String)>,
    /// (component name as today's articles say it, lower case) -> perfmon object.
    pub(super) modern_object_names: Vec<(String, String)>,
    /// Product -> the image it runs in (`ASP.NET` -> `w3wp`).
    pub(super) product_hosts: Vec<ProductHost>,
    /// Images of NT 4.0 / Windows 2000 only (`winmgmt`, `spoolss`): never read from a
    /// Markdown article, whose servers run them in other images.
    pub(super) old_images: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ModernServices {
    service: Vec<crate::kb::aliases::ServiceImage>,
    #[serde(default)]
    host: Vec<ProductHost>,
    #[serde(default)]
    object: Vec<crate::kb::aliases::ObjectName>,
}

/// The one image a product runs in, for a Markdown article that names none.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProductHost {
    pub(super) product: String,
    pub(super) image: String,
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
pub(super) const TOOLS: [&str; 54] = [
    "regedt32",
    "regedit",
    "poolmon",
    "pmon",
    "pviewer",
    "pview",
    "tlist",
    "taskmgr",
    "srvinfo",
    "dh",
    "umdh",
    "net",
    "cmd",
    "setup",
    "winmsd",
    "drwtsn32",
    "kill",
    "pstat",
    "qslice",
    "update",
    "hotfix",
    "oh",
    "sp4hfixi",
    "notepad",
    "procdump",
    "procdump64",
    "debugdiag",
    "windbg",
    "cdb",
    "gflags",
    "vmmap",
    "rammap",
    "xperf",
    "wpr",
    "tasklist",
    "taskkill",
    "msinfo32",
    "compmgmt",
    "appcmd",
    "netstat",
    "powershell",
    "pwsh",
    "logman",
    "relog",
    "typeperf",
    "resmon",
    "sc",
    "reg",
    "handle",
    "livekd",
    "perfview",
    "iisreset",
    "wbemtest",
    "procexp",
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
        let services = by_lowercase_name(aliases.services.iter().map(|s| (&s.names, &s.image)));
        let object_names = by_lowercase_name(aliases.objects.iter().map(|o| (&o.names, &o.object)));
        let modern: ModernServices = crate::data::builtin!("import/services.toml");
        let ModernServices {
            service,
            host,
            object,
        } = modern;
        let modern_object_names = by_lowercase_name(object.iter().map(|o| (&o.names, &o.object)));
        let modern_services = by_lowercase_name(service.iter().map(|s| (&s.names, &s.image)));
        // Images that exist only until Windows 2000 (data/kb/eras.toml markers).
        let eras = crate::kb::eras::Eras::builtin();
        let last_old = eras.index("2000");
        let old_images = eras
            .markers
            .iter()
            .filter(|m| {
                let until = m.until.as_deref().and_then(|u| eras.index(u));
                until.is_some() && until <= last_old
            })
            .flat_map(|m| m.images.iter().cloned())
            .collect();
        KnownNames {
            images,
            objects,
            services,
            object_names,
            modern_services,
            modern_object_names,
            product_hosts: host,
            old_images,
        }
    }
}

/// Every name of each entry, lower-cased, paired with what the entry stands for (a service's
/// image, an object's canonical name): the lookup tables the sentence rules search.
fn by_lowercase_name<'a>(
    entries: impl Iterator<Item = (&'a Vec<String>, &'a String)>,
) -> Vec<(String, String)> {
    entries
        .flat_map(|(names, target)| {
            names
                .iter()
                .map(|n| (n.to_ascii_lowercase(), target.clone()))
        })
        .collect()
}
