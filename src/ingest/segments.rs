//! Joining the files a collector set rolls over into (same machine, same columns, consecutive
//! times) back into one timeline, so a leak that spans segments is seen whole.

use super::log::PerfLog;

/// Groups logs with identical header columns, orders each group by first timestamp and
/// concatenates runs of consecutive segments. A segment that overlaps the previous one or
/// starts long after it ends stays separate, with a warning saying why.
pub fn join_segments(logs: Vec<PerfLog>) -> Vec<PerfLog> {
    let mut groups: Vec<Vec<PerfLog>> = Vec::new();
    for log in logs {
        match groups.iter_mut().find(|g| same_columns(&g[0], &log)) {
            Some(group) => group.push(log),
            None => groups.push(vec![log]),
        }
    }

    let mut out = Vec::new();
    for mut group in groups {
        group.sort_by_key(|l| l.timestamps.first().copied());
        // Each segment extends the run it continues; a duplicate or overlapping copy starts a
        // run of its own instead of breaking the chain for the segments after it.
        let mut runs: Vec<PerfLog> = Vec::new();
        for mut next in group {
            let mut reason = None;
            let mut target = None;
            for (i, run) in runs.iter().enumerate() {
                match continues(run, &next) {
                    Ok(gap) => {
                        target = Some((i, gap));
                        break;
                    }
                    Err(why) => {
                        reason = Some(format!(
                            "{}: not joined to {}: {why}",
                            next.source.path,
                            run.source.segments.last().map_or("", String::as_str)
                        ))
                    }
                }
            }
            match target {
                Some((i, gap)) => append(&mut runs[i], next, gap),
                None => {
                    next.warnings.extend(reason);
                    runs.push(next);
                }
            }
        }
        out.extend(runs);
    }
    out
}

fn same_columns(a: &PerfLog, b: &PerfLog) -> bool {
    a.all_paths == b.all_paths
        && a.columns.len() == b.columns.len()
        && a.columns
            .iter()
            .zip(&b.columns)
            .all(|(x, y)| x.path == y.path)
}

/// Seconds between the end of `run` and the start of `next` when `next` continues it.
fn continues(run: &PerfLog, next: &PerfLog) -> Result<f64, String> {
    let (Some(end), Some(start)) = (run.timestamps.last(), next.timestamps.first()) else {
        return Err("a segment has no samples".into());
    };
    let gap = (*start - *end).num_milliseconds() as f64 / 1000.0;
    let interval = run
        .interval_seconds()
        .or_else(|| next.interval_seconds())
        .unwrap_or(1.0);
    if gap <= 0.0 {
        return Err(format!(
            "it starts at {start}, before the previous segment ends ({end})"
        ));
    }
    // A rollover loses at most a few samples; a longer silence is a different run.
    if gap > interval * 5.0 + 1.0 {
        return Err(format!(
            "it starts {gap:.0} s after the previous segment ends (interval {interval:.0} s)"
        ));
    }
    Ok(gap)
}

fn append(run: &mut PerfLog, next: PerfLog, gap: f64) {
    let offset = run.elapsed_seconds.last().copied().unwrap_or(0.0) + gap;
    run.elapsed_seconds
        .extend(next.elapsed_seconds.iter().map(|e| e + offset));
    run.timestamps.extend(next.timestamps);
    for (column, more) in run.columns.iter_mut().zip(next.columns) {
        column.values.append(&more.values);
    }
    run.warnings.extend(next.warnings);
    run.source.segments.extend(next.source.segments);
}
