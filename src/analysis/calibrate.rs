//! Calibrated confidence (issue #18 part 3): `confidence` is the probability that the verdict
//! is right, P(leak) for `leak`/`suspect` and P(no leak) for `ok` and `insufficient-data`.
//!
//! The verdict rules keep their own output (verdict and hand-set confidence, in
//! [`Calibration`]). From it and the finding's figures each series gets a raw evidence score:
//! a logistic predictor on a few [`FEATURES`], one per rule verdict. The score is then read
//! through a monotone (isotonic, pool-adjacent-violators) map to P(leak), fitted on the tune
//! split only and stored as data (`data/calibration/confidence.toml`). The detection benchmark
//! fits it again (`PERFLEAK_BENCH_FIT_CALIBRATION=1`) after the rules change.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::{Finding, Reason, Verdict};
use crate::format;
use crate::vocab::Shape;

/// What the verdict rules said before calibration, and what calibration made of it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibration {
    /// The verdict the rules reached (the finding's own may differ: see [`apply`]).
    pub rule_verdict: Verdict,
    /// The rules' hand-set confidence.
    pub rule_confidence: f64,
    /// Other counters of the same process flagged beside this one.
    pub co_trend: usize,
    /// The raw evidence score the map read (`null` when no map covers the rule verdict).
    pub score: Option<f64>,
    /// The calibrated probability that the series leaks.
    pub p_leak: Option<f64>,
    /// The features as the rules left the finding (before calibration moved it).
    #[serde(skip)]
    pub features: Option<[f64; N]>,
    /// Hours of data the rules' growth rests on (the growing lifetimes, from an onset); `None`:
    /// the log's span. A `suspect` is promoted only when these reach `promote_min_hours`.
    #[serde(skip)]
    pub evidence_hours: Option<f64>,
}

impl Calibration {
    /// The rules' output before anything is calibrated.
    pub fn of_rules(verdict: Verdict, confidence: f64) -> Calibration {
        Calibration {
            rule_verdict: verdict,
            rule_confidence: confidence,
            co_trend: 0,
            score: None,
            p_leak: None,
            features: None,
            evidence_hours: None,
        }
    }
}

/// The evidence the score weighs, in the order of [`features`] and the map's weights.
pub const FEATURES: [&str; 12] = [
    "rule_confidence",
    "minus_log10_q",
    "r_squared",
    "log_growth",
    "log_evidence_days",
    "co_trend",
    "log_lifetimes",
    "slope_ci_above_zero",
    "leak_shape",
    "objection_shape",
    "limit_within_30_days",
    "own_load_rising",
];
/// How many features there are.
pub const N: usize = FEATURES.len();

/// The features of a finding the rules have judged (`None` before they have), as the rules
/// left it: kept from before calibration moved its verdict.
pub fn features(f: &Finding) -> Option<[f64; N]> {
    let c = f.calibration?;
    if let Some(x) = c.features {
        return Some(x);
    }
    let q = f.q_value.or(f.p_value).filter(|q| q.is_finite());
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    // Memory left leaks by falling: its growth and slope read as memory lost.
    let sign = if f.system.as_ref().is_some_and(|s| s.falling) {
        -1.0
    } else {
        1.0
    };
    Some([
        c.rule_confidence,
        q.map_or(0.0, |q| (-q.max(1e-30).log10()).clamp(0.0, 30.0) / 10.0),
        f.r_squared.filter(|r| r.is_finite()).unwrap_or(0.0),
        f.growth_percent
            .filter(|g| g.is_finite())
            .map_or(0.0, |g| sign * g.signum() * (g.abs() / 100.0).ln_1p()),
        (evidence_hours(f).max(0.25) / 24.0).ln(),
        c.co_trend.min(3) as f64,
        (f.segments.max(1) as f64).ln(),
        flag(
            f.slope_ci95
                .is_some_and(|ci| ci[0] * sign > 0.0 && ci[1] * sign > 0.0),
        ),
        flag(matches!(
            f.shape,
            Shape::Linear | Shape::Stepwise | Shape::LateOnset | Shape::RestartMasked
        )),
        flag(matches!(
            f.shape,
            Shape::WarmUp
                | Shape::LevelShift
                | Shape::GrowthStopped
                | Shape::Burst
                | Shape::Cyclic
                | Shape::Confined
        )),
        flag(f.time_to_limit_hours.is_some_and(|h| h < 720.0)),
        // The process's own load rose: alone, or fitting the growth as well as time does.
        flag(
            f.reason_codes
                .iter()
                .any(|c| c == "load-rising" || c == "load-consistent"),
        ),
    ])
}

