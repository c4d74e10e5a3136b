//! The Dask example (examples/dask_archive.py) run as a user would: a LocalCluster of 2 worker
//! processes, each task one `perfleak analyze --shard I/N`, then `perfleak merge`. Its merged
//! summary has the rows of one plain run. Skips, saying so, where Python or Dask is missing
//! (.ci/run installs Dask).

use crate::cli_common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use cli_common::{perfleak, sample};

/// The Python that has `dask.distributed`, or why there is none.
fn python_with_dask() -> Result<String, String> {
    let python = std::env::var("PERFLEAK_PYTHON").unwrap_or_else(|_| "python3".to_string());
    match Command::new(&python)
        .args(["-c", "import dask.distributed"])
        .output()
    {
        Err(e) => Err(format!("no {python}: {e}")),
        Ok(out) if !out.status.success() => Err(format!(
            "{python} has no dask.distributed ({})",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Ok(_) => Ok(python),
    }
}

/// summary.csv rows by column name, without `folder` (where the reports are), sorted.
fn rows(path: &Path) -> Vec<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut rows: Vec<Vec<(String, String)>> = reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .filter(|(k, _)| k != "folder")
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn the_dask_example_runs_an_archive_on_two_workers() {
    let python = match python_with_dask() {
        Ok(python) => python,
        Err(why) => {
            eprintln!("SKIPPED the_dask_example_runs_an_archive_on_two_workers: {why}");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let arch = dir.path().join("arch");
    std::fs::create_dir_all(arch.join("b")).unwrap();
    for name in [
        "healthy-server.csv",
        "restart-leak.csv",
        "thirdparty-leak.csv",
    ] {
        std::fs::copy(sample(name), arch.join(name)).unwrap();
    }
    // One log rolled over into two segments.
    let text = std::fs::read_to_string(sample("winlogon-smtp-leak.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let half = lines.len() / 2;
    std::fs::write(
        arch.join("b/web_000001.csv"),
        lines[..half].join("\n") + "\n",
    )
    .unwrap();
    let second = [&lines[..1], &lines[half..]].concat();
    std::fs::write(arch.join("b/web_000002.csv"), second.join("\n") + "\n").unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/dask_archive.py");
    let out = Command::new(&python)
        .arg(&script)
        .args(["--perfleak", env!("CARGO_BIN_EXE_perfleak")])
        .args(["--workers", "2", "--shards", "3"])
        .arg(&arch)
        .arg("-o")
        .arg(dir.path().join("merged"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("3 folder(s) merged: 4 log(s)"), "{err}");
    for i in 1..=3 {
        let shard = dir
            .path()
            .join(format!("merged/shards/shard-{i}/summary.csv"));
        assert!(shard.is_file(), "{}", shard.display());
    }

    // The same rows as one run over the same (absolute) paths.
    let one = perfleak()
        .args(["analyze", "-q", "--summary-parquet", "-o"])
        .arg(dir.path().join("one"))
        .arg(&arch)
        .output()
        .unwrap();
    assert!(one.status.success());
    let merged = rows(&dir.path().join("merged/summary.csv"));
    assert_eq!(merged, rows(&dir.path().join("one/summary.csv")));
    let logs: BTreeSet<&str> = merged.iter().map(|r| r[0].1.as_str()).collect();
    assert_eq!(logs.len(), 4, "{logs:?}");
    assert!(dir.path().join("merged/summary.parquet").is_file());
    let index = std::fs::read_to_string(dir.path().join("merged/index.html")).unwrap();
    assert!(index.contains("href=\"shards/shard-"), "{index}");
}
