//! `perfleak analyze`: the options, the progress bars, and what the run prints (failures, the
//! JSON reports, the closing summary line, the exit status).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use perfleak::batch::{
    self, AnalyzeOptions, BatchError, BatchRun, FailOn, InputFailure, LogOutcome, Progress, Stage,
};
use perfleak::ingest::ReadOptions;
use perfleak::report;

use super::{verdict, DateOrderArg};

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
    pub shard: Option<perfleak::batch::shard::Shard>,
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
    #[arg(long, value_enum, default_value_t = FailOnArg::Never)]
    pub fail_on: FailOnArg,
    /// Character encoding of logs without a byte-order mark (e.g. windows-1251).
    #[arg(long)]
    pub encoding: Option<String>,
    /// Where the day stands in slashed dates of a re-saved log (default: decided from the
    /// timestamps, month first as PDH writes them when they read both ways).
    #[arg(long, value_enum)]
    pub date_order: Option<DateOrderArg>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Also write DIR/summary.parquet (batch summary for archive-scale queries).
    #[arg(long)]
    pub summary_parquet: bool,
    /// Which series get a chart in the report.
    #[arg(long, value_enum, default_value_t = ChartsArg::Flagged)]
    pub charts: ChartsArg,
}

/// `--charts`: which series get a chart of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChartsArg {
    /// The leak and suspect series, and the overview.
    Flagged,
    /// Every analysed series (the flagged ones, then those that moved most; at most 400), and
    /// the overview.
    All,
    /// No charts: a smaller report, written faster.
    None,
}

impl From<ChartsArg> for report::ChartSet {
    fn from(arg: ChartsArg) -> Self {
        match arg {
            ChartsArg::Flagged => report::ChartSet::Flagged,
            ChartsArg::All => report::ChartSet::All,
            ChartsArg::None => report::ChartSet::None,
        }
    }
}

/// Exit-status policy for `analyze`: status 1 when a log reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    /// A log with a leak.
    Leak,
    /// A log with a leak or a suspect.
    Suspect,
    /// Any log not judged healthy: a leak, a suspect, or a log that could not be judged
    /// (no analysable series, or all too short).
    NotJudged,
    Never,
}

impl From<FailOnArg> for FailOn {
    fn from(arg: FailOnArg) -> Self {
        match arg {
            FailOnArg::Leak => FailOn::Leak,
            FailOnArg::Suspect => FailOn::Suspect,
            FailOnArg::NotJudged => FailOn::NotJudged,
            FailOnArg::Never => FailOn::Never,
        }
    }
}

impl AnalyzeArgs {
    fn options(&self) -> AnalyzeOptions {
        AnalyzeOptions {
            inputs: self.inputs.clone(),
            out: self.out.clone(),
            json: self.json,
            kb: self.kb.clone(),
            jobs: self.jobs,
            fail_on: self.fail_on.into(),
            read: ReadOptions {
                encoding: self.encoding.clone(),
                date_order: self.date_order.map(Into::into),
                ..ReadOptions::default()
            },
            summary_parquet: self.summary_parquet,
            files_from: self.files_from.clone(),
            shard: self.shard,
            charts: self.charts.into(),
        }
    }
}

/// Runs `perfleak analyze`; returns the exit status of the contract.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<i32> {
    batch::clean_staging_on_interrupt();
    let bars = Bars::new(args.quiet);
    let mut run = match batch::run_analyze(&args.options(), &bars) {
        Ok(run) => run,
        Err(BatchError::NoInput { failures }) => {
            if args.json {
                print_failure_lines(&failures)?;
            }
            report_failures(&failures);
            anyhow::bail!("no input could be read");
        }
        Err(e) => return Err(e.into()),
    };
    // A run that wrote no report at all must not look like success to a script; but a leak
    // found with --fail-on is status 1 whatever happened to its report (a full disk must not
    // turn "leak found" into "bad usage").
    for note in &run.kb_notes {
        eprintln!("perfleak: {}", report::escape_terminal(note));
    }
    // A shard that analysed nothing still wrote its (empty) batch folder, so that it merges.
    if run.done.is_empty() && (!run.sharded || !run.unwritten.is_empty()) {
        report_failures(&run.failures);
        if run.exit_status() == 1 {
            eprintln!("perfleak: no report could be written");
            return Ok(1);
        }
        anyhow::bail!("no report could be written");
    }
    if args.json {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for outcome in &run.done {
            writeln!(out, "{}", report::to_json_line(&outcome.report))
                .context("cannot write to standard output")?;
        }
        out.flush().context("cannot write to standard output")?;
        print_failure_lines(&run.failures)?;
    }
    report_failures(&run.failures);
    if !args.quiet {
        print_verdict(&mut run, args);
    }
    print_summary(&run, args);
    if run.done.is_empty() && !run.failures.is_empty() {
        anyhow::bail!("no input could be read");
    }
    Ok(run.exit_status())
}

