//! Sample records (type 34): one "BL" sub-record per counter of the list, in list order:
//! 0x0103 one PDH_RAW_COUNTER, 0x0203 a wildcard's instance list, 0x0503 a whole object.

use chrono::{NaiveDate, NaiveDateTime};

use super::container::{i64_at, u16_at, u32_at, utf16z_at};
use super::formulas::Raw;
use super::perfdata::{self, ObjectSample};

const BL: u16 = 0x4C42;
const KIND_SAMPLE: u16 = 0x0003;
const KIND_COUNTER: u16 = 0x0103;
const KIND_LIST: u16 = 0x0203;
const KIND_OBJECT: u16 = 0x0503;
/// Items of a 0x0203 list: name offset, unknown, FirstValue, SecondValue.
const LIST_ITEM_LEN: usize = 24;

/// Where one counter of the list lies in a sample, found sound by [`Sample::scan`]; its values
/// are read from the record's bytes when the table takes them (nothing is copied per counter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Slot {
    /// Unreadable: its problem is listed, its cells are blank.
    Missing,
    /// A single counter (its own instance, if any): the PDH_RAW_COUNTER's offset in the body.
    Counter(u32),
    /// A wildcard's instances at this moment: the list's bytes in the body.
    List(u32, u32),
    /// A whole object: its index in [`Sample::objects`].
    Object(u32),
}

/// One sample record scanned: a slot per counter of the list (in list order), the whole
/// objects decoded, and messages for damage. Kept from sample to sample (no allocation each).
#[derive(Debug, Default)]
pub struct Sample {
    pub slots: Vec<Slot>,
    pub objects: Vec<ObjectSample>,
    pub problems: Vec<String>,
}

/// A single counter's PDH_RAW_COUNTER at `at` of `body` (checked by [`Sample::scan`]).
#[inline]
pub fn counter_raw(body: &[u8], at: u32, frequency: i64) -> Raw {
    let sub = &body[at as usize..at as usize + 0x24];
    let word = |i: usize| i64::from_le_bytes(sub[i..i + 8].try_into().expect("8 bytes"));
    Raw {
        status: u32::from_le_bytes(sub[0..4].try_into().expect("4 bytes")),
        first: word(0x10),
        second: word(0x18),
        multi: u32::from_le_bytes(sub[0x20..0x24].try_into().expect("4 bytes")),
        frequency,
    }
}

impl Sample {
    /// The stamp (FILETIME) of a readable part, and whether it was read without error.
    fn part_stamp(&self, body: &[u8], slot: Slot) -> Option<(Option<NaiveDateTime>, bool)> {
        match slot {
            Slot::Missing => None,
            Slot::Counter(at) => {
                let at = at as usize;
                let status = u32_at(body, at).unwrap_or(0);
                Some((
                    filetime_local(i64_at(body, at + 4).unwrap_or(0)),
                    status == 0,
                ))
            }
            Slot::List(start, _) => Some((
                filetime_local(i64_at(body, start as usize + 0x10).unwrap_or(0)),
                true,
            )),
            Slot::Object(k) => Some((self.objects[k as usize].stamp, true)),
        }
    }

    /// The row's time: the first counter read without error (in a multi-machine log every
    /// machine has its own clock; relog prints one time per row), else the first at all.
    pub fn stamp(&self, body: &[u8]) -> Option<NaiveDateTime> {
        let stamps = || self.slots.iter().filter_map(|&s| self.part_stamp(body, s));
        stamps()
            .filter(|&(_, ok)| ok)
            .find_map(|(t, _)| t)
            .or_else(|| stamps().find_map(|(t, _)| t))
    }

    /// Whether some single counter from slot `from` on reported a non-zero status
    /// (PDH_CSTATUS_*).
    pub fn has_error(&self, body: &[u8], from: usize) -> bool {
        self.slots.iter().skip(from).any(|&s| match s {
            Slot::Counter(at) => u32_at(body, at as usize).unwrap_or(0) != 0,
            _ => false,
        })
    }

