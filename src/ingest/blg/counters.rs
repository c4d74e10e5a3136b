//! The counter list (record type 32): the counters the user asked for, in the order every
//! sample lists them, each with its path parts, counter type and time base.

use super::container::{i32_at, i64_at, u32_at, utf16z_at};

/// Flag: the instance is the wildcard `*` (the samples carry the instance list).
const FLAG_WILDCARD: u32 = 0x1;
/// Flag: the whole object was logged (`Object(*)\*`; samples are PERF_DATA_BLOCKs).
const FLAG_WHOLE_OBJECT: u32 = 0x10;
/// The constant header before the first counter record.
const LIST_HEADER: [u8; 8] = [0xFF, 0x06, 0, 0, 0x08, 0, 0x02, 0];
/// Start of a counter record's strings.
const STRINGS_AT: usize = 0x34;

/// One counter of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterDef {
    pub flags: u32,
    pub counter_type: u32,
    /// Perf-counter frequency, or 10,000,000 for 100 ns counters.
    pub frequency: i64,
    /// `\\MACHINE` as stored (with its backslashes), when present.
    pub machine: Option<String>,
    pub object: String,
    pub instance: Option<String>,
    pub parent: Option<String>,
    /// The `#N` index of a duplicate instance name, 0 for none.
    pub index: u32,
    pub counter: String,
}

impl CounterDef {
    pub fn wildcard(&self) -> bool {
        self.flags & FLAG_WILDCARD != 0 || self.instance.as_deref() == Some("*")
    }

    pub fn whole_object(&self) -> bool {
        self.flags & FLAG_WHOLE_OBJECT != 0
    }

    /// The CSV header path of this counter with `instance` (already labelled with its `#N`)
    /// and `counter` in place of the stored ones where given.
    pub fn path(&self, instance: Option<&str>, counter: Option<&str>) -> String {
        let mut p = String::new();
        if let Some(m) = &self.machine {
            if !m.starts_with("\\\\") {
                p.push_str("\\\\");
            }
            p.push_str(m);
        }
        p.push('\\');
        p.push_str(&self.object);
        let own;
        let instance = match instance {
            Some(i) => Some(i),
            None if !self.wildcard() => {
                own = self.instance.as_ref().map(|i| match self.index {
                    0 => i.clone(),
                    n => format!("{i}#{n}"),
                });
                own.as_deref()
            }
            None => None,
        };
        if let Some(i) = instance {
            p.push('(');
            if let Some(parent) = &self.parent {
                p.push_str(parent);
                p.push('/');
            }
            p.push_str(i);
            p.push(')');
        }
        p.push('\\');
        p.push_str(counter.unwrap_or(&self.counter));
        p
    }
}

/// Parses a counter-list body. Records that are unsound end the list with a message.
pub fn parse(body: &[u8]) -> (Vec<CounterDef>, Option<String>) {
    let mut out = Vec::new();
    if body.get(..8) != Some(&LIST_HEADER[..]) {
        return (
            out,
            Some("the counter list does not start with its usual header".into()),
        );
    }
    let mut at = 8;
    while at + STRINGS_AT <= body.len() {
        let len = u32_at(body, at).unwrap_or(0) as usize;
        if len == 0 {
            break;
        }
        if len < STRINGS_AT || at + len > body.len() {
            let message = format!(
                "counter record {} has an unsound length ({len}) at byte {at} of the list",
                out.len() + 1
            );
            return (out, Some(message));
        }
        let rec = &body[at..at + len];
        let strings = &rec[STRINGS_AT..];
        let text = |field: usize| -> Option<String> {
            let off = i32_at(rec, 0x1C + 4 * field)?;
            if off < 0 {
                return None;
            }
            utf16z_at(strings, off as usize)
        };
        out.push(CounterDef {
            flags: u32_at(rec, 4).unwrap_or(0),
            counter_type: u32_at(rec, 0x0C).unwrap_or(0),
            frequency: i64_at(rec, 0x10).unwrap_or(0),
            machine: text(0).filter(|m| !m.is_empty()),
            object: text(1).unwrap_or_default(),
            instance: text(2).filter(|i| !i.is_empty()),
            parent: text(3).filter(|p| !p.is_empty()),
            index: i32_at(rec, 0x1C + 16).unwrap_or(0).max(0) as u32,
            counter: text(5).unwrap_or_default(),
        });
        at += (len + 7) & !7;
    }
    (out, None)
}
