//! Knowledge-base articles as the catalogue describes them, and the matches the matcher
//! produces: the `kb_matches` entries of report.json.

use serde::{Deserialize, Serialize};

/// One KB article's facts, as in the catalogue TOML (`[[kb]]` tables).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct KbArticle {
    pub id: String,
    pub title: String,
    pub products: Vec<String>,
    pub versions: Vec<String>,
    /// Lower-case image names without `.exe`; empty = the leak is in whichever process calls
    /// the faulty API.
    pub processes: Vec<String>,
    /// Catalogue counter keys: `private_bytes`, `handle_count`, `virtual_bytes`, `working_set`,
    /// `pool_nonpaged`, `pool_paged`, `thread_count`.
    pub counters: Vec<String>,
    pub conditions: Vec<String>,
    /// Perfmon objects or service names whose presence in a log supports the match.
    pub corroborating_objects: Vec<String>,
    pub fix: String,
    pub source: String,
    /// The growth the article describes is expected behaviour, not a leak: a fit argues
    /// against leak articles for the same process and counter.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub by_design: bool,
}

/// What an article is: one bug (or by-design behaviour) with a cause and a fix, or a
/// troubleshooting guide, worth listing but never the cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArticleKind {
    #[default]
    Bug,
    Guide,
}

impl ArticleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleKind::Bug => "bug",
            ArticleKind::Guide => "guide",
        }
    }
}

/// The facts of a catalogue entry that date and classify it (`kind`, `windows` in the TOML).
/// Kept beside [`KbArticle`] rather than in it, so code that builds articles field by field
/// (the importer) is unaffected; an article without an entry here is a bug whose Windows
/// versions come from its words (src/kb/eras.rs).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ArticleMeta {
    pub kind: ArticleKind,
    /// Windows versions the article applies to, as `data/kb/eras.toml` names them
    /// (`NT 4.0`, `2003`, `2012 R2`, `2022`).
    pub windows: Vec<String>,
    /// Perfmon objects the server the article is about always has (`NTDS` on a domain
    /// controller): without one of them in the log the article is at most possible.
    pub requires: Vec<String>,
}

/// One article ranked against a log's findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbMatch {
    pub id: String,
    pub title: String,
    /// 0..1.
    pub score: f64,
    pub processes: Vec<String>,
    /// Sentences saying why the article fits (and what argues against it).
    pub evidence: Vec<String>,
    pub fix: String,
    /// `likely`: the article's own process leaks, the counters it names all grow, and the
    /// log either shows something specific to it or no other article fits about as well.
    /// `possible`: worth checking, not the cause to name.
    pub strength: MatchStrength,
    /// `bug` or `guide` (a guide is never `likely`).
    pub kind: ArticleKind,
    /// The Windows versions the article applies to (`NT 4.0`, `2012 R2`, ...).
    pub windows: Vec<String>,
}

/// How far a match may be presented as the cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchStrength {
    Likely,
    Possible,
}

impl MatchStrength {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchStrength::Likely => "likely",
            MatchStrength::Possible => "possible",
        }
    }
}
