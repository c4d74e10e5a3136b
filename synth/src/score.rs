//! Scoring detections against generated labels: matching by (instance, counter), confusion
//! counts, Wilson intervals, detection delay, forecast coverage, and the two baseline rules the
//! detection benchmark compares against (PAL's endpoint trend, a plain least-squares test).

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::label::{SeriesLabel, Truth};
use crate::analysis::calibrate::Sample;
use crate::analysis::opinion::SecondOpinion;
use crate::analysis::{Finding, Verdict};

/// What a detector said about one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// Leak or suspect.
    Positive,
    Negative,
    /// Declined to judge (insufficient data).
    Abstain,
}

impl From<Verdict> for Call {
    fn from(v: Verdict) -> Call {
        match v {
            Verdict::Leak | Verdict::Suspect => Call::Positive,
            Verdict::Ok => Call::Negative,
            Verdict::InsufficientData => Call::Abstain,
        }
    }
}

/// The "confident" reading of a verdict: only `leak` is a positive.
pub fn confident_call(v: Verdict) -> Call {
    match v {
        Verdict::Leak => Call::Positive,
        Verdict::Suspect | Verdict::Ok => Call::Negative,
        Verdict::InsufficientData => Call::Abstain,
    }
}

/// The log-duration bins both readings are reported in.
pub const DURATION_BINS: [&str; 5] = ["under 8 h", "8-20 h", "20-48 h", "2-7 days", "over 7 days"];

/// The [`DURATION_BINS`] index of a log of `hours`.
pub fn duration_bin(hours: f64) -> usize {
    match hours {
        h if h < 8.0 => 0,
        h if h < 20.0 => 1,
        h if h < 48.0 => 2,
        h if h < 168.0 => 3,
        _ => 4,
    }
}

/// The parts of a finding the scorer reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub instance: String,
    pub counter: String,
    /// Flagged (`leak` or `suspect`), not flagged, or abstained.
    pub call: Call,
    pub verdict: Verdict,
    /// The stated confidence: the probability that the verdict is right.
    pub confidence: f64,
    pub limit: Option<f64>,
    pub time_to_limit_ci_hours: Option<[Option<f64>; 2]>,
    /// The rules' verdict and the evidence the calibration reads (for fitting it; its truth
    /// is set by [`Detection::sample`]).
    pub evidence: Option<Sample>,
    /// What the second opinion read of the series (its role and features, for fitting it).
    pub opinion: Option<SecondOpinion>,
}

impl Detection {
    /// The calibration sample of this detection, for a series whose truth is `leak`.
    pub fn sample(&self, leak: bool) -> Option<Sample> {
        self.evidence.map(|s| Sample { leak, ..s })
    }
}

impl From<&Finding> for Detection {
    fn from(f: &Finding) -> Detection {
        Detection {
            instance: f.instance.clone(),
            counter: f.counter.clone(),
            call: f.verdict.into(),
            verdict: f.verdict,
            confidence: f.confidence,
            limit: f.limit,
            time_to_limit_ci_hours: f.time_to_limit_ci_hours,
            evidence: Sample::of(f, false),
            opinion: f.second_opinion.clone(),
        }
    }
}

/// Pairs each label with the detection of its (instance, counter), case-insensitively; a
/// series the detector did not report is `None`. When a key is reported twice, a positive wins.
pub fn match_detections<'a>(
    labels: &'a [SeriesLabel],
    detections: &'a [Detection],
) -> Vec<(&'a SeriesLabel, Option<&'a Detection>)> {
    labels
        .iter()
        .map(|l| {
            let mut best: Option<&Detection> = None;
            for d in detections.iter().filter(|d| {
                d.instance.eq_ignore_ascii_case(&l.instance)
                    && d.counter.eq_ignore_ascii_case(&l.counter)
            }) {
                if best.is_none() || d.call == Call::Positive {
                    best = Some(d);
                }
                if d.call == Call::Positive {
                    break;
                }
            }
            (l, best)
        })
        .collect()
}

/// Confusion counts of one detector over a set of labelled series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
    pub tn: u64,
    /// Abstentions on leaks and on non-leaks.
    pub abstain_leak: u64,
    pub abstain_not_leak: u64,
    /// Ambiguous series: how many there were and how many the detector flagged.
    pub ambiguous: u64,
    pub ambiguous_flagged: u64,
}

