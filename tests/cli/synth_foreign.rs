//! The second generator (`perfleak-synth -o DIR foreign`, `synth/src/foreign.rs`): its logs
//! load, each labels the series it says with the shape's truth, its values are finite and never
//! negative, and it is the same for the same seed.

use std::collections::BTreeSet;

use perfleak::ingest::{self, PerfLog, ReadOptions};
use perfleak_synth::{
    foreign_logs, Family, ForeignShape, GeneratedLog, LogLabels, SeriesLabel, Truth,
};

use crate::cli_common;

fn read(log: &GeneratedLog) -> PerfLog {
    ingest::read_bytes(
        &format!("{}.csv", log.name()),
        &log.to_csv_bytes(),
        &ReadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{} reads: {e:#}", log.name()))
}

fn values(parsed: &PerfLog, instance: &str, counter: &str) -> Vec<f64> {
    let column = parsed
        .columns
        .iter()
        .find(|c| {
            c.path.object == "Process"
                && c.path.instance_label().as_deref() == Some(instance)
                && c.path.counter == counter
        })
        .unwrap_or_else(|| panic!("no column {instance}\\{counter}"));
    column.values.to_vec()
}

fn shape_of(label: &SeriesLabel) -> ForeignShape {
    match label.family {
        Family::Foreign(shape) => shape,
        other => panic!(
            "{}: family {other:?} is not a foreign shape",
            label.instance
        ),
    }
}

#[test]
fn foreign_logs_load_with_their_labels_and_sane_values() {
    let logs: Vec<GeneratedLog> = foreign_logs(12, 1).collect();
    let mut shapes = BTreeSet::new();
    let mut truths = BTreeSet::new();
    for (i, log) in logs.iter().enumerate() {
        let parsed = read(log);
        assert_eq!(parsed.timestamps.len(), log.spec.samples, "{}", log.name());
        // Ten processes, each with Private Bytes and Handle Count labelled.
        assert_eq!(log.labels.len(), 20, "{}", log.name());
        let processes: BTreeSet<&str> = log.labels.iter().map(|l| l.process.as_str()).collect();
        assert_eq!(processes.len(), 10);
        for label in &log.labels {
            let shape = shape_of(label);
            assert_eq!(label.family.name(), shape.name());
            assert_eq!(label.machine, log.spec.host);
            // A leak-business series whose log holds no working time shows no growth.
            let quiet_business =
                shape == ForeignShape::LeakBusiness && label.truth == Truth::Ambiguous;
            if quiet_business {
                assert!(label.note.is_some(), "{label:?}");
            } else {
                assert_eq!(label.truth, shape.truth(), "{label:?}");
            }
            assert_eq!(label.truth == Truth::Leak, label.slope_per_hour > 0.0);
            let v = values(&parsed, &label.instance, &label.counter);
            assert_eq!(v.len(), log.spec.samples);
            assert!(
                v.iter().all(|x| x.is_finite() && *x >= 0.0),
                "{} {} {}: a value is blank, infinite or negative",
                log.name(),
                label.instance,
                label.counter
            );
            shapes.insert(shape);
            truths.insert(format!("{:?}", label.truth));
        }
        // Half the logs (the even ones) carry a constant ID Process per process.
        for p in &processes {
            let has = parsed
                .columns
                .iter()
                .any(|c| c.path.instance.as_deref() == Some(*p) && c.path.counter == "ID Process");
            assert_eq!(has, i % 2 == 0, "{} {p}", log.name());
            if has {
                let pids = values(&parsed, p, "ID Process");
                assert!(pids.iter().all(|x| *x == pids[0] && *x > 0.0));
            }
        }
    }
    // Twelve logs of 20 series draw every shape the generator has, and every truth.
    assert_eq!(shapes.len(), ForeignShape::ALL.len(), "{shapes:?}");
    assert!(truths.len() >= 3, "{truths:?}");
}

#[test]
fn foreign_logs_are_the_same_for_the_same_seed() {
    let a: Vec<GeneratedLog> = foreign_logs(3, 1).collect();
    let b: Vec<GeneratedLog> = foreign_logs(5, 1).take(3).collect();
    let other: Vec<GeneratedLog> = foreign_logs(3, 2).collect();
    for ((x, y), z) in a.iter().zip(&b).zip(&other) {
        assert_eq!(x.to_csv_bytes(), y.to_csv_bytes());
        assert_eq!(x.labels_json(), y.labels_json());
        assert_ne!(x.to_csv_bytes(), z.to_csv_bytes());
        // The labels file names each series' family by its shape and reads back as written
        // (floats aside: JSON text may differ from them in the last digit).
        let back: LogLabels = serde_json::from_str(&x.labels_json()).expect("labels parse");
        let key = |l: &SeriesLabel| (l.instance.clone(), l.counter.clone(), l.family, l.truth);
        assert_eq!(
            back.series.iter().map(key).collect::<Vec<_>>(),
            x.labels.iter().map(key).collect::<Vec<_>>()
        );
        let json: serde_json::Value = serde_json::from_str(&x.labels_json()).expect("JSON");
        assert_eq!(
            json["series"][0]["family"],
            shape_of(&x.labels[0]).name(),
            "{json:#}"
        );
    }
}

#[test]
fn perfleak_judges_every_series_of_a_written_foreign_log() {
    // The smallest of the first logs, written as `perfleak-synth -o DIR foreign` writes it.
    let log = foreign_logs(6, 1)
        .min_by_key(|l| l.spec.samples)
        .expect("logs");
    let dir = tempfile::tempdir().expect("temp dir");
    perfleak_synth::write_log(dir.path(), &log).expect("written");
    let csv = dir.path().join(format!("{}.csv", log.name()));
    let labels: LogLabels = serde_json::from_slice(
        &std::fs::read(dir.path().join(format!("{}.labels.json", log.name()))).expect("labels"),
    )
    .expect("labels parse");
    let report = cli_common::json_of(&["analyze".as_ref(), "--json".as_ref(), csv.as_os_str()]);
    let findings = report["findings"].as_array().expect("findings");
    for label in &labels.series {
        let f = findings
            .iter()
            .find(|f| {
                f["instance"] == label.instance.as_str() && f["counter"] == label.counter.as_str()
            })
            .unwrap_or_else(|| panic!("no finding for {} {}", label.instance, label.counter));
        assert!(f["verdict"].is_string(), "{f:#}");
    }
}