    /// The instance list of a [`Slot::List`], checked when it was scanned (its count is still
    /// held to the items its bytes hold; every read of it is bounds-checked).
    pub fn list<'a>(body: &'a [u8], start: u32, end: u32) -> List<'a> {
        let sub = &body[start as usize..end as usize];
        let count = u32_at(sub, 4).unwrap_or(0) as usize;
        List {
            ft: i64_at(sub, 0x10).unwrap_or(0),
            count: count.min(sub.len().saturating_sub(0x18) / LIST_ITEM_LEN),
            sub,
        }
    }

    /// Scans a sample body: one slot per counter (`Missing` for a part that could not be
    /// read), with messages for damage. `counters` says how many parts to expect.
    pub fn scan(&mut self, body: &[u8], counters: usize) {
        self.scan_with(body, counters, &mut Layout::default());
    }

    /// [`Sample::scan`], told where the sub-records of the last sample scanned without damage
    /// lay: when this one's headers are the same at the same places (checked, all of them),
    /// they are not walked one after the other (each header's length gives the next's place,
    /// a chain of dependent loads), and the outcome is the same.
    pub fn scan_with(&mut self, body: &[u8], counters: usize, layout: &mut Layout) {
        self.slots.clear();
        self.objects.clear();
        self.problems.clear();
        let outer_len = match (u16_at(body, 0), u16_at(body, 2), u32_at(body, 4)) {
            (Some(BL), Some(KIND_SAMPLE), Some(len)) if len as usize >= 8 => {
                (len as usize).min(body.len())
            }
            _ => {
                self.problems
                    .push("the sample record does not start with its BL header".to_string());
                return;
            }
        };
        if layout.fits(body, outer_len, counters) {
            // A single counter's slot is its place: the same. The others are read again.
            layout.reused = true;
            self.slots.extend_from_slice(&layout.slots);
            for &k in &layout.others {
                let (at, header) = layout.parts[k];
                let (at, len) = (at as usize, (header >> 32) as usize);
                let slot = self.part_slot(body, (header >> 16) as u16, at + 8, at + len, k);
                self.slots[k] = slot;
            }
        } else {
            self.walk_parts(body, outer_len, counters, layout);
        }
        if self.slots.len() < counters {
            self.problems.push(format!(
                "the sample holds {} of the list's {counters} counters: the others are blank",
                self.slots.len()
            ));
        }
        layout.clean = self.problems.is_empty();
        if layout.clean && !layout.reused {
            layout.slots.clone_from(&self.slots);
        }
    }

    /// Walks the sub-records one after the other, noting where each lay in `layout`.
    fn walk_parts(&mut self, body: &[u8], outer_len: usize, counters: usize, layout: &mut Layout) {
        layout.outer_len = outer_len;
        layout.counters = counters;
        layout.reused = false;
        layout.parts.clear();
        layout.others.clear();
        let mut at = 8;
        while at + 8 <= outer_len && self.slots.len() < counters {
            let (mark, kind, len) = (
                u16_at(body, at).unwrap_or(0),
                u16_at(body, at + 2).unwrap_or(0),
                u32_at(body, at + 4).unwrap_or(0) as usize,
            );
            if mark != BL || len < 8 || at + len > outer_len {
                self.problems.push(format!(
                    "sub-record {} at byte {at} of the sample is unsound (length {len}): the sample's remaining counters are blank",
                    self.slots.len() + 1
                ));
                break;
            }
            if kind != KIND_COUNTER {
                layout.others.push(self.slots.len());
            }
            layout.parts.push((at as u32, header_at(body, at)));
            let slot = self.part_slot(body, kind, at + 8, at + len, self.slots.len());
            self.slots.push(slot);
            at += len;
        }
    }

    /// The slot of sound sub-record `k` (from 0), `body[start..end]` (its header before
    /// `start`); objects are added to the sample's in order.
    fn part_slot(&mut self, body: &[u8], kind: u16, start: usize, end: usize, k: usize) -> Slot {
        let sub = &body[start..end];
        let slot = match kind {
            KIND_COUNTER if sub.len() < 0x24 => Err("a PDH_RAW_COUNTER is cut short".into()),
            KIND_COUNTER => Ok(Slot::Counter(start as u32)),
            KIND_LIST => list(sub).map(|_| Slot::List(start as u32, end as u32)),
            KIND_OBJECT => perfdata::parse(sub).map(|o| {
                self.objects.push(o);
                Slot::Object(self.objects.len() as u32 - 1)
            }),
            other => Err(format!("sub-record kind {other:#06x} is unknown")),
        };
        slot.unwrap_or_else(|message| {
            self.problems
                .push(format!("counter {} of the sample: {message}", k + 1));
            Slot::Missing
        })
    }
}

/// The 8-byte header of a sub-record (mark, kind, length), as one number.
fn header_at(body: &[u8], at: usize) -> u64 {
    body.get(at..at + 8)
        .map_or(0, |h| u64::from_le_bytes(h.try_into().expect("8 bytes")))
}

/// Where the sub-records of the last sample scanned without damage lay: their offsets and
/// headers, the sample's length and the counters expected.
#[derive(Debug, Default)]
pub struct Layout {
    clean: bool,
    /// Whether `slots` were taken from this layout (they are those of its walk).
    reused: bool,
    outer_len: usize,
    counters: usize,
    parts: Vec<(u32, u64)>,
    /// The walk's slots, and which parts are no single counter (read again each time).
    slots: Vec<Slot>,
    others: Vec<usize>,
}

