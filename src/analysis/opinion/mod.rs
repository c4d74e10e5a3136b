//! A second opinion on the rules' close calls (issue #18): gradient-boosted trees, fitted on
//! the tune split and stored as data, read the series' shape and the rules' own evidence, and
//! may move a verdict two ways only:
//! - an `ok` whose deciding objection is one a noisy leak can mimic by chance ([`REOPENABLE`]:
//!   growth that stopped or is dying out, a level shift, a warm-up, a partial day's possible
//!   cycle, weak or no significant growth) reads `suspect` when the model is sure enough;
//! - a `suspect` the model finds very unlike the leaks it learned from reads `ok`.
//!
//! Nothing else moves: a `leak`, a system-wide series, and an `ok` for any other reason (a
//! daily cycle, a sawtooth, load, restarts) keep the rules' verdict. A moved verdict says so
//! first, with the objection it overrules still in its reasons and the figures that weighed
//! most, so an engineer can check it against the chart.

mod features;
mod model;

use std::sync::LazyLock;

use serde::Serialize;

use super::calibrate;
use super::trial::SeriesTrial;
use super::{Finding, Reason, Verdict};
use crate::format;
use crate::vocab::{Counter, Shape};
pub use model::Model;

/// The objections (the reason code that decided an `ok`) the second opinion may overrule.
pub const REOPENABLE: [&str; 7] = [
    "cycle-confound",
    "dying-out",
    "growth-stopped",
    "level-shift",
    "no-growth",
    "warm-up",
    "weak-not-flagged",
];

/// How many of the weightiest figures a moved verdict names.
const NAMED: usize = 3;

/// What the second opinion read of a series it could judge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecondOpinion {
    /// `reopen` (an `ok` it may flag) or `demote` (a `suspect` it may clear).
    pub role: Role,
    /// P(leak) by the model (`null` without a model).
    pub p_leak: Option<f64>,
    /// Whether it moved the verdict.
    pub moved: bool,
    /// The features, kept when no model judged them (for the fitter; not in report.json).
    #[serde(skip)]
    pub features: Vec<f64>,
}

/// Which verdict the second opinion may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Reopen,
    Demote,
}

/// The built-in model (`data/calibration/second-opinion.toml`).
pub fn builtin() -> &'static Model {
    static MODEL: LazyLock<Model> = LazyLock::new(|| {
        const NAME: &str = "calibration/second-opinion.toml";
        Model::from_toml(
            crate::data::data_text!("calibration/second-opinion.toml"),
            &features::names(),
        )
        .unwrap_or_else(|e| crate::data::broken(NAME, e))
    });
    &MODEL
}

/// The feature names the code computes, in order (what a fitted model must list).
pub fn feature_names() -> Vec<String> {
    features::names()
}

/// Whether the second opinion reads series of this counter: the ones it learned from (a
/// process's `Private Bytes` and `Handle Count`; the trial keeps their blocks for it).
pub(crate) fn reads(kind: Counter) -> bool {
    matches!(kind, Counter::PrivateBytes | Counter::HandleCount)
}

/// The role a finding may take: `None` where the second opinion does not judge it. It judges
/// the counters it [`reads`], and never reopens a series the rules read as falling: whatever
/// the corpus says, a suspect leak must grow on the chart it is shown with.
fn role(f: &Finding, s: &SeriesTrial) -> Option<Role> {
    if f.system.is_some() || !reads(s.kind) {
        return None;
    }
    match f.verdict {
        Verdict::Suspect => Some(Role::Demote),
        Verdict::Ok if f.shape != Shape::Decreasing => {
            let first = f.reason_codes.first()?;
            REOPENABLE.contains(&first.as_str()).then_some(Role::Reopen)
        }
        _ => None,
    }
}

