//! kb: findings + log context -> ranked [`KbMatch`]es. Holds the built-in catalogue, imports KB
//! article texts, and scores articles against a log's findings.

mod aliases;
mod article;
mod eras;
mod error;
pub mod import;
mod matcher;
mod weights;

pub use aliases::Aliases;
pub use article::{ArticleKind, ArticleMeta, KbArticle, KbMatch, MatchStrength};
pub use eras::{Eras, LogSigns, LogVersions};
pub use error::KbError;
pub use matcher::match_findings;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// The catalogue's counter keys, each with the canonical perfmon counter names it stands for
/// (per-process first, then the system-wide `Memory` counter where one exists).
pub const COUNTER_KEYS: [(&str, &[&str]); 7] = [
    ("private_bytes", &["Private Bytes", "Page File Bytes"]),
    ("handle_count", &["Handle Count"]),
    ("virtual_bytes", &["Virtual Bytes"]),
    ("working_set", &["Working Set", "Working Set - Private"]),
    ("pool_nonpaged", &["Pool Nonpaged Bytes"]),
    ("pool_paged", &["Pool Paged Bytes"]),
    ("thread_count", &["Thread Count"]),
];

/// The catalogue key of a canonical counter name (`Handle Count` -> `handle_count`).
pub fn counter_key(counter: &str) -> Option<&'static str> {
    COUNTER_KEYS
        .iter()
        .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(counter)))
        .map(|(key, _)| *key)
}

/// The display name of a catalogue counter key (`handle_count` -> `Handle Count`).
pub fn counter_display(key: &str) -> &str {
    COUNTER_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, names)| names[0])
        .unwrap_or(key)
}

/// The Windows versions of an article, for people (see [`Catalogue::windows_of`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleWindows {
    /// `Windows Server 2012 R2 to 2022`.
    pub full: String,
    /// `2012 R2 to 2022`.
    pub short: String,
    /// The catalogue entry named them (else they come from the article's words).
    pub from_entry: bool,
}

/// The articles in use: the built-in catalogue plus any the user added with `--kb`.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub articles: Vec<KbArticle>,
    /// What the user should hear about the added paths (texts in a folder passed over).
    pub notes: Vec<String>,
    /// Kind and Windows versions of the articles whose catalogue entry gives them, by lower-case
    /// id (see [`ArticleMeta`] for why they are kept apart).
    pub meta: HashMap<String, ArticleMeta>,
}

impl Catalogue {
    /// The catalogue compiled into the binary (`data/kb/catalog.toml`, loaded as every
    /// built-in table is, and its entries checked as an added catalogue's are).
    pub fn builtin() -> Catalogue {
        static ENTRIES: LazyLock<Entries> = LazyLock::new(|| {
            let text = crate::data::data_text!("kb/catalog.toml");
            parse_entries(text, "data/kb/catalog.toml")
                .unwrap_or_else(|e| crate::data::broken("kb/catalog.toml", e))
        });
        Catalogue {
            articles: ENTRIES.0.clone(),
            notes: Vec::new(),
            meta: ENTRIES.1.clone(),
        }
    }

    /// A catalogue of just these articles.
    pub fn from_articles(articles: Vec<KbArticle>) -> Catalogue {
        Catalogue {
            articles,
            notes: Vec::new(),
            meta: HashMap::new(),
        }
    }

