//! `perfleak kb list|show|import`.

use crate::cli::KbArgs;

pub fn run(_args: &KbArgs) -> anyhow::Result<i32> {
    anyhow::bail!("kb commands not built yet")
}