/// Reads every finding it may judge (`findings[i]` is `trials[i]`'s) and, with a model, moves
/// the verdicts it is sure of; `reopen` re-decides a series as a suspect (forecast included).
pub(super) fn apply(
    findings: &mut [Finding],
    trials: &[SeriesTrial],
    model: Option<&Model>,
    reopen: impl Fn(&SeriesTrial, Reason) -> Finding,
) {
    for (f, s) in findings.iter_mut().zip(trials) {
        let Some(role) = role(f, s) else { continue };
        let Some(x) = features::features(f, s) else {
            continue;
        };
        let Some(m) = model else {
            f.second_opinion = Some(SecondOpinion {
                role,
                p_leak: None,
                moved: false,
                features: x,
            });
            continue;
        };
        let raw = m.raw_probability(&x);
        let p = m.p_leak(raw);
        let thresholds = calibrate::builtin().thresholds;
        let moved = match role {
            // Overruling the rules' objection takes the confidence of a `leak`.
            Role::Reopen if raw >= m.reopen_at && p >= thresholds.leak_at => {
                let weighed = weightiest(m, &x, role);
                let objection = f.reasons.first().cloned().unwrap_or_default();
                let why = Reason::new(
                    "second-opinion",
                    format!(
                        "suspect: the rules objected ({objection}), but {} of the tuning corpus's series that read like this leak; what weighed most: {weighed}. Check the objection against the chart",
                        format::probability(p)
                    ),
                );
                let mut g = reopen(s, why);
                if g.verdict == Verdict::Suspect {
                    let code = g.reason_codes.iter().position(|c| c == "second-opinion");
                    if let Some(i) = code.filter(|&i| i > 0) {
                        let (c, t) = (g.reason_codes.remove(i), g.reasons.remove(i));
                        g.reason_codes.insert(0, c);
                        g.reasons.insert(0, t);
                    }
                    g.calibration = f.calibration.map(|c| calibrate::Calibration {
                        p_leak: Some(p),
                        ..c
                    });
                    g.confidence = calibrate::stated(Verdict::Suspect, p);
                    *f = g;
                    true
                } else {
                    false
                }
            }
            // A cleared suspect reads `ok`, which must state P(no leak) of at least a half.
            Role::Demote if raw < m.demote_under && p < thresholds.suspect_at => {
                let weighed = weightiest(m, &x, role);
                f.insert_reason(
                    0,
                    Reason::new(
                        "second-opinion",
                        format!(
                            "ok: the rules found it a suspect, but only {} of the tuning corpus's series that read like this leak; what weighed most: {weighed}",
                            format::probability(p)
                        ),
                    ),
                );
                f.verdict = Verdict::Ok;
                f.time_to_limit_hours = None;
                f.time_to_limit_ci_hours = None;
                f.severity = None;
                if let Some(c) = f.calibration.as_mut() {
                    c.p_leak = Some(p);
                }
                f.confidence = calibrate::stated(Verdict::Ok, p);
                true
            }
            _ => false,
        };
        // The features are kept only for a fit (no model): a report does not carry them.
        f.second_opinion = Some(SecondOpinion {
            role,
            p_leak: Some(p),
            moved,
            features: Vec::new(),
        });
    }
}

/// The features that pushed the model's score the way it moved the verdict, most first, in
/// words: towards a leak for a reopened `ok`, away from one for a cleared `suspect`.
fn weightiest(m: &Model, x: &[f64], role: Role) -> String {
    let sign = if role == Role::Reopen { 1.0 } else { -1.0 };
    let mut c: Vec<(usize, f64)> = m
        .contributions(x)
        .into_iter()
        .map(|v| v * sign)
        .enumerate()
        .filter(|(_, v)| *v > 0.0)
        .collect();
    c.sort_by(|a, b| b.1.total_cmp(&a.1));
    // Two features may say the same thing (the trend test's q, as the finding and as the
    // calibration read it): each phrase is named once.
    let mut named: Vec<&str> = Vec::new();
    for says in c.iter().map(|(i, _)| m.says[*i].as_str()) {
        if named.len() == NAMED {
            break;
        }
        if !named.contains(&says) {
            named.push(says);
        }
    }
    if named.is_empty() {
        "no single figure".to_string()
    } else {
        named.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_model_loads_and_matches_its_fitter() {
        let m = builtin();
        assert_eq!(m.features, feature_names());
        assert!(!m.check_x.is_empty(), "the fitter wrote no check vectors");
        assert!(m.reopen_at > m.demote_under);
    }
}
