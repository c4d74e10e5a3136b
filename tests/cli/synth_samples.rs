//! The bundled samples are exactly what `perfleak-synth --out DIR samples` writes today, stay
//! small, and carry the ground truth their README describes.

use std::path::Path;

use perfleak_synth::{LogLabels, SynthFormat, SynthOptions, Truth, SAMPLE_NAMES};

fn committed(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn labels(name: &str) -> LogLabels {
    serde_json::from_slice(&committed(&format!("{name}.labels.json"))).expect("labels parse")
}

#[test]
fn regenerated_samples_are_byte_identical() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = SynthOptions {
        out: dir.path().to_path_buf(),
        what: "samples".into(),
        seed: 1,
        format: SynthFormat::Csv,
    };
    assert_eq!(
        perfleak_synth::run(&options).expect("synth runs"),
        SAMPLE_NAMES.len()
    );
    for name in SAMPLE_NAMES {
        for file in [format!("{name}.csv"), format!("{name}.labels.json")] {
            let fresh = std::fs::read(dir.path().join(&file)).expect("written");
            assert!(
                fresh == committed(&file),
                "samples/{file} differs from a fresh `perfleak-synth --out samples`"
            );
        }
        assert!(
            committed(&format!("{name}.csv")).len() < 700_000,
            "{name} stays small"
        );
    }
}

#[test]
fn samples_carry_their_stories() {
    let leaks = |name: &str| -> Vec<(String, String)> {
        labels(name)
            .series
            .iter()
            .filter(|l| l.truth == Truth::Leak)
            .map(|l| (l.instance.clone(), l.counter.clone()))
            .collect()
    };
    assert!(leaks("healthy-server").is_empty());
    let pair = |i: &str, c: &str| (i.to_string(), c.to_string());
    assert_eq!(
        leaks("winlogon-smtp-leak"),
        [
            pair("winlogon", "Private Bytes"),
            pair("winlogon", "Handle Count")
        ]
    );
    assert_eq!(
        leaks("exchange-async-leak"),
        [pair("async", "Private Bytes")]
    );
    assert_eq!(
        leaks("thirdparty-leak"),
        [
            pair("acmesyncd", "Private Bytes"),
            pair("acmesyncd", "Handle Count")
        ]
    );
    assert_eq!(
        leaks("restart-leak"),
        [
            pair("w3wp#1", "Private Bytes"),
            pair("w3wp#1", "Handle Count")
        ]
    );
    let restart = labels("restart-leak");
    let leaker = restart
        .series
        .iter()
        .find(|l| l.instance == "w3wp#1")
        .expect("w3wp#1 labelled");
    assert!(
        leaker.pids.len() >= 3,
        "recycled app pool shows several PIDs: {:?}",
        leaker.pids
    );

    let nt4 = String::from_utf8(committed("winlogon-smtp-leak.csv")).expect("ASCII");
    let header = nt4.lines().next().unwrap_or("");
    for object in [
        "\\SMTP Server\\",
        "\\Process(winlogon)\\Handle Count",
        "\\Process(spoolss)\\",
        "\\Process(llssrv)\\",
    ] {
        assert!(header.contains(object), "NT4 sample logs {object}");
    }
    let exchange = String::from_utf8(committed("exchange-async-leak.csv")).expect("ASCII");
    let header = exchange.lines().next().unwrap_or("");
    for object in [
        "\\MSExchangeMSMI\\",
        "\\MSExchangePCMTA\\",
        "Process(store)",
        "Process(dsamain)",
        "Process(emsmta)",
        "Process(mad)",
    ] {
        assert!(header.contains(object), "Exchange sample logs {object}");
    }
}
