//! The relog table: what `relog -f csv` would print, built sample by sample. Columns appear as
//! counters and instances are first seen and are ordered as relog lists them at the end:
//! counter-list order, then (whole objects) counter order, then instances in first-seen order.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;

use super::counters::CounterDef;
use super::formulas::{self, Formula, Raw};
use super::samples::{counter_raw, List, Sample, Slot};
use crate::ingest::series::{encode_frame, Series};

/// Values held per column before they are encoded as a frame: the pending cells of all columns
/// together stay under this many (2 MB; two blocks exist while one is encoded), and a frame never exceeds [`MAX_FRAME_ROWS`].
const PENDING_CELLS: usize = 1 << 18;
const MAX_FRAME_ROWS: usize = 4096;

/// The table: header cell parts, column paths as stored, local timestamps and values.
#[derive(Debug, Clone, Default)]
pub struct RelogTable {
    /// The zone's standard name, as relog prints it in the header cell.
    pub zone_name: String,
    /// Minutes west of UTC (the header's standard bias).
    pub bias: i32,
    /// Column paths, in relog's order.
    pub columns: Vec<String>,
    /// Whether a column's values were kept (all of them when every column was asked for).
    pub kept: Vec<bool>,
    /// Local wall-clock time of each row, to the millisecond.
    pub stamps: Vec<NaiveDateTime>,
    /// Values per column, encoded as the CSV reader keeps them (`NaN` = relog's `" "` blank);
    /// empty for a column not kept.
    pub values: Vec<Series>,
    /// Every column decoded, made on the first [`RelogTable::cell`] (convert, tests).
    pub decoded: OnceCell<Vec<Vec<f64>>>,
}

impl RelogTable {
    /// A cell, `None` where relog writes a blank (or the column was not kept). The first call
    /// decodes the whole table.
    pub fn cell(&self, column: usize, row: usize) -> Option<f64> {
        self.decoded
            .get_or_init(|| self.values.iter().map(Series::to_vec).collect())
            .get(column)
            .and_then(|v| v.get(row))
            .copied()
            .filter(|v| !v.is_nan())
    }
}

/// What a column keeps for the end.
struct Col {
    path: String,
    /// (counter-list index, counter slot within a whole object, instance slot).
    order: (usize, u32, u32),
    kept: bool,
    /// Rows up to the builder's `flushed`, encoded.
    values: Series,
}

/// What every cell of a column reads and writes, kept apart from [`Col`] so the columns
/// walked per sample sit close together in memory (16 bytes each; the previous raw sample,
/// which only two-sample types read, is kept apart too).
struct Hot {
    formula: Formula,
    counter_type: u32,
    kept: bool,
    /// The row this column was last given a value in.
    touched: usize,
}

/// The columns of a wildcard's instance list, kept while the next sample's list names the
/// same instances at the same offsets (byte for byte): then no name is decoded or looked up.
struct ListCache {
    offsets: Vec<u32>,
    names: Vec<u8>,
    cols: Vec<Option<usize>>,
}

impl ListCache {
    fn matches(&self, list: &List) -> bool {
        self.offsets.len() == list.count
            && self.names == list.name_region()
            && (0..list.count).all(|k| self.offsets[k] == list.name_offset(k))
    }
}

/// Rows read between two points where the buffers' clock went back (a circular log's wrap):
/// each run is in order; runs are put in order at the end.
struct Run {
    id: usize,
    first_row: usize,
    /// The UTC time of the run's first buffer.
    key: i64,
    /// The raw samples of the run's first row, recomputed against the run put before it.
    start: Vec<(usize, Raw)>,
    /// Each column's last raw sample when the run ended.
    end: Vec<Option<Raw>>,
}

/// A flush being encoded on its own thread: how many columns and rows it covers, and, when
/// done, one frame per kept column (the bytes and where each ends) and the block back.
struct Encoding {
    columns: usize,
    rows: usize,
    handle: std::thread::JoinHandle<(Vec<u8>, Vec<usize>, Vec<f64>)>,
}

