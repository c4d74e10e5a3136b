//! `perfleak convert`: writes a log as `relog LOG -f csv|tsv` would: the header cell
//! `(PDH-CSV 4.0) (<zone>)(<bias>)`, every field quoted, numbers as C's `%.17g`, `" "` for no
//! value, LF line ends. A BLG is converted from its relog table; a text log from what the text
//! reader read (every column), its numbers printed again with `%.17g`.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use chrono::NaiveDateTime;

use super::blg::{self, RelogTable};
use super::{read_source, IngestError, LogSource, ReadOptions};

/// C's `printf("%.17g", v)` as the Windows C runtime prints it (three exponent digits).
pub fn format_g17(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    const P: i32 = 17;
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v == 0.0 {
        return format!("{sign}0");
    }
    // 17 significant digits, correctly rounded, and the decimal exponent after rounding.
    let sci = format!("{:.*e}", (P - 1) as usize, v.abs());
    let (mantissa, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("integer exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if !(-4..P).contains(&exp) {
        let m = trim(format!("{}.{}", &digits[..1], &digits[1..]));
        let e_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{e_sign}{:03}", exp.abs());
    }
    let fixed = if exp >= 0 {
        let int_len = exp as usize + 1;
        format!("{}.{}", &digits[..int_len], &digits[int_len..])
    } else {
        format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
    };
    format!("{sign}{}", trim(fixed))
}

fn stamp(t: &NaiveDateTime) -> String {
    t.format("%m/%d/%Y %H:%M:%S%.3f").to_string()
}

/// Writes `table` as relog's CSV (`tab` false) or TSV.
pub fn write_table(out: &mut dyn Write, table: &RelogTable, tab: bool) -> std::io::Result<()> {
    let sep = if tab { "\t" } else { "," };
    let kind = if tab { "TSV" } else { "CSV" };
    let mut line = format!("\"(PDH-{kind} 4.0) ({})({})\"", table.zone_name, table.bias);
    for c in &table.columns {
        line.push_str(sep);
        line.push('"');
        line.push_str(c);
        line.push('"');
    }
    line.push('\n');
    out.write_all(line.as_bytes())?;
    for (row, t) in table.stamps.iter().enumerate() {
        line.clear();
        line.push('"');
        line.push_str(&stamp(t));
        line.push('"');
        for c in 0..table.columns.len() {
            line.push_str(sep);
            match table.cell(c, row) {
                Some(v) => {
                    line.push('"');
                    line.push_str(&format_g17(v));
                    line.push('"');
                }
                None => line.push_str("\" \""),
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// The relog table of a text log read with every column.
fn table_of(log: &super::PerfLog) -> RelogTable {
    let bias = log.source.utc_offset_minutes.map_or(0, |m| -m);
    let raw = |p: &super::CounterPath| {
        let mut s = String::new();
        if let Some(m) = &p.machine {
            s.push_str("\\\\");
            s.push_str(m);
        }
        s.push('\\');
        s.push_str(&p.original_object);
        if let Some(i) = p.instance_label() {
            s.push('(');
            if let Some(parent) = &p.parent {
                s.push_str(parent);
                s.push('/');
            }
            s.push_str(&i);
            s.push(')');
        }
        s.push('\\');
        s.push_str(&p.original_counter);
        s
    };
    RelogTable {
        zone_name: log.source.time_zone.clone().unwrap_or_default(),
        bias,
        columns: log.columns.iter().map(|c| raw(&c.path)).collect(),
        kept: vec![true; log.columns.len()],
        stamps: log.timestamps.clone(),
        values: log.columns.iter().map(|c| c.values.clone()).collect(),
        decoded: Default::default(),
    }
}

/// A log read for conversion: its relog table and the reader's warnings.
pub struct Converted {
    pub table: RelogTable,
    pub warnings: Vec<String>,
}

/// Reads a log (`-` for stdin) as a relog table: a BLG (plain file or stdin) natively,
/// anything else through the text reader (a BLG inside a gzip too: its PerfLog holds every
/// column).
pub fn read_for_convert(log: &Path) -> Result<Converted, IngestError> {
    let name = log.display().to_string();
    let source = if name == "-" {
        LogSource::Stdin
    } else {
        LogSource::File(log.to_path_buf())
    };
    read_table(&name, source)
}

fn read_table(name: &str, source: LogSource) -> Result<Converted, IngestError> {
    let input: Box<dyn Read> = match &source {
        LogSource::File(path) => {
            Box::new(std::fs::File::open(path).map_err(|e| IngestError::io(name, e))?)
        }
        LogSource::Stdin => Box::new(std::io::stdin().lock()),
        _ => return read_text(&source).map(converted),
    };
    let mut input = std::io::BufReader::with_capacity(blg::BUFFER_LEN, input);
    let head = input.fill_buf().map_err(|e| IngestError::io(name, e))?;
    if blg::looks_like_etw(head) {
        let keep = |_: &str| true;
        let log = blg::read(name, input, &keep)?;
        return Ok(Converted {
            table: log.table,
            warnings: log.warnings,
        });
    }
    let options = ReadOptions {
        all_columns: true,
        ..ReadOptions::default()
    };
    let log = match source {
        LogSource::Stdin => super::read_reader(name, input, &options)?,
        _ => read_text(&source)?,
    };
    Ok(converted(log))
}

fn converted(log: super::PerfLog) -> Converted {
    Converted {
        table: table_of(&log),
        warnings: log.warnings,
    }
}

fn read_text(source: &LogSource) -> Result<super::PerfLog, IngestError> {
    let options = ReadOptions {
        all_columns: true,
        ..ReadOptions::default()
    };
    read_source(source, &options)
}

#[cfg(test)]
mod tests {
    use super::format_g17;

    #[test]
    fn g17_matches_c_printf() {
        assert_eq!(format_g17(0.0), "0");
        assert_eq!(format_g17(4096.0), "4096");
        assert_eq!(format_g17(86.93735103284412), "86.93735103284412");
        assert_eq!(format_g17(0.1), "0.10000000000000001");
        assert_eq!(format_g17(2345.3290343446924), "2345.3290343446924");
        assert_eq!(format_g17(1.5e-5), "1.5e-005");
        assert_eq!(format_g17(1.0 / 3.0 * 1e-5), "3.3333333333333333e-006");
        assert_eq!(format_g17(0.0001), "0.0001");
        assert_eq!(format_g17(1e17), "1e+017");
        assert_eq!(format_g17(12345678901234567.0), "12345678901234568");
        assert_eq!(format_g17(-2.5), "-2.5");
    }
}
