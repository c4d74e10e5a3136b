//! What the command line offers beyond analysing: completions and man pages generated from the
//! same definitions as the parser, help with examples and exit codes, and option combinations
//! that cannot mean anything refused at parsing; and the command line kept in the binary.

use crate::cli_common;

use cli_common::{perfleak, sample};

fn stdout_of(args: &[&str]) -> String {
    let out = perfleak().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completion_loads_and_completes_subcommands() {
    let script = stdout_of(&["completions", "bash"]);
    assert!(script.contains("analyze") && script.contains("--fail-on"));
    // bash itself loads it and registers the completion.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perfleak.bash");
    std::fs::write(&path, &script).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p perfleak", path.display()))
        .output();
    match check {
        Ok(out) => assert!(
            String::from_utf8_lossy(&out.stdout).contains("perfleak"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("skipped the bash check: no bash ({e})"),
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        assert!(
            stdout_of(&["completions", shell]).contains("perfleak"),
            "{shell}"
        );
    }
}

#[test]
fn man_pages_for_the_tool_and_each_subcommand() {
    let main = stdout_of(&["man"]);
    assert!(main.contains(".TH perfleak 1") && main.contains("Exit status"));
    let analyze = stdout_of(&["man", "analyze"]);
    assert!(analyze.contains(".TH perfleak-analyze 1") && analyze.contains("fail\\-on"));
    let out = perfleak().args(["man", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_shows_examples_and_exit_codes() {
    for args in [&["--help"][..], &["analyze", "--help"]] {
        let help = stdout_of(args);
        assert!(
            help.contains("Examples:") && help.contains("Exit status:"),
            "{help}"
        );
    }
}

#[test]
fn json_with_an_output_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = perfleak()
        .current_dir(dir.path())
        .args(["analyze", "--json", "-o", "out"])
        .arg(sample("healthy-server.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn generated_text_to_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("perfleak"))
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// Source files of the library (everything under src/ but the binary: main.rs and cmd/).
fn library_sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("cmd") {
                library_sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("main.rs") {
            out.push(path);
        }
    }
}

/// Whether `needle` occurs as a token of its own (`print!(` is not found in `eprint!(`).
fn uses(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn the_command_line_lives_in_the_binary_only() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    library_sources(&src, &mut files);
    assert!(files.len() > 50, "the library's files are found");
    let mut found = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        for needle in [
            "clap::",
            "use clap",
            "crate::cli",
            "indicatif",
            "println!(",
            "eprintln!(",
            "print!(",
            "eprint!(",
            "stdout()",
            "stderr()",
            "anyhow::",
            "use anyhow",
        ] {
            if uses(&text, needle) {
                found.push(format!("{rel}: {needle}"));
            }
        }
    }
    assert!(found.is_empty(), "the library parses or prints: {found:?}");
}