/// The map of one rule verdict: standardised logistic weights, then the isotonic steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassMap {
    /// The rule verdict it applies to (`leak`, `suspect`, `ok`, `insufficient-data`).
    pub verdict: String,
    /// Tune-split series of this verdict it was fitted on, and how many of them leak.
    pub series: u64,
    pub leaks: u64,
    /// Feature means and scales (standardisation), then the weights: intercept first.
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    pub weights: Vec<f64>,
    /// Isotonic knots: ascending scores and the P(leak) at each (each step's lowest and
    /// highest score at its value; linear in between, flat outside).
    pub score: Vec<f64>,
    pub p_leak: Vec<f64>,
}

/// Where P(leak) puts a verdict, and whether a calibrated P moves it (see [`apply`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// P(leak) at or above which a flagged series reads `leak`.
    pub leak_at: f64,
    /// P(leak) at or above which a series reads `suspect`.
    pub suspect_at: f64,
    /// A `suspect` whose P reaches `leak_at` reads `leak`...
    pub promote: bool,
    /// ...when its log spans at least this many hours: below about a day the rules' doubt (a
    /// daily cycle's rising half) is real whatever the corpus says, and a suspect says what
    /// would settle it instead.
    #[serde(default = "default_promote_min_hours")]
    pub promote_min_hours: f64,
    /// A `leak` whose P is under `leak_at` reads `suspect`, and a flagged series whose P is
    /// under `suspect_at` reads `ok`.
    pub demote: bool,
}

fn default_promote_min_hours() -> f64 {
    20.0
}

/// The stored calibration (`data/calibration/confidence.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationMap {
    /// How it was fitted, in words (method, split, scale, date).
    pub fitted_on: String,
    /// The feature names, in order; must equal [`FEATURES`].
    pub features: Vec<String>,
    pub thresholds: Thresholds,
    #[serde(rename = "class", default)]
    pub classes: Vec<ClassMap>,
}

impl CalibrationMap {
    /// Parses and checks a map: the features it was fitted on, one class per verdict at most,
    /// weights of the right length, knots ascending with P(leak) in [0, 1] and not falling.
    pub fn from_toml(text: &str) -> Result<CalibrationMap, String> {
        let map: CalibrationMap = toml::from_str(text).map_err(|e| e.to_string())?;
        map.check()?;
        Ok(map)
    }

    fn check(&self) -> Result<(), String> {
        if self.features != FEATURES {
            return Err(format!(
                "fitted on features {:?}, the code computes {FEATURES:?}",
                self.features
            ));
        }
        for (i, c) in self.classes.iter().enumerate() {
            let v = &c.verdict;
            if verdict_named(v).is_none() || self.classes[..i].iter().any(|o| o.verdict == *v) {
                return Err(format!("class `{v}`: unknown or repeated verdict"));
            }
            if c.mean.len() != N || c.scale.len() != N || c.weights.len() != N + 1 {
                return Err(format!(
                    "class `{v}`: {N} features need {N} means and scales and {} weights",
                    N + 1
                ));
            }
            if c.score.is_empty() || c.score.len() != c.p_leak.len() {
                return Err(format!(
                    "class `{v}`: knots and probabilities differ in number"
                ));
            }
            let rising = |w: &[f64]| w[0] <= w[1];
            let in_range = c.p_leak.iter().all(|p| (0.0..=1.0).contains(p));
            if !c.score.windows(2).all(rising) || !c.p_leak.windows(2).all(rising) || !in_range {
                return Err(format!("class `{v}`: the map is not monotone in [0, 1]"));
            }
        }
        Ok(())
    }