/// Encodes the first `rows` rows of each kept column of `block` (`cap` cells per column), one
/// frame each, in column order: the cells lie in column order already, nothing is copied.
fn encode_block(block: &[f64], cap: usize, rows: usize, kept: &[bool]) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    for (k, _) in kept.iter().enumerate().filter(|(_, &kept)| kept) {
        encode_frame(&mut bytes, &block[k * cap..k * cap + rows]);
        ends.push(bytes.len());
    }
    (bytes, ends)
}

/// Builds the table as samples arrive.
pub struct Builder<'k> {
    defs: Vec<CounterDef>,
    /// Each counter's frequency, read per cell (apart from the definitions, which are large).
    frequency: Vec<i64>,
    keep: &'k (dyn Fn(&str) -> bool + Sync),
    /// Counter-name tables by machine (lower case, without `\\`).
    names: HashMap<String, HashMap<u32, String>>,
    cols: Vec<Col>,
    hot: Vec<Hot>,
    /// Each column's raw sample of the row before (two-sample types only; `None` after a
    /// row without it).
    prev: Vec<Option<Raw>>,
    /// Column of a counter of the list itself (no title, no instance), by list index.
    by_def: Vec<Option<usize>>,
    /// Column of (counter, title) without instance, and of (counter, title) and instance: looked
    /// up by `&str`, without allocating per cell.
    single: HashMap<(usize, u32), usize>,
    named: HashMap<(usize, u32), HashMap<String, usize>>,
    instance_slots: HashMap<(usize, String), u32>,
    counter_slots: HashMap<(usize, u32), u32>,
    stamps: Vec<NaiveDateTime>,
    /// Rows every column holds encoded; the rest are pending in `block`.
    flushed: usize,
    /// The pending rows, column after column, `cap` cells each (blank until set): each column's
    /// cells become one frame when the block is flushed, read in place. A row's cells are
    /// `cap` apart, one cache line per column, which stay cached from row to row.
    block: Vec<f64>,
    /// Rows the block holds per column, set when it is started (2 MB over the columns then).
    cap: usize,
    /// The block of the flush before, back from its encoding, to be filled again.
    spare_block: Vec<f64>,
    /// The flush being encoded.
    encoding: Option<Encoding>,
    /// Per counter of the list, the columns of its last instance list.
    lists: Vec<Option<ListCache>>,
    runs: Vec<Run>,
    /// Whether the sample being added is the first of its run (its raw samples are kept).
    at_run_start: bool,
    /// Columns given a value in the sample being added.
    touched_now: usize,
    /// Samples in which some counter has a non-zero status (PDH_CSTATUS_*).
    pub samples_with_errors: usize,
    /// Counter types not in the table, reported once each.
    pub unknown_types: HashSet<u32>,
}

fn machine_key(m: &str) -> String {
    m.trim_start_matches('\\').to_lowercase()
}

impl<'k> Builder<'k> {
    pub fn new(defs: Vec<CounterDef>, keep: &'k (dyn Fn(&str) -> bool + Sync)) -> Self {
        Builder {
            lists: defs.iter().map(|_| None).collect(),
            by_def: vec![None; defs.len()],
            frequency: defs.iter().map(|d| d.frequency).collect(),
            hot: Vec::new(),
            prev: Vec::new(),
            block: Vec::new(),
            cap: 0,
            spare_block: Vec::new(),
            encoding: None,
            defs,
            keep,
            names: HashMap::new(),
            cols: Vec::new(),
            single: HashMap::new(),
            named: HashMap::new(),
            instance_slots: HashMap::new(),
            counter_slots: HashMap::new(),
            stamps: Vec::new(),
            flushed: 0,
            runs: Vec::new(),
            at_run_start: false,
            touched_now: 0,
            samples_with_errors: 0,
            unknown_types: HashSet::new(),
        }
    }

    pub fn defs(&self) -> &[CounterDef] {
        &self.defs
    }

    pub fn rows(&self) -> usize {
        self.stamps.len()
    }

