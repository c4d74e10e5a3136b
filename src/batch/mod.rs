//! batch: runs the pipeline over every input (files, folders, archives, stdin) in parallel,
//! isolating each input's errors, and writes the per-log reports plus the batch index.
//! One log gives `DIR/report.*`; several give one folder per log, `index.html` and `summary.csv`.

pub mod dataset;
mod index;
pub mod merge;
mod place;
pub mod shard;
mod summary;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use thiserror::Error;

use crate::analysis;
use crate::ingest::source::LogSource;
use crate::ingest::{self, IngestError, PerfLog, ReadOptions};
use crate::kb::{self, Catalogue, KbError};
use crate::report::{self, Context, LogStatus, Report, ReportError};

pub use index::{rank_worst_first, render_index, status_counts, IndexRow};
pub use place::clean_staging_on_interrupt;
pub use summary::summary_frame;

/// One analysed log and the folder its report goes to (batch layout).
pub struct LogOutcome {
    pub folder: String,
    pub report: Report,
}

/// An input that could not be read or reported, with the reason.
#[derive(Debug)]
pub struct InputFailure {
    pub input: String,
    pub error: FailureCause,
}

/// Why an input has no report.
#[derive(Debug, Error)]
pub enum FailureCause {
    /// The input could not be read (the message names the file, line and column).
    #[error(transparent)]
    Read(IngestError),
    /// The log was analysed but its report folder could not be written.
    #[error("report not written: {0}")]
    Report(ReportError),
    /// The batch's own index.html or summary files could not be written.
    #[error("batch index not written: {0}")]
    Index(ReportError),
    /// A path from a `--files-from` list (the input names the list and line) failed.
    #[error(transparent)]
    Listed(IngestError),
    /// A failure an earlier run recorded in its `failures.csv`, read back by `merge`.
    #[error("{0}")]
    Recorded(String),
}

impl FailureCause {
    /// The stage that failed, as `--json` failure lines name it: `read`, `report`, `index`.
    pub fn stage(&self) -> &'static str {
        match self {
            FailureCause::Read(_) | FailureCause::Listed(_) => "read",
            FailureCause::Report(_) => "report",
            FailureCause::Index(_) => "index",
            // Read back from an earlier run's failures.csv, which does not keep the stage.
            FailureCause::Recorded(_) => "recorded",
        }
    }
}

impl InputFailure {
    /// The line a person reads: the input's name, then why (named once: reading errors
    /// begin with their file already).
    pub fn message(&self) -> String {
        match &self.error {
            FailureCause::Read(e) if e.file() == Some(self.input.as_str()) => e.to_string(),
            cause => format!("{}: {cause}", self.input),
        }
    }
}

/// Why `analyze` produced nothing (exit status 2 in the contract).
#[derive(Debug, Error)]
pub enum BatchError {
    #[error("cannot start worker threads: {}", crate::error_chain(.0))]
    Threads(rayon::ThreadPoolBuildError),
    #[error(transparent)]
    Kb(#[from] KbError),
    #[error("cannot resolve {}: {}", .path.display(), crate::error_chain(.error))]
    Resolve {
        path: PathBuf,
        error: std::io::Error,
    },
    /// `-o` cannot take reports (a file, an input, no write permission): told before any log
    /// is read.
    #[error("{0}")]
    Output(ReportError),
    /// Every input failed before a log could be analysed.
    #[error("no input could be read")]
    NoInput { failures: Vec<InputFailure> },
    /// The `--files-from` list could not be read.
    #[error("{doing}: {}", crate::error_chain(.error))]
    List {
        /// `cannot open the list FILE`, `cannot read the list on standard input`.
        doing: String,
        error: std::io::Error,
    },
    /// Options that cannot go together.
    #[error("{0}")]
    Usage(String),
}

/// When `analyze` exits with status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    /// A log with a leak.
    Leak,
    /// A log with a leak or a suspect.
    Suspect,
    /// Any log not judged healthy: a leak, a suspect, or a log that could not be judged.
    NotJudged,
    #[default]
    Never,
}

