//! The log-file header (buffer 0): TRACE_LOGFILE_HEADER after a system trace header, with the
//! logging machine's TIME_ZONE_INFORMATION and the logger's name and file.

use super::container::{i32_at, i64_at, u16_at, u32_at, utf16z_at, Buffer, BUFFER_HEADER_LEN};
use super::timezone;

/// What the header says about the capture.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogHeader {
    /// ETW version: major.minor (5.2 Server 2003, 6.0 Vista, 6.2 Windows 8, 10.0).
    pub version: (u8, u8),
    /// The Windows build that wrote the log (ProviderVersion).
    pub os_build: u32,
    pub processors: u32,
    /// 4 or 8: the layout of pointer-sized fields in the log.
    pub pointer_size: u32,
    pub buffers_written: u32,
    pub buffers_lost: u32,
    pub log_file_mode: u32,
    /// FILETIMEs (UTC) of the capture's start and end as the header has them.
    pub start_utc: i64,
    pub end_utc: i64,
    pub logger_name: String,
    pub log_file_name: String,
    pub time_zone: TimeZone,
}

/// TIME_ZONE_INFORMATION of the logging machine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeZone {
    /// Minutes west of UTC in standard time (Pacific 480).
    pub bias: i32,
    pub daylight_bias: i32,
    /// The names as stored: literal, or a `@tzres.dll,-NNN` reference.
    pub standard_raw: String,
    pub daylight_raw: String,
    /// The standard name resolved through `data/tz/tzres.toml` (the raw text when unknown).
    pub standard_name: String,
    pub daylight_name: String,
}

/// TIME_ZONE_INFORMATION is 172 bytes; the header pads it to 176.
const TZI_LEN: usize = 176;

/// Parses buffer 0's first event. `Err` says why this is no ETW log header.
pub fn parse(buffer: &Buffer) -> Result<LogHeader, String> {
    let b = &buffer.bytes;
    let ev = BUFFER_HEADER_LEN;
    let sys_len = match (b.get(ev + 2), b.get(ev + 3)) {
        (Some(1 | 2), Some(0xC0)) => 0x20,
        _ => return Err("the first event is not an ETW log-file header".into()),
    };
    let size = u16_at(b, ev + 4).unwrap_or(0) as usize;
    let end = (ev + size).min(b.len());
    let h = b
        .get(ev + sys_len..end)
        .ok_or("the log-file header is cut short")?;
    let field = |at: usize| u32_at(h, at).ok_or("the log-file header is cut short");
    let version = field(4)?;
    let pointer_size = field(0x2C)?;
    if pointer_size != 4 && pointer_size != 8 {
        return Err(format!(
            "the log-file header's pointer size is {pointer_size}, neither 4 nor 8"
        ));
    }
    // The fixed fields end at 0x38; two name pointers follow, then the zone.
    let tzi = 0x38 + 2 * pointer_size as usize;
    let after = tzi + TZI_LEN;
    let strings = after + 0x20;
    if h.len() < strings {
        return Err("the log-file header is cut short".into());
    }
    let logger_name = utf16z_at(h, strings).unwrap_or_default();
    let file_at = strings + (logger_name.encode_utf16().count() + 1) * 2;
    let standard_raw = utf16z_at(&h[tzi + 4..tzi + 68], 0).unwrap_or_default();
    let daylight_raw = utf16z_at(&h[tzi + 88..tzi + 152], 0).unwrap_or_default();
    Ok(LogHeader {
        version: (version as u8, (version >> 8) as u8),
        os_build: field(8)?,
        processors: field(12)?,
        end_utc: i64_at(h, 16).unwrap_or(0),
        log_file_mode: field(0x20)?,
        buffers_written: field(0x24)?,
        pointer_size,
        start_utc: i64_at(h, after + 16).unwrap_or(0),
        buffers_lost: u32_at(h, after + 28).unwrap_or(0),
        logger_name,
        log_file_name: utf16z_at(h, file_at).unwrap_or_default(),
        time_zone: TimeZone {
            bias: i32_at(h, tzi).unwrap_or(0),
            daylight_bias: i32_at(h, tzi + 168).unwrap_or(0),
            standard_name: timezone::resolve(&standard_raw),
            daylight_name: timezone::resolve(&daylight_raw),
            standard_raw,
            daylight_raw,
        },
    })
}
