//! BLG writer, for tests and benchmarks: a log's table written as a binary perfmon log the way a
//! Windows 10 x64 Data Collector Set writes one (ETW buffers of PDH events), so every scenario
//! family can be read back through the BLG reader. Format facts: `../shared/research/blg-format.md`.
//!
//! Values round-trip exactly. Each cell is taken as the decimal its CSV text holds
//! (mantissa / 10^scale): integers are `PERF_COUNTER_LARGE_RAWCOUNT` (the reader prints N),
//! fractions `PERF_ELAPSED_TIME` with the time base 10^scale (the reader computes (D - N) / F:
//! one correctly rounded division of two exact integers, the same double a correctly rounded
//! text parser gives for the decimal). A column whose values neither form fits (a negative
//! fraction, more than 15 digits) is `PERF_LARGE_RAW_FRACTION`, within a few units of the last
//! digit. A blank is a missing instance in a wildcard list, or a non-zero CStatus on a single
//! counter, as relog shows them.
//!
//! Layout: runs of columns that differ only by instance (`\\H\Process(w3wp)\Private Bytes`,
//! `...(w3wp#1)...`) become one wildcard counter (`Process(*)`, sample kind 0x0203) when the
//! reader's column order (instances in first-seen order) is the table's; other columns are
//! single counters (kind 0x0103).

use std::collections::HashMap;
use std::io::{self, Seek, SeekFrom, Write};

use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::GeneratedLog;
use crate::ingest::CounterPath;

const BUFFER_LEN: usize = 0x10000;
const BUFFER_HEADER_LEN: usize = 0x48;
const EVENT_HEADER_LEN: usize = 0x30;
const PDH_PREFIX_LEN: usize = 24;
/// PDH cuts records into events of about 8 KB (the Vista sample's fragments reach 0x1F88).
const MAX_EVENT_LEN: usize = 0x2000;
/// {933f3bb3-943e-490d-9ced-3cbb14c14479}, the PDH provider, as stored.
const PDH_PROVIDER: [u8; 16] = [
    0xb3, 0x3b, 0x3f, 0x93, 0x3e, 0x94, 0x0d, 0x49, 0x9c, 0xed, 0x3c, 0xbb, 0x14, 0xc1, 0x44, 0x79,
];
const RECORD_COUNTERS: u8 = 32;
const RECORD_SAMPLE: u8 = 34;
/// EVENT_TRACE_HEADER: FULL_HEADER64, marker, Class.Version of PDH events.
const HEADER_TYPE_64: u8 = 0x14;
const MARKER: u8 = 0xC0;
const PDH_EVENT_VERSION: u16 = 60;
const COUNTER_LIST_HEADER: [u8; 8] = [0xFF, 0x06, 0, 0, 0x08, 0, 0x02, 0];
const COUNTER_STRINGS_AT: usize = 0x34;
const BL: u16 = 0x4C42;
const KIND_SAMPLE: u16 = 0x0003;
const KIND_COUNTER: u16 = 0x0103;
const KIND_LIST: u16 = 0x0203;
const FLAG_WILDCARD: u32 = 0x1;
const LARGE_RAWCOUNT: u32 = 0x0001_0100;
const ELAPSED_TIME: u32 = 0x3024_0500;
const LARGE_RAW_FRACTION: u32 = 0x2002_0500;
/// PDH_CSTATUS_NO_INSTANCE (a process that is not running) and PDH_CSTATUS_INVALID_DATA.
const STATUS_NO_INSTANCE: u32 = 0x8000_07D1;
const STATUS_INVALID_DATA: u32 = 0xC000_0BC6;
/// The writer's claimed performance-counter frequency and Windows build (Server 2019).
const PERF_FREQ: i64 = 10_000_000;
const OS_BUILD: u32 = 17763;
/// FILETIME ticks (100 ns) per millisecond.
const TICKS_PER_MS: i64 = 10_000;
/// Largest integer a double holds exactly, with room for the scaling to 10^scale.
const EXACT_LIMIT: f64 = (1u64 << 53) as f64;
const TZRES: &str = include_str!("../../data/tz/tzres.toml");

/// A cell as its text holds it: `mantissa / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub mantissa: i64,
    pub scale: u32,
}

