//! What the user named on the command line -> readable log sources: files, folders (walked
//! recursively), `.gz` files, entries of `.zip` archives (streamed, never extracted) and `-`
//! for stdin. Sources are plain data (Send + Sync) so the batch stage can read them in parallel.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::error::IngestError;
use super::log::PerfLog;
use super::ReadOptions;

/// File name endings collected from folders and archives (case-insensitive).
const LOG_EXTENSIONS: &[&str] = &["csv", "tsv", "txt", "gz", "zip", "blg"];
/// No archive entry may expand past this, whatever its header claims.
pub const MAX_ENTRY_BYTES: u64 = 8 << 30;
/// Perfmon text compresses well, but not five hundredfold: beyond that it is a zip bomb.
pub const MAX_EXPANSION_RATIO: u64 = 500;

/// One log to read.
#[derive(Debug, Clone)]
pub enum LogSource {
    /// A plain or gzip-compressed file.
    File(PathBuf),
    /// Entry `index` of a zip archive; `entry` is its path inside the archive, made safe
    /// for display by [`entry_display_path`].
    ZipEntry {
        archive: PathBuf,
        index: usize,
        entry: String,
        compressed_size: u64,
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
/// instead of stopping the others.
pub fn expand_inputs(inputs: &[PathBuf]) -> (Vec<LogSource>, Vec<(String, anyhow::Error)>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            // Streamed, not buffered: a log piped in costs its columns, not its text as well.
            if sources.iter().any(|s| matches!(s, LogSource::Stdin)) {
                errors.push((
                    "-".to_string(),
                    anyhow::anyhow!("standard input given more than once"),
                ));
            } else {
                sources.push(LogSource::Stdin);
            }
        } else if input.is_dir() {
            let mut files = Vec::new();
            if let Err(e) = walk(input, &mut files) {
                errors.push((input.display().to_string(), e));
            }
            files.sort();
            for file in files {
                add_file(&file, &mut sources, &mut errors);
            }
        } else if input.exists() {
            add_file(input, &mut sources, &mut errors);
        } else {
            errors.push((
                input.display().to_string(),
                anyhow::anyhow!("{}: no such file or folder", input.display()),
            ));
        }
    }
    (sources, errors)
}

fn has_log_extension(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    LOG_EXTENSIONS
        .iter()
        .any(|ext| lower.rsplit_once('.').is_some_and(|(_, e)| e == *ext))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .file_name()
            .is_some_and(|n| has_log_extension(&n.to_string_lossy()))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|_| super::reader::is_zip_magic(&magic))
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

fn add_file(path: &Path, sources: &mut Vec<LogSource>, errors: &mut Vec<(String, anyhow::Error)>) {
    if !is_zip(path) {
        sources.push(LogSource::File(path.to_path_buf()));
        return;
    }
    let name = path.display().to_string();
    let before = (sources.len(), errors.len());
    let mut folders = 0usize;
    let mut nested = Vec::new();
    let mut other = Vec::new();
    let listed = (|| -> anyhow::Result<()> {
        let file = std::fs::File::open(path)?;
        let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))?;
        for index in 0..archive.len() {
            let entry = archive.by_index(index)?;
            if entry.is_dir() {
                folders += 1;
                continue;
            }
            // Folders inside the archive only label the entry; nothing is written to disk.
            let shown = entry_display_path(&String::from_utf8_lossy(entry.name_raw()));
            let base = shown.rsplit('/').next().unwrap_or(&shown).to_string();
            let entry_name = format!("{name}!{shown}");
            if base.to_ascii_lowercase().ends_with(".zip") {
                nested.push(shown);
                continue;
            }
            if !has_log_extension(&base) {
                other.push(shown);
                continue;
            }
            let declared = entry.size();
            let compressed = entry.compressed_size();
            if declared > MAX_ENTRY_BYTES {
                errors.push((
                    entry_name.clone(),
                    anyhow::anyhow!("{entry_name}: refused, it would expand to {declared} bytes"),
                ));
                continue;
            }
            if declared > 1 << 20 && declared / compressed.max(1) > MAX_EXPANSION_RATIO {
                errors.push((
                    entry_name.clone(),
                    anyhow::anyhow!(
                        "{entry_name}: refused, it claims to expand {}x (limit {MAX_EXPANSION_RATIO}x)",
                        declared / compressed.max(1)
                    ),
                ));
                continue;
            }
            sources.push(LogSource::ZipEntry {
                archive: path.to_path_buf(),
                index,
                entry: shown,
                compressed_size: compressed,
            });
        }
        Ok(())
    })();
    if let Err(e) = listed {
        errors.push((
            name.clone(),
            e.context(format!("{name}: unreadable zip archive")),
        ));
        return;
    }
    if (sources.len(), errors.len()) == before {
        let reason = no_log_reason(folders, &nested, &other);
        errors.push((name.clone(), anyhow::anyhow!("{name}: {reason}")));
    } else {
        // The archive's logs are read; a zip inside it would pass unnoticed without this.
        for inner in nested {
            let entry_name = format!("{name}!{inner}");
            errors.push((
                entry_name.clone(),
                anyhow::anyhow!(
                    "{entry_name}: not opened, nested archives are not read: extract it and give it as an input"
                ),
            ));
        }
    }
}

/// Stops a stream that expands past `remaining` bytes, whatever the archive header said.
struct Capped<R> {
    inner: R,
    remaining: u64,
    name: String,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.remaining {
            return Err(std::io::Error::other(format!(
                "{}: refused, the entry expands past its size limit",
                self.name
            )));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Reads one source into a [`PerfLog`].
pub fn read_source(source: &LogSource, options: &ReadOptions) -> anyhow::Result<PerfLog> {
    match source {
        LogSource::File(path) => super::read_file(path, options),
        LogSource::Stdin => Ok(super::read_reader("-", std::io::stdin().lock(), options)?),
        LogSource::ZipEntry {
            archive,
            index,
            compressed_size,
            ..
        } => {
            let name = source.name();
            let file = std::fs::File::open(archive).map_err(|e| IngestError::io(&name, e))?;
            let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
                .with_context(|| format!("{}: unreadable zip archive", archive.display()))?;
            let entry = zip
                .by_index(*index)
                .with_context(|| format!("{name}: unreadable zip entry"))?;
            let limit = MAX_ENTRY_BYTES.min(
                compressed_size
                    .saturating_mul(MAX_EXPANSION_RATIO)
                    .max(1 << 20),
            );
            // The declared size sizes the columns (never past the expansion limit: a lying
            // header costs reserved address space, not a wrong result).
            let declared = entry.size().min(limit);
            let capped = Capped {
                inner: entry,
                remaining: limit,
                name: name.clone(),
            };
            Ok(super::reader::read_stream(
                &name,
                capped,
                options,
                Some(declared),
                None,
            )?)
        }
    }
}
