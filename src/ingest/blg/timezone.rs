//! Time-zone names: a .blg header may name its zone by a tzres.dll resource id
//! (`@tzres.dll,-212`); relog prints the name behind it. The id -> name facts are in
//! `data/tz/tzres.toml`; an id not there is kept as the raw reference text.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Deserialize)]
struct Table {
    zones: Vec<Zone>,
}

#[derive(Deserialize)]
struct Zone {
    std: u32,
    dlt: u32,
    standard: String,
    daylight: String,
}

fn names() -> &'static HashMap<u32, String> {
    static NAMES: OnceLock<HashMap<u32, String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let table: Table = crate::data::builtin!("tz/tzres.toml");
        let mut map = HashMap::new();
        for z in table.zones {
            map.insert(z.std, z.standard);
            map.insert(z.dlt, z.daylight);
        }
        map
    })
}

/// The zone name for a header's name field: literal names stay, `@tzres.dll,-NNN` becomes the
/// name with that id, or stays as it is when the id is unknown.
pub fn resolve(raw: &str) -> String {
    let id = raw
        .trim()
        .strip_prefix('@')
        .and_then(|r| r.rsplit_once(",-"))
        .filter(|(dll, _)| dll.eq_ignore_ascii_case("tzres.dll"))
        .and_then(|(_, id)| id.trim().parse::<u32>().ok());
    match id.and_then(|id| names().get(&id)) {
        Some(name) => name.clone(),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn tzres_ids_resolve_and_unknown_ones_stay_raw() {
        assert_eq!(resolve("@tzres.dll,-212"), "Pacific Standard Time");
        assert_eq!(resolve("@tzres.dll,-211"), "Pacific Daylight Time");
        assert_eq!(resolve("@tzres.dll,-112"), "Eastern Standard Time");
        assert_eq!(resolve("@tzres.dll,-111"), "Eastern Daylight Time");
        assert_eq!(
            resolve("SA Eastern Standard Time"),
            "SA Eastern Standard Time"
        );
        assert_eq!(resolve("@tzres.dll,-99999"), "@tzres.dll,-99999");
        assert_eq!(resolve("@other.dll,-212"), "@other.dll,-212");
    }
}
