//! Binary perfmon logs (.blg), read natively: an ETW container of 64 KiB buffers holding PDH
//! events (the counter list, samples, counter-name tables). The reader builds the table relog
//! would print ([`RelogTable`]), and from it the [`PerfLog`] every later stage reads.
//!
//! Layers, one per file: `container` (buffers, events, fragments), `header` (log-file header,
//! time zone), `counters` (the counter list), `samples` and `perfdata` (sample records),
//! `formulas` (counter types), `timezone` (tzres names), `table` (the relog table).
//! Threads: the caller's reads, joins and scans (`walk`), a second builds the table (`decode`),
//! and each full block of rows is encoded on one of its own (`table`); docs/blg.md, Speed.
//! Format facts: `../shared/research/blg-format.md`; choices: `docs/blg.md`.

mod container;
mod counters;
mod formulas;
mod header;
mod perfdata;
mod samples;
mod table;
mod timezone;

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

pub use container::{looks_like_etw, BUFFER_LEN};
pub use counters::CounterDef;
pub use formulas::{formula, Formula, Raw};
pub use header::{LogHeader, TimeZone};
pub use table::RelogTable;

use super::error::IngestError;
use super::log::{Column, CounterPath, LogFormat, PerfLog, SourceInfo};
use super::series::Series;

/// Record kinds (the event's Class.Type).
const RECORD_COUNTERS: u8 = 32;
const RECORD_SAMPLE: u8 = 34;
const RECORD_NAMES: u8 = 36;
/// Samples met before the counter list are held up to this many bytes.
const MAX_EARLY_SAMPLES: usize = 64 << 20;
/// Damage messages listed before they are only counted.
const MAX_LISTED: usize = 20;

/// Damage met while reading, each message naming the buffer and byte offset.
pub struct Damage {
    file: String,
    list: Vec<String>,
    count: usize,
    /// On the reading thread: every message, with its place, for the decoding thread's list.
    relay: Option<Vec<(usize, u64, String)>>,
}

impl Damage {
    fn new(file: &str) -> Self {
        Damage {
            file: file.to_string(),
            list: Vec::new(),
            count: 0,
            relay: None,
        }
    }

    /// Damage that is only passed on (to the decoding thread, which lists and counts it).
    fn relaying() -> Self {
        Damage {
            relay: Some(Vec::new()),
            ..Damage::new("")
        }
    }

