//! `perfleak kb list|show|import` from the command line.

use crate::cli_common;
use cli_common::perfleak;

use assert_cmd::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kb");

fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.output().expect("runs");
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn list_shows_builtin_articles_and_extra_ones() {
    let builtin = stdout_of(perfleak().args(["kb", "list"]));
    assert!(
        builtin
            .lines()
            .any(|l| l.starts_with("Q192265") && l.contains("winlogon")),
        "{builtin}"
    );
    let count = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with('Q') || l.starts_with("KB"))
            .count()
    };
    let with_extra = stdout_of(perfleak().args(["kb", "list", "--kb", FIXTURES]));
    assert_eq!(count(&with_extra), count(&builtin) + 2);
    assert!(with_extra.contains("Q900001"));
}

#[test]
fn show_prints_one_article_and_refuses_unknown_ids() {
    let text = stdout_of(perfleak().args(["kb", "show", "q260554"]));
    assert!(text.starts_with("Q260554: "), "{text}");
    assert!(
        text.contains("processes:   async") && text.contains("Exchange Server 5.5 SP4"),
        "{text}"
    );
    let output = perfleak()
        .args(["kb", "show", "Q1"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no article 'Q1'"));
}

#[test]
fn import_prints_toml_or_json() {
    let toml = stdout_of(perfleak().args(["kb", "import", FIXTURES]));
    assert!(toml.contains("[[kb]]\nid = \"Q900001\""), "{toml}");
    assert!(
        !toml.contains("Q900002") && !toml.contains("Q900003"),
        "non-leak articles left out"
    );
    let json = stdout_of(perfleak().args(["kb", "import", "--json", FIXTURES]));
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON array");
    let ids: Vec<&str> = value
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["Q900001", "Q900004"]);
    assert_eq!(value[0]["processes"], serde_json::json!(["ctrelay"]));
    // The TOML is a catalogue `--kb` accepts, holding the same articles as the JSON.
    let parsed = perfleak::kb::parse_catalogue(&toml, "import output").expect("valid catalogue");
    let toml_ids: Vec<&str> = parsed.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(toml_ids, ids);
}

#[test]
fn import_reads_a_folder_of_markdown_articles() {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kb_modern");
    let output = perfleak()
        .args(["kb", "import", "--json", folder])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("README.md: not a KB article text, skipped")
            && stderr.contains("4 leak article(s) imported"),
        "{stderr}"
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON array");
    let entries = value.as_array().expect("array");
    let bug = entries
        .iter()
        .find(|e| e["id"] == "KB5900001")
        .expect("the KB number is the id");
    assert_eq!(bug["processes"], serde_json::json!(["w3wp"]));
    assert_eq!(bug["kind"], "bug");
    assert_eq!(bug["windows"], serde_json::json!(["2019", "2022"]));
    let guide = entries
        .iter()
        .find(|e| e["kind"] == "guide")
        .expect("a guide");
    assert_eq!(guide["counters"], serde_json::json!(["handle_count"]));
    // The TOML form is a catalogue `--kb` reads, and `kb list --kb` adds the same entries.
    let toml = stdout_of(perfleak().args(["kb", "import", folder]));
    let parsed = perfleak::kb::parse_catalogue(&toml, "import output").expect("valid catalogue");
    assert_eq!(parsed.len(), entries.len());
    let listed = stdout_of(perfleak().args(["kb", "list", "--kb", folder]));
    assert!(listed.contains("KB5900001"), "{listed}");
}

#[test]
fn bad_user_catalogue_is_named_with_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        "[[kb]]\nid = \"Q5\"\ntitle = \"x\"\ncounters = [\"handles\"]\n",
    )
    .expect("write");
    let output = perfleak()
        .args(["kb", "list", "--kb"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("mine.toml:2:1") && stderr.contains("handles"),
        "{stderr}"
    );
    let not_article = dir.path().join("note.txt");
    std::fs::write(&not_article, "just a note\n").expect("write");
    let output = perfleak()
        .args(["kb", "import"])
        .arg(&not_article)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("note.txt:1:1"));
}

#[test]
fn list_and_show_say_each_articles_kind_and_windows_versions() {
    let list = stdout_of(perfleak().args(["kb", "list"]));
    let row = |id: &str| {
        list.lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row for {id} in\n{list}"))
            .to_string()
    };
    let seed = row("Q192265");
    assert_eq!(
        seed.split_whitespace().take(3).collect::<Vec<_>>(),
        ["Q192265", "bug", "NT"],
        "{seed}"
    );
    assert!(row("KB2020006").contains(" guide 2008 or later "), "{list}");

    let show = stdout_of(perfleak().args(["kb", "show", "KB2020006"]));
    assert!(show.contains("  kind:        guide"), "{show}");
    assert!(
        show.contains("  windows:     Windows Server 2008 or later\n"),
        "{show}"
    );
    // An added text is dated by the importer.
    let added = stdout_of(perfleak().args(["kb", "show", "Q900001", "--kb", FIXTURES]));
    assert!(
        added.contains("  kind:        bug") && added.contains("  windows:     Windows NT 4.0\n"),
        "{added}"
    );
    // A catalogue entry without `windows` is dated by its words, and says so.
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = dir.path().join("extra.toml");
    std::fs::write(
        &toml,
        "[[kb]]\nid = \"Q900009\"\ntitle = \"spoolss leaks handles\"\nproducts = [\"Windows NT\"]\nversions = [\"4.0\"]\nprocesses = [\"spoolss\"]\ncounters = [\"handle_count\"]\nfix = \"SP6\"\nsource = \"test\"\n",
    )
    .expect("write");
    let toml = toml.to_str().expect("utf-8 path");
    let dated = stdout_of(perfleak().args(["kb", "show", "Q900009", "--kb", toml]));
    assert!(
        dated.contains("  windows:     Windows NT 4.0 (dated by its words)"),
        "{dated}"
    );
}
