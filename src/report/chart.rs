//! PNG charts drawn with plotters into memory: one per flagged series (samples, fitted trends,
//! restarts, forecast to the limit) and an overview of the worst series. The font is embedded
//! so the charts look the same on a machine without any system font.

use std::sync::OnceLock;

use super::error::{bail, ReportError, Result};
use chrono::{Duration, NaiveDateTime};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use super::format::{
    display_scale_for, duration_hours, duration_interval, grouped, growth, quantity, rate,
};
use super::Report;
use crate::analysis::{Finding, TrendLine};
use crate::ingest::PerfLog;

/// Size that stays legible in a ticket's attachment preview.
pub const CHART_WIDTH: u32 = 1000;
pub const CHART_HEIGHT: u32 = 560;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const FONT_FAMILY: &str = "sans-serif";

const SAMPLE_COLOR: RGBColor = RGBColor(31, 100, 180);
const ROBUST_COLOR: RGBColor = RGBColor(230, 120, 0);
const OLS_COLOR: RGBColor = RGBColor(60, 150, 60);
const FORECAST_COLOR: RGBColor = RGBColor(200, 30, 40);
const RESTART_COLOR: RGBColor = RGBColor(130, 60, 170);
const GRID_COLOR: RGBColor = RGBColor(218, 222, 228);
const LIGHT_GRID_COLOR: RGBColor = RGBColor(246, 247, 249);
const OVERVIEW_COLORS: [RGBColor; 8] = [
    RGBColor(200, 30, 40),
    RGBColor(31, 100, 180),
    RGBColor(230, 120, 0),
    RGBColor(60, 150, 60),
    RGBColor(130, 60, 170),
    RGBColor(140, 86, 75),
    RGBColor(220, 80, 170),
    RGBColor(90, 90, 90),
];
/// How many series the overview compares before it becomes unreadable.
const OVERVIEW_MAX_SERIES: usize = 8;

/// Registers the embedded DejaVu Sans as plotters' `sans-serif` (once per process; plotters
/// keeps fonts in a global map, so later calls and other threads reuse it).
pub fn register_chart_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        bail!("the embedded chart font (assets/DejaVuSans.ttf) could not be loaded")
    }
}

/// File-name stem for a series' chart: lower-case ASCII letters and digits joined by `-`
/// (`winlogon-handle-count`), whatever characters the instance name holds. Not unique by
/// itself: `svchost#1` and `svchost#2` differ only in the digit, but `a:b` and `a/b` collide.
pub fn chart_file_stem(finding: &Finding) -> String {
    sanitize_stem(&format!("{}-{}", finding.instance, finding.counter))
}

fn sanitize_stem(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        // Long instance names (GUIDs, command lines) would make unwieldy file names.
        if out.len() >= 80 {
            break;
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "series".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Maps chart hours (since the first sample) back to the log's own wall-clock times, so the
/// time axis reads as the engineer's log does; beyond the last sample it extrapolates.
struct TimeAxis<'a> {
    hours: &'a [f64],
    stamps: &'a [NaiveDateTime],
    pattern: &'static str,
}

impl TimeAxis<'_> {
    fn label(&self, h: f64) -> String {
        let n = self.hours.len().min(self.stamps.len());
        if n == 0 || !h.is_finite() {
            return format!("{h:.0} h");
        }
        let i = self.hours[..n].partition_point(|x| *x < h).min(n - 1);
        let j = if i > 0 && (h - self.hours[i - 1]).abs() < (self.hours[i] - h).abs() {
            i - 1
        } else {
            i
        };
        let offset_ms = ((h - self.hours[j]) * 3_600_000.0).round();
        // Past a few centuries chrono would overflow; such a forecast is "never" in practice.
        if offset_ms.abs() > 1e13 {
            return String::new();
        }
        // Near chrono's last year (262143) even a small offset overflows: no label then.
        self.stamps[j]
            .checked_add_signed(Duration::milliseconds(offset_ms as i64))
            .map_or_else(String::new, |ts| ts.format(self.pattern).to_string())
    }
}

/// What every chart of one log shares, worked out once per log rather than per chart: the
/// sample times in hours since the first sample, and the time axis title.
pub struct Timeline<'a> {
    pub log: &'a PerfLog,
    hours: Vec<f64>,
    title: String,
}

impl<'a> Timeline<'a> {
    pub fn new(log: &'a PerfLog) -> Timeline<'a> {
        Timeline {
            log,
            hours: log.elapsed_seconds.iter().map(|s| s / 3600.0).collect(),
            title: time_axis_title(&log.timestamps),
        }
    }

    /// Tick positions and their labels for a view from `start` to `end` chart hours.
    fn axis(&self, start: f64, end: f64) -> (Vec<f64>, TimeAxis<'_>) {
        let (ticks, pattern) = match self.log.timestamps.first() {
            Some(ts0) => time_ticks(start, end, *ts0, self.hours.first().copied().unwrap_or(0.0)),
            None => (Vec::new(), time_pattern(end - start)),
        };
        let axis = TimeAxis {
            hours: &self.hours,
            stamps: &self.log.timestamps,
            pattern,
        };
        (ticks, axis)
    }
}

/// Date pattern fitting the visible span: times of day for short logs, dates for long ones.
fn time_pattern(view_hours: f64) -> &'static str {
    if view_hours <= 36.0 {
        "%m-%d %H:%M"
    } else if view_hours <= 24.0 * 60.0 {
        "%b %d %H:%M"
    } else {
        "%Y-%m-%d"
    }
}

/// Tick positions (chart hours) on round local times: whole hours or midnights, at most about
/// seven of them, so the axis reads "Aug 10", "Aug 11" rather than arbitrary clock times.
/// `anchor` is the local time at chart hour `anchor_hours`.
fn time_ticks(
    start: f64,
    end: f64,
    anchor: NaiveDateTime,
    anchor_hours: f64,
) -> (Vec<f64>, &'static str) {
    const STEPS: [f64; 14] = [
        0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0, 48.0, 96.0, 168.0, 336.0, 720.0,
    ];
    let view = (end - start).max(1e-6);
    let step = STEPS
        .iter()
        .copied()
        .find(|s| view / s <= 7.0)
        .unwrap_or(view / 6.0);
    let pattern = if step >= 24.0 {
        "%b %d"
    } else if view > 20.0 {
        "%b %d %H:%M"
    } else {
        "%H:%M"
    };
    // Local time at the view's start, in seconds since that day's midnight.
    let start_offset_ms = ((start - anchor_hours) * 3_600_000.0).round();
    if !start_offset_ms.is_finite() || start_offset_ms.abs() > 1e13 {
        return (Vec::new(), pattern);
    }
    let Some(t_start) = anchor.checked_add_signed(Duration::milliseconds(start_offset_ms as i64))
    else {
        return (Vec::new(), pattern);
    };
    let midnight = t_start.date().and_hms_opt(0, 0, 0).unwrap_or(t_start);
    let since_midnight_h = (t_start - midnight).num_milliseconds() as f64 / 3_600_000.0;
    // Days-long steps start at midnight; shorter ones at a multiple of the step within the day.
    let grid = if step >= 24.0 { 24.0 } else { step };
    let first = start + ((since_midnight_h / grid).ceil() * grid - since_midnight_h);
    let mut ticks = Vec::new();
    let mut h = first;
    while h <= end + 1e-9 && ticks.len() < 40 {
        ticks.push(h);
        h += step;
    }
    (ticks, pattern)
}

