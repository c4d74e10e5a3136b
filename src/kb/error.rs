//! Why a knowledge base could not be loaded or written: every variant names the file (and,
//! for a catalogue, the line and column) so the user can open it at the right place.

use thiserror::Error;

use crate::error_chain;

/// A reason a catalogue or KB article text cannot be used.
#[derive(Debug, Error)]
pub enum KbError {
    /// A catalogue (TOML) that does not parse or holds an invalid entry.
    #[error("{origin}:{line}:{column}: {message}")]
    Catalogue {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: cannot read KB catalogue: {}", error_chain(.error))]
    Read { file: String, error: std::io::Error },
    /// Importing article texts failed.
    #[error(transparent)]
    Import(#[from] super::import::ImportError),
    #[error("cannot write catalogue TOML: {}", error_chain(.0))]
    Toml(toml::ser::Error),
}
