//! Process identity: split one instance's series into process lifetimes where `ID Process`
//! changes, `Elapsed Time` falls, the instance vanishes and returns, or the value drops sharply,
//! and notice `#N` renumbering (the same instance label passing between two processes).

use super::stats::lanes::extremes;
use super::stats::robust::{mad_sigma, median, median_of_finite};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// Blank cells in a row still read as one process (missed samples).
const MAX_MISSED_SAMPLES: usize = 3;

/// Why a new lifetime starts at a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutReason {
    PidChanged,
    ElapsedFell,
    Reappeared,
    SharpDrop,
}

impl CutReason {
    pub fn describe(self) -> &'static str {
        match self {
            CutReason::PidChanged => "ID Process changed",
            CutReason::ElapsedFell => "Elapsed Time fell",
            CutReason::Reappeared => "instance vanished and returned",
            CutReason::SharpDrop => "sharp drop (restart or trim)",
        }
    }
}

/// The samples of one lifetime (finite values only) as runs of consecutive sample indices, in
/// time order: a few ranges instead of one index per sample, which the whole log's series hold
/// until the log-wide decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifetime {
    runs: Vec<Range<usize>>,
}

impl Lifetime {
    /// Sample indices in time order.
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.runs.iter().flat_map(|r| r.clone())
    }

    /// The lifetime's samples of `values`, in order: copied run by run into a vector sized
    /// once (collecting [`Self::indices`] would grow it a dozen times over 10,000 samples).
    pub fn gather(&self, values: &[f64]) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.runs.iter().map(|r| r.len()).sum());
        for r in &self.runs {
            out.extend_from_slice(&values[r.clone()]);
        }
        out
    }

    /// Runs of consecutive sample indices, in time order, none empty or touching the next.
    pub fn runs(&self) -> &[Range<usize>] {
        &self.runs
    }

    /// A lifetime of one run of samples.
    fn run(samples: Range<usize>) -> Lifetime {
        Lifetime {
            runs: Vec::from([samples]),
        }
    }

    /// The lifetime as one range when it has no gap: its samples can be borrowed, not copied.
    pub fn contiguous(&self) -> Option<Range<usize>> {
        match self.runs.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        }
    }

    /// Take in the samples of `other`, which shares none with `self`.
    fn merge(&mut self, other: Lifetime) {
        // Runs come in time order: appending after the last one needs no sort (a PID coming
        // back at every other sample merged by sorting was quadratic).
        let after = match (self.runs.last(), other.runs.first()) {
            (Some(last), Some(first)) => last.end <= first.start,
            _ => true,
        };
        if after {
            for r in other.runs {
                match self.runs.last_mut() {
                    Some(last) if last.end == r.start => last.end = r.end,
                    _ => self.runs.push(r),
                }
            }
            return;
        }
        self.runs.extend(other.runs);
        self.runs.sort_unstable_by_key(|r| r.start);
        let mut joined: Vec<Range<usize>> = Vec::with_capacity(self.runs.len());
        for r in self.runs.drain(..) {
            match joined.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ => joined.push(r),
            }
        }
        self.runs = joined;
    }
}

/// The lifetimes of one series.
#[derive(Debug, Clone, Default)]
pub struct Lifetimes {
    /// Each lifetime's samples.
    pub lifetimes: Vec<Lifetime>,
    /// Sample index where each new lifetime starts, with the reason.
    pub cuts: Vec<(usize, CutReason)>,
    /// Process IDs in order of first appearance.
    pub pids: Vec<u32>,
    /// The instance label passed between processes (`#N` renumbering), so one label is not one
    /// process.
    pub renumbered: bool,
    /// Recurring sharp drops too close together to be restarts: a garbage-collector sawtooth.
    pub sawtooth_drops: usize,
    /// Robust sigma (MAD) of the changes between consecutive finite samples, when the split
    /// needed it: a lifetime holding every such sample reuses it rather than computing it again.
    pub change_sigma: Option<f64>,
    /// Every sample was read (a number, at a known time): [`change_sigma`](Self::change_sigma),
    /// when computed, is the scale of every change from one sample to the next.
    pub every_sample_read: bool,
    /// Samples where the series dropped sharply and stayed down, with nothing else cutting
    /// there, but which the process's other counters refute as restarts (every one keeps its
    /// level through each): memory freed inside one life, so no cut. The teeth of a sawtooth.
    pub refuted: Vec<usize>,
    /// Samples where the series dropped sharply inside one life that the process's identity
    /// shows (the same `ID Process` either side, or `Elapsed Time` counting on with the clock):
    /// memory freed, not a restart, so no cut; the teeth of a sawtooth as much as
    /// [`refuted`](Self::refuted) ones are.
    pub kept: Vec<usize>,
    /// What showed the [`kept`](Self::kept) drops to lie inside one life.
    pub kept_by: Option<KeptBy>,
}

