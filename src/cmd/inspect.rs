//! `perfleak inspect`: prints what the library's inspection found, as text or JSON.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use perfleak::ingest::inspect::inspect;
use perfleak::ingest::ReadOptions;
use perfleak::report::{escape_json_text, escape_terminal};

use super::DateOrderArg;

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
    pub date_order: Option<DateOrderArg>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What a failed write of the output says.
const STDOUT_FAILED: &str = "cannot write to standard output";

pub fn run(args: &InspectArgs) -> anyhow::Result<i32> {
    let options = ReadOptions {
        encoding: args.encoding.clone(),
        all_columns: false,
        date_order: args.date_order.map(Into::into),
    };
    let inspected = inspect(&args.log, &options)?;
    // One unreadable file in a folder does not hide the others; it is still reported.
    for failure in &inspected.failures {
        eprintln!("perfleak: {}", escape_terminal(&failure.to_string()));
    }
    let reports = &inspected.logs;
    // Written through the locked handle so that a closed or full stdout is an error the
    // caller reports (println! would panic).
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let json = if reports.len() == 1 {
            serde_json::to_string_pretty(&reports[0])?
        } else {
            serde_json::to_string_pretty(reports)?
        };
        writeln!(out, "{}", escape_json_text(json)).context(STDOUT_FAILED)?;
    } else {
        for r in reports {
            out.write_all(escape_terminal(&r.to_text()).as_bytes())
                .context(STDOUT_FAILED)?;
        }
    }
    out.flush().context(STDOUT_FAILED)?;
    Ok(0)
}
