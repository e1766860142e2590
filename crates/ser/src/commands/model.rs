//! `ser model summary|info|card|ensemble|members`: describe a network configuration or a
//! trained bundle, attach its model card, join bundles into an ensemble and take one apart.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ser_model::{Architecture, Classifier, LoneClipSubstitute, RunConfig};

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
    /// What a model bundle holds: labels, configs, training run, metrics, versions, and its
    /// model card (training data, cross-validated figures, known limits).
    #[command(
        after_help = "Examples:\n  ser model info                      # the built-in model's card\n  ser model info runs/cnn1d/model.serb\n  ser model info runs/cnn1d/model.serb --format json"
    )]
    Info(InfoArgs),
    /// Attach cross-validated figures and known limits (a TOML model card) to a bundle.
    #[command(
        after_help = "Examples:\n  ser model card models/default.serb --set models/default-card.toml\n\n\
            The TOML holds `limits = [\"...\"]` and [[evaluations]] tables with protocol, runs, \
            accuracy, macro_f1, uar, ece and experiment (figures as fractions, as in an \
            experiment's summary.json). Training data is recorded by `ser train` and kept."
    )]
    Card(CardArgs),
    /// Join trained bundles (e.g. an MLP and a cnn1d) into one ensemble bundle.
    #[command(
        after_help = "Examples:\n  ser model ensemble runs/mlp/model.serb runs/cnn1d/model.serb --out ensemble.serb\n\n\
            Every clip is analysed once per distinct [features] of the models and judged by \
            each model with its own features, normalisation and temperature; the ensemble's \
            probabilities are the normalised geometric mean of theirs (what `ensemble = true` \
            scores in `ser experiment`). The models must have the same labels."
    )]
    Ensemble(EnsembleArgs),
    /// Write the models of an ensemble bundle as bundles of their own (model-1.serb, ...).
    #[command(
        after_help = "Examples:\n  ser model members models/default.serb --out members/\n\n\
            The files are numbered as `ser model info` numbers the models (lone-clip \
            substitutes last); `ser model ensemble` joins them again, e.g. with one of them \
            retrained."
    )]
    Members(MembersArgs),
}

#[derive(clap::Args)]
pub struct MembersArgs {
    /// An ensemble bundle.
    pub bundle: PathBuf,
    /// Folder for the members' bundles (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args)]
pub struct EnsembleArgs {
    /// Two or more model bundles (not ensembles themselves).
    #[arg(required = true, num_args = 2..)]
    pub bundles: Vec<PathBuf>,
    /// Where to write the ensemble bundle.
    #[arg(long)]
    pub out: PathBuf,
    /// N=BUNDLE: for a speaker heard in one clip only, BUNDLE judges in place of model N (the
    /// N-th of the bundles listed, from 1), e.g. a model without speaker normalisation in
    /// place of one with it. Repeat for several models.
    #[arg(long = "lone-clip", value_name = "N=BUNDLE", value_parser = parse_lone_clip)]
    pub lone_clip: Vec<(usize, PathBuf)>,
}

fn parse_lone_clip(text: &str) -> Result<(usize, PathBuf), String> {
    let (position, path) = text
        .split_once('=')
        .ok_or_else(|| format!("expected N=BUNDLE, got {text:?}"))?;
    let position: usize = position
        .trim()
        .parse()
        .ok()
        .filter(|&position| position >= 1)
        .ok_or_else(|| format!("N must be a model's position from 1, got {position:?}"))?;
    Ok((position, PathBuf::from(path)))
}

#[derive(clap::Args)]
pub struct CardArgs {
    /// The bundle to change (rewritten in place unless --out is given).
    pub bundle: PathBuf,
    /// Model card TOML: evaluations and limits.
    #[arg(long)]
    pub set: PathBuf,
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The part of a model card a person writes: figures from experiments and known limits.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CardFile {
    #[serde(default)]
    evaluations: Vec<ser_model::ProtocolFigures>,
    #[serde(default)]
    limits: Vec<String>,
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
    /// Model bundle; without it, `SER_MODEL`, else the model built into ser (its model card).
    pub bundle: Option<PathBuf>,
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
        ModelCommand::Card(args) => card(args),
        ModelCommand::Ensemble(args) => ensemble(args),
        ModelCommand::Members(args) => members(args),
    }
}

fn members(args: MembersArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.bundle)
        .with_context(|| format!("cannot read {}", args.bundle.display()))?;
    let members = ser_model::ensemble_members(&bytes)?;
    anyhow::ensure!(
        members.len() > 1,
        "{} is one model, not an ensemble",
        args.bundle.display()
    );
    for (index, member) in members.iter().enumerate() {
        let path = args.out.join(format!("model-{}.serb", index + 1));
        ser_model::write_atomically(&path, member)?;
        let classifier = Classifier::from_bundle_bytes(member)?;
        println!("{}: {}", path.display(), classifier.architectures());
    }
    Ok(ExitCode::SUCCESS)
}