/// What shows a sharp drop the split did not cut at to lie inside one life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptBy {
    /// The same `ID Process` on either side.
    Pid,
    /// `Elapsed Time` counting on with the clock through it.
    Elapsed,
    /// Sharp drops recurring within hours: a sawtooth (GC, cache trims), not restarts.
    Recurring,
}

impl Lifetimes {
    /// The sharp drops inside one life, in order: those the process's identity shows
    /// ([`kept`](Self::kept)) and those its other counters refute as restarts
    /// ([`refuted`](Self::refuted)). What cuts the series into a sawtooth's teeth.
    pub fn drops_inside(&self) -> Cow<'_, [usize]> {
        match (self.kept.is_empty(), self.refuted.is_empty()) {
            (true, _) => Cow::Borrowed(&self.refuted),
            (false, true) => Cow::Borrowed(&self.kept),
            (false, false) => {
                let mut all = [self.kept.as_slice(), self.refuted.as_slice()].concat();
                all.sort_unstable();
                Cow::Owned(all)
            }
        }
    }
}

/// Whether the process's other counters refute restarts at every one of the given samples
/// (see [`siblings`](super::siblings)).
pub type Refute<'a> = &'a (dyn Fn(&[usize]) -> bool + Sync);

/// Identity columns of the same machine and instance, when logged, and what the process's
/// other counters tell of its sharp drops.
#[derive(Clone, Copy, Default)]
pub struct Identity<'a> {
    pub pid: Option<&'a [f64]>,
    pub elapsed: Option<&'a [f64]>,
    pub others: Option<Refute<'a>>,
}

fn pid_at(identity: &Identity, i: usize) -> Option<u32> {
    let v = *identity.pid?.get(i)?;
    // A PID of 0 belongs to Idle; here it means the cell held no real process.
    (v.is_finite() && v > 0.0 && v <= u32::MAX as f64).then_some(v as u32)
}

/// Whether a drop to `after[0]` holds at the next sample, which stays below `ceiling` (halfway
/// back to the level before). A restarted process starts low; a lone outlier (a misread counter,
/// a spike) is back at the old level at once. Waiting longer than one sample would miss restarts
/// followed by a fast warm-up. A drop at the log's last sample is kept.
fn stays_down(after: &[f64], ceiling: f64) -> bool {
    after.get(1).is_none_or(|&next| next < ceiling)
}

/// Samples per stretch checked at once for a possible jump.
const JUMP_CHUNK: usize = 64;

/// Hand a finished run of samples (later than, and not touching, those it holds) to the
/// lifetime being built.
fn close_run(lifetimes: &mut [Lifetime], run: Option<Range<usize>>) {
    if let (Some(run), Some(life)) = (run, lifetimes.last_mut()) {
        life.runs.push(run);
    }
}

/// Whether valid samples `before` and `now` (sample indices) lie further apart than a few missed
/// samples: a process that vanished and returned, unless a PID proves continuity.
fn absent_too_long(before: usize, now: usize) -> bool {
    now > before + MAX_MISSED_SAMPLES + 1
}

/// The lifetimes of valid samples `valid` (sample indices, ascending) of a series without
/// identity columns: a new one starts after an absence of more than [`MAX_MISSED_SAMPLES`]
/// ([`CutReason::Reappeared`]) and at each of `drops` (positions in `valid`, ascending). Shorter
/// absences only end a run of samples within the lifetime.
fn split_at_gaps_and_drops(valid: &[usize], drops: &[usize], out: &mut Lifetimes) {
    let Some(&first) = valid.first() else {
        return;
    };
    let mut drops = drops.iter().copied().peekable();
    let mut life = Lifetime::default();
    let mut run_start = first;
    for (k, pair) in valid.windows(2).enumerate() {
        let (p, i) = (pair[0], pair[1]);
        let k = k + 1;
        let dropped = drops.next_if_eq(&k).is_some();
        if i == p + 1 && !dropped {
            continue;
        }
        life.runs.push(run_start..p + 1);
        run_start = i;
        let reason = if absent_too_long(p, i) {
            CutReason::Reappeared
        } else if dropped {
            CutReason::SharpDrop
        } else {
            continue;
        };
        out.cuts.push((i, reason));
        out.lifetimes.push(std::mem::take(&mut life));
    }
    if let Some(&last) = valid.last() {
        life.runs.push(run_start..last + 1);
    }
    out.lifetimes.push(life);
}