    pub fn at(&mut self, buffer: usize, offset: u64, message: impl std::fmt::Display) {
        if let Some(relay) = self.relay.as_mut() {
            relay.push((buffer, offset, message.to_string()));
            return;
        }
        self.count += 1;
        if self.count <= MAX_LISTED {
            self.list.push(format!(
                "{}: buffer {buffer} (byte {offset}): {message}",
                self.file
            ));
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.count > MAX_LISTED {
            self.list.push(format!(
                "{}: {} more damaged places",
                self.file,
                self.count - MAX_LISTED
            ));
        }
        self.list
    }
}

/// What a BLG's header and counter list say, for `inspect`.
#[derive(Debug, Clone, Serialize)]
pub struct BlgInfo {
    pub os_build: u32,
    pub etw_version: String,
    pub pointer_size: u32,
    pub logger_name: String,
    pub log_file_name: String,
    /// The zone names as stored (a literal name or a `@tzres.dll,-NNN` reference).
    pub time_zone_stored: String,
    pub counters: usize,
    pub whole_object: bool,
    pub buffers: usize,
    /// Samples in which some counter reported a non-zero status (blank cells).
    pub samples_with_errors: usize,
}

/// A whole BLG read: header, table and the damage met.
pub struct BlgLog {
    pub header: LogHeader,
    pub counters: Vec<CounterDef>,
    pub table: RelogTable,
    pub buffers: usize,
    pub samples_with_errors: usize,
    pub warnings: Vec<String>,
}

impl BlgLog {
    pub fn info(&self) -> BlgInfo {
        BlgInfo {
            os_build: self.header.os_build,
            etw_version: format!("{}.{}", self.header.version.0, self.header.version.1),
            pointer_size: self.header.pointer_size,
            logger_name: self.header.logger_name.clone(),
            log_file_name: self.header.log_file_name.clone(),
            time_zone_stored: self.header.time_zone.standard_raw.clone(),
            counters: self.counters.len(),
            whole_object: self.counters.iter().any(CounterDef::whole_object),
            buffers: self.buffers,
            samples_with_errors: self.samples_with_errors,
        }
    }
}

fn blg_error(name: &str, offset: u64, message: impl Into<String>) -> IngestError {
    IngestError::BlgFormat {
        file: name.to_string(),
        offset,
        message: message.into(),
    }
}

/// What the reading thread hands the decoding one, in file order: damage met in the container
/// and whole records, so every message keeps its place among those the records give.
enum Event<'a> {
    Damage(usize, u64, String),
    /// A record, its run, and for a sample after the counter list, the sample scanned.
    Record(container::Record<'a>, (usize, i64), Option<samples::Sample>),
}

/// What the decoding thread gives back to be filled again: a record's body and its scan.
type Returned = (Vec<u8>, Option<samples::Sample>);

/// Scans kept for reuse at most.
const SPARE_SAMPLES: usize = 4;
/// Records handed over at once (bytes of their bodies): few hand-overs, little held.
const BATCH_BYTES: usize = 1 << 20;
/// Batches in flight between the two threads.
const BATCHES_IN_FLIGHT: usize = 2;

/// Reads a BLG from a stream, one buffer at a time. `keep(path)` says which columns' values to
/// keep (the others are listed, not stored).
///
/// Two threads: this one reads the buffers, walks their events, joins fragments into records
/// and scans samples (the stream need not be `Send`); a second one builds the table from
/// them. Records go over in small batches, and their bodies come back to be filled again.
pub fn read(
    name: &str,
    input: impl Read,
    keep: &(dyn Fn(&str) -> bool + Sync),
) -> Result<BlgLog, IngestError> {
    read_from(name, container::Buffers::new(input), keep)
}

/// Reads a BLG held whole in memory (a mapped file): its buffers, and records of one fragment,
/// are read in place instead of being copied. `release(start, len)` is told of each stretch
/// of bytes no longer read (nothing refers to it any more), in file order.
pub fn read_bytes(
    name: &str,
    bytes: &[u8],
    keep: &(dyn Fn(&str) -> bool + Sync),
    release: &mut dyn FnMut(usize, usize),
) -> Result<BlgLog, IngestError> {
    read_from(name, container::Slices::new(bytes, release), keep)
}

fn read_from<'a>(
    name: &str,
    mut buffers: impl container::BufferSource<'a>,
    keep: &(dyn Fn(&str) -> bool + Sync),
) -> Result<BlgLog, IngestError> {
    let io = |e| IngestError::io(name, e);
    let first = buffers
        .next_buffer()
        .map_err(io)?
        .ok_or_else(|| IngestError::Empty {
            file: name.to_string(),
        })?;
    if first.bytes.len() < container::BUFFER_HEADER_LEN + 0x20 {
        return Err(blg_error(
            name,
            first.bytes.len() as u64,
            "a binary perfmon log (.blg) cut short inside its first buffer: nothing to read",
        ));
    }
    let header = header::parse(&first).map_err(|m| blg_error(name, 0x48, m))?;
    let (events, received) = std::sync::mpsc::sync_channel::<Vec<Event<'a>>>(BATCHES_IN_FLIGHT);
    let (back, returned) = std::sync::mpsc::channel::<Returned>();
    let progress = AtomicUsize::new(0);
    let (count, decoded) = std::thread::scope(|scope| {
        let decoder = scope.spawn(|| decode(name, received, back, keep, &progress));
        let count = walk(first, &mut buffers, events, &returned, &progress);
        // The decoder ends once the walk has dropped its sender, read error or not.
        let decoded = match decoder.join() {
            Ok(d) => d,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (count, decoded)
    });
    let count = count.map_err(io)?;
    let Decoded { builder, damage } = decoded;
    let Some(builder) = builder else {
        return Err(blg_error(
            name,
            0,
            "an ETW log without a perfmon counter list: an event trace (.etl) rather than a perfmon log, or a .blg whose counter list was lost",
        ));
    };
    if builder.rows() == 0 {
        return Err(IngestError::HeaderOnly {
            file: name.to_string(),
        });
    }
    let mut warnings = Vec::new();
    if header.buffers_lost > 0 {
        warnings.push(format!(
            "{name}: the logger lost {} buffers while writing: samples are missing",
            header.buffers_lost
        ));
    }
    let mut unknown: Vec<u32> = builder.unknown_types.iter().copied().collect();
    unknown.sort_unstable();
    for t in unknown {
        warnings.push(format!(
            "{name}: counter type {t:#010x} is unknown: its columns are left out"
        ));
    }
    let counters = builder.defs().to_vec();
    let samples_with_errors = builder.samples_with_errors;
    let tz = &header.time_zone;
    let table = builder.finish(tz.standard_name.clone(), tz.bias);
    warnings.extend(damage.finish());
    Ok(BlgLog {
        header,
        counters,
        table,
        buffers: count,
        samples_with_errors,
        warnings,
    })
}

/// The reading thread: buffers, their events and joined records, in file order, sent in
/// batches; returns how many buffers were read. A failed send means the decoder is gone
/// (it panicked): reading stops and the panic is raised by the caller.
fn walk<'a>(
    first: container::Buffer<'a>,
    buffers: &mut impl container::BufferSource<'a>,
    events: std::sync::mpsc::SyncSender<Vec<Event<'a>>>,
    returned: &std::sync::mpsc::Receiver<Returned>,
    progress: &AtomicUsize,
) -> std::io::Result<usize> {
    let mut damage = Damage::relaying();
    let mut joiner = container::Joiner::default();
    let mut batch: Vec<Event> = Vec::new();
    let mut batch_bytes = 0usize;
    let mut count = 0usize;
    let mut last_stamp = first.stamp;
    // The run of buffers being read (a new one at each buffer older than the one before it)
    // and its first buffer's UTC time: runs are put in time order at the end.
    let mut run = (0usize, 0i64);
    // The length of the counter list the table is built from (the first that is not empty):
    // samples after it are scanned here, those before it by the decoding thread.
    let mut list_len: Option<usize> = None;
    let mut spare: Vec<samples::Sample> = Vec::new();
    let mut layout = samples::Layout::default();
    // Messages count towards a batch's bytes too (a long damaged stretch sends them on).
    let relay = |damage: &mut Damage, batch: &mut Vec<Event>, bytes: &mut usize| {
        if let Some(r) = damage.relay.as_mut() {
            *bytes += r.iter().map(|(_, _, m)| m.len()).sum::<usize>();
            batch.extend(r.drain(..).map(|(b, o, m)| Event::Damage(b, o, m)));
        }
    };
    let mut next = Some(first);
    while let Some(buffer) = next.take() {
        count += 1;
        if buffer.stamp != 0 && last_stamp != 0 && buffer.stamp < last_stamp {
            damage.at(
                buffer.index,
                buffer.offset,
                "this buffer is older than the one before it (a circular log that wrapped, or buffers out of order): its samples are put in time order",
            );
            run = (run.0 + 1, buffer.stamp);
        } else if run.1 == 0 {
            run.1 = buffer.stamp;
        }
        if buffer.stamp != 0 {
            last_stamp = buffer.stamp;
        }
        while let Ok((body, sample)) = returned.try_recv() {
            joiner.give(body);
            spare.extend(sample.filter(|_| spare.len() < SPARE_SAMPLES));
        }
        for fragment in container::fragments(&buffer, &mut damage) {
            let record = joiner.push(&buffer, &fragment, &mut damage);
            relay(&mut damage, &mut batch, &mut batch_bytes);
            let Some(record) = record else { continue };
            let scanned = match record.kind {
                RECORD_COUNTERS if list_len.is_none() => {
                    let (defs, _) = counters::parse(&record.body);
                    list_len = (!defs.is_empty()).then_some(defs.len());
                    None
                }
                RECORD_SAMPLE => list_len.map(|n| {
                    let mut sample = spare.pop().unwrap_or_default();
                    sample.scan_with(&record.body, n, &mut layout);
                    sample
                }),
                _ => None,
            };
            batch_bytes += record.body.len();
            batch.push(Event::Record(record, run, scanned));
        }
        relay(&mut damage, &mut batch, &mut batch_bytes);
        if batch_bytes >= BATCH_BYTES {
            batch_bytes = 0;
            if events.send(std::mem::take(&mut batch)).is_err() {
                return Ok(count);
            }
        }
        buffers.recycle(buffer);
        buffers.done_below(progress.load(Ordering::Acquire));
        next = buffers.next_buffer()?;
    }
    joiner.finish(&mut damage);
    relay(&mut damage, &mut batch, &mut batch_bytes);
    // A failed send: the decoder is gone, which the caller finds when it joins it.
    let _ = events.send(batch);
    Ok(count)
}

