//! `ser predict`: the emotion and every class probability per recording.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use ser_audio::segment::SegmentConfig;
use ser_audio::voice::VoiceConfig;
use ser_predict::{
    OutputFormat, PredictOptions, PredictionWriter, SegmentMode, SpeakerGrouping, expand_inputs,
    predict_inputs,
};

use super::Verbosity;

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  ser predict clip.wav\n  \
    ser predict recordings/ --format jsonl > results.jsonl\n  \
    ser predict 'calls/*.flac' --format csv\n  cat clip.wav | ser predict -\n  \
    ser predict interview.mp3 --segment always --max-segment 8\n  \
    ser predict speakers/ --speakers folder   # one folder per speaker\n\n\
    Recordings without speech get no emotion and no_speech: true; with less speech than\n\
    --min-speech, too_short: true. Neither is a failure. The exit status is 1 if any input\n\
    failed (each failure is reported in the output).")]
pub struct PredictArgs {
    /// Audio files, folders (searched recursively), glob patterns, or `-` for stdin.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Model bundle (default: $SER_MODEL, else the model built into ser).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output: an aligned table, JSON lines, or CSV (a row per recording and per segment).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// When to split recordings into speech segments (auto: when longer than --max-segment).
    #[arg(long, value_enum, default_value_t = Segmenting::Auto)]
    pub segment: Segmenting,
    /// Shortest speech segment in seconds; shorter sounds are dropped as clicks or breaths
    /// [default: 0.3].
    #[arg(long)]
    pub min_segment: Option<f32>,
    /// Longest segment in seconds; longer speech is cut into equal pieces [default: 10].
    #[arg(long)]
    pub max_segment: Option<f32>,
    /// Pauses shorter than this many seconds do not split a segment [default: 0.3].
    #[arg(long)]
    pub min_silence: Option<f32>,
    /// Least speech, in seconds, to judge an emotion from; recordings (and segments) with
    /// less are reported `too_short`, without an emotion.
    #[arg(long, default_value_t = VoiceConfig::default().min_speech_seconds)]
    pub min_speech: f32,
    /// Emotions whose probability is below this are marked uncertain (`happy?` in the table,
    /// `"uncertain": true` in JSON and CSV).
    #[arg(long, default_value_t = ser_predict::DEFAULT_UNCERTAIN_BELOW)]
    pub uncertain_below: f32,
    /// Which recordings are one speaker, for a model that normalises speakers (the built-in
    /// one does): every recording alone, every folder, or all inputs. Given a speaker's
    /// recordings together, the model judges each against that voice's own habit (a first
    /// pass reads them all).
    #[arg(long, value_enum, default_value_t = Speakers::Recording)]
    pub speakers: Speakers,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Speakers {
    Recording,
    Folder,
    All,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    #[value(alias = "json")]
    Jsonl,
    Csv,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Segmenting {
    Auto,
    Always,
    Never,
}

pub fn run(args: PredictArgs, verbosity: Verbosity) -> anyhow::Result<ExitCode> {
    let options = predict_options(&args)?;
    let inputs = expand_inputs(&args.inputs);
    let started = Instant::now();
    let model = ser_predict::load_model(args.model.as_deref()).context("cannot load the model")?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "model loaded");

    let file_width = inputs
        .iter()
        .map(|input| match input {
            Ok(input) => input.name().chars().count(),
            Err(error) => error.argument.chars().count(),
        })
        .max()
        .unwrap_or(0)
        .min(60);
    let format = match args.format {
        Format::Table => OutputFormat::Table,
        Format::Jsonl => OutputFormat::Jsonl,
        Format::Csv => OutputFormat::Csv,
    };
    let stdout = io::stdout().lock();
    let progress = if verbosity.progress_bars() && inputs.len() > 1 {
        ProgressBar::new(inputs.len() as u64).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} files, {per_sec}, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };

    let result = (|| {
        let mut writer = PredictionWriter::new(format, model.labels(), stdout, file_width)?;
        let summary = predict_inputs(&model, &inputs, &options, |prediction| {
            progress.suspend(|| writer.write(prediction))?;
            progress.inc(1);
            Ok(())
        })?;
        writer.finish()?.flush()?;
        io::Result::Ok(summary)
    })();
    progress.finish_and_clear();
    let summary = match result {
        Ok(summary) => summary,
        // The reader went away (`| head`): not an error of ours.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("cannot write the results"),
    };
    tracing::info!(
        succeeded = summary.succeeded,
        failed = summary.failed,
        seconds = started.elapsed().as_secs_f64(),
        "done"
    );
    if summary.failed > 0 {
        eprintln!(
            "ser: {} of {} inputs failed",
            summary.failed,
            summary.failed + summary.succeeded
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn predict_options(args: &PredictArgs) -> anyhow::Result<PredictOptions> {
    let defaults = SegmentConfig::default();
    let seconds = |value: Option<f32>, default: f32, name: &str| {
        let value = value.unwrap_or(default);
        anyhow::ensure!(
            value.is_finite() && value >= 0.0,
            "--{name} must be >= 0 seconds"
        );
        Ok(value)
    };
    let segment = SegmentConfig {
        min_speech_seconds: seconds(args.min_segment, defaults.min_speech_seconds, "min-segment")?,
        max_segment_seconds: seconds(
            args.max_segment,
            defaults.max_segment_seconds,
            "max-segment",
        )?,
        min_silence_seconds: seconds(
            args.min_silence,
            defaults.min_silence_seconds,
            "min-silence",
        )?,
        ..defaults
    };
    anyhow::ensure!(
        segment.max_segment_seconds > 0.0
            && segment.max_segment_seconds >= segment.min_speech_seconds,
        "--max-segment must be positive and at least --min-segment"
    );
    anyhow::ensure!(
        args.min_speech.is_finite() && args.min_speech >= 0.0,
        "--min-speech must be >= 0 seconds"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.uncertain_below),
        "--uncertain-below must be a probability in [0, 1]"
    );
    Ok(PredictOptions {
        voice: VoiceConfig {
            min_speech_seconds: args.min_speech,
            ..VoiceConfig::default()
        },
        uncertain_below: args.uncertain_below,
        speakers: match args.speakers {
            Speakers::Recording => SpeakerGrouping::Recording,
            Speakers::Folder => SpeakerGrouping::Folder,
            Speakers::All => SpeakerGrouping::All,
        },
        segment_mode: match args.segment {
            Segmenting::Auto => SegmentMode::Auto,
            Segmenting::Always => SegmentMode::Always,
            Segmenting::Never => SegmentMode::Never,
        },
        auto_segment_above_seconds: f64::from(segment.max_segment_seconds),
        segment,
    })
}
