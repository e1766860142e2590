//! PNG and SVG pictures: the confusion matrix, the reliability diagram and the training
//! curves.
//!
//! PNG text is rasterised by plotters' ab_glyph backend from DejaVu Sans embedded in the
//! binary, so plots look the same on a machine without any system fonts.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Calibration, ClassificationReport, EpochRecord, EvalError};

const FONT: &str = "sans-serif";

type DrawResult = Result<(), Box<dyn Error + Send + Sync>>;

/// Something drawable on any plotters backend.
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Draws the row-normalised confusion matrix (colour and percentage: share of the true
/// class; number: clip count) to `<path>.png` and `<path>.svg`.
pub fn plot_confusion_matrix(
    report: &ClassificationReport,
    path_without_ext: &Path,
) -> Result<(), EvalError> {
    if report.labels.is_empty() {
        return Err(EvalError::InvalidInput(
            "confusion matrix without labels".into(),
        ));
    }
    render(&ConfusionFigure { report }, path_without_ext)
}

/// Draws the reliability diagram of `calibration` to `<path>.png` and `<path>.svg`: per
/// confidence bin, the accuracy as a bar against the diagonal of perfect calibration, the
/// gap to the bin's mean confidence shaded, the clip count over each bar, the ECE in the
/// title.
pub fn plot_reliability_diagram(
    calibration: &Calibration,
    path_without_ext: &Path,
) -> Result<(), EvalError> {
    if calibration.bins.is_empty() {
        return Err(EvalError::InvalidInput(
            "reliability diagram without bins".into(),
        ));
    }
    render(&ReliabilityFigure { calibration }, path_without_ext)
}

/// Draws loss (train/validation) and accuracy and macro-F1 per epoch to `<path>.png` and
/// `<path>.svg`.
pub fn plot_training_curves(log: &[EpochRecord], path_without_ext: &Path) -> Result<(), EvalError> {
    if log.is_empty() {
        return Err(EvalError::InvalidInput("training log is empty".into()));
    }
    render(&CurvesFigure { log }, path_without_ext)
}

fn render(figure: &impl Figure, path_without_ext: &Path) -> Result<(), EvalError> {
    register_font()?;
    let png = with_extension(path_without_ext, "png");
    let plot_error = |path: &Path| {
        let path = path.to_path_buf();
        move |error: Box<dyn Error + Send + Sync>| EvalError::Plot {
            path,
            message: error.to_string(),
        }
    };
    let area = BitMapBackend::new(&png, figure.size()).into_drawing_area();
    figure
        .draw(&area)
        .and_then(|()| Ok(area.present()?))
        .map_err(plot_error(&png))?;
    let svg = with_extension(path_without_ext, "svg");
    let area = SVGBackend::new(&svg, figure.size()).into_drawing_area();
    figure
        .draw(&area)
        .and_then(|()| Ok(area.present()?))
        .map_err(plot_error(&svg))
}

/// `path` with `.ext` appended (not replacing: `run.v2` becomes `run.v2.png`).
fn with_extension(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

fn register_font() -> Result<(), EvalError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(EvalError::InvalidInput(
            "the embedded DejaVu Sans font could not be loaded".into(),
        ))
    }
}

fn text_style(size: u32, color: &'static RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
        .color(color)
        .pos(Pos::new(h, v))
}

struct ConfusionFigure<'a> {
    report: &'a ClassificationReport,
}

const CELL: i32 = 96;
const LEFT: i32 = 170;
const TOP: i32 = 90;
const RIGHT: i32 = 30;
const BOTTOM: i32 = 90;

