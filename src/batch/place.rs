//! Puts a log's report folder in place whole. The report is written into a fresh staging
//! folder beside its destination (`.perfleak-<pid>-XXXXXX`, created by this run, so no link an
//! earlier folder held is ever followed), then swapped in by one rename: `renameat2` with
//! `RENAME_EXCHANGE` on Linux, elsewhere rename aside and rename in. A reader sees the old
//! report or the new one, never a mix. The old folder is then removed as a whole (links in it
//! are unlinked, never followed) and only when it holds nothing but a report's own files.
//!
//! Writers of one output folder are serialized by an advisory lock on the folder where the
//! staging happens ([`OutputLock`]); Ctrl-C removes the staging folders being written, and the
//! next run into the same place removes those a killed run left (their owner being dead).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::ingest::PerfLog;
use crate::report::{self, Context, Report, ReportError, CHARTS_DIR};

/// Staging folders start with this, then the owning process's id and a dash.
const STAGING_PREFIX: &str = ".perfleak-";
/// What a report folder holds; anything else is someone's own file, never deleted.
const REPORT_FILES: [&str; 3] = ["report.html", "report.json", "summary.md"];

/// Staging folders this process is writing, removed on Ctrl-C.
static LIVE_STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Ctrl-C (and SIGTERM) removes the staging folders being written before the run ends with
/// status 130, so an interrupted run leaves nothing behind. Installed once per process.
pub fn clean_staging_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        let live = LIVE_STAGING.lock().map(|l| l.clone()).unwrap_or_default();
        for dir in live {
            // A worker may still be adding files: a second pass takes what the first missed.
            for _ in 0..3 {
                if std::fs::remove_dir_all(&dir).is_ok() || !dir.exists() {
                    break;
                }
            }
        }
        std::process::exit(130);
    });
}

