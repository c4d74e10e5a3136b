//! The one vocabulary the stages share: the process and system-wide [`Counter`]s perfleak
//! analyses, the
//! [`Unit`] a person reads them in, and the [`Shape`] of a series. Serialised exactly as the
//! strings report.json has always carried (`bytes`, `warm-up`, ...). Adding a counter: one arm
//! in [`Counter`] (its canonical name and unit here; a system-wide one also in
//! [`Counter::SYSTEM`] and its area), its localized names in `data/names/counters.toml`, its
//! limit in `analysis/limit.rs` (system-wide: `analysis/system_limit.rs` and
//! `data/limits/system.toml`) and, for the KB, its key in `kb::COUNTER_KEYS`.

use std::fmt;

use serde::Serialize;

/// The unit of a counter's values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    #[default]
    Bytes,
    Handles,
    Threads,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Bytes => "bytes",
            Unit::Handles => "handles",
            Unit::Threads => "threads",
        }
    }
}

/// The counters analysed for leaks: those of one process, then the system-wide ones (the
/// `Memory` object and `Process(_Total)`), whose leaks no single process's counters show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    PrivateBytes,
    VirtualBytes,
    HandleCount,
    ThreadCount,
    PoolPagedBytes,
    PoolNonpagedBytes,
    /// `Memory\Pool Nonpaged Bytes`: the kernel's nonpaged pool (driver leaks).
    SystemPoolNonpaged,
    /// `Memory\Pool Paged Bytes`.
    SystemPoolPaged,
    /// `Memory\Committed Bytes`, run against `Memory\Commit Limit` when logged.
    CommittedBytes,
    /// `Memory\Available Bytes`: a leak shows as this falling.
    AvailableBytes,
    /// `Memory\Available MBytes`: the same in megabytes, analysed in bytes.
    AvailableMBytes,
    /// `Process(_Total)\Handle Count`: every process's handles together.
    TotalHandleCount,
}

/// Which system-wide series a counter is, as a report names it in a finding's `process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SystemArea {
    Pool,
    Commit,
    Memory,
    Handles,
}

impl SystemArea {
    pub fn as_str(self) -> &'static str {
        match self {
            SystemArea::Pool => "pool",
            SystemArea::Commit => "commit",
            SystemArea::Memory => "memory",
            SystemArea::Handles => "handles",
        }
    }

    /// What a finding of this area names as its process: `System (pool)`.
    pub fn process_name(self) -> String {
        format!("System ({})", self.as_str())
    }
}

impl Counter {
    pub const ALL: [Counter; 6] = [
        Counter::PrivateBytes,
        Counter::VirtualBytes,
        Counter::HandleCount,
        Counter::ThreadCount,
        Counter::PoolPagedBytes,
        Counter::PoolNonpagedBytes,
    ];

