//! `ser model summary|info`: describe a network configuration or a trained bundle.

use std::path::PathBuf;
use std::process::ExitCode;

use ser_model::{Architecture, Classifier, RunConfig};

use super::Verbosity;

#[derive(clap::Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub command: ModelCommand,
}

#[derive(clap::Subcommand)]
pub enum ModelCommand {
    /// Layers, output shapes and parameter counts, like Keras' model.summary().
    #[command(
        after_help = "Examples:\n  ser model summary\n  ser model summary --architecture crnn\n  ser model summary --config model.toml\n  ser model summary runs/cnn1d/model.serb"
    )]
    Summary(SummaryArgs),
    /// What a model bundle holds: labels, configs, training run, metrics, versions.
    #[command(
        after_help = "Examples:\n  ser model info runs/cnn1d/model.serb\n  ser model info runs/cnn1d/model.serb --format json"
    )]
    Info(InfoArgs),
}

#[derive(clap::Args)]
pub struct SummaryArgs {
    /// A trained bundle to describe (instead of a configuration).
    #[arg(conflicts_with_all = ["config", "architecture"])]
    pub bundle: Option<PathBuf>,
    /// Run file (TOML) whose [model] and [features] sections define the network.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Network, overriding the run file: cnn1d, cnn2d, bilstm, crnn, mlp.
    #[arg(long)]
    pub architecture: Option<Architecture>,
    /// Number of output classes.
    #[arg(long, default_value_t = 7)]
    pub classes: usize,
}

#[derive(clap::Args)]
pub struct InfoArgs {
    pub bundle: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: InfoFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum InfoFormat {
    Text,
    Json,
}

pub fn run(args: ModelArgs, _verbosity: Verbosity) -> anyhow::Result<ExitCode> {
    match args.command {
        ModelCommand::Summary(args) => summary(args),
        ModelCommand::Info(args) => info(args),
    }
}

fn summary(args: SummaryArgs) -> anyhow::Result<ExitCode> {
    let (model, n_features, classes) = match &args.bundle {
        Some(path) => {
            let classifier = Classifier::load(path)?;
            let info = classifier.info();
            (info.model.clone(), info.n_features, info.labels.len())
        }
        None => {
            let mut run = match &args.config {
                Some(path) => RunConfig::load(path)?,
                None => RunConfig::default(),
            };
            if let Some(architecture) = args.architecture {
                run.model.architecture = architecture;
            }
            (run.model, run.features.n_features(), args.classes)
        }
    };
    println!("{}", ser_model::summarize(&model, n_features, classes)?);
    Ok(ExitCode::SUCCESS)
}

fn info(args: InfoArgs) -> anyhow::Result<ExitCode> {
    let classifier = Classifier::load(&args.bundle)?;
    let info = classifier.info();
    match args.format {
        InfoFormat::Json => println!("{}", serde_json::to_string_pretty(info)?),
        InfoFormat::Text => {
            let percent =
                |value: Option<f64>| value.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v));
            println!("bundle:        {}", args.bundle.display());
            println!("format:        version {}", info.format_version);
            let input = format!(
                "{} inputs: {}",
                info.n_features,
                info.model.describe_input()
            );
            println!("architecture:  {} ({input})", info.architecture);
            let features = &info.features;
            println!(
                "features:      {} ({} rows), {}, n_fft {}, hop {}",
                features.describe(),
                features.n_features(),
                features
                    .audio
                    .sample_rate
                    .map_or("native rate".into(), |rate| format!("{rate} Hz")),
                features.stft.n_fft,
                features.stft.hop_length
            );
            println!("labels:        {}", info.labels.join(", "));
            println!("corpus:        {}", info.corpus);
            println!("split:         {}", info.split);
            println!("seed:          {}", info.seed);
            println!(
                "training:      {} epochs (best {}), train accuracy {}, val accuracy {}, val macro-F1 {}",
                info.metrics.epochs_trained,
                info.metrics.best_epoch,
                percent(Some(info.metrics.train_accuracy)),
                percent(info.metrics.val_accuracy),
                percent(info.metrics.val_macro_f1)
            );
            println!(
                "versions:      ser {}, burn {}",
                info.versions.ser, info.versions.burn
            );
            println!("created:       {}", info.created);
        }
    }
    Ok(ExitCode::SUCCESS)
}