    fn class(&self, verdict: Verdict) -> Option<&ClassMap> {
        self.classes.iter().find(|c| c.verdict == verdict.as_str())
    }

    /// The raw evidence score and P(leak) of a series the rules judged `verdict`.
    pub fn probability(&self, verdict: Verdict, x: &[f64; N]) -> Option<(f64, f64)> {
        let c = self.class(verdict)?;
        let score = c.score_of(x);
        Some((score, c.p_at(score)))
    }
}

impl ClassMap {
    /// The logistic predictor (log-odds before the isotonic step).
    pub fn score_of(&self, x: &[f64; N]) -> f64 {
        let z = x
            .iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(v, (m, s))| (v - m) / s);
        self.weights[0] + z.zip(&self.weights[1..]).map(|(z, w)| z * w).sum::<f64>()
    }

    /// P(leak) at a score: the isotonic steps, linear between knots, flat outside them.
    pub fn p_at(&self, score: f64) -> f64 {
        knots_at(&self.score, &self.p_leak, score)
    }
}

/// An isotonic map read at `at`: `y` at the ascending knots `x` (not empty), linear between
/// them, flat outside.
pub(crate) fn knots_at(x: &[f64], y: &[f64], at: f64) -> f64 {
    let i = x.partition_point(|k| *k <= at);
    if i == 0 {
        return y[0];
    }
    if i == x.len() {
        return y[x.len() - 1];
    }
    // x[i] > at >= x[i - 1]: the knots differ.
    let t = (at - x[i - 1]) / (x[i] - x[i - 1]);
    y[i - 1] + t * (y[i] - y[i - 1])
}

fn verdict_named(name: &str) -> Option<Verdict> {
    [
        Verdict::Leak,
        Verdict::Suspect,
        Verdict::Ok,
        Verdict::InsufficientData,
    ]
    .into_iter()
    .find(|v| v.as_str() == name)
}

/// The built-in map.
pub fn builtin() -> &'static CalibrationMap {
    static MAP: LazyLock<CalibrationMap> = LazyLock::new(|| {
        const NAME: &str = "calibration/confidence.toml";
        CalibrationMap::from_toml(crate::data::data_text!("calibration/confidence.toml"))
            .unwrap_or_else(|e| crate::data::broken(NAME, e))
    });
    &MAP
}

/// Calibrates every finding with the built-in map, at the end of the decision.
pub(crate) fn apply(findings: &mut [Finding]) {
    apply_with(builtin(), findings);
}

/// Calibrates every finding with `map`: P(leak) from its evidence, the confidence that its
/// verdict is right, and, when the map's thresholds say so, the verdict P(leak) supports
/// (`leak` at `leak_at`, `suspect` at `suspect_at`). A series the rules left unflagged is
/// never flagged here: its forecast and trend reasons were never made. A rule verdict the map
/// has no class for keeps the rules' confidence.
pub fn apply_with(map: &CalibrationMap, findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        let (Some(x), Some(c)) = (features(f), f.calibration) else {
            continue;
        };
        let (hours, doubt) = (evidence_hours(f), unmeasured_doubt(f));
        let promotable = may_promote(&map.thresholds, hours, doubt);
        let Some((score, p, verdict)) = judge(map, c.rule_verdict, &x, promotable) else {
            continue;
        };
        if let Some(cal) = f.calibration.as_mut() {
            cal.score = Some(score);
            cal.p_leak = Some(p);
            cal.features = Some(x);
        }
        let t = &map.thresholds;
        if verdict != f.verdict {
            moved(f, verdict, p);
        } else if verdict == Verdict::Suspect && p >= t.leak_at && t.promote && !doubt {
            // Only its growth's span kept it from `leak`: say so, and what would settle it.
            f.push_reason(Reason::new(
                "calibrated-unpromoted",
                format!(
                    "{} of the tuning corpus's series with this evidence leak, but its growth rests on {} of data: a suspect until {} of growth is logged",
                    format::probability(p),
                    super::hours_text(hours),
                    super::hours_text(t.promote_min_hours)
                ),
            ));
        } else if verdict == Verdict::Ok && p >= t.suspect_at {
            f.push_reason(Reason::new(
                "calibrated-leak-rate",
                format!(
                    "no rule flagged it, yet {} of the tuning corpus's series with this evidence leak",
                    format::probability(p)
                ),
            ));
        }
        f.confidence = stated(f.verdict, p);
    }
}

