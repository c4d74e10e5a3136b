//! `perfleak convert`: reads a log through the library and writes it as `relog -f csv|tsv`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use perfleak::ingest::convert::{read_for_convert, write_table};

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

/// Runs `perfleak convert`; exit status 0, or 2 when the log cannot be read or written.
pub fn run(args: &ConvertArgs) -> anyhow::Result<i32> {
    let tab = matches!(args.format, ConvertFormat::Tsv);
    let converted = read_for_convert(&args.log)?;
    for w in &converted.warnings {
        eprintln!("perfleak: warning: {w}");
    }
    let table = &converted.table;
    let result = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            write_table(&mut w, table, tab).and_then(|_| w.flush())
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            write_table(&mut w, table, tab).and_then(|_| w.flush())
        }
    };
    match result {
        Ok(()) => Ok(0),
        // A reader that stopped early (`| head`) is no error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(anyhow::anyhow!("writing the converted log: {e}")),
    }
}
