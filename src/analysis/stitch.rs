//! Process identity across `#N` labels: when `ID Process` is logged, perfmon's instance labels
//! (`w3wp`, `w3wp#1`) pass between processes as they start and stop, so a label is not a
//! process. Here each PID's samples are gathered from whichever label held it, and the PIDs of
//! one image are chained into lineages (a process, then the one that replaced it).

use std::collections::HashMap;

/// One lineage of processes of an image, stitched from several instance columns.
#[derive(Debug, Clone)]
pub struct Lineage {
    /// The column the lineage spent most samples in (its label names the finding).
    pub home: usize,
    /// Every column (label) it was seen in, most samples first.
    pub columns: Vec<usize>,
    pub values: Vec<f64>,
    pub pid: Vec<f64>,
    pub elapsed: Option<Vec<f64>>,
}

/// A member of a group: one instance column of the image and its identity columns.
pub struct Member<'a> {
    pub column: usize,
    pub values: &'a [f64],
    pub pid: &'a [f64],
    pub elapsed: Option<&'a [f64]>,
}

fn pid_of(v: f64) -> Option<u32> {
    (v.is_finite() && v > 0.0 && v <= u32::MAX as f64).then_some(v as u32)
}

/// True when some PID appears under two of the labels (one `ID Process` series per label): the
/// labels were renumbered.
pub fn labels_move(pids: &[&[f64]]) -> bool {
    let mut home: HashMap<u32, usize> = HashMap::new();
    for (m, pid) in pids.iter().enumerate() {
        for &v in *pid {
            if let Some(p) = pid_of(v) {
                if *home.entry(p).or_insert(m) != m {
                    return true;
                }
            }
        }
    }
    false
}

/// Stitch the members (one image, one counter, all logging `ID Process`) into lineages over `n`
/// samples. A process that starts after another has ended continues the lineage that ended most
/// recently: a recycled app pool or a restarted service comes back as a new PID.
pub fn lineages(members: &[Member], n: usize) -> Vec<Lineage> {
    struct Proc {
        pid: u32,
        first: usize,
        last: usize,
        /// (time, member) of each sample of the process.
        samples: Vec<(usize, usize)>,
    }
    let mut procs: Vec<Proc> = Vec::new();
    let mut index: HashMap<u32, usize> = HashMap::new();
    for t in 0..n {
        for (m, member) in members.iter().enumerate() {
            let Some(p) = member.pid.get(t).copied().and_then(pid_of) else {
                continue;
            };
            let k = *index.entry(p).or_insert_with(|| {
                procs.push(Proc {
                    pid: p,
                    first: t,
                    last: t,
                    samples: Vec::new(),
                });
                procs.len() - 1
            });
            procs[k].last = t;
            procs[k].samples.push((t, m));
        }
    }
    // Chain in order of first appearance.
    let mut chains: Vec<Vec<usize>> = Vec::new();
    for k in 0..procs.len() {
        let start = procs[k].first;
        let pick = chains
            .iter()
            .enumerate()
            .filter_map(|(c, chain)| {
                let end = chain.last().map(|&j| procs[j].last)?;
                (end < start).then_some((c, end))
            })
            .max_by_key(|&(c, end)| (end, usize::MAX - c))
            .map(|(c, _)| c);
        match pick {
            Some(c) => chains[c].push(k),
            None => chains.push(vec![k]),
        }
    }
    chains
        .into_iter()
        .map(|chain| {
            let mut values = vec![f64::NAN; n];
            let mut pid = vec![f64::NAN; n];
            let has_elapsed = members.iter().all(|m| m.elapsed.is_some());
            let mut elapsed = has_elapsed.then(|| vec![f64::NAN; n]);
            let mut count: Vec<usize> = vec![0; members.len()];
            for &k in &chain {
                for &(t, m) in &procs[k].samples {
                    let member = &members[m];
                    values[t] = member.values.get(t).copied().unwrap_or(f64::NAN);
                    pid[t] = f64::from(procs[k].pid);
                    if let (Some(e), Some(src)) = (elapsed.as_mut(), member.elapsed) {
                        e[t] = src.get(t).copied().unwrap_or(f64::NAN);
                    }
                    count[m] += 1;
                }
            }
            let mut seen: Vec<usize> = (0..members.len()).filter(|&m| count[m] > 0).collect();
            // Most samples first; the earlier label on a tie.
            seen.sort_by_key(|&m| (usize::MAX - count[m], m));
            Lineage {
                home: members[seen[0]].column,
                columns: seen.iter().map(|&m| members[m].column).collect(),
                values,
                pid,
                elapsed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapped_labels_follow_the_pid() {
        // Column 0 holds PID 7 (rising) then PID 8 (flat); column 1 holds PID 8 then PID 9,
        // which continues 7 after its restart.
        let n = 10;
        let v0: Vec<f64> = (0..n)
            .map(|t| if t < 5 { 100.0 + t as f64 } else { 50.0 })
            .collect();
        let v1: Vec<f64> = (0..n)
            .map(|t| if t < 5 { 50.0 } else { 90.0 + t as f64 })
            .collect();
        let p0: Vec<f64> = (0..n).map(|t| if t < 5 { 7.0 } else { 8.0 }).collect();
        let p1: Vec<f64> = (0..n).map(|t| if t < 5 { 8.0 } else { 9.0 }).collect();
        let members = [
            Member {
                column: 3,
                values: &v0,
                pid: &p0,
                elapsed: None,
            },
            Member {
                column: 4,
                values: &v1,
                pid: &p1,
                elapsed: None,
            },
        ];
        assert!(labels_move(&[&p0, &p1]));
        let l = lineages(&members, n);
        assert_eq!(l.len(), 2);
        // Lineage of 7 then 9: 5 samples in each column, the earlier label wins the tie.
        assert_eq!(l[0].home, 3);
        assert_eq!(l[0].columns, vec![3, 4]);
        assert_eq!(l[0].values[4], 104.0);
        assert_eq!(l[0].values[5], 95.0);
        assert_eq!(l[0].pid[9], 9.0);
        // PID 8 throughout, flat, seen under both labels.
        assert!(l[1].values.iter().all(|&v| v == 50.0));
        assert_eq!(l[1].pid[0], 8.0);
    }

    #[test]
    fn labels_that_keep_their_pids_do_not_move() {
        let p0 = vec![7.0; 4];
        let p1 = vec![8.0; 4];
        assert!(!labels_move(&[&p0, &p1]));
        // A PID seen under the second label as well moves.
        let p2 = vec![8.0, 8.0, 7.0, 7.0];
        assert!(labels_move(&[&p0, &p2]));
    }
}