fn ensemble(args: EnsembleArgs) -> anyhow::Result<ExitCode> {
    // The lone-clip substitutes follow the bundles listed, in the order given.
    let members = args
        .bundles
        .iter()
        .chain(args.lone_clip.iter().map(|(_, path)| path))
        .map(|path| std::fs::read(path).with_context(|| format!("cannot read {}", path.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let lone_clip: Vec<LoneClipSubstitute> = args
        .lone_clip
        .iter()
        .enumerate()
        .map(|(index, (position, _))| LoneClipSubstitute {
            member: args.bundles.len() + index,
            replaces: position - 1,
        })
        .collect();
    let bytes = ser_model::ensemble_bundle(&members, &lone_clip)?;
    ser_model::write_atomically(&args.out, &bytes)?;
    // Read back as `ser predict` will: every member's weights must load.
    let classifier = Classifier::load(&args.out)?;
    println!(
        "{}: ensemble of {} models ({})",
        args.out.display(),
        members.len(),
        classifier.architectures()
    );
    for substitute in classifier.lone_clip_substitutes() {
        println!(
            "  model {} judges in place of model {} a speaker heard in one clip",
            substitute.member + 1,
            substitute.replaces + 1
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn card(args: CardArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.set)
        .with_context(|| format!("cannot read {}", args.set.display()))?;
    let card: CardFile = toml::from_str(&text)
        .with_context(|| format!("{} is not a model card", args.set.display()))?;
    for figures in &card.evaluations {
        let fractions = [figures.accuracy, figures.macro_f1, figures.uar];
        anyhow::ensure!(
            fractions
                .iter()
                .chain(&figures.ece)
                .all(|v| (0.0..=1.0).contains(v)),
            "{}: figures of '{}' must be fractions in [0, 1]",
            args.set.display(),
            figures.protocol
        );
    }
    let bytes = std::fs::read(&args.bundle)
        .with_context(|| format!("cannot read {}", args.bundle.display()))?;
    let updated = ser_model::with_card(&bytes, |model_card| {
        model_card.evaluations = card.evaluations;
        model_card.limits = card.limits;
    })?;
    let out = args.out.as_ref().unwrap_or(&args.bundle);
    ser_model::write_atomically(out, &updated)?;
    println!(
        "model card of {} updated from {}",
        out.display(),
        args.set.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn summary(args: SummaryArgs) -> anyhow::Result<ExitCode> {
    let networks = match &args.bundle {
        Some(path) => Classifier::load(path)?
            .members()
            .map(|info| (info.model.clone(), info.n_features, info.labels.len()))
            .collect(),
        None => {
            let mut run = match &args.config {
                Some(path) => RunConfig::load(path)?,
                None => RunConfig::default(),
            };
            if let Some(architecture) = args.architecture {
                run.model.architecture = architecture;
            }
            vec![(run.model, run.features.n_features(), args.classes)]
        }
    };
    for (index, (model, n_features, classes)) in networks.iter().enumerate() {
        if networks.len() > 1 {
            println!("model {} of the ensemble:", index + 1);
        }
        println!("{}", ser_model::summarize(model, *n_features, *classes)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn info(args: InfoArgs) -> anyhow::Result<ExitCode> {
    let classifier = ser_predict::load_model(args.bundle.as_deref())?;
    let source = match args
        .bundle
        .or_else(|| std::env::var_os(ser_predict::MODEL_ENV).map(PathBuf::from))
    {
        Some(path) => path.display().to_string(),
        None => "built into ser (models/default.serb)".into(),
    };
    match args.format {
        InfoFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&classifier.describe_json()?)?
        ),
        InfoFormat::Text => {
            println!("bundle:        {source}");
            if let Some(ensemble) = classifier.ensemble() {
                println!(
                    "format:        ensemble, version {}",
                    ensemble.format_version
                );
                println!(
                    "ensemble:      {} models: {}, normalised geometric mean of their calibrated probabilities",
                    ensemble.members,
                    classifier.architectures()
                );
                for substitute in &ensemble.lone_clip {
                    println!(
                        "lone clips:    model {} in place of model {} for a speaker heard in one clip",
                        substitute.member + 1,
                        substitute.replaces + 1
                    );
                }
                println!("labels:        {}", ensemble.labels.join(", "));
                print_training_data(classifier.card());
                println!(
                    "versions:      ser {}, burn {}",
                    ensemble.versions.ser, ensemble.versions.burn
                );
                println!("created:       {}", ensemble.created);
                for (index, member) in classifier.members().enumerate() {
                    println!("\nmodel {} of the ensemble:", index + 1);
                    print_bundle_info(member);
                }
            } else {
                print_bundle_info(classifier.info());
            }
            print_card(classifier.card());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_training_data(card: &ser_model::ModelCard) {
    if let Some(training) = &card.training {
        println!(
            "trained on:    {}: {} clips, {} speakers",
            training.corpus, training.clips, training.speakers
        );
    }
}

/// One model's description (without its card's figures).
fn print_bundle_info(info: &ser_model::BundleInfo) {
    let percent = |value: Option<f64>| value.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v));
    println!("format:        version {}", info.format_version);
    let input = format!(
        "{} inputs: {}",
        info.n_features,
        info.model.describe_input()
    );
    println!("architecture:  {} ({input})", info.model.describe_network());
    let features = &info.features;
    let framing = match features.kind {
        ser_features::FeatureKind::Whisper => "a vector every 20 ms".to_string(),
        _ => format!(
            "n_fft {}, hop {}",
            features.stft.n_fft, features.stft.hop_length
        ),
    };
    println!(
        "features:      {} ({} rows), {}, {framing}",
        features.describe(),
        features.n_features(),
        features
            .audio
            .sample_rate
            .map_or("native rate".into(), |rate| format!("{rate} Hz")),
    );
    println!("labels:        {}", info.labels.join(", "));
    println!("corpus:        {}", info.corpus);
    print_training_data(&info.card);
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
    match &info.calibration {
        Some(calibration) => println!(
            "calibration:   temperature {:.3}, fitted on {} ({} clips)",
            calibration.temperature, calibration.fitted_on, calibration.clips
        ),
        None => println!("calibration:   none (raw softmax)"),
    }
}

/// The measured part of the model card: figures per protocol and known limits.
fn print_card(card: &ser_model::ModelCard) {
    if !card.evaluations.is_empty() {
        println!("\nvoices it never heard (the recipe's cross-validated figures, mean over runs):");
        println!(
            "  {:<52} {:>4} {:>9} {:>9} {:>7} {:>6}",
            "protocol", "runs", "accuracy", "macro-F1", "UAR", "ECE"
        );
        for figures in &card.evaluations {
            println!(
                "  {:<52} {:>4} {:>8.1}% {:>8.1}% {:>6.1}% {:>6}",
                figures.protocol,
                figures.runs,
                100.0 * figures.accuracy,
                100.0 * figures.macro_f1,
                100.0 * figures.uar,
                figures
                    .ece
                    .map_or_else(|| "-".to_string(), |ece| format!("{ece:.3}"))
            );
            if let Some(experiment) = &figures.experiment {
                println!("  {:<52} (measured by: {experiment})", "");
            }
        }
    }
    if !card.limits.is_empty() {
        println!("\nknown limits:");
        for limit in &card.limits {
            println!("  - {limit}");
        }
    }
}
