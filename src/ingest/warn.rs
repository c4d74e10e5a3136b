//! Warnings that name the file, line and column of every oddity in a log, listed up to a
//! number per kind and then only counted.

/// Individual warnings of one kind listed before they are only counted.
pub(super) const MAX_LISTED: usize = 10;
/// Characters of a cell quoted in a message.
const SHOWN_CHARS: usize = 40;

/// What a warning is about: each kind lists its first [`MAX_LISTED`] and then only counts, so
/// a log damaged throughout gives a readable list, not one line per row.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    NotAPath,
    DuplicateColumn,
    ShortRow,
    LongRow,
    NoTimestamp,
    RepeatedHeader,
    RepeatedTime,
    ClockBack,
    Undecodable,
    DateOrder,
    ClockGlitch,
    TimeJump,
    /// Listed by the caller, which also counts them (see `Warnings::non_numeric`).
    NotANumber,
}

impl Kind {
    /// How the warnings past the listed ones are summed up: "N more ...".
    fn more(self) -> &'static str {
        match self {
            Kind::NotAPath => "header cells that are no counter path",
            Kind::DuplicateColumn => "duplicate columns",
            Kind::ShortRow => "rows with too few fields skipped",
            Kind::LongRow => "rows with too many fields skipped",
            Kind::NoTimestamp => "rows without a timestamp skipped",
            Kind::RepeatedHeader => "repeated headers skipped",
            Kind::RepeatedTime => "repeated timestamps",
            Kind::ClockBack => "timestamps going back",
            Kind::Undecodable => "header cells with undecodable bytes",
            Kind::DateOrder => "notes on the date order",
            Kind::ClockGlitch => "rows dropped as clock glitches",
            Kind::TimeJump => "jumps in time",
            Kind::NotANumber => "non-numeric cells read as no value",
        }
    }
}

pub(super) struct Warnings {
    file: String,
    list: Vec<String>,
    /// How many warnings of each kind were met, in the order the kinds first appeared.
    counts: Vec<(Kind, usize)>,
    /// Non-numeric cells, counted in the pieces (only the first few are worded there).
    pub(super) non_numeric: usize,
}

impl Warnings {
    pub(super) fn new(file: &str) -> Self {
        Warnings {
            file: file.to_string(),
            list: Vec::new(),
            counts: Vec::new(),
            non_numeric: 0,
        }
    }

    /// Counts a warning of `kind`, and lists it while fewer than [`MAX_LISTED`] of the kind are.
    pub(super) fn at(
        &mut self,
        kind: Kind,
        line: u64,
        column: usize,
        message: impl std::fmt::Display,
    ) {
        let count = match self.counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, count)) => count,
            None => {
                self.counts.push((kind, 0));
                &mut self.counts.last_mut().expect("just pushed").1
            }
        };
        *count += 1;
        if *count <= MAX_LISTED {
            self.list.push(format!(
                "{}: line {line}, column {column}: {message}",
                self.file
            ));
        }
    }

    /// How many warnings of `kind` were met.
    pub(super) fn count(&self, kind: Kind) -> usize {
        self.counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, count)| *count)
    }

    /// The listed warnings and a line for each kind that had more.
    pub(super) fn finish(mut self) -> Vec<String> {
        if let Some((_, count)) = self.counts.iter_mut().find(|(k, _)| *k == Kind::NotANumber) {
            *count = self.non_numeric;
        }
        for (kind, count) in &self.counts {
            if *count > MAX_LISTED {
                let more = count - MAX_LISTED;
                self.list
                    .push(format!("{}: {more} more {}", self.file, kind.more()));
            }
        }
        self.list
    }
}

/// A cell's text as messages show it: control characters (the zeros a crashed collector leaves)
/// escaped, and cut after [`SHOWN_CHARS`] characters.
pub(super) fn shown(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::new();
    for (i, ch) in text.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if ch.is_control() {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_cells_escaped_and_cut_short() {
        assert_eq!(shown(b"12:00"), "12:00");
        assert_eq!(shown(b"a\0\tb"), "a\\u{0}\\tb");
        let zeros = shown(&[0; 5000]);
        assert!(zeros.starts_with("\\u{0}\\u{0}") && zeros.ends_with('…'));
        assert_eq!(zeros.chars().filter(|&c| c == '\\').count(), SHOWN_CHARS);
    }
}