impl Layout {
    /// Whether a walk of `body` would visit the same headers: the same length and counters,
    /// and every header the same at its place (read independently of one another).
    fn fits(&self, body: &[u8], outer_len: usize, counters: usize) -> bool {
        self.clean
            && self.outer_len == outer_len
            && self.counters == counters
            && self
                .parts
                .iter()
                .all(|&(at, header)| header_at(body, at as usize) == header)
    }
}

/// A 0x0203 instance list, its count checked against its bytes and every name's offset
/// inside them: names are decoded only when they differ from the sample before.
#[derive(Debug, Clone, PartialEq)]
pub struct List<'a> {
    pub ft: i64,
    pub count: usize,
    sub: &'a [u8],
}

impl<'a> List<'a> {
    /// Where the item array ends (names are usually stored from here on).
    pub fn items_end(&self) -> usize {
        0x18 + self.count * LIST_ITEM_LEN
    }

    /// The byte offset of item `k`'s name.
    pub fn name_offset(&self, k: usize) -> u32 {
        u32_at(self.sub, 0x18 + k * LIST_ITEM_LEN).unwrap_or(0)
    }

    /// The bytes after the item array.
    pub fn name_region(&self) -> &'a [u8] {
        self.sub.get(self.items_end()..).unwrap_or(&[])
    }

    /// Item `k`'s raw values.
    pub fn raw(&self, k: usize, frequency: i64) -> Raw {
        let item = 0x18 + k * LIST_ITEM_LEN;
        Raw {
            status: 0,
            first: i64_at(self.sub, item + 8).unwrap_or(0),
            second: i64_at(self.sub, item + 16).unwrap_or(0),
            multi: 0,
            frequency,
        }
    }

    /// The instance names in list order, repeated names numbered #1, #2... (PDH's `#index`).
    pub fn names(&self) -> Vec<String> {
        let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        (0..self.count)
            .map(|k| {
                let name = utf16z_at(self.sub, self.name_offset(k) as usize).unwrap_or_default();
                let n = seen.entry(name.clone()).or_insert(0);
                let label = if *n == 0 { name } else { format!("{name}#{n}") };
                *n += 1;
                label
            })
            .collect()
    }
}

/// A FILETIME read as a local wall-clock time (PDH stores local time), whole milliseconds.
pub fn filetime_local(ft: i64) -> Option<NaiveDateTime> {
    if ft <= 0 {
        return None;
    }
    let epoch = NaiveDate::from_ymd_opt(1601, 1, 1)?.and_hms_opt(0, 0, 0)?;
    epoch.checked_add_signed(chrono::Duration::milliseconds(ft / 10_000))
}

pub(super) fn list(sub: &[u8]) -> Result<List<'_>, String> {
    let count = u32_at(sub, 4).ok_or("an instance list is cut short")? as usize;
    // The count is trusted only as far as the bytes present hold items.
    if count > sub.len().saturating_sub(0x18) / LIST_ITEM_LEN {
        return Err(format!(
            "an instance list claims {count} items, more than its {} bytes hold",
            sub.len()
        ));
    }
    let list = List {
        ft: i64_at(sub, 0x10).unwrap_or(0),
        count,
        sub,
    };
    if let Some(k) = (0..count).find(|&k| list.name_offset(k) as usize > sub.len()) {
        return Err(format!("instance {}'s name lies outside the list", k + 1));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 0x0203 instance list body (after its BL header) with these names and first values.
    fn list_body(names: &[&str]) -> Vec<u8> {
        let items_end = 0x18 + names.len() * LIST_ITEM_LEN;
        let mut b = vec![0u8; items_end];
        b[4..8].copy_from_slice(&(names.len() as u32).to_le_bytes());
        b[0x10..0x18].copy_from_slice(&131_245_000_000_000_000i64.to_le_bytes());
        for (k, name) in names.iter().enumerate() {
            let item = 0x18 + k * LIST_ITEM_LEN;
            let at = b.len() as u32;
            b[item..item + 4].copy_from_slice(&at.to_le_bytes());
            b[item + 8..item + 16].copy_from_slice(&(k as i64).to_le_bytes());
            for u in name.encode_utf16().chain([0]) {
                b.extend_from_slice(&u.to_le_bytes());
            }
        }
        b
    }

    #[test]
    fn repeated_names_in_an_instance_list_are_numbered_in_list_order() {
        let body = list_body(&["svchost", "w3wp", "svchost", "svchost"]);
        let l = list(&body).unwrap();
        assert_eq!(l.names(), ["svchost", "w3wp", "svchost#1", "svchost#2"]);
        assert_eq!(l.raw(2, 1).first, 2);
        assert!(filetime_local(l.ft).is_some());
    }

    #[test]
    fn a_list_claiming_more_items_than_its_bytes_is_refused() {
        let mut body = list_body(&["a"]);
        body[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(list(&body).unwrap_err().contains("claims"));
    }
}