impl Decimal {
    /// The decimal `format!("{value:.digits$}")` writes (`text` is scratch space); `None` when
    /// it does not fit an i64.
    pub fn of(value: f64, digits: usize, text: &mut String) -> Option<Decimal> {
        use std::fmt::Write as _;
        text.clear();
        let _ = write!(text, "{value:.digits$}");
        Decimal::parse(text)
    }

    /// The shortest decimal that reads back as `value`.
    pub fn shortest(value: f64, text: &mut String) -> Option<Decimal> {
        use std::fmt::Write as _;
        text.clear();
        let _ = write!(text, "{value}");
        Decimal::parse(text)
    }

    fn parse(text: &str) -> Option<Decimal> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let mut mantissa: i64 = 0;
        for c in int.bytes().chain(frac.bytes()) {
            if !c.is_ascii_digit() {
                return None;
            }
            mantissa = mantissa.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
        }
        let scale = u32::try_from(frac.len()).ok().filter(|&s| s <= 18)?;
        Some(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale,
        })
    }
}

/// One cell of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Blank,
    Exact(Decimal),
    /// A number with no short decimal form (written approximately).
    Inexact(f64),
}

/// A table to write: column paths (as in a CSV header) and rows, read twice (the counter list,
/// which comes first, depends on which cells are blank).
pub trait Rows {
    fn paths(&self) -> Vec<String>;
    fn rows(&self) -> usize;
    /// Row `t`: its local time, and its cells into `cells` (one per path).
    fn row(&mut self, t: usize, cells: &mut Vec<Cell>) -> NaiveDateTime;
}

/// What the header says about where the log came from.
#[derive(Debug, Clone)]
pub struct LogInfo {
    /// Log name: the logger GUID is derived from it and the file name made of it.
    pub name: String,
    /// The zone's standard name as a CSV header cell has it, and its bias (minutes west).
    pub zone: String,
    pub bias: i32,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub bytes: u64,
    pub buffers: usize,
    pub events: usize,
    /// Records split into more than one event.
    pub fragmented_records: usize,
    /// Counter-list entries: wildcard instance lists and single counters.
    pub wildcard_counters: usize,
    pub single_counters: usize,
    /// Columns written with the approximate encoding.
    pub inexact_columns: usize,
}

/// Writes `log` as a BLG (`out` is rewound at the end to finish the header).
pub fn write_generated<W: Write + Seek>(log: &GeneratedLog, out: W) -> io::Result<(W, Written)> {
    let info = LogInfo {
        name: log.spec.name.clone(),
        zone: log.spec.time_zone.clone(),
        bias: log.spec.bias_minutes,
    };
    let mut rows = GeneratedRows {
        table: log.spec.table(),
        cells: Vec::new(),
        text: String::new(),
    };
    write(out, &info, &mut rows)
}

/// The whole BLG of `log` in memory.
pub fn to_blg_bytes(log: &GeneratedLog) -> Vec<u8> {
    let cursor = io::Cursor::new(Vec::new());
    match write_generated(log, cursor) {
        Ok((c, _)) => c.into_inner(),
        // Writing into memory cannot fail.
        Err(_) => Vec::new(),
    }
}

struct GeneratedRows<'a> {
    table: super::pdh::Table<'a>,
    cells: Vec<(f64, usize)>,
    text: String,
}

impl Rows for GeneratedRows<'_> {
    fn paths(&self) -> Vec<String> {
        self.table.paths()
    }

    fn rows(&self) -> usize {
        self.table.rows()
    }

    fn row(&mut self, t: usize, cells: &mut Vec<Cell>) -> NaiveDateTime {
        let stamp = self.table.row(t, &mut self.cells);
        cells.clear();
        for &(v, digits) in &self.cells {
            cells.push(if !v.is_finite() {
                Cell::Blank
            } else {
                match Decimal::of(v, digits, &mut self.text) {
                    Some(d) => Cell::Exact(d),
                    None => Cell::Inexact(v),
                }
            });
        }
        stamp
    }
}

/// How a counter's values are stored.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    /// N in First.
    Raw,
    /// (D - N) / 10^scale with N = 0.
    Elapsed { scale: u32 },
    /// N / D * 100 with D = 10^(digits + 2).
    Fraction { digits: u32 },
}

