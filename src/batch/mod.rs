//! batch: runs the pipeline over every input (files, folders, archives, stdin) in parallel,
//! isolating each input's errors, and writes the per-log reports plus the batch index.

use crate::cli::AnalyzeArgs;

/// `perfleak analyze`: returns the exit status of the contract.
pub fn run_analyze(_args: &AnalyzeArgs) -> anyhow::Result<i32> {
    anyhow::bail!("analyze not built yet")
}
