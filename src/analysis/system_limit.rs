//! What the system-wide series run into: the pool maxima of the log's Windows era and
//! architecture (`data/limits/system.toml`), the logged commit limit, and the low-memory alert
//! threshold for memory left. The era is chosen from the log's evidence and stated.

use std::sync::OnceLock;

use super::limit::Limit;
use crate::format;
use crate::vocab::{Counter, Unit};

#[derive(serde::Deserialize)]
struct Table {
    pool: Vec<PoolEntry>,
    available: Named,
    commit: Named,
}

#[derive(serde::Deserialize)]
struct PoolEntry {
    counter: String,
    system: String,
    kind: String,
    value: f64,
    from_year: i32,
    until_year: i32,
}

#[derive(serde::Deserialize)]
struct Named {
    value: Option<f64>,
    name: String,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Part of the binary and covered by tests: a parse failure is a build bug.
        toml::from_str(include_str!("../../data/limits/system.toml"))
            .expect("data/limits/system.toml is valid")
    })
}

/// What the log tells about the machine of a system series.
pub(crate) struct Machine<'a> {
    /// The largest value of the series (a pool cannot pass its maximum).
    pub observed_max: f64,
    /// The last logged `Memory\Commit Limit`.
    pub commit_limit: Option<f64>,
    /// What shows the machine to be 64-bit, in words.
    pub x64: Option<&'a str>,
    /// The year of the log's first sample.
    pub year: Option<i32>,
}

/// The limit a system-wide series runs into, in the counter's own terms (bytes, handles);
/// `None` when there is none to forecast against.
pub(crate) fn limit_for(kind: Counter, m: &Machine) -> Option<Limit> {
    let t = table();
    match kind {
        Counter::SystemPoolNonpaged => pool_limit("nonpaged", m),
        Counter::SystemPoolPaged => pool_limit("paged", m),
        Counter::CommittedBytes => m.commit_limit.filter(|v| *v > 0.0).map(|value| Limit {
            value,
            name: t.commit.name.clone(),
            assumption: None,
            exhaustion: None,
        }),
        Counter::AvailableBytes | Counter::AvailableMBytes => Some(Limit {
            value: t.available.value.unwrap_or(0.0),
            name: t.available.name.clone(),
            assumption: None,
            exhaustion: None,
        }),
        // Handles of all processes together have no limit of their own: they live in the
        // paged pool, whose series runs into its maximum.
        _ => None,
    }
}

fn pool_limit(counter: &str, m: &Machine) -> Option<Limit> {
    let entries = table().pool.iter().filter(|e| e.counter == counter);
    let candidates: Vec<&PoolEntry> = match m.x64 {
        Some(_) => entries.filter(|e| e.system == "x64").collect(),
        None => entries
            .filter(|e| {
                m.year
                    .is_none_or(|y| (e.from_year..=e.until_year).contains(&y))
            })
            .filter(|e| e.value > m.observed_max)
            .collect(),
    };
    let chosen = candidates
        .into_iter()
        .min_by(|a, b| a.value.total_cmp(&b.value))?;
    let what = format!("{counter} pool");
    let name = if chosen.kind == "alert" {
        format!("{} alert threshold of the {what}", chosen.system)
    } else {
        format!("{what} maximum of {}", chosen.system)
    };
    let assumption = match m.x64 {
        Some(evidence) => format!("a 64-bit machine ({evidence}): the x64 pool has no fixed maximum below RAM, so this is an alert threshold"),
        None => format!(
            "assumed {}: the log names no Windows version; of the Windows {}whose {what} holds the {} logged, its limit is the nearest",
            chosen.system,
            m.year
                .map(|y| format!("in service in {y} "))
                .unwrap_or_default(),
            format::quantity(Some(m.observed_max), &Unit::Bytes),
        ),
    };
    Some(Limit {
        value: chosen.value,
        name,
        assumption: Some(assumption),
        exhaustion: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: f64 = 1024.0 * 1024.0;

    fn machine(observed_max: f64, year: i32) -> Machine<'static> {
        Machine {
            observed_max,
            commit_limit: None,
            x64: None,
            year: Some(year),
        }
    }

    #[test]
    fn the_era_decides_the_pool_maximum() {
        // An NT 4.0-era log with a small pool: the 128 MB of Q126402.
        let l = limit_for(Counter::SystemPoolNonpaged, &machine(40.0 * MB, 1999)).unwrap();
        assert_eq!(l.value, 128.0 * MB);
        assert!(l.name.contains("NT 3.5 / 4.0"), "{}", l.name);
        assert!(l
            .assumption
            .unwrap()
            .contains("assumed Windows NT 3.5 / 4.0"));
        // 2003-era, 180 MB: 256 MB. Past that, only a 32-bit Vista or later, or x64, fits.
        let l = limit_for(Counter::SystemPoolNonpaged, &machine(180.0 * MB, 2008)).unwrap();
        assert_eq!(l.value, 256.0 * MB);
        let l = limit_for(Counter::SystemPoolPaged, &machine(300.0 * MB, 2001)).unwrap();
        assert_eq!(l.value, 470.0 * MB);
        // A modern log: the x64 alert threshold, labelled as one.
        let l = limit_for(Counter::SystemPoolNonpaged, &machine(180.0 * MB, 2026)).unwrap();
        assert!(l.name.contains("alert threshold"), "{}", l.name);
        let on_x64 = Machine {
            x64: Some("the Registry process"),
            ..machine(40.0 * MB, 2010)
        };
        let l = limit_for(Counter::SystemPoolPaged, &on_x64).unwrap();
        assert_eq!(l.value, 1024.0 * MB);
    }

    #[test]
    fn commit_runs_into_the_logged_limit_only() {
        assert!(limit_for(Counter::CommittedBytes, &machine(1e9, 2020)).is_none());
        let logged = Machine {
            commit_limit: Some(8e9),
            ..machine(1e9, 2020)
        };
        assert_eq!(
            limit_for(Counter::CommittedBytes, &logged).unwrap().value,
            8e9
        );
        assert!(limit_for(Counter::TotalHandleCount, &logged).is_none());
        let l = limit_for(Counter::AvailableMBytes, &logged).unwrap();
        assert_eq!(l.value, 64.0 * MB);
    }
}
