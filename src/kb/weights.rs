//! The KB matcher's weights, in `data/kb/weights.toml` (what each term of a score adds or
//! takes away, and the report threshold), loaded once.

use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub report: ReportWeights,
    pub process: ProcessWeights,
    pub counters: CounterWeights,
    pub corroboration: CorroborationWeights,
    pub era: EraWeights,
    pub against: AgainstWeights,
    pub confidence: ConfidenceWeights,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportWeights {
    pub threshold: f64,
    pub per_process: usize,
    pub rival_margin: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessWeights {
    pub own_name: f64,
    pub own_name_not_growing: f64,
    pub alias: f64,
    pub generic: f64,
    pub kernel: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterWeights {
    pub coverage: f64,
    pub nothing_else_grows: f64,
    pub per_extra: f64,
    pub extra_max: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorroborationWeights {
    pub first_specific: f64,
    pub per_more_specific: f64,
    pub specific_max: f64,
    pub specific_absent: f64,
    pub weak_present: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraWeights {
    pub agrees: f64,
    pub by_markers: f64,
    pub by_date: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgainstWeights {
    pub by_design: f64,
    pub levels_off: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceWeights {
    pub base: f64,
    pub per_confidence: f64,
    pub all_suspect: f64,
}

impl Weights {
    /// The compiled-in weights (`data/kb/weights.toml`, loaded as every built-in table is).
    pub fn builtin() -> &'static Weights {
        static WEIGHTS: LazyLock<Weights> =
            LazyLock::new(|| crate::data::builtin!("kb/weights.toml"));
        &WEIGHTS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_weights_parse_and_a_misspelt_one_is_refused() {
        let w = Weights::builtin();
        assert_eq!(w.process.own_name, 0.45);
        assert_eq!(w.report.per_process, 3);
        let misspelt =
            crate::data::data_text!("kb/weights.toml").replace("by_design =", "by_desing =");
        let err = toml::from_str::<Weights>(&misspelt)
            .unwrap_err()
            .to_string();
        assert!(err.contains("by_desing"), "{err}");
    }
}
