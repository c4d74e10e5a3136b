//! KB article texts -> catalogue entries. Two layouts: the classic plain text (`DOCUMENT:Q...`
//! header, `=`-underlined sections, keyword footer) and today's Markdown (YAML front matter,
//! `##` sections, links, tables, code blocks). Articles that describe no growing process or
//! kernel resource are skipped, whether or not they say "leak"; images, counters and objects
//! are only taken from what the text says.

mod eras;
mod extract;
mod fix;
mod known;
mod layout;
mod markdown;
mod names;
mod sentences;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

use super::KbArticle;
use extract::import_with;
use known::KnownNames;

/// Why an article text was not turned into an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The text tells of no process's or kernel's resource that leaks, keeps growing, is not
    /// given back or is used up (for a guide or how-to: leaks are not its topic).
    NoLeak,
    /// A leak is described, but neither a process image nor a perfmon counter is named.
    NoProcessOrCounter,
    /// A list of many fixes (service-pack fix lists, readmes, rollups), not one problem.
    FixList,
    /// A leak in the reader's own program built with a developer product (no service image).
    DeveloperCode,
}

/// Why article texts could not be imported: each names the file (and, for a text without
/// the layout, the line and column).
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{path}: no such file or folder")]
    Missing { path: String },
    #[error("{path}: cannot read: {}", crate::error_chain(.error))]
    Read { path: String, error: std::io::Error },
    #[error("{path}: cannot read folder: {}", crate::error_chain(.error))]
    Folder { path: String, error: std::io::Error },
    #[error("{origin}:{line}:{column}: {message}")]
    Layout {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// A bug (one defect, one fix: it can be the cause) or a troubleshooting guide (things to
/// check: worth listing, never the cause): the catalogue's own kind.
pub use super::ArticleKind;

/// What the importer reads from an article beyond the catalogue's fields. `kind` and
/// `windows` are those of the catalogue's [`ArticleMeta`](super::ArticleMeta).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleFacts {
    pub kind: ArticleKind,
    /// Windows versions the article applies to, oldest first, as `data/kb/eras.toml` names
    /// them: `NT 4.0`, `2000`, `2003`, `2008`, `2008 R2`, `2012`, `2012 R2`, `2016`, `2019`,
    /// `2022`, `2025` (empty: not said).
    pub windows: Vec<String>,
    /// Product releases it names, product and version together: `IIS 7.0`,
    /// `.NET Framework 4.5`, `SQL Server 2019`, `Exchange Server 2010`.
    pub product_versions: Vec<String>,
    /// The growth is in the kernel (paged/nonpaged pool, system cache), not in a process:
    /// the system-wide counters show it.
    pub system: bool,
    /// Update, cumulative update or service pack numbers the fix names (`KB4013429`,
    /// `SQL Server 2019 CU16`, `Windows NT 4.0 SP4`).
    pub fix_releases: Vec<String>,
    /// The date the text carries (`DOCUMENT:` line or `ms.date`), as written.
    pub date: String,
}

/// One imported article: the catalogue entry and the facts beside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedArticle {
    #[serde(flatten)]
    pub article: KbArticle,
    #[serde(flatten)]
    pub facts: ArticleFacts,
}

/// The entries of the texts read, and the texts in folders that were passed over (no
/// article layout), for the caller to tell the user.
#[derive(Debug, Clone, Default)]
pub struct ImportedTexts {
    pub articles: Vec<KbArticle>,
    /// `facts[i]` is about `articles[i]`.
    pub facts: Vec<ArticleFacts>,
    pub passed_over: Vec<String>,
}

impl ArticleFacts {
    /// The catalogue's facts of the entry (kind and Windows versions; nothing required).
    pub fn meta(&self) -> super::ArticleMeta {
        super::ArticleMeta {
            kind: self.kind,
            windows: self.windows.clone(),
            ..super::ArticleMeta::default()
        }
    }
}

impl ImportedTexts {
    /// Each entry with its facts, in the same order as `articles`.
    pub fn entries(&self) -> Vec<ImportedArticle> {
        self.articles
            .iter()
            .zip(&self.facts)
            .map(|(article, facts)| ImportedArticle {
                article: article.clone(),
                facts: facts.clone(),
            })
            .collect()
    }
}

/// One `[[kb]]` table of an imported catalogue: the entry with the kind and Windows versions
/// the catalogue reads beside it.
#[derive(Serialize)]
struct CatalogueEntry<'a> {
    #[serde(flatten)]
    article: &'a KbArticle,
    kind: ArticleKind,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    windows: &'a [String],
}

#[derive(Serialize)]
struct CatalogueOut<'a> {
    kb: Vec<CatalogueEntry<'a>>,
}

