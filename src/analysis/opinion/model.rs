//! The second opinion's model: gradient-boosted decision trees fitted on the tune split
//! (`benches/study/fit_opinion.py`), stored as data (`data/calibration/second-opinion.toml`),
//! read here. A series' raw probability is the logistic of its trees' summed leaves; an
//! isotonic map (fitted out of fold) turns it into P(leak). Each tree also tells which
//! features moved the score on the series' path, so the report can say what weighed.

use serde::Deserialize;

/// One tree as parallel arrays over its nodes (node 0 is the root). A leaf has `feature` -1;
/// `value` is a leaf's output, or a split node's mean output (what the path attributions use).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    pub feature: Vec<i32>,
    pub threshold: Vec<f64>,
    pub left: Vec<u32>,
    pub right: Vec<u32>,
    pub value: Vec<f64>,
    /// Where a missing value goes at each split (true: left).
    pub default_left: Vec<bool>,
    /// What counts as missing at each split: 0 nothing (NaN reads as 0), 1 zero and NaN, 2 NaN.
    pub missing: Vec<u8>,
}

/// A node as the evaluator walks it: 16 bytes, so a whole model stays in the cache. Trees are
/// stored in preorder, so a split's left child is the next node.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    /// A split's threshold, or a leaf's output.
    value: f64,
    /// A split's right child.
    right: u32,
    /// A split's feature; [`LEAF`] for a leaf.
    feature: u16,
    /// Bit 0: a missing value goes left; bits 1-2: what counts as missing ([`Tree::missing`]).
    flags: u8,
}

const LEAF: u16 = u16::MAX;

/// The stored model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// How it was fitted, in words (method, split, date, the command).
    pub fitted_on: String,
    /// The feature names, in order; must equal what the code computes.
    pub features: Vec<String>,
    /// A plain-words phrase per feature, for the reasons (same order).
    pub says: Vec<String>,
    /// An `ok` over a reopenable objection reads `suspect` at this raw probability or above.
    pub reopen_at: f64,
    /// A `suspect` reads `ok` under this raw probability.
    pub demote_under: f64,
    /// Isotonic knots: ascending raw probabilities and P(leak) at each.
    pub raw: Vec<f64>,
    pub p_leak: Vec<f64>,
    /// Feature vectors and the raw probability the fitter computed for them: the evaluator
    /// here must give the same.
    #[serde(default)]
    pub check_x: Vec<Vec<f64>>,
    #[serde(default)]
    pub check_raw: Vec<f64>,
    #[serde(rename = "tree")]
    pub trees: Vec<Tree>,
    /// Every tree's nodes, one after another, each node's mean output (a leaf's output; what
    /// the path attributions use), and where each tree starts (built on load, after which the
    /// stored arrays are dropped).
    #[serde(skip)]
    nodes: Vec<Node>,
    #[serde(skip)]
    means: Vec<f64>,
    #[serde(skip)]
    roots: Vec<usize>,
}

impl Model {
    /// Parses and checks a model against the features the code computes.
    pub fn from_toml(text: &str, names: &[String]) -> Result<Model, String> {
        let mut m: Model = toml::from_str(text).map_err(|e| e.to_string())?;
        m.check(names)?;
        m.trees = Vec::new();
        Ok(m)
    }

    fn check(&mut self, names: &[String]) -> Result<(), String> {
        if self.features != names {
            return Err(format!(
                "fitted on features {:?}, the code computes {names:?}",
                self.features
            ));
        }
        if self.says.len() != names.len() {
            return Err("one phrase per feature is needed".into());
        }
        let rising = |w: &[f64]| w[0] <= w[1];
        if self.raw.is_empty()
            || self.raw.len() != self.p_leak.len()
            || !self.raw.windows(2).all(rising)
            || !self.p_leak.windows(2).all(rising)
        {
            return Err("the isotonic knots are not monotone pairs".into());
        }
        for (i, t) in self.trees.iter().enumerate() {
            let n = t.feature.len();
            let same = [
                t.threshold.len(),
                t.left.len(),
                t.right.len(),
                t.value.len(),
                t.default_left.len(),
                t.missing.len(),
            ];
            if n == 0 || same.iter().any(|&k| k != n) {
                return Err(format!("tree {i}: its arrays differ in length"));
            }
            for j in 0..n {
                let f = t.feature[j];
                let split = f >= 0;
                let children_ok = (t.left[j] as usize) < n
                    && (t.right[j] as usize) < n
                    && t.left[j] as usize > j
                    && t.right[j] as usize > j;
                let preorder = t.left[j] as usize == j + 1;
                let known = t.missing[j] <= 2;
                if split && (f as usize >= names.len() || !children_ok || !preorder || !known) {
                    return Err(format!("tree {i}, node {j}: a split out of range"));
                }
            }
        }
        self.pack();
        if self.check_x.len() != self.check_raw.len() {
            return Err("check vectors and their probabilities differ in number".into());
        }
        for (x, want) in self.check_x.iter().zip(&self.check_raw) {
            if x.len() != names.len() {
                return Err("a check vector of the wrong length".into());
            }
            let got = self.raw_probability(x);
            if (got - want).abs() > 1e-9 {
                return Err(format!(
                    "the check vector gives {got}, the fitter computed {want}"
                ));
            }
        }
        Ok(())
    }