    /// Adds a machine's counter-name table.
    pub fn add_names(&mut self, machine: &str, pairs: Vec<(u32, String)>) {
        let map = self.names.entry(machine_key(machine)).or_default();
        for (i, n) in pairs {
            map.entry(i).or_insert(n);
        }
    }

    fn column(
        &mut self,
        def: usize,
        title: u32,
        counter_type: u32,
        instance: Option<&str>,
    ) -> Option<usize> {
        let found = match instance {
            None if title == u32::MAX => self.by_def[def],
            None => self.single.get(&(def, title)).copied(),
            Some(i) => self
                .named
                .get(&(def, title))
                .and_then(|m| m.get(i))
                .copied(),
        };
        if found.is_some() {
            return found;
        }
        let formula = match formulas::formula(counter_type) {
            Some(f) => f,
            None => {
                self.unknown_types.insert(counter_type);
                return None;
            }
        };
        if !formula.is_column() {
            return None;
        }
        let d = &self.defs[def];
        let counter_name = (title != u32::MAX).then(|| {
            let machine = d.machine.as_deref().map(machine_key).unwrap_or_default();
            self.names
                .get(&machine)
                .and_then(|m| m.get(&title))
                .cloned()
                .unwrap_or_else(|| title.to_string())
        });
        let path = d.path(instance, counter_name.as_deref());
        let next = self.counter_slots.len() as u32;
        let counter_slot = *self.counter_slots.entry((def, title)).or_insert(next);
        let next = self.instance_slots.len() as u32;
        let instance_slot = match instance {
            Some(i) => *self
                .instance_slots
                .entry((def, i.to_string()))
                .or_insert(next),
            None => 0,
        };
        let kept = (self.keep)(&path);
        // Rows before this sample's (which is being filled) are blank: the encoded ones here,
        // the pending ones in the block (filled with blanks).
        let mut values = Series::new();
        if kept {
            let blank = vec![f64::NAN; self.flushed.min(MAX_FRAME_ROWS)];
            let mut left = self.flushed;
            while left > 0 {
                let n = left.min(blank.len());
                values.push_frame(&blank[..n]);
                left -= n;
            }
        }
        self.cols.push(Col {
            path,
            order: (def, counter_slot, instance_slot),
            kept,
            values,
        });
        self.hot.push(Hot {
            formula,
            counter_type,
            kept,
            touched: usize::MAX,
        });
        self.prev.push(None);
        let c = self.cols.len() - 1;
        // Called while a sample is being filled: the block is started.
        if (c + 1) * self.cap > 2 * PENDING_CELLS {
            self.narrow(c + 1);
        }
        if self.block.len() < (c + 1) * self.cap {
            self.block.resize((c + 1) * self.cap, f64::NAN);
        }
        match instance {
            None if title == u32::MAX => self.by_def[def] = Some(c),
            None => {
                self.single.insert((def, title), c);
            }
            Some(i) => {
                self.named
                    .entry((def, title))
                    .or_default()
                    .insert(i.to_string(), c);
            }
        }
        Some(c)
    }

    /// Rows from here on belong to run `id` (runs are numbered in file order; a new one
    /// starts at each buffer older than the one before it), whose first buffer's UTC time is
    /// `key`.
    pub fn enter_run(&mut self, id: usize, key: i64) {
        if self.runs.last().map(|r| r.id) == Some(id) {
            return;
        }
        let end: Vec<Option<Raw>> = self.prev.iter_mut().map(Option::take).collect();
        if let Some(run) = self.runs.last_mut() {
            run.end = end;
        }
        self.runs.push(Run {
            id,
            first_row: self.stamps.len(),
            key,
            start: Vec::new(),
            end: Vec::new(),
        });
    }

