//! Whole-object samples: a documented PERF_DATA_BLOCK (one PERF_OBJECT_TYPE, its counter
//! definitions, instances and counter blocks) turned into raw value pairs; and the machine's
//! counter-name table (record type 36) that names its counters.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::container::{i32_at, i64_at, u16_at, u32_at, utf16z_at};
use super::formulas::{is_base, Raw};

/// PERF_TIMER_100NS: the time base is PerfTime100nSec.
const TIMER_100NS: u32 = 0x0010_0000;
/// PERF_OBJECT_TIMER: the time base is the object's own PerfTime/PerfFreq.
const OBJECT_TIMER: u32 = 0x0020_0000;
/// NumInstances of an object without instances.
const NO_INSTANCES: i32 = -1;
/// PERF_COUNTER_DEFINITION is 40 bytes; PERF_INSTANCE_DEFINITION 24.
const COUNTER_DEF_LEN: usize = 40;
const INSTANCE_DEF_LEN: usize = 24;

/// One value of a whole-object sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectValue {
    /// The counter's English title index (named through the name table).
    pub title: u32,
    pub counter_type: u32,
    /// The instance as the CSV names it, with `#N` for repeated names.
    pub instance: Option<String>,
    pub raw: Raw,
}

/// A parsed block: its local time and values, instance by instance.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectSample {
    pub stamp: Option<NaiveDateTime>,
    /// The object's English title index.
    pub object_title: u32,
    pub values: Vec<ObjectValue>,
}

fn systemtime(b: &[u8], at: usize) -> Option<NaiveDateTime> {
    let f = |i: usize| u16_at(b, at + 2 * i).map(u32::from);
    chrono::NaiveDate::from_ymd_opt(f(0)? as i32, f(1)?, f(3)?)?.and_hms_milli_opt(
        f(4)?,
        f(5)?,
        f(6)?,
        f(7)?,
    )
}