/// What `analyze` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Log files, folders, archives, or `-` for stdin.
    pub inputs: Vec<PathBuf>,
    /// Where reports go.
    pub out: PathBuf,
    /// Analyse only: no report files are written (the caller prints each report's JSON).
    pub json: bool,
    /// More KB articles: catalogues (.toml), article texts or folders of them.
    pub kb: Vec<PathBuf>,
    /// Worker threads (`None`: all cores).
    pub jobs: Option<usize>,
    pub fail_on: FailOn,
    /// How logs are read (encoding, date order).
    pub read: ReadOptions,
    /// Also write summary.parquet beside summary.csv.
    pub summary_parquet: bool,
    /// A file (or `-`, standard input) listing more inputs, one per line.
    pub files_from: Option<PathBuf>,
    /// Only this part of the inputs.
    pub shard: Option<shard::Shard>,
    /// Which series get a chart.
    pub charts: crate::report::ChartSet,
}

/// The stages of a run that a progress display follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Reading,
    Analysing,
}

/// Follows a run: each stage starts with its number of steps, advances once per log (from
/// worker threads) and finishes.
pub trait Progress: Sync {
    fn start(&self, stage: Stage, steps: usize);
    /// A worker begins on this log (its path as the user gave it); a display may name it.
    fn begin(&self, _log: &str) {}
    fn advance(&self);
    fn finish(&self);
}

/// No progress display.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: Stage, _: usize) {}
    fn advance(&self) {}
    fn finish(&self) {}
}

/// What a run did: the logs whose reports were written (or, with `json`, analysed), those whose
/// report could not be written, and the inputs that failed.
pub struct BatchRun {
    pub done: Vec<LogOutcome>,
    pub unwritten: Vec<LogOutcome>,
    pub failures: Vec<InputFailure>,
    /// One log and no failure: its report is the output folder itself.
    pub single: bool,
    pub fail_on: FailOn,
    /// A part of the inputs (`--shard`): the batch layout is written even when empty.
    pub sharded: bool,
    /// What the user should hear about `--kb` paths (texts passed over).
    pub kb_notes: Vec<String>,
}

impl BatchRun {
    /// Status per the contract: 1 when a log reaches `fail_on` (whether or not its report
    /// was written: a full disk must not read as a clean server), else 0.
    pub fn exit_status(&self) -> i32 {
        exit_status(&self.done, self.fail_on).max(exit_status(&self.unwritten, self.fail_on))
    }

    /// `2 with leaks, 0 possible, ...` over every analysed log.
    pub fn status_counts(&self) -> String {
        status_counts(
            self.done
                .iter()
                .chain(&self.unwritten)
                .map(|o| o.report.status),
        )
    }
}

/// `perfleak analyze`: reads, analyses and reports every input on `options.jobs` threads.
/// A program that wants Ctrl-C to remove the report folders being written calls
/// [`clean_staging_on_interrupt`] first (a signal handler is the process's choice).
pub fn run_analyze(
    options: &AnalyzeOptions,
    progress: &dyn Progress,
) -> Result<BatchRun, BatchError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.unwrap_or(0))
        .build()
        .map_err(BatchError::Threads)?;
    pool.install(|| run(options, progress))
}

/// Runs the whole pipeline for one log: analysis, KB matching, report value.
pub fn analyze_log(log: &PerfLog, catalogue: &Catalogue) -> Report {
    let findings = analysis::analyze(log);
    let matches = kb::match_findings(catalogue, log, &findings);
    Report::new(log, findings, matches)
}

/// Logs holding this many bytes of samples have the memory their analysis freed handed back
/// before the report is drawn; for small logs the pages faulted in again cost more than they
/// weigh (69 small logs took a seventh longer).
const TRIM_FROM: usize = 32 << 20;

