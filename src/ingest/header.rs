//! The first header cell, `(PDH-CSV 4.0) (<zone>)(<bias>)`: every part optional, the zone
//! possibly cut short or holding commas and parentheses; the bias is minutes WEST of UTC.

/// What the first header cell says about the log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderCell {
    /// `PDH-CSV 4.0` / `PDH-TSV 4.0` when present.
    pub signature: Option<String>,
    pub time_zone: Option<String>,
    /// Minutes west of UTC (Pacific 480).
    pub bias_minutes: Option<i32>,
}

impl HeaderCell {
    pub fn parse(cell: &str) -> HeaderCell {
        let mut rest = cell.trim();
        let mut signature = None;
        if let Some(after) = rest.strip_prefix('(') {
            if let Some(end) = after.find(')') {
                let inner = &after[..end];
                if inner.to_ascii_uppercase().starts_with("PDH-") {
                    signature = Some(inner.trim().to_string());
                    rest = after[end + 1..].trim();
                }
            }
        }

        // The bias is the last parenthesised group when it is an integer.
        let mut bias_minutes = None;
        if let Some(body) = rest.strip_suffix(')') {
            if let Some(open) = body.rfind('(') {
                if let Ok(bias) = body[open + 1..].trim().parse::<i32>() {
                    bias_minutes = Some(bias);
                    rest = body[..open].trim();
                }
            }
        }

        let zone = rest.strip_prefix('(').unwrap_or(rest);
        let zone = zone.strip_suffix(')').unwrap_or(zone).trim();
        HeaderCell {
            signature,
            time_zone: (!zone.is_empty()).then(|| zone.to_string()),
            bias_minutes,
        }
    }

    /// Offset of local time from UTC in minutes: the negated bias.
    pub fn utc_offset_minutes(&self) -> Option<i32> {
        self.bias_minutes.map(|b| -b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_cell() {
        let h = HeaderCell::parse("(PDH-CSV 4.0) (Pacific Standard Time)(480)");
        assert_eq!(h.signature.as_deref(), Some("PDH-CSV 4.0"));
        assert_eq!(h.time_zone.as_deref(), Some("Pacific Standard Time"));
        assert_eq!(h.utc_offset_minutes(), Some(-480));
    }

    #[test]
    fn partial_cells() {
        let cut = HeaderCell::parse("(PDH-CSV 4.0) (");
        assert_eq!(cut.signature.as_deref(), Some("PDH-CSV 4.0"));
        assert_eq!((cut.time_zone, cut.bias_minutes), (None, None));
        let no_prefix = HeaderCell::parse("(Pacific Daylight Time)(420)");
        assert_eq!(no_prefix.signature, None);
        assert_eq!(
            no_prefix.time_zone.as_deref(),
            Some("Pacific Daylight Time")
        );
        assert_eq!(no_prefix.bias_minutes, Some(420));
        let india = HeaderCell::parse("(PDH-TSV 4.0) (India Standard Time)(-330)");
        assert_eq!(india.utc_offset_minutes(), Some(330));
        let odd = HeaderCell::parse("(PDH-CSV 4.0) (Zone (A), B)(60)");
        assert_eq!(odd.time_zone.as_deref(), Some("Zone (A), B"));
        assert_eq!(HeaderCell::parse(""), HeaderCell::default());
    }
}
