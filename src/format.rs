//! The one formatter for what people read: every quantity, rate and duration in the analysis'
//! reasons, the KB evidence, the HTML, the Markdown, the chart labels and the terminal goes
//! through these functions, so a figure reads the same wherever it appears. JSON keeps raw
//! numbers. Crate level, so that both the analysis and the report use it without a cycle.

use crate::vocab::Unit;

/// Perfmon and Task Manager count a kilobyte as 2^10 and a megabyte as 2^20 bytes; the same
/// divisors keep our figures comparable with what the engineer sees on the machine.
pub const BYTES_PER_KB: f64 = 1024.0;
pub const BYTES_PER_MB: f64 = 1_048_576.0;

/// Display factor and unit for a byte amount of magnitude `abs`: MB as the engineer's usual
/// scale, KB and bytes for small pools where MB would need five decimals, GB only from 10 GB
/// (64-bit Virtual Bytes run to terabytes; below that, MB is what engineers compare).
pub fn byte_unit(abs: f64) -> (f64, &'static str) {
    if abs >= 10.0 * 1024.0 * BYTES_PER_MB && abs.is_finite() {
        (1.0 / (1024.0 * BYTES_PER_MB), "GB")
    } else if abs >= BYTES_PER_MB || abs == 0.0 || !abs.is_finite() {
        (1.0 / BYTES_PER_MB, "MB")
    } else if abs >= BYTES_PER_KB {
        (1.0 / BYTES_PER_KB, "KB")
    } else {
        (1.0, "bytes")
    }
}

fn is_bytes(unit: &Unit) -> bool {
    *unit == Unit::Bytes
}

/// Display factor and unit for values of a counter up to `max_abs` (a chart axis, a pair of
/// interval bounds): bytes as MB, KB or bytes, every other unit as itself.
pub fn display_scale_for(unit: &Unit, max_abs: f64) -> (f64, String) {
    if is_bytes(unit) {
        let (k, u) = byte_unit(max_abs);
        (k, u.to_string())
    } else {
        (1.0, unit.to_string())
    }
}

/// How a counter's unit is named in a table legend: bytes are shown as MB or KB.
pub fn display_unit(unit: &Unit) -> &'static str {
    if is_bytes(unit) {
        "MB/KB"
    } else {
        unit.as_str()
    }
}

/// Digits grouped by thousands (`16,777,216`), with `decimals` places.
pub fn grouped(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let mut out = String::new();
    for (i, ch) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac_part {
        out.push('.');
        out.push_str(&f);
    }
    // "-0" would read as a sign error.
    if value < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.insert(0, '-');
    }
    out
}

/// Few significant digits for a magnitude: 3,460 / 41.7 / 0.052.
fn readable(value: f64) -> String {
    let a = value.abs();
    if a >= 100.0 {
        grouped(value, 0)
    } else if a >= 10.0 {
        grouped(value, 1)
    } else if a >= 1.0 {
        grouped(value, 2)
    } else if a == 0.0 {
        "0".to_string()
    } else if a < 0.01 {
        // Would print as 0 with fixed decimals.
        format!("{:.1e}", value)
    } else if a >= 0.1 {
        format!("{:.2}", value)
    } else {
        format!("{:.3}", value)
    }
}

/// Whole counts (handles, threads) without decimals; everything else as `readable`.
fn count_or_readable(v: f64, unit: &Unit) -> String {
    if !is_bytes(unit) && v.fract() == 0.0 {
        grouped(v, 0)
    } else {
        readable(v)
    }
}

/// A counter value with its display unit: `3,460 handles`, `512 MB`, `61.5 KB`.
pub fn quantity(value: Option<f64>, unit: &Unit) -> String {
    match value {
        Some(v) if v.is_finite() => {
            let (k, u) = display_scale_for(unit, v.abs());
            format!("{} {u}", count_or_readable(v * k, unit))
        }
        _ => "n/a".to_string(),
    }
}