impl Encoding {
    fn counter_type(self) -> u32 {
        match self {
            Encoding::Raw => LARGE_RAWCOUNT,
            Encoding::Elapsed { .. } => ELAPSED_TIME,
            Encoding::Fraction { .. } => LARGE_RAW_FRACTION,
        }
    }

    fn frequency(self) -> i64 {
        match self {
            Encoding::Elapsed { scale } => 10i64.pow(scale),
            _ => PERF_FREQ,
        }
    }

    /// (FirstValue, SecondValue) of a non-blank cell.
    fn raw(self, cell: Cell) -> (i64, i64) {
        match (self, cell) {
            (Encoding::Raw, Cell::Exact(d)) => (d.mantissa, 0),
            (Encoding::Elapsed { scale }, Cell::Exact(d)) => {
                (0, d.mantissa * 10i64.pow(scale - d.scale))
            }
            (Encoding::Fraction { digits }, cell) => {
                let v = match cell {
                    Cell::Exact(d) => d.mantissa as f64 / 10f64.powi(d.scale as i32),
                    Cell::Inexact(v) => v,
                    Cell::Blank => 0.0,
                };
                let n = (v * 10f64.powi(digits as i32)).round() as i64;
                (n, 10i64.pow(digits + 2))
            }
            _ => (0, 0),
        }
    }
}

/// What the first pass learns about a column.
#[derive(Debug, Clone, Default)]
struct Stats {
    first_row: Option<usize>,
    max_scale: u32,
    max_abs: f64,
    negative: bool,
    inexact: bool,
}

impl Stats {
    fn add(&mut self, t: usize, cell: Cell) {
        match cell {
            Cell::Blank => return,
            Cell::Exact(d) => {
                self.max_scale = self.max_scale.max(d.scale);
                self.max_abs = self.max_abs.max((d.mantissa as f64).abs());
                self.negative |= d.mantissa < 0;
            }
            Cell::Inexact(v) => {
                self.inexact = true;
                self.max_abs = self.max_abs.max(v.abs());
            }
        }
        self.first_row.get_or_insert(t);
    }

    fn merge(&mut self, o: &Stats) {
        self.first_row = match (self.first_row, o.first_row) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max_scale = self.max_scale.max(o.max_scale);
        self.max_abs = self.max_abs.max(o.max_abs);
        self.negative |= o.negative;
        self.inexact |= o.inexact;
    }

    fn encoding(&self) -> Encoding {
        if !self.inexact && self.max_scale == 0 {
            return Encoding::Raw;
        }
        // max_abs is the largest mantissa; scaled to the common scale it must stay exact.
        let scaled = self.max_abs * 10f64.powi(self.max_scale as i32);
        if !self.inexact && !self.negative && self.max_scale <= 15 && scaled < EXACT_LIMIT {
            return Encoding::Elapsed {
                scale: self.max_scale,
            };
        }
        // As many digits as the largest value leaves room for in an i64.
        let mut digits = self.max_scale.min(15);
        while digits > 0 && self.max_abs * 10f64.powi(digits as i32) > 4e18 {
            digits -= 1;
        }
        Encoding::Fraction { digits }
    }
}

/// One entry of the counter list.
struct Counter {
    path: CounterPath,
    encoding: Encoding,
    /// Wildcard: the table's columns, each with the instance name it is listed under.
    /// Single: one column.
    columns: Vec<usize>,
    wildcard: bool,
}

