//! Joining the files a collector set rolls over into (same machine, same columns, consecutive
//! times) back into one timeline, so a leak that spans segments is seen whole. Near-linear in
//! the segments: groups are found by a hash of their columns, and each run keeps the median of
//! its sampling steps up to date as segments join it instead of sorting all its steps again.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use chrono::NaiveDateTime;

use super::log::PerfLog;

/// Groups logs with identical header columns, orders each group by first timestamp and
/// concatenates runs of consecutive segments. A segment that overlaps the previous one or
/// starts long after it ends stays separate, with a warning saying why.
pub fn join_segments(logs: Vec<PerfLog>) -> Vec<PerfLog> {
    let mut groups: Vec<Vec<PerfLog>> = Vec::new();
    let mut by_columns: HashMap<u64, Vec<usize>> = HashMap::new();
    for log in logs {
        let candidates = by_columns.entry(columns_hash(&log)).or_default();
        match candidates
            .iter()
            .copied()
            .find(|&g| same_columns(&groups[g][0], &log))
        {
            Some(g) => groups[g].push(log),
            None => {
                candidates.push(groups.len());
                groups.push(vec![log]);
            }
        }
    }

    let mut out = Vec::new();
    for mut group in groups {
        group.sort_by_key(|l| l.timestamps.first().copied());
        // Each segment extends the run it continues; a duplicate or overlapping copy starts a
        // run of its own instead of breaking the chain for the segments after it.
        let mut runs: Vec<Run> = Vec::new();
        // Runs that may still be continued, by last timestamp (ties: the older run first). A
        // segment looks only at runs ending before it starts, nearest first; a run refused for
        // the silence after it is retired (later segments start later still), so each segment
        // costs a look-up, not a pass over every run: 20,000 copies of one log took minutes.
        let mut open: BTreeMap<(NaiveDateTime, Reverse<usize>), ()> = BTreeMap::new();
        for mut next in group {
            let mut next_interval = None;
            let mut target = None;
            let mut retired = Vec::new();
            if let Some(&start) = next.timestamps.first() {
                for (&(end, Reverse(i)), _) in open.range(..(start, Reverse(usize::MAX))).rev() {
                    match continues(&mut runs[i], &next, &mut next_interval) {
                        Ok(gap) => {
                            target = Some((i, end, gap));
                            break;
                        }
                        Err(_) => retired.push((end, Reverse(i))),
                    }
                }
            }
            for key in retired {
                open.remove(&key);
            }
            match target {
                Some((i, end, gap)) => {
                    open.remove(&(end, Reverse(i)));
                    runs[i].append(next, gap);
                    if let Some(&end) = runs[i].log.timestamps.last() {
                        open.insert((end, Reverse(i)), ());
                    }
                }
                None => {
                    // Why it does not continue the newest run, the one a reader looks for.
                    if let Some(last) = runs.last_mut() {
                        if let Err(why) = continues(last, &next, &mut next_interval) {
                            next.warnings.push(format!(
                                "{}: not joined to {}: {}",
                                next.source.path,
                                last.log.source.segments.last().map_or("", String::as_str),
                                why.words()
                            ));
                        }
                    }
                    if let Some(&end) = next.timestamps.last() {
                        open.insert((end, Reverse(runs.len())), ());
                    }
                    runs.push(Run {
                        log: next,
                        steps: None,
                    });
                }
            }
        }
        out.extend(runs.into_iter().map(|run| run.log));
    }
    out
}

fn columns_hash(log: &PerfLog) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    log.all_paths.hash(&mut hasher);
    for column in &log.columns {
        column.path.hash(&mut hasher);
    }
    hasher.finish()
}

fn same_columns(a: &PerfLog, b: &PerfLog) -> bool {
    a.all_paths == b.all_paths
        && a.columns.len() == b.columns.len()
        && a.columns
            .iter()
            .zip(&b.columns)
            .all(|(x, y)| x.path == y.path)
}

/// A run of joined segments and, once asked for, the median of its steps.
struct Run {
    log: PerfLog,
    steps: Option<MedianSteps>,
}

impl Run {
    /// [`PerfLog::interval_seconds`] of the run, kept up to date as segments join.
    fn interval(&mut self) -> Option<f64> {
        let elapsed = &self.log.elapsed_seconds;
        self.steps
            .get_or_insert_with(|| {
                let mut steps = MedianSteps::default();
                steps.add_steps(elapsed);
                steps
            })
            .median()
    }

    fn append(&mut self, next: PerfLog, gap: f64) {
        let run = &mut self.log;
        let before = run.elapsed_seconds.len();
        let offset = run.elapsed_seconds.last().copied().unwrap_or(0.0) + gap;
        run.elapsed_seconds
            .extend(next.elapsed_seconds.iter().map(|e| e + offset));
        run.timestamps.extend(next.timestamps);
        for (column, more) in run.columns.iter_mut().zip(next.columns) {
            column.values.append(&more.values);
        }
        run.warnings.extend(next.warnings);
        run.source.segments.extend(next.source.segments);
        if let Some(steps) = &mut self.steps {
            // The steps the joined values make, computed from them as a full sort would.
            steps.add_steps(&run.elapsed_seconds[before.saturating_sub(1)..]);
        }
    }
}

