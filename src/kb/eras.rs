//! Windows versions (`data/kb/eras.toml`): the versions a log was written on, from its
//! processes, objects, address space, BLG header and clock, and the versions an article
//! applies to, from its `windows` field or the words of its products, versions and title.

use std::sync::LazyLock;

use serde::Deserialize;

use super::KbArticle;

/// One Windows version (with the client releases of the same generation).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowsVersion {
    pub name: String,
    #[serde(default)]
    pub also: Vec<String>,
    pub label: String,
    /// First and last year a server of this version plausibly wrote a log.
    pub in_service: [i32; 2],
    /// OS build numbers of this version, first and last.
    pub builds: [u32; 2],
    #[serde(default)]
    pub words: Vec<String>,
}

/// Process images or objects that exist only from or until a version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub objects: Vec<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// The first version a 64-bit address space allows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct X64Rule {
    pub from: String,
    #[serde(default)]
    pub note: String,
}

/// The versions of an article that names none, by the kind of its id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Undated {
    pub archive_prefix: String,
    pub archive: Vec<String>,
    pub web: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eras {
    /// Oldest first.
    pub windows: Vec<WindowsVersion>,
    #[serde(default, rename = "marker")]
    pub markers: Vec<Marker>,
    pub x64: X64Rule,
    pub undated: Undated,
}

/// What a log shows about the Windows it was written on.
#[derive(Debug, Clone, Default)]
pub struct LogSigns<'a> {
    /// Process images, lower case, without `.exe`.
    pub images: &'a [String],
    pub objects: &'a [String],
    /// A process's Virtual Bytes passed 4 GB.
    pub x64: bool,
    /// The OS build a BLG header gives.
    pub build: Option<u32>,
}

/// The versions a log allows (indices into [`Eras::windows`]), and what says so.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogVersions {
    /// Empty when nothing dates the log, or its signs contradict each other.
    pub versions: Vec<usize>,
    /// The signs, as evidence names them (`process 'dwm'`, `object 'Process V2'`).
    pub signs: Vec<String>,
}

