//! One process lifetime on trial: aggregate, remove a strong daily cycle, test the trend
//! (Mann-Kendall/Hamed-Rao, Sen), then the shape gates that tell a leak from warm-up, growth that
//! stopped, a level shift, bursts and cycles (one file per gate). The log-wide decision is made
//! by the verdict rules (`analysis/rules`), after the FDR step (`analysis/fdr.rs`).

mod bend;
mod burst;
mod cycle;
mod day_wave;
mod late_rise;
mod level_shift;
mod stairs;
mod tail;
mod weekend;
mod yesterday;

/// The reason code of a lifetime's note.
pub(crate) fn note_code(note: &str) -> &'static str {
    if note.starts_with(late_rise::NOTE) {
        "late-rise"
    } else if note.starts_with(yesterday::NOTE) {
        "back-to-yesterday"
    } else {
        day_wave::note_code(note)
    }
}

use std::cell::OnceCell;

use super::blocks::{aggregate, MAX_BLOCKS};
use super::limit;
use super::rules::dying_out::dying_out_share;
use super::season::{daily_cycle, lag24_diffs, weekend_offset, Calendar};
use super::stats::combine::binomial_upper_tail;
use super::stats::fit::{bic, broken_stick, line_fit, BrokenStick};
use super::stats::normal_quantile;
use super::stats::robust::{lag1_autocorrelation, mad_sigma, mad_sigma_is, median};
use super::stats::trend::{sen_slope_only, trend_test, MannKendall, SenSlope};
use super::teeth;
use super::Q_LEAK;
use super::{amount, hours_text};
use crate::vocab::{Counter, Shape};

/// Shortest lifetime worth testing.
pub const MIN_SPAN_HOURS: f64 = 3.0;
pub const MIN_SAMPLES: usize = 12;

/// Rate of growth of a part of a lifetime: Sen's slope, or the least-squares slope where Sen's
/// is exactly 0 because most pairs of a slowly growing integer counter (handles, threads) tie.
fn rate(t: &[f64], x: &[f64]) -> Option<f64> {
    sen_slope_only(t, x).map(|sen| untied(sen, t, x))
}

/// Sen's slope `sen` of (t, x), or the least-squares slope when the ties made it exactly 0.
fn untied(sen: f64, t: &[f64], x: &[f64]) -> f64 {
    if sen == 0.0 {
        line_fit(t, x).map_or(0.0, |f| f.slope)
    } else {
        sen
    }
}

/// Least-squares fit from `linregress`, reported beside the robust one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OlsFit {
    pub intercept: f64,
    pub slope: f64,
    pub slope_se: f64,
    pub r_squared: f64,
}

/// What the gates made of a lifetime.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Too short to test.
    Untestable,
    /// No significant upward trend.
    NoTrend { shape: Shape },
    /// A significant trend that a shape gate explains away.
    Rejected { shape: Shape, reason: String },
    /// Leak-shaped growth; `soft` lists what weakens it.
    Candidate { shape: Shape, soft: Vec<String> },
}