impl Confusion {
    pub fn add(&mut self, truth: Truth, call: Call) {
        match (truth, call) {
            (Truth::Leak, Call::Positive) => self.tp += 1,
            (Truth::Leak, Call::Negative) => self.fn_ += 1,
            (Truth::Leak, Call::Abstain) => self.abstain_leak += 1,
            (Truth::NotLeak, Call::Positive) => self.fp += 1,
            (Truth::NotLeak, Call::Negative) => self.tn += 1,
            (Truth::NotLeak, Call::Abstain) => self.abstain_not_leak += 1,
            (Truth::Ambiguous, call) => {
                self.ambiguous += 1;
                if call == Call::Positive {
                    self.ambiguous_flagged += 1;
                }
            }
        }
    }

    pub fn merge(&mut self, o: &Confusion) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
        self.tn += o.tn;
        self.abstain_leak += o.abstain_leak;
        self.abstain_not_leak += o.abstain_not_leak;
        self.ambiguous += o.ambiguous;
        self.ambiguous_flagged += o.ambiguous_flagged;
    }

    pub fn leaks(&self) -> u64 {
        self.tp + self.fn_ + self.abstain_leak
    }

    pub fn not_leaks(&self) -> u64 {
        self.fp + self.tn + self.abstain_not_leak
    }

    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// Recall over the series the detector judged (abstentions reported apart).
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }

    pub fn f1(&self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.recall()?);
        (p + r > 0.0).then(|| 2.0 * p * r / (p + r)).or(Some(0.0))
    }

    /// False positives per 1,000 judged healthy series.
    pub fn fp_per_1000(&self) -> Option<f64> {
        ratio(self.fp, self.fp + self.tn).map(|r| r * 1000.0)
    }

    pub fn abstention_rate(&self) -> Option<f64> {
        ratio(
            self.abstain_leak + self.abstain_not_leak,
            self.leaks() + self.not_leaks(),
        )
    }
}

fn ratio(k: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| k as f64 / n as f64)
}

/// Wilson score 95% interval of a proportion `k/n`; `None` when `n` is 0.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let z = 1.959_963_984_540_054_f64;
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let denom = 1.0 + z * z / n_f;
    let centre = (p + z * z / (2.0 * n_f)) / denom;
    let half = z * (p * (1.0 - p) / n_f + z * z / (4.0 * n_f * n_f)).sqrt() / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Hours from the leak onset to the end of the first prefix after which the alarm stays raised
/// through every later prefix; `None` when the last prefix has no alarm.
pub fn detection_delay(prefix_end_hours: &[f64], alarms: &[bool], onset_hours: f64) -> Option<f64> {
    if alarms.last() != Some(&true) {
        return None;
    }
    let first_of_final_run = alarms.iter().rposition(|a| !a).map_or(0, |i| i + 1);
    prefix_end_hours
        .get(first_of_final_run)
        .map(|end| end - onset_hours)
}

/// Number of verdict flips across successive prefixes (alarm stability).
pub fn flips(alarms: &[bool]) -> usize {
    alarms.windows(2).filter(|w| w[0] != w[1]).count()
}

/// Whether a time-to-limit interval (upper `None` = never) contains the true value.
pub fn covers(interval: [Option<f64>; 2], truth: f64) -> bool {
    let lo = interval[0].unwrap_or(0.0);
    let hi = interval[1].unwrap_or(f64::INFINITY);
    lo <= truth && truth <= hi
}

/// Linear-interpolated quantile `q` in [0, 1] of finite values; `None` when there are none.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// (hour, value) pairs where both are known: the baselines see what PAL or a script would.
fn finite_points(hours: &[f64], values: &[f64]) -> Vec<(f64, f64)> {
    hours
        .iter()
        .zip(values)
        .filter(|(t, v)| t.is_finite() && v.is_finite())
        .map(|(t, v)| (*t, *v))
        .collect()
}

/// PAL's trend (30 time slices; last slice average minus first slice average, per elapsed
/// hour); `None` with fewer than two finite samples.
pub fn pal_trend_per_hour(hours: &[f64], values: &[f64]) -> Option<f64> {
    let points = finite_points(hours, values);
    let (first, last) = (points.first()?.0, points.last()?.0);
    let elapsed = last - first;
    if points.len() < 2 || elapsed <= 0.0 {
        return None;
    }
    const SLICES: usize = 30;
    let mut sums = [0.0f64; SLICES];
    let mut counts = [0usize; SLICES];
    for (t, v) in &points {
        let k = (((t - first) / elapsed) * SLICES as f64).floor() as usize;
        let k = k.min(SLICES - 1);
        sums[k] += v;
        counts[k] += 1;
    }
    let averages: Vec<f64> = (0..SLICES)
        .filter(|&k| counts[k] > 0)
        .map(|k| sums[k] / counts[k] as f64)
        .collect();
    Some((averages.last()? - averages.first()?) / elapsed)
}

