//! Block aggregation: a lifetime of any length becomes at most 180 blocks of equal duration
//! (median level, minimum floor, maximum peak), so the O(m^2) rank tests stay cheap and short
//! bursts lose their weight. Short lifetimes are Hampel-filtered instead.

use super::stats::robust::{hampel, min_max_median};

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
    let mut keys = Vec::new();
    let mut flush = |run: &[f64], time_sum: f64, out: &mut Blocks| {
        let Some((floor, peak, level)) = min_max_median(run, &mut keys) else {
            return;
        };
        out.hours.push(time_sum / run.len() as f64);
        out.floor.push(floor);
        out.peak.push(peak);
        out.level.push(level);
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
    fn block_summaries_are_plain_folds_and_sorted_middles() {
        // Uneven sample times (two per block or more), signed zeros, a NaN and infinities.
        let hours: Vec<f64> = (0..2000).map(|i| (i as f64).powf(1.1) / 60.0).collect();
        let values: Vec<f64> = (0..2000)
            .map(|i| match i % 13 {
                0 => -0.0,
                1 => 0.0,
                5 if i % 7 == 0 => f64::NAN,
                6 if i % 11 == 0 => f64::INFINITY,
                7 if i % 17 == 0 => f64::NEG_INFINITY,
                k => (i as f64).sqrt() * if k % 2 == 0 { -1.0 } else { 1.0 },
            })
            .collect();
        let b = aggregate(&hours, &values, 180);
        let (t0, t1) = (hours[0], hours[1999]);
        let width = (t1 - t0) / 180.0;
        let block_of = |h: f64| (((h - t0) / width) as usize).min(179);
        let mut start = 0;
        let mut at = 0;
        while start < values.len() {
            let end = (start..values.len())
                .find(|&i| block_of(hours[i]) != block_of(hours[start]))
                .unwrap_or(values.len());
            let run = &values[start..end];
            let mut sorted = run.to_vec();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len();
            let middle = if n % 2 == 1 {
                sorted[n / 2]
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
            };
            let time_sum: f64 = hours[start..end].iter().sum();
            assert_eq!(b.level[at].to_bits(), middle.to_bits(), "block {at}");
            let floor = run.iter().copied().fold(f64::INFINITY, f64::min);
            let peak = run.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(b.floor[at].to_bits(), floor.to_bits());
            assert_eq!(b.peak[at].to_bits(), peak.to_bits());
            assert_eq!(b.hours[at].to_bits(), (time_sum / n as f64).to_bits());
            start = end;
            at += 1;
        }
        assert_eq!(at, b.level.len());
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
