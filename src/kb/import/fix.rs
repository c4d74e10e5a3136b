//! Products, versions and the release that fixed the problem, from the header fields, the
//! STATUS section and the keywords.

use super::layout::Parsed;

pub(super) fn product_names(product: &str) -> Vec<String> {
    let name = product.trim();
    if name.is_empty() {
        return Vec::new();
    }
    vec![name.strip_prefix("Microsoft ").unwrap_or(name).to_string()]
}

/// `WINDOWS:3.5; winnt:5.5` -> [`3.5`, `5.5`]; `:4.0,4.0 SP6a` -> [`4.0`, `4.0 SP6a`].
pub(super) fn versions(prod_ver: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in prod_ver.split(';') {
        let list = part.split_once(':').map(|(_, v)| v).unwrap_or(part);
        for v in list.split(',') {
            let v = v.trim();
            if !v.is_empty() && !out.iter().any(|o| o == v) {
                out.push(v.to_string());
            }
        }
    }
    out
}

/// The fix: the release STATUS says first corrected it, else what the keywords encode, else
/// whether a hotfix or a workaround exists.
pub(super) fn fix_text(parsed: &Parsed) -> String {
    let status = parsed.section("STATUS");
    let lower = status.to_ascii_lowercase();
    for marker in [
        "first corrected in ",
        "was corrected in ",
        "has been corrected in ",
        "has been fixed in ",
        "problem is resolved in ",
        "was fixed in ",
        "is fixed in ",
    ] {
        if let Some(pos) = lower.find(marker) {
            let rest = &status[pos + marker.len()..];
            let end = rest
                .find(". ")
                .or_else(|| rest.find(".\n"))
                .unwrap_or(rest.len());
            let release = tidy_release(rest[..end].trim_end_matches('.'));
            if !release.is_empty() {
                return release;
            }
        }
    }
    if let Some(fix) = fix_from_keywords(&parsed.keywords) {
        return fix;
    }
    let all = format!("{}\n{}", parsed.section("RESOLUTION"), status).to_ascii_lowercase();
    if all.contains("supported fix") || all.contains("hotfix") {
        return "hotfix".to_string();
    }
    if !parsed.section("WORKAROUND").is_empty() {
        return "workaround only".to_string();
    }
    String::new()
}

