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

/// What one counter of the list holds in one sample. Stamps stay FILETIMEs until a row takes
/// one (a date is built once per row, not once per counter).
#[derive(Debug, Clone, PartialEq)]
pub enum Part<'a> {
    /// A single counter (its own instance, if any).
    Counter { ft: i64, raw: Raw },
    /// A wildcard's instances at this moment, checked but left in the record's bytes.
    List(List<'a>),
    /// A whole object.
    Object(ObjectSample),
}

impl Part<'_> {
    pub fn stamp(&self) -> Option<NaiveDateTime> {
        match self {
            Part::Counter { ft, .. } | Part::List(List { ft, .. }) => filetime_local(*ft),
            Part::Object(o) => o.stamp,
        }
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

/// Parses a sample body into one part per counter (`None` for a part that could not be read),
/// with messages for damage. `counters` says how many parts to expect and `frequency(i)` gives
/// counter i's time base.
pub fn parse(
    body: &[u8],
    counters: usize,
    frequency: impl Fn(usize) -> i64,
) -> (Vec<Option<Part<'_>>>, Vec<String>) {
    let mut parts = Vec::with_capacity(counters);
    let mut problems = Vec::new();
    let outer_len = match (u16_at(body, 0), u16_at(body, 2), u32_at(body, 4)) {
        (Some(BL), Some(KIND_SAMPLE), Some(len)) if len as usize >= 8 => {
            (len as usize).min(body.len())
        }
        _ => {
            problems.push("the sample record does not start with its BL header".to_string());
            return (parts, problems);
        }
    };
    let mut at = 8;
    while at + 8 <= outer_len && parts.len() < counters {
        let (mark, kind, len) = (
            u16_at(body, at).unwrap_or(0),
            u16_at(body, at + 2).unwrap_or(0),
            u32_at(body, at + 4).unwrap_or(0) as usize,
        );
        if mark != BL || len < 8 || at + len > outer_len {
            problems.push(format!(
                "sub-record {} at byte {at} of the sample is unsound (length {len}): the sample's remaining counters are blank",
                parts.len() + 1
            ));
            break;
        }
        let sub = &body[at + 8..at + len];
        let i = parts.len();
        let part = match kind {
            KIND_COUNTER => counter(sub, frequency(i)),
            KIND_LIST => list(sub).map(Part::List),
            KIND_OBJECT => perfdata::parse(sub).map(Part::Object),
            other => Err(format!("sub-record kind {other:#06x} is unknown")),
        };
        match part {
            Ok(p) => parts.push(Some(p)),
            Err(message) => {
                problems.push(format!("counter {} of the sample: {message}", i + 1));
                parts.push(None);
            }
        }
        at += len;
    }
    if parts.len() < counters {
        problems.push(format!(
            "the sample holds {} of the list's {counters} counters: the others are blank",
            parts.len()
        ));
    }
    (parts, problems)
}

fn counter(sub: &[u8], frequency: i64) -> Result<Part<'_>, String> {
    if sub.len() < 0x24 {
        return Err("a PDH_RAW_COUNTER is cut short".into());
    }
    Ok(Part::Counter {
        ft: i64_at(sub, 4).unwrap_or(0),
        raw: Raw {
            status: u32_at(sub, 0).unwrap_or(0),
            first: i64_at(sub, 0x10).unwrap_or(0),
            second: i64_at(sub, 0x18).unwrap_or(0),
            multi: u32_at(sub, 0x20).unwrap_or(0),
            frequency,
        },
    })
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
        assert!(Part::List(l).stamp().is_some());
    }

    #[test]
    fn a_list_claiming_more_items_than_its_bytes_is_refused() {
        let mut body = list_body(&["a"]);
        body[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(list(&body).unwrap_err().contains("claims"));
    }
}
