//! Counter types and their formulas: raw PDH values (one or two samples) -> the number relog
//! prints. The type table is `data/blg/counter_types.toml`; the operation order of each formula
//! below is the one that matches relog to the last digit (deltas on i64, then f64).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// How a counter type's value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Formula {
    Raw,
    RawFraction,
    Elapsed,
    Rate,
    Timer,
    TimerInv,
    MultiTimer,
    MultiTimerInv,
    Queuelen,
    Average,
    AverageTimer,
    SampleFraction,
    Delta,
    /// The denominator of the counter before it: not a column.
    Base,
    /// No number: not a column.
    None,
}

impl Formula {
    /// Whether the type is a column of its own.
    pub fn is_column(self) -> bool {
        !matches!(self, Formula::Base | Formula::None)
    }

    /// Whether a value needs the sample before (single-sample types never read it).
    pub fn two_samples(self) -> bool {
        !matches!(
            self,
            Formula::Raw | Formula::RawFraction | Formula::Elapsed | Formula::Base | Formula::None
        )
    }
}

#[derive(Deserialize)]
struct Table {
    types: Vec<Type>,
}

#[derive(Deserialize)]
struct Type {
    id: u32,
    #[allow(dead_code)]
    name: String,
    formula: Formula,
}

/// The formula of a counter type, `None` for a type not in the table.
pub fn formula(counter_type: u32) -> Option<Formula> {
    static TYPES: OnceLock<HashMap<u32, Formula>> = OnceLock::new();
    TYPES
        .get_or_init(|| {
            let table: Table = crate::data::builtin!("blg/counter_types.toml");
            table.types.into_iter().map(|t| (t.id, t.formula)).collect()
        })
        .get(&counter_type)
        .copied()
}

/// A base type (PERF_COUNTER_BASE in the subtype bits), even one not in the table.
pub fn is_base(counter_type: u32) -> bool {
    counter_type & 0x0007_0000 == 0x0003_0000
}

/// One raw sample of one counter instance.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Raw {
    pub status: u32,
    pub first: i64,
    pub second: i64,
    pub multi: u32,
    /// The time base F for this sample.
    pub frequency: i64,
}

/// PERF_SIZE_DWORD counters wrap at 2^32.
fn is_dword(counter_type: u32) -> bool {
    counter_type & 0x300 == 0
}