/// The answer on the terminal (standard error: standard output carries only `--json`).
fn print_verdict(run: &mut BatchRun, args: &AnalyzeArgs) {
    let paint = verdict::Paint {
        colour: verdict::colour_wanted(),
    };
    let lines = if run.single {
        let path = (!args.json).then(|| args.out.join("report.html"));
        match run.done.first() {
            Some(outcome) => verdict::single_lines(&outcome.report, path.as_deref(), paint),
            None => return,
        }
    } else {
        batch::rank_worst_first(&mut run.done);
        batch::rank_worst_first(&mut run.unwritten);
        let done: Vec<&LogOutcome> = run.done.iter().collect();
        let unwritten: Vec<&LogOutcome> = run.unwritten.iter().collect();
        let index = (!args.json).then(|| args.out.join("index.html"));
        verdict::batch_lines(&done, &unwritten, index.as_deref(), paint)
    };
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    for line in lines {
        // A closed standard error is not worth failing a run whose reports are written.
        let _ = writeln!(err, "{line}");
    }
}

/// With `--json`, each failed input as its own JSON line on standard output, after the
/// reports: `{"error":...,"input":...,"schema_version":1,"stage":"read","tool":...}`
/// (docs/report-json.md). A line with `error` is a failure, never a report.
fn print_failure_lines(failures: &[InputFailure]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for failure in failures {
        let stage = failure.error.stage();
        let line = serde_json::json!({
            "schema_version": report::SCHEMA_VERSION,
            "tool": format!("perfleak {}", env!("CARGO_PKG_VERSION")),
            "input": failure.input,
            "stage": stage,
            "error": failure.message(),
        });
        // The same escaping as the reports' lines: no control character reaches a terminal.
        writeln!(out, "{}", report::escape_json_text(line.to_string()))
            .context("cannot write to standard output")?;
    }
    out.flush().context("cannot write to standard output")
}

fn report_failures(failures: &[InputFailure]) {
    for failure in failures {
        // File and zip-entry names are anyone's choice: no escape sequence reaches the terminal.
        eprintln!("perfleak: {}", report::escape_terminal(&failure.message()));
    }
}

fn print_summary(run: &BatchRun, args: &AnalyzeArgs) {
    let target = if args.json {
        String::new()
    } else if run.single {
        format!("; report in {}", args.out.join("report.html").display())
    } else {
        format!("; index in {}", args.out.join("index.html").display())
    };
    eprintln!(
        "perfleak: {} log(s) analysed: {}; {} input(s) failed{}",
        run.done.len() + run.unwritten.len(),
        run.status_counts(),
        run.failures.len(),
        report::escape_terminal(&target)
    );
}

/// The progress bar on standard error (none with --quiet or when it is not a terminal).
struct Bars {
    shown: bool,
    bar: Mutex<ProgressBar>,
}

impl Bars {
    fn new(quiet: bool) -> Bars {
        Bars {
            shown: !quiet && std::io::stderr().is_terminal(),
            bar: Mutex::new(ProgressBar::hidden()),
        }
    }

    /// The bar of the stage under way (a handle: indicatif bars are shared references).
    fn current(&self) -> ProgressBar {
        self.bar
            .lock()
            .map(|bar| bar.clone())
            .unwrap_or_else(|_| ProgressBar::hidden())
    }
}

impl Progress for Bars {
    fn start(&self, stage: Stage, steps: usize) {
        // Nothing to step through (the only input is missing): no `0/0` bar.
        if !self.shown || steps == 0 {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
        // The stage is the prefix and the file being worked on the message: one label each.
        if let Ok(style) = ProgressStyle::with_template(
            "{prefix:>9} [{bar:30}] {pos}/{len} {elapsed_precise} ETA {eta} {wide_msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(match stage {
            Stage::Reading => "reading",
            Stage::Analysing => "analysing",
        });
        if let Ok(mut slot) = self.bar.lock() {
            *slot = bar;
        }
    }

    fn begin(&self, log: &str) {
        if self.shown {
            // File and zip-entry names are anyone's choice: escaped like every name shown.
            // The file's own name: a long path would be cut at the screen's edge before it.
            let name = log.rsplit(['/', '\\']).next().unwrap_or(log);
            self.current()
                .set_message(report::escape_terminal_line(name).into_owned());
        }
    }

    fn advance(&self) {
        self.current().inc(1);
    }

    fn finish(&self) {
        self.current().finish_and_clear();
    }
}
