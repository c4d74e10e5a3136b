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

/// The reason codes of a finding, in order.
pub fn reason_codes(f: &serde_json::Value) -> Vec<&str> {
    f["reason_codes"]
        .as_array()
        .expect("reason codes")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect()
}

/// A PDH-CSV log of one process `app` whose Handle Count `h` hours in is `value(h)` plus a little
/// deterministic noise (within 8), every 15 minutes for `hours` hours, from `start` o'clock UTC
/// on January `day` 2026 (12: a Monday).
pub fn quarter_hour_log(
    day: usize,
    start: usize,
    hours: usize,
    value: impl Fn(f64) -> f64,
) -> String {
    let mut text =
        String::from("\"(PDH-CSV 4.0) (UTC)(0)\",\"\\\\SRV\\Process(app)\\Handle Count\"\n");
    for i in 0..=(hours * 4) {
        let h = (15 * i) as f64 / 60.0;
        let m = 15 * i + 60 * start;
        let noise = ((i * 15 * 7919) % 1000) as f64 / 500.0 - 1.0;
        text += &format!(
            "\"01/{:02}/2026 {:02}:{:02}:00.000\",\"{:.3}\"\n",
            day + m / (24 * 60),
            m / 60 % 24,
            m % 60,
            value(h) + 8.0 * noise
        );
    }
    text
}

/// A business day at `clock` o'clock: 0 outside 08:00-18:00, a raised cosine up to 1 inside
/// (at 13:00).
pub fn business(clock: f64) -> f64 {
    let c = clock.rem_euclid(24.0);
    if (8.0..18.0).contains(&c) {
        0.5 * (1.0 - (2.0 * std::f64::consts::PI * (c - 8.0) / 10.0).cos())
    } else {
        0.0
    }
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
