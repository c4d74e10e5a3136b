//! Block aggregation: a lifetime of any length becomes at most 180 blocks of equal duration
//! (median level, minimum floor, maximum peak), so the O(m^2) rank tests stay cheap and short
//! bursts lose their weight. Short lifetimes are Hampel-filtered instead.

use super::stats::robust::{hampel, median_of_finite};

/// 180 blocks detect as well as 240 on the tune split (recall 0.912 vs 0.913, false alarms
/// 5.2 vs 5.5 per 1000) at 0.6x the cost of the pairwise tests.
pub const MAX_BLOCKS: usize = 180;

/// A block-aggregated lifetime.
#[derive(Debug, Clone, Default)]
pub struct Blocks {
    /// Mean sample time of each block, hours since the log's first sample.
    pub hours: Vec<f64>,
    /// Block medians (Hampel-filtered samples when not aggregated).
    pub level: Vec<f64>,
    /// Block minima: the post-GC floor of a sawtooth.
    pub floor: Vec<f64>,
    /// Block maxima.
    pub peak: Vec<f64>,
    /// Whether samples were pooled into blocks.
    pub aggregated: bool,
}

/// Aggregate samples `values` at increasing `hours` into at most `max_blocks` blocks.
pub fn aggregate(hours: &[f64], values: &[f64], max_blocks: usize) -> Blocks {
    let n = values.len().min(hours.len());
    if n == 0 {
        return Blocks::default();
    }
    if n <= max_blocks {
        return Blocks {
            hours: hours[..n].to_vec(),
            level: hampel(&values[..n], 3, 3.0),
            floor: values[..n].to_vec(),
            peak: values[..n].to_vec(),
            aggregated: false,
        };
    }
    let (t0, t1) = (hours[0], hours[n - 1]);
    let width = (t1 - t0) / max_blocks as f64;
    let mut out = Blocks {
        hours: Vec::with_capacity(max_blocks),
        level: Vec::with_capacity(max_blocks),
        floor: Vec::with_capacity(max_blocks),
        peak: Vec::with_capacity(max_blocks),
        aggregated: true,
    };
    // Times are in order, so each block is a run of consecutive samples: summarise it in place.
    let flush = |run: &[f64], time_sum: f64, out: &mut Blocks| {
        if run.is_empty() {
            return;
        }
        let len = run.len() as f64;
        out.hours.push(time_sum / len);
        out.floor
            .push(run.iter().copied().fold(f64::INFINITY, f64::min));
        out.peak
            .push(run.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        if let Some(m) = median_of_finite(run) {
            out.level.push(m);
        }
    };
    let mut time_sum = 0.0;
    let mut current = 0usize;
    let mut start = 0usize;
    for i in 0..n {
        let b = if width > 0.0 {
            (((hours[i] - t0) / width) as usize).min(max_blocks - 1)
        } else {
            0
        };
        if b != current {
            flush(&values[start..i], time_sum, &mut out);
            time_sum = 0.0;
            start = i;
            current = b;
        }
        time_sum += hours[i];
    }
    flush(&values[start..n], time_sum, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_to_at_most_max_blocks_with_floor_and_peak() {
        let hours: Vec<f64> = (0..1000).map(|i| i as f64 / 60.0).collect();
        let values: Vec<f64> = (0..1000).map(|i| (i % 10) as f64).collect();
        let b = aggregate(&hours, &values, 100);
        assert!(b.aggregated);
        assert_eq!(b.level.len(), 100);
        assert!(b.floor.iter().all(|&f| f == 0.0));
        assert!(b.peak.iter().all(|&p| p == 9.0));
        assert!(b.hours.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn short_series_is_filtered_not_pooled() {
        let hours: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let mut values = vec![3.0; 50];
        values[20] = 300.0;
        let b = aggregate(&hours, &values, 240);
        assert!(!b.aggregated);
        assert_eq!(b.level.len(), 50);
        assert_eq!(b.level[20], 3.0);
    }
}
