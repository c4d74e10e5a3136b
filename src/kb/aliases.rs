//! The alias tables in `data/kb/aliases.toml`: image names that changed across Windows
//! versions, and service names that stand for an image.

use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct AliasGroup {
    pub images: Vec<String>,
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

/// Title words of a troubleshooting guide.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GuideWords {
    #[serde(default)]
    pub title_words: Vec<String>,
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

#[derive(Debug, Clone, Deserialize)]
pub struct Aliases {
    #[serde(default, rename = "alias")]
    pub groups: Vec<AliasGroup>,
    #[serde(default, rename = "weak")]
    pub weak: Vec<WeakObjects>,
    #[serde(default, rename = "host")]
    pub hosts: Vec<HostImages>,
    #[serde(default, rename = "service")]
    pub services: Vec<ServiceImage>,
    #[serde(default, rename = "object")]
    pub objects: Vec<ObjectName>,
    #[serde(default)]
    pub guides: GuideWords,
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

    /// Whether a title is a troubleshooting guide's ("Troubleshoot WMI performance issues").
    pub fn is_guide_title(&self, title: &str) -> bool {
        let lower = title.to_ascii_lowercase();
        self.guides
            .title_words
            .iter()
            .any(|w| super::eras::contains_words(&lower, &w.to_ascii_lowercase()))
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
        assert_eq!(Aliases::builtin().aliases_of("spoolss"), vec!["spoolsv"]);
        assert!(Aliases::builtin().aliases_of("inetinfo").contains(&"w3wp"));
        assert!(Aliases::builtin().aliases_of("notepad").is_empty());
    }

    #[test]
    fn weak_objects_and_hosts_come_from_the_tables() {
        let tables = Aliases::builtin();
        assert!(tables.is_weak_object("web service"));
        assert!(tables.is_weak_object("Memory"));
        assert!(!tables.is_weak_object("Web Service Cache"));
        assert!(!tables.is_weak_object("SMTP Server"));
        assert!(tables.is_host_image("w3wp"));
        assert!(!tables.is_host_image("winlogon"));
        assert!(tables.is_weak_object("W3SVC_W3WP"));
        assert!(tables.is_guide_title("Troubleshoot WMI performance issues"));
        assert!(tables.is_guide_title("Data Capture for Managed Memory Leaks"));
        assert!(!tables.is_guide_title("Winlogon leaks memory when SMTPSVC counters are read"));
    }
}