    /// The canonical English counter name (what the reader maps localized names to).
    pub fn name(self) -> &'static str {
        match self {
            Counter::PrivateBytes => "Private Bytes",
            Counter::VirtualBytes => "Virtual Bytes",
            Counter::HandleCount => "Handle Count",
            Counter::ThreadCount => "Thread Count",
            Counter::PoolPagedBytes => "Pool Paged Bytes",
            Counter::PoolNonpagedBytes | Counter::SystemPoolNonpaged => "Pool Nonpaged Bytes",
            Counter::SystemPoolPaged => "Pool Paged Bytes",
            Counter::CommittedBytes => "Committed Bytes",
            Counter::AvailableBytes => "Available Bytes",
            Counter::AvailableMBytes => "Available MBytes",
            Counter::TotalHandleCount => "Handle Count",
        }
    }

    /// The system-wide counters, each with its object and instance.
    pub const SYSTEM: [(Counter, &'static str, Option<&'static str>); 6] = [
        (Counter::SystemPoolNonpaged, "Memory", None),
        (Counter::SystemPoolPaged, "Memory", None),
        (Counter::CommittedBytes, "Memory", None),
        (Counter::AvailableBytes, "Memory", None),
        (Counter::AvailableMBytes, "Memory", None),
        (Counter::TotalHandleCount, "Process", Some("_Total")),
    ];

    /// The analysed process counter of a canonical name, in any case.
    pub fn from_name(name: &str) -> Option<Counter> {
        Counter::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The system-wide counter of a canonical (object, instance, counter), in any case.
    pub fn system(object: &str, instance: Option<&str>, counter: &str) -> Option<Counter> {
        Counter::SYSTEM
            .into_iter()
            .find(|(c, o, i)| {
                o.eq_ignore_ascii_case(object)
                    && match (i, instance) {
                        (None, None) => true,
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                        _ => false,
                    }
                    && c.name().eq_ignore_ascii_case(counter)
            })
            .map(|(c, _, _)| c)
    }

    /// The system-wide series this counter is, `None` for a process counter.
    pub fn system_area(self) -> Option<SystemArea> {
        match self {
            Counter::SystemPoolNonpaged | Counter::SystemPoolPaged => Some(SystemArea::Pool),
            Counter::CommittedBytes => Some(SystemArea::Commit),
            Counter::AvailableBytes | Counter::AvailableMBytes => Some(SystemArea::Memory),
            Counter::TotalHandleCount => Some(SystemArea::Handles),
            _ => None,
        }
    }

    pub fn is_system(self) -> bool {
        self.system_area().is_some()
    }

    /// A leak shows as this counter falling (memory left), not growing.
    pub fn falls(self) -> bool {
        matches!(self, Counter::AvailableBytes | Counter::AvailableMBytes)
    }

    /// What one logged value is in the counter's [`Unit`] (`Available MBytes` is analysed
    /// and reported in bytes).
    pub fn scale(self) -> f64 {
        match self {
            Counter::AvailableMBytes => 1024.0 * 1024.0,
            _ => 1.0,
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Counter::HandleCount | Counter::TotalHandleCount => Unit::Handles,
            Counter::ThreadCount => Unit::Threads,
            _ => Unit::Bytes,
        }
    }
}

/// The shape of a series' growth (or of its absence), as the analysis classed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    Linear,
    Stepwise,
    LateOnset,
    RestartMasked,
    /// Sharp drops that are memory freed inside one life (a garbage collection, a trim), not
    /// restarts: the teeth of a collected heap.
    Sawtooth,
    WarmUp,
    LevelShift,
    GrowthStopped,
    Burst,
    Cyclic,
    Flat,
    Decreasing,
    MinorGrowth,
    Confined,
    /// Growth that the workload (the log's load counters) explains.
    LoadDriven,
    #[default]
    Unknown,
}

impl Shape {
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Linear => "linear",
            Shape::Stepwise => "stepwise",
            Shape::LateOnset => "late-onset",
            Shape::RestartMasked => "restart-masked",
            Shape::Sawtooth => "sawtooth",
            Shape::WarmUp => "warm-up",
            Shape::LevelShift => "level-shift",
            Shape::GrowthStopped => "growth-stopped",
            Shape::Burst => "burst",
            Shape::Cyclic => "cyclic",
            Shape::Flat => "flat",
            Shape::Decreasing => "decreasing",
            Shape::MinorGrowth => "minor-growth",
            Shape::Confined => "confined",
            Shape::LoadDriven => "load-driven",
            Shape::Unknown => "unknown",
        }
    }
}

macro_rules! text_like {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Compares with the serialised name (`shape == "warm-up"`), for tests and scripts.
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

text_like!(Unit);
text_like!(Shape);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_serialise_as_report_json_has_them() {
        for shape in [Shape::LateOnset, Shape::RestartMasked, Shape::Unknown] {
            assert_eq!(
                serde_json::to_string(&shape).unwrap(),
                format!("\"{}\"", shape.as_str())
            );
        }
        assert_eq!(
            serde_json::to_string(&Unit::Handles).unwrap(),
            "\"handles\""
        );
        for c in Counter::ALL {
            assert_eq!(Counter::from_name(&c.name().to_uppercase()), Some(c));
        }
        assert_eq!(Counter::from_name("Working Set"), None);
        assert_eq!(Counter::HandleCount.unit(), Unit::Handles);
        for (c, object, instance) in Counter::SYSTEM {
            assert_eq!(Counter::system(object, instance, c.name()), Some(c));
            assert!(c.is_system());
        }
        assert_eq!(
            Counter::system("Memory", None, "available mbytes"),
            Some(Counter::AvailableMBytes)
        );
        assert_eq!(
            Counter::system("Process", Some("svchost"), "Handle Count"),
            None
        );
        assert_eq!(Counter::TotalHandleCount.unit(), Unit::Handles);
        assert!(Counter::AvailableBytes.falls() && !Counter::CommittedBytes.falls());
    }
}
