//! Why a report (or a batch's summary files) could not be made: what was being done, then the
//! reason, read as one line (`cannot write out/report.html: No space left on device`).

use thiserror::Error;

use crate::error_chain;

/// A reason a report, a chart or a summary table was not written.
#[derive(Debug, Error)]
pub enum ReportError {
    /// A file-system call failed.
    #[error("{}", error_chain(.0))]
    Io(std::io::Error),
    /// A chart could not be drawn or encoded.
    #[error("{0}")]
    Chart(String),
    /// A report folder is not replaced: something that is not a report is in the way.
    #[error("{0}")]
    Refused(String),
    /// The summary table (polars) could not be built or written.
    #[error("{}", error_chain(.0))]
    Table(polars::error::PolarsError),
    /// A summary file read back (by `merge`) does not hold what it should.
    #[error("{0}")]
    Summary(String),
    /// What was being done when `cause` happened.
    #[error("{doing}: {cause}")]
    Context {
        doing: String,
        cause: Box<ReportError>,
    },
}

/// Results of the report stage.
pub type Result<T, E = ReportError> = std::result::Result<T, E>;

impl From<std::io::Error> for ReportError {
    fn from(e: std::io::Error) -> Self {
        ReportError::Io(e)
    }
}

impl From<polars::error::PolarsError> for ReportError {
    fn from(e: polars::error::PolarsError) -> Self {
        ReportError::Table(e)
    }
}

impl From<png::EncodingError> for ReportError {
    fn from(e: png::EncodingError) -> Self {
        ReportError::Chart(error_chain(&e))
    }
}

/// Says what was being done when a step failed, as a [`ReportError::Context`].
pub trait Context<T> {
    fn with_context(self, doing: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<ReportError>> Context<T> for std::result::Result<T, E> {
    fn with_context(self, doing: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| ReportError::Context {
            doing: doing(),
            cause: Box::new(e.into()),
        })
    }
}

/// Returns a [`ReportError::Chart`] with a formatted message.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::report::ReportError::Chart(format!($($arg)*)))
    };
}
pub(crate) use bail;