/// PAL's alert: trend above `threshold_per_hour` (100 MB/h for Private Bytes, 100/h for handles).
pub fn pal_rule(hours: &[f64], values: &[f64], threshold_per_hour: f64) -> Call {
    match pal_trend_per_hour(hours, values) {
        Some(trend) if trend > threshold_per_hour => Call::Positive,
        Some(_) => Call::Negative,
        None => Call::Abstain,
    }
}

/// Ordinary least squares of value on hours: (slope, two-sided p of slope = 0, R^2).
pub fn ols_fit(hours: &[f64], values: &[f64]) -> Option<(f64, f64, f64)> {
    let points = finite_points(hours, values);
    let n = points.len();
    if n < 3 {
        return None;
    }
    let n_f = n as f64;
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n_f;
    let mean_v = points.iter().map(|p| p.1).sum::<f64>() / n_f;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_t) * (p.1 - mean_v)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - mean_v).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let sse = (syy - slope * sxy).max(0.0);
    let r2 = if syy > 0.0 { 1.0 - sse / syy } else { 0.0 };
    let se = (sse / (n_f - 2.0) / sxx).sqrt();
    let p = if se > 0.0 {
        let t = slope / se;
        let dist = StudentsT::new(0.0, 1.0, n_f - 2.0).ok()?;
        2.0 * (1.0 - dist.cdf(t.abs()))
    } else if slope != 0.0 {
        0.0
    } else {
        1.0
    };
    Some((slope, p, r2))
}

/// The plain least-squares rule: slope > 0, p < 0.05 and R^2 >= 0.5.
pub fn ols_rule(hours: &[f64], values: &[f64]) -> Call {
    match ols_fit(hours, values) {
        Some((slope, p, r2)) if slope > 0.0 && p < 0.05 && r2 >= 0.5 => Call::Positive,
        Some(_) => Call::Negative,
        None => Call::Abstain,
    }
}

