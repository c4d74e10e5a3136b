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

use super::format::{display_scale_for, duration_hours, duration_interval, grouped, rate};
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

/// The forecast from the end of the log to the limit, in display units.
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
        if limit <= v_end {
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

/// Value of the fitted trend at the end of the log, where the forecast starts; the last sample
/// when there is no fit covering the end.
fn trend_end_value(fits: &[TrendLine], t_end: f64, last: f64) -> f64 {
    fits.iter()
        .rev()
        .find(|l| l.start_hours <= t_end && t_end <= l.end_hours + 1e-9)
        .map(|l| l.at(t_end))
        .filter(|v| v.is_finite())
        .unwrap_or(last)
}

/// Draws one flagged series: samples, robust and least-squares trends per lifetime, restarts,
/// the limit and the forecast with its interval. Returns PNG bytes.
pub fn render_series_chart(f: &Finding, timeline: &Timeline) -> Result<Vec<u8>> {
    let log = timeline.log;
    let values = f
        .values(log)
        .ok_or_else(|| ReportError::Chart(format!("column {} is not in the log", f.column)))?;
    let n = values.len().min(log.elapsed_seconds.len());
    // One unit for the whole axis, picked from the series' largest value (and its limit when
    // the limit is what the axis runs to, which the scale below takes care of via MB).
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
    let v_end = trend_end_value(&robust, t_end, last.1 / scale) * scale;
    let forecast = Forecast::from_finding(f, t_end, v_end, scale);

    // Show the limit itself only when it is reached within about twice the logged span;
    // otherwise the samples would shrink to a flat line at the bottom of the chart.
    let limit_in_view = forecast.as_ref().is_some_and(|fc| fc.ttl <= 2.0 * span);
    let x_max = match &forecast {
        Some(fc) if limit_in_view => t_end + fc.ttl * 1.08,
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
        if limit_in_view {
            ys.push(fc.limit);
        }
    }
    let (mut y_lo, mut y_hi) = ys
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    if y_hi - y_lo < 1e-9 {
        let pad = (y_hi.abs() * 0.05).max(1.0);
        y_lo -= pad;
        y_hi += pad;
    }
    let pad = (y_hi - y_lo) * 0.06;
    // Counters are never negative: do not invent a negative axis for them.
    let y_min = if y_lo >= 0.0 {
        (y_lo - pad).max(0.0)
    } else {
        y_lo - pad
    };
    let y_max = y_hi + pad;

    let (ticks, axis) = timeline.axis(x_min, x_max);
    let decimals = tick_decimals(y_max - y_min);
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

    let y_fmt = |v: &f64| grouped(*v, decimals);
    let frame = Frame {
        caption: &caption,
        x_range: (x_min, x_max),
        ticks,
        y_range: (y_min, y_max),
        axis: &axis,
        y_fmt: &y_fmt,
        y_desc: format!("{} ({unit})", f.counter),
        x_desc: &timeline.title,
    };
    draw_framed(frame, |chart| {
        if let Some(fc) = &forecast {
            if let Some(band) = fc.band(x_max) {
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
            }
        }

        // Samples: one line per run of values, so a gap in the log is not bridged; dots make
        // the samples visible where a fitted line lies over them.
        let mut labelled = false;
        for run in value_runs(hours, &values[..n], scale) {
            let run = thin_run(run, (x_min, x_max), CHART_WIDTH as usize);
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
                    .label(format!("samples ({} values)", points.len()))
                    .legend(legend_line(SAMPLE_COLOR, 2));
                labelled = true;
            }
        }

        for (i, &idx) in f.restarts.iter().enumerate() {
            let Some(&h) = hours.get(idx) else { continue };
            if !h.is_finite() {
                continue;
            }
            let series = chart
                .draw_series(DashedLineSeries::new(
                    vec![(h, y_min), (h, y_max)],
                    6,
                    4,
                    RESTART_COLOR.stroke_width(2),
                ))
                .map_err(plot_err)?;
            if i == 0 {
                series
                    .label(format!(
                        "restart ({} lifetimes)",
                        f.segments.max(f.restarts.len() + 1)
                    ))
                    .legend(legend_line(RESTART_COLOR, 2));
            }
        }

        for (i, l) in robust.iter().enumerate() {
            let pts = vec![
                (l.start_hours, l.at(l.start_hours) * scale),
                (l.end_hours, l.at(l.end_hours) * scale),
            ];
            let series = chart
                .draw_series(LineSeries::new(pts, ROBUST_COLOR.mix(0.9).stroke_width(2)))
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

        for (i, l) in ols.iter().enumerate() {
            let pts = vec![
                (l.start_hours, l.at(l.start_hours) * scale),
                (l.end_hours, l.at(l.end_hours) * scale),
            ];
            let series = chart
                .draw_series(DashedLineSeries::new(pts, 8, 5, OLS_COLOR.stroke_width(2)))
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
        if let Some(fc) = &forecast {
            let end = fc.end_point(Some(fc.ttl), x_max);
            let limit_text = format!("{} {}", grouped(fc.limit, 0), unit);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(fc.t_end, fc.v_end), end],
                    4,
                    4,
                    FORECAST_COLOR.stroke_width(2),
                ))
                .map_err(plot_err)?
                .label(format!(
                    "forecast: {} {limit_text} in {}",
                    f.limit_name.as_deref().unwrap_or("limit"),
                    duration_hours(Some(fc.ttl))
                ))
                .legend(legend_line(FORECAST_COLOR, 2));
            if limit_in_view {
                chart
                    .draw_series(LineSeries::new(
                        vec![(x_min, fc.limit), (x_max, fc.limit)],
                        FORECAST_COLOR.mix(0.7).stroke_width(1),
                    ))
                    .map_err(plot_err)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("limit {limit_text}"),
                        // Clear of the legend box in the upper left.
                        (x_min + 0.42 * (x_max - x_min), fc.limit),
                        (FONT_FAMILY, 14)
                            .into_font()
                            .color(&FORECAST_COLOR)
                            .pos(Pos::new(HPos::Left, VPos::Bottom)),
                    )))
                    .map_err(plot_err)?;
            }
        }

        Ok(())
    })
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

