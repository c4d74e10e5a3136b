//! The alias tables in `data/kb/aliases.toml`: image names that changed across Windows
//! versions, what dates a log to an era, and service names that stand for an image.

use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct AliasGroup {
    pub images: Vec<String>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EraMarkers {
    pub name: String,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub objects: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceImage {
    pub names: Vec<String>,
    pub image: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Aliases {
    #[serde(default, rename = "alias")]
    pub groups: Vec<AliasGroup>,
    #[serde(default, rename = "era")]
    pub eras: Vec<EraMarkers>,
    #[serde(default, rename = "service")]
    pub services: Vec<ServiceImage>,
}

const ALIASES_TOML: &str = include_str!("../../data/kb/aliases.toml");

impl Aliases {
    /// The compiled-in tables (checked by the tests, so a parse failure is a build defect).
    pub fn builtin() -> &'static Aliases {
        static TABLES: OnceLock<Aliases> = OnceLock::new();
        TABLES.get_or_init(|| Aliases::parse(ALIASES_TOML).unwrap_or_else(|_| Aliases::empty()))
    }

    pub fn parse(text: &str) -> Result<Aliases, toml::de::Error> {
        toml::from_str(text)
    }

    fn empty() -> Aliases {
        Aliases {
            groups: Vec::new(),
            eras: Vec::new(),
            services: Vec::new(),
        }
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

    /// The eras a log's process images and objects point to; empty when nothing dates it.
    pub fn log_eras(&self, images: &[String], objects: &[String]) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for era in &self.eras {
            let by_image = era
                .images
                .iter()
                .any(|m| images.iter().any(|i| i.eq_ignore_ascii_case(m)));
            let by_object = era
                .objects
                .iter()
                .any(|m| objects.iter().any(|o| o.eq_ignore_ascii_case(m)));
            if (by_image || by_object) && !out.contains(&era.name.as_str()) {
                out.push(&era.name);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_parse_and_link_spooler_names() {
        let tables = Aliases::parse(ALIASES_TOML).expect("data/kb/aliases.toml parses");
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
        assert_eq!(eras, vec!["modern"]);
    }
}
