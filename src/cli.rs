//! Command line: parses arguments (clap) and dispatches to the pipeline stages. No logic here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Finds process memory and handle leaks in Windows perfmon logs (PDH-CSV/TSV), forecasts when
/// the process runs out, and names the Knowledge Base article that explains it.
#[derive(Debug, Parser)]
#[command(name = "perfleak", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse logs and write reports (HTML, JSON, Markdown, PNG charts).
    Analyze(AnalyzeArgs),
    /// Print what a log holds: format, machines, time span, interval, objects, processes, counters.
    Inspect(InspectArgs),
    /// Write a log (.blg, .csv, .tsv) as `relog LOG -f csv|tsv` would, to stdout or -o.
    Convert(ConvertArgs),
    /// The knowledge base in use (built in plus --kb).
    Kb(KbArgs),
    /// Write labelled synthetic perfmon logs (for samples, tests and benchmarks).
    #[command(hide = true)]
    Synth(SynthArgs),
}

/// Exit-status policy for `analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    Leak,
    Suspect,
    #[default]
    Never,
}

/// Most worker threads `--jobs` accepts.
pub const MAX_JOBS: u64 = 256;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Log files (.csv, .tsv, .gz, .zip, .blg), folders (searched recursively), or - for stdin.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where reports go.
    #[arg(short, long, default_value = "perfleak-report")]
    pub out: PathBuf,
    /// Print the JSON report to standard output instead (JSON Lines for several logs).
    #[arg(long)]
    pub json: bool,
    /// More KB articles: a catalogue (.toml) or a folder of KB article texts.
    #[arg(long)]
    pub kb: Vec<PathBuf>,
    /// Worker threads, 1 to 256 (default: all cores).
    // Capped because every thread reserves a stack: a mistyped `-j 100000` used to exhaust the
    // address space (a worker panicked setting up its guard page and the run hung).
    #[arg(short, long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_JOBS))]
    pub jobs: Option<usize>,
    /// Exit with status 1 when a finding at or above this verdict is found.
    #[arg(long, value_enum, default_value_t = FailOn::Never)]
    pub fail_on: FailOn,
    /// Character encoding of logs without a byte-order mark (e.g. windows-1251).
    #[arg(long)]
    pub encoding: Option<String>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Also write DIR/summary.parquet (batch summary for archive-scale queries).
    #[arg(long)]
    pub summary_parquet: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The log to describe.
    pub log: PathBuf,
    /// Character encoding of a log without a byte-order mark (e.g. windows-1251).
    #[arg(long)]
    pub encoding: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Output format of `convert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ConvertFormat {
    #[default]
    Csv,
    Tsv,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The log to convert (.blg, .csv, .tsv, .gz, or - for stdin).
    pub log: PathBuf,
    /// Output format.
    #[arg(short = 'f', long, value_enum, default_value_t = ConvertFormat::Csv)]
    pub format: ConvertFormat,
    /// Output file (default: stdout).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KbArgs {
    /// More KB articles: a catalogue (.toml) or a folder of KB article texts.
    #[arg(long, global = true)]
    pub kb: Vec<PathBuf>,
    #[command(subcommand)]
    pub command: KbCommand,
}

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// List the articles in use.
    List,
    /// Show one article.
    Show { id: String },
    /// Turn KB article texts (files or folders) into catalogue entries.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print a JSON array instead of catalogue TOML.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Folder to write into.
    #[arg(short, long)]
    pub out: PathBuf,
    /// What to write: `samples` (the bundled samples), a benchmark split (`tune`, `test`), or
    /// `wide` (one wide log for throughput runs; see benches/batch.sh).
    #[arg(default_value = "samples")]
    pub what: String,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// File format of the logs: PDH-CSV text or a binary perfmon log.
    #[arg(short, long, value_enum, default_value_t = SynthFormat::Csv)]
    pub format: SynthFormat,
}

/// What `synth` writes the logs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SynthFormat {
    #[default]
    Csv,
    Blg,
}

/// Parses the command line and runs it; returns the process exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Analyze(args) => crate::batch::run_analyze(&args),
        Command::Inspect(args) => crate::ingest::inspect::run(&args),
        Command::Convert(args) => crate::ingest::convert::run(&args),
        Command::Kb(args) => crate::kb::cli::run(&args),
        Command::Synth(args) => crate::synth::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("perfleak: {e:#}");
            2
        }
    }
}