/// What the decoding thread made of the records.
struct Decoded<'k> {
    builder: Option<table::Builder<'k>>,
    damage: Damage,
}

/// Adds a sample record to the table: `sample` is its scan, or (`scanned` false) is filled
/// with it here.
fn add_sample(
    record: &container::Record<'_>,
    run: (usize, i64),
    sample: &mut samples::Sample,
    scanned: bool,
    b: &mut table::Builder,
    damage: &mut Damage,
) {
    b.enter_run(run.0, run.1);
    if !scanned {
        sample.scan(&record.body, b.defs().len());
    }
    for p in sample.problems.drain(..) {
        damage.at(
            record.buffer,
            record.at,
            format_args!("sample {}: {p}", b.rows() + 1),
        );
    }
    if !b.add(&record.body, sample) {
        damage.at(
            record.buffer,
            record.at,
            "a sample without a timestamp: skipped",
        );
    }
}

/// The decoding thread: counter lists, name tables and samples, in file order.
fn decode<'k>(
    name: &str,
    received: std::sync::mpsc::Receiver<Vec<Event<'_>>>,
    back: std::sync::mpsc::Sender<Returned>,
    keep: &'k (dyn Fn(&str) -> bool + Sync),
    progress: &AtomicUsize,
) -> Decoded<'k> {
    let mut damage = Damage::new(name);
    let mut builder: Option<table::Builder> = None;
    let mut names: Vec<(String, Vec<(u32, String)>)> = Vec::new();
    let mut early: Vec<(container::Record<'_>, (usize, i64))> = Vec::new();
    let mut early_bytes = 0usize;
    let mut own = samples::Sample::default();
    for event in received.into_iter().flatten() {
        let (record, run, scanned) = match event {
            Event::Damage(buffer, offset, message) => {
                damage.at(buffer, offset, message);
                continue;
            }
            Event::Record(record, run, scanned) => (record, run, scanned),
        };
        // Every record before this one is dropped, but those held back before the counter
        // list: no buffer before the first of these is read again.
        let held = early.first().map_or(record.buffer, |(r, _)| r.buffer);
        progress.store(held.min(record.buffer), Ordering::Release);
        match record.kind {
            RECORD_COUNTERS => {
                let (defs, problem) = counters::parse(&record.body);
                if let Some(p) = problem {
                    damage.at(record.buffer, record.at, p);
                }
                if builder.is_some() {
                    damage.at(record.buffer, record.at, "a second counter list: ignored");
                    continue;
                }
                if defs.is_empty() {
                    continue;
                }
                let mut b = table::Builder::new(defs, keep);
                for (m, pairs) in names.drain(..) {
                    b.add_names(&m, pairs);
                }
                for (r, r_run) in early.drain(..) {
                    add_sample(&r, r_run, &mut own, false, &mut b, &mut damage);
                }
                builder = Some(b);
            }
            RECORD_NAMES => {
                let (machine, pairs) = perfdata::parse_names(&record.body);
                match builder.as_mut() {
                    Some(b) => b.add_names(&machine, pairs),
                    None => names.push((machine, pairs)),
                }
            }
            RECORD_SAMPLE => {
                if let Some(b) = builder.as_mut() {
                    let returned = match scanned {
                        Some(mut sample) => {
                            add_sample(&record, run, &mut sample, true, b, &mut damage);
                            Some(sample)
                        }
                        None => {
                            add_sample(&record, run, &mut own, false, b, &mut damage);
                            None
                        }
                    };
                    // Given back to be filled again (if the reader is still there).
                    if let std::borrow::Cow::Owned(body) = record.body {
                        let _ = back.send((body, returned));
                    } else if let Some(sample) = returned {
                        let _ = back.send((Vec::new(), Some(sample)));
                    }
                } else if early_bytes + record.body.len() <= MAX_EARLY_SAMPLES {
                    early_bytes += record.body.len();
                    early.push((record, run));
                } else {
                    damage.at(
                        record.buffer,
                        record.at,
                        "a sample before any counter list, past 64 MiB of them: skipped",
                    );
                }
            }
            _ => {} // the end-of-log catalog (35) and anything unknown
        }
    }
    Decoded { builder, damage }
}