    #[inline(always)]
    fn set(&mut self, c: usize, raw: Raw) {
        let row = self.stamps.len() - 1;
        if self.at_run_start {
            if let Some(run) = self.runs.last_mut() {
                run.start.push((c, raw));
            }
        }
        let col = &mut self.hot[c];
        if col.touched == row {
            return; // the same instance twice in one sample: the first counts
        }
        col.touched = row;
        self.touched_now += 1;
        let v = if col.formula == Formula::Raw {
            // The most common type, without the general formula's checks.
            (raw.status == 0).then_some(raw.first as f64)
        } else if col.formula.two_samples() {
            let prev = &mut self.prev[c];
            let v = formulas::value(col.formula, col.counter_type, &raw, prev.as_ref());
            *prev = Some(raw);
            v
        } else {
            formulas::value(col.formula, col.counter_type, &raw, None)
        };
        if col.kept {
            let at = c * self.cap + (row - self.flushed);
            self.block[at] = v.unwrap_or(f64::NAN);
        }
    }

    /// Gives the block fewer rows per column, so that `columns` (twice as many later) fit in
    /// about 2 MB: the block was started with fewer columns (the first sample's appear one by
    /// one). The pending rows, this sample's included, are moved.
    fn narrow(&mut self, columns: usize) {
        let pending = self.stamps.len() - self.flushed;
        let cap = (PENDING_CELLS / (2 * columns)).clamp(pending.max(1), MAX_FRAME_ROWS);
        if cap >= self.cap {
            return;
        }
        let mut block = vec![f64::NAN; columns * cap];
        for (k, column) in self.block.chunks_exact(self.cap).enumerate() {
            block[k * cap..k * cap + pending].copy_from_slice(&column[..pending]);
        }
        self.block = block;
        self.cap = cap;
    }

    /// Starts a block of pending rows: as many per column as keep the block near 2 MB, all
    /// blank.
    fn start_block(&mut self) {
        self.cap = (PENDING_CELLS / self.cols.len().max(1)).clamp(1, MAX_FRAME_ROWS);
        self.block.clear();
        self.block.resize(self.cols.len() * self.cap, f64::NAN);
    }

    /// A wildcard's instances: through the columns of the list before when it names the same
    /// instances, else looked up (and remembered when every name lies after the items).
    fn add_list(&mut self, def: usize, list: List) {
        let frequency = self.defs[def].frequency;
        let cached = self.lists[def].take().filter(|c| c.matches(&list));
        let cache = match cached {
            Some(c) => c,
            None => {
                let counter_type = self.defs[def].counter_type;
                let cols = list
                    .names()
                    .iter()
                    .map(|name| self.column(def, u32::MAX, counter_type, Some(name)))
                    .collect();
                let offsets: Vec<u32> = (0..list.count).map(|k| list.name_offset(k)).collect();
                let end = list.items_end() as u32;
                if offsets.iter().any(|&o| o < end) {
                    // A name inside the items would change with the values: not cached.
                    let c = ListCache {
                        offsets,
                        names: Vec::new(),
                        cols,
                    };
                    self.set_list(&c.cols, &list, frequency);
                    return;
                }
                ListCache {
                    offsets,
                    names: list.name_region().to_vec(),
                    cols,
                }
            }
        };
        self.set_list(&cache.cols, &list, frequency);
        self.lists[def] = Some(cache);
    }

    fn set_list(&mut self, cols: &[Option<usize>], list: &List, frequency: i64) {
        for (k, c) in cols.iter().enumerate() {
            if let Some(c) = *c {
                self.set(c, list.raw(k, frequency));
            }
        }
    }

    /// Hands the pending rows to a thread of their own, which encodes every column's values
    /// as one frame while the next rows are decoded; their frames are taken at the next flush.
    fn flush(&mut self) {
        self.collect();
        let rows = self.stamps.len() - self.flushed;
        if rows == 0 {
            return;
        }
        let block = std::mem::replace(&mut self.block, std::mem::take(&mut self.spare_block));
        let kept: Vec<bool> = self.cols.iter().map(|c| c.kept).collect();
        let cap = self.cap;
        let handle = std::thread::spawn(move || {
            let (bytes, ends) = encode_block(&block, cap, rows, &kept);
            (bytes, ends, block)
        });
        self.encoding = Some(Encoding {
            columns: self.cols.len(),
            rows,
            handle,
        });
        self.flushed = self.stamps.len();
    }

