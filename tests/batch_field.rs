//! Field-review defects of `perfleak analyze` in batch use (jobs, archives, failed writes,
//! messages, summary.csv), each run on the built binary with inputs made in a temp dir.

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

fn perfleak() -> Command {
    Command::cargo_bin("perfleak").expect("binary builds")
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn jobs_outside_1_to_256_is_refused_at_parsing() {
    for jobs in ["0", "257", "100000"] {
        let out = perfleak()
            .args(["analyze", "--json", "-q", "-j", jobs])
            .arg(sample("healthy-server.csv"))
            .output()
            .expect("runs");
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "-j {jobs}: {err}");
        assert!(err.contains("1..=256"), "-j {jobs}: {err}");
        assert!(out.stdout.is_empty(), "-j {jobs}: nothing analysed");
    }
    for jobs in ["1", "256"] {
        perfleak()
            .args(["analyze", "--json", "-q", "-j", jobs])
            .arg(sample("healthy-server.csv"))
            .assert()
            .success();
    }
}