/// The trial of one lifetime.
#[derive(Debug, Clone)]
pub struct LifetimeTrial {
    pub start_hours: f64,
    pub end_hours: f64,
    pub samples: usize,
    pub blocks: usize,
    /// Median level of the tested series.
    pub level: f64,
    /// One-sided p of an increasing trend (1 when not tested).
    pub p: f64,
    pub mk: Option<MannKendall>,
    /// Robust slope of the growing part (after the onset for a late-onset leak).
    pub sen: Option<SenSlope>,
    /// Hour from which the robust line applies.
    pub fit_start_hours: f64,
    pub ols: Option<OlsFit>,
    pub outcome: Outcome,
    /// Evidence in words, most important first.
    pub notes: Vec<String>,
    pub min_detectable_slope: Option<f64>,
    /// Growth over the lifetime from the robust slope.
    pub growth: f64,
    /// Sen slope of the last third over the overall slope.
    pub tail_ratio: Option<f64>,
    /// A daily cycle could not be ruled out (lifetime shorter than a day, or lag-24 h test failed).
    pub cycle_confound: bool,
    /// A strong daily cycle was removed before testing.
    pub cycle_removed: bool,
    /// A strong daily cycle in one to three days was fitted (line + harmonics) and taken out.
    pub cycle_fitted: bool,
    /// Rates of the first and second half of the growing part (candidates only): how much the
    /// rate itself moves, for the forecast interval and the dying-out rule.
    pub half_slopes: Option<(f64, f64)>,
    /// Tested below [`MIN_SPAN_HOURS`] because restarts cut every lifetime of the series short:
    /// evidence only together with the others.
    pub pooled_only: bool,
    /// Up-steps counted when the growth is a staircase.
    pub up_steps: Option<usize>,
    /// Restarts cut the series into several lifetimes: each is short, starts with a warm-up,
    /// and counts together with the others.
    pub restarted: bool,
    /// The last third slowed, but its interval still reaches [`TAIL_KEEPS_RATE`] of the rate
    /// and no bend is shown over the whole lifetime: the slowing is a noisy estimate, not
    /// evidence (few samples): the dying-out and cycle-confound rules do not object on it
    /// (the weak-evidence rule still does: weak evidence and a slowing tail are two doubts).
    pub slowing_unshown: bool,
    /// The recovery rule's quick looks pass this lifetime's samples over when it is read
    /// alone (`rules::recovery::passed_over`): looked at by the trial while the samples are
    /// decoded, for candidates only, so the rule need not decode the series again.
    pub recovery_passed_over: bool,
    /// The lifetime's blocks as its test read them (before a cycle or a floor was taken out):
    /// what the second opinion reads of the shape, kept (shared, not copied) for the counters it
    /// reads only, so it need not decode the series again.
    pub pooled: Option<std::sync::Arc<super::blocks::Blocks>>,
}

impl LifetimeTrial {
    pub fn span_hours(&self) -> f64 {
        self.end_hours - self.start_hours
    }

    /// Time the samples cover, one sampling interval more than first-to-last: a day sampled
    /// every 15 minutes is 96 samples spanning 23.75 h, and it is a whole day of data.
    pub fn coverage_hours(&self) -> f64 {
        if self.samples > 1 {
            self.span_hours() * self.samples as f64 / (self.samples - 1) as f64
        } else {
            self.span_hours()
        }
    }

    /// Time the growing part covers (from the onset of a late onset), counted as
    /// [`LifetimeTrial::coverage_hours`] counts: the hours of data its growth was judged on.
    pub fn growth_hours(&self) -> f64 {
        let span = self.span_hours();
        if span > 0.0 {
            self.coverage_hours() * (self.end_hours - self.fit_start_hours).clamp(0.0, span) / span
        } else {
            self.coverage_hours()
        }
    }

    /// What the day-over-day check needs to know of the lifetime: its coverage, and whether a
    /// daily profile was removed from the series the gates read.
    fn day_reading(&self) -> (f64, bool) {
        (self.coverage_hours(), self.cycle_removed)
    }

    /// Robust level at the end of the lifetime.
    pub fn level_at_end(&self) -> Option<f64> {
        self.sen.map(|s| s.intercept + s.slope * self.end_hours)
    }
}

fn ols(t: &[f64], x: &[f64]) -> Option<OlsFit> {
    let data = linregress::RegressionDataBuilder::new()
        .build_from(vec![("Y", x.to_vec()), ("T", t.to_vec())])
        .ok()?;
    let model = linregress::FormulaRegressionBuilder::new()
        .data(&data)
        .data_columns("Y", ["T"])
        .fit()
        .ok()?;
    let (p, se) = (model.parameters(), model.se());
    Some(OlsFit {
        intercept: *p.first()?,
        slope: *p.get(1)?,
        slope_se: *se.get(1)?,
        r_squared: model.rsquared(),
    })
}

/// Minimum detectable slope: (z_0.99 + z_0.8) * sigma * sqrt(12 / m_eff) / T, with the effective
/// number of points shrunk by the lag-1 autocorrelation of the residuals.
pub fn min_detectable_slope(t: &[f64], x: &[f64]) -> Option<f64> {
    let m = x.len();
    if m < 4 {
        return None;
    }
    let span = t[m - 1] - t[0];
    if span <= 0.0 {
        return None;
    }
    let resid = line_fit(t, x)?.residuals(t, x);
    let sigma = mad_sigma(&resid)?;
    let phi = lag1_autocorrelation(&resid).clamp(0.0, 0.99);
    let m_eff = (m as f64 * (1.0 - phi) / (1.0 + phi)).max(2.0);
    Some((normal_quantile(0.99) + normal_quantile(0.8)) * sigma * (12.0 / m_eff).sqrt() / span)
}