/// A counter value for a table column: counts as bare numbers (the column's rows name their
/// unit in the growth column), byte amounts with their unit since it varies by size.
pub fn amount(value: Option<f64>, unit: &Unit) -> String {
    match value {
        Some(v) if v.is_finite() && is_bytes(unit) => quantity(value, unit),
        Some(v) if v.is_finite() => count_or_readable(v, unit),
        _ => "n/a".to_string(),
    }
}

/// A range of amounts in one unit, the larger one's: `31.2–48.0 MB`, `120–410 handles`; one
/// amount when both read the same.
pub fn amount_range(lo: f64, hi: f64, unit: &Unit) -> String {
    let (k, u) = display_scale_for(unit, lo.abs().max(hi.abs()));
    let (a, b) = (
        count_or_readable(lo * k, unit),
        count_or_readable(hi * k, unit),
    );
    if a == b {
        format!("{a} {u}")
    } else {
        format!("{a}–{b} {u}")
    }
}

/// A growth rate with sign: `+41.7 handles/h`, `+61.5 KB/h`.
pub fn rate(slope_per_hour: Option<f64>, unit: &Unit) -> String {
    match slope_per_hour {
        Some(s) if s.is_finite() => {
            let sign = if s > 0.0 { "+" } else { "" };
            let (k, u) = display_scale_for(unit, s.abs());
            format!("{sign}{} {u}/h", readable(s * k))
        }
        _ => "n/a".to_string(),
    }
}

/// Hours as the largest sensible unit: `36 min`, `5.2 h`, `3.0 days`, `45.9 years`.
pub fn duration_hours(hours: Option<f64>) -> String {
    match hours {
        Some(h) if h.is_finite() && h >= 0.0 => {
            // Under an hour in minutes, unless it rounds to 60 ("1.0 h", not "60 min").
            if h * 60.0 < 59.5 {
                format!("{:.0} min", h * 60.0)
            } else if h < 48.0 {
                format!("{:.1} h", h)
            } else if h < 24.0 * 365.0 {
                format!("{:.1} days", h / 24.0)
            } else {
                format!("{} years", grouped(h / (24.0 * 365.25), 1))
            }
        }
        Some(h) if h.is_infinite() && h > 0.0 => "never".to_string(),
        _ => "n/a".to_string(),
    }
}

/// The time-to-limit interval: `2.1 days – 3.4 days`, an open upper bound reads `never`.
pub fn duration_interval(ci: Option<[Option<f64>; 2]>) -> String {
    match ci {
        Some([lo, hi]) => {
            let hi_text = match hi {
                Some(_) => duration_hours(hi),
                None => "never".to_string(),
            };
            format!("{} – {}", duration_hours(lo), hi_text)
        }
        None => "n/a".to_string(),
    }
}

/// A p-value: small ones in scientific form, since `0.000` hides how strong the trend is.
pub fn p_value(p: Option<f64>) -> String {
    match p {
        Some(v) if v.is_finite() => {
            if v == 0.0 {
                "< 1e-300".to_string()
            } else if v < 0.001 {
                format!("{:.0e}", v)
            } else {
                format!("{:.3}", v)
            }
        }
        _ => "n/a".to_string(),
    }
}

/// A 0..1 fraction as a percentage: `98%`.
pub fn percent_of_one(value: f64) -> String {
    if value.is_finite() {
        format!("{:.0}%", value * 100.0)
    } else {
        "n/a".to_string()
    }
}

/// A probability as a percentage, `98%`, with a decimal (cut, not rounded) where a whole
/// percent would put it on a verdict's threshold or at certainty: `49.9%`, `89.9%`, `99.9%`.
pub fn probability(p: f64) -> String {
    if !p.is_finite() {
        return "n/a".to_string();
    }
    let pct = 100.0 * p;
    let whole = pct.round();
    if [50.0, 90.0, 100.0].contains(&whole) && pct != whole {
        format!("{:.1}%", (pct * 10.0).floor() / 10.0)
    } else {
        format!("{whole:.0}%")
    }
}

/// A percentage already in percent units, with sign: `+668.9%`.
pub fn growth(percent: Option<f64>) -> String {
    match percent {
        Some(p) if p.is_finite() => {
            let sign = if p > 0.0 { "+" } else { "" };
            format!("{sign}{}%", grouped(p, 1))
        }
        _ => "n/a".to_string(),
    }
}