/// The lifetimes of `n` samples, all valid, of a series without identity columns: a new one
/// starts at each of `drops` (sample indices, ascending), as [`split_at_gaps_and_drops`] cuts
/// them when no sample is missing.
fn split_at_drops(n: usize, drops: &[usize], out: &mut Lifetimes) {
    let mut start = 0;
    for &d in drops {
        out.lifetimes.push(Lifetime::run(start..d));
        out.cuts.push((d, CutReason::SharpDrop));
        start = d;
    }
    out.lifetimes.push(Lifetime::run(start..n));
}

/// Split the series `values` (sampled at `hours`) into lifetimes.
pub fn split(values: &[f64], hours: &[f64], identity: Identity) -> Lifetimes {
    let n = values.len().min(hours.len());
    let whole = values.len() == hours.len();
    let (values, hours) = (&values[..n], &hours[..n]);
    // Most series have no blank cell: then every sample is valid and read in place.
    // (A fold without early exit: one vectorised pass.)
    let finite = |v: &[f64]| v.iter().fold(true, |ok, x| ok & x.is_finite());
    let all_finite = finite(values) && finite(hours);
    let no_identity = identity.pid.is_none() && identity.elapsed.is_none();
    // Every sample valid and no identity column (most series): lifetimes are cut only at sharp
    // drops, read off as ranges; the list of valid samples is built only where it is needed.
    // The valid samples side by side too, gathered in the same pass: the jump scan reads them
    // without indirection.
    let mut gathered: Vec<f64> = Vec::new();
    let valid: Vec<usize> = if all_finite && no_identity {
        Vec::new()
    } else if all_finite {
        (0..n).collect()
    } else {
        let mut valid = Vec::with_capacity(n);
        gathered.reserve(n);
        for (i, (&x, &h)) in values.iter().zip(hours).enumerate() {
            if x.is_finite() && h.is_finite() {
                valid.push(i);
                gathered.push(x);
            }
        }
        valid
    };
    let mut out = Lifetimes::default();
    if n == 0 || (!all_finite && valid.is_empty()) {
        return out;
    }
    let sample = |k: usize| if all_finite { k } else { valid[k] };
    let has_pid = identity.pid.is_some() && valid.iter().any(|&i| pid_at(&identity, i).is_some());

    let level: &[f64] = if all_finite { values } else { &gathered };
    let jumps = Jumps::of(level);
    // Drops that recur within hours are a sawtooth (GC, cache trims), not restarts.
    let drop_gaps: Vec<f64> = jumps
        .drops
        .windows(2)
        .map(|w| hours[sample(w[1])] - hours[sample(w[0])])
        .collect();
    out.change_sigma = jumps.sigma;
    out.every_sample_read = all_finite && whole;
    let recurring = jumps.drops.len() >= 3 && median(&drop_gaps).is_some_and(|g| g < 3.0);
    if recurring {
        out.sawtooth_drops = jumps.drops.len();
    }
    if !has_pid {
        out.renumbered = label_returns(&jumps, values, sample);
    }

    // Sharp drops cut only where no PID tells restarts apart and they are neither a sawtooth
    // nor a label passing between two processes, nor a drop the process's Elapsed Time kept
    // counting through.
    let mut cutting_drops: Vec<usize> = if !has_pid && !recurring && !out.renumbered {
        jumps
            .drops
            .iter()
            .copied()
            .filter(|&k| k == 0 || !elapsed_continues(identity, hours, sample(k - 1), sample(k)))
            .collect()
    } else {
        Vec::new()
    };
    // What the identity shows of the drops it keeps from cutting, whose teeth the floors read.
    if !out.renumbered {
        let shown = Shown {
            identity,
            hours,
            has_pid,
            recurring,
        };
        keep_inside(&jumps.drops, &sample, shown, &mut out);
    }
    // Nor where every other counter of the process keeps its level through every such drop: a
    // new process starts them all afresh. All or none: one drop they fall with shows restarts.
    // (A drop where the process returns after an absence cuts for the absence: not asked.)
    let after_absence = |k: usize| k > 0 && absent_too_long(sample(k - 1), sample(k));
    if let Some(refute) = identity.others {
        let at: Vec<usize> = cutting_drops
            .iter()
            .filter(|&&k| !after_absence(k))
            .map(|&k| sample(k))
            .collect();
        if !at.is_empty() && refute(&at) {
            out.refuted = at;
            cutting_drops.retain(|&k| after_absence(k));
        }
    }
    // Without identity columns only long gaps and sharp drops cut: the lifetimes are read off
    // those few places, with no per-sample bookkeeping.
    if all_finite && no_identity {
        split_at_drops(n, &cutting_drops, &mut out);
    } else if no_identity {
        split_at_gaps_and_drops(&valid, &cutting_drops, &mut out);
    } else {
        split_by_identity(&valid, &cutting_drops, identity, &mut out);
    }
    out
}