/// Growth that keeps up day over day at the end of a lifetime of a day or more with a daily
/// cycle: a partial day at the end sits on the cycle's upswing or downswing, so the end is
/// judged against the same hours of the day before. Needs the rise over the last third's 24 h
/// differences to hold at least 30% of the overall rate, and most of those differences to be
/// rises. Under three days the cycle must show in `x` (the series is tested raw); from three
/// days on it must have been removed from `x` (`cycle_removed`: the profile was strong), and
/// the day-over-day differences before the last third, a whole day of them, must rise the same
/// way: a level shift rises day over day for one day only, a leak on every day. `None` when
/// the lifetime has no daily cycle to blame or its growth does not persist.
fn persists_day_over_day(
    t: &[f64],
    x: &[f64],
    slope: f64,
    span: f64,
    (coverage, cycle_removed): (f64, bool),
) -> Option<(f64, f64)> {
    if coverage < DAY_OVER_DAY_MIN_SPAN || slope <= 0.0 {
        return None;
    }
    let several_days = coverage >= SEVERAL_DAYS;
    if several_days {
        if !cycle_removed {
            return None;
        }
    } else if daily_cycle(t, x)?.strength < 0.3 {
        return None;
    }
    let start = t.first()? + 2.0 * span / 3.0;
    let diffs = lag24_diffs(t, x);
    let split = diffs.partition_point(|(h, _)| *h < start);
    let (before, tail) = diffs.split_at(split);
    let rises = rises_day_over_day(tail, slope)?;
    if several_days {
        rises_day_over_day(before, slope)?;
    }
    Some(rises)
}

/// The median of the day-over-day differences `diffs` (hour, change) as a share of a day at
/// `slope`, and the sign test's p of their rises, when they rise: at least 30% of the rate, and
/// most of them (p < 0.05). `None` with fewer than 4 differences.
fn rises_day_over_day(diffs: &[(f64, f64)], slope: f64) -> Option<(f64, f64)> {
    if diffs.len() < 4 {
        return None;
    }
    let ups = diffs.iter().filter(|d| d.1 > 0.0).count() as u64;
    let nonzero = diffs.iter().filter(|d| d.1 != 0.0).count() as u64;
    let p = binomial_upper_tail(ups, nonzero, 0.5);
    let changes: Vec<f64> = diffs.iter().map(|d| d.1).collect();
    let ratio = median(&changes)? / (24.0 * slope);
    (ratio >= 0.3 && p < 0.05).then_some((ratio, p))
}

/// Shortest lifetime whose end can be compared with the day before it (24 h plus 4 hours).
const DAY_OVER_DAY_MIN_SPAN: f64 = 28.0;
/// Coverage from which a daily profile is taken out of the blocks ([`daily_cycle`]) and a whole
/// day of day-over-day differences precedes the last third.
const SEVERAL_DAYS: f64 = 72.0;