/// The x axis in hours with ticks on round local times. plotters' own `WithKeyPoints` over
/// an f64 range cannot take a custom label formatter, hence this small coordinate type.
struct TimeRange {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TimeRange {
    fn new(start: f64, end: f64, ticks: Vec<f64>) -> TimeRange {
        TimeRange {
            inner: (start..end).into(),
            ticks,
        }
    }
}

impl Ranged for TimeRange {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if self.ticks.is_empty() {
            self.inner.key_points(hint)
        } else if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

/// The time axis title names the year(s), which the tick labels leave out.
fn time_axis_title(stamps: &[NaiveDateTime]) -> String {
    use chrono::Datelike;
    match (stamps.first(), stamps.last()) {
        (Some(a), Some(b)) if a.year() != b.year() => {
            format!("local time of the log, {}–{}", a.year(), b.year())
        }
        (Some(a), _) => format!("local time of the log, {}", a.year()),
        _ => "local time of the log".to_string(),
    }
}

/// Decimals for tick labels so neighbouring ticks (about eight over `range`) differ, and no
/// more: whole handles get no decimals.
fn tick_decimals(range: f64) -> usize {
    let step = range / 8.0;
    if !(step.is_finite() && step > 0.0) || step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().clamp(0.0, 4.0) as usize
    }
}

/// The forecast from the end of the log to the limit, in display units. The limit lies above
/// the start for a growing counter, below it for one that falls (memory left).
struct Forecast {
    t_end: f64,
    v_end: f64,
    limit: f64,
    /// Hours from the end of the log to the limit: estimate, sooner bound, later bound
    /// (`None` = never).
    ttl: f64,
    ttl_soon: Option<f64>,
    ttl_late: Option<f64>,
}

impl Forecast {
    fn from_finding(f: &Finding, t_end: f64, v_end: f64, scale: f64) -> Option<Forecast> {
        let limit = f.limit.filter(|l| l.is_finite())? * scale;
        let ttl = f
            .time_to_limit_hours
            .filter(|t| t.is_finite() && *t > 0.0)?;
        // A limit already passed, or on the other side of a trend going away from it, has no
        // line to draw towards it.
        let towards = f
            .slope_per_hour
            .is_none_or(|s| s == 0.0 || (limit - v_end).signum() == s.signum());
        if limit == v_end || !towards {
            return None;
        }
        let (soon, late) = match f.time_to_limit_ci_hours {
            Some([a, b]) => (
                a.filter(|t| t.is_finite() && *t > 0.0),
                b.filter(|t| t.is_finite() && *t > 0.0),
            ),
            None => (None, None),
        };
        Some(Forecast {
            t_end,
            v_end,
            limit,
            ttl,
            ttl_soon: soon,
            ttl_late: late,
        })
    }

    /// Where the line that reaches the limit after `ttl` hours leaves a view ending at `x_max`.
    fn end_point(&self, ttl: Option<f64>, x_max: f64) -> (f64, f64) {
        match ttl {
            Some(t) if self.t_end + t <= x_max => (self.t_end + t, self.limit),
            Some(t) => {
                let frac = (x_max - self.t_end) / t;
                (x_max, self.v_end + (self.limit - self.v_end) * frac)
            }
            None => (x_max, self.v_end),
        }
    }

    /// The band between the sooner and the later forecast, cut at the view's right edge.
    fn band(&self, x_max: f64) -> Option<Vec<(f64, f64)>> {
        self.ttl_soon?;
        let soon = self.end_point(self.ttl_soon, x_max);
        let late = self.end_point(self.ttl_late, x_max);
        let mut poly = vec![(self.t_end, self.v_end), soon];
        if soon.0 < x_max && late.0 >= x_max {
            poly.push((x_max, self.limit));
        }
        poly.push(late);
        Some(poly)
    }
}

/// Where the forecast starts: the fitted trend at the last sample, kept within the range of the
/// last samples. A short last lifetime (the warm-up after a restart) can end its fit well
/// above or below the data; a forecast that starts off the data reads as a jump.
fn forecast_start(fits: &[TrendLine], t_end: f64, recent: &[f64]) -> Option<f64> {
    let (lo, hi) = recent
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    if lo > hi {
        return None;
    }
    let fitted = trend_end_value(fits, t_end).unwrap_or(recent[recent.len() - 1]);
    Some(fitted.clamp(lo, hi))
}

/// Value of the fitted trend at the end of the log, when a fit covers the end.
fn trend_end_value(fits: &[TrendLine], t_end: f64) -> Option<f64> {
    fits.iter()
        .rev()
        .find(|l| l.start_hours <= t_end && t_end <= l.end_hours + 1e-9)
        .map(|l| l.at(t_end))
        .filter(|v| v.is_finite())
}

/// How a chart shows the limit its series runs to, as PAL always shows its thresholds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LimitMark {
    /// The limit is within the view: a horizontal line labelled with its value.
    Line { value: f64, label: String },
    /// The limit is off the view: an arrow at the top edge (`up`) or the bottom edge, labelled
    /// with its value and the time to reach it.
    Arrow { up: bool, label: String },
}

#[cfg(test)]
impl LimitMark {
    fn label(&self) -> &str {
        match self {
            LimitMark::Line { label, .. } | LimitMark::Arrow { label, .. } => label,
        }
    }
}

/// The words beside a limit: `2 GB limit in ~5.2 days`, `16,384 handles limit` (no forecast).
pub(crate) fn limit_text(f: &Finding) -> Option<String> {
    let limit = f.limit.filter(|l| l.is_finite())?;
    let value = quantity(Some(limit), &f.unit);
    Some(match f.time_to_limit_hours.filter(|t| t.is_finite()) {
        Some(t) => format!("{value} limit in ~{}", duration_hours(Some(t))),
        None => format!("{value} limit"),
    })
}

/// The text a reader of the report sees for a chart: what it shows and where its limit is.
pub fn chart_alt(f: &Finding) -> String {
    let what = format!("{} {} over time", f.instance, f.counter);
    match limit_text(f) {
        Some(limit) => format!("{what}; {limit}"),
        None => what,
    }
}

/// Everything one series' chart shows, in display units, worked out before any drawing so the
/// choices (view, forecast start, how the limit is marked) can be checked on their own.
pub(crate) struct SeriesView {
    scale: f64,
    unit: String,
    /// Every drawable sample (time in chart hours, value in display units).
    points: Vec<(f64, f64)>,
    robust: Vec<TrendLine>,
    ols: Vec<TrendLine>,
    forecast: Option<Forecast>,
    pub(crate) limit: Option<LimitMark>,
    x_range: (f64, f64),
    y_range: (f64, f64),
}

impl SeriesView {
    /// Where the forecast line starts (chart hours, display units).
    #[cfg(test)]
    fn forecast_start(&self) -> Option<(f64, f64)> {
        self.forecast.as_ref().map(|fc| (fc.t_end, fc.v_end))
    }
}