    /// Appends the frames of the flush being encoded, if any, to its columns.
    fn collect(&mut self) {
        let Some(e) = self.encoding.take() else {
            return;
        };
        let (bytes, ends, block) = match e.handle.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let mut start = 0;
        let kept = self.cols[..e.columns].iter_mut().filter(|c| c.kept);
        for (col, &end) in kept.zip(&ends) {
            col.values.append_encoded(&bytes[start..end], e.rows);
            start = end;
        }
        self.spare_block = block;
    }

    /// Adds one sample, scanned into `sample` from `body`; `false` when it has no timestamp
    /// (nothing is added).
    pub fn add(&mut self, body: &[u8], sample: &Sample) -> bool {
        let Some(stamp) = sample.stamp(body) else {
            return false;
        };
        if self.stamps.len() == self.flushed {
            self.start_block();
        }
        self.stamps.push(stamp);
        let row = self.stamps.len() - 1;
        self.at_run_start = self.runs.last().is_some_and(|r| r.first_row == row);
        self.touched_now = 0;
        // Whether a single counter has a non-zero status: read as the counters are.
        let mut error = false;
        for (def, &slot) in sample.slots.iter().enumerate() {
            if def >= self.defs.len() {
                error |= sample.has_error(body, def);
                break;
            }
            match slot {
                Slot::Counter(at) => {
                    let raw = counter_raw(body, at, self.frequency[def]);
                    error |= raw.status != 0;
                    let c = match self.by_def[def] {
                        Some(c) => Some(c),
                        None => self.column(def, u32::MAX, self.defs[def].counter_type, None),
                    };
                    if let Some(c) = c {
                        self.set(c, raw);
                    }
                }
                Slot::List(start, end) => {
                    self.add_list(def, Sample::list(body, start, end));
                }
                Slot::Object(k) => {
                    for v in &sample.objects[k as usize].values {
                        if let Some(c) =
                            self.column(def, v.title, v.counter_type, v.instance.as_deref())
                        {
                            self.set(c, v.raw);
                        }
                    }
                }
                Slot::Missing => {}
            }
        }
        if error {
            self.samples_with_errors += 1;
        }
        // Columns this sample did not hold: blank, and the next sample has no previous one.
        // (Their cells in the block are blank already.)
        let row = self.stamps.len() - 1;
        if self.touched_now < self.hot.len() {
            for (col, prev) in self.hot.iter().zip(&mut self.prev) {
                if col.touched != row {
                    *prev = None;
                }
            }
        }
        let pending = self.stamps.len() - self.flushed;
        if pending >= self.cap || pending * self.cols.len() >= PENDING_CELLS {
            self.flush();
        }
        true
    }