fn parse_path(raw: &str) -> io::Result<CounterPath> {
    CounterPath::parse(raw).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// Groups the columns into counter-list entries (see the module comment).
fn plan(paths: &[CounterPath], stats: &[Stats]) -> Vec<Counter> {
    let same_counter = |a: &CounterPath, b: &CounterPath| {
        a.machine == b.machine
            && a.original_object == b.original_object
            && a.original_counter == b.original_counter
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < paths.len() {
        let mut j = i + 1;
        if paths[i].instance.is_some() && paths[i].parent.is_none() {
            while j < paths.len()
                && paths[j].instance.is_some()
                && paths[j].parent.is_none()
                && same_counter(&paths[i], &paths[j])
            {
                j += 1;
            }
        }
        let run = i..j;
        // The reader lists a wildcard's instances in first-seen order and cannot show an
        // instance that never appears: a wildcard only where that gives the table's columns.
        let firsts: Vec<Option<usize>> = run.clone().map(|c| stats[c].first_row).collect();
        let ordered = firsts.iter().all(Option::is_some) && firsts.windows(2).all(|w| w[0] <= w[1]);
        let mut labels: Vec<String> = run.clone().map(|c| instance_label(&paths[c])).collect();
        labels.sort();
        let distinct = labels.windows(2).all(|w| w[0] != w[1]);
        if paths[i].instance.is_some() && ordered && distinct {
            let mut s = Stats::default();
            for c in run.clone() {
                s.merge(&stats[c]);
            }
            out.push(Counter {
                path: paths[i].clone(),
                encoding: s.encoding(),
                columns: run.collect(),
                wildcard: true,
            });
        } else {
            for c in run {
                out.push(Counter {
                    path: paths[c].clone(),
                    encoding: stats[c].encoding(),
                    columns: vec![c],
                    wildcard: false,
                });
            }
        }
        i = j;
    }
    out
}

fn instance_label(p: &CounterPath) -> String {
    match (&p.instance, p.index) {
        (Some(i), Some(n)) => format!("{i}#{n}"),
        (Some(i), None) => i.clone(),
        (None, _) => String::new(),
    }
}

/// Writes the table as a BLG into `out` (rewound at the end to finish buffer 0).
pub fn write<W: Write + Seek>(
    out: W,
    info: &LogInfo,
    rows: &mut dyn Rows,
) -> io::Result<(W, Written)> {
    let raw_paths = rows.paths();
    let paths: Vec<CounterPath> = raw_paths
        .iter()
        .map(|p| parse_path(p))
        .collect::<io::Result<_>>()?;
    let n = rows.rows();
    let mut cells = Vec::with_capacity(paths.len());
    let mut stats = vec![Stats::default(); paths.len()];
    for t in 0..n {
        rows.row(t, &mut cells);
        for (s, &c) in stats.iter_mut().zip(&cells) {
            s.add(t, c);
        }
    }
    let counters = plan(&paths, &stats);
    let mut written = Written {
        wildcard_counters: counters.iter().filter(|c| c.wildcard).count(),
        single_counters: counters.iter().filter(|c| !c.wildcard).count(),
        inexact_columns: counters
            .iter()
            .filter(|c| matches!(c.encoding, Encoding::Fraction { .. }))
            .map(|c| c.columns.len())
            .sum(),
        ..Written::default()
    };
    let logger = logger_guid(&info.name);
    let mut file = Container::new(out, logger)?;

    let mut list = COUNTER_LIST_HEADER.to_vec();
    for c in &counters {
        counter_record(&mut list, c);
    }
    let mut first_stamp = None;
    let mut last_stamp = None;
    let mut record = Vec::new();
    let mut names: Vec<u16> = Vec::new();
    for t in 0..n {
        let stamp = rows.row(t, &mut cells);
        let local = filetime(stamp);
        let utc = local + i64::from(info.bias) * 60 * 1000 * TICKS_PER_MS;
        if t == 0 {
            file.stamp = utc;
            file.event(RECORD_COUNTERS, local, &list)?;
        }
        first_stamp.get_or_insert(utc);
        last_stamp = Some(utc);
        sample_record(&mut record, &mut names, &counters, &paths, &cells, local);
        file.stamp = utc;
        file.event(RECORD_SAMPLE, local, &record)?;
    }
    if n == 0 {
        file.event(RECORD_COUNTERS, 0, &list)?;
    }
    let header = HeaderFacts {
        start_utc: first_stamp.unwrap_or(0),
        end_utc: last_stamp.unwrap_or(0),
        zone: &info.zone,
        bias: info.bias,
        logger,
        file_name: format!("C:\\PerfLogs\\Admin\\perfleak\\{}.blg", info.name),
    };
    let out = file.finish(&header, &mut written)?;
    Ok((out, written))
}

fn put_u16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_i64(b: &mut Vec<u8>, v: i64) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_utf16z(b: &mut Vec<u8>, s: &str) {
    for u in s.encode_utf16().chain([0]) {
        put_u16(b, u);
    }
}

fn pad8(b: &mut Vec<u8>, from: usize) {
    while !(b.len() - from).is_multiple_of(8) {
        b.push(0);
    }
}

/// A local or UTC time as a FILETIME (100 ns since 1601), to the millisecond.
fn filetime(t: NaiveDateTime) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(1601, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    (t - epoch).num_milliseconds() * TICKS_PER_MS
}

/// A counter-list record: lengths, flags, type, time base, string offsets, strings.
fn counter_record(list: &mut Vec<u8>, c: &Counter) {
    let p = &c.path;
    let mut strings = Vec::new();
    let offset = |s: Option<&str>, strings: &mut Vec<u8>| -> i32 {
        match s {
            Some(s) => {
                let at = strings.len() as i32;
                put_utf16z(strings, s);
                at
            }
            None => -1,
        }
    };
    let machine = p.machine.as_ref().map(|m| format!("\\\\{m}"));
    let m = offset(machine.as_deref(), &mut strings);
    let o = offset(Some(&p.original_object), &mut strings);
    let instance = if c.wildcard {
        Some("*")
    } else {
        p.instance.as_deref()
    };
    let i = offset(instance, &mut strings);
    let parent = offset(p.parent.as_deref(), &mut strings);
    let index = if c.wildcard { 0 } else { p.index.unwrap_or(0) };
    let k = offset(Some(&p.original_counter), &mut strings);
    let start = list.len();
    put_u32(list, 0); // length, set below
    put_u32(list, if c.wildcard { FLAG_WILDCARD } else { 0 });
    put_u32(list, 0);
    put_u32(list, c.encoding.counter_type());
    put_i64(list, c.encoding.frequency());
    put_u32(list, 0); // default scale
    for v in [m, o, i, parent, index as i32, k] {
        put_u32(list, v as u32);
    }
    debug_assert_eq!(list.len() - start, COUNTER_STRINGS_AT);
    list.extend_from_slice(&strings);
    pad8(list, start);
    let len = (list.len() - start) as u32;
    list[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// One sample: an outer BL record holding one sub-record per counter of the list.
fn sample_record(
    b: &mut Vec<u8>,
    names: &mut Vec<u16>,
    counters: &[Counter],
    paths: &[CounterPath],
    cells: &[Cell],
    local: i64,
) {
    b.clear();
    put_u16(b, BL);
    put_u16(b, KIND_SAMPLE);
    put_u32(b, 0);
    for c in counters {
        if c.wildcard {
            list_record(b, names, c, paths, cells, local);
        } else {
            let col = c.columns[0];
            let cell = cells[col];
            let status = match cell {
                Cell::Blank if paths[col].instance.is_some() => STATUS_NO_INSTANCE,
                Cell::Blank => STATUS_INVALID_DATA,
                _ => 0,
            };
            let (first, second) = match cell {
                Cell::Blank => (0, 0),
                cell => c.encoding.raw(cell),
            };
            put_u16(b, BL);
            put_u16(b, KIND_COUNTER);
            put_u32(b, 0x30);
            put_u32(b, status);
            put_i64(b, local);
            put_u32(b, 0);
            put_i64(b, first);
            put_i64(b, second);
            put_u32(b, 1);
            put_u32(b, 0);
        }
    }
    let len = b.len() as u32;
    b[4..8].copy_from_slice(&len.to_le_bytes());
}

/// A wildcard's instances of this moment (kind 0x0203). Instances of one name are listed bare
/// where the reader's numbering (`name`, `name#1`... in list order) gives their labels, and
/// with their `#N` otherwise (an earlier one is absent).
fn list_record(
    b: &mut Vec<u8>,
    names: &mut Vec<u16>,
    c: &Counter,
    paths: &[CounterPath],
    cells: &[Cell],
    local: i64,
) {
    let present: Vec<usize> = c
        .columns
        .iter()
        .copied()
        .filter(|&col| cells[col] != Cell::Blank)
        .collect();
    // Per instance name: whether its present columns are #0, #1, #2... in order.
    let mut next: HashMap<&str, (u32, bool)> = HashMap::new();
    for &col in &present {
        let p = &paths[col];
        let name = p.instance.as_deref().unwrap_or("");
        let e = next.entry(name).or_insert((0, true));
        e.1 &= p.index.unwrap_or(0) == e.0;
        e.0 += 1;
    }
    let start = b.len();
    put_u16(b, BL);
    put_u16(b, KIND_LIST);
    put_u32(b, 0);
    let body = b.len();
    put_u32(b, 0); // body size, set below
    put_u32(b, present.len() as u32);
    put_u32(b, 0);
    put_u32(b, 0);
    put_i64(b, local);
    let items = b.len();
    b.resize(items + present.len() * 24, 0);
    names.clear();
    let names_at = b.len() - body;
    for (k, &col) in present.iter().enumerate() {
        let p = &paths[col];
        let name = p.instance.as_deref().unwrap_or("");
        let name_at = names_at + names.len() * 2;
        if next.get(name).is_some_and(|e| e.1) {
            names.extend(name.encode_utf16());
        } else {
            names.extend(instance_label(p).encode_utf16());
        }
        names.push(0);
        let (first, second) = c.encoding.raw(cells[col]);
        let item = items + k * 24;
        b[item..item + 4].copy_from_slice(&(name_at as u32).to_le_bytes());
        b[item + 4..item + 8].copy_from_slice(&1u32.to_le_bytes());
        b[item + 8..item + 16].copy_from_slice(&first.to_le_bytes());
        b[item + 16..item + 24].copy_from_slice(&second.to_le_bytes());
    }
    for &u in names.iter() {
        put_u16(b, u);
    }
    pad8(b, start);
    let len = (b.len() - start) as u32;
    b[start + 4..start + 8].copy_from_slice(&len.to_le_bytes());
    b[body..body + 4].copy_from_slice(&(len - 8).to_le_bytes());
}

/// A GUID made from the log name (FNV-1a), stable across runs.
fn logger_guid(name: &str) -> [u8; 16] {
    let fnv = |seed: u64| {
        name.bytes().fold(0xcbf2_9ce4_8422_2325 ^ seed, |h, c| {
            (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let mut g = [0u8; 16];
    g[..8].copy_from_slice(&fnv(1).to_le_bytes());
    g[8..].copy_from_slice(&fnv(2).to_le_bytes());
    g[7] = (g[7] & 0x0F) | 0x40; // version 4 form
    g
}

/// The GUID as text, as the header's LoggerName holds it.
fn guid_text(g: &[u8; 16]) -> String {
    let d1 = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
    let d2 = u16::from_le_bytes([g[4], g[5]]);
    let d3 = u16::from_le_bytes([g[6], g[7]]);
    let tail: String = g[8..].iter().map(|b| format!("{b:02x}")).collect();
    format!("{d1:08x}-{d2:04x}-{d3:04x}-{}-{}", &tail[..4], &tail[4..])
}

#[derive(Deserialize)]
struct TzTable {
    zones: Vec<TzZone>,
}

#[derive(Deserialize)]
struct TzZone {
    std: u32,
    dlt: u32,
    standard: String,
}

/// The header's zone names: `@tzres.dll,-NNN` references where `data/tz/tzres.toml` knows
/// the zone (as Windows writes them), the literal name otherwise.
fn zone_names(standard: &str) -> (String, String) {
    let table: Option<TzTable> = toml::from_str(TZRES).ok();
    let zone = table
        .as_ref()
        .and_then(|t| t.zones.iter().find(|z| z.standard == standard));
    match zone {
        Some(z) => (
            format!("@tzres.dll,-{}", z.std),
            format!("@tzres.dll,-{}", z.dlt),
        ),
        None => (
            standard.to_string(),
            standard.replace("Standard", "Daylight"),
        ),
    }
}

struct HeaderFacts<'a> {
    start_utc: i64,
    end_utc: i64,
    zone: &'a str,
    bias: i32,
    logger: [u8; 16],
    file_name: String,
}

/// Buffer 0's one event: a system trace header and TRACE_LOGFILE_HEADER (64-bit layout).
fn header_event(h: &HeaderFacts, buffers_written: u32) -> Vec<u8> {
    let mut e = Vec::new();
    put_u16(&mut e, 0);
    e.push(2); // 64-bit system trace header
    e.push(MARKER);
    put_u16(&mut e, 0); // size, set below
    put_u16(&mut e, 0);
    put_u32(&mut e, 0x0F00);
    put_u32(&mut e, 0x0D00);
    put_i64(&mut e, h.start_utc);
    put_u32(&mut e, 0);
    put_u32(&mut e, 0);
    put_u32(&mut e, BUFFER_LEN as u32);
    e.extend_from_slice(&[10, 0, 0, 0]); // ETW 10.0
    put_u32(&mut e, OS_BUILD);
    put_u32(&mut e, 4); // processors
    put_i64(&mut e, h.end_utc);
    put_u32(&mut e, 156_250); // timer resolution
    put_u32(&mut e, 0); // maximum file size
    put_u32(&mut e, 0x1); // EVENT_TRACE_FILE_MODE_SEQUENTIAL
    put_u32(&mut e, buffers_written);
    put_u32(&mut e, 1); // start buffers
    put_u32(&mut e, 8); // pointer size
    put_u32(&mut e, 0); // events lost
    put_u32(&mut e, 2400); // CPU MHz
    put_i64(&mut e, 0); // LoggerName, LogFileName pointers
    put_i64(&mut e, 0);
    // TIME_ZONE_INFORMATION, padded to 176.
    let (standard, daylight) = zone_names(h.zone);
    let tz_name = |e: &mut Vec<u8>, s: &str| {
        let units: Vec<u16> = s.encode_utf16().take(31).collect();
        for i in 0..32 {
            put_u16(e, units.get(i).copied().unwrap_or(0));
        }
    };
    let tzi = e.len();
    put_u32(&mut e, h.bias as u32);
    tz_name(&mut e, &standard);
    e.extend_from_slice(&[0; 16]); // StandardDate: no daylight rule given
    put_u32(&mut e, 0);
    tz_name(&mut e, &daylight);
    e.extend_from_slice(&[0; 16]);
    put_u32(&mut e, (-60i32) as u32);
    e.resize(tzi + 176, 0);
    put_i64(&mut e, h.start_utc - 24 * 3600 * 1000 * TICKS_PER_MS); // boot time
    put_i64(&mut e, PERF_FREQ);
    put_i64(&mut e, h.start_utc);
    put_u32(&mut e, 2); // clock type
    put_u32(&mut e, 0); // buffers lost
    put_utf16z(&mut e, &guid_text(&h.logger));
    put_utf16z(&mut e, &h.file_name);
    let size = e.len() as u16;
    e[4..6].copy_from_slice(&size.to_le_bytes());
    e
}

/// Buffers being filled and written: one held at a time, written when the next is started.
struct Container<W> {
    out: W,
    buf: Vec<u8>,
    /// Buffers written after buffer 0.
    count: usize,
    events: usize,
    fragmented: usize,
    logger: [u8; 16],
    /// UTC time of the latest sample, the buffer's clock.
    stamp: i64,
}

impl<W: Write + Seek> Container<W> {
    fn new(mut out: W, logger: [u8; 16]) -> io::Result<Self> {
        // Buffer 0 is written at the end, when the header's totals are known.
        out.write_all(&[0xFF; BUFFER_LEN])?;
        Ok(Container {
            out,
            buf: Vec::with_capacity(BUFFER_LEN),
            count: 0,
            events: 0,
            fragmented: 0,
            logger,
            stamp: 0,
        })
    }

    fn start_buffer(&mut self) {
        self.buf.clear();
        self.buf.resize(BUFFER_HEADER_LEN, 0);
    }

    /// Finishes the held buffer: header fields, 0xFF fill.
    fn flush(&mut self, last: bool) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let used = self.buf.len() as u32;
        fill_header(
            &mut self.buf,
            used,
            self.stamp,
            if last { 0x21 } else { 0x20 },
            0,
        );
        self.buf.resize(BUFFER_LEN, 0xFF);
        self.out.write_all(&self.buf)?;
        self.count += 1;
        self.buf.clear();
        Ok(())
    }

    /// Writes one PDH record, in as many ~8 KB fragments as it needs; an event that does not
    /// fit the held buffer starts the next.
    fn event(&mut self, kind: u8, local: i64, body: &[u8]) -> io::Result<()> {
        let room = MAX_EVENT_LEN - EVENT_HEADER_LEN - PDH_PREFIX_LEN;
        let count = body.len().div_ceil(room).max(1);
        if count > 1 {
            self.fragmented += 1;
        }
        for k in 0..count {
            let chunk = &body[(k * room).min(body.len())..((k + 1) * room).min(body.len())];
            let size = EVENT_HEADER_LEN + PDH_PREFIX_LEN + chunk.len();
            let padded = (size + 7) & !7;
            if self.buf.is_empty() || self.buf.len() + padded > BUFFER_LEN {
                self.flush(false)?;
                self.start_buffer();
            }
            let b = &mut self.buf;
            let start = b.len();
            put_u16(b, size as u16);
            b.push(HEADER_TYPE_64);
            b.push(MARKER);
            b.push(kind);
            b.push(0);
            put_u16(b, PDH_EVENT_VERSION);
            put_u32(b, 0x0F00);
            put_u32(b, 0x0D00);
            put_i64(b, local);
            b.extend_from_slice(&PDH_PROVIDER);
            put_i64(b, 0);
            b.extend_from_slice(&self.logger);
            put_u32(b, k as u32 + 1);
            put_u32(b, count as u32);
            b.extend_from_slice(chunk);
            b.resize(start + padded, 0);
            self.events += 1;
        }
        Ok(())
    }

    fn finish(mut self, h: &HeaderFacts, written: &mut Written) -> io::Result<W> {
        self.flush(true)?;
        let buffers = self.count + 1;
        let event = header_event(h, buffers as u32);
        let mut b0 = vec![0u8; BUFFER_HEADER_LEN];
        b0.extend_from_slice(&event);
        pad8(&mut b0, 0);
        let used = b0.len() as u32;
        fill_header(&mut b0, used, 0, 1, 4);
        b0.resize(BUFFER_LEN, 0xFF);
        let end = self.out.stream_position()?;
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&b0)?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        written.bytes = end;
        written.buffers = buffers;
        written.events = self.events;
        written.fragmented_records = self.fragmented;
        Ok(self.out)
    }
}

/// The WMI_BUFFER_HEADER fields the format uses: size, bytes used (twice), UTC time, flag, type.
fn fill_header(b: &mut [u8], used: u32, stamp: i64, flag: u16, kind: u16) {
    b[0..4].copy_from_slice(&(BUFFER_LEN as u32).to_le_bytes());
    b[4..8].copy_from_slice(&used.to_le_bytes());
    b[0x10..0x18].copy_from_slice(&stamp.to_le_bytes());
    b[0x30..0x34].copy_from_slice(&used.to_le_bytes());
    b[0x34..0x36].copy_from_slice(&flag.to_le_bytes());
    b[0x36..0x38].copy_from_slice(&kind.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_from_the_text() {
        let mut s = String::new();
        let d = Decimal::of(12.3456, 3, &mut s).unwrap();
        assert_eq!(
            d,
            Decimal {
                mantissa: 12346,
                scale: 3
            }
        );
        let d = Decimal::of(4096.0, 0, &mut s).unwrap();
        assert_eq!(
            d,
            Decimal {
                mantissa: 4096,
                scale: 0
            }
        );
        assert_eq!(Decimal::shortest(0.1, &mut s).unwrap().scale, 1);
        assert_eq!(Decimal::of(1e300, 0, &mut s), None);
    }

    #[test]
    fn an_elapsed_time_fraction_gives_the_parsed_double() {
        // (D - N) / F with exact integers is the correctly rounded decimal.
        let mut s = String::new();
        for v in [0.1, 12.345, 99.999, 123_456.789, 7.0e-3] {
            let d = Decimal::of(v, 3, &mut s).unwrap();
            let (n, dd) = Encoding::Elapsed { scale: 3 }.raw(Cell::Exact(d));
            let got = (dd - n) as f64 / 1000.0;
            assert_eq!(got.to_bits(), s.parse::<f64>().unwrap().to_bits(), "{s}");
        }
    }

    #[test]
    fn guid_text_matches_the_stored_bytes() {
        let g = logger_guid("x");
        let t = guid_text(&g);
        assert_eq!(t.len(), 36);
        assert_eq!(&t[14..15], "4");
    }
}
