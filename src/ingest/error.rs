//! Why a log could not be read: every variant names the file and, where one exists, the line
//! and column, so a support engineer can open the file at the right place.

use thiserror::Error;

/// A reason a log cannot be turned into a [`super::PerfLog`].
#[derive(Debug, Error)]
pub enum IngestError {
    /// The I/O error is part of the message, not a source: chained (`{:#}`), its text would
    /// be printed twice.
    #[error("{file}: {error}")]
    Io { file: String, error: std::io::Error },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: the log has a header but no samples")]
    HeaderOnly { file: String },
    #[error(
        "{file}: a binary file that is not an ETW perfmon log (a Windows 2000/XP binary \
         log, or damaged), which perfleak does not read; convert it to text on Windows: \
         relog \"{file}\" -f csv -o log.csv"
    )]
    Blg { file: String },
    #[error("{file}: byte {offset}: {message}")]
    BlgFormat {
        file: String,
        offset: u64,
        message: String,
    },
    #[error("{file}: not a text perfmon log (binary content near byte {offset})")]
    Binary { file: String, offset: usize },
    #[error("{file}: unknown character encoding '{label}' (use a label such as windows-1251)")]
    UnknownEncoding { file: String, label: String },
    #[error("{file}: line {line}, column {column}: {message}")]
    Format {
        file: String,
        line: u64,
        column: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Archive { file: String, message: String },
    /// An input named on the command line (or met in a folder) that is not read.
    #[error("{file}: {message}")]
    Input { file: String, message: String },
    #[error("standard input given more than once")]
    StdinTwice,
}

impl IngestError {
    /// The file (or archive entry) the message names first, if it names one.
    pub fn file(&self) -> Option<&str> {
        match self {
            IngestError::Io { file, .. }
            | IngestError::Empty { file }
            | IngestError::HeaderOnly { file }
            | IngestError::Blg { file }
            | IngestError::BlgFormat { file, .. }
            | IngestError::Binary { file, .. }
            | IngestError::UnknownEncoding { file, .. }
            | IngestError::Format { file, .. }
            | IngestError::Archive { file, .. }
            | IngestError::Input { file, .. } => Some(file),
            IngestError::StdinTwice => None,
        }
    }

    pub(crate) fn input(path: &std::path::Path, message: impl Into<String>) -> Self {
        IngestError::Input {
            file: path.display().to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn archive(file: &str, message: impl Into<String>) -> Self {
        IngestError::Archive {
            file: file.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn format(file: &str, line: u64, column: usize, message: impl Into<String>) -> Self {
        IngestError::Format {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    pub(crate) fn io(file: &str, source: std::io::Error) -> Self {
        IngestError::Io {
            file: file.to_string(),
            error: source,
        }
    }
}
