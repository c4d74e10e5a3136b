//! The built-in tables: the `data/*.toml` files compiled into the binary. They all load the
//! same way, once each (the caller keeps the result in a `LazyLock`): [`builtin!`] parses
//! `data/<name>` with [`parse`]. Being part of the build, a table that does not load is a
//! build defect, not an input error: it stops the program loudly, with the same words for
//! every table ([`broken`]). Each table's module has a test that it loads.

use serde::de::DeserializeOwned;

/// The text of `data/<name>`, compiled in.
macro_rules! data_text {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/", $name))
    };
}
pub(crate) use data_text;

/// The table in `data/<name>`, parsed into the type the context asks for.
macro_rules! builtin {
    ($name:literal) => {
        $crate::data::parse($name, $crate::data::data_text!($name))
    };
}
pub(crate) use builtin;

/// Parses the built-in table `data/<name>`, whose text is `text`; panics naming the file and
/// the TOML error when it does not parse.
pub(crate) fn parse<T: DeserializeOwned>(name: &str, text: &str) -> T {
    toml::from_str(text).unwrap_or_else(|e| broken(name, e))
}

/// Stops on a built-in table that does not load (does not parse, or fails its own checks).
pub(crate) fn broken(name: &str, error: impl std::fmt::Display) -> ! {
    panic!("built-in table data/{name} does not load (a build defect): {error}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Table {
        limit: u32,
    }

    #[test]
    fn a_table_parses_into_its_type() {
        let table: Table = parse("limits/example.toml", "limit = 7\n");
        assert_eq!(table.limit, 7);
    }

    #[test]
    #[should_panic(
        expected = "built-in table data/limits/example.toml does not load (a build defect): TOML parse error at line 1"
    )]
    fn a_table_that_does_not_parse_stops_naming_its_file_and_the_error() {
        let _: Table = parse("limits/example.toml", "limt = 7\n");
    }
}
