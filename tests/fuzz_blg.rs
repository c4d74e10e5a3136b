//! Mutation fuzzing of the BLG reader: seeded mutants of the four real BLGs (when ../shared is
//! there) and of generated ones (always) are read in-process and analysed, each inside
//! `catch_unwind` and under a watchdog: a panic or a mutant that takes longer than the bound
//! fails the test, naming the seed and the mutant so it can be replayed.
//!
//! Mutations: byte flips, fields of the container set to edge values (buffer sizes and used
//! bytes, event sizes, fragment numbers, BL record lengths and item counts), truncation,
//! buffers swapped, dropped or repeated, zeroed regions, and combinations of these.
//!
//! `PERFLEAK_FUZZ_BLG=N` sets the number of mutants (default 1,000), `PERFLEAK_FUZZ_SEED` the
//! seed (default 1). The long run: `PERFLEAK_FUZZ_BLG=100000 cargo test --release --test fuzz_blg
//! -- --nocapture`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use perfleak::analysis;
use perfleak::ingest::{self, ReadOptions};
use perfleak_synth::{blg, sample_logs, throughput_log};

const BUFFER: usize = 0x10000;
/// A mutant that takes longer than this (read and analysis) is a hang.
const HANG_BOUND: Duration = Duration::from_secs(20);

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The seed files: generated BLGs of several shapes, and the real ones when present.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    // A log with restarts, #N instances, ID Process and Elapsed Time, cut to 80 samples.
    let mut restart = sample_logs(1)
        .into_iter()
        .find(|l| l.name() == "restart-leak")
        .expect("the restart sample");
    restart.spec.samples = 80;
    out.push(("gen-restart".to_string(), blg::to_blg_bytes(&restart)));
    // Many small buffers' worth of rows, and wide rows cut into fragments.
    out.push((
        "gen-long".to_string(),
        blg::to_blg_bytes(&throughput_log(4, 300, 2)),
    ));
    out.push((
        "gen-wide".to_string(),
        blg::to_blg_bytes(&throughput_log(500, 12, 3)),
    ));
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata/blg");
    if real.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(&real)
            .expect("realdata/blg lists")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "blg"))
            .collect();
        names.sort();
        for p in names {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            out.push((name, std::fs::read(&p).expect("real BLG reads")));
        }
    } else {
        println!("skipped: ../shared absent (real BLG seeds); generated seeds only");
    }
    out
}

/// Offsets of the fields a mutation aims at: buffer sizes and used bytes, event sizes and
/// fragment numbers, BL record lengths and instance-list counts.
fn fields(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    for start in (0..b.len()).step_by(BUFFER) {
        out.extend([start, start + 4, start + 0x30]);
        let used = u32_le(b, start + 0x30).unwrap_or(0) as usize;
        let end = (start + used.min(BUFFER)).min(b.len());
        let mut off = start + 0x48;
        while off + 0x30 <= end {
            let system = matches!(b[off + 2], 1 | 2);
            let size_at = if system { off + 4 } else { off };
            let size = u16::from_le_bytes([b[size_at], b[size_at + 1]]) as usize;
            if size < 0x30 {
                break;
            }
            out.push(size_at);
            if !system {
                out.extend([off + 0x40, off + 0x44]);
            }
            off += (size + 7) & !7;
        }
    }
    for i in 0..b.len().saturating_sub(16) {
        if b[i] == 0x42 && b[i + 1] == 0x4C && b[i + 3] <= 5 {
            out.push(i + 4);
            if b[i + 2] == 0x02 && b[i + 3] == 0x03 {
                out.extend([i + 8, i + 12]);
            }
        }
    }
    out
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes(s.try_into().unwrap()))
}

const EDGE: [u32; 10] = [
    0,
    1,
    7,
    0x30,
    0x48,
    0xFFFF,
    0x10000,
    0x7FFF_FFFF,
    0xFFFF_FFF0,
    0xFFFF_FFFF,
];