/// The most any detector can find of a straight-line leak rising `snr` noise standard
/// deviations over `n` evenly spaced samples of AR(1) noise with coefficient `phi`, at a
/// one-sided false-alarm rate `alpha`: the power of the generalised-least-squares slope test
/// that knows the noise (Prais-Winsten; the uniformly most powerful test for a rising slope
/// under Gaussian noise). A ceiling for the slow-leak family, not a detector.
pub fn oracle_line_power(n: usize, phi: f64, snr: f64, alpha: f64) -> f64 {
    let Ok(normal) = Normal::new(0.0, 1.0) else {
        return f64::NAN;
    };
    if n < 3 || !(0.0..1.0).contains(&phi) || !(0.0..1.0).contains(&alpha) {
        return f64::NAN;
    }
    // Rows of the whitened design [1, t]: the first scaled by sqrt(1 - phi²), the others
    // differenced (x_t - phi x_{t-1}); their cross products give the slope's variance.
    let first = (1.0 - phi * phi).sqrt();
    let (mut a, mut b, mut c) = (first * first, 0.0, 0.0);
    for i in 1..n {
        let (x0, x1) = (1.0 - phi, i as f64 - phi * (i - 1) as f64);
        a += x0 * x0;
        b += x0 * x1;
        c += x1 * x1;
    }
    // Marginal standard deviation 1: innovations have variance 1 - phi².
    let var_slope = (1.0 - phi * phi) * a / (a * c - b * b);
    let slope = snr / (n - 1) as f64;
    normal.cdf(slope / var_slope.sqrt() - normal.inverse_cdf(1.0 - alpha))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::Family;
    use std::collections::BTreeMap;

    fn label(instance: &str, counter: &str, truth: Truth) -> SeriesLabel {
        SeriesLabel {
            machine: "H".into(),
            process: instance.split('#').next().unwrap_or(instance).into(),
            instance: instance.into(),
            counter: counter.into(),
            pids: vec![4],
            family: Family::Flat,
            base_family: None,
            truth,
            base: 1.0,
            slope_per_hour: 0.0,
            onset_hours: None,
            level_at_end: 1.0,
            limit: None,
            time_to_limit_hours: None,
            noise_sd: 0.1,
            ar_phi: 0.0,
            snr: None,
            difficulty: None,
            params: BTreeMap::new(),
            note: None,
            clean_rise: None,
        }
    }

    fn detection(instance: &str, counter: &str, call: Call) -> Detection {
        Detection {
            instance: instance.into(),
            counter: counter.into(),
            call,
            verdict: Verdict::Ok,
            confidence: 0.5,
            limit: None,
            time_to_limit_ci_hours: None,
            evidence: None,
            opinion: None,
        }
    }

    #[test]
    fn confusion_counts_and_rates() {
        let mut c = Confusion::default();
        for (truth, call) in [
            (Truth::Leak, Call::Positive),
            (Truth::Leak, Call::Positive),
            (Truth::Leak, Call::Positive),
            (Truth::Leak, Call::Negative),
            (Truth::Leak, Call::Abstain),
            (Truth::NotLeak, Call::Positive),
            (Truth::NotLeak, Call::Negative),
            (Truth::NotLeak, Call::Negative),
            (Truth::NotLeak, Call::Negative),
            (Truth::Ambiguous, Call::Positive),
        ] {
            c.add(truth, call);
        }
        assert_eq!((c.tp, c.fp, c.fn_, c.tn, c.abstain_leak), (3, 1, 1, 3, 1));
        assert_eq!(c.precision(), Some(0.75));
        assert_eq!(c.recall(), Some(0.75));
        assert!((c.f1().unwrap_or(0.0) - 0.75).abs() < 1e-12);
        assert_eq!(c.fp_per_1000(), Some(250.0));
        assert_eq!(c.abstention_rate(), Some(1.0 / 9.0));
        assert_eq!((c.ambiguous, c.ambiguous_flagged), (1, 1));
        let mut d = c;
        d.merge(&c);
        assert_eq!(d.tp, 6);
        assert_eq!(Confusion::default().precision(), None);
    }

    #[test]
    fn duration_bins_and_the_confident_reading() {
        let bins: Vec<usize> = [0.5, 7.9, 8.0, 19.9, 24.0, 47.9, 48.0, 167.0, 168.0, 1000.0]
            .iter()
            .map(|h| duration_bin(*h))
            .collect();
        assert_eq!(bins, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
        assert_eq!(confident_call(Verdict::Leak), Call::Positive);
        assert_eq!(confident_call(Verdict::Suspect), Call::Negative);
        assert_eq!(Call::from(Verdict::Suspect), Call::Positive);
        assert_eq!(confident_call(Verdict::InsufficientData), Call::Abstain);
    }

    #[test]
    fn wilson_matches_known_values() {
        // 5 of 1000: 0.00214 .. 0.01163 (standard Wilson score interval).
        let (lo, hi) = wilson(5, 1000).unwrap_or((0.0, 0.0));
        assert!((lo - 0.002137).abs() < 2e-5, "{lo}");
        assert!((hi - 0.011637).abs() < 2e-5, "{hi}");
        let (lo, hi) = wilson(0, 10).unwrap_or((1.0, 1.0));
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-3, "{hi}");
        assert_eq!(wilson(0, 0), None);
        let (lo, hi) = wilson(10, 10).unwrap_or((0.0, 0.0));
        assert!((hi - 1.0).abs() < 1e-12 && (lo - 0.7225).abs() < 1e-3);
    }

    #[test]
    fn matching_by_instance_and_counter() {
        let labels = vec![
            label("w3wp", "Private Bytes", Truth::Leak),
            label("w3wp#1", "Private Bytes", Truth::NotLeak),
            label("w3wp", "Handle Count", Truth::NotLeak),
        ];
        let detections = vec![
            detection("W3WP", "private bytes", Call::Negative),
            detection("w3wp", "Private Bytes", Call::Positive),
            detection("w3wp#1", "Private Bytes", Call::Negative),
            detection("java", "Handle Count", Call::Positive),
        ];
        let m = match_detections(&labels, &detections);
        assert_eq!(m[0].1.map(|d| d.call), Some(Call::Positive));
        assert_eq!(m[1].1.map(|d| d.call), Some(Call::Negative));
        assert!(m[2].1.is_none());
    }

    #[test]
    fn delay_counts_from_the_start_of_the_final_alarm_run() {
        let ends = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(
            detection_delay(&ends, &[false, true, false, true, true], 1.5),
            Some(2.5)
        );
        assert_eq!(
            detection_delay(&ends, &[true, true, true, true, true], 0.0),
            Some(1.0)
        );
        assert_eq!(
            detection_delay(&ends, &[true, true, true, true, false], 0.0),
            None
        );
        assert_eq!(flips(&[false, true, false, true, true]), 3);
    }

    #[test]
    fn coverage_and_quantiles() {
        assert!(covers([Some(10.0), Some(20.0)], 15.0));
        assert!(!covers([Some(10.0), Some(20.0)], 25.0));
        assert!(covers([Some(10.0), None], 1e9));
        assert_eq!(quantile(&[3.0, 1.0, 2.0, f64::NAN], 0.5), Some(2.0));
        assert_eq!(quantile(&[0.0, 10.0], 0.9), Some(9.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn pal_is_an_endpoint_difference() {
        // 60 hourly samples of a ramp: 30 slices of two samples each.
        let hours: Vec<f64> = (0..60).map(f64::from).collect();
        let ramp: Vec<f64> = hours.iter().map(|h| h * 2.0).collect();
        let trend = pal_trend_per_hour(&hours, &ramp).unwrap_or(0.0);
        // First slice averages hours 0-1 (1.0), last 58-59 (117.0): (117 - 1) / 59 h.
        assert!((trend - 116.0 / 59.0).abs() < 1e-9, "{trend}");
        assert_eq!(pal_rule(&hours, &ramp, 1.0), Call::Positive);
        assert_eq!(pal_rule(&hours, &ramp, 100.0), Call::Negative);
        assert_eq!(pal_rule(&[0.0], &[1.0], 1.0), Call::Abstain);
    }

    #[test]
    fn ols_rule_on_exact_lines_and_noise() {
        let hours: Vec<f64> = (0..50).map(f64::from).collect();
        let line: Vec<f64> = hours.iter().map(|h| 10.0 + 3.0 * h).collect();
        let (slope, p, r2) = ols_fit(&hours, &line).unwrap_or((0.0, 1.0, 0.0));
        assert!((slope - 3.0).abs() < 1e-9 && p < 1e-12 && (r2 - 1.0).abs() < 1e-9);
        assert_eq!(ols_rule(&hours, &line), Call::Positive);
        let down: Vec<f64> = hours.iter().map(|h| 10.0 - h).collect();
        assert_eq!(ols_rule(&hours, &down), Call::Negative);
        // Alternating values: no trend.
        let zigzag: Vec<f64> = (0..50)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        assert_eq!(ols_rule(&hours, &zigzag), Call::Negative);
        // Known case: y = [1, 3, 2, 5, 4], x = 0..5 -> slope 0.8, r2 0.64, p = 0.1041.
        let (s, p, r2) = ols_fit(&[0.0, 1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 5.0, 4.0])
            .unwrap_or((0.0, 0.0, 0.0));
        assert!((s - 0.8).abs() < 1e-12 && (r2 - 0.64).abs() < 1e-12);
        assert!((p - 0.1041).abs() < 1e-3, "{p}");
    }
    #[test]
    fn oracle_power_matches_white_noise_and_falls_with_correlation() {
        // White noise: OLS, the slope's variance 1 / sum (t - mean)² = 12 / (n (n² - 1)).
        let n = 1200;
        let nf = n as f64;
        let z = 4.0 / (nf - 1.0) * (nf * (nf * nf - 1.0) / 12.0).sqrt();
        let normal = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!());
        let expected = normal.cdf(z - normal.inverse_cdf(0.997));
        let got = oracle_line_power(n, 0.0, 4.0, 0.003);
        assert!((got - expected).abs() < 1e-3, "{got} vs {expected}");
        // More correlation, fewer samples or less growth: less power.
        assert!(oracle_line_power(32, 0.9, 4.0, 0.003) < oracle_line_power(32, 0.5, 4.0, 0.003));
        assert!(oracle_line_power(32, 0.5, 4.0, 0.003) < oracle_line_power(96, 0.5, 4.0, 0.003));
        assert!(oracle_line_power(96, 0.5, 2.0, 0.003) < oracle_line_power(96, 0.5, 4.0, 0.003));
        // No growth: the false-alarm rate itself.
        assert!((oracle_line_power(96, 0.5, 0.0, 0.003) - 0.003).abs() < 1e-9);
        assert!(oracle_line_power(2, 0.5, 4.0, 0.003).is_nan());
    }
}