/// Hands the heap pages freed by the stage just done back to the system. glibc keeps them
/// mapped (per thread arena, split by what stays alive), so without this a wide log's read
/// buffers and the analysis' scratch still counted in the peak while the report was drawn
/// (11 MB of 217 on an 831 MB log).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Reads every source in parallel; the logs read and the inputs that failed.
fn read_all(
    sources: &[LogSource],
    options: &ReadOptions,
    progress: &dyn Progress,
) -> (Vec<PerfLog>, Vec<InputFailure>) {
    progress.start(Stage::Reading, sources.len());
    let read: Vec<Result<PerfLog, InputFailure>> = sources
        .par_iter()
        .map(|source| {
            progress.begin(&source.name());
            let result = ingest::source::read_source(source, options).map_err(|e| InputFailure {
                input: source.name().to_string(),
                error: FailureCause::Read(e),
            });
            progress.advance();
            result
        })
        .collect();
    progress.finish();
    let mut logs = Vec::new();
    let mut failures = Vec::new();
    for result in read {
        match result {
            Ok(log) => logs.push(log),
            Err(failure) => failures.push(failure),
        }
    }
    (logs, failures)
}

fn run(args: &AnalyzeOptions, progress: &dyn Progress) -> Result<BatchRun, BatchError> {
    let catalogue = Catalogue::with_extra(&args.kb)?;
    if !args.json {
        check_output(args)?;
    }
    let (mut sources, mut failures) = shard::select_inputs(&shard::InputOptions {
        inputs: &args.inputs,
        files_from: args.files_from.as_deref(),
        shard: args.shard,
    })?;
    if !args.json {
        skip_own_output(&mut sources, args);
    }
    let folder_bases: HashMap<String, String> = sources
        .iter()
        .map(LogSource::name)
        .zip(folder_bases(&sources))
        .collect();
    let (logs, read_failures) = read_all(&sources, &args.read, progress);
    failures.extend(read_failures);
    let logs = ingest::join_segments(logs);
    // A shard always writes the batch layout, even empty, so that its folder merges.
    if logs.is_empty() && args.shard.is_none() {
        return Err(BatchError::NoInput { failures });
    }

    let single = logs.len() == 1 && failures.is_empty() && args.shard.is_none();
    // `-o` naming a link is the user's choice: the report goes where it points. Links inside
    // the output folder are never followed (place.rs).
    let out = match std::fs::symlink_metadata(&args.out) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(&args.out).map_err(|error| BatchError::Resolve {
                path: args.out.clone(),
                error,
            })?
        }
        _ => args.out.clone(),
    };
    // One writer at a time per output place; the next run waits, then replaces whole folders.
    // Where the folder cannot even be created, each report's write fails with its own message
    // (and --fail-on still counts its findings).
    let _lock = if args.json {
        None
    } else if single {
        place::OutputLock::acquire(place::staging_parent(&out)).ok()
    } else {
        place::OutputLock::acquire(&out).ok()
    };
    let folders = folder_names(logs.iter().map(|log| {
        folder_bases
            .get(&log.source.path)
            .cloned()
            .unwrap_or_else(|| file_stem(&log.source.path))
    }));
    progress.start(Stage::Analysing, logs.len());
    // A log whose report could not be written still counts for the exit status: its leak was
    // found all the same, and a script must not read a full disk as a clean server.
    let outcomes: Vec<(LogOutcome, Option<ReportError>)> = logs
        .into_par_iter()
        .zip(folders)
        .map(|(log, folder)| {
            progress.begin(&log.source.path);
            let mut report = analyze_log(&log, &catalogue);
            if log
                .columns
                .iter()
                .map(|c| c.values.encoded_len())
                .sum::<usize>()
                >= TRIM_FROM
            {
                release_freed_memory();
            }
            let written = if args.json {
                Ok(())
            } else {
                let dir = if single {
                    out.clone()
                } else {
                    // Each log's folder sits beside the batch's index.html.
                    report.batch_index = Some("../index.html".to_string());
                    out.join(&folder)
                };
                place::write_report_folder(&mut report, &log, &dir, args.charts)
            };
            progress.advance();
            (LogOutcome { folder, report }, written.err())
        })
        .collect();
    progress.finish();

    let mut done = Vec::new();
    let mut unwritten = Vec::new();
    for (outcome, error) in outcomes {
        match error {
            None => done.push(outcome),
            Some(error) => {
                failures.push(InputFailure {
                    input: outcome.report.source.path.clone(),
                    error: FailureCause::Report(error),
                });
                unwritten.push(outcome);
            }
        }
    }

    // The batch's own files failing is reported like a log's: the status still follows
    // the findings. A shard writes them even when it analysed nothing, so that it merges.
    if (!done.is_empty() || args.shard.is_some()) && !args.json && !single {
        if let Err(e) = write_batch_files(&mut done, &unwritten, &failures, args) {
            failures.push(InputFailure {
                input: args.out.display().to_string(),
                error: FailureCause::Index(e),
            });
        }
    }
    Ok(BatchRun {
        done,
        unwritten,
        failures,
        single,
        fail_on: args.fail_on,
        sharded: args.shard.is_some(),
        kb_notes: catalogue.notes.clone(),
    })
}