/// Try one lifetime: `hours` and `values` are its samples (finite, in time order). Lifetimes
/// shorter than `shortest` (hours, samples: [`MIN_SPAN_HOURS`] and [`MIN_SAMPLES`], or less for
/// lifetimes that restarts cut short and that are judged together) are not tested.
/// `change_sigma`, when known, is the robust sigma of the changes between these very samples
/// (the lifetime split computes it for the whole series).
pub fn try_lifetime(
    hours: &[f64],
    values: &[f64],
    kind: Counter,
    calendar: Option<&Calendar>,
    shortest: (f64, usize),
    restarted: bool,
    change_sigma: Option<f64>,
) -> LifetimeTrial {
    let n = values.len().min(hours.len());
    let (start, end) = if n > 0 {
        (hours[0], hours[n - 1])
    } else {
        (0.0, 0.0)
    };
    let mut trial = LifetimeTrial {
        start_hours: start,
        end_hours: end,
        samples: n,
        blocks: 0,
        level: f64::NAN,
        p: 1.0,
        mk: None,
        sen: None,
        fit_start_hours: start,
        ols: None,
        outcome: Outcome::Untestable,
        notes: Vec::new(),
        min_detectable_slope: None,
        growth: 0.0,
        tail_ratio: None,
        cycle_confound: false,
        cycle_removed: false,
        cycle_fitted: false,
        half_slopes: None,
        pooled_only: false,
        up_steps: None,
        restarted,
        slowing_unshown: false,
        recovery_passed_over: false,
        pooled: None,
    };
    let span = end - start;
    if n < 4 {
        trial.level = median(values).unwrap_or(f64::NAN);
        return trial;
    }
    let blocks = aggregate(&hours[..n], &values[..n], MAX_BLOCKS);
    let (blocks, tooth) = teeth::widen(&hours[..n], &values[..n], blocks, change_sigma);
    trial.blocks = blocks.level.len();
    let blocks = std::sync::Arc::new(blocks);
    if super::opinion::reads(kind) {
        trial.pooled = Some(std::sync::Arc::clone(&blocks));
    }
    if span < shortest.0 || n < shortest.1 {
        trial.level = median(values).unwrap_or(f64::NAN);
        trial.min_detectable_slope = min_detectable_slope(&blocks.hours, &blocks.level);
        return trial;
    }
    let t = &blocks.hours;
    let mut x = blocks.level.clone();

    // A sawtooth (GC, cache trims) hides the live set: test the post-collection floor.
    let spread: Vec<f64> = blocks
        .peak
        .iter()
        .zip(&blocks.floor)
        .map(|(p, f)| p - f)
        .collect();
    let level = median(&x).unwrap_or(0.0);
    // Teeth stand out when their spread is 8 times the noise of one sample (the changes'
    // sigma over root 2). Where the split did not need that sigma, it is only compared here.
    let stand_out = |s: f64| {
        let below = |sigma: f64| s > 8.0 * (sigma / std::f64::consts::SQRT_2);
        change_sigma.map(below).unwrap_or_else(|| {
            let diffs: Vec<f64> = values.windows(2).map(|w| w[1] - w[0]).collect();
            mad_sigma_is(&diffs, below).unwrap_or_else(|| below(0.0))
        })
    };
    if blocks.aggregated && median(&spread).is_some_and(|s| s > 0.05 * level.abs() && stand_out(s))
    {
        x = blocks.floor.clone();
        trial.notes.push(teeth::floor_note(tooth, x.len()));
    }

    let mut cyclic = false;
    if trial.coverage_hours() >= SEVERAL_DAYS {
        if let Some(cycle) = daily_cycle(t, &x) {
            if cycle.strength >= 0.3 {
                x = cycle.adjusted;
                cyclic = true;
                trial
                    .notes
                    .push(format!("daily cycle removed (F_s={:.2})", cycle.strength));
            } else {
                trial
                    .notes
                    .push(format!("F_s={:.2} (no daily cycle)", cycle.strength));
            }
        }
    }
    // Servers with a strong daily cycle usually have a weekly one too: their weekends run
    // lower, and a log of a few days that ends on a Monday would otherwise rise.
    if cyclic {
        if let Some((offset, adjusted)) = calendar.and_then(|c| weekend_offset(t, &x, c)) {
            x = adjusted;
            trial.notes.push(format!(
                "weekend level offset removed ({:+.1}% of the level)",
                100.0 * offset / level.abs().max(f64::MIN_POSITIVE)
            ));
        }
    }
    trial.cycle_removed = cyclic;
    let untested = trial.clone();
    test(&mut trial, t, &x, level, kind, calendar);
    if !cyclic {
        let bent_share = if cycle_may_hide_growth(&trial) {
            Some(BENT_UNDER_CYCLE_SHARE)
        } else if cycle_may_blur_growth(&trial) {
            Some(BLURRED_BENT_SHARE)
        } else {
            None
        };
        if let Some(fitted) = bent_share.and_then(|bent| {
            let rhythm = (level, kind, bent);
            without_fitted_cycle(untested.clone(), t, &x, rhythm, calendar)
        }) {
            return fitted;
        }
    }
    if !cyclic {
        if let Some(fitted) = day_wave::retry(&trial, untested, t, &x, (level, kind), calendar) {
            return fitted;
        }
    }
    trial
}