    /// Puts runs in time order: rows are moved run by run, and each run's first row is
    /// computed again from the run now before it.
    fn order_runs(&mut self) {
        if self.runs.len() < 2 {
            return;
        }
        let last_end: Vec<Option<Raw>> = self.prev.clone();
        if let Some(run) = self.runs.last_mut() {
            run.end = last_end;
        }
        let rows = self.stamps.len();
        let bounds: Vec<(usize, usize)> = (0..self.runs.len())
            .map(|i| {
                let end = self.runs.get(i + 1).map_or(rows, |r| r.first_row);
                (self.runs[i].first_row, end)
            })
            .collect();
        let mut order: Vec<usize> = (0..self.runs.len()).collect();
        order.sort_by_key(|&i| self.runs[i].key);
        if order.windows(2).all(|w| w[0] < w[1]) {
            return;
        }
        // The first row of each run, against the end of the run before it in time.
        let mut fixes: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.cols.len()];
        for w in 0..order.len() {
            let run = &self.runs[order[w]];
            let pred = w.checked_sub(1).map(|p| &self.runs[order[p]]);
            for &(c, raw) in &run.start {
                let col = &self.hot[c];
                if !col.kept {
                    continue;
                }
                let prev = pred.and_then(|p| p.end.get(c).copied().flatten());
                let v = formulas::value(col.formula, col.counter_type, &raw, prev.as_ref());
                fixes[c].push((run.first_row, v.unwrap_or(f64::NAN)));
            }
        }
        let permutation: Vec<usize> = order
            .iter()
            .flat_map(|&i| bounds[i].0..bounds[i].1)
            .collect();
        self.stamps = permutation.iter().map(|&r| self.stamps[r]).collect();
        for (col, fixes) in self.cols.iter_mut().zip(fixes) {
            if !col.kept {
                continue;
            }
            let mut values = col.values.to_vec();
            for (row, v) in fixes {
                if let Some(slot) = values.get_mut(row) {
                    *slot = v;
                }
            }
            let values: Vec<f64> = permutation.iter().map(|&r| values[r]).collect();
            col.values = Series::from_values(&values);
        }
    }

    /// The finished table, columns in relog's order.
    pub fn finish(mut self, zone_name: String, bias: i32) -> RelogTable {
        self.flush();
        self.collect();
        self.order_runs();
        let mut cols = self.cols;
        cols.sort_by_key(|c| c.order);
        RelogTable {
            zone_name,
            bias,
            kept: cols.iter().map(|c| c.kept).collect(),
            columns: cols.iter().map(|c| c.path.clone()).collect(),
            values: cols
                .into_iter()
                .map(|mut c| {
                    c.values.shrink_to_fit();
                    c.values
                })
                .collect(),
            stamps: self.stamps,
            decoded: OnceCell::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(machine: &str) -> CounterDef {
        CounterDef {
            flags: 0,
            counter_type: 0x00010000,
            frequency: 0,
            machine: Some(format!("\\\\{machine}")),
            object: "Memory".into(),
            instance: None,
            parent: None,
            index: 0,
            counter: "Available Bytes".into(),
        }
    }

    /// A 0x0103 sub-record body: one PDH_RAW_COUNTER at 10:MM with this status and value 5.
    fn part(status: u32, minute: u32) -> Option<(u16, Vec<u8>)> {
        let stamp = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
            .unwrap()
            .and_hms_opt(10, minute, 0)
            .unwrap();
        let epoch = chrono::NaiveDate::from_ymd_opt(1601, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let ft = (stamp - epoch).num_milliseconds() * 10_000;
        let mut sub = vec![0u8; 0x24];
        sub[0..4].copy_from_slice(&status.to_le_bytes());
        sub[4..12].copy_from_slice(&ft.to_le_bytes());
        sub[0x10..0x18].copy_from_slice(&5i64.to_le_bytes());
        Some((0x0103, sub))
    }

    /// Adds a sample record of these sub-records (`None`: one that cannot be read).
    fn add(b: &mut Builder, parts: &[Option<(u16, Vec<u8>)>]) -> bool {
        let mut body = vec![0u8; 8];
        for p in parts {
            let (kind, sub) = p.clone().unwrap_or((0x0903, Vec::new()));
            body.extend_from_slice(&0x4C42u16.to_le_bytes());
            body.extend_from_slice(&kind.to_le_bytes());
            body.extend_from_slice(&(sub.len() as u32 + 8).to_le_bytes());
            body.extend_from_slice(&sub);
        }
        let len = body.len() as u32;
        body[0..2].copy_from_slice(&0x4C42u16.to_le_bytes());
        body[2..4].copy_from_slice(&3u16.to_le_bytes());
        body[4..8].copy_from_slice(&len.to_le_bytes());
        let mut sample = Sample::default();
        sample.scan(&body, parts.len());
        b.add(&body, &sample)
    }

    #[test]
    fn a_row_takes_the_time_of_its_first_counter_read_without_error() {
        // Multi-machine logs: every machine has its own clock; an unreachable one is skipped.
        let keep = |_: &str| true;
        let mut b = Builder::new(vec![def("a"), def("b")], &keep);
        assert!(add(&mut b, &[part(0x800007D0, 1), part(0, 2)]));
        assert!(add(&mut b, &[part(0, 3), part(0, 4)]));
        assert_eq!(b.samples_with_errors, 1);
        let t = b.finish("UTC".into(), 0);
        assert_eq!(t.stamps[0].format("%H:%M").to_string(), "10:02");
        assert_eq!(t.stamps[1].format("%H:%M").to_string(), "10:03");
        assert_eq!((t.cell(0, 0), t.cell(1, 0)), (None, Some(5.0)));
        assert_eq!(
            t.columns,
            [
                "\\\\a\\Memory\\Available Bytes",
                "\\\\b\\Memory\\Available Bytes"
            ]
        );
    }

    /// A 0x0203 list body: these names (stored after the items) and first values.
    fn list_sub(items: &[(&str, i64)]) -> Vec<u8> {
        let mut b = vec![0u8; 0x18 + items.len() * 24];
        b[4..8].copy_from_slice(&(items.len() as u32).to_le_bytes());
        b[0x10..0x18].copy_from_slice(&133_000_000_000_000_000i64.to_le_bytes());
        for (k, (name, v)) in items.iter().enumerate() {
            let item = 0x18 + k * 24;
            let at = b.len() as u32;
            b[item..item + 4].copy_from_slice(&at.to_le_bytes());
            b[item + 8..item + 16].copy_from_slice(&v.to_le_bytes());
            for u in name.encode_utf16().chain([0]) {
                b.extend_from_slice(&u.to_le_bytes());
            }
        }
        b
    }

    fn wildcard() -> CounterDef {
        CounterDef {
            object: "Process".into(),
            instance: Some("*".into()),
            counter: "Handle Count".into(),
            ..def("a")
        }
    }

    #[test]
    fn instance_lists_reuse_columns_only_while_their_names_are_the_same() {
        let keep = |_: &str| true;
        let mut b = Builder::new(vec![wildcard()], &keep);
        let samples = [
            list_sub(&[("a", 1), ("b", 2)]),
            list_sub(&[("a", 3), ("b", 4)]), // the same names: the columns before
            list_sub(&[("b", 5), ("a", 6)]), // the same lengths and offsets, other names
            list_sub(&[("a", 7), ("a", 8)]),
        ];
        for sub in &samples {
            assert!(add(&mut b, &[Some((0x0203, sub.clone()))]));
        }
        let t = b.finish("UTC".into(), 0);
        let names: Vec<&str> = t
            .columns
            .iter()
            .map(|c| &c[c.find('(').unwrap()..c.find(')').unwrap() + 1])
            .collect();
        assert_eq!(names, ["(a)", "(b)", "(a#1)"]);
        let column = |c: usize| (0..4).map(|r| t.cell(c, r)).collect::<Vec<_>>();
        assert_eq!(column(0), [Some(1.0), Some(3.0), Some(6.0), Some(7.0)]);
        assert_eq!(column(1), [Some(2.0), Some(4.0), Some(5.0), None]);
        assert_eq!(column(2), [None, None, None, Some(8.0)]);
    }

    #[test]
    fn a_column_first_seen_after_many_rows_is_blank_before_them() {
        // More rows than one frame holds: encoded blanks, then blanks pending in the block.
        let keep = |_: &str| true;
        let mut b = Builder::new(vec![def("a"), def("b")], &keep);
        let rows = MAX_FRAME_ROWS * 2 + 100;
        for r in 0..rows {
            let second = if r >= MAX_FRAME_ROWS + 50 {
                part(0, 2)
            } else {
                None
            };
            assert!(add(&mut b, &[part(0, 1), second]));
        }
        let t = b.finish("UTC".into(), 0);
        assert_eq!(t.stamps.len(), rows);
        assert_eq!(t.cell(0, 0), Some(5.0));
        assert_eq!(t.cell(0, rows - 1), Some(5.0));
        let filled = (0..rows).filter(|&r| t.cell(1, r).is_some()).count();
        assert_eq!(filled, rows - (MAX_FRAME_ROWS + 50));
        assert_eq!(t.cell(1, MAX_FRAME_ROWS + 49), None);
        assert_eq!(t.cell(1, MAX_FRAME_ROWS + 50), Some(5.0));
    }
}