/// What the map makes of a series the rules judged `rule`: its score, P(leak) and the
/// verdict P(leak) supports (`None` when the map has no class for `rule`).
pub fn judge(
    map: &CalibrationMap,
    rule: Verdict,
    x: &[f64; N],
    promotable: bool,
) -> Option<(f64, f64, Verdict)> {
    let (score, p) = map.probability(rule, x)?;
    Some((score, p, verdict_for(&map.thresholds, rule, p, promotable)))
}

/// Whether a `suspect` may read `leak` when its P reaches `leak_at`: not when its growth rests
/// on less than `promote_min_hours` of data (a partial day's doubt is real whatever the corpus
/// says, also in a longer log whose growth was judged on a few hours of it), and not with
/// a doubt the evidence score does not measure ([`unmeasured_doubt`]).
pub fn may_promote(t: &Thresholds, evidence_hours: f64, doubt: bool) -> bool {
    t.promote && evidence_hours >= t.promote_min_hours && !doubt
}

/// Hours of data the rules' growth rests on ([`Calibration::evidence_hours`]), at most the
/// log's span.
pub fn evidence_hours(f: &Finding) -> f64 {
    f.calibration
        .and_then(|c| c.evidence_hours)
        .map_or(f.span_hours, |h| h.min(f.span_hours))
}

/// A doubt about a finding that its score does not weigh: what the series is (`renumbering`:
/// a `#N` label moving between processes without `ID Process`), whether its restarts are
/// restarts at all (`restarts-unconfirmed`: drops alone, no identity counter), or whether the
/// process's own rising load, which fits the growth as well as time (`load-consistent`),
/// drove it, or whether a sawtooth's floors, which decide what a collected heap keeps, hold or
/// grow (`floors-unsettled`: they tell neither way).
pub fn unmeasured_doubt(f: &Finding) -> bool {
    f.reason_codes.iter().any(|code| is_unmeasured_doubt(code))
}

/// Whether a reason code is one of the doubts of [`unmeasured_doubt`].
pub fn is_unmeasured_doubt(code: &str) -> bool {
    matches!(
        code,
        "renumbering" | "load-consistent" | "restarts-unconfirmed" | "floors-unsettled"
    )
}

/// The confidence a verdict states from P(leak): P(leak) when flagged, else P(no leak).
pub fn stated(verdict: Verdict, p_leak: f64) -> f64 {
    if verdict.is_flagged() {
        p_leak
    } else {
        1.0 - p_leak
    }
}

/// The verdict a calibrated P(leak) supports, from the rules' own.
fn verdict_for(t: &Thresholds, rule: Verdict, p: f64, promotable: bool) -> Verdict {
    match rule {
        Verdict::Leak | Verdict::Suspect if t.demote && p < t.suspect_at => Verdict::Ok,
        Verdict::Leak if t.demote && p < t.leak_at => Verdict::Suspect,
        Verdict::Suspect if promotable && p >= t.leak_at => Verdict::Leak,
        _ => rule,
    }
}

/// Moves a finding to the verdict its calibrated P supports and says why, first.
fn moved(f: &mut Finding, verdict: Verdict, p: f64) {
    f.insert_reason(
        0,
        Reason::new(
            "calibrated-verdict",
            format!(
                "{}: {} of the tuning corpus's series with this evidence leak (the rules said {})",
                verdict.as_str(),
                format::probability(p),
                f.verdict.as_str()
            ),
        ),
    );
    if verdict == Verdict::Ok {
        f.time_to_limit_hours = None;
        f.time_to_limit_ci_hours = None;
        f.severity = None;
    }
    f.verdict = verdict;
}