/// A plain number or `n/a`, a few decimals.
pub fn number(value: Option<f64>, decimals: usize) -> String {
    match value {
        Some(v) if v.is_finite() => grouped(v, decimals),
        _ => "n/a".to_string(),
    }
}

/// The slope interval in display units: `39.9 – 43.5 handles/h`.
pub fn rate_interval(ci: Option<[f64; 2]>, unit: &Unit) -> String {
    match ci {
        Some([lo, hi]) if lo.is_finite() && hi.is_finite() => {
            let (k, u) = display_scale_for(unit, lo.abs().max(hi.abs()));
            format!("{} – {} {u}/h", readable(lo * k), readable(hi * k))
        }
        _ => "n/a".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_never_round_onto_a_threshold() {
        assert_eq!(probability(0.98), "98%");
        assert_eq!(probability(0.9), "90%");
        assert_eq!(probability(0.4978), "49.7%");
        assert_eq!(probability(0.8996), "89.9%");
        assert_eq!(probability(0.99996), "99.9%");
        assert_eq!(probability(1.0), "100%");
        assert_eq!(probability(f64::NAN), "n/a");
    }

    #[test]
    fn groups_thousands_and_keeps_sign() {
        assert_eq!(grouped(16_777_216.0, 0), "16,777,216");
        assert_eq!(grouped(-1234.5, 1), "-1,234.5");
        assert_eq!(grouped(999.0, 0), "999");
        assert_eq!(grouped(-0.0001, 1), "0.0");
        assert_eq!(grouped(f64::NAN, 1), "n/a");
    }

    #[test]
    fn quantities_in_display_units() {
        assert_eq!(quantity(Some(3460.0), &Unit::Handles), "3,460 handles");
        assert_eq!(quantity(Some(512.0 * BYTES_PER_MB), &Unit::Bytes), "512 MB");
        assert_eq!(quantity(Some(f64::INFINITY), &Unit::Bytes), "n/a");
        assert_eq!(rate(Some(41.66), &Unit::Handles), "+41.7 handles/h");
        assert_eq!(rate(Some(-2.0 * BYTES_PER_MB), &Unit::Bytes), "-2.00 MB/h");
        assert_eq!(rate(Some(0.004), &Unit::Handles), "+4.0e-3 handles/h");
        assert_eq!(rate(Some(63_000.0), &Unit::Bytes), "+61.5 KB/h");
        assert_eq!(quantity(Some(500.0), &Unit::Bytes), "500 bytes");
        assert_eq!(quantity(Some(25.0), &Unit::Threads), "25 threads");
        assert_eq!(
            quantity(Some(2.0 * 1024.0 * 1024.0 * BYTES_PER_MB), &Unit::Bytes),
            "2,048 GB"
        );
        assert_eq!(amount(Some(3460.0), &Unit::Handles), "3,460");
        assert_eq!(amount(Some(6.5 * 1024.0), &Unit::Bytes), "6.50 KB");
        assert_eq!(
            rate_interval(Some([1000.0, 3000.0]), &Unit::Bytes),
            "0.98 – 2.93 KB/h"
        );
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration_hours(Some(0.5)), "30 min");
        assert_eq!(duration_hours(Some(0.999)), "1.0 h");
        assert_eq!(duration_hours(Some(5.25)), "5.2 h");
        assert_eq!(duration_hours(Some(72.0)), "3.0 days");
        assert_eq!(duration_hours(Some(402_000.0)), "45.9 years");
        assert_eq!(duration_hours(None), "n/a");
        assert_eq!(
            duration_interval(Some([Some(24.0), None])),
            "24.0 h – never"
        );
    }

    #[test]
    fn p_values_stay_informative() {
        assert_eq!(p_value(Some(1e-40)), "1e-40");
        assert_eq!(p_value(Some(0.0312)), "0.031");
        assert_eq!(p_value(Some(0.0)), "< 1e-300");
        assert_eq!(p_value(None), "n/a");
    }
}
