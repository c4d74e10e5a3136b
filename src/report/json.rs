//! report.json: the contract's schema, pretty for files and one line per report for `--json`.
//! Non-finite numbers never reach the output: NaN and infinities become `null`.

use super::Result;

use super::escape::escape_json_text;
use super::{RenderContext, Report, ReportWriter};

/// Writes `report.json`.
pub struct JsonWriter;

impl ReportWriter for JsonWriter {
    fn file_name(&self) -> &str {
        "report.json"
    }

    fn render(&self, report: &Report, _ctx: &RenderContext) -> Result<Vec<u8>> {
        let mut text = to_json(report);
        text.push('\n');
        Ok(text.into_bytes())
    }
}

// serde_json writes `null` for a non-finite f64, which is exactly the contract's "a value that
// does not exist is null"; serialising plain structs of strings and numbers cannot otherwise
// fail (no map has non-string keys), so the fallback is never reached in practice.

/// The report as pretty-printed JSON (report.json).
pub fn to_json(report: &Report) -> String {
    escape_json_text(serde_json::to_string_pretty(report).unwrap_or_else(|_| "null".to_string()))
}

/// The report as one line of JSON (JSON Lines for `--json`).
pub fn to_json_line(report: &Report) -> String {
    escape_json_text(serde_json::to_string(report).unwrap_or_else(|_| "null".to_string()))
}
