//! What each counter runs into and when: the 32-bit address space, the commit headroom of the
//! machine, the handle limits; time to that limit from the robust slope and its interval.

use super::Severity;
use crate::vocab::Counter;

const GB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Any Virtual Bytes above this proves a 64-bit process.
const BITNESS_PROOF: f64 = 4.3e9;
const HANDLE_SOFT: f64 = 16_384.0;
const HANDLE_HARD: f64 = 16_777_216.0;

/// Smallest growth over a lifetime worth calling a leak whatever the process size: small
/// enough that a 3 MB NT 4.0 process leaking 1 MB over days still counts.
pub fn growth_floor(counter: Counter) -> f64 {
    match counter {
        Counter::HandleCount => 3.0,
        Counter::ThreadCount => 2.0,
        Counter::PoolPagedBytes | Counter::PoolNonpagedBytes => 4.0 * 1024.0,
        _ => 32.0 * 1024.0,
    }
}

/// A limit and how it was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub value: f64,
    /// The limit that decides severity when it differs (the 16,384 handle soft limit).
    pub severity_value: f64,
    pub note: String,
}

/// The limit a counter of one process runs into. `max_virtual_bytes` is the largest Virtual Bytes
/// of the same instance; `commit_headroom` is Commit Limit - Committed Bytes of the machine at
/// the end of the log.
pub fn limit_for(
    kind: Counter,
    level_now: f64,
    max_virtual_bytes: Option<f64>,
    commit_headroom: Option<f64>,
) -> Option<Limit> {
    let is_64 = max_virtual_bytes.is_some_and(|v| v > BITNESS_PROOF);
    let address_space = |observed: f64| {
        // The smallest 32-bit layout that fits what was seen: 2 GB default, 3 GB with 4GT,
        // 4 GB for a large-address-aware process on x64.
        [2.0 * GB, 3.0 * GB, 4.0 * GB]
            .into_iter()
            .find(|l| *l > observed)
            .unwrap_or(4.0 * GB)
    };
    match kind {
        Counter::VirtualBytes => {
            if is_64 {
                return None;
            }
            let value = address_space(max_virtual_bytes.unwrap_or(level_now));
            Some(Limit {
                value,
                severity_value: value,
                note: format!("{:.0} GB address space if 32-bit", value / GB),
            })
        }
        Counter::PrivateBytes => {
            if let Some(headroom) = commit_headroom.filter(|h| h.is_finite() && *h >= 0.0) {
                let value = level_now + headroom;
                let value = if is_64 {
                    value
                } else {
                    value.min(address_space(max_virtual_bytes.unwrap_or(level_now)))
                };
                return Some(Limit {
                    value,
                    severity_value: value,
                    note: "commit headroom".into(),
                });
            }
            if is_64 {
                return None;
            }
            let value = address_space(max_virtual_bytes.unwrap_or(level_now).max(level_now));
            Some(Limit {
                value,
                severity_value: value,
                note: format!(
                    "{:.0} GB, assuming a 32-bit process (no commit counters)",
                    value / GB
                ),
            })
        }
        // A process already past the soft limit is where trouble starts, and still growing:
        // its severity is that of a limit reached now, not of the hard limit years away.
        Counter::HandleCount => Some(Limit {
            value: HANDLE_HARD,
            severity_value: HANDLE_SOFT,
            note: "16,777,216 handles (hard); severity from the 16,384 soft limit".into(),
        }),
        _ => None,
    }
}

/// Least relative half-width of the forecast's slope band (Sen's interval widened to +/-20% of
/// the slope).
const MIN_FORECAST_SPREAD: f64 = 0.2;

/// Slope bounds for the time-to-limit interval. Sen's interval only measures noise around a
/// straight line, while a leak's rate drifts (warm-ups after restarts, steps, cycles) by more
/// than that: the forecast allows the rate at least +/-20% and whatever the two halves of the
/// growing part showed.
pub fn forecast_band(slope: f64, lower: f64, upper: f64, halves: Option<(f64, f64)>) -> (f64, f64) {
    let spread = MIN_FORECAST_SPREAD * slope.abs();
    let (mut low, mut high) = (lower.min(slope - spread), upper.max(slope + spread));
    if let Some((a, b)) = halves {
        low = low.min(a.min(b));
        high = high.max(a.max(b));
    }
    (low, high)
}

/// Hours until `limit` from `level_now` at `slope` per hour, with the interval from the slope's
/// interval (`None` upper bound = never).
pub fn time_to_limit(
    limit: f64,
    level_now: f64,
    slope: f64,
    lower: f64,
    upper: f64,
) -> Option<(f64, [Option<f64>; 2])> {
    if slope.is_nan() || slope <= 0.0 {
        return None;
    }
    let room = (limit - level_now).max(0.0);
    let soonest = if upper > 0.0 {
        Some(room / upper)
    } else {
        None
    };
    let latest = if lower > 0.0 {
        Some(room / lower)
    } else {
        None
    };
    Some((room / slope, [soonest, latest]))
}

pub fn severity(hours: f64) -> Severity {
    if hours < 24.0 {
        Severity::Critical
    } else if hours < 24.0 * 7.0 {
        Severity::High
    } else if hours < 24.0 * 30.0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitness_and_address_space() {
        let l = limit_for(Counter::VirtualBytes, 1.0 * GB, Some(1.5 * GB), None).unwrap();
        assert_eq!(l.value, 2.0 * GB);
        let l = limit_for(Counter::VirtualBytes, 2.5 * GB, Some(2.5 * GB), None).unwrap();
        assert_eq!(l.value, 3.0 * GB);
        assert!(limit_for(Counter::VirtualBytes, 5e9, Some(5e9), None).is_none());
        let pb = limit_for(Counter::PrivateBytes, 1e9, Some(8e9), Some(3e9)).unwrap();
        assert_eq!(pb.value, 4e9);
    }

    #[test]
    fn forecast_band_allows_the_rate_to_drift() {
        // A razor-thin Sen interval widens to +/-20%.
        assert_eq!(forecast_band(10.0, 9.9, 10.1, None), (8.0, 12.0));
        // A wide one stays; halves that disagree widen it further.
        assert_eq!(forecast_band(10.0, 5.0, 16.0, None), (5.0, 16.0));
        assert_eq!(
            forecast_band(10.0, 9.9, 10.1, Some((2.0, 25.0))),
            (2.0, 25.0)
        );
    }

    #[test]
    fn tte_and_interval() {
        let (h, ci) = time_to_limit(1000.0, 400.0, 10.0, 5.0, 20.0).unwrap();
        assert_eq!(h, 60.0);
        assert_eq!(ci, [Some(30.0), Some(120.0)]);
        let (_, ci) = time_to_limit(1000.0, 400.0, 10.0, -1.0, 20.0).unwrap();
        assert_eq!(ci[1], None);
        assert_eq!(severity(10.0), Severity::Critical);
        assert_eq!(severity(100.0), Severity::High);
    }
}
