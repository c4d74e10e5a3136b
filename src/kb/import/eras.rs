//! The releases an article applies to: Windows eras (`NT 4.0` ... `2022`) and product
//! versions (`IIS 7.0`, `.NET Framework 4.5`, `SQL Server 2019`), from the names in
//! `data/import/products.toml` and the version lists that follow them.

use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductTable {
    product: Vec<Product>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Product {
    name: String,
    say: Vec<String>,
    /// A Windows server release: its versions are eras.
    #[serde(default)]
    windows: bool,
    /// Windows client releases (`Windows 10`): product versions, not server eras.
    #[serde(default)]
    client: bool,
    #[serde(default = "yes")]
    versions: bool,
    /// The era of a product whose name is its release (`Windows 2000`).
    #[serde(default)]
    era: Option<String>,
    #[serde(default)]
    era_prefix: String,
}

fn yes() -> bool {
    true
}

static PRODUCTS: LazyLock<Vec<(String, usize)>> = LazyLock::new(|| {
    // Every way of writing a name, longest first, with the product it belongs to.
    let mut says: Vec<(String, usize)> = Vec::new();
    for (i, p) in TABLE.product.iter().enumerate() {
        says.extend(p.say.iter().map(|s| (s.clone(), i)));
    }
    says.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    says
});

static TABLE: LazyLock<ProductTable> =
    LazyLock::new(|| crate::data::builtin!("import/products.toml"));

/// Windows server years an era may be (anything else after "Windows Server" is not one).
const SERVER_YEARS: [&str; 7] = ["2003", "2008", "2012", "2016", "2019", "2022", "2025"];

/// What a text says it applies to.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Releases {
    pub(super) windows: Vec<String>,
    pub(super) products: Vec<String>,
    pub(super) product_versions: Vec<String>,
}

impl Releases {
    pub(super) fn is_empty(&self) -> bool {
        self.windows.is_empty() && self.product_versions.is_empty() && self.products.is_empty()
    }

    fn add(list: &mut Vec<String>, item: String) {
        if !list.contains(&item) {
            list.push(item);
        }
    }

    /// Adds what `other` has that this lacks.
    pub(super) fn merge(&mut self, other: Releases) {
        for w in other.windows {
            Self::add(&mut self.windows, w);
        }
        for p in other.products {
            Self::add(&mut self.products, p);
        }
        for v in other.product_versions {
            Self::add(&mut self.product_versions, v);
        }
    }

    /// Windows versions by the catalogue's names (`NT 3.51` -> `NT 3.x`), oldest first, as
    /// `data/kb/eras.toml` lists them; names it does not know are dropped.
    pub(super) fn sorted(mut self) -> Releases {
        let eras = crate::kb::Eras::builtin();
        let mut indices: Vec<usize> = self.windows.iter().filter_map(|w| eras.index(w)).collect();
        indices.sort_unstable();
        indices.dedup();
        self.windows = indices
            .into_iter()
            .map(|i| eras.windows[i].name.clone())
            .collect();
        self
    }
}

/// The releases named in a text.
pub(super) fn releases_in(text: &str) -> Releases {
    let mut out = Releases::default();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        // Every name starts with a capital or a dot: skip the rest quickly.
        let could_start = bytes[i].is_ascii_uppercase() || bytes[i] == b'.';
        if !could_start || !text.is_char_boundary(i) || !starts_word(text, i) {
            i += 1;
            continue;
        }
        let rest = &text[i..];
        let Some((say, index)) = PRODUCTS
            .iter()
            .find(|(say, _)| rest.starts_with(say.as_str()) && ends_word(rest, say.len()))
        else {
            i += 1;
            continue;
        };
        let product = &TABLE.product[*index];
        let after = &rest[say.len()..];
        let (versions, used) = if product.versions {
            version_list(after)
        } else {
            (Vec::new(), 0)
        };
        record(&mut out, product, &versions);
        i += say.len() + used;
    }
    out
}