/// `-o` is checked once, up front, rather than failing once per log after all the work: it
/// must not be one of the inputs, nor a file, and must take files.
fn check_output(args: &AnalyzeOptions) -> Result<(), BatchError> {
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if let Some(input) = args.inputs.iter().find(|i| same(i, &args.out)) {
        return Err(BatchError::Output(ReportError::Refused(format!(
            "cannot write reports to {}: it is the input {}; choose another -o",
            args.out.display(),
            input.display()
        ))));
    }
    place::check_output(&args.out).map_err(BatchError::Output)
}

/// Leaves out the files a walk found inside `-o` (`perfleak analyze logs/ -o logs/report`):
/// an earlier run's summary.csv is no log. A file named as an input itself is kept.
fn skip_own_output(sources: &mut Vec<LogSource>, args: &AnalyzeOptions) {
    let Ok(out) = std::fs::canonicalize(&args.out) else {
        return;
    };
    let inside = |path: &PathBuf| {
        !args.inputs.contains(path)
            && std::fs::canonicalize(path).is_ok_and(|p| p.starts_with(&out))
    };
    sources.retain(|source| match source {
        LogSource::File(path) => !inside(path),
        LogSource::ZipEntry { archive, .. } => !inside(archive),
        LogSource::Stdin => true,
    });
}

/// index.html and summary.csv (and summary.parquet when asked) for a several-log run.
/// Logs whose report could not be written keep their rows in summary.csv (their figures are
/// sound) and are listed with the failures in index.html.
fn write_batch_files(
    outcomes: &mut [LogOutcome],
    unwritten: &[LogOutcome],
    failures: &[InputFailure],
    args: &AnalyzeOptions,
) -> report::Result<()> {
    rank_worst_first(outcomes);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let reports: Vec<&Report> = outcomes
        .iter()
        .chain(unwritten)
        .map(|o| &o.report)
        .collect();
    let frame =
        summary_frame(&reports).with_context(|| "cannot build the summary table".to_string())?;
    let placed: Vec<(&Report, Option<&str>)> = (outcomes
        .iter()
        .map(|o| (&o.report, Some(o.folder.as_str()))))
    .chain(unwritten.iter().map(|o| (&o.report, None)))
    .collect();
    let mut frame = dataset::with_log_columns(frame, &placed)?;
    summary::write_csv(&frame, &args.out.join("summary.csv"))?;
    if args.summary_parquet {
        summary::write_parquet(&mut frame, &args.out.join("summary.parquet"))?;
    }
    // Read back by `merge`: a list left by an earlier run in this folder must not stay.
    let failures_file = args.out.join(dataset::FAILURES_FILE);
    if failures.is_empty() {
        let _ = std::fs::remove_file(&failures_file);
    } else {
        dataset::write_failures(failures, &failures_file)?;
    }
    let html = render_index(outcomes, failures);
    report::write_atomic(&args.out.join("index.html"), html.as_bytes())
}