impl Eras {
    /// The compiled-in table (`data/kb/eras.toml`), checked once: every version a marker,
    /// the x64 rule or `[undated]` names must be in `[[windows]]`.
    pub fn builtin() -> &'static Eras {
        static TABLE: LazyLock<Eras> = LazyLock::new(|| {
            let eras: Eras = crate::data::builtin!("kb/eras.toml");
            eras.check()
                .unwrap_or_else(|e| crate::data::broken("kb/eras.toml", e));
            eras
        });
        &TABLE
    }

    fn check(&self) -> Result<(), String> {
        let named = self
            .markers
            .iter()
            .flat_map(|m| m.from.iter().chain(m.until.iter()))
            .chain(std::iter::once(&self.x64.from))
            .chain(self.undated.archive.iter())
            .chain(self.undated.web.iter());
        for name in named {
            if self.index(name).is_none() {
                return Err(format!("unknown Windows version '{name}'"));
            }
        }
        Ok(())
    }

    /// The index of a version by its name or another name of it (`2012 R2`, `Windows 8.1`,
    /// `Windows Server 2012 R2`), case-insensitive.
    pub fn index(&self, name: &str) -> Option<usize> {
        let bare = name.trim();
        let bare = strip_prefix_ci(bare, "windows server ")
            .or_else(|| strip_prefix_ci(bare, "windows "))
            .unwrap_or(bare);
        self.windows.iter().position(|w| {
            w.name.eq_ignore_ascii_case(bare)
                || w.also
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(bare) || a.eq_ignore_ascii_case(name.trim()))
        })
    }

    /// The versions the log's signs allow: what every marker found agrees on, narrowed to
    /// the BLG header's build when it names one.
    pub fn log_versions(&self, signs: &LogSigns) -> LogVersions {
        let all = self.windows.len();
        // Each sign found, with the bounds it sets (oldest and newest version it allows).
        let mut found: Vec<(String, usize, usize)> = Vec::new();
        let mut note = |from: &Option<String>, until: &Option<String>, sign: String| {
            let lo = from.as_deref().and_then(|f| self.index(f)).unwrap_or(0);
            let hi = until
                .as_deref()
                .and_then(|u| self.index(u))
                .unwrap_or(all.saturating_sub(1));
            if !found.iter().any(|(s, _, _)| *s == sign) {
                found.push((sign, lo, hi));
            }
        };
        for marker in &self.markers {
            let image = marker
                .images
                .iter()
                .find(|m| signs.images.iter().any(|i| i.eq_ignore_ascii_case(m)));
            let object = marker
                .objects
                .iter()
                .find(|m| signs.objects.iter().any(|o| o.eq_ignore_ascii_case(m)));
            if let Some(name) = image {
                note(&marker.from, &marker.until, format!("process '{name}'"));
            }
            if let Some(name) = object {
                note(&marker.from, &marker.until, format!("object '{name}'"));
            }
        }
        if signs.x64 {
            let from = Some(self.x64.from.clone());
            note(
                &from,
                &None,
                "a Virtual Bytes past 4 GB (64-bit)".to_string(),
            );
        }
        let lo = found.iter().map(|f| f.1).max().unwrap_or(0);
        let hi = found
            .iter()
            .map(|f| f.2)
            .min()
            .unwrap_or(all.saturating_sub(1));
        // Evidence names the signs that set the bounds, not every one that agrees with them.
        let mut said: Vec<String> = found
            .iter()
            .filter(|(_, l, h)| (*l == lo && lo > 0) || (*h == hi && hi + 1 < all))
            .map(|(s, _, _)| s.clone())
            .collect();
        let by_signs: Vec<usize> = if said.is_empty() || lo > hi {
            Vec::new()
        } else {
            (lo..=hi).collect()
        };
        // The header's build is the Windows of the machine that wrote the log, usually the
        // one logged: it narrows the signs to one version when they allow it. A collector
        // logging another machine (or a relog) writes its own build, so when the processes
        // and objects rule that version out, they win.
        let built = signs.build.and_then(|b| {
            self.windows
                .iter()
                .position(|w| (w.builds[0]..=w.builds[1]).contains(&b))
        });
        let header = || format!("the BLG header's OS build {}", signs.build.unwrap_or(0));
        match built {
            Some(v) if by_signs.is_empty() && said.is_empty() => LogVersions {
                versions: vec![v],
                signs: vec![header()],
            },
            Some(v) if by_signs.contains(&v) => {
                said.push(header());
                LogVersions {
                    versions: vec![v],
                    signs: said,
                }
            }
            _ if by_signs.is_empty() => LogVersions::default(),
            _ => LogVersions {
                versions: by_signs,
                signs: said,
            },
        }
    }

    /// The versions whose servers were in service in `year`; empty for a year none covers
    /// (a clock reset to 1601 or 1970 dates nothing).
    pub fn in_year(&self, year: i32) -> Vec<usize> {
        (0..self.windows.len())
            .filter(|&i| {
                let [from, to] = self.windows[i].in_service;
                (from..=to).contains(&year)
            })
            .collect()
    }

    /// The versions an article applies to: its `windows` field when it has one, else the
    /// words of its products, versions and title, else `[undated]` by the kind of its id.
    pub fn article_versions(&self, article: &KbArticle, windows: &[String]) -> Vec<usize> {
        let mut out: Vec<usize> = windows.iter().filter_map(|w| self.index(w)).collect();
        if out.is_empty() {
            out = self.versions_by_words(article);
        }
        if out.is_empty() {
            let fallback = if article.id.starts_with(self.undated.archive_prefix.as_str()) {
                &self.undated.archive
            } else {
                &self.undated.web
            };
            out = fallback.iter().filter_map(|w| self.index(w)).collect();
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn versions_by_words(&self, article: &KbArticle) -> Vec<usize> {
        let text = format!(
            "{} {} {}",
            article.products.join(" "),
            article.versions.join(" "),
            article.title
        )
        .to_ascii_lowercase();
        // NT articles give bare version numbers ("4.0"), which other products share.
        let nt = text.contains("windows nt");
        let nt_version = |prefix: &str| {
            article
                .versions
                .iter()
                .any(|v| v.trim_start_matches("NT ").starts_with(prefix))
        };
        let mut out = Vec::new();
        for (i, w) in self.windows.iter().enumerate() {
            let by_words = w
                .words
                .iter()
                .any(|word| contains_words(&text, &word.to_ascii_lowercase()));
            let by_nt = nt
                && ((w.name == "NT 3.x" && nt_version("3."))
                    || (w.name == "NT 4.0" && nt_version("4.0")));
            if by_words || by_nt {
                out.push(i);
            }
        }
        out
    }

    /// How to say a set of versions: `Windows NT 4.0`, `Windows Server 2012 R2 to 2022`,
    /// `Windows Server 2016 or later`, `Windows 2000 or earlier`.
    pub fn describe(&self, versions: &[usize]) -> String {
        self.describe_as(versions, |w| w.label.as_str())
    }

    /// The same in the versions' short names, for a column: `NT 4.0`, `2012 R2 to 2022`,
    /// `2016 or later`.
    pub fn describe_short(&self, versions: &[usize]) -> String {
        self.describe_as(versions, |w| w.name.as_str())
    }

    fn describe_as(&self, versions: &[usize], label: impl Fn(&WindowsVersion) -> &str) -> String {
        let (Some(&first), Some(&last)) = (versions.first(), versions.last()) else {
            return "no known Windows version".to_string();
        };
        let label = |i: usize| label(&self.windows[i]);
        let contiguous = versions.windows(2).all(|p| p[1] == p[0] + 1);
        if !contiguous {
            let names: Vec<&str> = versions.iter().map(|&i| label(i)).collect();
            return names.join(", ");
        }
        if first == last {
            return label(first).to_string();
        }
        let end = self.windows.len() - 1;
        if last == end {
            return format!("{} or later", label(first));
        }
        if first == 0 {
            return format!("{} or earlier", label(last));
        }
        format!("{} to {}", label(first), self.windows[last].name)
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Whether `phrase` occurs in `text` as whole words ("xp" in "Windows XP", not in "explorer").
pub fn contains_words(text: &str, phrase: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(phrase).any(|(at, _)| {
        let before = at.checked_sub(1).and_then(|i| bytes.get(i));
        let after = bytes.get(at + phrase.len());
        !before.is_some_and(u8::is_ascii_alphanumeric)
            && !after.is_some_and(u8::is_ascii_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(eras: &Eras, v: &[usize]) -> Vec<String> {
        v.iter().map(|&i| eras.windows[i].name.clone()).collect()
    }

    fn log(images: &[&str], objects: &[&str], x64: bool, build: Option<u32>) -> Vec<String> {
        let eras = Eras::builtin();
        let images: Vec<String> = images.iter().map(|s| s.to_string()).collect();
        let objects: Vec<String> = objects.iter().map(|s| s.to_string()).collect();
        let found = eras.log_versions(&LogSigns {
            images: &images,
            objects: &objects,
            x64,
            build,
        });
        names(eras, &found.versions)
    }

    #[test]
    fn the_table_loads_and_names_resolve() {
        let eras = Eras::builtin();
        assert_eq!(eras.index("Windows Server 2012 R2"), eras.index("2012 r2"));
        assert_eq!(eras.index("Windows 7"), eras.index("2008 R2"));
        assert!(eras.index("2012 R2").is_some() && eras.index("OS/2").is_none());
        let order: Vec<[i32; 2]> = eras.windows.iter().map(|w| w.in_service).collect();
        assert!(order.windows(2).all(|p| p[0][0] <= p[1][0]), "oldest first");
    }

    #[test]
    fn markers_date_a_log() {
        assert_eq!(
            log(&["spoolss", "winlogon"], &[], false, None),
            ["NT 3.x", "NT 4.0"]
        );
        assert_eq!(
            log(&["svchost"], &["Process V2"], false, None),
            ["2022", "2025"]
        );
        assert_eq!(
            log(&["registry", "dwm"], &[], false, None),
            ["2019", "2022", "2025"]
        );
        assert_eq!(
            log(&["w3wp"], &[], true, None).first().map(String::as_str),
            Some("2003")
        );
        // A 64-bit address space rules NT 4.0 out: markers that contradict date nothing.
        assert!(log(&["spoolss"], &[], true, None).is_empty());
        assert!(log(&["vmtoolsd", "lsass"], &[], false, None).is_empty());
        // The header's build narrows what the processes allow, or dates a log alone; a
        // collector's build that the processes rule out (an NT 4.0 server logged from a 2019
        // machine) is set aside.
        assert_eq!(log(&["svchost"], &[], false, Some(17763)), ["2019"]);
        assert_eq!(log(&[], &[], false, Some(9600)), ["2012 R2"]);
        assert_eq!(
            log(&["spoolss"], &[], false, Some(17763)),
            ["NT 3.x", "NT 4.0"]
        );
    }

    #[test]
    fn articles_get_versions_from_their_fields_or_words() {
        let eras = Eras::builtin();
        let nt = KbArticle {
            id: "Q1".into(),
            products: vec!["Windows NT".into()],
            versions: vec!["4.0".into()],
            ..Default::default()
        };
        assert_eq!(names(eras, &eras.article_versions(&nt, &[])), ["NT 4.0"]);
        let explicit = ["2016".to_string(), "Windows Server 2019".to_string()];
        assert_eq!(
            names(eras, &eras.article_versions(&nt, &explicit)),
            ["2016", "2019"]
        );
        let iis6 = KbArticle {
            id: "KB911822".into(),
            versions: vec!["IIS 6.0".into()],
            ..Default::default()
        };
        assert_eq!(names(eras, &eras.article_versions(&iis6, &[])), ["2003"]);
        let undated = KbArticle {
            id: "Q2".into(),
            ..Default::default()
        };
        assert_eq!(
            names(eras, &eras.article_versions(&undated, &[])),
            ["NT 3.x", "NT 4.0", "2000"]
        );
        assert_eq!(eras.describe(&[1]), "Windows NT 4.0");
        let n = eras.windows.len();
        assert_eq!(
            eras.describe(&[n - 3, n - 2, n - 1]),
            "Windows Server 2019 or later"
        );
        assert_eq!(eras.describe(&[7, 8, 9]), "Windows Server 2012 R2 to 2019");
        assert!(contains_words("windows xp sp2", "xp"));
        assert!(!contains_words("explorer leaks", "xp"));
        assert!(!contains_words("iis 60", "iis 6"));
    }
}