/// One mutation, named for the failure message.
fn mutate(rng: &mut SmallRng, b: &mut Vec<u8>, fields: &[usize]) -> &'static str {
    let buffers = b.len() / BUFFER;
    match rng.random_range(0..9) {
        0 => {
            for _ in 0..rng.random_range(1..9) {
                let i = rng.random_range(0..b.len());
                b[i] ^= 1 << rng.random_range(0..8);
            }
            "bit flips"
        }
        1 | 2 if !fields.is_empty() => {
            let at = fields[rng.random_range(0..fields.len())];
            let v = if rng.random_bool(0.7) {
                EDGE[rng.random_range(0..EDGE.len())]
            } else {
                let old = u32_le(b, at).unwrap_or(0);
                old.wrapping_add(rng.random_range(0..16)).wrapping_sub(8)
            };
            let width = if rng.random_bool(0.5) { 2 } else { 4 };
            let bytes = v.to_le_bytes();
            for (k, &byte) in bytes.iter().take(width).enumerate() {
                if let Some(x) = b.get_mut(at + k) {
                    *x = byte;
                }
            }
            "field set to an edge value"
        }
        3 => {
            let at = rng.random_range(0..b.len());
            b.truncate(at);
            "truncated"
        }
        4 if buffers >= 3 => {
            let (i, j) = (rng.random_range(0..buffers), rng.random_range(0..buffers));
            if i != j {
                let (lo, hi) = (i.min(j), i.max(j));
                let (a, c) = b.split_at_mut(hi * BUFFER);
                a[lo * BUFFER..(lo + 1) * BUFFER].swap_with_slice(&mut c[..BUFFER]);
            }
            "buffers swapped"
        }
        5 if buffers >= 2 => {
            let i = rng.random_range(0..buffers);
            b.drain(i * BUFFER..(i + 1) * BUFFER);
            "buffer dropped"
        }
        6 if buffers >= 1 => {
            let i = rng.random_range(0..buffers);
            let copy = b[i * BUFFER..(i + 1) * BUFFER].to_vec();
            let to = rng.random_range(0..=buffers) * BUFFER;
            b.splice(to..to, copy);
            "buffer duplicated"
        }
        7 => {
            let at = rng.random_range(0..b.len());
            let len = rng.random_range(1..4096).min(b.len() - at);
            b[at..at + len].fill(if rng.random_bool(0.5) { 0 } else { 0xFF });
            "region zeroed"
        }
        _ => {
            // A huge length in a BL record or an instance count.
            if let Some(&at) = fields.get(rng.random_range(0..fields.len().max(1))) {
                if let Some(s) = b.get_mut(at..at + 4) {
                    s.copy_from_slice(&0xFFFF_FFF8u32.to_le_bytes());
                }
            }
            "huge length"
        }
    }
}

/// Reads and analyses one mutant; `Err` is a panic's message.
fn run(bytes: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| {
        if let Ok(log) = ingest::read_bytes("mutant.blg", bytes, &ReadOptions::default()) {
            std::hint::black_box(analysis::analyze(&log));
        }
    }))
    .map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[test]
fn mutants_of_real_and_generated_blgs_never_panic_or_hang() {
    let total = env_u64("PERFLEAK_FUZZ_BLG", 1000);
    let seed = env_u64("PERFLEAK_FUZZ_SEED", 1);
    let seeds = seeds();
    // The unmutated seeds read cleanly.
    for (name, bytes) in &seeds {
        let log = ingest::read_bytes(name, bytes, &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        assert!(!log.timestamps.is_empty(), "{name}");
    }
    let targets: Vec<Vec<usize>> = seeds.iter().map(|(_, b)| fields(b)).collect();
    let seed_count = seeds.len();
    let started = Instant::now();
    // The mutants run on a worker; the watchdog here fails the test when one does not finish.
    let (tx, rx) = mpsc::channel::<(u64, Option<String>)>();
    let worker = std::thread::spawn(move || {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {})); // panics are counted, not printed
        for k in 0..total {
            let mut rng = SmallRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(k));
            let s = rng.random_range(0..seeds.len());
            let mut bytes = seeds[s].1.clone();
            let mut what = Vec::new();
            for _ in 0..rng.random_range(1..4) {
                if bytes.is_empty() {
                    break;
                }
                what.push(mutate(&mut rng, &mut bytes, &targets[s]));
            }
            let failure = run(&bytes)
                .err()
                .map(|m| format!("mutant {k} of {} ({}): {m}", seeds[s].0, what.join(", ")));
            if tx.send((k, failure)).is_err() {
                break;
            }
        }
        std::panic::set_hook(previous);
    });
    let mut panics = Vec::new();
    let mut done = 0u64;
    while done < total {
        match rx.recv_timeout(HANG_BOUND) {
            Ok((_, failure)) => {
                done += 1;
                panics.extend(failure);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "mutant {done} (seed {seed}) hangs: no result in {} s",
                HANG_BOUND.as_secs()
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    worker.join().expect("worker ends");
    println!(
        "fuzz_blg: {done} mutants of {} seeds (seed {seed}), {} panics, 0 hangs, {:.1} s",
        seed_count,
        panics.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(done, total);
    assert!(
        panics.is_empty(),
        "{} panics: {:#?}",
        panics.len(),
        &panics[..panics.len().min(10)]
    );
}
