//! Writers for the three output formats. Each writes one record at a time, so results stream
//! out as they are computed.

use std::io::{self, Write};

use crate::Prediction;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned columns for people: one row per file, indented rows for its segments.
    #[default]
    Table,
    /// One JSON object per line, in the [`Prediction`] schema.
    Jsonl,
    /// One row per file (empty segment columns) followed by one row per segment.
    Csv,
}

/// Writes predictions in one [`OutputFormat`], header first.
pub struct PredictionWriter<W: Write> {
    labels: Vec<String>,
    sink: Sink<W>,
}

enum Sink<W: Write> {
    Table {
        out: W,
        file_width: usize,
        /// Whether a row was marked uncertain, so the table ends with what the mark means.
        marked_uncertain: bool,
    },
    Jsonl(W),
    // Boxed: the CSV writer carries its own buffer, far larger than the other variants.
    Csv(Box<csv::Writer<W>>),
}

const PROBABILITY_WIDTH: usize = 5;

impl<W: Write> PredictionWriter<W> {
    /// `labels` are the model's labels (the probability columns); `file_width` is the width of
    /// the table's file column, typically the longest input name.
    pub fn new(
        format: OutputFormat,
        labels: &[String],
        out: W,
        file_width: usize,
    ) -> io::Result<Self> {
        let mut sink = match format {
            OutputFormat::Table => Sink::Table {
                out,
                // Wide enough for segment rows such as "  123.45-130.00s" too.
                file_width: file_width.max(SEGMENT_SPAN_WIDTH),
                marked_uncertain: false,
            },
            OutputFormat::Jsonl => Sink::Jsonl(out),
            OutputFormat::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out))),
        };
        match &mut sink {
            Sink::Table {
                out, file_width, ..
            } => {
                write!(out, "{:<file_width$}  {:>8}  ", "file", "duration")?;
                write_table_columns(out, labels, "emotion", "conf", labels)?;
            }
            Sink::Jsonl(_) => {}
            Sink::Csv(csv) => {
                let mut header: Vec<&str> = vec![
                    "file",
                    "duration_seconds",
                    "start_seconds",
                    "end_seconds",
                    "speech_seconds",
                    "no_speech",
                    "too_short",
                    "emotion",
                    "confidence",
                    "uncertain",
                ];
                header.extend(labels.iter().map(String::as_str));
                header.push("error");
                csv.write_record(&header).map_err(io::Error::other)?;
            }
        }
        Ok(Self {
            labels: labels.to_vec(),
            sink,
        })
    }

    pub fn write(&mut self, prediction: &Prediction) -> io::Result<()> {
        match &mut self.sink {
            Sink::Table {
                out,
                file_width,
                marked_uncertain,
            } => {
                *marked_uncertain |=
                    prediction.uncertain || prediction.segments.iter().any(|s| s.uncertain);
                write_table_record(out, *file_width, &self.labels, prediction)
            }
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut *out, prediction)?;
                out.write_all(b"\n")?;
                out.flush()
            }
            Sink::Csv(csv) => write_csv_record(csv, &self.labels, prediction),
        }
    }

    /// Flushes and hands back the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        match self.sink {
            Sink::Table {
                mut out,
                marked_uncertain,
                ..
            } => {
                if marked_uncertain {
                    writeln!(
                        out,
                        "\n{UNCERTAIN_MARK} uncertain: confidence below the threshold"
                    )?;
                }
                out.flush()?;
                Ok(out)
            }
            Sink::Jsonl(mut out) => {
                out.flush()?;
                Ok(out)
            }
            Sink::Csv(csv) => csv.into_inner().map_err(|e| e.into_error()),
        }
    }
}

const SEGMENT_SPAN_WIDTH: usize = 16;
/// Follows an uncertain emotion in the table (`happy?`).
const UNCERTAIN_MARK: char = '?';
/// The emotion column: the longest label with its mark.
const EMOTION_WIDTH: usize = 18;

/// What the table's emotion column shows for one result.
fn emotion_cell(
    emotion: Option<&str>,
    uncertain: bool,
    no_speech: bool,
    too_short: bool,
) -> String {
    match emotion {
        Some(emotion) if uncertain => format!("{emotion}{UNCERTAIN_MARK}"),
        Some(emotion) => emotion.to_owned(),
        None if no_speech => "(no speech)".to_owned(),
        None if too_short => "(too short)".to_owned(),
        None => String::new(),
    }
}

