//! What the user named on the command line -> readable log sources: files, folders (walked
//! recursively), `.gz` files, entries of `.zip` archives (streamed, never extracted) and `-`
//! for stdin. Sources are plain data (Send + Sync) so the batch stage can read them in parallel.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zip::read::OwnedZipFileEntry;
// The iterable reader keeps entries that share a name (the indexed one keeps the last only)
// and lists in one pass; unstable API, hence the exact version in Cargo.toml.
use zip::unstable::read::ZipIterable;

use super::budget::{Budget, FREE_DECODED_BYTES, MAX_DECODED_BYTES, MAX_EXPANSION_RATIO};
use super::error::IngestError;
use super::log::PerfLog;
use super::ReadOptions;
use crate::error_chain;

/// File name endings collected from folders and archives (case-insensitive).
const LOG_EXTENSIONS: &[&str] = &["csv", "tsv", "txt", "gz", "zip", "blg"];

/// One log to read.
#[derive(Debug, Clone)]
pub enum LogSource {
    /// A plain or gzip-compressed file.
    File(PathBuf),
    /// Entry `index` of a zip archive; `entry` is its path inside the archive, made safe
    /// for display by [`entry_display_path`].
    /// `entry` is unique in its archive: a second entry of the same name is `name (2)`.
    ZipEntry {
        archive: PathBuf,
        index: usize,
        entry: String,
        compressed_size: u64,
        /// Where the entry is, from the archive's listing: read without listing again.
        located: Arc<OwnedZipFileEntry>,
    },
    /// Standard input, streamed when the source is read (at most once per run).
    Stdin,
}

impl LogSource {
    /// The name used in messages and reports (`archive.zip!entry.csv`, `-` for stdin).
    pub fn name(&self) -> String {
        match self {
            LogSource::File(p) => p.display().to_string(),
            LogSource::ZipEntry { archive, entry, .. } => {
                format!("{}!{entry}", archive.display())
            }
            LogSource::Stdin => "-".to_string(),
        }
    }
}

/// Expands inputs into sources; inputs that cannot be used are returned with their error
/// instead of stopping the others, and so are the links a walk does not follow. Every file is
/// read once, however many names lead to it (device and inode).
pub fn expand_inputs(inputs: &[PathBuf]) -> (Vec<LogSource>, Vec<(String, IngestError)>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let mut walked = HashSet::new();
    let mut read_files = HashMap::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            // Streamed, not buffered: a log piped in costs its columns, not its text as well.
            if sources.iter().any(|s| matches!(s, LogSource::Stdin)) {
                errors.push(("-".to_string(), IngestError::StdinTwice));
            } else {
                sources.push(LogSource::Stdin);
            }
        } else if input.is_dir() {
            let mut files = Vec::new();
            walk(input, &mut walked, &mut files, &mut errors);
            files.sort();
            for file in files {
                if first_time(&file, &mut read_files, &mut errors) {
                    add_file(&file, &mut sources, &mut errors);
                }
            }
        } else if input.exists() {
            if first_time(input, &mut read_files, &mut errors) {
                add_file(input, &mut sources, &mut errors);
            }
        } else {
            errors.push((
                input.display().to_string(),
                IngestError::input(input, "no such file or folder"),
            ));
        }
    }
    (sources, errors)
}

/// A file's identity whatever name leads to it.
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

/// True the first time `path`'s file is met; a second name for it is noted and skipped.
fn first_time(
    path: &Path,
    read_files: &mut HashMap<(u64, u64), PathBuf>,
    errors: &mut Vec<(String, IngestError)>,
) -> bool {
    // A broken link has no identity: it is read, and its error says why.
    let Ok(meta) = std::fs::metadata(path) else {
        return true;
    };
    match read_files.get(&identity(&meta)) {
        None => {
            read_files.insert(identity(&meta), path.to_path_buf());
            true
        }
        Some(first) => {
            errors.push((
                path.display().to_string(),
                IngestError::input(
                    path,
                    format!("skipped, the same file as {} (read once)", first.display()),
                ),
            ));
            false
        }
    }
}

fn has_log_extension(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    LOG_EXTENSIONS
        .iter()
        .any(|ext| lower.rsplit_once('.').is_some_and(|(_, e)| e == *ext))
}