/// A column path parsed as the CSV reader does, or kept whole when it is no counter path.
fn counter_path(raw: &str) -> CounterPath {
    CounterPath::parse(raw).unwrap_or_else(|_| CounterPath {
        machine: None,
        object: raw.to_string(),
        parent: None,
        instance: None,
        index: None,
        counter: raw.to_string(),
        original_object: raw.to_string(),
        original_counter: raw.to_string(),
    })
}

/// The analysis' column choice, the same predicate the CSV reader uses.
pub fn needed_by_analysis(path: &str) -> bool {
    counter_path(path).is_needed_by_analysis()
}

/// The [`PerfLog`] of a BLG read from a stream.
pub fn read_log(name: &str, input: impl Read, all_columns: bool) -> Result<PerfLog, IngestError> {
    let keep = move |p: &str| all_columns || needed_by_analysis(p);
    let blg = read(name, input, &keep)?;
    Ok(to_perflog(name, blg))
}

/// The [`PerfLog`] of a BLG held whole in memory (a mapped file); `release` as for
/// [`read_bytes`].
pub fn read_log_bytes(
    name: &str,
    bytes: &[u8],
    all_columns: bool,
    release: &mut dyn FnMut(usize, usize),
) -> Result<PerfLog, IngestError> {
    let keep = move |p: &str| all_columns || needed_by_analysis(p);
    let blg = read_bytes(name, bytes, &keep, release)?;
    Ok(to_perflog(name, blg))
}

