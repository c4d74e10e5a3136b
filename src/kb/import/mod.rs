//! KB article texts in the classic plain-text layout (`DOCUMENT:Q...` header, `=`-underlined
//! sections, keyword footer) -> catalogue entries. Articles that describe no process leak are
//! skipped; images, counters and objects are only taken from what the text says.

mod extract;
mod fix;
mod known;
mod layout;
mod names;
mod sentences;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rayon::prelude::*;

use super::KbArticle;
use extract::import_with;
use known::KnownNames;

/// Why an article text was not turned into an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The text names no memory, handle or resource leak.
    NoLeak,
    /// A how-to, sample or documentation article (may mention leaks as a topic).
    HowTo,
    /// A leak is described, but neither a process image nor a perfmon counter is named.
    NoProcessOrCounter,
    /// A list of many fixes (service-pack fix lists, readmes, rollups), not one problem.
    FixList,
    /// Only kernel pool leaks in a driver or the kernel: no process shows it.
    KernelOnly,
    /// A leak in the reader's own program built with a developer product (no service image).
    DeveloperCode,
}

/// The outcome of reading one article text.
#[derive(Debug, Clone, PartialEq)]
pub enum Imported {
    Entry(Box<KbArticle>),
    Skipped { id: String, why: Skip },
}

/// Reads files and folders (recursively, files ending `.txt`) and returns the entries of the
/// articles that describe a leak, sorted by id. A file named directly must be an article;
/// in folders, files without the layout are passed over with a warning on stderr.
pub fn import_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<KbArticle>> {
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_texts(path, &mut files)?;
        } else if path.exists() {
            files.push((path.clone(), true));
        } else {
            bail!("{}: no such file or folder", path.display());
        }
    }
    let known = KnownNames::new();
    let results: Vec<anyhow::Result<Option<KbArticle>>> = files
        .par_iter()
        .map(|(file, named)| {
            let bytes =
                std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
            let text = decode(&bytes);
            let origin = file.display().to_string();
            if !looks_like_article(&text) {
                if *named {
                    bail!("{origin}:1:1: not a KB article text (expected a 'DOCUMENT:Q...' first line)");
                }
                eprintln!("perfleak: {origin}: not a KB article text, skipped");
                return Ok(None);
            }
            match import_with(&text, &origin, &known)? {
                Imported::Entry(article) => Ok(Some(*article)),
                Imported::Skipped { .. } => Ok(None),
            }
        })
        .collect();
    let mut out = Vec::new();
    for result in results {
        if let Some(article) = result? {
            out.push(article);
        }
    }
    out.sort_by(|a, b| {
        id_number(&a.id)
            .cmp(&id_number(&b.id))
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

fn collect_texts(dir: &Path, out: &mut Vec<(PathBuf, bool)>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot read folder", dir.display()))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("{}: cannot read folder", dir.display()))?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_texts(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
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

fn looks_like_article(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_start().starts_with("DOCUMENT:"))
}

fn id_number(id: &str) -> u64 {
    id.trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .unwrap_or(u64::MAX)
}

/// Reads one article text; `origin` names it in messages and becomes the entry's `source`.
pub fn import_text(text: &str, origin: &str) -> anyhow::Result<Imported> {
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