/// Why a segment does not continue a run; worded only when a message needs it.
enum Refusal {
    NoSamples,
    Overlaps(NaiveDateTime, NaiveDateTime),
    Gap(f64, f64),
}

impl Refusal {
    fn words(&self) -> String {
        match self {
            Refusal::NoSamples => "a segment has no samples".into(),
            Refusal::Overlaps(start, end) => {
                format!("it starts at {start}, before the previous segment ends ({end})")
            }
            Refusal::Gap(gap, interval) => format!(
                "it starts {gap:.0} s after the previous segment ends (interval {interval:.0} s)"
            ),
        }
    }
}

/// Seconds between the end of `run` and the start of `next` when `next` continues it;
/// `next_interval` caches `next`'s own interval across the runs tried.
fn continues(
    run: &mut Run,
    next: &PerfLog,
    next_interval: &mut Option<Option<f64>>,
) -> Result<f64, Refusal> {
    let (Some(end), Some(start)) = (run.log.timestamps.last().copied(), next.timestamps.first())
    else {
        return Err(Refusal::NoSamples);
    };
    let gap = (*start - end).num_milliseconds() as f64 / 1000.0;
    let interval = run
        .interval()
        .or_else(|| *next_interval.get_or_insert_with(|| next.interval_seconds()))
        .unwrap_or(1.0);
    if gap <= 0.0 {
        return Err(Refusal::Overlaps(*start, end));
    }
    // A rollover loses at most a few samples; a longer silence is a different run.
    if gap > interval * 5.0 + 1.0 {
        return Err(Refusal::Gap(gap, interval));
    }
    Ok(gap)
}

/// An `f64` ordered by `total_cmp`, for the counts.
#[derive(Clone, Copy, PartialEq)]
struct Step(f64);

impl Eq for Step {}

impl PartialOrd for Step {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Step {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The positive finite steps of a timeline, split into a lower and an upper half so that the
/// step [`PerfLog::interval_seconds`] picks (index len/2 in sorted order) is the upper's least.
/// Each half counts its distinct steps: a timeline holds a few distinct steps millions of
/// times, and heaps of millions of equal steps made joining 10x the segments take 20x longer
/// (cache misses on every push), where counts stay in cache.
#[derive(Default)]
struct MedianSteps {
    lower: Counted,
    upper: Counted,
}

/// A multiset of steps: each distinct step and how often it occurs.
#[derive(Default)]
struct Counted {
    counts: BTreeMap<Step, usize>,
    len: usize,
}

impl Counted {
    fn insert(&mut self, step: Step) {
        *self.counts.entry(step).or_default() += 1;
        self.len += 1;
    }

    /// Removes one of the least (`least`) or greatest steps.
    fn take(&mut self, least: bool) -> Step {
        let mut entry = if least {
            self.counts.first_entry()
        } else {
            self.counts.last_entry()
        }
        .expect("not empty");
        let step = *entry.key();
        *entry.get_mut() -= 1;
        if *entry.get() == 0 {
            entry.remove();
        }
        self.len -= 1;
        step
    }

    fn least(&self) -> Option<Step> {
        self.counts.keys().next().copied()
    }
}

impl MedianSteps {
    fn add_steps(&mut self, elapsed: &[f64]) {
        for w in elapsed.windows(2) {
            let d = w[1] - w[0];
            if d.is_finite() && d > 0.0 {
                self.add(d);
            }
        }
    }

    fn add(&mut self, step: f64) {
        let step = Step(step);
        match self.upper.least() {
            Some(least) if step < least => self.lower.insert(step),
            // The upper half is empty only while the lower one is.
            _ => self.upper.insert(step),
        }
        let half = (self.lower.len + self.upper.len) / 2;
        while self.lower.len > half {
            let top = self.lower.take(false);
            self.upper.insert(top);
        }
        while self.lower.len < half {
            let least = self.upper.take(true);
            self.lower.insert(least);
        }
    }

    fn median(&self) -> Option<f64> {
        self.upper.least().map(|step| step.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_steps_pick_what_a_sort_picks() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..200 {
            let mut elapsed = Vec::new();
            let mut t = 0.0;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Repeats, zero and backward steps among them.
                t += (state % 7) as f64 - 1.0;
                elapsed.push(t);
            }
            let mut steps = MedianSteps::default();
            // Added in pieces, as segments join.
            for chunk in (0..elapsed.len()).collect::<Vec<_>>().chunks(17) {
                let from = chunk[0].saturating_sub(1);
                steps.add_steps(&elapsed[from..=chunk[chunk.len() - 1]]);
            }
            let mut sorted: Vec<f64> = elapsed
                .windows(2)
                .map(|w| w[1] - w[0])
                .filter(|d| d.is_finite() && *d > 0.0)
                .collect();
            sorted.sort_by(|a, b| a.total_cmp(b));
            assert_eq!(
                steps.median(),
                sorted.get(sorted.len() / 2).copied(),
                "{len}"
            );
        }
    }
}