impl ImportedTexts {
    /// Catalogue TOML (`[[kb]]` tables) of the entries, each with its `kind` and `windows`,
    /// which `--kb file.toml` reads back with them.
    pub fn to_catalogue_toml(&self) -> Result<String, super::KbError> {
        let kb = self
            .articles
            .iter()
            .zip(&self.facts)
            .map(|(article, facts)| CatalogueEntry {
                article,
                kind: facts.kind,
                windows: &facts.windows,
            })
            .collect();
        let body = toml::to_string(&CatalogueOut { kb }).map_err(super::KbError::Toml)?;
        Ok(format!(
            "# KB catalogue entries imported by perfleak {}\n\n{body}",
            env!("CARGO_PKG_VERSION")
        ))
    }
}

/// The outcome of reading one article text.
#[derive(Debug, Clone, PartialEq)]
pub enum Imported {
    Entry(Box<ImportedArticle>),
    Skipped { id: String, why: Skip },
}

/// Reads files and folders (recursively, files ending `.txt` or `.md`) and returns the entries
/// of the articles that describe a leak, sorted by id, one per id (the first path's). A file named directly must be an
/// article; in folders, files without either layout are passed over and listed in
/// `passed_over`.
pub fn import_paths(paths: &[PathBuf]) -> Result<ImportedTexts, ImportError> {
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_texts(path, &mut files)?;
        } else if path.exists() {
            files.push((path.clone(), true));
        } else {
            return Err(ImportError::Missing {
                path: path.display().to_string(),
            });
        }
    }
    let known = KnownNames::new();
    /// What one text gave: an entry, nothing (not a leak article), or no layout.
    enum Read {
        Entry(Box<ImportedArticle>),
        Nothing,
        PassedOver(String),
    }
    let results: Vec<Result<Read, ImportError>> = files
        .par_iter()
        .map(|(file, named)| {
            let bytes = std::fs::read(file).map_err(|error| ImportError::Read {
                path: file.display().to_string(),
                error,
            })?;
            let text = decode(&bytes);
            let origin = file.display().to_string();
            if !looks_like_article(&text, *named) {
                if *named {
                    return Err(layout_error(
                        &origin,
                        1,
                        1,
                        "not a KB article text (expected a 'DOCUMENT:Q...' first line, or \
                         Markdown front matter or a '# ' title)"
                            .into(),
                    ));
                }
                return Ok(Read::PassedOver(origin));
            }
            Ok(match import_with(&text, &origin, &known)? {
                Imported::Entry(article) => Read::Entry(article),
                Imported::Skipped { .. } => Read::Nothing,
            })
        })
        .collect();
    let mut entries: Vec<ImportedArticle> = Vec::new();
    let mut out = ImportedTexts::default();
    for result in results {
        match result? {
            Read::Entry(entry) => entries.push(*entry),
            Read::Nothing => {}
            Read::PassedOver(origin) => out.passed_over.push(origin),
        }
    }
    entries.sort_by(|a, b| {
        id_number(&a.article.id)
            .cmp(&id_number(&b.article.id))
            .then(a.article.id.cmp(&b.article.id))
    });
    // The same article found twice (two copies of a collection) is one entry.
    entries.dedup_by(|b, a| a.article.id.eq_ignore_ascii_case(&b.article.id));
    for entry in entries {
        out.articles.push(entry.article);
        out.facts.push(entry.facts);
    }
    Ok(out)
}

/// A text without the article layout, at its line and column.
pub(super) fn layout_error(
    origin: &str,
    line: usize,
    column: usize,
    message: String,
) -> ImportError {
    ImportError::Layout {
        origin: origin.to_string(),
        line,
        column,
        message,
    }
}

fn collect_texts(dir: &Path, out: &mut Vec<(PathBuf, bool)>) -> Result<(), ImportError> {
    let folder_error = |error| ImportError::Folder {
        path: dir.display().to_string(),
        error,
    };
    let entries = std::fs::read_dir(dir).map_err(folder_error)?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(folder_error)?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_texts(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("txt") || e.eq_ignore_ascii_case("md"))
        {
            out.push((path, false));
        }
    }
    Ok(())
}

/// The archive is ASCII; anything else is most likely a Windows code page.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.trim_start_matches('\u{feff}').to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

/// A classic text, or Markdown with front matter; a file named directly may also be Markdown
/// that starts with its `# ` title (in folders such files are notes and READMEs).
fn looks_like_article(text: &str, named: bool) -> bool {
    markdown::has_front_matter(text)
        || (named && markdown::looks_like_markdown(text))
        || text
            .lines()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim_start().starts_with("DOCUMENT:"))
}

fn id_number(id: &str) -> u64 {
    id.trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .unwrap_or(u64::MAX)
}

/// Reads one article text; `origin` names it in messages and becomes the entry's `source`.
pub fn import_text(text: &str, origin: &str) -> Result<Imported, ImportError> {
    import_with(text, origin, &KnownNames::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_layout_is_an_error_naming_the_file() {
        let err = import_text("hello\nworld\n", "notes.txt")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("notes.txt:1:1:"), "{err}");
    }
}