/// Lays out one series' chart: the view spans the samples and, when the limit is reached within
/// about twice the logged span, the forecast up to the limit; a limit further away is marked by
/// an arrow at the edge instead, so the samples do not shrink to a flat line.
pub(crate) fn series_view(f: &Finding, timeline: &Timeline) -> Result<SeriesView> {
    let log = timeline.log;
    let values = f
        .values(log)
        .ok_or_else(|| ReportError::Chart(format!("column {} is not in the log", f.column)))?;
    let n = values.len().min(log.elapsed_seconds.len());
    // One unit for the whole axis, picked from the series' largest value.
    let max_abs = values[..n]
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let (scale, unit) = display_scale_for(&f.unit, max_abs);
    let hours = &timeline.hours[..n];
    let points: Vec<(f64, f64)> = (0..n)
        .filter(|&i| hours[i].is_finite() && values[i].is_finite())
        .map(|i| (hours[i], values[i] * scale))
        .collect();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        bail!("the series has no values to draw");
    };
    let (t_start, t_end) = (first.0, last.0);
    let span = (t_end - t_start).max(1.0 / 60.0);

    let robust: Vec<TrendLine> = f
        .robust_fits
        .iter()
        .copied()
        .filter(fit_is_drawable)
        .collect();
    let ols: Vec<TrendLine> = f.ols_fits.iter().copied().filter(fit_is_drawable).collect();
    // The last few samples (about 2% of the log, at least 5) bound where the forecast starts.
    let recent: Vec<f64> = points[points.len().saturating_sub((points.len() / 50).max(5))..]
        .iter()
        .map(|p| p.1 / scale)
        .collect();
    // A sawtooth's floors run below its samples: the forecast they give starts on their line.
    let start = if f.fit_on_floors {
        trend_end_value(&robust, t_end)
    } else {
        forecast_start(&robust, t_end, &recent)
    };
    let v_end = start.unwrap_or(last.1 / scale) * scale;
    let forecast = Forecast::from_finding(f, t_end, v_end, scale);

    let limit_in_reach = forecast.as_ref().is_some_and(|fc| fc.ttl <= 2.0 * span);
    let x_max = match &forecast {
        Some(fc) if limit_in_reach => t_end + fc.ttl * 1.08,
        Some(_) => t_end + 0.25 * span,
        None => t_end + 0.02 * span,
    };
    let x_min = t_start - 0.01 * span;

    let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    for l in robust.iter().chain(ols.iter()) {
        ys.push(l.at(l.start_hours) * scale);
        ys.push(l.at(l.end_hours) * scale);
    }
    if let Some(fc) = &forecast {
        ys.push(fc.end_point(Some(fc.ttl), x_max).1);
        if let Some(band) = fc.band(x_max) {
            ys.extend(band.iter().map(|p| p.1));
        }
    }
    let (mut y_lo, mut y_hi) = min_max(&ys);
    // A limit not forecast (the series does not head for it) is still drawn when it lies
    // close to the data: within a third of the data's range.
    let limit = f.limit.filter(|l| l.is_finite()).map(|l| l * scale);
    let near = |l: f64| {
        let reach = (y_hi - y_lo).max(y_hi.abs() * 0.05) / 3.0;
        l >= y_lo - reach && l <= y_hi + reach
    };
    let limit_on_chart = match limit {
        Some(_) if limit_in_reach => true,
        Some(l) => forecast.is_none() && near(l),
        None => false,
    };
    if let (Some(l), true) = (limit, limit_on_chart) {
        y_lo = y_lo.min(l);
        y_hi = y_hi.max(l);
    }
    if y_hi - y_lo < 1e-9 {
        let pad = (y_hi.abs() * 0.05).max(1.0);
        y_lo -= pad;
        y_hi += pad;
    }
    // Room at the edge for the arrow's label when the limit is off the chart.
    let pad = (y_hi - y_lo) * if limit.is_some() { 0.12 } else { 0.06 };
    // Counters are never negative: do not invent a negative axis for them.
    let y_min = if y_lo >= 0.0 {
        (y_lo - pad).max(0.0)
    } else {
        y_lo - pad
    };
    let y_max = y_hi + pad;

    let limit_mark = match (limit, limit_text(f)) {
        (Some(value), Some(text)) if limit_on_chart => Some(LimitMark::Line { value, label: text }),
        (Some(value), Some(text)) => {
            let up = value > y_max;
            Some(LimitMark::Arrow {
                up,
                label: format!("{text} {}", if up { '↑' } else { '↓' }),
            })
        }
        _ => None,
    };
    Ok(SeriesView {
        scale,
        unit,
        points,
        robust,
        ols,
        forecast,
        limit: limit_mark,
        x_range: (x_min, x_max),
        y_range: (y_min, y_max),
    })
}

/// Smallest and largest finite value (infinities when there is none).
fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        })
}

/// Draws one series: samples, robust and least-squares trends per lifetime, restarts, the
/// limit (a line, or an arrow at the edge when it is off the chart) and the forecast with its
/// interval. Returns PNG bytes.
pub fn render_series_chart(f: &Finding, timeline: &Timeline) -> Result<Vec<u8>> {
    let mut view = series_view(f, timeline)?;
    let (x_min, x_max) = view.x_range;
    let (y_min, y_max) = view.y_range;
    let (ticks, axis) = timeline.axis(x_min, x_max);
    let machine = f
        .machine
        .as_deref()
        .map(|m| format!(" on {m}"))
        .unwrap_or_default();
    let caption = format!(
        "{} — {}{}: {} ({}), {}",
        f.instance,
        f.counter,
        machine,
        f.verdict.as_str(),
        crate::format::probability(f.confidence),
        rate(f.slope_per_hour, &f.unit)
    );

    // The legend goes to the corner the data leaves freest; the limit's label to the other side.
    let mut occupied: Vec<(f64, f64)> = view.points.clone();
    if let Some(fc) = &view.forecast {
        let end = fc.end_point(Some(fc.ttl), x_max);
        occupied.extend((0..=20).map(|k| {
            let a = k as f64 / 20.0;
            (
                fc.t_end + (end.0 - fc.t_end) * a,
                fc.v_end + (end.1 - fc.v_end) * a,
            )
        }));
    }
    if let Some(LimitMark::Arrow { up, .. }) = &view.limit {
        let y = if *up { y_max } else { y_min };
        occupied.extend((0..=20).map(|k| (x_max - (x_max - x_min) * 0.35 * k as f64 / 20.0, y)));
    }
    let entries = 1
        + usize::from(!f.restarts.is_empty())
        + usize::from(!f.refuted_drops.is_empty())
        + usize::from(!view.robust.is_empty())
        + usize::from(!view.ols.is_empty())
        + 2 * usize::from(view.forecast.is_some());
    let (legend, y_top) = place_legend(&occupied, view.x_range, view.y_range, entries);
    view.y_range.1 = y_top;
    let (y_min, y_max) = view.y_range;
    let decimals = tick_decimals(y_max - y_min);
    let legend_left = matches!(
        legend,
        SeriesLabelPosition::UpperLeft | SeriesLabelPosition::LowerLeft
    );

    let y_fmt = |v: &f64| grouped(*v, decimals);
    let frame = Frame {
        caption: &caption,
        x_range: view.x_range,
        ticks,
        y_range: view.y_range,
        axis: &axis,
        y_fmt: &y_fmt,
        y_desc: format!("{} ({})", f.counter, view.unit),
        x_desc: &timeline.title,
        legend: Some(legend),
    };
    let log = timeline.log;
    let values = f.values(log).unwrap_or_default();
    let n = values.len().min(timeline.hours.len());
    let hours = &timeline.hours[..n];
    draw_framed(frame, |chart| {
        draw_forecast_band(chart, f, &view)?;
        draw_samples(chart, hours, &values[..n], &view)?;
        draw_restarts(chart, f, hours, &view)?;
        draw_fits(chart, f, &view)?;
        draw_forecast(chart, f, &view)?;
        draw_limit(chart, &view, legend_left)
    })
}

fn draw_forecast_band(chart: &mut Plot, f: &Finding, view: &SeriesView) -> Result<()> {
    let Some(band) = view
        .forecast
        .as_ref()
        .and_then(|fc| fc.band(view.x_range.1))
    else {
        return Ok(());
    };
    chart
        .draw_series(std::iter::once(Polygon::new(
            band,
            FORECAST_COLOR.mix(0.12).filled(),
        )))
        .map_err(plot_err)?
        .label(format!(
            "forecast interval: {}",
            duration_interval(f.time_to_limit_ci_hours)
        ))
        .legend(|(x, y)| {
            Rectangle::new(
                [(x, y - 5), (x + 20, y + 5)],
                FORECAST_COLOR.mix(0.2).filled(),
            )
        });
    Ok(())
}