impl Figure for ConfusionFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let grid = CELL * self.report.labels.len() as i32;
        ((LEFT + grid + RIGHT) as u32, (TOP + grid + BOTTOM) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let report = self.report;
        let n = report.labels.len() as i32;
        let (width, _) = self.size();
        area.fill(&WHITE)?;
        let title = format!(
            "Confusion matrix: accuracy {:.3}, macro-F1 {:.3}, UAR {:.3}",
            report.accuracy, report.macro_f1, report.uar
        );
        let centre_x = width as i32 / 2;
        area.draw_text(
            &title,
            &text_style(20, &BLACK, HPos::Center, VPos::Top),
            (centre_x, 12),
        )?;
        area.draw_text(
            "rows: true class; columns: predicted; colour and % = share of the true class",
            &text_style(13, &RGBColor(90, 90, 90), HPos::Center, VPos::Top),
            (centre_x, 40),
        )?;
        area.draw_text(
            "true \u{2193}  predicted \u{2192}",
            &text_style(14, &BLACK, HPos::Right, VPos::Bottom),
            (LEFT - 10, TOP - 8),
        )?;
        let normalized = report.normalized_confusion();
        for (t, row) in report.confusion.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                let share = normalized[t][p];
                let (x, y) = (LEFT + p as i32 * CELL, TOP + t as i32 * CELL);
                area.draw(&Rectangle::new(
                    [(x, y), (x + CELL, y + CELL)],
                    blues(share).filled(),
                ))?;
                area.draw(&Rectangle::new(
                    [(x, y), (x + CELL, y + CELL)],
                    RGBColor(200, 200, 200),
                ))?;
                let ink = if share > 0.5 { &WHITE } else { &BLACK };
                let centre = (x + CELL / 2, y + CELL / 2);
                area.draw_text(
                    &count.to_string(),
                    &text_style(20, ink, HPos::Center, VPos::Bottom),
                    centre,
                )?;
                area.draw_text(
                    &format!("{:.0}%", share * 100.0),
                    &text_style(14, ink, HPos::Center, VPos::Top),
                    (centre.0, centre.1 + 4),
                )?;
            }
        }
        for (i, label) in report.labels.iter().enumerate() {
            let offset = i as i32 * CELL + CELL / 2;
            area.draw_text(
                &label.replace('_', " "),
                &text_style(15, &BLACK, HPos::Right, VPos::Center),
                (LEFT - 10, TOP + offset),
            )?;
            // Column labels wrap at word boundaries to fit the cell width.
            for (line, word) in label.split(['_', ' ']).enumerate() {
                area.draw_text(
                    word,
                    &text_style(15, &BLACK, HPos::Center, VPos::Top),
                    (LEFT + offset, TOP + n * CELL + 8 + 18 * line as i32),
                )?;
            }
        }
        Ok(())
    }
}

/// White to dark blue, like matplotlib's "Blues", for a share in [0, 1].
fn blues(share: f64) -> RGBColor {
    let share = share.clamp(0.0, 1.0);
    let mix = |light: u8, dark: u8| (light as f64 + (dark as f64 - light as f64) * share) as u8;
    RGBColor(mix(247, 8), mix(251, 48), mix(255, 107))
}

struct ReliabilityFigure<'a> {
    calibration: &'a Calibration,
}

const ACCURACY_COLOR: RGBColor = RGBColor(31, 119, 180);
const GAP_COLOR: RGBColor = RGBColor(214, 39, 40);

impl Figure for ReliabilityFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (720, 720)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let calibration = self.calibration;
        let clips: u64 = calibration.bins.iter().map(|b| b.count).sum();
        area.fill(&WHITE)?;
        let title = format!(
            "Reliability: ECE {:.3} ({} bins), NLL {:.3}, Brier {:.3}, {clips} clips",
            calibration.ece,
            calibration.bins.len(),
            calibration.nll,
            calibration.brier
        );
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 19))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, 0.0..1.08)?;
        chart
            .configure_mesh()
            .x_desc("confidence (probability of the predicted class)")
            .y_desc("accuracy")
            .x_labels(11)
            .y_labels(11)
            .y_label_formatter(&|y| {
                if *y <= 1.0 {
                    format!("{y:.1}")
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| format!("{x:.1}"))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .light_line_style(RGBColor(245, 245, 245))
            .draw()?;
        let filled = || calibration.bins.iter().filter(|b| b.count > 0);
        chart
            .draw_series(filled().map(|b| {
                Rectangle::new(
                    [(b.lower, 0.0), (b.upper, b.accuracy)],
                    ACCURACY_COLOR.mix(0.8).filled(),
                )
            }))?
            .label("accuracy of the bin")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 6), (x + 16, y + 6)], ACCURACY_COLOR.filled())
            });
        chart
            .draw_series(filled().map(|b| {
                let (low, high) = if b.accuracy < b.confidence {
                    (b.accuracy, b.confidence)
                } else {
                    (b.confidence, b.accuracy)
                };
                Rectangle::new(
                    [(b.lower, low), (b.upper, high)],
                    GAP_COLOR.mix(0.3).filled(),
                )
            }))?
            .label("gap to the mean confidence")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 6), (x + 16, y + 6)], GAP_COLOR.mix(0.3).filled())
            });
        // Thin white edges keep neighbouring bars apart.
        chart.draw_series(filled().map(|b| {
            Rectangle::new(
                [(b.lower, 0.0), (b.upper, b.accuracy)],
                WHITE.stroke_width(1),
            )
        }))?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                [(0.0, 0.0), (1.0, 1.0)],
                RGBColor(90, 90, 90).stroke_width(2),
            )))?
            .label("perfect calibration")
            .legend(|(x, y)| {
                PathElement::new([(x, y), (x + 16, y)], RGBColor(90, 90, 90).stroke_width(2))
            });
        for bin in filled() {
            let top = bin.accuracy.max(bin.confidence);
            chart.draw_series(std::iter::once(Text::new(
                bin.count.to_string(),
                ((bin.lower + bin.upper) / 2.0, top + 0.012),
                text_style(12, &BLACK, HPos::Center, VPos::Bottom),
            )))?;
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        Ok(())
    }
}