/// Status per the contract: 1 when a log reaches `fail_on`, else 0.
pub fn exit_status(outcomes: &[LogOutcome], fail_on: FailOn) -> i32 {
    let trips = |status: LogStatus| match fail_on {
        FailOn::Never => false,
        FailOn::Leak => status == LogStatus::Leak,
        FailOn::Suspect => status <= LogStatus::Suspect,
        FailOn::NotJudged => status != LogStatus::NoLeak,
    };
    i32::from(outcomes.iter().any(|o| trips(o.report.status)))
}

/// Names a batch folder may not take: the batch's own files beside it, and the device names
/// Windows reserves whatever the extension (`con.csv` would give a folder no one can open).
const RESERVED_NAMES: [&str; 4] = [
    "index.html",
    "summary.csv",
    "summary.parquet",
    dataset::FAILURES_FILE,
];
const WINDOWS_DEVICES: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Longest folder name taken from a log's name (the end kept: it holds the file name).
const MAX_FOLDER_CHARS: usize = 120;

fn file_stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What a source's report folder is named after, before it is made safe and unique: the file
/// name; for a zip entry the archive and the entry's folders too, since collector sets name
/// every server's log alike (`SRVA/Admin/DataCollector01.csv`, `SRVB/Admin/...`). The entry
/// path only contributes characters: [`safe_folder_name`] leaves no separator in it.
fn folder_base(source: &LogSource) -> String {
    match source {
        LogSource::File(path) => file_stem(&path.to_string_lossy()),
        LogSource::ZipEntry { archive, entry, .. } => {
            let archive = archive
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("{archive}_{}", entry_stem(entry).replace('/', "_"))
        }
        LogSource::Stdin => "stdin".to_string(),
    }
}

/// A zip entry's path without its extension.
fn entry_stem(entry: &str) -> &str {
    match entry.rsplit_once('.') {
        Some((stem, ext)) if !ext.contains('/') && !stem.ends_with('/') && !stem.is_empty() => stem,
        _ => entry,
    }
}

/// The path of a source as parts, the last one without its extension: the folders of a file
/// (as given), or the archive's folders, the archive and the entry's folders.
fn source_parts(source: &LogSource) -> Vec<String> {
    let folders = |path: &Path| -> Vec<String> {
        path.parent()
            .into_iter()
            .flat_map(|p| p.components())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .filter(|c| c != "/" && c != ".")
            .collect()
    };
    match source {
        LogSource::File(path) => {
            let mut parts = folders(path);
            parts.push(file_stem(&path.to_string_lossy()));
            parts
        }
        LogSource::ZipEntry { archive, entry, .. } => {
            let mut parts = folders(archive);
            parts.extend(
                archive
                    .file_name()
                    .map(|s| s.to_string_lossy().into_owned()),
            );
            parts.extend(entry_stem(entry).split('/').map(str::to_string));
            parts
        }
        LogSource::Stdin => vec!["stdin".to_string()],
    }
}

