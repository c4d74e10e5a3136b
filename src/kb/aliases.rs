//! The alias tables in `data/kb/aliases.toml`: image names that changed across Windows
//! versions, what dates a log to an era, and service names that stand for an image.

use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct AliasGroup {
    pub images: Vec<String>,
    #[serde(default)]
    pub note: String,
}

/// A Windows era: its name, how to say it, the years its servers wrote logs, and the words
/// that place an article in it.
#[derive(Debug, Clone, Deserialize)]
pub struct Era {
    pub name: String,
    #[serde(default)]
    pub label: String,
    /// First and last year a server of this era plausibly wrote a log.
    #[serde(default)]
    pub in_service: Option<[i32; 2]>,
    #[serde(default)]
    pub article_words: Vec<String>,
}

/// Process images or objects that only exist in some eras.
#[derive(Debug, Clone, Deserialize)]
pub struct EraMarker {
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub objects: Vec<String>,
    pub eras: Vec<String>,
    #[serde(default)]
    pub note: String,
}

/// Images that run code from many components: their name alone does not say whose code leaks.
#[derive(Debug, Clone, Deserialize)]
pub struct HostImages {
    pub images: Vec<String>,
    #[serde(default)]
    pub note: String,
}

/// Objects present on every machine, or every server running one product: weak evidence.
#[derive(Debug, Clone, Deserialize)]
pub struct WeakObjects {
    pub objects: Vec<String>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceImage {
    pub names: Vec<String>,
    pub image: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ObjectName {
    pub names: Vec<String>,
    pub object: String,
}

/// The eras of an article that names none, by the kind of its id.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Undated {
    /// Ids of archive articles start with this (`Q`).
    pub archive_prefix: String,
    pub archive: Vec<String>,
    /// Every other (web) article.
    pub web: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Aliases {
    #[serde(default, rename = "alias")]
    pub groups: Vec<AliasGroup>,
    /// Oldest first.
    #[serde(default, rename = "era")]
    pub eras: Vec<Era>,
    #[serde(default, rename = "era_marker")]
    pub era_markers: Vec<EraMarker>,
    #[serde(default, rename = "weak")]
    pub weak: Vec<WeakObjects>,
    #[serde(default, rename = "host")]
    pub hosts: Vec<HostImages>,
    #[serde(default, rename = "service")]
    pub services: Vec<ServiceImage>,
    #[serde(default, rename = "object")]
    pub objects: Vec<ObjectName>,
    pub undated: Undated,
}

impl Aliases {
    /// The compiled-in tables (`data/kb/aliases.toml`, loaded as every built-in table is).
    pub fn builtin() -> &'static Aliases {
        static TABLES: LazyLock<Aliases> =
            LazyLock::new(|| crate::data::builtin!("kb/aliases.toml"));
        &TABLES
    }

    pub fn parse(text: &str) -> Result<Aliases, toml::de::Error> {
        toml::from_str(text)
    }

    /// Other names of `image` across Windows versions (not including `image` itself).
    pub fn aliases_of(&self, image: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for group in &self.groups {
            if group.images.iter().any(|i| i.eq_ignore_ascii_case(image)) {
                for other in &group.images {
                    if !other.eq_ignore_ascii_case(image) && !out.contains(&other.as_str()) {
                        out.push(other);
                    }
                }
            }
        }
        out
    }

    /// The eras a log's process images and objects allow: those every marker found in the
    /// log agrees on. Empty when nothing dates the log or its markers contradict each other.
    pub fn log_eras(&self, images: &[String], objects: &[String]) -> Vec<&str> {
        let mut allowed: Option<Vec<&str>> = None;
        for marker in &self.era_markers {
            let by_image = marker
                .images
                .iter()
                .any(|m| images.iter().any(|i| i.eq_ignore_ascii_case(m)));
            let by_object = marker
                .objects
                .iter()
                .any(|m| objects.iter().any(|o| o.eq_ignore_ascii_case(m)));
            if !(by_image || by_object) {
                continue;
            }
            let eras: Vec<&str> = marker.eras.iter().map(String::as_str).collect();
            allowed = Some(match allowed {
                None => eras,
                Some(before) => before.into_iter().filter(|e| eras.contains(e)).collect(),
            });
        }
        let allowed = allowed.unwrap_or_default();
        // Keep the table's order (oldest first).
        self.eras
            .iter()
            .map(|e| e.name.as_str())
            .filter(|e| allowed.contains(e))
            .collect()
    }

    /// The eras whose servers were in service in `year`; empty for a year no era covers
    /// (a clock reset to 1601 or 1970 dates nothing).
    pub fn eras_in_year(&self, year: i32) -> Vec<&str> {
        self.eras
            .iter()
            .filter(|e| {
                e.in_service
                    .is_some_and(|[from, to]| (from..=to).contains(&year))
            })
            .map(|e| e.name.as_str())
            .collect()
    }

    /// How to say an era in a sentence.
    pub fn era_label<'a>(&'a self, name: &'a str) -> &'a str {
        self.eras
            .iter()
            .find(|e| e.name == name && !e.label.is_empty())
            .map_or(name, |e| e.label.as_str())
    }

    /// Whether an image hosts code from many components (`w3wp`, `svchost`, ...).
    pub fn is_host_image(&self, image: &str) -> bool {
        self.hosts
            .iter()
            .any(|h| h.images.iter().any(|i| i.eq_ignore_ascii_case(image)))
    }

    /// Whether an object is present on every machine or every server of its product.
    pub fn is_weak_object(&self, object: &str) -> bool {
        self.weak
            .iter()
            .any(|w| w.objects.iter().any(|o| o.eq_ignore_ascii_case(object)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_parse_and_link_spooler_names() {
        let tables = Aliases::builtin();
        assert!(tables.eras.iter().any(|e| e.name == "nt"));
        assert_eq!(Aliases::builtin().aliases_of("spoolss"), vec!["spoolsv"]);
        assert!(Aliases::builtin().aliases_of("inetinfo").contains(&"w3wp"));
        assert!(Aliases::builtin().aliases_of("notepad").is_empty());
    }

    #[test]
    fn log_with_spoolss_dates_to_nt() {
        let eras = Aliases::builtin().log_eras(&["spoolss".into(), "winlogon".into()], &[]);
        assert_eq!(eras, vec!["nt"]);
        let eras = Aliases::builtin().log_eras(&["w3wp".into()], &[]);
        assert_eq!(eras, vec!["xp2003", "current"]);
        let eras = Aliases::builtin().log_eras(&["w3wp".into(), "wininit".into()], &[]);
        assert_eq!(eras, vec!["current"]);
        let eras = Aliases::builtin().log_eras(&["svchost".into()], &["Process V2".into()]);
        assert_eq!(eras, vec!["current"]);
        // Contradicting markers date nothing rather than everything.
        let eras = Aliases::builtin().log_eras(&["spoolss".into(), "wininit".into()], &[]);
        assert!(eras.is_empty());
        assert!(Aliases::builtin()
            .log_eras(&["vmtoolsd".into()], &[])
            .is_empty());
    }

    #[test]
    fn years_and_weak_objects_come_from_the_tables() {
        let tables = Aliases::builtin();
        assert_eq!(tables.eras_in_year(2024), vec!["current"]);
        assert_eq!(tables.eras_in_year(1998), vec!["nt"]);
        assert!(tables.eras_in_year(1601).is_empty());
        assert!(tables.is_weak_object("web service"));
        assert!(tables.is_weak_object("Memory"));
        assert!(!tables.is_weak_object("Web Service Cache"));
        assert!(!tables.is_weak_object("SMTP Server"));
        assert!(tables.is_host_image("w3wp"));
        assert!(!tables.is_host_image("winlogon"));
        assert_eq!(tables.era_label("nt"), "Windows NT 3.x/4.0");
    }
}