fn record(out: &mut Releases, product: &Product, versions: &[String]) {
    if let Some(era) = &product.era {
        Releases::add(&mut out.windows, era.clone());
    }
    if product.windows {
        for v in versions {
            let year = v.split(' ').next().unwrap_or("");
            // "Windows NT 4.0 and 2000", "Windows NT 5.0": Windows 2000 is no NT era.
            let nt = !product.era_prefix.is_empty();
            if nt && (v == "2000" || v.starts_with("5.0")) {
                Releases::add(&mut out.windows, "2000".to_string());
            } else if nt && v.starts_with(['3', '4']) {
                Releases::add(&mut out.windows, format!("{}{v}", product.era_prefix));
            } else if !nt && SERVER_YEARS.contains(&year) {
                Releases::add(&mut out.windows, v.clone());
            }
        }
        return;
    }
    if product.client {
        for v in versions {
            let client = ["7", "8", "8.1", "10", "11", "XP", "Vista"];
            if client.contains(&v.as_str()) {
                Releases::add(&mut out.product_versions, format!("Windows {v}"));
            }
        }
        return;
    }
    Releases::add(&mut out.products, product.name.clone());
    for v in versions {
        Releases::add(&mut out.product_versions, format!("{} {v}", product.name));
    }
}

fn starts_word(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_ascii_alphanumeric())
}

fn ends_word(text: &str, at: usize) -> bool {
    text[at..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// ` 2.0, 4.0 and 4.5` -> (["2.0", "4.0", "4.5"], bytes read); `, version 1903` -> 1903;
/// `2012 R2` keeps its `R2`; `7.x` -> `7`.
fn version_list(text: &str) -> (Vec<String>, usize) {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &text[pos..];
        let lead = [
            ", version ",
            " version ",
            " versions ",
            ", ",
            " and ",
            " or ",
            "/",
            " ",
        ]
        .iter()
        .find(|s| rest.starts_with(*s))
        .map(|s| s.len());
        let Some(lead) = lead.or((pos == 0 && rest.starts_with(char::is_numeric)).then_some(0))
        else {
            break;
        };
        // After the first version, only list separators may lead to another.
        if pos > 0 && lead == 0 {
            break;
        }
        let start = pos + lead;
        let Some((version, len)) = version_at(&text[start..]) else {
            break;
        };
        out.push(version);
        pos = start + len;
    }
    (out, pos)
}

/// A version at the start of `text`: `4.5`, `2019`, `2012 R2`, `7.x`, `XP`.
fn version_at(text: &str) -> Option<(String, usize)> {
    for word in ["XP", "Vista"] {
        if text.starts_with(word) && ends_word(text, word.len()) {
            return Some((word.to_string(), word.len()));
        }
    }
    let len = text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == 'x'))
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let raw = text[..len].trim_end_matches('.');
    if raw.is_empty() || !raw.starts_with(|c: char| c.is_ascii_digit()) || raw.len() > 7 {
        return None;
    }
    if !ends_word(text, raw.len()) && !text[raw.len()..].starts_with('-') {
        return None;
    }
    let mut version = raw.trim_end_matches(".x").to_string();
    let mut used = raw.len();
    if text[used..].starts_with(" R2") && ends_word(text, used + 3) {
        version.push_str(" R2");
        used += 3;
    }
    Some((version, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_table_loads() {
        assert!(TABLE.product.iter().any(|p| p.name == "SQL Server"));
    }

    #[test]
    fn windows_eras_and_product_versions() {
        let r = releases_in(
            "Windows 10 - all editions, Windows Server 2016, Windows Server 2019, \
             Windows Server 2012 R2; Microsoft .NET Framework 2.0, 4.0 and IIS 7.x; \
             SQL Server 2019 CU13; Exchange Server 2010 Enterprise",
        )
        .sorted();
        assert_eq!(r.windows, vec!["2012 R2", "2016", "2019"]);
        assert_eq!(
            r.product_versions,
            vec![
                "Windows 10",
                ".NET Framework 2.0",
                ".NET Framework 4.0",
                "IIS 7",
                "SQL Server 2019",
                "Exchange Server 2010"
            ]
        );
        assert_eq!(
            r.products,
            vec![".NET Framework", "IIS", "SQL Server", "Exchange Server"]
        );
    }

    #[test]
    fn classic_names_and_nothing_from_other_numbers() {
        let r = releases_in("Microsoft Windows NT Server version 4.0 and Windows 2000").sorted();
        assert_eq!(r.windows, vec!["NT 4.0", "2000"]);
        let r = releases_in("Windows NT 3.51, 4.0 and 2000; Windows NT 5.0").sorted();
        assert_eq!(
            r.windows,
            vec!["NT 3.x", "NT 4.0", "2000"],
            "the catalogue's names"
        );
        let none = releases_in("Windows Server 5000 ports and Windows settings");
        assert!(none.windows.is_empty() && none.product_versions.is_empty());
    }
}