/// A last third rising at this share of the overall rate, even insignificantly, has not stopped.
const TAIL_KEEPS_RATE: f64 = 0.6;
/// Lifetime p under which a last third (or the part after a bend) whose interval reaches
/// [`TAIL_KEEPS_RATE`] of the rate is too noisy to show that growth stopped.
const UNDECIDED_TAIL_MAX_P: f64 = 1e-3;

/// BIC margin by which a broken line must beat a straight one for growth to have been shown
/// to bend. A part after a bend (or a last third) of a few noisy samples whose interval still
/// reaches [`TAIL_KEEPS_RATE`] cannot show that growth stopped; the whole lifetime can, and on
/// every sample it has: a warm-up's bend fits far better than a line, a noisy leak's does not.
const BEND_SHOWN_BIC: f64 = 10.0;
/// A part with fewer points than this (a third of an 8 h log sampled every 5 or 15 minutes: 33
/// or 11)
/// cannot show its own rate; with more, an interval that wide means the growth itself is small
/// against the noise, and the part's slowing stands.
const FEW_POINTS: usize = 40;

/// The broken line whose residual is `stick_rss` fits `(t, x)` better than a straight line by
/// [`BEND_SHOWN_BIC`] (two more parameters: the break and the second slope).
fn bend_shown(t: &[f64], x: &[f64], stick_rss: f64) -> bool {
    let m = x.len();
    line_fit(t, x).is_some_and(|line| bic(line.rss, m, 2) - bic(stick_rss, m, 4) > BEND_SHOWN_BIC)
}

/// Growth over the lifetime, as a share of its level, under which a noisy slowing still
/// stands: a drift of a percent or two leaves any part's interval wide, however many samples.
const UNSHOWN_MIN_GROWTH: f64 = 0.05;

/// A slowing of the `part_points` last points of `g` (level `level`) is not shown: too few of
/// them to show a rate, growth that is more than a drift, and no bend over the whole lifetime.
fn slowing_unshown(g: &Tested, level: f64, part_points: usize, stick_rss: f64) -> bool {
    part_points < FEW_POINTS
        && g.sen.slope * g.span >= UNSHOWN_MIN_GROWTH * level.abs()
        && !bend_shown(g.t, g.x, stick_rss)
}

/// Trend test and shape gates of the (adjusted) block series `x`.
fn test(
    trial: &mut LifetimeTrial,
    t: &[f64],
    x: &[f64],
    level: f64,
    kind: Counter,
    calendar: Option<&Calendar>,
) {
    trial.level = median(x).unwrap_or(level);
    trial.min_detectable_slope = min_detectable_slope(t, x);
    let Some((mk, sen)) = trend_test(t, x) else {
        trial.outcome = Outcome::NoTrend { shape: Shape::Flat };
        return;
    };
    trial.mk = Some(mk);
    trial.p = mk.p_increasing;
    trial.sen = Some(sen);
    trial.ols = ols(t, x);
    trial.growth = sen.slope * trial.span_hours();
    let cyclic = trial.cycle_removed || trial.cycle_fitted;
    let tested = Tested::new(t, x, sen, trial.span_hours());
    trial.outcome = gate(trial, &tested, mk, kind, (cyclic, calendar));
    if matches!(trial.outcome, Outcome::Candidate { .. }) {
        let from = t.partition_point(|&h| h < trial.fit_start_hours);
        let (tg, xg) = (&t[from..], &x[from..]);
        let mid = tg.len() / 2;
        if mid >= 4 {
            trial.half_slopes = rate(&tg[..mid], &xg[..mid]).zip(rate(&tg[mid..], &xg[mid..]));
        }
    }
}

/// Lifetimes (by coverage) where a daily cycle is fitted as harmonics: under 20 h a fitted
/// 24 h wave is mostly a bend, and from 72 h [`daily_cycle`] removes the profile.
const HARMONIC_COVERAGE: std::ops::Range<f64> = 20.0..72.0;
/// A daily cycle is "clearly there" when the harmonics jointly have an F-test p below this...
const HARMONIC_P: f64 = 1e-6;
/// ...and explain at least this share of what a straight line leaves.
const HARMONIC_SHARE: f64 = 0.5;

/// A bend without any cycle (warm-up, cache fill) must leave at least this many times the
/// residual of line + harmonics: over a day or two a sinusoid's quarter passes for a warm-up.
const BEND_RSS_RATIO: f64 = 3.0;
/// A bend under the cycle must leave at least this share of the residual of a line under it:
/// growth that slows down (a warm-up) or starts late is not a line.
const BENT_UNDER_CYCLE_SHARE: f64 = 0.3;