/// What tells of a series' sharp drops whether they lie inside one life.
#[derive(Clone, Copy)]
struct Shown<'a> {
    identity: Identity<'a>,
    hours: &'a [f64],
    has_pid: bool,
    /// The drops recur within hours: a sawtooth.
    recurring: bool,
}

/// Records in `out` the sharp `drops` (positions in the valid samples, which `sample` maps to
/// sample indices) that lie inside one life: memory freed, not a restart. The same PID either
/// side shows it, or Elapsed Time counting on with the clock, or, with no PID logged, drops
/// recurring within hours (a sawtooth, which the split does not cut either).
fn keep_inside(drops: &[usize], sample: &impl Fn(usize) -> usize, by: Shown, out: &mut Lifetimes) {
    let same_pid = |k: usize| {
        matches!(
            (pid_at(&by.identity, sample(k - 1)), pid_at(&by.identity, sample(k))),
            (Some(a), Some(b)) if a == b
        )
    };
    for &k in drops.iter().filter(|&&k| k > 0) {
        let why = if by.has_pid && same_pid(k) {
            KeptBy::Pid
        } else if elapsed_continues(by.identity, by.hours, sample(k - 1), sample(k)) {
            KeptBy::Elapsed
        } else if by.recurring && !by.has_pid {
            KeptBy::Recurring
        } else {
            continue;
        };
        out.kept.push(sample(k));
        out.kept_by = out.kept_by.or(Some(why));
    }
}

/// Candidate sharp drops and rises of the valid samples (positions in them, ascending): at
/// least 30% of the local level and 8 sigma of the changes.
struct Jumps {
    drops: Vec<usize>,
    rises: Vec<usize>,
    /// Robust scale of sample-to-sample changes, when a candidate needed it.
    sigma: Option<f64>,
}

impl Jumps {
    fn of(level: &[f64]) -> Jumps {
        // Computed on first need: most series never come near a 30% jump.
        let mut sigma_cache: Option<f64> = None;
        let mut sigma_diff = || {
            *sigma_cache.get_or_insert_with(|| {
                let diffs: Vec<f64> = level.windows(2).map(|w| w[1] - w[0]).collect();
                mad_sigma(&diffs).unwrap_or(0.0)
            })
        };
        let mut drops = Vec::new();
        let mut rises = Vec::new();
        // A stretch whose values (with the five before it) never differ by 30% holds no
        // candidate: every window's extremes lie within the stretch's own. Most stretches are
        // like that, and the min/max of a stretch is one cheap pass, so the window scan runs
        // only where needed.
        for chunk_start in (1..level.len()).step_by(JUMP_CHUNK) {
            let chunk_end = (chunk_start + JUMP_CHUNK).min(level.len());
            let (lowest, highest) = extremes(&level[chunk_start.saturating_sub(5)..chunk_end]);
            if lowest >= 0.7 * highest {
                continue;
            }
            for k in chunk_start..chunk_end {
                let prev = level[k - 1];
                let y = level[k];
                let start = k.saturating_sub(5);
                let (lo, hi) = extremes(&level[start..k]);
                // The local median lies between the window's extremes: skip it when neither
                // rule can fire.
                if !(y < 0.7 * hi || lo < 0.7 * y) {
                    continue;
                }
                let local = median_of_finite(&level[start..k]).unwrap_or(prev);
                if local > 0.0
                    && y < 0.7 * local
                    && prev - y > 8.0 * sigma_diff()
                    && stays_down(&level[k..], (y + local) / 2.0)
                {
                    drops.push(k);
                }
                if y > 0.0 && local < 0.7 * y && y - prev > 8.0 * sigma_diff() {
                    rises.push(k);
                }
            }
        }
        Jumps {
            drops,
            rises,
            sigma: sigma_cache,
        }
    }
}

