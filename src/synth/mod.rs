//! synth: seeded generator of labelled PDH-CSV logs in scenario families (healthy servers,
//! leaks, warm-ups, sawtooth, steps, cycles, restarts) for the samples, tests and benchmark.

use crate::cli::SynthArgs;

pub fn run(_args: &SynthArgs) -> anyhow::Result<i32> {
    anyhow::bail!("synth not built yet")
}