/// The plain test of a one-to-three-day lifetime found no growth, or a gate that a daily cycle
/// trips (a bend or a slowing last third: the cycle's last phase) rejected it.
fn cycle_may_hide_growth(trial: &LifetimeTrial) -> bool {
    HARMONIC_COVERAGE.contains(&trial.coverage_hours())
        && match &trial.outcome {
            Outcome::NoTrend { .. } => true,
            Outcome::Rejected { shape, .. } => {
                matches!(*shape, Shape::WarmUp | Shape::GrowthStopped)
            }
            _ => false,
        }
}

/// A candidate of a one-to-three-day lifetime whose reading a daily cycle may have blurred:
/// the plain test's evidence is weak (p above [`Q_LEAK`]: the cycle's swing is noise to it), or
/// its second half rises at a fraction of the first's (a downswing at the end reads as growth
/// dying out). Not a staircase: its halves differ by where its steps fall. Not a lifetime
/// that a restart began: it opens with a warm-up, whose curve over a day the waves follow.
fn cycle_may_blur_growth(trial: &LifetimeTrial) -> bool {
    !trial.restarted
        && HARMONIC_COVERAGE.contains(&trial.coverage_hours())
        && matches!(&trial.outcome, Outcome::Candidate { shape, .. } if *shape != Shape::Stepwise)
        && (trial.p > Q_LEAK || dying_out_share(trial).is_some())
}

/// A bend under the cycle must leave at least this share of the residual of a line under it
/// when the plain test already found growth: a warm-up of a few hours over a day is growth the
/// plain test finds dying out, and 24, 12 and 8 h waves follow most of its curve, a bend
/// under them the rest (on the tune split such warm-ups left 0.3-0.47, leaks under a cycle
/// mostly 0.6-1).
const BLURRED_BENT_SHARE: f64 = 0.5;

/// The lifetime tested again with a strong daily cycle (line + 24, 12 and 8 h harmonics) taken
/// out. Kept only when that finds leak-shaped linear growth, the line beats a level shift and a
/// bend under the same cycle, and a bend alone leaves far more: a sinusoid plus a line imitates
/// a step or a warm-up, so late onsets and steps are left to the unadjusted series.
/// `bent_share`: the share of the line's residual a bend under the cycle must leave.
fn without_fitted_cycle(
    trial: LifetimeTrial,
    t: &[f64],
    x: &[f64],
    (level, kind, bent_share): (f64, Counter, f64),
    calendar: Option<&Calendar>,
) -> Option<LifetimeTrial> {
    let bar = day_wave::RhythmBar {
        share: HARMONIC_SHARE,
        slope_p: None,
        step_slack: 1.0,
        bent_share,
        shapes: &[Shape::Linear],
    };
    let (mut trial, fit, bend_ratio) =
        day_wave::under_rhythm(trial, t, x, (level, kind), calendar, &bar)?;
    trial.notes.insert(
        0,
        format!(
            "daily cycle removed: 24, 12 and 8 h harmonics explain {:.0}% of what a line leaves (F p={:.1e}); a line under them fits better than a level shift or a bend, and a bend without them leaves {:.0}x the residual",
            100.0 * fit.share,
            fit.p,
            bend_ratio
        ),
    );
    Some(trial)
}

/// The block series of a lifetime under the shape gates and its whole-lifetime trend.
struct Tested<'a> {
    t: &'a [f64],
    x: &'a [f64],
    sen: SenSlope,
    /// Hours from the lifetime's first sample to its last.
    span: f64,
    /// The best broken line through the lifetime, fitted once for the gates that ask
    /// ([`bend`] and [`tail`]).
    stick: OnceCell<Option<BrokenStick>>,
}

impl<'a> Tested<'a> {
    fn new(t: &'a [f64], x: &'a [f64], sen: SenSlope, span: f64) -> Tested<'a> {
        Tested {
            t,
            x,
            sen,
            span,
            stick: OnceCell::new(),
        }
    }

    /// The best broken line (`None`: too few points for one).
    fn stick(&self) -> Option<BrokenStick> {
        *self.stick.get_or_init(|| broken_stick(self.t, self.x))
    }
}

