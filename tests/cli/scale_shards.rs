//! Past one machine: an archive split with `--shard I/N` (from a list or from folders), run
//! apart and joined with `perfleak merge`, gives what one run gives; segments of one
//! collector run stay in one shard; bad shards, lists and merges fail with clear messages;
//! summary.parquet has the schema docs/summary-parquet.md documents.

use crate::cli_common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cli_common::{perfleak, sample};

/// An archive of several tickets: the bundled samples, one log rolled over into three
/// segments (`SRV_000001.csv` ...), a log too short to judge, and a file that is no log.
fn archive(root: &Path) -> PathBuf {
    let arch = root.join("arch");
    let t1 = arch.join("t1");
    let t2 = arch.join("t2");
    std::fs::create_dir_all(&t1).unwrap();
    std::fs::create_dir_all(&t2).unwrap();
    for name in [
        "exchange-async-leak.csv",
        "healthy-server.csv",
        "restart-leak.csv",
        "thirdparty-leak.csv",
    ] {
        std::fs::copy(sample(name), t1.join(name)).unwrap();
    }
    let text = std::fs::read_to_string(sample("winlogon-smtp-leak.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let part = rows.len().div_ceil(3);
    for (i, chunk) in rows.chunks(part).enumerate() {
        let mut segment = format!("{header}\r\n");
        for row in chunk {
            segment += row;
            segment += "\r\n";
        }
        std::fs::write(t2.join(format!("SRV_{:06}.csv", i + 1)), segment).unwrap();
    }
    let short: Vec<&str> = text.lines().take(4).collect();
    std::fs::write(t2.join("short.csv"), short.join("\n") + "\n").unwrap();
    std::fs::write(t2.join("notes.txt"), "not a perfmon log\n").unwrap();
    arch
}

/// Runs perfleak in `dir`; returns (status, stdout, stderr).
fn run(dir: &Path, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let out = perfleak()
        .current_dir(dir)
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// summary.csv as (header, rows), each row keyed by column name.
fn summary(path: &Path) -> (Vec<String>, Vec<Vec<(String, String)>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

/// The rows without the `folder` column (where the reports are differs, what they say not).
fn rows_without_folder(path: &Path) -> Vec<Vec<(String, String)>> {
    let mut rows: Vec<Vec<(String, String)>> = summary(path)
        .1
        .into_iter()
        .map(|r| r.into_iter().filter(|(k, _)| k != "folder").collect())
        .collect();
    rows.sort();
    rows
}

fn column(rows: &[Vec<(String, String)>], name: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r.iter().find(|(k, _)| k == name).unwrap().1.clone())
        .collect()
}

fn logs_in(path: &Path) -> BTreeSet<String> {
    column(&summary(path).1, "log").into_iter().collect()
}

#[test]
fn three_shards_merged_give_the_rows_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    archive(root);
    let (code, _, err) = run(
        root,
        &["analyze", "-q", "arch", "-o", "one", "--summary-parquet"],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let out = format!("s{i}");
        let (code, _, err) = run(
            root,
            &[
                "analyze",
                "-q",
                "--shard",
                &shard,
                "arch",
                "-o",
                &out,
                "--summary-parquet",
            ],
            b"",
        );
        // A shard whose every input failed says so (status 2, as a run that read nothing),
        // but still writes its folder, listing the failure for the merge.
        let read_some = !logs_in(&root.join(&out).join("summary.csv")).is_empty();
        assert_eq!(code, if read_some { 0 } else { 2 }, "shard {shard}: {err}");
    }
    let (code, _, err) = run(root, &["merge", "s1", "s2", "s3", "-o", "merged"], b"");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("3 folder(s) merged: 6 log(s)"), "{err}");

    // Same rows, whatever folder the reports sit in.
    let one = rows_without_folder(&root.join("one/summary.csv"));
    assert!(one.len() > 20);
    assert_eq!(rows_without_folder(&root.join("merged/summary.csv")), one);

    // Disjoint and complete: every log in exactly one shard, the three segments joined there.
    let shards: Vec<BTreeSet<String>> = (1..=3)
        .map(|i| logs_in(&root.join(format!("s{i}/summary.csv"))))
        .collect();
    let all: BTreeSet<String> = shards.iter().flatten().cloned().collect();
    assert_eq!(all, logs_in(&root.join("one/summary.csv")));
    assert_eq!(shards.iter().map(BTreeSet::len).sum::<usize>(), all.len());
    assert!(all.contains("arch/t2/SRV_000001.csv"), "{all:?}");
    assert!(
        !all.iter().any(|l| l.contains("SRV_000002")),
        "segments not joined: {all:?}"
    );
    assert!(
        shards.iter().filter(|s| !s.is_empty()).count() >= 2,
        "{shards:?}"
    );

    // The file that is no log failed in exactly one shard, and the merge lists it.
    let failed: Vec<usize> = (1..=3)
        .filter(|i| root.join(format!("s{i}/failures.csv")).exists())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    let index = std::fs::read_to_string(root.join("merged/index.html")).unwrap();
    assert!(index.contains("arch/t2/notes.txt"), "{index}");
    let failures = std::fs::read_to_string(root.join("merged/failures.csv")).unwrap();
    assert!(failures.contains("arch/t2/notes.txt"), "{failures}");

    // Every link of the merged index leads to a report, and from it back to this index (the
    // report's own back link leads to its shard's index), and worst comes first.
    let links: Vec<&str> = index
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|l| l.contains("/report.html"))
        .collect();
    assert_eq!(links.len(), 6, "{index}");
    for link in &links {
        assert!(link.starts_with("../s"), "{link}");
        assert_leads_there_and_back(&root.join("merged"), link);
    }
    let first_row = index.split("<tr><td>1</td>").nth(1).unwrap();
    assert!(first_row.contains("class=\"leak\""), "{first_row}");
    let not_judged = index.find("not-judged").unwrap();
    let no_leak = index.rfind(">no-leak<").unwrap();
    assert!(not_judged < no_leak, "not judged ranks above healthy");

    // The merged Parquet holds the same rows, the text as logged.
    let frame = read_parquet(&root.join("merged/summary.parquet"));
    assert_eq!(frame.height(), one.len());
}

