//! What the command-line tests share: the built binary and the bundled samples.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A bundled sample log by file name.
pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// Runs `perfleak ARGS`, requires success (stderr shown when not) and parses stdout as JSON.
pub fn json_of(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = perfleak().args(args).output().expect("perfleak runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// `perfleak analyze --json` of a log written from `text` as `name` in a temporary folder: the
/// finding of `instance` (and `counter`, when given); panics with the report when there is none.
pub fn finding_of_text(
    name: &str,
    text: &str,
    instance: &str,
    counter: Option<&str>,
) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("log written");
    let report = json_of(&["analyze".as_ref(), "--json".as_ref(), path.as_os_str()]);
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["instance"] == instance && counter.is_none_or(|c| f["counter"] == c))
        .unwrap_or_else(|| panic!("no finding: {report:#}"))
        .clone()
}

/// The `perfleak` binary this test run built.
pub fn perfleak() -> Command {
    Command::cargo_bin("perfleak").expect("binary builds")
}

/// Every file and folder under `dir`, relative to it (links not followed).
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("readable").flatten() {
            let path = entry.path();
            out.push(
                path.strip_prefix(root)
                    .expect("under")
                    .display()
                    .to_string(),
            );
            if entry.file_type().expect("type").is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A tmpfs of `size` (`400k`) mounted at `dir`, unmounted when dropped; `None` (with a
/// visible `skipped:` line) where mounting is not allowed (not root).
pub fn tiny_tmpfs(dir: &Path, size: &str) -> Option<Unmount> {
    std::fs::create_dir_all(dir).expect("mount point");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return None;
    }
    Some(Unmount(dir.to_path_buf()))
}

/// Unmounts its folder when dropped.
pub struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}
