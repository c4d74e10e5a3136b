//! report: one [`Report`] -> report.json, report.html, summary.md and charts/*.png.

mod model;

pub use model::{Report, ReportSource, SCHEMA_VERSION};
