//! The one vocabulary the stages share: the process [`Counter`]s perfleak analyses, the
//! [`Unit`] a person reads them in, and the [`Shape`] of a series. Serialised exactly as the
//! strings report.json has always carried (`bytes`, `warm-up`, ...). Adding a counter: one arm
//! in [`Counter`] (its canonical name and unit here), its localized names in
//! `data/names/counters.toml`, its limit in `analysis/limit.rs` and, for the KB, its key in
//! `kb::COUNTER_KEYS`.

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

/// The process counters analysed for leaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    PrivateBytes,
    VirtualBytes,
    HandleCount,
    ThreadCount,
    PoolPagedBytes,
    PoolNonpagedBytes,
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
            Counter::PoolNonpagedBytes => "Pool Nonpaged Bytes",
        }
    }

    /// The analysed counter of a canonical name, in any case.
    pub fn from_name(name: &str) -> Option<Counter> {
        Counter::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    pub fn unit(self) -> Unit {
        match self {
            Counter::HandleCount => Unit::Handles,
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
    WarmUp,
    LevelShift,
    GrowthStopped,
    Burst,
    Cyclic,
    Flat,
    Decreasing,
    MinorGrowth,
    Confined,
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
            Shape::WarmUp => "warm-up",
            Shape::LevelShift => "level-shift",
            Shape::GrowthStopped => "growth-stopped",
            Shape::Burst => "burst",
            Shape::Cyclic => "cyclic",
            Shape::Flat => "flat",
            Shape::Decreasing => "decreasing",
            Shape::MinorGrowth => "minor-growth",
            Shape::Confined => "confined",
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
    }
}