/// The folder where `dir`'s staging folder goes (its parent, `.` for a bare name).
pub fn staging_parent(dir: &Path) -> &Path {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Checks once, before any log is read, that reports can go to `out`: it is no file, and the
/// folder it is or will be created in takes a new file (a probe, removed at once). Parent
/// folders are created as a run would create them.
pub fn check_output(out: &Path) -> report::Result<()> {
    match std::fs::metadata(out) {
        Ok(meta) if !meta.is_dir() => Err(ReportError::Refused(format!(
            "cannot write reports to {}: it is a file, not a folder",
            out.display()
        ))),
        Ok(_) => probe(out),
        // Missing, or under a file or a folder that cannot be read: creating it tells why.
        Err(_) => {
            let parent = staging_parent(out);
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create folder {}", parent.display()))?;
            probe(parent)
        }
    }
}

/// Creates and removes a file in `dir`: what permissions and read-only mounts allow, told
/// the only sure way.
fn probe(dir: &Path) -> report::Result<()> {
    tempfile::Builder::new()
        .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
        .tempfile_in(dir)
        .map(drop)
        .with_context(|| format!("cannot write reports in {}", dir.display()))
}

/// An exclusive advisory lock (`flock`) on a folder, held while reports are written into it;
/// another run writing there waits until it is released. On taking it, staging folders that
/// killed runs left there are removed.
pub struct OutputLock {
    #[cfg(unix)]
    _dir: File,
}

impl OutputLock {
    pub fn acquire(folder: &Path) -> report::Result<OutputLock> {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create folder {}", folder.display()))?;
        #[cfg(unix)]
        let lock = {
            let dir = File::open(folder)
                .with_context(|| format!("cannot open folder {}", folder.display()))?;
            dir.lock()
                .with_context(|| format!("cannot lock {} against other runs", folder.display()))?;
            OutputLock { _dir: dir }
        };
        #[cfg(not(unix))]
        let lock = OutputLock {};
        remove_abandoned_staging(folder);
        Ok(lock)
    }
}

/// Whether a process of this id still runs. Where that cannot be told, it is taken to run, so
/// its folder is left alone.
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Removes `.perfleak-<pid>-*` entries in `folder` whose process is gone (a run killed while
/// writing). Another live run's staging is left alone.
fn remove_abandoned_staging(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(STAGING_PREFIX)
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me || process_alive(pid) {
            continue;
        }
        let path = entry.path();
        let _ = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
    }
}

/// A staging folder of this run: removed when dropped unless it was moved into place, and
/// listed for the Ctrl-C handler while it lives.
struct Staging {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Staging {
    fn new(parent: &Path) -> report::Result<Staging> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
            .tempdir_in(parent)
            .with_context(|| format!("cannot create a temp folder in {}", parent.display()))?;
        let path = dir.path().to_path_buf();
        if let Ok(mut live) = LIVE_STAGING.lock() {
            live.push(path.clone());
        }
        Ok(Staging {
            dir: Some(dir),
            path,
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Ok(mut live) = LIVE_STAGING.lock() {
            live.retain(|p| *p != self.path);
        }
        // Moved into place: the path now holds the old report (removed by the caller) or
        // nothing; removing it again costs nothing.
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// Writes the report of `log` as the folder `dir`, all or nothing. The caller holds the
/// [`OutputLock`] of `dir`'s parent.
pub fn write_report_folder(
    report: &mut Report,
    log: &PerfLog,
    dir: &Path,
    charts: report::ChartSet,
) -> report::Result<()> {
    let parent = staging_parent(dir);
    // Refused before anything is written: a folder of someone's own files is not a report.
    check_replaceable(dir)?;
    let staging = Staging::new(parent)?;
    report::write_report_dir_with(report, log, &staging.path, charts)
        .with_context(|| format!("cannot write the report {}", dir.display()))?;
    shareable(&staging.path)?;
    swap_in(&staging.path, dir)
        .with_context(|| format!("cannot move the report into {}", dir.display()))?;
    // `staging.path` holds the old report now, if there was one.
    remove_entry(&staging.path);
    Ok(())
}

/// `dir` may be replaced when it does not exist, is a link (the link is replaced, its target
/// untouched) or is a folder holding only what a report holds.
fn check_replaceable(dir: &Path) -> report::Result<()> {
    let meta = match dir.symlink_metadata() {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    if !meta.is_dir() {
        return Err(ReportError::Refused(format!(
            "cannot write {}: a file is in the way",
            dir.display()
        )));
    }
    if let Some(foreign) = foreign_entry(dir)? {
        return Err(ReportError::Refused(format!(
            "cannot replace {}: it holds {}, which is not part of a perfleak report (move it away or choose another -o)",
            dir.display(),
            foreign.display()
        )));
    }
    Ok(())
}

/// The first entry of `dir` that a report does not hold, if any.
fn foreign_entry(dir: &Path) -> report::Result<Option<PathBuf>> {
    let ours = |name: &str| name.starts_with(STAGING_PREFIX);
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        let fits = if kind.is_symlink() || ours(&name) {
            true
        } else if name == CHARTS_DIR && kind.is_dir() {
            for chart in std::fs::read_dir(entry.path())? {
                let chart = chart?;
                let chart_name = chart.file_name().to_string_lossy().into_owned();
                let chart_kind = chart.file_type()?;
                if !(chart_kind.is_symlink()
                    || ours(&chart_name)
                    || (chart_kind.is_file() && chart_name.ends_with(".png")))
                {
                    return Ok(Some(chart.path()));
                }
            }
            true
        } else {
            kind.is_file() && REPORT_FILES.contains(&name.as_str())
        };
        if !fits {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

/// Puts `staging` at `dir` in one step; what was at `dir` ends up at `staging`.
fn swap_in(staging: &Path, dir: &Path) -> std::io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        match renameat2(staging, dir, libc::RENAME_NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                match renameat2(staging, dir, libc::RENAME_EXCHANGE) {
                    Ok(()) => return Ok(()),
                    // File systems without exchange (some network ones): the portable way.
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => return Err(e),
        }
    }
    swap_by_renames(staging, dir)
}

/// Without an atomic exchange: the old folder is renamed aside, the new one renamed in, and the
/// old one renamed to `staging` for removal (put back if the new one cannot go in).
fn swap_by_renames(staging: &Path, dir: &Path) -> std::io::Result<()> {
    if dir.symlink_metadata().is_err() {
        return std::fs::rename(staging, dir);
    }
    let aside = staging.with_file_name(format!(
        "{}-old",
        staging
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    std::fs::rename(dir, &aside)?;
    if let Err(e) = std::fs::rename(staging, dir) {
        let _ = std::fs::rename(&aside, dir);
        return Err(e);
    }
    std::fs::rename(&aside, staging)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both paths are NUL-terminated strings that outlive the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Removes what is at `path`: a link is unlinked (its target untouched), a folder removed with
/// everything in it (links inside unlinked, not followed).
fn remove_entry(path: &Path) {
    let _ = match path.symlink_metadata() {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    };
}

/// Temp folders are created owner-only; a report folder is meant to be shared.
fn shareable(dir: &Path) -> report::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_swaps_in_whole_and_the_old_one_comes_out() {
        let root = tempfile::tempdir().unwrap();
        let (new, dir) = (root.path().join("new"), root.path().join("dir"));
        std::fs::create_dir(&new).unwrap();
        std::fs::write(new.join("report.json"), "new").unwrap();
        swap_in(&new, &dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("report.json")).unwrap(),
            "new"
        );
        std::fs::create_dir(&new).unwrap();
        std::fs::write(new.join("report.json"), "newer").unwrap();
        swap_in(&new, &dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("report.json")).unwrap(),
            "newer"
        );
        assert_eq!(
            std::fs::read_to_string(new.join("report.json")).unwrap(),
            "new"
        );
        // The portable way gives the same result.
        swap_by_renames(&new, &dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("report.json")).unwrap(),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(new.join("report.json")).unwrap(),
            "newer"
        );
    }

    #[test]
    fn only_report_folders_are_replaced() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("r");
        std::fs::create_dir_all(dir.join("charts")).unwrap();
        std::fs::write(dir.join("report.html"), "x").unwrap();
        std::fs::write(dir.join("charts/a.png"), "x").unwrap();
        assert!(check_replaceable(&dir).is_ok());
        std::fs::write(dir.join("charts/notes.txt"), "mine").unwrap();
        let err = check_replaceable(&dir).unwrap_err().to_string();
        assert!(err.contains("notes.txt"), "{err}");
        std::fs::remove_file(dir.join("charts/notes.txt")).unwrap();
        std::fs::write(dir.join("thesis.tex"), "mine").unwrap();
        assert!(check_replaceable(&dir).is_err());
    }

    #[test]
    fn staging_of_dead_runs_is_removed_and_live_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        // No process has an id this large on Linux (pid_max is at most 2^22).
        let dead = root.path().join(".perfleak-4000000000-abc");
        let live = root
            .path()
            .join(format!(".perfleak-{}-abc", std::process::id()));
        let other = root.path().join(".perfleak-notapid");
        for d in [&dead, &live, &other] {
            std::fs::create_dir(d).unwrap();
        }
        remove_abandoned_staging(root.path());
        assert_eq!(!dead.exists(), cfg!(target_os = "linux"));
        assert!(live.exists() && other.exists());
    }
}
