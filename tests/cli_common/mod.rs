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

/// The `perfleak` binary this test run built.
pub fn perfleak() -> Command {
    Command::cargo_bin("perfleak").expect("binary builds")
}