/// The base name of every source's folder (see docs/cli.md, "Report folders"): its
/// [`folder_base`] when no other source of the run has the same one (case aside); otherwise,
/// for every source of such a group, its path from the deepest folder the group shares, so
/// 200 `DataCollector01.csv` from `SRVA/...`, `SRVB/...` read `SRVA_..._DataCollector01`.
/// The same inputs give the same names on every run.
fn folder_bases(sources: &[LogSource]) -> Vec<String> {
    let bases: Vec<String> = sources.iter().map(folder_base).collect();
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, base) in bases.iter().enumerate() {
        groups
            .entry(safe_folder_name(base).to_ascii_lowercase())
            .or_default()
            .push(i);
    }
    let mut named = bases;
    for members in groups.values().filter(|m| m.len() > 1) {
        let parts: Vec<Vec<String>> = members.iter().map(|&i| source_parts(&sources[i])).collect();
        // Shared leading folders, never the name itself.
        let shortest = parts.iter().map(Vec::len).min().unwrap_or(0);
        let shared = (0..shortest.saturating_sub(1))
            .take_while(|&k| parts.iter().all(|p| p[k] == parts[0][k]))
            .count();
        for (&i, p) in members.iter().zip(&parts) {
            named[i] = p[shared..].join("_");
        }
    }
    named
}

/// A folder name per log from its base name, made safe and unique (case-insensitively, as on
/// Windows and macOS file systems).
fn folder_names(bases: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen: HashSet<String> = RESERVED_NAMES.iter().map(|n| n.to_string()).collect();
    bases
        .into_iter()
        .map(|base| {
            let clean = safe_folder_name(&base);
            let mut name = clean.clone();
            let mut n = 2;
            while !seen.insert(name.to_ascii_lowercase()) {
                name = format!("{clean}-{n}");
                n += 1;
            }
            name
        })
        .collect()
}