    /// Packs the checked trees into [`Node`]s.
    fn pack(&mut self) {
        self.nodes.clear();
        self.means.clear();
        self.roots.clear();
        for t in &self.trees {
            let base = self.nodes.len();
            self.roots.push(base);
            for j in 0..t.feature.len() {
                let leaf = t.feature[j] < 0;
                self.nodes.push(Node {
                    value: if leaf { t.value[j] } else { t.threshold[j] },
                    right: if leaf {
                        0
                    } else {
                        (base + t.right[j] as usize) as u32
                    },
                    feature: if leaf { LEAF } else { t.feature[j] as u16 },
                    flags: u8::from(t.default_left[j]) | (t.missing[j] << 1),
                });
                self.means.push(t.value[j]);
            }
        }
    }

    /// The raw probability: the logistic of the summed leaves.
    pub fn raw_probability(&self, x: &[f64]) -> f64 {
        let z: f64 = self
            .roots
            .iter()
            .map(|&r| self.nodes[self.leaf(r, x)].value)
            .sum();
        1.0 / (1.0 + (-z).exp())
    }

    /// The leaf a feature vector reaches from the root at `node`.
    fn leaf(&self, mut node: usize, x: &[f64]) -> usize {
        while let Some(next) = self.child(node, x) {
            node = next;
        }
        node
    }

    /// The child a feature vector goes to from `node` (`None` at a leaf): what counts as
    /// missing (`missing`, as in [`Tree::missing`]) goes the learned way, anything else by
    /// `<=` (NaN read as 0 where NaN is not missing).
    fn child(&self, node: usize, x: &[f64]) -> Option<usize> {
        let n = self.nodes[node];
        if n.feature == LEAF {
            return None;
        }
        let v = x[n.feature as usize];
        let is_missing = match n.flags >> 1 {
            1 => v.is_nan() || v.abs() <= ZERO,
            2 => v.is_nan(),
            _ => false,
        };
        let left = if is_missing {
            n.flags & 1 == 1
        } else {
            (if v.is_nan() { 0.0 } else { v }) <= n.value
        };
        Some(if left { node + 1 } else { n.right as usize })
    }

    /// P(leak) at a raw probability: the isotonic knots, linear between, flat outside.
    pub fn p_leak(&self, raw: f64) -> f64 {
        super::super::calibrate::knots_at(&self.raw, &self.p_leak, raw)
    }

    /// How much each feature moved the score (log-odds) on the series' paths: at every split,
    /// the change from the node's mean output to the child's goes to the split's feature.
    pub fn contributions(&self, x: &[f64]) -> Vec<f64> {
        let mut c = vec![0.0; self.features.len()];
        for &root in &self.roots {
            let mut node = root;
            while let Some(next) = self.child(node, x) {
                c[self.nodes[node].feature as usize] += self.means[next] - self.means[node];
                node = next;
            }
        }
        c
    }
}

/// What the fitter (LightGBM) reads as zero where zero is missing.
const ZERO: f64 = 1e-35;

#[cfg(test)]
mod tests {
    use super::*;

    fn stump() -> Tree {
        // x0 <= 1.0 goes left (-2), else right (+2); NaN goes right.
        Tree {
            feature: vec![0, -1, -1],
            threshold: vec![1.0, 0.0, 0.0],
            left: vec![1, 0, 0],
            right: vec![2, 0, 0],
            value: vec![0.5, -2.0, 2.0],
            default_left: vec![false, false, false],
            missing: vec![2, 0, 0],
        }
    }

    fn model() -> Model {
        let mut m = Model {
            fitted_on: "test".into(),
            features: vec!["a".into()],
            says: vec!["a".into()],
            reopen_at: 0.9,
            demote_under: 0.1,
            raw: vec![0.0, 1.0],
            p_leak: vec![0.0, 0.5],
            check_x: vec![],
            check_raw: vec![],
            trees: vec![stump()],
            nodes: Vec::new(),
            means: Vec::new(),
            roots: Vec::new(),
        };
        m.pack();
        m
    }

    #[test]
    fn a_tree_sends_values_and_missing_ones_their_way() {
        let m = model();
        let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
        assert!((m.raw_probability(&[0.5]) - sig(-2.0)).abs() < 1e-12);
        assert!((m.raw_probability(&[3.0]) - sig(2.0)).abs() < 1e-12);
        assert!((m.raw_probability(&[f64::NAN]) - sig(2.0)).abs() < 1e-12);
        assert_eq!(m.contributions(&[3.0]), vec![1.5]);
        assert!((m.p_leak(0.5) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn a_model_whose_check_disagrees_is_refused() {
        let mut m = model();
        m.check_x = vec![vec![3.0]];
        m.check_raw = vec![0.5];
        assert!(m.check(&["a".to_string()]).is_err());
        m.check_raw = vec![1.0 / (1.0 + (-2.0f64).exp())];
        assert!(m.check(&["a".to_string()]).is_ok());
        // A check vector of the wrong length is refused, not read out of bounds.
        m.check_x = vec![vec![]];
        assert!(m.check(&["a".to_string()]).is_err());
    }
}