/// One labelled series for the fit: the rule verdict, its features, whether it leaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub verdict: Verdict,
    pub x: [f64; N],
    pub leak: bool,
    /// An [`unmeasured_doubt`] holds: the suspect is not promoted whatever its P.
    pub doubt: bool,
    /// [`evidence_hours`]: what [`may_promote`] weighs.
    pub hours: f64,
}

impl Sample {
    /// The sample of a judged finding whose truth is known.
    pub fn of(f: &Finding, leak: bool) -> Option<Sample> {
        Some(Sample {
            verdict: f.calibration?.rule_verdict,
            x: features(f)?,
            leak,
            doubt: unmeasured_doubt(f),
            hours: evidence_hours(f),
        })
    }
}

/// Fits a map on labelled samples: per rule verdict with at least `MIN_CLASS` series, a
/// ridge-penalised logistic regression on the standardised features, then isotonic regression
/// of the outcome on its predictor, each step shrunk towards the class's base rate.
pub fn fit(samples: &[Sample], fitted_on: &str, thresholds: Thresholds) -> CalibrationMap {
    const MIN_CLASS: usize = 20;
    let mut classes = Vec::new();
    for verdict in [
        Verdict::Leak,
        Verdict::Suspect,
        Verdict::Ok,
        Verdict::InsufficientData,
    ] {
        let class: Vec<&Sample> = samples.iter().filter(|s| s.verdict == verdict).collect();
        if class.len() >= MIN_CLASS {
            classes.push(fit_class(verdict, &class));
        }
    }
    CalibrationMap {
        fitted_on: fitted_on.to_string(),
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
        thresholds,
        classes,
    }
}

fn fit_class(verdict: Verdict, class: &[&Sample]) -> ClassMap {
    let n = class.len() as f64;
    let mut mean = vec![0.0; N];
    let mut scale = vec![0.0; N];
    for j in 0..N {
        mean[j] = class.iter().map(|s| s.x[j]).sum::<f64>() / n;
        let var = class
            .iter()
            .map(|s| (s.x[j] - mean[j]).powi(2))
            .sum::<f64>()
            / n;
        scale[j] = if var > 1e-12 { var.sqrt() } else { 1.0 };
    }
    let rows: Vec<Vec<f64>> = class
        .iter()
        .map(|s| (0..N).map(|j| (s.x[j] - mean[j]) / scale[j]).collect())
        .collect();
    let y: Vec<bool> = class.iter().map(|s| s.leak).collect();
    let weights = logistic(&rows, &y, 1.0);
    let mut map = ClassMap {
        verdict: verdict.as_str().to_string(),
        series: class.len() as u64,
        leaks: y.iter().filter(|l| **l).count() as u64,
        mean,
        scale,
        weights,
        score: Vec::new(),
        p_leak: Vec::new(),
    };
    let mut scored: Vec<(f64, f64)> = class
        .iter()
        .map(|s| (map.score_of(&s.x), if s.leak { 1.0 } else { 0.0 }))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let base = map.leaks as f64 / n;
    // Each step holds its value over the scores it pooled; between steps P(leak) is linear.
    for b in shrink(&isotonic(&scored), base, 2.0) {
        let p = b.y.clamp(0.0, 1.0);
        for x in [b.lo, b.hi] {
            if map.score.last() != Some(&x) {
                map.score.push(x);
                map.p_leak.push(p);
            }
        }
    }
    map
}

/// One step of an isotonic fit: the mean score and outcome of a pooled run, and its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    /// The lowest and highest score pooled into it.
    pub lo: f64,
    pub hi: f64,
}

/// Pool-adjacent-violators: the non-decreasing step function closest (least squares) to `y`
/// over `(x, y)` pairs sorted by `x`; equal `x` share a step.
pub fn isotonic(points: &[(f64, f64)]) -> Vec<Step> {
    let mut ties: Vec<Step> = Vec::new();
    for &(x, y) in points {
        match ties.last_mut() {
            Some(s) if s.x == x => {
                s.y = (s.y * s.w + y) / (s.w + 1.0);
                s.w += 1.0;
            }
            _ => ties.push(Step {
                x,
                y,
                w: 1.0,
                lo: x,
                hi: x,
            }),
        }
    }
    pav(ties)
}