/// Without a PID, a label that alternates between two levels belongs to two processes: a rise
/// that returns to the level held before the last drop is the other process coming back (a
/// restarted process starts low and has to grow again). Two such returns make it renumbering.
fn label_returns(jumps: &Jumps, values: &[f64], sample: impl Fn(usize) -> usize) -> bool {
    let drops = &jumps.drops;
    let returns = jumps
        .rises
        .iter()
        .filter(|&&r| {
            // `drops` is sorted: the last drop before `r` by binary search.
            let before_r = drops.partition_point(|&d| d < r);
            before_r
                .checked_sub(1)
                .map(|j| &drops[j])
                .is_some_and(|&d| {
                    let before = values[sample(d - 1)];
                    let after = values[sample(r)];
                    (after - before).abs() <= 0.15 * before.abs()
                })
        })
        .count();
    returns >= 2
}

/// The lifetimes of valid samples `valid` of a series with identity columns: a new one starts
/// where the PID changes, Elapsed Time falls, the process was absent too long (unless its PID
/// proves continuity) or at one of `cutting_drops`; runs of a PID that comes back are merged.
fn split_by_identity(
    valid: &[usize],
    cutting_drops: &[usize],
    identity: Identity,
    out: &mut Lifetimes,
) {
    let mut is_drop = vec![false; valid.len()];
    for &k in cutting_drops {
        is_drop[k] = true;
    }
    let mut runs: Vec<Lifetime> = Vec::new();
    let mut run_pid: Vec<Option<u32>> = Vec::new();
    // PIDs listed so far, for constant-time look-ups: a PID changing at every sample made the
    // scan of `out.pids` quadratic (400,000 samples took minutes).
    let mut listed: HashSet<u32> = HashSet::new();
    // The previous valid sample's PID, carried over: each sample's is read once.
    let mut pid_before = None;
    // The current lifetime's latest run of consecutive samples, kept out of `runs` until it
    // ends: most samples only extend it.
    let mut open: Option<Range<usize>> = None;
    for (k, &i) in valid.iter().enumerate() {
        let pid_now = pid_at(&identity, i);
        let cut = if k > 0 {
            cut_between(valid[k - 1], i, pid_before, pid_now, identity, is_drop[k])
        } else {
            None
        };
        if k == 0 || cut.is_some() {
            if let Some(reason) = cut {
                out.cuts.push((i, reason));
            }
            // A PID seen before, then another, then back: the label moved between processes.
            if k > 0 && pid_now.is_some_and(|p| listed.contains(&p)) {
                out.renumbered = true;
            }
            close_run(&mut runs, open.take());
            runs.push(Lifetime::default());
            run_pid.push(pid_now);
        }
        match &mut open {
            Some(r) if r.end == i => r.end += 1,
            _ => {
                close_run(&mut runs, open.replace(i..i + 1));
            }
        }
        // A PID equal to the previous sample's is listed already.
        if let Some(pid) = pid_now.filter(|&p| pid_before != Some(p)) {
            if listed.insert(pid) {
                out.pids.push(pid);
            }
        }
        pid_before = pid_now;
    }
    close_run(&mut runs, open);
    // Runs of a PID that comes back belong to the same process: merge them.
    let mut merged: Vec<Lifetime> = Vec::new();
    let mut slot_of: HashMap<u32, usize> = HashMap::new();
    for (pid, run) in run_pid.into_iter().zip(runs) {
        match pid.and_then(|p| slot_of.get(&p).copied()) {
            Some(slot) => merged[slot].merge(run),
            None => {
                if let Some(p) = pid {
                    slot_of.insert(p, merged.len());
                }
                merged.push(run);
            }
        }
    }
    out.lifetimes = merged;
}

/// Whether the process's Elapsed Time advanced by the clock from sample `p` to sample `i`:
/// then one process lived through, whatever its memory did. A restart sets it back; a label
/// passing to another `#N` process jumps it by more than the clock.
fn elapsed_continues(identity: Identity, hours: &[f64], p: usize, i: usize) -> bool {
    let Some(el) = identity.elapsed else {
        return false;
    };
    let (Some(&b), Some(&a)) = (el.get(p), el.get(i)) else {
        return false;
    };
    let clock = (hours[i] - hours[p]) * 3600.0;
    // A twentieth of the interval and two seconds absorb the logged value's rounding and the
    // collector's jitter.
    a.is_finite() && b.is_finite() && ((a - b) - clock).abs() <= 0.05 * clock + 2.0
}