    /// The kind and Windows versions of an article (a bug dated by its words when its entry
    /// gives neither).
    pub fn meta_of(&self, id: &str) -> ArticleMeta {
        self.meta
            .get(&id.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// The Windows versions an article applies to, as the matcher dates it (its entry's
    /// `windows`, else its words), said in full and in short.
    pub fn windows_of(&self, article: &KbArticle) -> ArticleWindows {
        let meta = self.meta_of(&article.id);
        let eras = eras::Eras::builtin();
        let versions = eras.article_versions(article, &meta.windows);
        ArticleWindows {
            full: eras.describe(&versions),
            short: eras.describe_short(&versions),
            from_entry: !meta.windows.is_empty(),
        }
    }

    /// The built-in catalogue plus each path: a catalogue file (`.toml`), a KB article text,
    /// or a folder of article texts. An added article replaces a built-in one with its id.
    pub fn with_extra(paths: &[PathBuf]) -> Result<Catalogue, KbError> {
        let mut catalogue = Catalogue::builtin();
        for path in paths {
            let (articles, meta) = load_path(path, &mut catalogue.notes)?;
            for article in articles {
                let key = article.id.to_ascii_lowercase();
                catalogue.meta.remove(&key);
                if let Some(m) = meta.get(&key) {
                    catalogue.meta.insert(key, m.clone());
                }
                catalogue.insert(article);
            }
        }
        Ok(catalogue)
    }

    /// Adds an article, replacing one with the same id.
    pub fn insert(&mut self, article: KbArticle) {
        match self
            .articles
            .iter_mut()
            .find(|a| a.id.eq_ignore_ascii_case(&article.id))
        {
            Some(slot) => *slot = article,
            None => self.articles.push(article),
        }
    }

    /// Looks an article up by id; `Q192265`, `q192265`, `192265` and `KB192265` all find it.
    pub fn get(&self, id: &str) -> Option<&KbArticle> {
        let wanted = bare_number(id);
        self.articles
            .iter()
            .find(|a| a.id.eq_ignore_ascii_case(id))
            .or_else(|| self.articles.iter().find(|a| bare_number(&a.id) == wanted))
    }
}

/// `Q192265` / `KB192265` / `192265` -> `192265`.
fn bare_number(id: &str) -> String {
    let upper = id.trim().to_ascii_uppercase();
    let digits = upper.trim_start_matches("KB").trim_start_matches('Q');
    digits.to_string()
}

/// Reads a user-supplied catalogue file, article text or folder of article texts.
fn load_path(path: &Path, notes: &mut Vec<String>) -> Result<Entries, KbError> {
    if path.is_dir() {
        return import_folder(path, notes);
    }
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if is_toml {
        let text = std::fs::read_to_string(path).map_err(|error| KbError::Read {
            file: path.display().to_string(),
            error,
        })?;
        return parse_entries(&text, &path.display().to_string());
    }
    import_folder(path, notes)
}

/// The articles of a text or folder of texts, each a guide when its title says so (the
/// versions come from its words); texts passed over are added to `notes`.
fn import_folder(path: &Path, notes: &mut Vec<String>) -> Result<Entries, KbError> {
    let imported = import::import_paths(std::slice::from_ref(&path.to_path_buf()))?;
    notes.extend(
        imported
            .passed_over
            .into_iter()
            .map(|origin| format!("{origin}: not a KB article text, skipped")),
    );
    // The importer read each text's kind (a guide by its title or its layout) and the Windows
    // versions it names; the matcher needs them as it needs the built-in catalogue's.
    let meta = imported
        .articles
        .iter()
        .zip(&imported.facts)
        .map(|(a, f)| (a.id.to_ascii_lowercase(), f.meta()))
        .collect();
    Ok((imported.articles, meta))
}

#[derive(serde::Deserialize)]
struct CatalogueFile {
    #[serde(default)]
    kb: Vec<KbArticle>,
}

/// The same tables read for their kind and Windows versions.
#[derive(serde::Deserialize)]
struct MetaFile {
    #[serde(default)]
    kb: Vec<MetaEntry>,
}

/// (Fields spelled out rather than a flattened [`ArticleMeta`], so errors keep their place.)
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct MetaEntry {
    id: String,
    kind: ArticleKind,
    windows: Vec<String>,
    requires: Vec<String>,
}

/// A catalogue's articles and, by lower-case id, the kind and versions its entries give.
type Entries = (Vec<KbArticle>, HashMap<String, ArticleMeta>);

/// Parses catalogue TOML (`[[kb]]` tables) and checks every entry; errors name the file,
/// line and column.
pub fn parse_catalogue(text: &str, origin: &str) -> Result<Vec<KbArticle>, KbError> {
    parse_entries(text, origin).map(|(articles, _)| articles)
}

/// [`parse_catalogue`], with each entry's kind and Windows versions.
fn parse_entries(text: &str, origin: &str) -> Result<Entries, KbError> {
    let invalid = |line, column, message| invalid(origin, line, column, message);
    let syntax = |e: toml::de::Error| {
        let (line, column) = e
            .span()
            .map(|s| line_column(text, s.start))
            .unwrap_or((1, 1));
        invalid(
            line,
            column,
            format!("invalid KB catalogue: {}", e.message()),
        )
    };
    let file: CatalogueFile = toml::from_str(text).map_err(syntax)?;
    let meta: MetaFile = toml::from_str(text).map_err(syntax)?;
    let eras = Eras::builtin();
    let mut by_id = HashMap::new();
    for entry in meta.kb {
        for version in &entry.windows {
            if eras.index(version).is_none() {
                let (line, column) = entry_position(text, &entry.id);
                let known: Vec<&str> = eras.windows.iter().map(|w| w.name.as_str()).collect();
                return Err(invalid(
                    line,
                    column,
                    format!(
                        "KB entry {}: unknown Windows version '{version}' (expected one of {})",
                        entry.id,
                        known.join(", ")
                    ),
                ));
            }
        }
        let meta = ArticleMeta {
            kind: entry.kind,
            windows: entry.windows,
            requires: entry.requires,
        };
        by_id.insert(entry.id.to_ascii_lowercase(), meta);
    }
    Ok((check_entries(file, text, origin)?, by_id))
}

/// Checks the entries of a parsed catalogue (an id each, known counter keys); errors name the
/// file, line and column of the entry.
fn check_entries(file: CatalogueFile, text: &str, origin: &str) -> Result<Vec<KbArticle>, KbError> {
    let invalid = |line, column, message| invalid(origin, line, column, message);
    for article in &file.kb {
        let (line, column) = entry_position(text, &article.id);
        if article.id.trim().is_empty() {
            return Err(invalid(line, column, "KB entry without an id".into()));
        }
        for counter in &article.counters {
            if counter_key_exists(counter).is_none() {
                let keys: Vec<&str> = COUNTER_KEYS.iter().map(|(k, _)| *k).collect();
                return Err(invalid(
                    line,
                    column,
                    format!(
                        "KB entry {}: unknown counter key '{counter}' (expected one of {})",
                        article.id,
                        keys.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(file.kb)
}

/// A catalogue entry that cannot be used, at its line and column.
fn invalid(origin: &str, line: usize, column: usize, message: String) -> KbError {
    KbError::Catalogue {
        origin: origin.to_string(),
        line,
        column,
        message,
    }
}

fn counter_key_exists(key: &str) -> Option<&'static str> {
    COUNTER_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(k, _)| *k)
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// Where an entry's `id = "..."` line is, for messages about that entry.
fn entry_position(text: &str, id: &str) -> (usize, usize) {
    let needle = format!("\"{id}\"");
    text.lines()
        .position(|l| l.trim_start().starts_with("id") && l.contains(&needle))
        .map(|i| (i + 1, 1))
        .unwrap_or((1, 1))
}

#[derive(serde::Serialize)]
struct CatalogueOut<'a> {
    kb: &'a [KbArticle],
}

/// Catalogue TOML (`[[kb]]` tables) that `--kb file.toml` reads back.
pub fn to_catalogue_toml(articles: &[KbArticle]) -> Result<String, KbError> {
    let body = toml::to_string(&CatalogueOut { kb: articles }).map_err(KbError::Toml)?;
    Ok(format!(
        "# KB catalogue entries imported by perfleak {}\n\n{body}",
        env!("CARGO_PKG_VERSION")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_loads_with_valid_counter_keys() {
        let articles = Catalogue::builtin().articles;
        let catalogue = Catalogue::builtin();
        assert!(articles.len() >= 150, "{} entries", articles.len());
        for a in &articles {
            assert!(!a.id.is_empty() && !a.title.is_empty(), "{a:?}");
            // Every entry is dated; only an article about a limit no counter shows (the
            // desktop heap of KB870655) has no counter.
            let meta = catalogue.meta.get(&a.id.to_ascii_lowercase());
            assert!(
                meta.is_some_and(|m| !m.windows.is_empty()),
                "{} has no Windows versions",
                a.id
            );
            assert!(
                !a.counters.is_empty() || a.id == "KB870655",
                "{} has no counters",
                a.id
            );
            for c in &a.counters {
                assert!(counter_key_exists(c).is_some(), "{}: {c}", a.id);
            }
            for p in &a.processes {
                assert!(
                    p == &p.to_ascii_lowercase() && !p.ends_with(".exe"),
                    "{}: process '{p}' must be a lower-case image without .exe",
                    a.id
                );
            }
        }
        let mut ids: Vec<&str> = articles.iter().map(|a| a.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), articles.len(), "duplicate ids");
    }

    #[test]
    fn kind_and_windows_are_read_and_checked() {
        let cat = Catalogue::builtin();
        assert_eq!(cat.meta_of("Q192265").windows, vec!["NT 4.0"]);
        assert_eq!(
            cat.meta_of("troubleshoot-wmi-performance-issues").kind,
            ArticleKind::Guide
        );
        assert_eq!(cat.meta_of("KB5035857").requires, vec!["NTDS"]);
        let guides = cat
            .articles
            .iter()
            .filter(|a| cat.meta_of(&a.id).kind == ArticleKind::Guide)
            .count();
        assert!(guides >= 9, "{guides} guides");
        let text = "[[kb]]\nid = \"Q1\"\ntitle = \"t\"\nwindows = [\"NT 5.0\"]\n";
        let err = parse_catalogue(text, "user.toml").unwrap_err().to_string();
        assert!(
            err.contains("user.toml:2:1") && err.contains("NT 5.0"),
            "{err}"
        );
        let text = "[[kb]]\nid = \"Q1\"\ntitle = \"t\"\nkind = \"howto\"\n";
        let err = parse_catalogue(text, "user.toml").unwrap_err().to_string();
        assert!(err.starts_with("user.toml:4:"), "{err}");
    }

    #[test]
    fn bad_counter_key_is_reported_with_line() {
        let text = "[[kb]]\nid = \"Q1\"\ntitle = \"t\"\ncounters = [\"private_byte\"]\n";
        let err = parse_catalogue(text, "user.toml").unwrap_err().to_string();
        assert!(
            err.contains("user.toml:2:1") && err.contains("private_byte"),
            "{err}"
        );
    }

    #[test]
    fn toml_syntax_error_names_line_and_column() {
        let text = "[[kb]]\nid = \"Q1\"\ntitle = \n";
        let err = parse_catalogue(text, "user.toml").unwrap_err().to_string();
        assert!(err.starts_with("user.toml:3:"), "{err}");
    }

    #[test]
    fn lookup_accepts_number_forms() {
        let cat = Catalogue::builtin();
        assert_eq!(cat.get("q192265").map(|a| a.id.as_str()), Some("Q192265"));
        assert_eq!(cat.get("192265").map(|a| a.id.as_str()), Some("Q192265"));
        assert_eq!(cat.get("KB919790").map(|a| a.id.as_str()), Some("KB919790"));
        assert!(cat.get("Q1").is_none());
    }

    #[test]
    fn counter_names_map_to_keys() {
        assert_eq!(counter_key("Handle Count"), Some("handle_count"));
        assert_eq!(counter_key("Pool Nonpaged Bytes"), Some("pool_nonpaged"));
        assert_eq!(counter_key("% Processor Time"), None);
        assert_eq!(counter_display("private_bytes"), "Private Bytes");
    }
}