/// Pools adjacent steps until their values no longer fall (weights add, values average).
fn pav(steps: Vec<Step>) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::with_capacity(steps.len());
    for s in steps {
        out.push(s);
        while out.len() > 1 && out[out.len() - 2].y >= out[out.len() - 1].y {
            let b = out.pop().unwrap_or(s);
            let a = out.last_mut().expect("two steps");
            let w = a.w + b.w;
            *a = Step {
                x: (a.x * a.w + b.x * b.w) / w,
                y: (a.y * a.w + b.y * b.w) / w,
                w,
                lo: a.lo.min(b.lo),
                hi: a.hi.max(b.hi),
            };
        }
    }
    out
}

/// Each step's value pulled towards `base` as if `m` more series of the base rate were in it
/// (a step of 3 series out of 3 is not a certainty), pooled again where that made it fall.
fn shrink(steps: &[Step], base: f64, m: f64) -> Vec<Step> {
    let pulled = steps
        .iter()
        .map(|s| Step {
            y: (s.y * s.w + base * m) / (s.w + m),
            ..*s
        })
        .collect();
    pav(pulled)
}

/// Ridge-penalised logistic regression by Newton's method: weights (intercept first, not
/// penalised) maximising the log-likelihood of `y` minus `lambda`/2 times the squared weights.
pub fn logistic(rows: &[Vec<f64>], y: &[bool], lambda: f64) -> Vec<f64> {
    let k = rows.first().map_or(0, |r| r.len()) + 1;
    let mut w = vec![0.0; k];
    for _ in 0..100 {
        let mut grad = vec![0.0; k];
        let mut hess = vec![vec![0.0; k]; k];
        for (r, &yi) in rows.iter().zip(y) {
            let x: Vec<f64> = std::iter::once(1.0).chain(r.iter().copied()).collect();
            let eta: f64 = w.iter().zip(&x).map(|(w, x)| w * x).sum();
            let p = 1.0 / (1.0 + (-eta).exp());
            let v = (p * (1.0 - p)).max(1e-12);
            let residual = if yi { 1.0 } else { 0.0 } - p;
            for ((g, h), xa) in grad.iter_mut().zip(hess.iter_mut()).zip(&x) {
                *g += residual * xa;
                for (hb, xb) in h.iter_mut().zip(&x) {
                    *hb += v * xa * xb;
                }
            }
        }
        for a in 1..k {
            grad[a] -= lambda * w[a];
            hess[a][a] += lambda;
        }
        let Some(step) = solve(hess, grad) else {
            break;
        };
        let size = step.iter().map(|s| s.abs()).fold(0.0, f64::max);
        for (wi, s) in w.iter_mut().zip(&step) {
            *wi += s;
        }
        if size < 1e-9 {
            break;
        }
    }
    w
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting (`None` when singular).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col].clone();
        for row in col + 1..n {
            let f = a[row][col] / pivot_row[col];
            for (v, p) in a[row].iter_mut().zip(&pivot_row).skip(col) {
                *v -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// Reliability of stated confidences: 10 bins of width 0.1 (count, summed confidence, how
/// many were right) and the expected calibration error.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reliability {
    pub bins: [(u64, f64, u64); 10],
}

impl Reliability {
    pub fn add(&mut self, stated: f64, right: bool) {
        let i = ((stated.clamp(0.0, 1.0) * 10.0) as usize).min(9);
        let b = &mut self.bins[i];
        b.0 += 1;
        b.1 += stated;
        b.2 += u64::from(right);
    }

    pub fn merge(&mut self, o: &Reliability) {
        for (a, b) in self.bins.iter_mut().zip(&o.bins) {
            a.0 += b.0;
            a.1 += b.1;
            a.2 += b.2;
        }
    }

    pub fn count(&self) -> u64 {
        self.bins.iter().map(|b| b.0).sum()
    }

    /// Expected calibration error: the count-weighted mean of |mean stated - observed| over
    /// the bins (`None` without a series).
    pub fn ece(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| {
            self.bins
                .iter()
                .filter(|b| b.0 > 0)
                .map(|b| (b.1 - b.2 as f64).abs())
                .sum::<f64>()
                / n as f64
        })
    }
}