struct CurvesFigure<'a> {
    log: &'a [EpochRecord],
}

const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VALIDATION_COLOR: RGBColor = RGBColor(255, 127, 14);
const F1_COLOR: RGBColor = RGBColor(44, 160, 44);

/// One curve: legend name, colour and (epoch, value) points.
type Curve = (&'static str, RGBColor, Vec<(f64, f64)>);

impl CurvesFigure<'_> {
    fn curve(
        &self,
        name: &'static str,
        color: RGBColor,
        value: impl Fn(&EpochRecord) -> Option<f64>,
    ) -> Curve {
        let points = self
            .log
            .iter()
            .filter_map(|r| {
                value(r)
                    .filter(|v| v.is_finite())
                    .map(|v| (r.epoch as f64, v))
            })
            .collect();
        (name, color, points)
    }
}

impl Figure for CurvesFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 450)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let panels = area.split_evenly((1, 2));
        let losses = [
            self.curve("train loss", TRAIN_COLOR, |r| Some(r.train_loss)),
            self.curve("validation loss", VALIDATION_COLOR, |r| r.val_loss),
        ];
        let max_loss = losses
            .iter()
            .flat_map(|(_, _, points)| points.iter().map(|p| p.1))
            .fold(0.0f64, f64::max);
        let loss_top = if max_loss > 0.0 { max_loss * 1.05 } else { 1.0 };
        draw_panel(&panels[0], "Loss", "loss", &losses, 0.0..loss_top, self.log)?;
        let scores = [
            self.curve("train accuracy", TRAIN_COLOR, |r| Some(r.train_accuracy)),
            self.curve("validation accuracy", VALIDATION_COLOR, |r| r.val_accuracy),
            self.curve("validation macro-F1", F1_COLOR, |r| r.val_macro_f1),
        ];
        draw_panel(
            &panels[1],
            "Accuracy and macro-F1",
            "score",
            &scores,
            0.0..1.0,
            self.log,
        )
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_description: &str,
    curves: &[Curve],
    y_range: std::ops::Range<f64>,
    log: &[EpochRecord],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let first = log.iter().map(|r| r.epoch).min().unwrap_or(0) as f64;
    let last = log.iter().map(|r| r.epoch).max().unwrap_or(0) as f64;
    // A single epoch still needs a non-empty axis.
    let x_range = if last > first {
        first..last
    } else {
        first - 0.5..first + 0.5
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range, y_range)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        // Whole epochs only: at most one label per epoch.
        .x_labels((last - first + 1.0).min(12.0) as usize)
        .x_label_formatter(&|epoch| format!("{epoch:.0}"))
        .y_desc(y_description)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(245, 245, 245))
        .draw()?;
    for (name, color, points) in curves.iter().filter(|(_, _, p)| !p.is_empty()) {
        let color = *color;
        chart
            .draw_series(
                LineSeries::new(points.iter().copied(), color.stroke_width(2)).point_size(3),
            )?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    Ok(())
}
