//! Every report.json the runs below write, and every line of `analyze --json`, is valid
//! against docs/report.schema.json: the bundled samples as a batch, the same logs generated
//! again as BLG, a single log, the public real logs when `../shared` is there, and the JSON
//! Lines of a batch with a failed input (its failure line against `$defs/failure_line`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli_common::{perfleak, sample, tree};

const SCHEMA_ID: &str = "https://perfleak.invalid/report.schema.json";

/// The schema compiled: the report, and a failure line of `--json`.
struct Validator {
    schemas: boon::Schemas,
    report: boon::SchemaIndex,
    failure: boon::SchemaIndex,
}

impl Validator {
    fn new() -> Validator {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
        let text = std::fs::read_to_string(&path).expect("docs/report.schema.json");
        let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
        assert_eq!(schema["$id"], SCHEMA_ID, "the schema's own name");
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource(SCHEMA_ID, schema)
            .expect("schema added");
        let report = compiler
            .compile(SCHEMA_ID, &mut schemas)
            .unwrap_or_else(|e| panic!("the schema compiles: {e:#}"));
        let failure = compiler
            .compile(&format!("{SCHEMA_ID}#/$defs/failure_line"), &mut schemas)
            .unwrap_or_else(|e| panic!("the failure line's schema compiles: {e:#}"));
        Validator {
            schemas,
            report,
            failure,
        }
    }

    fn check(&self, what: &str, value: &Value, index: boon::SchemaIndex) {
        if let Err(e) = self.schemas.validate(value, index) {
            panic!("{what} does not follow docs/report.schema.json:\n{e:#}");
        }
    }

    fn check_report(&self, what: &str, value: &Value) {
        self.check(what, value, self.report);
    }

    /// Every report.json under `dir`; how many there were.
    fn check_folder(&self, dir: &Path) -> usize {
        let reports: Vec<PathBuf> = tree(dir)
            .into_iter()
            .filter(|p| p.ends_with("report.json"))
            .map(|p| dir.join(p))
            .collect();
        for path in &reports {
            let text = std::fs::read_to_string(path).expect("report.json readable");
            let value: Value = serde_json::from_str(&text).expect("report.json is JSON");
            self.check_report(&path.display().to_string(), &value);
        }
        reports.len()
    }
}

fn analyze(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let out = perfleak()
        .arg("analyze")
        .arg("-q")
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn sample_paths() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("samples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn the_schema_rejects_what_the_contract_forbids() {
    // A validator that passes everything proves nothing: broken reports must fail.
    let v = Validator::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("one");
    analyze(&[
        sample("winlogon-smtp-leak.csv").as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    let good: Value = serde_json::from_str(&text).expect("JSON");
    v.check_report("the winlogon report", &good);
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut bad = good.clone();
        edit(&mut bad);
        v.schemas.validate(&bad, v.report).is_err()
    };
    assert!(broken(&|r| r["status"] = "leaky".into()));
    assert!(broken(&|r| {
        r.as_object_mut().expect("object").remove("findings");
    }));
    assert!(broken(&|r| r["findings"][0]["verdict"] = "bad".into()));
    assert!(broken(&|r| r["findings"][0]["confidence"] = 1.5.into()));
    assert!(broken(&|r| r["source"]["start"] = "9 Aug 2001".into()));
    assert!(broken(
        &|r| r["kb_matches"][0]["strength"] = "certain".into()
    ));
    // New fields are allowed: the schema may only be extended.
    assert!(!broken(&|r| r["new_field"] = 1.into()));
}

#[test]
fn every_bundled_sample_as_a_batch_follows_the_schema() {
    let v = Validator::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("batch");
    let mut args: Vec<&std::ffi::OsStr> = Vec::new();
    let paths = sample_paths();
    args.extend(paths.iter().map(|p| p.as_os_str()));
    args.extend(["-o".as_ref(), out.as_os_str()]);
    analyze(&args);
    assert_eq!(v.check_folder(&out), paths.len(), "one report per sample");
    assert!(paths.len() >= 5, "{paths:?}");
}

#[test]
fn generated_logs_read_as_blg_follow_the_schema() {
    let v = Validator::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    let written = perfleak_synth::run(&perfleak_synth::SynthOptions {
        out: logs.clone(),
        what: "samples".into(),
        seed: 7,
        format: perfleak_synth::SynthFormat::Blg,
    })
    .expect("synth writes BLGs");
    let out = dir.path().join("out");
    analyze(&[logs.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    assert_eq!(v.check_folder(&out), written);
    let formats: Vec<String> = tree(&out)
        .iter()
        .filter(|p| p.ends_with("report.json"))
        .map(|p| {
            let text = std::fs::read_to_string(out.join(p)).expect("read");
            serde_json::from_str::<Value>(&text).expect("JSON")["source"]["format"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(formats.iter().all(|f| f == "blg"), "{formats:?}");
}

#[test]
fn json_lines_of_a_batch_with_a_failure_follow_the_schema() {
    let v = Validator::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, "not a perfmon log\n").expect("write");
    let out = perfleak()
        .args(["analyze", "-q", "--json"])
        .arg(sample("restart-leak.csv"))
        .arg(sample("thirdparty-leak.csv"))
        .arg(&broken)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let (failures, reports): (Vec<&Value>, Vec<&Value>) =
        lines.iter().partition(|l| l.get("error").is_some());
    assert_eq!((reports.len(), failures.len()), (2, 1), "{stdout}");
    for report in reports {
        v.check_report("a --json report line", report);
        // A report line is not a failure line, and the other way round.
        assert!(v.schemas.validate(report, v.failure).is_err());
    }
    v.check("the failure line", failures[0], v.failure);
    assert!(v.schemas.validate(failures[0], v.report).is_err());
}

#[test]
fn public_real_logs_follow_the_schema() {
    let realdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata");
    if !realdata.is_dir() {
        eprintln!("skipped: ../shared/realdata is absent");
        return;
    }
    let v = Validator::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("real");
    // Some real logs are not judged or fail on purpose (a corrupt BLG): the run's status is
    // not the point here, every report it writes is.
    let run = perfleak()
        .args(["analyze", "-q"])
        .arg(&realdata)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        run.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let blgs = tree(&realdata)
        .iter()
        .filter(|p| p.ends_with(".blg"))
        .count();
    let checked = v.check_folder(&out);
    assert!(checked > blgs, "{checked} reports checked");
}
