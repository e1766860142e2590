//! `ser experiment`: runs a protocol (random splits over seeds, speaker-independent, k-fold,
//! cross-corpus) end to end and writes a Markdown report with tables and pictures.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ser_data::SkippedClip;
use ser_experiment::{ExperimentConfig, ExperimentOptions};
use ser_model::{Architecture, EpochRecord, TrainProgress};

use super::Verbosity;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  ser experiment experiments/tess-random.toml --out runs/tess-random\n  ser experiment experiments/tess-speaker.toml --architecture mlp --architecture cnn1d --out runs/speaker\n  ser experiment experiments/ravdess-actors.toml --run models/speech-frames.toml --out runs/ravdess-speech"
)]
pub struct ExperimentArgs {
    /// Experiment file (TOML): name, corpus, [protocol], run configuration.
    pub config: PathBuf,
    /// Output folder: report.md, summary.json and one folder per model (architecture or
    /// member) and run.
    #[arg(long)]
    pub out: PathBuf,
    /// Run these architectures instead of the file's (repeatable): cnn1d, cnn2d, bilstm, crnn, mlp.
    #[arg(long)]
    pub architecture: Vec<Architecture>,
    /// Override the number of training epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Base run file instead of the experiment file's `run` (the file's inline sections still
    /// replace its sections): the same protocol with another recipe.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Feature cache folder shared by all runs (default: ser-data's cache folder).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Extract features without reading or writing the cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
}

pub fn run(args: ExperimentArgs, verbosity: Verbosity) -> anyhow::Result<ExitCode> {
    let mut config = ExperimentConfig::load(&args.config)?;
    if let Some(run) = &args.run {
        anyhow::ensure!(
            config.members.is_empty(),
            "{}: the experiment's models are its members (run files used as they are); \
             --run cannot replace them",
            args.config.display()
        );
        config.run = Some(run.clone());
    }
    let options = ExperimentOptions {
        out_dir: args.out.clone(),
        cache_dir: (!args.no_cache).then(|| {
            args.cache_dir
                .clone()
                .unwrap_or_else(ser_data::FeatureCache::default_dir)
        }),
        architectures: args.architecture.clone(),
        epochs: args.epochs,
        command: Some(reproduce_command(&args)),
    };
    let summary = ser_experiment::run_experiment(&config, &options, &LineProgress { verbosity })
        .with_context(|| {
            format!(
                "experiment {} into {}",
                args.config.display(),
                args.out.display()
            )
        })?;
    if verbosity != Verbosity::Quiet {
        let ensemble = summary.ensemble.iter().map(|ensemble| {
            (
                ensemble.title(),
                ensemble.runs.len(),
                [ensemble.accuracy, ensemble.macro_f1, ensemble.uar],
                ensemble.train_seconds.mean,
            )
        });
        let lines = summary
            .models
            .iter()
            .map(|model| {
                (
                    model.model.clone(),
                    model.runs,
                    [model.accuracy, model.macro_f1, model.uar],
                    model.train_seconds.mean,
                )
            })
            .chain(ensemble);
        for (name, runs, [accuracy, macro_f1, uar], seconds) in lines {
            println!(
                "{name:<7} {runs} runs: accuracy {:.2} ± {:.2}%, macro-F1 {:.2} ± {:.2}%, UAR {:.2} ± {:.2}%, {seconds:.0} s per run",
                100.0 * accuracy.mean,
                100.0 * accuracy.std,
                100.0 * macro_f1.mean,
                100.0 * macro_f1.std,
                100.0 * uar.mean,
                100.0 * uar.std,
            );
        }
        println!(
            "report: {} ({:.1} min)",
            summary.report_path.display(),
            summary.total_seconds / 60.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The command line that repeats this experiment, for the report.
fn reproduce_command(args: &ExperimentArgs) -> String {
    let mut command = format!(
        "ser experiment {} --out {}",
        args.config.display(),
        args.out.display()
    );
    for architecture in &args.architecture {
        command.push_str(&format!(" --architecture {architecture}"));
    }
    if let Some(epochs) = args.epochs {
        command.push_str(&format!(" --epochs {epochs}"));
    }
    if let Some(run) = &args.run {
        command.push_str(&format!(" --run {}", run.display()));
    }
    command
}

/// One line per stage and per epoch on stderr: experiments run for minutes to hours and
/// their output is usually kept in a log file, where progress bars do not belong.
struct LineProgress {
    verbosity: Verbosity,
}

impl TrainProgress for LineProgress {
    fn skipped(&self, clips: &[SkippedClip]) {
        super::report_skipped(clips);
    }

    fn stage(&self, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{message}");
        }
    }

    fn epoch_finished(&self, record: &EpochRecord) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let validation = match (record.val_accuracy, record.val_macro_f1) {
            (Some(accuracy), Some(f1)) => {
                format!(
                    "  val acc {:.1}% macro-F1 {:.1}%",
                    100.0 * accuracy,
                    100.0 * f1
                )
            }
            _ => String::new(),
        };
        eprintln!(
            "  epoch {:>3}  loss {:.4} acc {:.1}%{validation}  {:.1} s",
            record.epoch,
            record.train_loss,
            100.0 * record.train_accuracy,
            record.seconds
        );
    }
}
