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
use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::analysis;
use crate::cli::{AnalyzeArgs, FailOn};
use crate::ingest::source::LogSource;
use crate::ingest::{self, PerfLog, ReadOptions};
use crate::kb::{self, Catalogue};
use crate::report::{self, LogStatus, Report};

pub use index::{rank_worst_first, render_index, status_counts, IndexRow};
pub use summary::summary_frame;

/// One analysed log and the folder its report goes to (batch layout).
pub struct LogOutcome {
    pub folder: String,
    pub report: Report,
}

/// An input that could not be read or reported, with the reason.
#[derive(Debug, Clone)]
pub struct InputFailure {
    pub input: String,
    pub error: String,
}

/// `perfleak analyze`: returns the exit status of the contract.
pub fn run_analyze(args: &AnalyzeArgs) -> anyhow::Result<i32> {
    place::clean_staging_on_interrupt();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    pool.install(|| run(args))
}

/// Runs the whole pipeline for one log: analysis, KB matching, report value.
pub fn analyze_log(log: &PerfLog, catalogue: &Catalogue) -> Report {
    let findings = analysis::analyze(log);
    let matches = kb::match_findings(catalogue, log, &findings);
    Report::new(log, findings, matches)
}

fn progress_bar(len: usize, quiet: bool, message: &'static str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>9} [{bar:30}] {pos}/{len} {elapsed_precise} {wide_msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
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

fn run(args: &AnalyzeArgs) -> anyhow::Result<i32> {
    let catalogue = Catalogue::with_extra(&args.kb)?;
    let options = ReadOptions {
        encoding: args.encoding.clone(),
        date_order: args.date_order,
        ..ReadOptions::default()
    };

    let (sources, mut failures) = shard::select_inputs(&shard::InputOptions {
        inputs: &args.inputs,
        files_from: args.files_from.as_deref(),
        shard: args.shard,
    })?;
    let folder_bases: HashMap<String, String> = sources
        .iter()
        .map(|source| (source.name(), folder_base(source)))
        .collect();

    let bar = progress_bar(sources.len(), args.quiet, "reading");
    let read: Vec<Result<PerfLog, InputFailure>> = sources
        .par_iter()
        .map(|source| {
            let result = ingest::source::read_source(source, &options).map_err(|e| InputFailure {
                input: source.name().to_string(),
                error: format!("{e:#}"),
            });
            bar.inc(1);
            result
        })
        .collect();
    bar.finish_and_clear();
    let mut logs = Vec::new();
    for result in read {
        match result {
            Ok(log) => logs.push(log),
            Err(failure) => failures.push(failure),
        }
    }
    let logs = ingest::join_segments(logs);

    // A shard always writes the batch layout, even empty, so that its folder merges.
    if logs.is_empty() && args.shard.is_none() {
        report_failures(&failures);
        anyhow::bail!("no input could be read");
    }

    let single = logs.len() == 1 && failures.is_empty() && args.shard.is_none();
    // `-o` naming a link is the user's choice: the report goes where it points. Links inside
    // the output folder are never followed (place.rs).
    let out = match std::fs::symlink_metadata(&args.out) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(&args.out)
            .with_context(|| format!("cannot resolve {}", args.out.display()))?,
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
    let bar = progress_bar(logs.len(), args.quiet, "analysing");
    // A log whose report could not be written still counts for the exit status: its leak was
    // found all the same, and a script must not read a full disk as a clean server.
    let outcomes: Vec<(LogOutcome, Option<String>)> = logs
        .into_par_iter()
        .zip(folders)
        .map(|(log, folder)| {
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
                    out.join(&folder)
                };
                place::write_report_folder(&mut report, &log, &dir)
            };
            bar.inc(1);
            let error = written.err().map(|e| format!("report not written: {e:#}"));
            (LogOutcome { folder, report }, error)
        })
        .collect();
    bar.finish_and_clear();

    let mut done = Vec::new();
    let mut unwritten = Vec::new();
    for (outcome, error) in outcomes {
        match error {
            None => done.push(outcome),
            Some(error) => {
                failures.push(InputFailure {
                    input: outcome.report.source.path.clone(),
                    error,
                });
                unwritten.push(outcome);
            }
        }
    }

    // A run that wrote no report at all must not look like success to a script; but a leak
    // found with --fail-on is status 1 whatever happened to its report (a full disk must not
    // turn "leak found" into "bad usage").
    if done.is_empty() && (args.shard.is_none() || !unwritten.is_empty()) {
        report_failures(&failures);
        if exit_status(&unwritten, args.fail_on) == 1 {
            eprintln!("perfleak: no report could be written");
            return Ok(1);
        }
        anyhow::bail!("no report could be written");
    }

    if args.json {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for outcome in &done {
            writeln!(out, "{}", report::to_json_line(&outcome.report))
                .context("cannot write to standard output")?;
        }
        out.flush().context("cannot write to standard output")?;
    } else if !single {
        // The batch's own files failing is reported like a log's: the status still follows
        // the findings.
        if let Err(e) = write_batch_files(&mut done, &unwritten, &failures, args) {
            failures.push(InputFailure {
                input: args.out.display().to_string(),
                error: format!("batch index not written: {e:#}"),
            });
        }
    }

    report_failures(&failures);
    print_summary(&done, &unwritten, &failures, args, single);
    if done.is_empty() && !failures.is_empty() {
        anyhow::bail!("no input could be read");
    }
    Ok(exit_status(&done, args.fail_on).max(exit_status(&unwritten, args.fail_on)))
}