/// Collects the log files under `root`. Links to files are followed (each file is read once,
/// see [`first_time`]); links to folders are not (a link to `/` or to an ancestor would read
/// the filesystem or loop): they are noted, to be given as inputs if wanted. A folder met twice
/// (a bind mount, or one given again) is walked once.
fn walk(
    root: &Path,
    walked: &mut HashSet<(u64, u64)>,
    out: &mut Vec<PathBuf>,
    errors: &mut Vec<(String, IngestError)>,
) {
    let mut folders = vec![root.to_path_buf()];
    while let Some(dir) = folders.pop() {
        let fresh = std::fs::metadata(&dir).map(|m| walked.insert(identity(&m)));
        match fresh {
            Ok(true) => {}
            Ok(false) => {
                if dir != root {
                    errors.push((
                        dir.display().to_string(),
                        IngestError::input(
                            &dir,
                            "skipped, a folder already read (a mount or link loop)",
                        ),
                    ));
                }
                continue;
            }
            Err(e) => {
                errors.push((
                    dir.display().to_string(),
                    IngestError::input(&dir, e.to_string()),
                ));
                continue;
            }
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push((
                    dir.display().to_string(),
                    IngestError::input(&dir, e.to_string()),
                ));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    errors.push((
                        dir.display().to_string(),
                        IngestError::input(&dir, e.to_string()),
                    ));
                    continue;
                }
            };
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_symlink() && path.is_dir() {
                errors.push((
                    path.display().to_string(),
                    IngestError::input(
                        &path,
                        "not followed, a link to a folder inside a folder given (give its target as an input to read it)",
                    ),
                ));
            } else if path
                .file_name()
                .is_some_and(|n| has_log_extension(&n.to_string_lossy()))
            {
                out.push(path);
            }
        }
    }
}

/// Only a regular file is probed: opening a named pipe to look would eat what it holds.
fn is_zip(path: &Path) -> bool {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|_| super::sniff::is_zip_magic(&magic))
}

/// An entry's path inside its archive as shown to the user: folders kept (two servers'
/// `Admin/DataCollector01.csv` must stay apart), backslashes as `/`, and no `..`, `.` or
/// leading `/` (it only labels the log; nothing is ever written at this path).
pub fn entry_display_path(raw: &str) -> String {
    raw.split(['/', '\\'])
        .filter(|part| !part.is_empty() && *part != "." && *part != "..")
        .collect::<Vec<_>>()
        .join("/")
}

/// At most this many skipped entry names are listed in a message.
const LISTED_SKIPS: usize = 3;

fn list_names(names: &[String]) -> String {
    let mut text = names
        .iter()
        .take(LISTED_SKIPS)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED_SKIPS {
        text.push_str(&format!(" and {} more", names.len() - LISTED_SKIPS));
    }
    text
}

/// Why an archive gave no log, from what it held instead.
fn no_log_reason(folders: usize, nested: &[String], other: &[String]) -> String {
    if folders == 0 && nested.is_empty() && other.is_empty() {
        return "the zip archive is empty".to_string();
    }
    let mut skipped = Vec::new();
    if !nested.is_empty() {
        skipped.push(format!(
            "nested archives are not opened ({}): extract them and give them as inputs",
            list_names(nested)
        ));
    }
    if !other.is_empty() {
        skipped.push(format!(
            "{} entr{} without a log file name skipped ({})",
            other.len(),
            if other.len() == 1 { "y" } else { "ies" },
            list_names(other)
        ));
    }
    if folders > 0 {
        skipped.push(format!(
            "{folders} folder{} only",
            if folders == 1 { "" } else { "s" }
        ));
    }
    format!("the zip archive holds no log: {}", skipped.join("; "))
}