/// `link`, from the merged index in `index_dir`, is `<report>#from=<back>`: the report exists,
/// and `back`, read from the report's folder, is this very index.
fn assert_leads_there_and_back(index_dir: &Path, link: &str) {
    let (report, back) = link.split_once("#from=").expect("a way back");
    let report = index_dir.join(report.replace("%20", " "));
    assert!(report.is_file(), "{link}");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("id=\"batch-index\""), "{link}: no back link");
    let back = report.parent().unwrap().join(back.replace("%20", " "));
    assert_eq!(
        back.canonicalize().unwrap(),
        index_dir.join("index.html").canonicalize().unwrap(),
        "{link}"
    );
}

fn read_parquet(path: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::SerReader;
    let file = std::fs::File::open(path).expect("parquet written");
    polars::prelude::ParquetReader::new(file)
        .finish()
        .expect("parquet reads")
}

#[test]
fn a_shard_does_not_depend_on_the_order_of_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    archive(root);
    let mut files: Vec<String> = Vec::new();
    for t in ["t1", "t2"] {
        for entry in std::fs::read_dir(root.join("arch").join(t)).unwrap() {
            files.push(format!(
                "arch/{t}/{}",
                entry.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    files.sort();
    let forward = files.join("\n");
    files.reverse();
    let backward = files.join("\r\n\r\n");
    let logs = |list: &str, shard: &str| -> BTreeSet<String> {
        let (_, out, _) = run(
            root,
            &["analyze", "--json", "--shard", shard, "--files-from", "-"],
            list.as_bytes(),
        );
        // Failure lines (`{"error": ...}`) follow the reports.
        out.lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .filter(|line| line.get("error").is_none())
            .map(|report| report["source"]["path"].as_str().unwrap().to_string())
            .collect()
    };
    let mut seen = BTreeSet::new();
    for shard in ["1/2", "2/2"] {
        let a = logs(&forward, shard);
        assert_eq!(a, logs(&backward, shard), "shard {shard}");
        assert!(a.is_disjoint(&seen));
        seen.extend(a);
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
}

#[test]
fn bad_shards_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample("healthy-server.csv");
    let input = input.to_str().unwrap();
    for (shard, says) in [
        ("0/0", "at least 1"),
        ("0/3", "numbered from 1"),
        ("5/3", "no shard 5 of 3"),
        ("two/3", "not a whole number"),
        ("3", "not I/N"),
    ] {
        let (code, out, err) = run(dir.path(), &["analyze", "--shard", shard, input], b"");
        assert_eq!(code, 2, "{shard}");
        assert!(out.is_empty());
        assert!(err.contains(says), "{shard}: {err}");
    }
}

#[test]
fn files_from_stdin_names_the_line_of_a_missing_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(sample("healthy-server.csv"), root.join("a.csv")).unwrap();
    std::fs::copy(sample("thirdparty-leak.csv"), root.join("b c.csv")).unwrap();
    let list = "a.csv\r\n\r\n\nmissing.csv\nb c.csv\n";
    let (code, out, err) = run(
        root,
        &["analyze", "--json", "--files-from", "-"],
        list.as_bytes(),
    );
    assert_eq!(code, 0, "{err}");
    // Two reports, then the missing path's failure line.
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .contains(r#""input":"standard input line 4""#),
        "{out}"
    );
    assert!(
        err.contains("standard input line 4: missing.csv: no such file"),
        "{err}"
    );

    // From a file, with inputs on the command line too; an empty list is no input.
    std::fs::write(root.join("list.txt"), "b c.csv\n").unwrap();
    let (code, out, err) = run(
        root,
        &["analyze", "--json", "--files-from", "list.txt", "a.csv"],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let (code, _, err) = run(root, &["analyze", "--files-from", "-"], b"\n\n");
    assert_eq!(code, 2);
    assert!(err.contains("no input"), "{err}");
    let (code, _, err) = run(root, &["analyze", "--files-from", "-", "-"], b"a.csv\n");
    assert_eq!(code, 2);
    assert!(err.contains("cannot hold both the list"), "{err}");
    let (code, _, err) = run(root, &["analyze", "--files-from", "nolist.txt"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("cannot open the list nolist.txt"), "{err}");
}

#[test]
fn an_empty_shard_still_writes_a_folder_that_merges() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(sample("healthy-server.csv"), root.join("a.csv")).unwrap();
    // One log, many shards: most are empty, one holds it, in the batch layout.
    let mut outs = Vec::new();
    for i in 1..=4 {
        let out = format!("s{i}");
        let (code, _, err) = run(
            root,
            &[
                "analyze",
                "-q",
                "--shard",
                &format!("{i}/4"),
                "a.csv",
                "-o",
                &out,
            ],
            b"",
        );
        assert_eq!(code, 0, "{err}");
        assert!(root.join(&out).join("summary.csv").is_file());
        outs.push(out);
    }
    let mut args = vec!["merge"];
    args.extend(outs.iter().map(String::as_str));
    args.extend(["-o", "m"]);
    let (code, _, err) = run(root, &args, b"");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        logs_in(&root.join("m/summary.csv")),
        BTreeSet::from(["a.csv".to_string()])
    );
    // No Parquet asked for: none merged.
    assert!(!root.join("m/summary.parquet").exists());
}

#[test]
fn merge_keeps_failures_and_not_judged_logs_and_refuses_bad_folders() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    archive(root);
    // Its folder `-dash` is `'-dash` in summary.csv (defused for spreadsheets).
    std::fs::copy(sample("healthy-server.csv"), root.join("arch/t2/-dash.csv")).unwrap();
    let (code, _, err) = run(root, &["analyze", "-q", "arch/t2", "-o", "b2"], b"");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(root, &["analyze", "-q", "arch/t1", "-o", "b1"], b"");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(root, &["merge", "b2", "b1", "-o", "all"], b"");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 input(s) failed"), "{err}");
    let index = std::fs::read_to_string(root.join("all/index.html")).unwrap();
    assert!(index.contains("class=\"unjudged\">not-judged"), "{index}");
    assert!(index.contains("Inputs that could not be read"), "{index}");
    let (_, rows) = summary(&root.join("all/summary.csv"));
    let statuses: BTreeSet<String> = column(&rows, "status").into_iter().collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["leak", "no-leak", "not-judged"].map(String::from))
    );
    assert!(
        column(&rows, "folder")
            .iter()
            .all(|f| f.starts_with("../b")),
        "{rows:?}"
    );
    for link in index
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
    {
        if link.ends_with("/report.html") {
            assert!(root.join("all").join(link).is_file(), "{link}");
        }
    }
    assert!(index.contains("../b2/-dash/report.html"), "{index}");
    // A merge merges again: its folders are relative to its own summary.
    let (code, _, err) = run(root, &["merge", "all", "-o", "again/deeper"], b"");
    assert_eq!(code, 0, "{err}");
    let again = std::fs::read_to_string(root.join("again/deeper/index.html")).unwrap();
    let link = again
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_leads_there_and_back(&root.join("again/deeper"), link);

    // Refused, and nothing written: the output as an input, a folder that is no batch.
    let (code, _, err) = run(root, &["merge", "b1", "b2", "-o", "b1"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("is one of the folders to merge"), "{err}");
    let (code, _, err) = run(root, &["merge", "b1", "arch", "-o", "x"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("arch: no summary.csv"), "{err}");
    assert!(!root.join("x/index.html").exists());
    let (code, _, err) = run(root, &["merge", "b1", "./b1", "-o", "x"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("given twice"), "{err}");
}

/// The schema table of docs/summary-parquet.md: (column, type).
fn documented_schema() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/summary-parquet.md"),
    )
    .unwrap();
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_string(), cells.get(2)?.to_string()))
        })
        .collect()
}