/// Samples: one line per run of values, so a gap in the log is not bridged; dots make the
/// samples visible where a fitted line lies over them.
fn draw_samples(chart: &mut Plot, hours: &[f64], values: &[f64], view: &SeriesView) -> Result<()> {
    let mut labelled = false;
    for run in value_runs(hours, values, view.scale) {
        let run = thin_run(run, view.x_range, CHART_WIDTH as usize);
        chart
            .draw_series(
                run.iter()
                    .map(|p| Circle::new(*p, 2, SAMPLE_COLOR.mix(0.45).filled())),
            )
            .map_err(plot_err)?;
        let series = chart
            .draw_series(LineSeries::new(run, SAMPLE_COLOR.stroke_width(1)))
            .map_err(plot_err)?;
        if !labelled {
            series
                .label(format!("samples ({} values)", view.points.len()))
                .legend(legend_line(SAMPLE_COLOR, 2));
            labelled = true;
        }
    }
    Ok(())
}

fn draw_restarts(chart: &mut Plot, f: &Finding, hours: &[f64], view: &SeriesView) -> Result<()> {
    let (y_min, y_max) = view.y_range;
    // Restarts dashed long, drops that were no restarts dotted short: two legends.
    for (cuts, dash, refuted) in [
        (&f.restarts, (6, 4), false),
        (&f.refuted_drops, (2, 4), true),
    ] {
        let mut labelled = false;
        for &idx in cuts.iter() {
            let Some(&h) = hours.get(idx) else { continue };
            if !h.is_finite() {
                continue;
            }
            let series = chart
                .draw_series(DashedLineSeries::new(
                    vec![(h, y_min), (h, y_max)],
                    dash.0,
                    dash.1,
                    RESTART_COLOR.stroke_width(2),
                ))
                .map_err(plot_err)?;
            if !labelled {
                series
                    .label(cuts_label(f, refuted))
                    .legend(legend_line(RESTART_COLOR, 2));
                labelled = true;
            }
        }
    }
    Ok(())
}

/// The legend of the lines drawn where the series dropped sharply: restarts (where the split
/// cut a new lifetime), or, where the process's other counters refuted them (`refuted`), drops
/// that the legend must not call restarts: memory freed inside one life.
fn cuts_label(f: &Finding, refuted: bool) -> String {
    if refuted {
        format!("sharp drop, not a restart ({})", f.refuted_drops.len())
    } else {
        format!(
            "restart ({} lifetimes)",
            f.segments.max(f.restarts.len() + 1)
        )
    }
}

fn draw_fits(chart: &mut Plot, f: &Finding, view: &SeriesView) -> Result<()> {
    let ends = |l: &TrendLine| {
        vec![
            (l.start_hours, l.at(l.start_hours) * view.scale),
            (l.end_hours, l.at(l.end_hours) * view.scale),
        ]
    };
    for (i, l) in view.robust.iter().enumerate() {
        let series = chart
            .draw_series(LineSeries::new(
                ends(l),
                ROBUST_COLOR.mix(0.9).stroke_width(2),
            ))
            .map_err(plot_err)?;
        if i == 0 {
            series
                .label(format!(
                    "robust trend (Sen): {}",
                    rate(f.slope_per_hour.or(Some(l.slope_per_hour)), &f.unit)
                ))
                .legend(legend_line(ROBUST_COLOR, 2));
        }
    }
    for (i, l) in view.ols.iter().enumerate() {
        let series = chart
            .draw_series(DashedLineSeries::new(
                ends(l),
                8,
                5,
                OLS_COLOR.stroke_width(2),
            ))
            .map_err(plot_err)?;
        if i == 0 {
            series
                .label(format!(
                    "least squares: {}",
                    rate(f.ols_slope_per_hour.or(Some(l.slope_per_hour)), &f.unit)
                ))
                .legend(legend_line(OLS_COLOR, 2));
        }
    }
    Ok(())
}

fn draw_forecast(chart: &mut Plot, f: &Finding, view: &SeriesView) -> Result<()> {
    let Some(fc) = &view.forecast else {
        return Ok(());
    };
    let end = fc.end_point(Some(fc.ttl), view.x_range.1);
    chart
        .draw_series(DashedLineSeries::new(
            vec![(fc.t_end, fc.v_end), end],
            4,
            4,
            FORECAST_COLOR.stroke_width(2),
        ))
        .map_err(plot_err)?
        .label(format!(
            "forecast: {} {} {} in {}",
            f.limit_name.as_deref().unwrap_or("limit"),
            grouped(fc.limit, 0),
            view.unit,
            duration_hours(Some(fc.ttl))
        ))
        .legend(legend_line(FORECAST_COLOR, 2));
    Ok(())
}

/// The limit as a line across the chart, or as an arrow at the top (bottom) edge near the right
/// end with its value and time to reach it; the label keeps clear of the legend's side.
fn draw_limit(chart: &mut Plot, view: &SeriesView, legend_left: bool) -> Result<()> {
    let (x_min, x_max) = view.x_range;
    let (y_min, y_max) = view.y_range;
    let font = |h: HPos, v: VPos| {
        (FONT_FAMILY, 15)
            .into_font()
            .color(&FORECAST_COLOR)
            .pos(Pos::new(h, v))
    };
    match &view.limit {
        None => {}
        Some(LimitMark::Line { value, label }) => {
            chart
                .draw_series(LineSeries::new(
                    vec![(x_min, *value), (x_max, *value)],
                    FORECAST_COLOR.mix(0.8).stroke_width(2),
                ))
                .map_err(plot_err)?;
            let above = *value < y_max - (y_max - y_min) * 0.08;
            let (x, h) = if legend_left {
                (x_max - (x_max - x_min) * 0.01, HPos::Right)
            } else {
                (x_min + (x_max - x_min) * 0.01, HPos::Left)
            };
            let v = if above { VPos::Bottom } else { VPos::Top };
            chart
                .draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (x, *value),
                    font(h, v),
                )))
                .map_err(plot_err)?;
        }
        Some(LimitMark::Arrow { up, label }) => {
            let x = x_max - (x_max - x_min) * 0.015;
            let (tip, tail) = if *up {
                (y_max, y_max - (y_max - y_min) * 0.09)
            } else {
                (y_min, y_min + (y_max - y_min) * 0.09)
            };
            chart
                .draw_series(LineSeries::new(
                    vec![(x, tail), (x, tip)],
                    FORECAST_COLOR.stroke_width(3),
                ))
                .map_err(plot_err)?;
            // The head: a triangle about 16 px wide and 20 px tall whatever the axes' scales.
            let (dx, dy) = ((x_max - x_min) * 0.009, (y_max - y_min) * 0.045);
            let base = if *up { tip - dy } else { tip + dy };
            chart
                .draw_series(std::iter::once(Polygon::new(
                    vec![(x, tip), (x - dx, base), (x + dx, base)],
                    FORECAST_COLOR.filled(),
                )))
                .map_err(plot_err)?;
            let text_x = x - (x_max - x_min) * 0.015;
            let v = if *up { VPos::Top } else { VPos::Bottom };
            let text_y = if *up {
                y_max - (y_max - y_min) * 0.01
            } else {
                y_min + (y_max - y_min) * 0.01
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    label.trim_end_matches(['↑', '↓', ' ']).to_string(),
                    (text_x, text_y),
                    font(HPos::Right, v),
                )))
                .map_err(plot_err)?;
        }
    }
    Ok(())
}

