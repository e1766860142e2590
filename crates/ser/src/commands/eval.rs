//! `ser eval`: a trained model's metrics on a corpus (or one part of a saved split), printed
//! as tables and written as JSON, CSV, PNG and SVG.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ser_data::Split;
use ser_eval::report::EvaluationRun;
use ser_model::Classifier;

use super::{CorpusArgs, Verbosity};

/// Which clips of a saved split to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitPart {
    Train,
    Validation,
    Test,
}

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  ser eval --model runs/cnn1d/model.serb --split runs/cnn1d/split.json --out runs/cnn1d/eval\n  ser eval --model model.serb --corpus manifest --data other.csv --out eval-other"
)]
pub struct EvalArgs {
    /// Model bundle (model.serb) written by `ser train` or `ser experiment`.
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Evaluate only one part of this split.json (default: every clip of the corpus).
    #[arg(long)]
    pub split: Option<PathBuf>,
    /// The part of --split to evaluate.
    #[arg(long, value_enum, default_value = "test", requires = "split")]
    pub part: SplitPart,
    /// Training log for the curves (default: metrics.jsonl next to the model, if present).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Output folder: metrics.json (with ECE, NLL, Brier), predictions.csv,
    /// confusion_matrix.{png,svg}, reliability.{png,svg}, training_curves.{png,svg}, report.md.
    #[arg(long)]
    pub out: PathBuf,
    /// Feature cache folder (default: ser-data's cache folder).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Extract features without reading or writing the cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
    /// Judge every clip alone, as `ser predict` does a single recording (default: a model
    /// with speaker normalisation hears each speaker's clips together; labels are not read).
    #[arg(long)]
    pub clips_alone: bool,
}

pub fn run(args: EvalArgs, verbosity: Verbosity) -> anyhow::Result<ExitCode> {
    let sources = args.corpus.sources()?;
    let classifier = Classifier::load(&args.model)?;
    let corpus = ser_data::load_corpora(&sources)?;
    let corpus_name = &corpus.name;
    let locations: Vec<String> = sources
        .iter()
        .map(|source| source.resolved_path().display().to_string())
        .collect();
    let (clips, selection) = match &args.split {
        Some(split_path) => {
            let split = Split::load(&corpus.clips, split_path)?;
            let indices = match args.part {
                SplitPart::Train => &split.train,
                SplitPart::Validation => &split.validation,
                SplitPart::Test => &split.test,
            };
            let clips = indices.iter().map(|&i| corpus.clips[i].clone()).collect();
            let part = format!("{:?}", args.part).to_lowercase();
            (
                clips,
                format!(
                    "{part} part of {} ({})",
                    split_path.display(),
                    split.description
                ),
            )
        }
        None => (corpus.clips.clone(), "every clip".to_string()),
    };
    let cache = (!args.no_cache).then(|| {
        ser_data::FeatureCache::new(
            args.cache_dir
                .clone()
                .unwrap_or_else(ser_data::FeatureCache::default_dir),
        )
    });
    if verbosity != Verbosity::Quiet {
        eprintln!(
            "evaluating {} on {} clips of {corpus_name} ({selection})",
            args.model.display(),
            clips.len()
        );
    }
    let started = std::time::Instant::now();
    let test_speakers = if args.clips_alone {
        ser_experiment::TestSpeakers::Alone
    } else {
        ser_experiment::TestSpeakers::Together
    };
    let evaluation =
        ser_experiment::evaluate_clips(&classifier, &clips, test_speakers, cache.as_ref(), &|| {})?;
    super::report_skipped(&evaluation.skipped);
    let seconds = started.elapsed().as_secs_f64();

    let default_log = args.model.with_file_name(ser_model::METRICS_FILE);
    let log = match &args.log {
        Some(path) => Some(ser_eval::read_training_log(path)?),
        None if default_log.is_file() => Some(ser_eval::read_training_log(&default_log)?),
        None => None,
    };
    let title = format!("Evaluation of {}", args.model.display());
    let description = format!(
        "Model: {}. Evaluated on {corpus_name} at {}: {selection}.",
        classifier.describe(),
        locations.join(", ")
    );
    let timings = [("feature extraction and prediction".to_string(), seconds)];
    let written = ser_eval::report::write_evaluation(
        &args.out,
        &EvaluationRun {
            title: &title,
            description: &description,
            report: &evaluation.report,
            training_log: log.as_deref(),
            predictions: Some(&evaluation.predictions),
            timings: &timings,
        },
    )
    .with_context(|| format!("writing the evaluation into {}", args.out.display()))?;
    if verbosity != Verbosity::Quiet {
        println!("{}", evaluation.report.to_table());
        if let Some(calibration) = &written.calibration {
            println!(
                "calibration: ECE {:.3} ({} bins), NLL {:.3}, Brier {:.3}\n",
                calibration.ece,
                ser_eval::CALIBRATION_BINS,
                calibration.nll,
                calibration.brier
            );
        }
        println!("report: {}", written.report_path.display());
    }
    Ok(ExitCode::SUCCESS)
}
