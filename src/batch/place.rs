//! Puts a log's report folder in place whole: the report is written into a temp folder beside
//! (or inside) its destination and only moved in once complete, so a full disk or a failed
//! write never leaves charts without their report.html.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::ingest::PerfLog;
use crate::report::{self, Report, CHARTS_DIR};

/// Temp folders start with this (hidden on Unix; removed when the write fails).
const STAGING_PREFIX: &str = ".perfleak-";
/// The file the user opens goes in last: while it is missing the folder is not a report yet.
const REPORT_HTML: &str = "report.html";

/// Writes the report of `log` as the folder `dir`, all or nothing.
pub fn write_report_folder(report: &mut Report, log: &PerfLog, dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return refresh_existing(report, log, dir);
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create folder {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(parent)
        .with_context(|| format!("cannot create a temp folder in {}", parent.display()))?;
    report::write_report_dir(report, log, staging.path())
        .with_context(|| format!("cannot write the report {}", dir.display()))?;
    shareable(staging.path())?;
    // On failure `staging` is dropped here and takes the partial report with it.
    std::fs::rename(staging.path(), dir)
        .with_context(|| format!("cannot move the report into {}", dir.display()))?;
    let _ = staging.keep();
    Ok(())
}

/// A rerun into an existing folder: the new files are written in a temp folder inside it
/// (same file system, so moving them costs no space), checked to have somewhere to go, and
/// only then moved over the old ones; charts of the earlier report are removed last.
fn refresh_existing(report: &mut Report, log: &PerfLog, dir: &Path) -> anyhow::Result<()> {
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(dir)
        .with_context(|| format!("cannot create a temp folder in {}", dir.display()))?;
    report::write_report_dir(report, log, staging.path())
        .with_context(|| format!("cannot write the report {}", dir.display()))?;

    let mut files = Vec::new();
    for entry in std::fs::read_dir(staging.path())? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            files.push(PathBuf::from(entry.file_name()));
        }
    }
    files.sort_by_key(|name| name.as_os_str() == REPORT_HTML);
    let charts: Vec<PathBuf> = match std::fs::read_dir(staging.path().join(CHARTS_DIR)) {
        Ok(entries) => entries
            .map(|e| e.map(|e| Path::new(CHARTS_DIR).join(e.file_name())))
            .collect::<Result<_, _>>()?,
        Err(_) => Vec::new(),
    };
    let moves: Vec<&PathBuf> = charts.iter().chain(&files).collect();
    // A folder where a file must go cannot be replaced by a rename: refuse before moving.
    for rel in &moves {
        let target = dir.join(rel);
        if target.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            anyhow::bail!("cannot write {}: a folder is in the way", target.display());
        }
    }
    if !charts.is_empty() {
        let charts_dir = dir.join(CHARTS_DIR);
        std::fs::create_dir_all(&charts_dir)
            .with_context(|| format!("cannot create {}", charts_dir.display()))?;
    }
    for rel in moves {
        let target = dir.join(rel);
        std::fs::rename(staging.path().join(rel), &target)
            .with_context(|| format!("cannot move the report into {}", target.display()))?;
    }
    remove_stale_charts(&dir.join(CHARTS_DIR), &charts);
    Ok(())
}

/// Charts of an earlier report in this folder (our `.png` files only): the folder gets attached
/// to tickets whole. One that cannot be removed only costs tidiness.
fn remove_stale_charts(charts_dir: &Path, fresh: &[PathBuf]) {
    let Ok(entries) = std::fs::read_dir(charts_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name.to_string_lossy().ends_with(".png")
            && entry.file_type().is_ok_and(|t| t.is_file());
        if ours && !fresh.contains(&Path::new(CHARTS_DIR).join(&name)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Temp folders are created owner-only; a report folder is meant to be shared.
fn shareable(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot set permissions of {}", dir.display()))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
