//! What each counter runs into and when: the 32-bit address space, the commit headroom of the
//! machine, the handle limits; time to that limit from the robust slope and its interval.

use super::Severity;
use crate::vocab::Counter;

const GB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Any Virtual Bytes above this proves a 64-bit process.
const BITNESS_PROOF: f64 = 4.3e9;
/// Handle counts are judged against one threshold, everywhere (severity, time to limit,
/// headline, chart, CSV, JSON): far above what a healthy process holds, and hours or days
/// before trouble. The real per-process limit (2^24) is years away for most handle leaks.
const HANDLE_ALERT: f64 = 16_384.0;
/// The per-process handle limit (2^24).
const HANDLE_HARD: f64 = 16_777_216.0;

/// Growth over a lifetime, as a share of its level, below which a trend is "minor".
pub const MIN_RELATIVE_GROWTH: f64 = 0.01;

/// The least growth of a counter at `level` worth calling a leak: a share of the level, or
/// the counter's own floor ([`growth_floor`]: a few handles, a few KB), whichever is more.
pub fn practical_growth(kind: Counter, level: f64) -> f64 {
    (MIN_RELATIVE_GROWTH * level.abs()).max(growth_floor(kind))
}

/// Smallest growth over a lifetime worth calling a leak whatever the process size: small
/// enough that a 3 MB NT 4.0 process leaking 1 MB over days still counts.
pub fn growth_floor(counter: Counter) -> f64 {
    match counter {
        Counter::HandleCount => 3.0,
        Counter::ThreadCount => 2.0,
        Counter::PoolPagedBytes | Counter::PoolNonpagedBytes => 4.0 * 1024.0,
        // The machine's totals move by more than one process's: a drift below these is
        // nothing a server runs out of.
        Counter::SystemPoolPaged | Counter::SystemPoolNonpaged => 1024.0 * 1024.0,
        Counter::CommittedBytes | Counter::AvailableBytes | Counter::AvailableMBytes => {
            32.0 * 1024.0 * 1024.0
        }
        Counter::TotalHandleCount => 100.0,
        _ => 32.0 * 1024.0,
    }
}

/// A limit, its name (what a person reads beside its value) and what it assumes.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub value: f64,
    /// `2 GB address space of a 32-bit process`, `commit headroom`, `handle alert threshold`.
    pub name: String,
    /// The assumption behind it, when there is one to state (`assumed 64-bit: ...`).
    pub assumption: Option<String>,
    /// Where the process actually fails, when that is beyond `value` (an alert threshold):
    /// only the verdict rule on exhaustion reads it.
    pub exhaustion: Option<f64>,
}

/// What the log shows of a process's bitness.
#[derive(Debug, Clone, PartialEq)]
pub enum Bitness {
    /// Its Virtual Bytes passed 4 GB.
    Proven64,
    /// No proof for the process, but its machine is 64-bit (the evidence in words): most of
    /// its processes are 64-bit.
    Assumed64(String),
    /// Nothing shows a 64-bit machine.
    Assumed32,
}

impl Bitness {
    pub fn of(max_virtual_bytes: Option<f64>, machine_x64: Option<&str>) -> Bitness {
        if max_virtual_bytes.is_some_and(|v| v > BITNESS_PROOF) {
            Bitness::Proven64
        } else if let Some(evidence) = machine_x64 {
            Bitness::Assumed64(evidence.to_string())
        } else {
            Bitness::Assumed32
        }
    }

    fn is_64(&self) -> bool {
        !matches!(self, Bitness::Assumed32)
    }

    fn assumption(&self) -> Option<String> {
        match self {
            Bitness::Proven64 => None,
            Bitness::Assumed64(evidence) => Some(format!(
                "assumed a 64-bit process on a 64-bit machine ({evidence}); a 32-bit one would stop at 2 to 4 GB"
            )),
            Bitness::Assumed32 => Some(
                "assumed a 32-bit process: nothing in the log shows a 64-bit machine".to_string(),
            ),
        }
    }
}