/// The corner for a legend of `entries` lines that covers none of `points` (upper left first,
/// then upper right, lower right, lower left); `None` when the data reaches into every corner.
fn legend_corner(
    points: &[(f64, f64)],
    (x_min, x_max): (f64, f64),
    (y_min, y_max): (f64, f64),
    entries: usize,
) -> Option<SeriesLabelPosition> {
    let (w, h) = legend_box(entries);
    let corners = [
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let covers = |right: bool, upper: bool, (x, y): (f64, f64)| {
        let fx = (x - x_min) / (x_max - x_min);
        let fy = (y - y_min) / (y_max - y_min);
        let in_x = if right { fx >= 1.0 - w } else { fx <= w };
        let in_y = if upper { fy >= 1.0 - h } else { fy <= h };
        in_x && in_y
    };
    corners
        .into_iter()
        .find(|(_, right, upper)| !points.iter().any(|p| covers(*right, *upper, *p)))
        .map(|(pos, _, _)| pos)
}

/// The legend box of `entries` lines as a fraction of the plot: about 60% of its width,
/// 19 px per line of about 440 px of height.
fn legend_box(entries: usize) -> (f64, f64) {
    (0.6, (entries as f64 * 19.0 + 20.0) / 440.0)
}

/// The legend's corner, and the top of the value axis raised when needed: when the data
/// reaches into every corner, the axis gets headroom for the legend in the upper left rather
/// than have it hide samples.
fn place_legend(
    points: &[(f64, f64)],
    x_range: (f64, f64),
    (y_min, y_max): (f64, f64),
    entries: usize,
) -> (SeriesLabelPosition, f64) {
    match legend_corner(points, x_range, (y_min, y_max), entries) {
        Some(corner) => (corner, y_max),
        None => {
            let h = legend_box(entries).1;
            (
                SeriesLabelPosition::UpperLeft,
                y_max + (y_max - y_min) * h / (1.0 - h),
            )
        }
    }
}

fn fit_is_drawable(l: &TrendLine) -> bool {
    l.start_hours.is_finite()
        && l.end_hours.is_finite()
        && l.end_hours >= l.start_hours
        && l.intercept.is_finite()
        && l.slope_per_hour.is_finite()
}

/// Points of one unbroken stretch of samples.
type Run = Vec<(f64, f64)>;

/// Consecutive finite samples as separate point lists (a blank cell ends a run).
fn value_runs(hours: &[f64], values: &[f64], scale: f64) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (h, v) in hours.iter().zip(values) {
        if h.is_finite() && v.is_finite() {
            current.push((*h, v * scale));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// A run drawn across `x_range` keeping, in each of `columns` equal slices of it (about one per
/// pixel), only the first, lowest, highest and last point, in time order: the line through them
/// covers the same pixels as through every sample (the M4 reduction), and a month of 15-second
/// samples draws as a few thousand points instead of hundreds of thousands.
fn thin_run(run: Run, (x_min, x_max): (f64, f64), columns: usize) -> Run {
    let width = x_max - x_min;
    if run.len() <= 4 * columns || width.is_nan() || width <= 0.0 || columns == 0 {
        return run;
    }
    let column = |x: f64| (((x - x_min) / width * columns as f64) as usize).min(columns - 1);
    let mut out = Vec::with_capacity(4 * columns);
    let mut start = 0;
    while start < run.len() {
        let c = column(run[start].0);
        let end = start + run[start..].iter().take_while(|p| column(p.0) == c).count();
        let slice = &run[start..end];
        let lowest = (0..slice.len()).fold(0, |a, i| if slice[i].1 < slice[a].1 { i } else { a });
        let highest = (0..slice.len()).fold(0, |a, i| if slice[i].1 > slice[a].1 { i } else { a });
        let mut keep = [0, lowest, highest, slice.len() - 1];
        keep.sort_unstable();
        let mut last_kept = None;
        for i in keep {
            if last_kept != Some(i) {
                out.push(slice[i]);
                last_kept = Some(i);
            }
        }
        start = end;
    }
    out
}

/// A run cut where it turns back on itself (a sawtooth's drop after its climb), the turning
/// point ending one piece and starting the next: a line wider than a pixel is joined at its
/// corners by mitres, and at a turn that sharp the mitre runs off the chart as a spike.
/// `(width, height)` is the chart's span in data units, to measure turns as drawn.
fn unturned(run: Run, (width, height): (f64, f64)) -> Vec<Run> {
    // Data units to (about) pixels, so that the angle is the one seen.
    let (sx, sy) = (
        f64::from(CHART_WIDTH) / width.max(f64::MIN_POSITIVE),
        f64::from(CHART_HEIGHT) / height.max(f64::MIN_POSITIVE),
    );
    let step = |a: (f64, f64), b: (f64, f64)| ((b.0 - a.0) * sx, (b.1 - a.1) * sy);
    let mut pieces = Vec::new();
    let mut piece: Run = Vec::new();
    for (i, &p) in run.iter().enumerate() {
        piece.push(p);
        if let (Some(&before), Some(&after)) =
            (i.checked_sub(1).and_then(|j| run.get(j)), run.get(i + 1))
        {
            let (u, v) = (step(before, p), step(p, after));
            let (lu, lv) = (u.0.hypot(u.1), v.0.hypot(v.1));
            // A turn of more than 120 degrees: cos below -1/2.
            if lu > 0.0 && lv > 0.0 && (u.0 * v.0 + u.1 * v.1) / (lu * lv) < -0.5 {
                pieces.push(std::mem::replace(&mut piece, vec![p]));
            }
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    pieces
}

/// Compares the worst series on one chart as change since their first value (percent), the
/// only scale on which handles and megabytes can share an axis. `None` when nothing can be drawn.
pub fn render_overview_chart(report: &Report, timeline: &Timeline) -> Result<Option<Vec<u8>>> {
    let log = timeline.log;
    let flagged = report.flagged();
    let any_flagged = !flagged.is_empty();
    let moved = report.moved_most(5);
    let chosen: Vec<&Finding> = if any_flagged {
        flagged
    } else if !moved.is_empty() {
        moved
    } else {
        report.findings.iter().take(5).collect()
    };
    let hours = &timeline.hours;
    let n_time = hours.len();

    let mut lines: Vec<(&Finding, Vec<Run>)> = Vec::new();
    for f in chosen {
        if lines.len() >= OVERVIEW_MAX_SERIES {
            break;
        }
        let Some(values) = f.values(log) else {
            continue;
        };
        let n = values.len().min(n_time);
        let Some(base) = values[..n].iter().copied().find(|v| v.is_finite()) else {
            continue;
        };
        if base <= 0.0 {
            continue;
        }
        let relative: Vec<f64> = values[..n]
            .iter()
            .map(|v| (v / base - 1.0) * 100.0)
            .collect();
        let runs = value_runs(&hours[..n], &relative, 1.0);
        if !runs.is_empty() {
            lines.push((f, runs));
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }

    let all = lines.iter().flat_map(|(_, runs)| runs.iter().flatten());
    let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) =
        (f64::INFINITY, f64::NEG_INFINITY, 0.0f64, 0.0f64);
    for &(x, y) in all {
        x_lo = x_lo.min(x);
        x_hi = x_hi.max(x);
        y_lo = y_lo.min(y);
        y_hi = y_hi.max(y);
    }
    if x_hi - x_lo < 1e-9 {
        x_hi = x_lo + 1.0;
    }
    if y_hi - y_lo < 1e-9 {
        y_hi = y_lo + 1.0;
    }
    let y_pad = (y_hi - y_lo) * 0.06;
    let (y_min, y_max) = (y_lo - y_pad, y_hi + y_pad);
    let (ticks, axis) = timeline.axis(x_lo, x_hi);
    let title = if any_flagged {
        "Flagged series: change since the first sample"
    } else {
        "Series that moved most (none flagged): change since the first sample"
    };

    let points: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|(_, runs)| runs.iter().flatten().copied())
        .collect();
    let (corner, y_max) = place_legend(&points, (x_lo, x_hi), (y_min, y_max), lines.len());
    let decimals = tick_decimals(y_max - y_min);
    let legend_left = matches!(
        corner,
        SeriesLabelPosition::UpperLeft | SeriesLabelPosition::LowerLeft
    );
    let legend_upper = matches!(
        corner,
        SeriesLabelPosition::UpperLeft | SeriesLabelPosition::UpperRight
    );
    let y_fmt = |v: &f64| format!("{}%", grouped(*v, decimals));
    let frame = Frame {
        caption: title,
        x_range: (x_lo, x_hi),
        ticks,
        y_range: (y_min, y_max),
        axis: &axis,
        y_fmt: &y_fmt,
        y_desc: "change since first sample (%)".to_string(),
        x_desc: &timeline.title,
        legend: None,
    };
    draw_framed(frame, |chart| {
        // The worst series is drawn last, on top; where lines lie on each other (pool paged
        // and nonpaged bytes growing alike), dashes and staggered markers keep each visible.
        for (k, (_, runs)) in lines.iter().enumerate().rev() {
            let color = OVERVIEW_COLORS[k % OVERVIEW_COLORS.len()];
            let style = color.stroke_width(if k % 2 == 0 { 2 } else { 3 });
            let thinned = runs
                .iter()
                .map(|run| thin_run(run.clone(), (x_lo, x_hi), CHART_WIDTH as usize));
            for run in thinned.flat_map(|run| unturned(run, (x_hi - x_lo, y_max - y_min))) {
                if k % 2 == 0 {
                    chart
                        .draw_series(LineSeries::new(run.iter().copied(), style))
                        .map_err(plot_err)?;
                } else {
                    chart
                        .draw_series(DashedLineSeries::new(run.iter().copied(), 10, 6, style))
                        .map_err(plot_err)?;
                }
            }
        }
        for (k, (_, runs)) in lines.iter().enumerate() {
            let color = OVERVIEW_COLORS[k % OVERVIEW_COLORS.len()];
            let spots = marker_spots(runs, (x_lo, x_hi), k, lines.len());
            chart
                .draw_series(spots.into_iter().map(|p| {
                    EmptyElement::at(p) + Polygon::new(marker_shape(k, 0), color.filled())
                }))
                .map_err(plot_err)?;
        }
        let entries: Vec<String> = lines
            .iter()
            .map(|(f, _)| {
                // A series too short for a slope shows its change instead.
                let how = match f.slope_per_hour {
                    Some(_) => rate(f.slope_per_hour, &f.unit),
                    None => growth(f.growth_percent),
                };
                format!(
                    "{} — {}: {}, {how}",
                    f.instance,
                    f.counter,
                    f.verdict.as_str()
                )
            })
            .collect();
        draw_overview_legend(chart, &entries, legend_left, legend_upper)
    })
    .map(Some)
}

/// The overview's legend, drawn here rather than by plotters so each entry shows its series'
/// line (solid or dashed) and marker: a white box in the corner the lines leave freest.
fn draw_overview_legend(
    chart: &mut Plot,
    entries: &[String],
    left: bool,
    upper: bool,
) -> Result<()> {
    let area = chart.plotting_area().strip_coord_spec();
    let (area_w, area_h) = area.dim_in_pixel();
    let font: TextStyle = (FONT_FAMILY, 14).into_font().into();
    let widest = entries
        .iter()
        .map(|e| area.estimate_text_size(e, &font).map_or(0, |(w, _)| w))
        .max()
        .unwrap_or(0) as i32;
    let (line_h, margin, key_w) = (20, 8, 34);
    let (w, h) = (
        widest + key_w + 2 * margin,
        entries.len() as i32 * line_h + 2 * margin,
    );
    let x0 = if left { 8 } else { area_w as i32 - w - 8 };
    let y0 = if upper { 8 } else { area_h as i32 - h - 8 };
    let border = RGBColor(180, 180, 180);
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + w, y0 + h)],
        WHITE.mix(0.9).filled(),
    ))
    .map_err(plot_err)?;
    area.draw(&Rectangle::new([(x0, y0), (x0 + w, y0 + h)], border))
        .map_err(plot_err)?;
    for (k, text) in entries.iter().enumerate() {
        let color = OVERVIEW_COLORS[k % OVERVIEW_COLORS.len()];
        let y = y0 + margin + k as i32 * line_h + line_h / 2;
        let x = x0 + margin;
        let style = color.stroke_width(if k % 2 == 0 { 2 } else { 3 });
        let key: Vec<(i32, i32)> = if k % 2 == 0 {
            vec![(x, y), (x + 24, y)]
        } else {
            vec![(x, y), (x + 9, y)]
        };
        area.draw(&PathElement::new(key, style)).map_err(plot_err)?;
        if k % 2 == 1 {
            area.draw(&PathElement::new(vec![(x + 15, y), (x + 24, y)], style))
                .map_err(plot_err)?;
        }
        let shape: Vec<(i32, i32)> = marker_shape(k, 0)
            .into_iter()
            .map(|(dx, dy)| (x + 12 + dx, y + dy))
            .collect();
        area.draw(&Polygon::new(shape, color.filled()))
            .map_err(plot_err)?;
        area.draw(&Text::new(
            text.as_str(),
            (x + key_w, y),
            font.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(plot_err)?;
    }
    Ok(())
}

/// Markers per overview series: at 12 times across the view, shifted per series so that two
/// series on the same line show both their markers side by side.
fn marker_spots(runs: &[Run], (x_lo, x_hi): (f64, f64), k: usize, of: usize) -> Vec<(f64, f64)> {
    const SPOTS: usize = 12;
    let width = x_hi - x_lo;
    let mut out = Vec::new();
    for j in 0..SPOTS {
        let x = x_lo + width * (j as f64 + (k as f64 + 0.5) / of.max(1) as f64) / SPOTS as f64;
        let nearest = runs.iter().find_map(|run| {
            let (first, last) = (run.first()?, run.last()?);
            if x < first.0 || x > last.0 {
                return None;
            }
            let i = run.partition_point(|p| p.0 < x).min(run.len() - 1);
            Some(run[i])
        });
        out.extend(nearest);
    }
    out
}

/// Marker `k` of the overview as a polygon in pixels around `(dx, 0)`: a disc, triangles up and
/// down, a square, a diamond, bars and a hexagon, distinct in shape as well as colour.
fn marker_shape(k: usize, dx: i32) -> Vec<(i32, i32)> {
    let shape: &[(i32, i32)] = match k % OVERVIEW_MAX_SERIES {
        0 => &[
            (-2, -5),
            (2, -5),
            (5, -2),
            (5, 2),
            (2, 5),
            (-2, 5),
            (-5, 2),
            (-5, -2),
        ],
        1 => &[(0, -7), (6, 5), (-6, 5)],
        2 => &[(-5, -5), (5, -5), (5, 5), (-5, 5)],
        3 => &[(0, -7), (6, 0), (0, 7), (-6, 0)],
        4 => &[(0, 7), (6, -5), (-6, -5)],
        5 => &[(-7, -3), (7, -3), (7, 3), (-7, 3)],
        6 => &[(-3, -7), (3, -7), (3, 7), (-3, 7)],
        _ => &[(-3, -6), (3, -6), (6, 0), (3, 6), (-3, 6), (-6, 0)],
    };
    shape.iter().map(|(x, y)| (x + dx, *y)).collect()
}

/// The coordinates every chart draws in: hours on round local times against plain values.
type Plot<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<TimeRange, RangedCoordf64>>;

/// What differs between the charts' frames: caption, ranges, axis labels.
struct Frame<'a> {
    caption: &'a str,
    x_range: (f64, f64),
    ticks: Vec<f64>,
    y_range: (f64, f64),
    axis: &'a TimeAxis<'a>,
    y_fmt: &'a dyn Fn(&f64) -> String,
    x_desc: &'a str,
    y_desc: String,
    /// Where plotters draws the series' legend (the corner the data leaves freest); `None`
    /// when the chart draws its own.
    legend: Option<SeriesLabelPosition>,
}

/// Largest value (and span) an axis may reach: plotters sizes tick steps as the power of ten
/// above the span, which past 1e308 is infinite.
const MAX_AXIS_VALUE: f64 = 1e308;

/// Whether an axis from `lo` to `hi` can be drawn: both ends and the span finite, and the
/// span wide enough against the ends that tick steps do not vanish in rounding (plotters'
/// tick search never ends on a range like 1e308..1.7e308 or -1e308..1e308).
fn drawable_axis(lo: f64, hi: f64) -> bool {
    let span = hi - lo;
    let widest = lo.abs().max(hi.abs());
    widest <= MAX_AXIS_VALUE && span <= MAX_AXIS_VALUE && span > widest * 1e-9
}

/// Draws the common frame (caption, grid, axes), lets `draw` add the series, then the legend
/// in the upper left; returns the PNG. Both charts share one look this way. A frame whose
/// ranges cannot be drawn is an error (the chart is left out with a warning), never a hang.
fn draw_framed(frame: Frame, draw: impl FnOnce(&mut Plot) -> Result<()>) -> Result<Vec<u8>> {
    for (axis, (lo, hi)) in [("time", frame.x_range), ("value", frame.y_range)] {
        if !drawable_axis(lo, hi) {
            bail!("the {axis} axis cannot be drawn from {lo:e} to {hi:e}");
        }
    }
    let mut buf = vec![0u8; (CHART_WIDTH * CHART_HEIGHT * 3) as usize];
    {
        let root =
            BitMapBackend::with_buffer(&mut buf, (CHART_WIDTH, CHART_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let (x_min, x_max) = frame.x_range;
        let (y_min, y_max) = frame.y_range;
        let mut chart = ChartBuilder::on(&root)
            .caption(frame.caption, (FONT_FAMILY, 22))
            .margin(14)
            .margin_right(40)
            .x_label_area_size(52)
            .y_label_area_size(86)
            .build_cartesian_2d(TimeRange::new(x_min, x_max, frame.ticks), y_min..y_max)
            .map_err(plot_err)?;
        let x_fmt = |h: &f64| frame.axis.label(*h);
        chart
            .configure_mesh()
            .light_line_style(LIGHT_GRID_COLOR)
            .bold_line_style(GRID_COLOR)
            .x_labels(7)
            .y_labels(8)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(frame.y_fmt)
            .x_desc(frame.x_desc)
            .y_desc(frame.y_desc)
            .label_style((FONT_FAMILY, 14))
            .axis_desc_style((FONT_FAMILY, 16))
            .draw()
            .map_err(plot_err)?;
        draw(&mut chart)?;
        if let Some(position) = frame.legend {
            chart
                .configure_series_labels()
                .position(position)
                .background_style(WHITE.mix(0.9))
                .border_style(RGBColor(180, 180, 180))
                .label_font((FONT_FAMILY, 14))
                .draw()
                .map_err(plot_err)?;
        }
        root.present().map_err(plot_err)?;
    }
    encode_png(&buf, CHART_WIDTH, CHART_HEIGHT)
}

/// A legend entry's short line in the series' colour.
fn legend_line(color: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(width))
}

fn plot_err<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Chart(format!("drawing the chart failed: {e}"))
}

/// RGB pixels to PNG bytes, in memory so the HTML can inline the very same bytes.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // Charts are inlined in report.html, so size matters: per-row adaptive filtering makes
        // them about 5x smaller than plotters' defaults; `Best` saves only ~10% more and costs
        // a third more time.
        encoder.set_compression(png::Compression::Default);
        encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_file_names() {
        assert_eq!(
            sanitize_stem("winlogon-Handle Count"),
            "winlogon-handle-count"
        );
        assert_eq!(
            sanitize_stem("<script>alert(1)</script>-Private Bytes"),
            "script-alert-1-script-private-bytes"
        );
        assert_eq!(sanitize_stem("../../etc/passwd"), "etc-passwd");
        assert_eq!(sanitize_stem("进程"), "series");
        assert!(sanitize_stem(&"x".repeat(500)).len() <= 80);
    }

    #[test]
    fn drops_refuted_as_restarts_are_not_called_restarts() {
        let f = Finding {
            restarts: vec![10, 20],
            segments: 3,
            ..Finding::default()
        };
        assert_eq!(cuts_label(&f, false), "restart (3 lifetimes)");
        // Drops the process's other counters refute cut no lifetime: one lifetime, two drops.
        let refuted = Finding {
            refuted_drops: vec![10, 20],
            segments: 1,
            ..Finding::default()
        };
        assert_eq!(cuts_label(&refuted, true), "sharp drop, not a restart (2)");
    }

    #[test]
    fn forecast_band_is_cut_at_the_view_edge() {
        let fc = Forecast {
            t_end: 10.0,
            v_end: 0.0,
            limit: 100.0,
            ttl: 10.0,
            ttl_soon: Some(5.0),
            ttl_late: Some(40.0),
        };
        let band = fc.band(20.0).unwrap();
        // Sooner line reaches the limit at 15 h; later one is at 25% of the way at the edge.
        assert_eq!(
            band,
            vec![(10.0, 0.0), (15.0, 100.0), (20.0, 100.0), (20.0, 25.0)]
        );
        let never = Forecast {
            ttl_late: None,
            ..fc
        };
        assert_eq!(never.band(20.0).unwrap().last(), Some(&(20.0, 0.0)));
    }

    #[test]
    fn a_line_is_cut_where_it_turns_back_and_nowhere_else() {
        // A sawtooth's climb, its drop and the next climb: cut at the top of the climb (a turn
        // of almost 180 degrees) and at the foot of the drop, each piece sharing its end.
        let tooth: Run = vec![(0.0, 0.0), (1.0, 10.0), (1.01, 0.0), (2.0, 10.0)];
        let pieces = unturned(tooth.clone(), (2.0, 10.0));
        assert_eq!(
            pieces,
            vec![
                tooth[..2].to_vec(),
                tooth[1..3].to_vec(),
                tooth[2..].to_vec()
            ]
        );
        // A climb that bends, a wave and a flat line stay whole.
        let bend: Run = vec![(0.0, 0.0), (1.0, 10.0), (2.0, 12.0), (3.0, 12.5)];
        assert_eq!(unturned(bend.clone(), (3.0, 12.5)), vec![bend]);
        let wave: Run = (0..50)
            .map(|i| (f64::from(i), (f64::from(i) / 8.0).sin()))
            .collect();
        assert_eq!(unturned(wave.clone(), (49.0, 2.0)).len(), 1);
        assert!(unturned(Vec::new(), (1.0, 1.0)).is_empty());
    }

    #[test]
    fn thinning_keeps_each_columns_first_lowest_highest_and_last_point() {
        // 10,000 points over 10 columns: a sawtooth whose extremes sit mid-column.
        let run: Run = (0..10_000)
            .map(|i| (i as f64, ((i * 37) % 1000) as f64))
            .collect();
        let thin = thin_run(run.clone(), (0.0, 10_000.0), 10);
        assert!(thin.len() <= 40 && thin.len() >= 20, "{}", thin.len());
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0));
        for c in 0..10 {
            let col: Vec<(f64, f64)> = run[c * 1000..(c + 1) * 1000].to_vec();
            let kept: Vec<(f64, f64)> = thin
                .iter()
                .copied()
                .filter(|p| (p.0 as usize) / 1000 == c)
                .collect();
            let lo = col.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let hi = col.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(kept.first(), col.first());
            assert_eq!(kept.last(), col.last());
            assert!(kept.iter().any(|p| p.1 == lo) && kept.iter().any(|p| p.1 == hi));
        }
        // Short runs are drawn as they are.
        let short: Run = run[..30].to_vec();
        assert_eq!(thin_run(short.clone(), (0.0, 10_000.0), 10), short);
    }

    #[test]
    fn axes_a_chart_cannot_draw_are_refused() {
        assert!(drawable_axis(0.0, 1.0));
        assert!(drawable_axis(-5.0, 3.5e9));
        assert!(!drawable_axis(1e308, 1.7e308));
        assert!(!drawable_axis(-1e308, 1e308));
        assert!(!drawable_axis(0.0, f64::INFINITY));
        assert!(!drawable_axis(f64::NAN, 1.0));
        assert!(!drawable_axis(1.0, 1.0));
        assert!(!drawable_axis(1e20, 1e20 + 1.0));
    }

    #[test]
    fn the_widest_drawable_frame_draws() {
        let stamps = [chrono::NaiveDate::MAX.and_hms_opt(0, 0, 0).unwrap()];
        let hours = [0.0];
        let axis = TimeAxis {
            hours: &hours,
            stamps: &stamps,
            pattern: "%Y",
        };
        register_chart_font().unwrap();
        for (lo, hi) in [
            (-MAX_AXIS_VALUE / 2.0, MAX_AXIS_VALUE / 2.0),
            (MAX_AXIS_VALUE / 10.0, MAX_AXIS_VALUE),
        ] {
            let frame = Frame {
                caption: "x",
                x_range: (lo, hi),
                ticks: Vec::new(),
                y_range: (lo, hi),
                axis: &axis,
                y_fmt: &|v: &f64| format!("{v:e}"),
                x_desc: "t",
                y_desc: "v".to_string(),
                legend: Some(SeriesLabelPosition::UpperLeft),
            };
            assert!(draw_framed(frame, |_| Ok(())).is_ok());
        }
    }

    #[test]
    fn ticks_and_labels_near_the_last_date_do_not_overflow() {
        let last = chrono::NaiveDate::MAX.and_hms_opt(23, 0, 0).unwrap();
        let (ticks, _) = time_ticks(0.0, 48.0, last, 0.0);
        assert!(ticks.len() < 40);
        let hours = [0.0, 1.0];
        let stamps = [last, last];
        let axis = TimeAxis {
            hours: &hours,
            stamps: &stamps,
            pattern: "%Y",
        };
        assert_eq!(axis.label(5000.0), "");
    }

    /// The sample log's analysed findings and the log itself.
    fn sample(name: &str) -> (PerfLog, Vec<Finding>) {
        let path = format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"));
        let log = crate::ingest::read_file(
            std::path::Path::new(&path),
            &crate::ingest::ReadOptions::default(),
        )
        .unwrap();
        let findings = crate::analysis::analyze(&log);
        (log, findings)
    }

    fn finding<'a>(findings: &'a [Finding], instance: &str, counter: &str) -> &'a Finding {
        findings
            .iter()
            .find(|f| f.instance == instance && f.counter == counter)
            .unwrap_or_else(|| panic!("no finding {instance} {counter}"))
    }

    /// Pixels of the forecast's red in a box of the PNG (x and y as fractions of its size).
    fn red_pixels(png: &[u8], (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> usize {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        let mut count = 0;
        for y in (y0 * h as f64) as usize..(y1 * h as f64) as usize {
            for x in (x0 * w as f64) as usize..(x1 * w as f64) as usize {
                let i = (y * w + x) * 3;
                let RGBColor(r, g, b) = FORECAST_COLOR;
                if buf[i] == r && buf[i + 1] == g && buf[i + 2] == b {
                    count += 1;
                }
            }
        }
        count
    }

    #[test]
    fn a_limit_off_the_chart_is_an_arrow_at_the_top_with_its_value_and_time() {
        let (log, findings) = sample("winlogon-smtp-leak.csv");
        let timeline = Timeline::new(&log);
        // 3,300 handles after 3.7 days, 16,384 in 13.6 days: far above the data.
        let f = finding(&findings, "winlogon", "Handle Count");
        let view = series_view(f, &timeline).unwrap();
        let mark = view.limit.clone().expect("a limit mark");
        assert!(
            matches!(mark, LimitMark::Arrow { up: true, .. }),
            "{mark:?}"
        );
        assert_eq!(mark.label(), "16,384 handles limit in ~13.6 days ↑");
        assert!(view.y_range.1 < 16_384.0, "the limit is off the chart");
        // The arrow is drawn: solid forecast red in the chart's top right corner, where
        // nothing else is red without it.
        register_chart_font().unwrap();
        let png = render_series_chart(f, &timeline).unwrap();
        let red = red_pixels(&png, (0.93, 0.965), (0.06, 0.13));
        assert!(red > 100, "{red} red pixels where the arrow should be");
    }

    #[test]
    fn a_limit_within_reach_is_a_line_and_a_falling_series_points_down() {
        let (log, findings) = sample("restart-leak.csv");
        let timeline = Timeline::new(&log);
        // 2 GB address space reached in 5.2 days of a 3-day log: on the chart.
        let f = finding(&findings, "w3wp#1", "Virtual Bytes");
        let view = series_view(f, &timeline).unwrap();
        match view.limit {
            Some(LimitMark::Line { value, ref label }) => {
                assert_eq!(value, 2048.0);
                assert_eq!(label, "2,048 MB limit in ~5.2 days");
                assert!(view.y_range.1 > value);
            }
            other => panic!("{other:?}"),
        }
        let (log, findings) = sample("exchange-async-leak.csv");
        let timeline = Timeline::new(&log);
        let f = finding(&findings, "System (memory)", "Available Bytes");
        let view = series_view(f, &timeline).unwrap();
        let mark = view.limit.clone().expect("a limit mark");
        assert!(
            matches!(mark, LimitMark::Arrow { up: false, .. }),
            "{mark:?}"
        );
        assert!(mark.label().starts_with("64.0 MB limit in ~"), "{mark:?}");
        // Memory left falls towards its floor: the forecast is drawn downwards.
        let fc = view.forecast.as_ref().expect("a forecast");
        assert!(fc.limit < fc.v_end);
    }

    #[test]
    fn the_forecast_starts_at_the_data_not_above_it() {
        // The last lifetime after a restart is short and its fit ends above the samples.
        let (log, findings) = sample("restart-leak.csv");
        let timeline = Timeline::new(&log);
        let f = finding(&findings, "w3wp#1", "Handle Count");
        let view = series_view(f, &timeline).unwrap();
        let (t, v) = view.forecast_start().expect("a forecast");
        let last = view.points.last().unwrap();
        assert_eq!(t, last.0);
        let recent: Vec<f64> = view.points[view.points.len() - 17..]
            .iter()
            .map(|p| p.1)
            .collect();
        let (lo, hi) = min_max(&recent);
        assert!(
            v >= lo && v <= hi,
            "{v} outside the last samples {lo}..{hi}"
        );
        let fitted = trend_end_value(&view.robust, t).unwrap() * view.scale;
        assert!(
            fitted > hi,
            "the fit itself ends above the data: {fitted} > {hi}"
        );
    }

    #[test]
    fn the_legend_avoids_the_data_or_makes_room_above_it() {
        // Rising data leaves the upper left free.
        let rising: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, i as f64)).collect();
        assert_eq!(
            place_legend(&rising, (0.0, 100.0), (0.0, 100.0), 4).1,
            100.0
        );
        assert!(matches!(
            legend_corner(&rising, (0.0, 100.0), (0.0, 100.0), 4),
            Some(SeriesLabelPosition::UpperLeft)
        ));
        // Data in every corner: the axis grows above it.
        let corners = [(0.0, 0.0), (0.0, 100.0), (100.0, 0.0), (100.0, 100.0)];
        let (pos, top) = place_legend(&corners, (0.0, 100.0), (0.0, 100.0), 4);
        assert!(matches!(pos, SeriesLabelPosition::UpperLeft));
        assert!(top > 120.0, "{top}");
    }

    #[test]
    fn runs_split_at_blank_cells() {
        let runs = value_runs(&[0.0, 1.0, 2.0, 3.0], &[1.0, f64::NAN, 2.0, 3.0], 2.0);
        assert_eq!(runs, vec![vec![(0.0, 2.0)], vec![(2.0, 4.0), (3.0, 6.0)]]);
    }
}
