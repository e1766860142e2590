//! `ser train`: raw audio -> features -> trained model bundle, with progress and resume.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use ser_data::SkippedClip;
use ser_model::{Architecture, EpochRecord, RunConfig, SplitSpec, TrainOptions, TrainProgress};

use super::{CorpusArgs, Verbosity};

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  ser train --corpus tess --epochs 20 --out runs/cnn1d\n  ser train --corpus tess --corpus ravdess=data/ravdess --config models/default.toml --out runs/multi\n  ser train --config model.toml --split speaker:YAF --out runs/speaker\n  ser train --out runs/cnn1d --resume    (continue an interrupted run)"
)]
pub struct TrainArgs {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Run file (TOML) with [model], [features] and [training] sections.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Network to train, overriding the run file: cnn1d, cnn2d, bilstm, crnn, mlp.
    #[arg(long)]
    pub architecture: Option<Architecture>,
    /// random[:TEST_FRACTION], speaker:NAME[,NAME..] or kfold:K[:FOLD].
    #[arg(long, default_value = "random")]
    pub split: SplitSpec,
    /// Share of the non-test clips kept for validation (early stopping, model selection).
    #[arg(long, default_value_t = 0.1)]
    pub validation: f64,
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run directory: split.json, metrics.jsonl, checkpoint.serc, model.serb.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue from the run directory's checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Feature cache folder (default: ser-data's cache folder).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Extract features without reading or writing the cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
}

pub fn run(args: TrainArgs, verbosity: Verbosity) -> anyhow::Result<ExitCode> {
    let mut run = match &args.config {
        Some(path) => RunConfig::load(path)?,
        None => RunConfig::default(),
    };
    if let Some(architecture) = args.architecture {
        run.model.architecture = architecture;
    }
    if let Some(epochs) = args.epochs {
        run.training.epochs = epochs;
    }
    if let Some(batch_size) = args.batch_size {
        run.training.batch_size = batch_size;
    }
    if let Some(seed) = args.seed {
        run.training.seed = seed;
    }
    let options = TrainOptions {
        corpora: args.corpus.sources()?,
        run,
        split: args.split,
        validation_fraction: args.validation,
        out_dir: args.out.clone(),
        resume: args.resume,
        cache_dir: if args.no_cache {
            None
        } else {
            Some(
                args.cache_dir
                    .unwrap_or_else(ser_data::FeatureCache::default_dir),
            )
        },
    };
    let progress = CliProgress::new(verbosity);
    let outcome = ser_model::train(&options, &progress)
        .with_context(|| format!("training into {}", args.out.display()))?;
    progress.finish();
    let metrics = &outcome.info.metrics;
    if verbosity != Verbosity::Quiet {
        let percent =
            |value: Option<f64>| value.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v));
        println!(
            "model: {} ({} epochs, best epoch {}: val accuracy {}, val macro-F1 {})",
            outcome
                .bundle_path
                .as_ref()
                .map_or_else(|| "-".into(), |path| path.display().to_string()),
            metrics.epochs_trained,
            metrics.best_epoch,
            percent(metrics.val_accuracy),
            percent(metrics.val_macro_f1),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Progress bars on stderr: one for feature extraction, one per epoch (loss, accuracy, ETA),
/// and a summary line per finished epoch.
struct CliProgress {
    verbosity: Verbosity,
    bars: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl CliProgress {
    fn new(verbosity: Verbosity) -> Self {
        Self {
            verbosity,
            bars: verbosity.progress_bars(),
            bar: Mutex::new(None),
        }
    }

    fn replace_bar(&self, bar: Option<ProgressBar>) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.take() {
                old.finish_and_clear();
            }
            *slot = bar;
        }
    }

    fn with_bar(&self, action: impl FnOnce(&ProgressBar)) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            action(bar);
        }
    }

    fn finish(&self) {
        self.replace_bar(None);
    }

    fn new_bar(&self, length: usize, template: &str) -> Option<ProgressBar> {
        self.bars.then(|| {
            let bar = ProgressBar::new(length as u64);
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        })
    }
}

impl TrainProgress for CliProgress {
    fn skipped(&self, clips: &[SkippedClip]) {
        self.replace_bar(None);
        super::report_skipped(clips);
    }

    fn stage(&self, message: &str) {
        self.replace_bar(None);
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{message}");
        }
    }

    fn extraction(&self, done: usize, total: usize) {
        let needs_bar = self.bar.lock().map(|slot| slot.is_none()).unwrap_or(false);
        if needs_bar && done < total {
            self.replace_bar(self.new_bar(total, "features [{bar:30}] {pos}/{len} ETA {eta}"));
        }
        self.with_bar(|bar| bar.set_position(done as u64));
    }

    fn epoch_started(&self, epoch: usize, epochs: usize, steps: usize) {
        let bar = self.new_bar(steps, "{prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}");
        if let Some(bar) = &bar {
            bar.set_prefix(format!("epoch {epoch}/{epochs}"));
        }
        self.replace_bar(bar);
    }

    fn step(&self, step: usize, loss: f32, accuracy: f32) {
        self.with_bar(|bar| {
            bar.set_position(step as u64);
            bar.set_message(format!("loss {loss:.4} acc {:.1}%", 100.0 * accuracy));
        });
    }

    fn epoch_finished(&self, record: &EpochRecord) {
        self.replace_bar(None);
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let validation = match (record.val_loss, record.val_accuracy, record.val_macro_f1) {
            (Some(loss), Some(accuracy), Some(f1)) => format!(
                "  val loss {loss:.4} acc {:.1}% macro-F1 {:.1}%",
                100.0 * accuracy,
                100.0 * f1
            ),
            _ => String::new(),
        };
        eprintln!(
            "epoch {:>3}  loss {:.4} acc {:.1}%{validation}  lr {:.2e}  {:.1} s",
            record.epoch,
            record.train_loss,
            100.0 * record.train_accuracy,
            record.learning_rate,
            record.seconds
        );
    }
}