/// The limit a counter of one process runs into. `max_virtual_bytes` is the largest Virtual Bytes
/// of the same instance; `commit_headroom` is Commit Limit - Committed Bytes of the machine at
/// the end of the log.
pub fn limit_for(
    kind: Counter,
    level_now: f64,
    max_virtual_bytes: Option<f64>,
    commit_headroom: Option<f64>,
    bitness: &Bitness,
) -> Option<Limit> {
    let address_space = |observed: f64| {
        // The smallest 32-bit layout that fits what was seen: 2 GB default, 3 GB with 4GT,
        // 4 GB for a large-address-aware process on x64.
        [2.0 * GB, 3.0 * GB, 4.0 * GB]
            .into_iter()
            .find(|l| *l > observed)
            .unwrap_or(4.0 * GB)
    };
    let address_space_limit = |value: f64| Limit {
        value,
        name: format!("{:.0} GB address space of a 32-bit process", value / GB),
        assumption: bitness.assumption(),
        exhaustion: None,
    };
    match kind {
        Counter::VirtualBytes => {
            // A 64-bit process's address space (128 TB) is no limit a leak reaches.
            if bitness.is_64() {
                return None;
            }
            Some(address_space_limit(address_space(
                max_virtual_bytes.unwrap_or(level_now),
            )))
        }
        Counter::PrivateBytes => {
            let headroom = commit_headroom.filter(|h| h.is_finite() && *h >= 0.0);
            let space = (!bitness.is_64())
                .then(|| address_space(max_virtual_bytes.unwrap_or(level_now).max(level_now)));
            match (headroom, space) {
                (Some(h), Some(space)) if space < level_now + h => Some(address_space_limit(space)),
                (Some(h), _) => Some(Limit {
                    value: level_now + h,
                    name: "commit headroom".into(),
                    assumption: bitness.assumption(),
                    exhaustion: None,
                }),
                (None, Some(space)) => Some(address_space_limit(space)),
                (None, None) => None,
            }
        }
        Counter::HandleCount => Some(Limit {
            value: HANDLE_ALERT,
            name: "handle alert threshold".into(),
            assumption: None,
            exhaustion: Some(HANDLE_HARD),
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
        let b32 = Bitness::of(Some(1.5 * GB), None);
        assert_eq!(b32, Bitness::Assumed32);
        let l = limit_for(Counter::VirtualBytes, 1.0 * GB, Some(1.5 * GB), None, &b32).unwrap();
        assert_eq!(l.value, 2.0 * GB);
        assert!(l.assumption.unwrap().contains("assumed a 32-bit process"));
        let l = limit_for(Counter::VirtualBytes, 2.5 * GB, Some(2.5 * GB), None, &b32).unwrap();
        assert_eq!(l.value, 3.0 * GB);
        let proven = Bitness::of(Some(5e9), None);
        assert_eq!(proven, Bitness::Proven64);
        assert!(limit_for(Counter::VirtualBytes, 5e9, Some(5e9), None, &proven).is_none());
        let pb = limit_for(Counter::PrivateBytes, 1e9, Some(8e9), Some(3e9), &proven).unwrap();
        assert_eq!((pb.value, pb.assumption), (4e9, None));
    }

    #[test]
    fn a_process_on_a_64_bit_machine_runs_into_the_commit_headroom() {
        // The bundled thirdparty sample: 1.2 GB private, 4.2 GB of commit headroom, Virtual
        // Bytes under 4 GB, on a machine whose processes show Windows Server 2019 or later.
        let on_x64 = Bitness::of(Some(3.0 * GB), Some("the Registry process"));
        let pb = limit_for(
            Counter::PrivateBytes,
            1.2 * GB,
            Some(3.0 * GB),
            Some(4.2 * GB),
            &on_x64,
        )
        .unwrap();
        assert_eq!(pb.value, 5.4 * GB);
        assert!(pb.name.starts_with("commit headroom"));
        assert!(pb.assumption.unwrap().contains("the Registry process"));
        // Without that evidence it is a 32-bit process: 2 GB before the commit runs out.
        let pb = limit_for(
            Counter::PrivateBytes,
            1.2 * GB,
            Some(1.5 * GB),
            Some(4.2 * GB),
            &Bitness::Assumed32,
        )
        .unwrap();
        assert_eq!(pb.value, 2.0 * GB);
        assert!(pb.name.contains("32-bit"));
    }

    #[test]
    fn handles_have_one_threshold() {
        let l = limit_for(Counter::HandleCount, 900.0, None, None, &Bitness::Assumed32).unwrap();
        assert_eq!(l.value, 16_384.0);
        assert_eq!(
            (l.name.as_str(), l.exhaustion),
            ("handle alert threshold", Some(16_777_216.0))
        );
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