/// index.html and summary.csv (and summary.parquet when asked) for a several-log run.
/// Logs whose report could not be written keep their rows in summary.csv (their figures are
/// sound) and are listed with the failures in index.html.
fn write_batch_files(
    outcomes: &mut [LogOutcome],
    unwritten: &[LogOutcome],
    failures: &[InputFailure],
    args: &AnalyzeArgs,
) -> anyhow::Result<()> {
    rank_worst_first(outcomes);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let reports: Vec<&Report> = outcomes
        .iter()
        .chain(unwritten)
        .map(|o| &o.report)
        .collect();
    let frame = summary_frame(&reports).context("cannot build the summary table")?;
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

/// Status per the contract: 1 when a log reaches `--fail-on`, else 0. (2, when nothing could
/// be read or reported, is the error path of [`run_analyze`].)
pub fn exit_status(outcomes: &[LogOutcome], fail_on: FailOn) -> i32 {
    let trips = |status: LogStatus| match fail_on {
        FailOn::Never => false,
        FailOn::Leak => status == LogStatus::Leak,
        FailOn::Suspect => status <= LogStatus::Suspect,
        FailOn::NotJudged => status != LogStatus::NoLeak,
    };
    i32::from(outcomes.iter().any(|o| trips(o.report.status)))
}

fn report_failures(failures: &[InputFailure]) {
    for failure in failures {
        // Reading errors name their file already (with line and column): not twice.
        let line = if failure.error.starts_with(&format!("{}:", failure.input)) {
            failure.error.clone()
        } else {
            format!("{}: {}", failure.input, failure.error)
        };
        // File and zip-entry names are anyone's choice: no escape sequence reaches the terminal.
        eprintln!("perfleak: {}", report::escape_terminal(&line));
    }
}

fn print_summary(
    outcomes: &[LogOutcome],
    unwritten: &[LogOutcome],
    failures: &[InputFailure],
    args: &AnalyzeArgs,
    single: bool,
) {
    let statuses = index::status_counts(outcomes.iter().chain(unwritten).map(|o| o.report.status));
    let target = if args.json {
        String::new()
    } else if single {
        format!("; report in {}", args.out.join("report.html").display())
    } else {
        format!("; index in {}", args.out.join("index.html").display())
    };
    eprintln!(
        "perfleak: {} log(s) analysed: {}; {} input(s) failed{}",
        outcomes.len() + unwritten.len(),
        statuses,
        failures.len(),
        report::escape_terminal(&target)
    );
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
            let entry = entry
                .rsplit_once('.')
                .map_or(entry.as_str(), |(stem, _)| stem);
            format!("{archive}_{}", entry.replace('/', "_"))
        }
        LogSource::Stdin => "stdin".to_string(),
    }
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