/// The value relog prints for `cur` (with `prev`, the same instance's previous sample, for
/// two-sample types); `None` is a blank cell.
///
/// Choices where relog's behaviour is not documented (docs/blg.md):
/// - a negative time or base difference, or a negative count difference (a counter reset by a
///   reboot or a process exit), is blank, as PDH flags it PDH_CALC_NEGATIVE_*;
/// - a 32-bit counter whose count went down wrapped: 2^32 is added;
/// - an inverse timer slightly over its wall time (idle > elapsed) prints 0, not a negative;
/// - percentages are not capped at 100 (several CPUs, % Disk Time);
/// - a zero denominator prints 0 (no operations in the interval).
#[inline]
pub fn value(formula: Formula, counter_type: u32, cur: &Raw, prev: Option<&Raw>) -> Option<f64> {
    if cur.status != 0 {
        return None;
    }
    let div = |n: f64, d: f64| if d == 0.0 { 0.0 } else { n / d };
    match formula {
        Formula::Raw => return Some(cur.first as f64),
        Formula::RawFraction => {
            if cur.second < 0 {
                return None;
            }
            return Some(div(cur.first as f64, cur.second as f64) * 100.0);
        }
        Formula::Elapsed => {
            if cur.frequency <= 0 {
                return None;
            }
            let elapsed = cur.second.checked_sub(cur.first).filter(|e| *e >= 0)?;
            return Some(elapsed as f64 / cur.frequency as f64);
        }
        Formula::Base | Formula::None => return None,
        _ => {}
    }
    let prev = prev.filter(|p| p.status == 0)?;
    let mut dn = cur.first.wrapping_sub(prev.first);
    if dn < 0
        && is_dword(counter_type)
        && (0..1i64 << 32).contains(&cur.first)
        && (0..1i64 << 32).contains(&prev.first)
    {
        dn += 1 << 32;
    }
    let dd = cur.second.wrapping_sub(prev.second);
    if dd < 0 || dn < 0 {
        return None;
    }
    let (n, d) = (dn as f64, dd as f64);
    let f = cur.frequency as f64;
    let v = match formula {
        Formula::Rate => {
            if cur.frequency <= 0 {
                return None;
            }
            div(n, d / f)
        }
        Formula::Timer => div(n, d) * 100.0,
        Formula::TimerInv => {
            if d == 0.0 {
                0.0
            } else {
                ((1.0 - n / d) * 100.0).max(0.0)
            }
        }
        Formula::MultiTimer => div(div(n, d) * 100.0, f64::from(cur.multi)),
        Formula::MultiTimerInv => {
            if d == 0.0 {
                0.0
            } else {
                ((f64::from(cur.multi) - n / d) * 100.0).max(0.0)
            }
        }
        Formula::Queuelen | Formula::Average => div(n, d),
        Formula::AverageTimer => {
            if cur.frequency <= 0 {
                return None;
            }
            div(n / f, d)
        }
        Formula::SampleFraction => div(n, d) * 100.0,
        Formula::Delta => n,
        Formula::Raw | Formula::RawFraction | Formula::Elapsed | Formula::Base | Formula::None => {
            unreachable!("handled above")
        }
    };
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(first: i64, second: i64) -> Raw {
        Raw {
            first,
            second,
            frequency: 10_000_000,
            ..Raw::default()
        }
    }

    #[test]
    fn the_table_loads_and_knows_the_sample_types() {
        assert_eq!(formula(0x21510500), Some(Formula::TimerInv));
        assert_eq!(formula(0x10410500), Some(Formula::Rate));
        assert_eq!(formula(0x20020400), Some(Formula::RawFraction));
        assert_eq!(formula(0x40030403), Some(Formula::Base));
        assert!(is_base(0x40030403) && !is_base(0x20020400));
        assert_eq!(formula(0x12345678), None);
    }

    #[test]
    fn operation_order_is_n_over_d_times_100() {
        // 100*N/D and N/D*100 differ in the last bit for these values.
        let (n, d) = (1i64, 3i64);
        let v = value(Formula::RawFraction, 0x20020400, &raw(n, d), None).unwrap();
        assert_eq!(v, 33.33333333333333);
        assert_ne!(v, 100.0 / 3.0);
    }

    #[test]
    fn negative_results_are_blank_and_idle_over_wall_time_is_zero() {
        // A count that went down (a reboot, a process exit): blank.
        let t = 0x20510500;
        assert_eq!(
            value(Formula::Timer, t, &raw(5, 200), Some(&raw(9, 100))),
            None
        );
        // Time going back: blank.
        assert_eq!(
            value(Formula::Timer, t, &raw(9, 100), Some(&raw(5, 200))),
            None
        );
        // Idle time a little over the wall time: 0, not -1.56.
        let inv = value(
            Formula::TimerInv,
            0x21510500,
            &raw(1_016, 1_000),
            Some(&raw(0, 0)),
        );
        assert_eq!(inv, Some(0.0));
    }

    #[test]
    fn percentages_over_100_are_not_capped() {
        let v = value(Formula::Timer, 0x20510500, &raw(259, 100), Some(&raw(0, 0)));
        assert_eq!(v, Some(259.0));
    }

    #[test]
    fn a_32_bit_counter_wraps_and_a_64_bit_one_does_not() {
        let mut prev = raw(u32::MAX as i64 - 9, 0);
        prev.frequency = 10;
        let mut cur = raw(10, 10);
        cur.frequency = 10;
        // 20 counts in 1 s.
        assert_eq!(
            value(Formula::Rate, 0x10410400, &cur, Some(&prev)),
            Some(20.0)
        );
        assert_eq!(value(Formula::Rate, 0x10410500, &cur, Some(&prev)), None);
    }

    #[test]
    fn first_sample_and_bad_status_are_blank() {
        assert_eq!(value(Formula::Rate, 0x10410500, &raw(1, 1), None), None);
        let mut bad = raw(1, 1);
        bad.status = 0x800007D0;
        assert_eq!(value(Formula::Raw, 0x10010000, &bad, None), None);
        assert_eq!(
            value(Formula::Rate, 0x10410500, &raw(2, 2), Some(&bad)),
            None
        );
    }
}