/// The columns after file and duration: emotion, confidence, one per label.
fn write_table_columns(
    out: &mut impl Write,
    labels: &[String],
    emotion: &str,
    confidence: &str,
    values: &[String],
) -> io::Result<()> {
    write!(out, "{emotion:<EMOTION_WIDTH$}  {confidence:>5}")?;
    for (label, value) in labels.iter().zip(values) {
        let width = label.len().max(PROBABILITY_WIDTH);
        write!(out, "  {value:>width$}")?;
    }
    writeln!(out)
}

fn write_table_record(
    out: &mut impl Write,
    file_width: usize,
    labels: &[String],
    prediction: &Prediction,
) -> io::Result<()> {
    write!(out, "{:<file_width$}  ", prediction.file)?;
    if let Some(error) = &prediction.error {
        writeln!(out, "error: {error}")?;
        return out.flush();
    }
    let duration = prediction
        .duration_seconds
        .map_or_else(String::new, |d| format!("{d:.2}s"));
    write!(out, "{duration:>8}  ")?;
    let values = probability_cells(labels, |label| prediction.probabilities.get(label), rounded);
    write_table_columns(
        out,
        labels,
        &emotion_cell(
            prediction.emotion.as_deref(),
            prediction.uncertain,
            prediction.no_speech,
            prediction.too_short,
        ),
        &prediction.confidence.map_or_else(String::new, rounded),
        &values,
    )?;
    for segment in &prediction.segments {
        let span = format!("{:.2}-{:.2}s", segment.start_seconds, segment.end_seconds);
        write!(out, "{:<file_width$}  {:>8}  ", format!("  {span}"), "")?;
        let values = probability_cells(labels, |label| segment.probabilities.get(label), rounded);
        write_table_columns(
            out,
            labels,
            &emotion_cell(
                segment.emotion.as_deref(),
                segment.uncertain,
                segment.no_speech,
                segment.too_short,
            ),
            &segment.confidence.map_or_else(String::new, rounded),
            &values,
        )?;
    }
    out.flush()
}

/// One cell per label: rounded for the table, full precision for CSV (which is for machines).
fn probability_cells(
    labels: &[String],
    get: impl Fn(&str) -> Option<f32>,
    format: fn(f32) -> String,
) -> Vec<String> {
    labels
        .iter()
        .map(|label| get(label).map_or_else(String::new, format))
        .collect()
}

fn rounded(p: f32) -> String {
    format!("{p:.3}")
}

fn write_csv_record<W: Write>(
    csv: &mut csv::Writer<W>,
    labels: &[String],
    prediction: &Prediction,
) -> io::Result<()> {
    let number = |value: Option<f64>| value.map_or_else(String::new, |v| v.to_string());
    let duration = number(prediction.duration_seconds);
    let mut row = vec![
        prediction.file.clone(),
        duration.clone(),
        String::new(),
        String::new(),
        number(prediction.speech_seconds),
        prediction.no_speech.to_string(),
        prediction.too_short.to_string(),
        prediction.emotion.clone().unwrap_or_default(),
        prediction
            .confidence
            .map_or_else(String::new, |c| c.to_string()),
        prediction.uncertain.to_string(),
    ];
    row.extend(probability_cells(
        labels,
        |label| prediction.probabilities.get(label),
        |p| p.to_string(),
    ));
    row.push(prediction.error.clone().unwrap_or_default());
    csv.write_record(&row).map_err(io::Error::other)?;
    for segment in &prediction.segments {
        let mut row = vec![
            prediction.file.clone(),
            duration.clone(),
            segment.start_seconds.to_string(),
            segment.end_seconds.to_string(),
            segment.speech_seconds.to_string(),
            segment.no_speech.to_string(),
            segment.too_short.to_string(),
            segment.emotion.clone().unwrap_or_default(),
            segment
                .confidence
                .map_or_else(String::new, |c| c.to_string()),
            segment.uncertain.to_string(),
        ];
        row.extend(probability_cells(
            labels,
            |label| segment.probabilities.get(label),
            |p| p.to_string(),
        ));
        row.push(String::new());
        csv.write_record(&row).map_err(io::Error::other)?;
    }
    csv.flush()
}