fn add_file(path: &Path, sources: &mut Vec<LogSource>, errors: &mut Vec<(String, IngestError)>) {
    if !is_zip(path) {
        sources.push(LogSource::File(path.to_path_buf()));
        return;
    }
    let name = path.display().to_string();
    let before = (sources.len(), errors.len());
    let mut folders = 0usize;
    let mut nested = Vec::new();
    let mut other = Vec::new();
    // Entry names met so far, to tell entries of the same name apart.
    let mut names: HashMap<String, usize> = HashMap::new();
    let listed = (|| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let file = std::fs::File::open(path)?;
        let mut archive =
            ZipIterable::try_new(std::io::BufReader::new(file), zip::read::Config::default())?;
        for (index, entry) in archive.files()?.enumerate() {
            let entry = entry?;
            if entry.is_dir() {
                folders += 1;
                continue;
            }
            // Folders inside the archive only label the entry; nothing is written to disk.
            let shown = entry_display_path(&String::from_utf8_lossy(entry.name_raw()));
            let base = shown.rsplit('/').next().unwrap_or(&shown).to_string();
            if base.to_ascii_lowercase().ends_with(".zip") {
                nested.push(shown);
                continue;
            }
            if !has_log_extension(&base) {
                other.push(shown);
                continue;
            }
            // Two entries of one name are two logs: the second is `name (2)`, never dropped.
            let seen = names.entry(shown.clone()).or_insert(0);
            *seen += 1;
            let shown = if *seen == 1 {
                shown
            } else {
                format!("{shown} ({seen})")
            };
            let entry_name = format!("{name}!{shown}");
            // What the header claims refuses a bomb early; what is decoded is held to the
            // same budget when read (see `budget`).
            let declared = entry.size();
            let compressed = entry.compressed_size();
            if declared > MAX_DECODED_BYTES {
                errors.push((
                    entry_name.clone(),
                    IngestError::archive(
                        &entry_name,
                        format!("refused, it would expand to {declared} bytes"),
                    ),
                ));
                continue;
            }
            if declared > FREE_DECODED_BYTES && declared / compressed.max(1) > MAX_EXPANSION_RATIO {
                errors.push((
                    entry_name.clone(),
                    IngestError::archive(
                        &entry_name,
                        format!(
                            "refused, it claims to expand {}x (limit {MAX_EXPANSION_RATIO}x)",
                            declared / compressed.max(1)
                        ),
                    ),
                ));
                continue;
            }
            sources.push(LogSource::ZipEntry {
                archive: path.to_path_buf(),
                index,
                entry: shown,
                compressed_size: compressed,
                located: Arc::new(entry.into()),
            });
        }
        Ok(())
    })();
    if let Err(e) = listed {
        errors.push((
            name.clone(),
            IngestError::archive(
                &name,
                format!("unreadable zip archive: {}", error_chain(e.as_ref())),
            ),
        ));
        return;
    }
    if (sources.len(), errors.len()) == before {
        let reason = no_log_reason(folders, &nested, &other);
        errors.push((name.clone(), IngestError::archive(&name, reason)));
    } else {
        // The archive's logs are read; a zip inside it would pass unnoticed without this.
        for inner in nested {
            let entry_name = format!("{name}!{inner}");
            errors.push((
                entry_name.clone(),
                IngestError::archive(
                    &entry_name,
                    "not opened, nested archives are not read: extract it and give it as an input",
                ),
            ));
        }
    }
}

/// Reads one source into a [`PerfLog`].
pub fn read_source(source: &LogSource, options: &ReadOptions) -> Result<PerfLog, IngestError> {
    match source {
        LogSource::File(path) => super::read_file(path, options),
        LogSource::Stdin => super::read_reader("-", std::io::stdin().lock(), options),
        LogSource::ZipEntry {
            archive,
            compressed_size,
            located,
            ..
        } => {
            let name = source.name();
            let file = std::fs::File::open(archive).map_err(|e| IngestError::io(&name, e))?;
            let on_disk = file
                .metadata()
                .map_err(|e| IngestError::io(&name, e))?
                .len();
            let budget = Budget::new();
            let mut raw = budget.count_raw(std::io::BufReader::new(file));
            let entry = located
                .as_ref()
                .as_ref()
                .with_reader(&mut raw, zip::ZipReadOptions::default())
                .map_err(|e| {
                    IngestError::archive(
                        &name,
                        format!("unreadable zip entry: {}", error_chain(&e)),
                    )
                })?;
            // The entry's compressed length, never past the file, sizes the buffers: a size
            // the archive claims is not trusted for more.
            let hint = (*compressed_size).min(on_disk);
            let decoded = budget.limit_decoded(&name, entry);
            super::sniff::read_stream_in(&name, decoded, options, Some(hint), &budget, 1)
        }
    }
}