/// Parses a PERF_DATA_BLOCK (starting with "PERF" in UTF-16).
pub fn parse(b: &[u8]) -> Result<ObjectSample, String> {
    if b.get(..8) != Some(&[b'P', 0, b'E', 0, b'R', 0, b'F', 0][..]) {
        return Err("a whole-object sample does not start with PERF".into());
    }
    let short = || "the PERF_DATA_BLOCK is cut short".to_string();
    let header_len = u32_at(b, 24).ok_or_else(short)? as usize;
    let perf_time = i64_at(b, 56).ok_or_else(short)?;
    let perf_freq = i64_at(b, 64).ok_or_else(short)?;
    let perf_100ns = i64_at(b, 72).ok_or_else(short)?;
    let stamp = systemtime(b, 36);
    let obj = b.get(header_len..).ok_or_else(short)?;
    let field = |at: usize| u32_at(obj, at).ok_or_else(short);
    let total = (field(0)? as usize).min(obj.len());
    let obj = &obj[..total];
    let def_len = field(4)? as usize;
    let head_len = field(8)? as usize;
    let object_title = field(12)?;
    let counters = field(32)? as usize;
    let instances = i32_at(obj, 40).ok_or_else(short)?;
    let obj_time = i64_at(obj, 48).ok_or_else(short)?;
    let obj_freq = i64_at(obj, 56).ok_or_else(short)?;

    // Counter definitions: (title, type, size, offset). Bounded by the bytes present.
    let mut defs = Vec::new();
    let mut at = head_len;
    for _ in 0..counters {
        let len = u32_at(obj, at).ok_or_else(short)? as usize;
        if len < COUNTER_DEF_LEN || at + len > def_len.min(obj.len()) {
            return Err(format!(
                "counter definition {} has an unsound length ({len})",
                defs.len() + 1
            ));
        }
        defs.push((
            u32_at(obj, at + 4).unwrap_or(0),
            u32_at(obj, at + 28).unwrap_or(0),
            u32_at(obj, at + 32).unwrap_or(0) as usize,
            u32_at(obj, at + 36).unwrap_or(0) as usize,
        ));
        at += len;
    }

    let read = |block: &[u8], size: usize, offset: usize| -> Option<i64> {
        match size {
            4 => u32_at(block, offset).map(i64::from),
            8 => i64_at(block, offset),
            _ => None,
        }
    };
    let mut values = Vec::new();
    let push_block = |block: &[u8], instance: Option<String>, values: &mut Vec<ObjectValue>| {
        for (j, &(title, counter_type, size, offset)) in defs.iter().enumerate() {
            if is_base(counter_type) {
                continue;
            }
            let Some(n) = read(block, size, offset) else {
                continue;
            };
            let base = defs
                .get(j + 1)
                .filter(|d| is_base(d.1))
                .and_then(|d| read(block, d.2, d.3));
            let (time, frequency) = if counter_type & TIMER_100NS != 0 {
                (perf_100ns, 10_000_000)
            } else if counter_type & OBJECT_TIMER != 0 {
                (obj_time, obj_freq)
            } else {
                (perf_time, perf_freq)
            };
            let multi_type = counter_type & 0x0200_0000 != 0;
            let (second, multi) = match base {
                Some(base) if multi_type => (time, base.clamp(0, u32::MAX as i64) as u32),
                Some(base) => (base, 0),
                None => (time, 0),
            };
            values.push(ObjectValue {
                title,
                counter_type,
                instance: instance.clone(),
                raw: Raw {
                    status: 0,
                    first: n,
                    second,
                    multi,
                    frequency,
                },
            });
        }
    };

    if instances == NO_INSTANCES {
        let block = obj.get(def_len..).ok_or_else(short)?;
        push_block(block, None, &mut values);
    } else {
        let mut seen: HashMap<String, u32> = HashMap::new();
        let mut at = def_len;
        for i in 0..instances.max(0) {
            let inst = obj.get(at..).ok_or_else(short)?;
            let len = u32_at(inst, 0).ok_or_else(short)? as usize;
            let name_off = u32_at(inst, 16).ok_or_else(short)? as usize;
            let name_len = u32_at(inst, 20).ok_or_else(short)? as usize;
            if len < INSTANCE_DEF_LEN || len > inst.len() {
                return Err(format!("instance {} has an unsound length ({len})", i + 1));
            }
            let name_bytes = inst
                .get(name_off..name_off.saturating_add(name_len))
                .ok_or_else(|| format!("instance {}'s name lies outside the block", i + 1))?;
            let name = utf16z_at(name_bytes, 0).unwrap_or_default();
            let block = &inst[len..];
            let block_len = u32_at(block, 0).ok_or_else(short)? as usize;
            if block_len < 4 || block_len > block.len() {
                return Err(format!(
                    "instance {}'s counter block has an unsound length ({block_len})",
                    i + 1
                ));
            }
            // Repeated names are numbered #1, #2... in block order (PDH's `#index`).
            let n = seen.entry(name.clone()).or_insert(0);
            let label = if *n == 0 { name } else { format!("{name}#{n}") };
            *n += 1;
            push_block(&block[..block_len], Some(label), &mut values);
            at += len + block_len;
        }
    }
    Ok(ObjectSample {
        stamp,
        object_title,
        values,
    })
}

/// A counter-name table (record type 36): the machine, then index/name string pairs.
pub fn parse_names(body: &[u8]) -> (String, Vec<(u32, String)>) {
    let mut strings = Vec::new();
    let mut at = 0;
    while at + 2 <= body.len() {
        let s = utf16z_at(body, at).unwrap_or_default();
        at += (s.encode_utf16().count() + 1) * 2;
        strings.push(s);
    }
    let mut it = strings.into_iter();
    let machine = it.next().unwrap_or_default();
    let mut pairs = Vec::new();
    while let (Some(index), Some(name)) = (it.next(), it.next()) {
        if let Ok(i) = index.trim().parse::<u32>() {
            pairs.push((i, name));
        }
    }
    (machine, pairs)
}