/// Compares the worst series on one chart as change since their first value (percent), the
/// only scale on which handles and megabytes can share an axis. `None` when nothing can be drawn.
pub fn render_overview_chart(report: &Report, timeline: &Timeline) -> Result<Option<Vec<u8>>> {
    let log = timeline.log;
    let flagged = report.flagged();
    let any_flagged = !flagged.is_empty();
    let chosen: Vec<&Finding> = if any_flagged {
        flagged
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
    let decimals = tick_decimals(y_max - y_min);
    let title = if any_flagged {
        "Flagged series: change since the first sample"
    } else {
        "Worst series (none flagged): change since the first sample"
    };

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
    };
    draw_framed(frame, |chart| {
        for (k, (f, runs)) in lines.iter().enumerate() {
            let color = OVERVIEW_COLORS[k % OVERVIEW_COLORS.len()];
            for (r, run) in runs.iter().enumerate() {
                let run = thin_run(run.clone(), (x_lo, x_hi), CHART_WIDTH as usize);
                let series = chart
                    .draw_series(LineSeries::new(run.iter().copied(), color.stroke_width(2)))
                    .map_err(plot_err)?;
                if r == 0 {
                    series
                        .label(format!(
                            "{} — {}: {}, {}",
                            f.instance,
                            f.counter,
                            f.verdict.as_str(),
                            rate(f.slope_per_hour, &f.unit)
                        ))
                        .legend(legend_line(color, 3));
                }
            }
        }
        Ok(())
    })
    .map(Some)
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
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(180, 180, 180))
            .label_font((FONT_FAMILY, 14))
            .draw()
            .map_err(plot_err)?;
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

    #[test]
    fn runs_split_at_blank_cells() {
        let runs = value_runs(&[0.0, 1.0, 2.0, 3.0], &[1.0, f64::NAN, 2.0, 3.0], 2.0);
        assert_eq!(runs, vec![vec![(0.0, 2.0)], vec![(2.0, 4.0), (3.0, 6.0)]]);
    }
}
