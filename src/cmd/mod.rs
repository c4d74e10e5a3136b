//! Command line: parses arguments (clap), runs the library's stages with plain options and
//! prints what they return. Everything that reaches the terminal is written here; the
//! library never prints.

mod analyze;
mod convert;
mod inspect;
mod kb;
mod merge;
mod verdict;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use analyze::AnalyzeArgs;
use convert::ConvertArgs;
use inspect::InspectArgs;
use kb::KbArgs;

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

Documentation: docs/ in the source tree (cli.md, report-json.md, design.md, blg.md).";

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
    Merge(merge::MergeArgs),
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
}

/// Where the day stands in slashed dates (`--date-order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DateOrderArg {
    /// `MM/DD/YYYY`: what PDH writes whatever the Windows locale.
    Mdy,
    /// `DD/MM/YYYY`: a spreadsheet's re-save in a day-first locale (UK, France, ...).
    Dmy,
}

impl From<DateOrderArg> for perfleak::ingest::DateOrder {
    fn from(order: DateOrderArg) -> Self {
        match order {
            DateOrderArg::Mdy => perfleak::ingest::DateOrder::Mdy,
            DateOrderArg::Dmy => perfleak::ingest::DateOrder::Dmy,
        }
    }
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
        Command::Analyze(args) => analyze::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Kb(args) => kb::run(&args),
        Command::Merge(args) => merge::run(&args),
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
                perfleak::report::escape_terminal(&format!("{e:#}"))
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