/// Whether a verdict is right about a series: flagged when it leaks, unflagged when not.
pub fn is_right(verdict: Verdict, leak: bool) -> bool {
    verdict.is_flagged() == leak
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps_y(points: &[(f64, f64)]) -> Vec<(f64, f64, f64)> {
        isotonic(points).iter().map(|s| (s.x, s.y, s.w)).collect()
    }

    #[test]
    fn pav_pools_violators_into_their_weighted_mean() {
        // Textbook case: 1, 3, 2, 4 -> 1, 2.5, 2.5, 4.
        let p = [(1.0, 1.0), (2.0, 3.0), (3.0, 2.0), (4.0, 4.0)];
        assert_eq!(
            steps_y(&p),
            vec![(1.0, 1.0, 1.0), (2.5, 2.5, 2.0), (4.0, 4.0, 1.0)]
        );
        assert_eq!((isotonic(&p)[1].lo, isotonic(&p)[1].hi), (2.0, 3.0));
        // A long fall pools back over several steps: 0, 1, 1, 0, 0 -> 0, 0.5 x 4.
        let p = [(1.0, 0.0), (2.0, 1.0), (3.0, 1.0), (4.0, 0.0), (5.0, 0.0)];
        assert_eq!(steps_y(&p), vec![(1.0, 0.0, 1.0), (3.5, 0.5, 4.0)]);
        // Ties share a step before pooling; the result never falls.
        let p = [(1.0, 1.0), (1.0, 0.0), (2.0, 0.0), (3.0, 1.0)];
        let s = steps_y(&p);
        assert_eq!(s, vec![(4.0 / 3.0, 1.0 / 3.0, 3.0), (3.0, 1.0, 1.0)]);
    }

    #[test]
    fn shrinking_keeps_the_steps_monotone() {
        let step = |x: f64, y: f64, w: f64| Step {
            x,
            y,
            w,
            lo: x,
            hi: x,
        };
        let steps = [
            step(0.0, 0.0, 100.0),
            step(1.0, 0.9, 100.0),
            step(2.0, 1.0, 1.0),
        ];
        let s = shrink(&steps, 0.5, 2.0);
        assert!(s.windows(2).all(|w| w[0].y <= w[1].y), "{s:?}");
        // 1 of 1 with 2 of the base rate 0.5 reads 2/3, under 0.9: pooled with it.
        assert_eq!(s.len(), 2);
        assert!((s[0].y - 1.0 / 102.0).abs() < 1e-12);
    }

    #[test]
    fn logistic_recovers_a_known_slope() {
        // P(y) = 1 / (1 + exp(-(0.5 + 2 x))) on a grid, with fractional outcomes expanded as
        // counts: 100 series per x.
        let (mut rows, mut y) = (Vec::new(), Vec::new());
        for i in -20..=20 {
            let x = f64::from(i) / 10.0;
            let p = 1.0 / (1.0 + (-(0.5 + 2.0 * x)).exp());
            let k = (p * 100.0).round() as usize;
            for j in 0..100 {
                rows.push(vec![x]);
                y.push(j < k);
            }
        }
        let w = logistic(&rows, &y, 0.0);
        assert!(
            (w[0] - 0.5).abs() < 0.05 && (w[1] - 2.0).abs() < 0.05,
            "{w:?}"
        );
    }

    #[test]
    fn reliability_bins_and_ece() {
        let mut r = Reliability::default();
        for i in 0..10 {
            r.add(0.95, i < 9);
        }
        for i in 0..10 {
            r.add(0.55, i < 3);
        }
        assert_eq!(r.bins[9].0, 10);
        assert_eq!((r.bins[5].0, r.bins[5].2), (10, 3));
        assert!((r.bins[5].1 - 5.5).abs() < 1e-12);
        // (|9.5 - 9| + |5.5 - 3|) / 20.
        assert!((r.ece().unwrap_or(0.0) - 0.15).abs() < 1e-12);
        assert_eq!(Reliability::default().ece(), None);
    }

    #[test]
    fn the_builtin_map_loads_and_is_monotone() {
        let map = builtin();
        assert!(!map.classes.is_empty());
        for c in &map.classes {
            let mut last = 0.0;
            for i in 0..=200 {
                let s = c.score[0] - 1.0
                    + (c.score[c.score.len() - 1] - c.score[0] + 2.0) * f64::from(i) / 200.0;
                let p = c.p_at(s);
                assert!(
                    (0.0..=1.0).contains(&p) && p >= last,
                    "{} at {s}: {p}",
                    c.verdict
                );
                last = p;
            }
        }
        assert!(map.thresholds.suspect_at < map.thresholds.leak_at);
    }

    #[test]
    fn a_map_fitted_on_samples_reads_them_back() {
        // Leak-class samples whose q decides: strong q leaks, weak q does not.
        let mut samples = Vec::new();
        for i in 0..400 {
            let mut x = [0.0; N];
            x[1] = f64::from(i % 4);
            samples.push(Sample {
                verdict: Verdict::Leak,
                x,
                leak: i % 4 >= 2 || i % 40 == 1,
                doubt: false,
                hours: 48.0,
            });
        }
        let t = Thresholds {
            leak_at: 0.9,
            suspect_at: 0.5,
            promote: true,
            promote_min_hours: 20.0,
            demote: true,
        };
        let map = fit(&samples, "test", t);
        let text = toml::to_string(&map).unwrap_or_default();
        let back = CalibrationMap::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        let p = |q: f64| {
            let mut x = [0.0; N];
            x[1] = q;
            back.probability(Verdict::Leak, &x).map_or(-1.0, |s| s.1)
        };
        assert!(p(0.0) < 0.2 && p(1.0) < 0.2, "{} {}", p(0.0), p(1.0));
        assert!(p(2.0) > 0.95 && p(3.0) > 0.95, "{} {}", p(2.0), p(3.0));
        assert_eq!(back.probability(Verdict::Ok, &[0.0; N]), None);
        assert_eq!(verdict_for(&t, Verdict::Leak, 0.6, true), Verdict::Suspect);
        assert_eq!(verdict_for(&t, Verdict::Suspect, 0.95, true), Verdict::Leak);
        assert_eq!(verdict_for(&t, Verdict::Ok, 0.95, true), Verdict::Ok);
        assert_eq!(verdict_for(&t, Verdict::Suspect, 0.3, true), Verdict::Ok);
        // Under a day, or with a moving label, a suspect's doubt stands however sure P is.
        assert!(may_promote(&t, 48.0, false));
        assert!(!may_promote(&t, 8.0, false));
        assert!(!may_promote(&t, 48.0, true));
        let kept = Thresholds {
            promote: false,
            demote: false,
            ..t
        };
        assert_eq!(
            verdict_for(
                &kept,
                Verdict::Suspect,
                0.95,
                may_promote(&kept, 48.0, false)
            ),
            Verdict::Suspect
        );
        assert_eq!(verdict_for(&kept, Verdict::Leak, 0.3, true), Verdict::Leak);
    }

    #[test]
    fn a_map_that_falls_or_misnames_its_features_does_not_load() {
        let mut map = builtin().clone();
        map.classes[0].score = vec![0.0, 1.0];
        map.classes[0].p_leak = vec![0.9, 0.1];
        let text = toml::to_string(&map).unwrap_or_default();
        assert!(CalibrationMap::from_toml(&text).is_err());
        let mut map = builtin().clone();
        map.features.pop();
        let text = toml::to_string(&map).unwrap_or_default();
        assert!(CalibrationMap::from_toml(&text).is_err_and(|e| e.contains("features")));
    }
}
