//! Pinned outputs: what a user reads and what scripts parse, for every bundled sample and a few
//! seeded generated logs (report.json from `analyze --json`, summary.md, `inspect` as text and
//! JSON), and the detection benchmark's per-family verdict counts on a fixed slice of the tune
//! split. A restructuring must leave them identical; a deliberate change updates them in its own
//! commit (`INSTA_UPDATE=always cargo test --test cli snapshots_outputs::`, then review the diff).

use crate::cli_common;

use std::collections::BTreeMap;
use std::path::Path;

use cli_common::perfleak;
use perfleak::analysis;
use perfleak::ingest::{self, ReadOptions};
use perfleak_synth::score::{match_detections, Call, Confusion, Detection};
use perfleak_synth::{self as synth, GeneratedLog, Split, Truth};
use rayon::prelude::*;

const SAMPLES: [&str; 5] = [
    "exchange-async-leak",
    "healthy-server",
    "restart-leak",
    "thirdparty-leak",
    "winlogon-smtp-leak",
];

/// Runs `perfleak args...` in `dir` and returns its standard output; the run must succeed.
fn stdout_of(dir: &Path, args: &[&str]) -> String {
    let out = perfleak()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("perfleak runs");
    assert!(
        out.status.success(),
        "perfleak {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("output is UTF-8")
}

/// The four outputs of one log, snapshotted under `name`. `file` is relative to `dir`, so no
/// run-dependent path reaches the outputs; the folders are replaced all the same in case a
/// writer makes a path absolute.
fn pin_log(dir: &Path, file: &str, name: &str) {
    let dir_text = dir.display().to_string();
    let stdout_of = |args: &[&str]| stdout_of(dir, args).replace(&dir_text, "[DIR]");
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        let json = stdout_of(&["analyze", "--json", file]);
        // Pretty-printed again so that a changed field shows as one changed line.
        let value: serde_json::Value = serde_json::from_str(&json).expect("report.json parses");
        insta::assert_snapshot!(
            format!("{name}.report.json"),
            serde_json::to_string_pretty(&value).unwrap()
        );

        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().join("report");
        let out_arg = out_dir.display().to_string();
        stdout_of(&["analyze", "--quiet", file, "-o", &out_arg]);
        let summary = std::fs::read_to_string(out_dir.join("summary.md")).expect("summary.md");
        insta::assert_snapshot!(
            format!("{name}.summary.md"),
            summary
                .replace(&out_arg, "[OUT]")
                .replace(&dir_text, "[DIR]")
        );

        insta::assert_snapshot!(format!("{name}.inspect.txt"), stdout_of(&["inspect", file]));
        insta::assert_snapshot!(
            format!("{name}.inspect.json"),
            stdout_of(&["inspect", "--json", file])
        );
    });
}

#[test]
fn bundled_samples() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in SAMPLES {
        pin_log(repo, &format!("samples/{name}.csv"), name);
    }
}

/// A few seeded generated logs beside the samples: benchmark logs of several families (one of
/// them short) and a small throughput log of many similar processes.
fn generated_logs() -> Vec<GeneratedLog> {
    let tune: Vec<GeneratedLog> = synth::benchmark_logs_seeded(Split::Tune, 0.01, 15).collect();
    // Long logs first, short ones (family 'short log') at the end of the plan.
    let mut picked = vec![
        tune[0].clone(),
        tune[1].clone(),
        tune[tune.len() - 1].clone(),
    ];
    picked.push(synth::throughput_log(8, 400, 0x5eed));
    picked
}

#[test]
fn generated_samples() {
    let dir = tempfile::tempdir().unwrap();
    for (i, log) in generated_logs().iter().enumerate() {
        synth::write_log(dir.path(), log).unwrap();
        pin_log(
            dir.path(),
            &format!("{}.csv", log.name()),
            &format!("generated-{i}"),
        );
    }
}

/// Logs of the tune split (scale [`TABLE_SCALE`], the plan's first [`TABLE_LOGS`]) whose verdicts
/// are counted per family: the benchmark's scoring on a slice small enough for a debug test.
const TABLE_SCALE: f64 = 0.02;
const TABLE_LOGS: usize = 40;

#[test]
fn detection_verdict_table() {
    let logs: Vec<GeneratedLog> = synth::benchmark_logs(Split::Tune, TABLE_SCALE)
        .take(TABLE_LOGS)
        .collect();
    let per_log: Vec<Vec<(u8, &'static str, Truth, Call)>> = logs
        .par_iter()
        .map(|log| {
            let parsed = ingest::read_bytes(
                &format!("{}.csv", log.name()),
                &log.to_csv_bytes(),
                &ReadOptions::default(),
            )
            .expect("generated log reads");
            let found: Vec<Detection> = analysis::analyze(&parsed)
                .iter()
                .map(Detection::from)
                .collect();
            match_detections(&log.labels, &found)
                .into_iter()
                .map(|(label, d)| {
                    (
                        label.family.number(),
                        label.family.name(),
                        label.truth,
                        d.map_or(Call::Negative, |d| d.call),
                    )
                })
                .collect()
        })
        .collect();
    let mut table: BTreeMap<(u8, &str, String), Confusion> = BTreeMap::new();
    let mut total = Confusion::default();
    for (number, name, truth, call) in per_log.into_iter().flatten() {
        table
            .entry((number, name, format!("{truth:?}")))
            .or_default()
            .add(truth, call);
        total.add(truth, call);
    }
    let mut text = format!(
        "tune split, scale {TABLE_SCALE}, first {} logs\n\n| # | family | truth | tp | fn | fp | tn | abstain leak | abstain not-leak | ambiguous | ambiguous flagged |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
        logs.len()
    );
    let row = |c: &Confusion| {
        format!(
            "{} | {} | {} | {} | {} | {} | {} | {} |",
            c.tp,
            c.fn_,
            c.fp,
            c.tn,
            c.abstain_leak,
            c.abstain_not_leak,
            c.ambiguous,
            c.ambiguous_flagged
        )
    };
    for ((number, name, truth), c) in &table {
        text.push_str(&format!("| {number} | {name} | {truth} | {} \n", row(c)));
    }
    text.push_str(&format!("| | all | | {} \n", row(&total)));
    insta::assert_snapshot!("detection-verdict-table", text);
}