/// "Windows NT 4.0 Service Pack 4.0 and ..." -> "Windows NT 4.0 SP4 and ...".
pub(super) fn tidy_release(text: &str) -> String {
    let mut out = text
        .replace("Service Pack ", "SP")
        .replace("the latest ", "latest ");
    for n in 1..=9 {
        out = out.replace(&format!("SP{n}.0"), &format!("SP{n}"));
    }
    let out = out.replace("U.S. ", "");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `kbWinNT400sp4fix` -> "Windows NT 4.0 SP4"; `kbExchange550sp4Fix` -> "Exchange Server 5.5
/// SP4"; `...PreSP7Fix` -> "hotfix (before ... SP7)".
pub(super) fn fix_from_keywords(keywords: &str) -> Option<String> {
    let products = [
        ("kbwinnt", "Windows NT"),
        ("kbwin2000", "Windows 2000"),
        ("kbexchange", "Exchange Server"),
        ("kbsna", "SNA Server"),
        ("kbsms", "SMS"),
        ("kbiis", "IIS"),
        ("exc", "Exchange Server"),
    ];
    for keyword in keywords.split_whitespace() {
        let lower = keyword.to_ascii_lowercase();
        if !lower.ends_with("fix") {
            continue;
        }
        for (prefix, product) in products {
            let Some(rest) = lower.strip_prefix(prefix) else {
                continue;
            };
            let body = &rest[..rest.len() - 3];
            let (version_digits, sp) = match body
                .find("presp")
                .map(|p| (p, true))
                .or_else(|| body.find("sp").map(|p| (p, false)))
            {
                Some((p, pre)) => (
                    &body[..p],
                    Some((
                        pre,
                        body[p..]
                            .trim_start_matches("pre")
                            .trim_start_matches("sp")
                            .to_string(),
                    )),
                ),
                None => (body, None),
            };
            let version = keyword_version(version_digits, product);
            let Some((pre, number)) = sp else { continue };
            if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let release = format!("{product}{version} SP{number}");
            return Some(if pre {
                format!("hotfix (before {release})")
            } else {
                release
            });
        }
    }
    None
}

/// `400` -> " 4.0", `4` -> " 4.0", `550` -> " 5.5", `` -> "".
pub(super) fn keyword_version(digits: &str, product: &str) -> String {
    let digits: String = digits.chars().filter(|c| c.is_ascii_digit()).collect();
    if product == "Windows 2000" {
        return String::new();
    }
    match digits.len() {
        0 => String::new(),
        1 => format!(" {digits}.0"),
        _ => format!(" {}.{}", &digits[..1], &digits[1..2]),
    }
}

/// The fix a Markdown article gives: the updates it names (KB numbers, cumulative updates,
/// service packs), else a configuration or code change, a workaround, or none (a guide).
/// Returns the text and the releases.
pub(super) fn modern_fix(parsed: &Parsed, guide: bool) -> (String, Vec<String>) {
    let mut text = String::new();
    for name in ["RESOLUTION", "STATUS", "WORKAROUND", "MORE INFORMATION"] {
        text.push_str(parsed.section(name));
        text.push('\n');
    }
    if text.trim().is_empty() || guide {
        for (_, body) in &parsed.sections {
            text.push_str(body);
            text.push('\n');
        }
    }
    let releases = releases_named(&text);
    let lower = text.to_ascii_lowercase();
    let configuration = [
        "registry",
        "hkey_",
        "web.config",
        "configuration",
        "set the ",
    ]
    .iter()
    .any(|w| lower.contains(w));
    let code = [
        "your code",
        "application code",
        "in code",
        "call the ",
        "developer",
    ]
    .iter()
    .any(|w| lower.contains(w));
    let mut parts: Vec<String> = Vec::new();
    let resolution = parsed.section("RESOLUTION").to_ascii_lowercase();
    let installs = [
        "install ",
        "upgrade ",
        "update to ",
        "apply the update",
        "latest version",
    ]
    .iter()
    .any(|w| resolution.contains(w));
    if !releases.is_empty() {
        parts.push(format!("update {}", releases.join(", ")));
    } else if installs {
        parts.push("update (a newer version; no update number given)".into());
    }
    let settings = setting_names(&text);
    if configuration && !settings.is_empty() {
        parts.push(format!("configuration change ({})", settings.join(", ")));
    } else if configuration {
        parts.push("configuration change".into());
    } else if code {
        parts.push("code change".into());
    }
    if parts.is_empty() && !parsed.section("WORKAROUND").is_empty() {
        parts.push("workaround only".into());
    }
    let mut fix = parts.join(" + ");
    if guide {
        fix = if fix.is_empty() {
            "none (troubleshooting guide)".into()
        } else {
            format!("troubleshooting guide; {fix}")
        };
    }
    (fix, releases)
}

/// Registry values a resolution sets: `Value name: PoolUsageMaximum`, `Set X = 1` (at most 4).
fn setting_names(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        let lower = word.to_ascii_lowercase();
        let named = (lower == "name:" && i > 0 && words[i - 1].eq_ignore_ascii_case("value"))
            .then(|| words.get(i + 1))
            .flatten()
            .or_else(|| {
                (lower == "set" && words.get(i + 2) == Some(&"="))
                    .then(|| words.get(i + 1))
                    .flatten()
            });
        if let Some(name) = named {
            let name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            // Setting names are CamelCase words (`PoolUsageMaximum`), not prose.
            let capitals = name.chars().filter(|c| c.is_ascii_uppercase()).count();
            let looks = name.len() >= 4
                && capitals >= 2
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if looks && !out.iter().any(|o| o == name) && out.len() < 4 {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// `KB4013429`, `cumulative update 4013429`, `SQL Server 2019 CU16`, `Service Pack 2`:
/// update numbers said to fix (not every article number: "see 322756" is a reference).
pub(super) fn releases_named(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, raw) in words.iter().enumerate() {
        let word = raw.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let upper = word.to_ascii_uppercase();
        let digits =
            |s: &str| s.len() >= 6 && s.len() <= 7 && s.chars().all(|c| c.is_ascii_digit());
        if let Some(number) = upper.strip_prefix("KB").filter(|n| digits(n)) {
            push(format!("KB{number}"));
            continue;
        }
        let before =
            |n: usize| -> String { words[i.saturating_sub(n)..i].join(" ").to_ascii_lowercase() };
        if digits(word)
            && ["update", "hotfix", "rollup", "fix"]
                .iter()
                .any(|w| before(2).contains(w))
        {
            push(format!("KB{word}"));
            continue;
        }
        let cu = upper
            .strip_prefix("CU")
            .filter(|n| !n.is_empty() && n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit()));
        let numbered_cu = (before(2).ends_with("cumulative update"))
            .then_some(word)
            .filter(|n| n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit()));
        if let Some(number) = cu.or(numbered_cu) {
            // The product release nearest before the CU, else the first after it.
            let before_cu = words[i.saturating_sub(8)..i].join(" ");
            let after_cu = words[i + 1..(i + 6).min(words.len())].join(" ");
            let product = super::eras::releases_in(&before_cu)
                .product_versions
                .pop()
                .or_else(|| {
                    super::eras::releases_in(&after_cu)
                        .product_versions
                        .into_iter()
                        .next()
                });
            push(match product {
                Some(p) => format!("{p} CU{number}"),
                None => format!("CU{number}"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_fixes_decode() {
        assert_eq!(
            fix_from_keywords("kbWinNT400sp4fix").as_deref(),
            Some("Windows NT 4.0 SP4")
        );
        assert_eq!(
            fix_from_keywords("kbWinNT4sp6fix").as_deref(),
            Some("Windows NT 4.0 SP6")
        );
        assert_eq!(
            fix_from_keywords("kbWinNT400PreSP7Fix").as_deref(),
            Some("hotfix (before Windows NT 4.0 SP7)")
        );
        assert_eq!(
            fix_from_keywords("exc55 kbExchange550sp4Fix").as_deref(),
            Some("Exchange Server 5.5 SP4")
        );
        assert_eq!(
            fix_from_keywords("kbWin2000SP2Fix").as_deref(),
            Some("Windows 2000 SP2")
        );
        assert_eq!(fix_from_keywords("kbnetwork kbAPI"), None);
    }

    #[test]
    fn update_numbers_and_cumulative_updates() {
        assert_eq!(
            releases_named(
                "This issue is addressed in cumulative update 4013429. See also 322756 How to \
                 back up the registry. Apply SQL Server 2019 CU16, or KB5000642. Fixed in \
                 SQL Server 2019 CU13 and SQL Server 2022 CU1."
            ),
            vec![
                "KB4013429",
                "SQL Server 2019 CU16",
                "KB5000642",
                "SQL Server 2019 CU13",
                "SQL Server 2022 CU1"
            ]
        );
        assert!(releases_named("restart the server").is_empty());
        assert_eq!(
            releases_named("Fixed in Cumulative Update 16 for SQL Server 2019."),
            vec!["SQL Server 2019 CU16"]
        );
    }

    #[test]
    fn versions_split_on_products_and_commas() {
        assert_eq!(versions("WINDOWS:3.5; winnt:5.5"), vec!["3.5", "5.5"]);
        assert_eq!(versions(":4.0,4.0 SP6a"), vec!["4.0", "4.0 SP6a"]);
        assert!(versions("").is_empty());
    }
}