#[test]
fn the_parquet_schema_is_the_documented_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(sample("healthy-server.csv"), root.join("a.csv")).unwrap();
    std::fs::copy(sample("winlogon-smtp-leak.csv"), root.join("b.csv")).unwrap();
    let (code, _, err) = run(
        root,
        &[
            "analyze",
            "-q",
            "a.csv",
            "b.csv",
            "-o",
            "out",
            "--summary-parquet",
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let frame = read_parquet(&root.join("out/summary.parquet"));
    let written: Vec<(String, String)> = frame
        .schema()
        .iter()
        .map(|(name, dtype)| {
            let kind = match dtype {
                polars::prelude::DataType::String => "string",
                polars::prelude::DataType::Float64 => "double",
                other => panic!("{name}: undocumented type {other}"),
            };
            (name.to_string(), kind.to_string())
        })
        .collect();
    assert_eq!(written, documented_schema());
    // The CSV has the same columns, in the same order.
    let (header, rows) = summary(&root.join("out/summary.csv"));
    assert_eq!(
        header,
        written.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()
    );
    assert_eq!(rows.len(), frame.height());
    let starts = column(&rows, "start");
    assert!(
        starts.iter().all(|s| s.len() >= 19 && s.contains('T')),
        "{starts:?}"
    );
    let folders: BTreeSet<String> = column(&rows, "folder").into_iter().collect();
    assert_eq!(folders, BTreeSet::from(["a".to_string(), "b".to_string()]));
}