/// The shape gates, in order: no upward trend, minor growth, then [`stairs`] or (for growth
/// that is not a staircase) [`bend`], [`tail`] and [`level_shift`]; then [`burst`], a
/// weekend's end ([`weekend`]) and what weakens a candidate ([`cycle`]). The first gate that rejects decides.
fn gate(
    trial: &mut LifetimeTrial,
    g: &Tested,
    mk: MannKendall,
    kind: Counter,
    (cyclic, calendar): (bool, Option<&Calendar>),
) -> Outcome {
    let (sen, span) = (g.sen, g.span);
    let level = trial.level.abs();
    if !(mk.p_increasing <= 0.05 && sen.slope > 0.0) {
        if let Some(rescued) = late_rise::judge(g, trial, kind, (cyclic, calendar)) {
            return rescued;
        }
        let shape = if cyclic {
            Shape::Cyclic
        } else if sen.slope < 0.0 && mk.p_increasing > 0.95 {
            Shape::Decreasing
        } else {
            Shape::Flat
        };
        return Outcome::NoTrend { shape };
    }
    let growth = sen.slope * span;
    let needed = limit::practical_growth(kind, level);
    if growth < needed {
        return Outcome::Rejected {
            shape: Shape::MinorGrowth,
            reason: format!(
                "minor growth: {} over {} ({:.1}% of the level), below the practical size",
                amount(kind, growth),
                hours_text(span),
                100.0 * growth / level.max(f64::MIN_POSITIVE)
            ),
        };
    }
    // The trial as the whole test left it, for a late rise that may replace a linear reading
    // (not taken on the no-trend and minor-growth paths above, where most healthy lifetimes end).
    let fresh = trial.clone();
    let mut soft = Vec::new();
    let mut shape = Shape::Linear;
    let steps = stairs::steps(g, level, growth);
    if let Some(rejected) = steps.rejected().filter(|_| steps.stairs || !cyclic) {
        return rejected;
    }
    if steps.stairs {
        shape = Shape::Stepwise;
        trial.up_steps = Some(steps.ups.len());
        trial.notes.push(format!(
            "{} up-steps over {}",
            steps.ups.len(),
            hours_text(steps.spread)
        ));
        if steps.ups.len() <= 4 {
            soft.push(format!(
                "stepwise growth with only {} steps",
                steps.ups.len()
            ));
        }
    } else {
        let ups = steps.ups.len();
        if let Some(rejected) = bend::judge(g, trial, ups, &mut shape, &mut soft)
            .or_else(|| tail::judge(g, trial))
            .or_else(|| level_shift::judge(g, trial, ups, &mut soft))
        {
            return rejected;
        }
    }
    if let Some(rejected) = burst::judge(g, trial, &mut soft) {
        return rejected;
    }
    if !cyclic {
        if let Some(rejected) = calendar.and_then(|c| weekend::judge(g, trial, c)) {
            return rejected;
        }
    }
    cycle::weaken(g, trial, &mut soft);
    if shape == Shape::Linear {
        if let Some((late, outcome)) = late_rise::instead(g, fresh, kind, (cyclic, calendar)) {
            *trial = late;
            return outcome;
        }
    }
    Outcome::Candidate { shape, soft }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A linear leak of 1/h over 75 h under uniform noise of +-30 (a fixed LCG draw).
    fn noisy_leak(seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut state = seed;
        let mut noise = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64 - 0.5
        };
        let t: Vec<f64> = (0..300).map(|i| i as f64 * 0.25).collect();
        let v = t.iter().map(|h| 1000.0 + h + 60.0 * noise()).collect();
        (t, v)
    }

    #[test]
    fn a_noisy_tail_has_not_shown_that_growth_stopped_unless_restarts_cut_the_series() {
        // Draws whose last third rises at 28% of the rate (117), and whose best bend leaves
        // the last 40% nearly flat (114): by chance, not because growth stopped.
        for (seed, stopped) in [
            (117, "growth stopped: last third rises"),
            (114, "growth stopped from"),
        ] {
            let (t, v) = noisy_leak(seed);
            let shortest = (MIN_SPAN_HOURS, MIN_SAMPLES);
            let alone = try_lifetime(&t, &v, Counter::HandleCount, None, shortest, false, None);
            assert_eq!(
                kind_and_shape(&alone.outcome),
                ("candidate", "linear"),
                "seed {seed}"
            );
            let restarted = try_lifetime(&t, &v, Counter::HandleCount, None, shortest, true, None);
            assert_eq!(
                kind_and_shape(&restarted.outcome),
                ("rejected", "growth-stopped"),
                "seed {seed}"
            );
            assert!(
                matches!(&restarted.outcome, Outcome::Rejected { reason, .. } if reason.starts_with(stopped)),
                "seed {seed}: {:?}",
                restarted.outcome
            );
        }
        let (t, v) = noisy_leak(117);
        let trial = try_lifetime(
            &t,
            &v,
            Counter::HandleCount,
            None,
            (MIN_SPAN_HOURS, MIN_SAMPLES),
            false,
            None,
        );
        assert!(trial.tail_ratio.is_some_and(|r| r < 0.3));
        assert!(trial.notes.iter().any(|n| n.contains("too noisy")));
    }

    #[test]
    fn a_slowing_of_few_points_is_shown_only_by_a_bend_of_the_whole_lifetime() {
        // 32 samples of 8 h: a line under noise, and a warm-up of the same rise.
        let t: Vec<f64> = (0..32).map(|i| i as f64 * 0.25).collect();
        let wobble = |i: usize| 30.0 * ((i * 7919 % 13) as f64 / 6.0 - 1.0);
        let line: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, h)| 2000.0 + 40.0 * h + wobble(i))
            .collect();
        let warm: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, h)| 2000.0 + 320.0 * (1.0 - (-h).exp()) + wobble(i))
            .collect();
        let unshown = |x: &[f64], points: usize, level: f64| {
            let (_, sen) = trend_test(&t, x).expect("a trend");
            let g = Tested::new(&t, x, sen, 7.75);
            slowing_unshown(&g, level, points, g.stick().expect("a stick").rss)
        };
        assert!(unshown(&line, 11, 2000.0));
        assert!(
            !unshown(&line, FEW_POINTS, 2000.0),
            "a part of many points shows its own rate"
        );
        assert!(
            !unshown(&line, 11, 20000.0),
            "a drift of 1.5% is no growth to save"
        );
        assert!(!unshown(&warm, 11, 2000.0), "the bend shows");
    }

    #[test]
    fn from_three_days_growth_persists_day_over_day_only_if_the_day_before_rose_too() {
        // Three days (cycle already taken out) every 15 minutes with a little wobble: a leak of
        // 1/h, and a level shift of 60 at 50 h, whose last day rises against the day before.
        let t: Vec<f64> = (0..=288).map(|i| i as f64 * 0.25).collect();
        let wobble = |i: usize| ((i * 7919) % 13) as f64 / 13.0 - 0.5;
        let leak: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, h)| 100.0 + h + wobble(i))
            .collect();
        let shift: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, &h)| 100.0 + if h >= 50.0 { 60.0 } else { 0.0 } + wobble(i))
            .collect();
        let day = |x: &[f64], removed: bool| {
            let slope = line_fit(&t, x).expect("a line").slope;
            persists_day_over_day(&t, x, slope, 72.0, (72.25, removed))
        };
        assert!(day(&leak, true).is_some_and(|(ratio, p)| ratio > 0.9 && p < 1e-6));
        assert_eq!(
            day(&leak, false),
            None,
            "no cycle was taken out: none to blame"
        );
        let diffs = lag24_diffs(&t, &shift);
        let tail = &diffs[diffs.partition_point(|(h, _)| *h < 48.0)..];
        let slope = line_fit(&t, &shift).expect("a line").slope;
        assert!(
            rises_day_over_day(tail, slope).is_some(),
            "the last day rises"
        );
        assert_eq!(day(&shift, true), None, "the day before it did not");
    }

    fn kind_and_shape(outcome: &Outcome) -> (&'static str, &'static str) {
        match outcome {
            Outcome::Untestable => ("untestable", ""),
            Outcome::NoTrend { shape } => ("no-trend", shape.as_str()),
            Outcome::Rejected { shape, .. } => ("rejected", shape.as_str()),
            Outcome::Candidate { shape, .. } => ("candidate", shape.as_str()),
        }
    }
}
