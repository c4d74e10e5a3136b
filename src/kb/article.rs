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