/// ASCII letters, digits, `-`, `_` and `.` only; no leading or trailing dot (hidden on Unix,
/// dropped by Windows) and no Windows device name.
fn safe_folder_name(base: &str) -> String {
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let skip = clean.len().saturating_sub(MAX_FOLDER_CHARS);
    let clean = clean[skip..].trim_matches('.');
    if clean.is_empty() {
        return "log".to_string();
    }
    let device = clean.split('.').next().unwrap_or_default();
    if WINDOWS_DEVICES.contains(&device.to_ascii_lowercase().as_str()) {
        format!("{clean}_")
    } else {
        clean.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    /// Counts what a progress display is told.
    #[derive(Default)]
    struct Tally {
        stages: Mutex<Vec<(Stage, usize)>>,
        steps: AtomicUsize,
        finished: AtomicUsize,
    }

    impl Progress for Tally {
        fn start(&self, stage: Stage, steps: usize) {
            self.stages.lock().unwrap().push((stage, steps));
        }
        fn advance(&self) {
            self.steps.fetch_add(1, Ordering::Relaxed);
        }
        fn finish(&self) {
            self.finished.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn sample(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name)
    }

    #[test]
    fn a_run_returns_its_reports_failures_and_status_and_reports_progress() {
        let missing = sample("no-such-log.csv");
        let options = AnalyzeOptions {
            inputs: vec![
                sample("winlogon-smtp-leak.csv"),
                missing.clone(),
                sample("healthy-server.csv"),
            ],
            json: true,
            fail_on: FailOn::Leak,
            jobs: Some(2),
            ..AnalyzeOptions::default()
        };
        let tally = Tally::default();
        let run = run_analyze(&options, &tally).expect("two logs read");
        assert_eq!(run.done.len(), 2);
        assert!(run.unwritten.is_empty() && !run.single);
        assert_eq!(run.exit_status(), 1, "winlogon leaks");
        assert_eq!(
            run.status_counts(),
            "1 with leaks, 0 possible, 0 not judged, 1 without leak"
        );
        // The missing file failed in expansion, typed, and is named once in its message.
        assert_eq!(run.failures.len(), 1);
        let failure = &run.failures[0];
        assert!(matches!(
            &failure.error,
            FailureCause::Read(IngestError::Input { .. })
        ));
        assert_eq!(
            failure.message(),
            format!("{}: no such file or folder", missing.display())
        );
        assert_eq!(
            *tally.stages.lock().unwrap(),
            vec![(Stage::Reading, 2), (Stage::Analysing, 2)]
        );
        assert_eq!(tally.steps.load(Ordering::Relaxed), 4);
        assert_eq!(tally.finished.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn nothing_read_is_an_error_that_keeps_the_failures() {
        let options = AnalyzeOptions {
            inputs: vec![sample("no-such-log.csv")],
            json: true,
            ..AnalyzeOptions::default()
        };
        match run_analyze(&options, &Quiet) {
            Err(BatchError::NoInput { failures }) => assert_eq!(failures.len(), 1),
            other => panic!("expected NoInput, got {:?}", other.err()),
        }
    }

    #[test]
    fn a_failure_names_its_input_once() {
        // Standard input named twice is refused before anything is read (reading the first
        // would block on the test's stdin); its message names no file, so the input leads.
        let (_, mut errors) = ingest::expand_inputs(&[PathBuf::from("-"), PathBuf::from("-")]);
        let (input, error) = errors.remove(0);
        let twice = InputFailure {
            input,
            error: FailureCause::Read(error),
        };
        assert_eq!(twice.message(), "-: standard input given more than once");
    }

    #[test]
    fn a_report_failure_names_its_input_then_the_cause() {
        let failure = InputFailure {
            input: "srv01.csv".into(),
            error: FailureCause::Report(ReportError::Refused(
                "cannot write out: a file is in the way".into(),
            )),
        };
        assert_eq!(
            failure.message(),
            "srv01.csv: report not written: cannot write out: a file is in the way"
        );
    }

    #[test]
    fn same_named_logs_are_named_by_their_path_from_the_folder_they_share() {
        let file = |p: &str| LogSource::File(PathBuf::from(p));
        let mut sources: Vec<LogSource> = (1..=200)
            .map(|n| file(&format!("logs/SRV{n:03}/Admin/DataCollector01.csv")))
            .collect();
        sources.push(file("logs/other/unique.csv"));
        sources.push(file("/abs/stdin.blg"));
        sources.push(LogSource::Stdin);
        let bases = folder_bases(&sources);
        assert_eq!(bases[0], "SRV001_Admin_DataCollector01");
        assert_eq!(bases[199], "SRV200_Admin_DataCollector01");
        assert_eq!(bases[200], "unique", "a name of its own stays short");
        // `stdin.blg` and standard input share a base: the file keeps its folders.
        assert_eq!(bases[201], "abs_stdin");
        assert_eq!(bases[202], "stdin");
        let names = folder_names(bases.clone());
        let unique: HashSet<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        assert_eq!(unique.len(), names.len(), "no two folders alike");
        assert!(
            names.iter().all(|n| !n.contains('-')),
            "no counter needed: {names:?}"
        );
        // Stable: the same inputs name the same folders, whatever else ran before.
        assert_eq!(folder_bases(&sources), bases);
        // Same-named files in a folder and its subfolder.
        let nested = folder_bases(&[file("a/x.csv"), file("a/b/x.csv")]);
        assert_eq!(nested, vec!["x", "b_x"]);
    }

    #[test]
    fn folder_names_are_portable() {
        assert_eq!(safe_folder_name("srv01 (day 1)"), "srv01__day_1_");
        assert_eq!(safe_folder_name("..."), "log");
        assert_eq!(safe_folder_name(".hidden."), "hidden");
        assert_eq!(safe_folder_name("CON"), "CON_");
        assert_eq!(safe_folder_name("nul.part1"), "nul.part1_");
        assert_eq!(safe_folder_name("console"), "console");
        assert_eq!(safe_folder_name("日志"), "__");
    }

    #[test]
    fn folder_names_are_unique_and_leave_the_batch_files_alone() {
        let names = folder_names(
            [
                "a/srv01.csv",
                "b/SRV01.csv.gz",
                "c/srv01.tsv",
                "index.html.csv",
                "summary.csv",
            ]
            .map(file_stem),
        );
        assert_eq!(
            names,
            vec!["srv01", "SRV01.csv", "srv01-2", "index.html-2", "summary"]
        );
    }
}