/// Turns a read BLG into the [`PerfLog`] the analysis reads, exactly as the CSV reader would
/// read relog's CSV of it.
pub fn to_perflog(name: &str, blg: BlgLog) -> PerfLog {
    let info = blg.info();
    let mut table = blg.table;
    let (elapsed, mut timeline_warnings, dropped) =
        super::timeline::local_timeline(name, &mut table.stamps);
    if !dropped.is_empty() {
        for series in table.values.iter_mut().filter(|s| !s.is_empty()) {
            let mut values = series.to_vec();
            super::timeline::remove(&mut values, &dropped);
            *series = Series::from_values(&values);
        }
    }
    let all_paths: Vec<CounterPath> = table.columns.iter().map(|c| counter_path(c)).collect();
    let columns = all_paths
        .iter()
        .zip(table.values)
        .zip(&table.kept)
        .filter(|(_, kept)| **kept)
        .map(|((path, values), _)| Column {
            path: path.clone(),
            values,
        })
        .collect();
    let mut warnings = blg.warnings;
    warnings.append(&mut timeline_warnings);
    PerfLog {
        source: SourceInfo {
            path: name.to_string(),
            format: LogFormat::Blg,
            encoding: "binary".to_string(),
            encoding_reason: "a binary log (.blg): names are UTF-16".to_string(),
            time_zone: Some(table.zone_name.clone()),
            utc_offset_minutes: Some(-table.bias),
            segments: vec![name.to_string()],
            blg: Some(info),
        },
        timestamps: table.stamps,
        elapsed_seconds: elapsed,
        columns,
        all_paths,
        warnings,
    }
}