/// Why a new lifetime starts at valid sample `i` after valid sample `p`, if it does.
fn cut_between(
    p: usize,
    i: usize,
    pid_before: Option<u32>,
    pid_now: Option<u32>,
    identity: Identity,
    is_drop: bool,
) -> Option<CutReason> {
    let same_pid = matches!((pid_now, pid_before), (Some(a), Some(b)) if a == b);
    if matches!((pid_now, pid_before), (Some(a), Some(b)) if a != b) {
        return Some(CutReason::PidChanged);
    }
    if let Some(el) = identity.elapsed {
        let (a, b) = (
            el.get(i).copied().unwrap_or(f64::NAN),
            el.get(p).copied().unwrap_or(f64::NAN),
        );
        // A tolerance of one second absorbs rounding in the logged value.
        if a.is_finite() && b.is_finite() && a + 1.0 < b {
            return Some(CutReason::ElapsedFell);
        }
    }
    // A blank cell or two is a missed sample, not a new process; a longer absence is a new
    // lifetime unless the PID proves continuity (a restart within a few samples still shows as
    // a sharp drop).
    if absent_too_long(p, i) && !same_pid {
        return Some(CutReason::Reappeared);
    }
    is_drop.then_some(CutReason::SharpDrop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(n: usize) -> Vec<f64> {
        (0..n).map(|i| i as f64 * 0.25).collect()
    }

    #[test]
    fn without_identity_the_short_path_cuts_as_the_sample_by_sample_one() {
        // An Elapsed Time column of blanks never cuts, but sends the split through the loop
        // that reads every sample: both must find the same lifetimes, runs and cuts.
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        // Cuts at long absences, at drops, and lifetimes holding a short absence.
        let (mut reappeared, mut dropped, mut holed, mut filled_drops) = (0, 0, 0, 0);
        for case in 0..200 {
            let n = 50 + case * 7;
            let mut level = 1000.0;
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    let u = next();
                    if u < 0.02 {
                        level = 300.0; // restart
                    } else if u > 0.995 {
                        level = 1500.0;
                    }
                    level += 2.0;
                    if next() < 0.04 + 0.1 * (case % 3) as f64 {
                        f64::NAN // missed samples, sometimes in long runs
                    } else {
                        level + 5.0 * next()
                    }
                })
                .collect();
            let blanks = vec![f64::NAN; n];
            // The same series split without identity, and through the sample-by-sample loop.
            let both = |v: &[f64]| {
                let elapsed = Identity {
                    elapsed: Some(&blanks),
                    ..Identity::default()
                };
                (
                    split(v, &hours(n), Identity::default()),
                    split(v, &hours(n), elapsed),
                )
            };
            let (short, long) = both(&v);
            assert_eq!(short.lifetimes, long.lifetimes, "case {case}");
            assert_eq!(short.cuts, long.cuts, "case {case}");
            for (_, reason) in &short.cuts {
                match reason {
                    CutReason::Reappeared => reappeared += 1,
                    CutReason::SharpDrop => dropped += 1,
                    _ => {}
                }
            }
            holed += short
                .lifetimes
                .iter()
                .filter(|l| l.runs().len() > 1)
                .count();
            assert_eq!(
                (short.renumbered, short.sawtooth_drops, short.pids.len()),
                (long.renumbered, long.sawtooth_drops, long.pids.len()),
                "case {case}"
            );
            // With no blank cell the shortest path (ranges cut at drops) is taken: the same
            // lifetimes again.
            let filled: Vec<f64> = v
                .iter()
                .map(|x| if x.is_nan() { 1000.0 } else { *x })
                .collect();
            let (full, looped) = both(&filled);
            assert_eq!(full.lifetimes, looped.lifetimes, "case {case} filled");
            assert_eq!(full.cuts, looped.cuts, "case {case} filled");
            assert_eq!(
                (full.renumbered, full.sawtooth_drops),
                (looped.renumbered, looped.sawtooth_drops),
                "case {case} filled"
            );
            filled_drops += full.cuts.len();
        }
        assert!(
            reappeared > 0 && dropped > 0 && holed > 0 && filled_drops > 0,
            "{reappeared} {dropped} {holed} {filled_drops}"
        );
    }

    #[test]
    fn the_scale_of_changes_is_kept_when_the_split_needed_it() {
        // A smooth series never comes near a 30% jump: no scale computed.
        let smooth: Vec<f64> = (0..60).map(|i| 100.0 + (i % 7) as f64).collect();
        assert_eq!(
            split(&smooth, &hours(60), Identity::default()).change_sigma,
            None
        );
        // A restart asks for it: it is the MAD sigma of the finite samples' changes.
        let mut v = smooth.clone();
        for x in &mut v[30..] {
            *x -= 60.0;
        }
        v[10] = f64::NAN;
        let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        let diffs: Vec<f64> = finite.windows(2).map(|w| w[1] - w[0]).collect();
        let l = split(&v, &hours(60), Identity::default());
        assert_eq!(l.lifetimes.len(), 2);
        assert_eq!(l.change_sigma, mad_sigma(&diffs));
        // The blank sample was passed over: that scale is not every change's.
        assert!(!l.every_sample_read);
        v[10] = 110.0;
        let whole = split(&v, &hours(60), Identity::default());
        let diffs: Vec<f64> = v.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(whole.every_sample_read);
        assert_eq!(whole.change_sigma, mad_sigma(&diffs));
        // Fewer times than values: the samples past the last time were not read.
        assert!(!split(&v, &hours(59), Identity::default()).every_sample_read);
    }

    #[test]
    fn pid_change_cuts_and_lists_pids() {
        let v: Vec<f64> = (0..40).map(|i| 100.0 + (i % 20) as f64).collect();
        let pid: Vec<f64> = (0..40).map(|i| if i < 20 { 10.0 } else { 22.0 }).collect();
        let l = split(
            &v,
            &hours(40),
            Identity {
                pid: Some(&pid),
                ..Identity::default()
            },
        );
        assert_eq!(l.lifetimes.len(), 2);
        assert_eq!(l.pids, vec![10, 22]);
        assert_eq!(l.cuts, vec![(20, CutReason::PidChanged)]);
    }

    #[test]
    fn sharp_drop_without_pid_cuts_once() {
        let v: Vec<f64> = (0..60)
            .map(|i| 100.0 + 10.0 * (i % 30) as f64 + (i % 3) as f64)
            .collect();
        let l = split(&v, &hours(60), Identity::default());
        assert_eq!(l.lifetimes.len(), 2, "{:?}", l.cuts);
        assert_eq!(l.cuts[0].0, 30);
    }

    #[test]
    fn drops_the_other_counters_refute_cut_nothing() {
        // Two climbs of 30 samples, each ending in a sharp drop, and a third.
        let v: Vec<f64> = (0..90)
            .map(|i| 100.0 + 10.0 * (i % 30) as f64 + (i % 3) as f64)
            .collect();
        let asked = std::sync::Mutex::new(Vec::new());
        let split_with = |refuted: bool| {
            let refute = |at: &[usize]| {
                asked.lock().unwrap().push(at.to_vec());
                refuted
            };
            let others = Identity {
                others: Some(&refute),
                ..Identity::default()
            };
            split(&v, &hours(90), others)
        };
        let one = split_with(true);
        assert_eq!((one.lifetimes.len(), one.cuts.len()), (1, 0));
        assert_eq!(one.refuted, vec![30, 60]);
        // Asked once, about both drops together: all or none.
        assert_eq!(*asked.lock().unwrap(), vec![vec![30, 60]]);
        let cut = split_with(false);
        assert_eq!(cut.lifetimes.len(), 3);
        assert!(cut.refuted.is_empty());
        // With ID Process logged no drop cuts: the counters are not asked.
        asked.lock().unwrap().clear();
        let pid = vec![5.0; 90];
        let refute = |_: &[usize]| -> bool { panic!("asked with a PID") };
        let with_pid = split(
            &v,
            &hours(90),
            Identity {
                pid: Some(&pid),
                others: Some(&refute),
                ..Identity::default()
            },
        );
        assert_eq!(with_pid.lifetimes.len(), 1);
        assert!(with_pid.refuted.is_empty());
    }

    #[test]
    fn drops_the_identity_lives_through_are_kept_as_teeth() {
        // Two climbs of 30 samples, each ending in a sharp drop, and a third.
        let v: Vec<f64> = (0..90)
            .map(|i| 100.0 + 10.0 * (i % 30) as f64 + (i % 3) as f64)
            .collect();
        let h = hours(90);
        // The same PID either side of each drop: one life, its drops kept, none cut.
        let pid = vec![5.0; 90];
        let by_pid = split(
            &v,
            &h,
            Identity {
                pid: Some(&pid),
                ..Identity::default()
            },
        );
        assert_eq!((by_pid.lifetimes.len(), by_pid.cuts.len()), (1, 0));
        assert_eq!(
            (by_pid.kept.clone(), by_pid.kept_by),
            (vec![30, 60], Some(KeptBy::Pid))
        );
        assert_eq!(by_pid.drops_inside().as_ref(), &[30, 60]);
        // Another PID at the second drop: a restart there, and only the first drop is kept.
        let restarted: Vec<f64> = (0..90).map(|i| if i < 60 { 5.0 } else { 6.0 }).collect();
        let cut = split(
            &v,
            &h,
            Identity {
                pid: Some(&restarted),
                ..Identity::default()
            },
        );
        assert_eq!((cut.lifetimes.len(), cut.kept.clone()), (2, vec![30]));
        // Elapsed Time counting on with the clock through each drop.
        let elapsed: Vec<f64> = h.iter().map(|x| 3600.0 * (x + 10.0)).collect();
        let by_clock = split(
            &v,
            &h,
            Identity {
                elapsed: Some(&elapsed),
                ..Identity::default()
            },
        );
        assert_eq!(by_clock.cuts.len(), 0);
        assert_eq!(by_clock.kept_by, Some(KeptBy::Elapsed));
        // Nothing tells: the drops cut, and none is kept.
        let alone = split(&v, &h, Identity::default());
        assert_eq!((alone.lifetimes.len(), alone.kept.len()), (3, 0));
        assert_eq!(alone.drops_inside().len(), 0);
        // Drops recurring every 2.5 h: a sawtooth, kept as teeth with nothing else to tell.
        let often: Vec<f64> = (0..60)
            .map(|i| 100.0 + 10.0 * (i % 10) as f64 + (i % 3) as f64)
            .collect();
        let recurring = split(&often, &hours(60), Identity::default());
        assert_eq!(recurring.cuts.len(), 0);
        assert_eq!(
            (recurring.kept.clone(), recurring.kept_by),
            (vec![10, 20, 30, 40, 50], Some(KeptBy::Recurring))
        );
    }

    #[test]
    fn a_lone_low_sample_is_an_outlier_not_a_restart() {
        let mut v: Vec<f64> = (0..60).map(|i| 700.0 + (i % 4) as f64).collect();
        v[30] = 430.0;
        let l = split(&v, &hours(60), Identity::default());
        assert_eq!(l.lifetimes.len(), 1, "{:?}", l.cuts);
        // The same fall held for one more sample is a restart.
        v[31] = 440.0;
        let l = split(&v, &hours(60), Identity::default());
        assert_eq!(l.cuts, vec![(30, CutReason::SharpDrop)]);
    }

    #[test]
    fn long_gap_then_return_is_a_new_lifetime_but_a_missed_sample_is_not() {
        let mut v = vec![5.0; 30];
        v[3] = f64::NAN;
        for x in &mut v[10..15] {
            *x = f64::NAN;
        }
        let l = split(&v, &hours(30), Identity::default());
        assert_eq!(l.lifetimes.len(), 2);
        assert_eq!(l.cuts, vec![(15, CutReason::Reappeared)]);
        // The missed sample is left out of the first lifetime, which is then not contiguous.
        assert_eq!(l.lifetimes[0].runs(), &[0..3, 4..10]);
        assert_eq!(l.lifetimes[0].contiguous(), None);
        assert_eq!(l.lifetimes[1].contiguous(), Some(15..30));
    }

    #[test]
    fn alternating_pids_are_renumbering_and_merge() {
        let v = vec![1.0; 12];
        let pid: Vec<f64> = (0..12)
            .map(|i| if (i / 3) % 2 == 0 { 7.0 } else { 9.0 })
            .collect();
        let l = split(
            &v,
            &hours(12),
            Identity {
                pid: Some(&pid),
                ..Identity::default()
            },
        );
        assert!(l.renumbered);
        assert_eq!(l.lifetimes.len(), 2);
        let first: Vec<usize> = l.lifetimes[0].indices().collect();
        let numbers: Vec<f64> = (0..v.len()).map(|i| i as f64).collect();
        let gathered: Vec<f64> = first.iter().map(|&i| i as f64).collect();
        assert_eq!(l.lifetimes[0].gather(&numbers), gathered);
        assert_eq!(first, vec![0, 1, 2, 6, 7, 8]);
        assert_eq!(l.lifetimes[0].runs(), &[0..3, 6..9]);
        assert_eq!(l.lifetimes[1].indices().count(), 6);
    }
}
