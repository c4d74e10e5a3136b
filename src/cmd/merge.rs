//! `perfleak merge`: joins batch output folders, then says what it wrote.

use std::path::PathBuf;

use clap::Args;
use perfleak::batch::{self, merge};
use perfleak::report;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Output folders of `perfleak analyze` runs of several logs (or with --shard), or merges.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where the merged index.html and summaries go (not one of DIRS).
    #[arg(short, long)]
    pub out: PathBuf,
}

pub fn run(args: &MergeArgs) -> anyhow::Result<i32> {
    let merged = merge::merge(&merge::MergeOptions {
        inputs: args.dirs.clone(),
        out: args.out.clone(),
    })?;
    let statuses = batch::status_counts(merged.rows.iter().map(|r| r.status));
    eprintln!(
        "perfleak: {} folder(s) merged: {} log(s): {statuses}; {} input(s) failed; index in {}",
        merged.folders,
        merged.rows.len(),
        merged.failures.len(),
        report::escape_terminal(&args.out.join("index.html").display().to_string())
    );
    Ok(0)
}
