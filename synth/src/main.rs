//! `perfleak-synth`: writes labelled synthetic perfmon logs (the bundled samples, the benchmark
//! splits, one wide log for throughput runs, the second generator's logs). `cargo run -p perfleak-synth -- --help`.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use perfleak_synth::{SynthFormat, SynthOptions};

/// Writes labelled synthetic perfmon logs (for samples, tests and benchmarks).
#[derive(Debug, Parser)]
#[command(name = "perfleak-synth", version, about)]
struct SynthArgs {
    /// Folder to write into.
    #[arg(short, long)]
    out: PathBuf,
    /// What to write: `samples` (the bundled samples), a benchmark split (`tune`, `test`),
    /// `wide` (one wide log for throughput runs; see benches/batch.sh), or `modern` (today's
    /// servers whose leaks modern KB articles describe, each with a `.kb.json` label), or
    /// `foreign` (a second generator's shapes the rules were never tuned on;
    /// `PERFLEAK_BENCH_FOREIGN` logs, default 240).
    #[arg(default_value = "samples")]
    what: String,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// File format of the logs: PDH-CSV text or a binary perfmon log.
    #[arg(short, long, value_enum, default_value_t = FormatArg::Csv)]
    format: FormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Csv,
    Blg,
}

fn main() {
    let args = SynthArgs::parse();
    let options = SynthOptions {
        out: args.out,
        what: args.what,
        seed: args.seed,
        format: match args.format {
            FormatArg::Csv => SynthFormat::Csv,
            FormatArg::Blg => SynthFormat::Blg,
        },
    };
    match perfleak_synth::run(&options) {
        Ok(count) => eprintln!(
            "perfleak-synth: wrote {count} logs to {}",
            options.out.display()
        ),
        Err(e) => {
            eprintln!("perfleak-synth: {e:#}");
            std::process::exit(2);
        }
    }
}
