//! kb: findings + log context -> ranked [`KbMatch`]es. Holds the built-in catalogue, imports KB
//! article texts, and scores articles against a log's findings.

mod article;
pub mod cli;

pub use article::{KbArticle, KbMatch};

use crate::analysis::Finding;
use crate::ingest::PerfLog;

/// The articles in use: the built-in catalogue plus any the user added with `--kb`.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub articles: Vec<KbArticle>,
}

impl Catalogue {
    /// The catalogue compiled into the binary.
    pub fn builtin() -> Catalogue {
        Catalogue::default()
    }
}

/// Articles that fit the log's findings, best first; empty when nothing fits well.
pub fn match_findings(_catalogue: &Catalogue, _log: &PerfLog, _findings: &[Finding]) -> Vec<KbMatch> {
    Vec::new()
}
