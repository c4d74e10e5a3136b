//! Which inputs one worker takes: paths listed in a file (`--files-from`) and its part of the
//! expanded input list (`--shard I/N`). Shards are numbered from 1. An input goes to shard
//! `fnv1a(group key) % N + 1`; the group key is its path with the collector's rollover
//! numbering taken off, so the segments of one run land in one shard (and are joined there),
//! and the assignment does not depend on the order of the list or on the other inputs.

use std::ffi::OsString;
use std::io::BufRead;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::ingest::source::{expand_inputs, LogSource};

use super::{BatchError, FailureCause, InputFailure};

/// Most shards `--shard` accepts (a bound only against typos).
pub const MAX_SHARDS: u32 = 1_000_000;

/// Part `index` (1 to `count`) of an input list split `count` ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let (i, n) = text.split_once('/').ok_or_else(|| {
            format!("'{text}' is not I/N: expected two whole numbers such as 2/8 (shard 2 of 8)")
        })?;
        let number = |part: &str, what: &str| {
            part.trim().parse::<u32>().map_err(|_| {
                format!(
                    "'{text}': {what} '{part}' is not a whole number (expected I/N such as 2/8)"
                )
            })
        };
        let (index, count) = (number(i, "I")?, number(n, "N")?);
        if count == 0 {
            return Err(format!(
                "'{text}': the number of shards N must be at least 1"
            ));
        }
        if count > MAX_SHARDS {
            return Err(format!("'{text}': at most {MAX_SHARDS} shards"));
        }
        if index == 0 {
            return Err(format!(
                "'{text}': shards are numbered from 1 (1/{count} to {count}/{count})"
            ));
        }
        if index > count {
            return Err(format!(
                "'{text}': there is no shard {index} of {count} (I runs from 1 to {count})"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether the input with this group key belongs to this shard.
    pub fn takes(&self, key: &str) -> bool {
        fnv1a(key.as_bytes()) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// What the worker was given: inputs on the command line, a list, a shard.
#[derive(Debug, Clone, Default)]
pub struct InputOptions<'a> {
    pub inputs: &'a [PathBuf],
    /// A file of paths, one per line, or `-` for standard input.
    pub files_from: Option<&'a Path>,
    pub shard: Option<Shard>,
}

/// A path read from a list, with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub path: PathBuf,
    pub line: usize,
}

/// Paths one per line; blank lines and a line's trailing CR are ignored. Bytes are taken as
/// they are (a path need not be UTF-8).
pub fn read_list(input: impl BufRead) -> std::io::Result<Vec<Listed>> {
    let mut listed = Vec::new();
    for (n, line) in input.split(b'\n').enumerate() {
        let mut line = line?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        listed.push(Listed {
            path: PathBuf::from(OsString::from_vec(line)),
            line: n + 1,
        });
    }
    Ok(listed)
}

/// The sources this worker reads and the inputs that failed already (a listed path that does
/// not exist names its list and line). With a shard, only its part of both.
pub fn select_inputs(
    options: &InputOptions,
) -> Result<(Vec<LogSource>, Vec<InputFailure>), BatchError> {
    let mut inputs = options.inputs.to_vec();
    let mut lines = std::collections::HashMap::new();
    let mut list_name = String::new();
    if let Some(list) = options.files_from {
        if list.as_os_str() == "-" && options.inputs.iter().any(|i| i.as_os_str() == "-") {
            return Err(BatchError::Usage(
                "standard input cannot hold both the list (--files-from -) and a log (-)".into(),
            ));
        }
        let list_error = |doing: String| move |error| BatchError::List { doing, error };
        let listed = if list.as_os_str() == "-" {
            list_name = "standard input".to_string();
            read_list(std::io::stdin().lock())
                .map_err(list_error("cannot read the list on standard input".into()))?
        } else {
            list_name = list.display().to_string();
            let file = std::fs::File::open(list)
                .map_err(list_error(format!("cannot open the list {list_name}")))?;
            read_list(std::io::BufReader::new(file))
                .map_err(list_error(format!("cannot read the list {list_name}")))?
        };
        let stdin_is_list = list.as_os_str() == "-";
        for entry in listed {
            if stdin_is_list && entry.path.as_os_str() == "-" {
                // Standard input holds the list: it cannot be a log too. Named like a path
                // that does not exist, so it fails in exactly one shard.
                let named = PathBuf::from("- (standard input holds the list)");
                lines.insert(named.display().to_string(), entry.line);
                inputs.push(named);
                continue;
            }
            lines.insert(entry.path.display().to_string(), entry.line);
            inputs.push(entry.path);
        }
    }
    let (sources, errors) = expand_inputs(&inputs);
    let failures = errors
        .into_iter()
        .filter(|(input, _)| options.shard.is_none_or(|s| s.takes(&group_key(input))))
        .map(|(input, error)| match lines.get(&input) {
            Some(line) => InputFailure {
                input: format!("{list_name} line {line}"),
                error: FailureCause::Listed(error),
            },
            None => InputFailure {
                input,
                error: FailureCause::Read(error),
            },
        })
        .collect();
    let sources = sources
        .into_iter()
        .filter(|source| options.shard.is_none_or(|s| s.takes(&source_key(source))))
        .collect();
    Ok((sources, failures))
}

/// The group key of a source: segments of one collector run share it.
pub fn source_key(source: &LogSource) -> String {
    match source {
        LogSource::File(path) => group_key(&path.to_string_lossy()),
        LogSource::ZipEntry { archive, entry, .. } => {
            format!("{}!{}", archive.display(), group_key(entry))
        }
        LogSource::Stdin => "-".to_string(),
    }
}

/// File name endings taken off before the rollover numbering (`x_000001.csv.gz`).
const ENDINGS: [&str; 6] = [".gz", ".zip", ".csv", ".tsv", ".txt", ".blg"];

/// A path with what changes from one segment of a run to the next taken off, lower-cased:
/// the file's endings, the numbers `logman -v nnnnnn|mmddhhmm` appends (`srv_000434.csv`,
/// any `_` or `-` and six or more digits at the end, repeatedly), and the
/// `yyyyMMdd-NNNNNN` a collector set appends to the folder of each run
/// (`SRV01_20240105-000003/DataCollector01.blg`). Other folders are kept whole: they tell
/// tickets and servers apart.
pub fn group_key(path: &str) -> String {
    let path = path.to_lowercase();
    let (folder, name) = match path.rfind(['/', '\\']) {
        Some(at) => (&path[..at], &path[at + 1..]),
        None => ("", path.as_str()),
    };
    let mut stem = name;
    while let Some(shorter) = ENDINGS.iter().find_map(|e| stem.strip_suffix(e)) {
        stem = shorter;
    }
    let stem = strip_numbering(stem);
    let (above, last) = match folder.rfind(['/', '\\']) {
        Some(at) => (&folder[..=at], &folder[at + 1..]),
        None => ("", folder),
    };
    format!("{above}{}/{stem}", strip_run_folder(last))
}

/// Takes off trailing `_digits` / `-digits` groups of six digits or more.
fn strip_numbering(mut stem: &str) -> &str {
    loop {
        let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let rest = &stem[..stem.len() - digits];
        match rest.strip_suffix(['_', '-']) {
            Some(shorter) if digits >= 6 && !shorter.is_empty() => stem = shorter,
            _ => return stem,
        }
    }
}

/// `NAME_yyyyMMdd-NNNNNN` -> `NAME`: the run folders a collector set makes.
fn strip_run_folder(folder: &str) -> &str {
    let b = folder.as_bytes();
    let n = b.len();
    let shape = n >= 15
        && b[n - 7] == b'-'
        && b[n - 15..n - 7].iter().all(u8::is_ascii_digit)
        && b[n - 6..].iter().all(u8::is_ascii_digit);
    if shape {
        folder[..n - 15].trim_end_matches(['_', '-'])
    } else {
        folder
    }
}

/// 64-bit FNV-1a: fixed, so a key lands in the same shard on every machine and release.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_numbers_are_checked() {
        assert_eq!("2/8".parse(), Ok(Shard { index: 2, count: 8 }));
        assert_eq!("1/1".parse(), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/0", "0/3", "5/3", "3", "a/b", "1/", "-1/3", "1/3/4", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad} accepted");
        }
        assert!("0/3"
            .parse::<Shard>()
            .unwrap_err()
            .contains("numbered from 1"));
        assert!("5/3"
            .parse::<Shard>()
            .unwrap_err()
            .contains("no shard 5 of 3"));
    }

    #[test]
    fn segments_of_one_run_share_a_key() {
        let key = group_key("arch/t1/ysu_CN_process_pb_hc_000434.csv");
        assert_eq!(key, "arch/t1/ysu_cn_process_pb_hc");
        assert_eq!(group_key("arch/t1/ysu_CN_process_pb_hc_000439.csv.gz"), key);
        assert_eq!(group_key("a/srv01_01051200.blg"), "a/srv01");
        assert_eq!(
            group_key("x/SRV01_20240105-000003/DataCollector01.blg"),
            group_key("x/SRV01_20240106-000004/DataCollector01.blg")
        );
        // Other numbers and folders still tell logs apart.
        assert_ne!(group_key("a/srv01.csv"), group_key("a/srv02.csv"));
        assert_ne!(group_key("t_1234/dc.csv"), group_key("t_1235/dc.csv"));
        assert_eq!(group_key("000123.csv"), "/000123");
    }

    #[test]
    fn shards_split_keys_disjointly_and_completely() {
        let keys: Vec<String> = (0..500).map(|i| format!("logs/srv{i}.csv")).collect();
        let count = 3;
        let mut sizes = vec![0; 3];
        for key in &keys {
            let owners: Vec<u32> = (1..=count)
                .filter(|&index| Shard { index, count }.takes(key))
                .collect();
            assert_eq!(owners.len(), 1, "{key}");
            sizes[owners[0] as usize - 1] += 1;
        }
        assert!(sizes.iter().all(|&n| n > 100), "{sizes:?}");
    }

    #[test]
    fn lists_skip_blank_lines_and_carriage_returns() {
        let listed = read_list(&b"a.csv\r\n\n  \r\nb dir/c.csv\nlast.csv"[..]).unwrap();
        let paths: Vec<(&str, usize)> = listed
            .iter()
            .map(|l| (l.path.to_str().unwrap(), l.line))
            .collect();
        assert_eq!(paths, [("a.csv", 1), ("b dir/c.csv", 4), ("last.csv", 5)]);
    }
}
