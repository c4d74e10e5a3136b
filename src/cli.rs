//! Command line: parses arguments (clap) and dispatches to the pipeline stages. No logic here.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// Examples and exit codes, shown under `perfleak --help` and in the man page.
const AFTER_HELP: &str = "\
Examples:
  perfleak analyze srv01.csv                  report in perfleak-report/ (report.html, report.json, summary.md, charts/)
  perfleak analyze logs/ customer.zip -o out  many logs: out/index.html, out/summary.csv, out/<log>/
  perfleak analyze --json srv01.blg | jq .    the JSON report on stdout
  perfleak analyze --fail-on leak logs/       exit 1 when a leak is found (scripts, CI)
  perfleak inspect srv01.csv                  what a log holds
  perfleak kb show Q192265                    one article of the knowledge base

Exit status:
  0  done (and nothing reached --fail-on)
  1  a log reached --fail-on (leak, suspect, or not judged healthy)
  2  bad usage, or no input could be read

Documentation: docs/ in the source tree (cli.md, report-json.md, design.md).";

/// Finds process memory and handle leaks in Windows perfmon logs (PDH-CSV/TSV), forecasts when
/// the process runs out, and names the Knowledge Base article that explains it.
#[derive(Debug, Parser)]
#[command(name = "perfleak", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse logs and write reports (HTML, JSON, Markdown, PNG charts).
    #[command(after_help = AFTER_HELP)]
    Analyze(AnalyzeArgs),
    /// Print what a log holds: format, machines, time span, interval, objects, processes, counters.
    Inspect(InspectArgs),
    /// Write a log (.blg, .csv, .tsv) as `relog LOG -f csv|tsv` would, to stdout or -o.
    Convert(ConvertArgs),
    /// The knowledge base in use (built in plus --kb).
    Kb(KbArgs),
    /// Join batch output folders (shards, days) into one index.html, summary.csv and
    /// summary.parquet (when every folder has one); reports are linked where they are.
    Merge(MergeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff): `perfleak man > perfleak.1`, `perfleak man analyze > perfleak-analyze.1`.
    Man {
        /// The subcommand whose page to print (default: the main page).
        subcommand: Option<String>,
    },
    /// Write labelled synthetic perfmon logs (for samples, tests and benchmarks).
    #[command(hide = true)]
    Synth(SynthArgs),
}

/// Exit-status policy for `analyze`: status 1 when a log reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    /// A log with a leak.
    Leak,
    /// A log with a leak or a suspect.
    Suspect,
    /// Any log not judged healthy: a leak, a suspect, or a log that could not be judged
    /// (no analysable series, or all too short).
    NotJudged,
    #[default]
    Never,
}

/// Most worker threads `--jobs` accepts.
pub const MAX_JOBS: u64 = 256;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Log files (.csv, .tsv, .gz, .zip, .blg), folders (searched recursively), or - for stdin.
    #[arg(required_unless_present = "files_from")]
    pub inputs: Vec<PathBuf>,
    /// Also read input paths from FILE (or - for stdin), one per line; blank lines are skipped.
    #[arg(long, value_name = "FILE")]
    pub files_from: Option<PathBuf>,
    /// Analyse only part I of N of the inputs (I from 1 to N): N workers given the same inputs
    /// cover each once; segments of one collector run stay in one part. Always writes the
    /// batch layout (index.html, summary.csv), for `perfleak merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::batch::shard::Shard>,
    /// Where reports go.
    #[arg(short, long, default_value = "perfleak-report")]
    pub out: PathBuf,
    /// Print the JSON report to standard output instead (JSON Lines for several logs); no
    /// files are written, so it does not go with --out.
    #[arg(long, conflicts_with = "out")]
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
    /// Where the day stands in slashed dates of a re-saved log (default: decided from the
    /// timestamps, month first as PDH writes them when they read both ways).
    #[arg(long, value_enum)]
    pub date_order: Option<crate::ingest::DateOrder>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Also write DIR/summary.parquet (batch summary for archive-scale queries).
    #[arg(long)]
    pub summary_parquet: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Output folders of `perfleak analyze` runs of several logs (or with --shard), or merges.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where the merged index.html and summaries go (not one of DIRS).
    #[arg(short, long)]
    pub out: PathBuf,
}

/// `perfleak merge`: merges, then says what it wrote.
fn merge(args: &MergeArgs) -> anyhow::Result<i32> {
    let merged = crate::batch::merge::merge(&crate::batch::merge::MergeOptions {
        inputs: args.dirs.clone(),
        out: args.out.clone(),
    })?;
    let statuses = crate::batch::status_counts(merged.rows.iter().map(|r| r.status));
    eprintln!(
        "perfleak: {} folder(s) merged: {} log(s): {statuses}; {} input(s) failed; index in {}",
        merged.folders,
        merged.rows.len(),
        merged.failures.len(),
        crate::report::escape_terminal(&args.out.join("index.html").display().to_string())
    );
    Ok(0)
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The log to describe.
    pub log: PathBuf,
    /// Character encoding of a log without a byte-order mark (e.g. windows-1251).
    #[arg(long)]
    pub encoding: Option<String>,
    /// Where the day stands in slashed dates of a re-saved log (default: decided from the
    /// timestamps, month first as PDH writes them when they read both ways).
    #[arg(long, value_enum)]
    pub date_order: Option<crate::ingest::DateOrder>,
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

/// Writes generated text to standard output; a reader that went away (`| head`) ends it quietly.
fn print_generated(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    match write(&mut out).and_then(|()| std::io::Write::flush(&mut out)) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(anyhow::anyhow!("cannot write to standard output: {e}")),
    }
}

/// The man page of perfleak or of one of its subcommands (`perfleak-analyze(1)`).
fn man_page(subcommand: Option<&str>) -> anyhow::Result<i32> {
    let mut command = Cli::command();
    command.build();
    let page = match subcommand {
        None => command,
        Some(name) => {
            let sub = command
                .find_subcommand(name)
                .ok_or_else(|| anyhow::anyhow!("no subcommand '{name}'"))?;
            // The page's name (`perfleak-analyze`) lives as long as the process: one string.
            let full: &'static str = format!("perfleak-{}", sub.get_name()).leak();
            sub.clone().name(full).version(env!("CARGO_PKG_VERSION"))
        }
    };
    print_generated(|out| clap_mangen::Man::new(page).render(out))
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
        Command::Merge(args) => merge(&args),
        Command::Completions { shell } => print_generated(|out| {
            // Generated whole first: clap_complete panics on a write error.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "perfleak", &mut script);
            out.write_all(&script)
        }),
        Command::Man { subcommand } => man_page(subcommand.as_deref()),
    };
    match result {
        Ok(code) => code,
        // The reader of our output went away (`| head`): what it wanted it has, so this is
        // no failure. Rust ignores SIGPIPE, so the write fails with EPIPE and ends here.
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!(
                "perfleak: {}",
                crate::report::escape_terminal(&format!("{e:#}"))
            );
            2
        }
    }
}

/// Whether `e` comes from writing to a pipe whose reader has gone.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
