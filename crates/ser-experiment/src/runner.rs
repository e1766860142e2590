//! Runs an experiment: for every architecture and every split of the protocol, train, evaluate
//! on the test part, write the run's artefacts, then the aggregated report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ser_data::{Clip, Corpus, CorpusSource, FeatureCache, Split};
use ser_eval::report::{EvaluationRun, MarkdownReport, RunMetrics};
use ser_eval::{
    ClassificationReport, PredictionRow, mean_std, plot_confusion_matrix, plot_reliability_diagram,
    read_training_log,
};
use ser_model::{
    Architecture, Classifier, RunConfig, SPLIT_FILE, SplitSpec, TrainOptions, TrainOutcome,
    TrainProgress,
};
use serde::Serialize;

use crate::ExperimentError;
use crate::config::{ExperimentConfig, ModelRecipe, Protocol};
use crate::ensemble::{EnsembleSummary, summarize_ensemble};
use crate::evaluate::{Evaluation, evaluate_clips};

/// Where and how to run an experiment (things that are not part of the protocol).
#[derive(Debug, Clone, Default)]
pub struct ExperimentOptions {
    pub out_dir: PathBuf,
    /// Feature cache shared by every run; `None` extracts features afresh each time.
    pub cache_dir: Option<PathBuf>,
    /// Replaces the experiment's architectures when non-empty.
    pub architectures: Vec<Architecture>,
    /// Replaces the number of training epochs.
    pub epochs: Option<usize>,
    /// The command that started the experiment, quoted in the report to reproduce it.
    pub command: Option<String>,
}

/// One trained and evaluated run.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The model's name in the experiment (its architecture, or the member's file stem).
    pub model: String,
    pub architecture: Architecture,
    /// e.g. `seed 3`, `test YAF`, `fold 2/5`.
    pub name: String,
    /// The run's folder, relative to the experiment's output folder.
    pub dir: PathBuf,
    pub split: String,
    pub test_clips: usize,
    pub epochs_trained: usize,
    pub best_epoch: usize,
    /// Feature extraction (cached after the first run) and training.
    pub train_seconds: f64,
    pub eval_seconds: f64,
    pub report: ClassificationReport,
    /// Expected calibration error of the test predictions.
    pub ece: f64,
    /// The test predictions, pooled over runs for the summary's calibration.
    #[serde(skip)]
    pub predictions: Vec<PredictionRow>,
}

/// Mean and sample standard deviation of a metric over runs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

impl MeanStd {
    pub(crate) fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let (mean, std) = mean_std(&values.into_iter().collect::<Vec<_>>());
        MeanStd { mean, std }
    }
}

/// The runs of one model, aggregated.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSummary {
    /// The model's name in the experiment (its architecture, or the member's file stem).
    pub model: String,
    pub architecture: Architecture,
    pub runs: usize,
    pub accuracy: MeanStd,
    pub macro_f1: MeanStd,
    pub weighted_f1: MeanStd,
    pub uar: MeanStd,
    pub train_seconds: MeanStd,
    pub ece: MeanStd,
    /// Metrics over the test clips of all runs together.
    pub pooled: ClassificationReport,
    /// Calibration over the test clips of all runs together.
    pub pooled_calibration: ser_eval::Calibration,
}

/// Everything an experiment produced (also saved as `summary.json`).
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentSummary {
    pub name: String,
    pub protocol: Protocol,
    pub runs: Vec<RunResult>,
    pub models: Vec<ModelSummary>,
    /// The models' ensemble, when the experiment asks for it.
    pub ensemble: Option<EnsembleSummary>,
    pub total_seconds: f64,
    pub report_path: PathBuf,
}

pub const SUMMARY_FILE: &str = "summary.json";
pub const REPORT_FILE: &str = "report.md";
/// Each model's effective run configuration (in its folder), saved so a single run can be
/// repeated with `ser train`.
pub const RUN_CONFIG_FILE: &str = "run.toml";

/// How one run splits the data.
enum RunSplit {
    WithinCorpus {
        spec: SplitSpec,
        seed: u64,
    },
    /// `seed`: the training seed of every model of the run (none: each its own).
    CrossCorpus {
        test: CorpusSource,
        seed: Option<u64>,
    },
}

struct PlannedRun {
    name: String,
    slug: String,
    split: RunSplit,
}

/// Runs `config`; progress (stages, feature extraction, epochs) goes to `progress`.
pub fn run_experiment(
    config: &ExperimentConfig,
    options: &ExperimentOptions,
    progress: &dyn TrainProgress,
) -> Result<ExperimentSummary, ExperimentError> {
    let started = Instant::now();
    let mut models = config.models(&options.architectures)?;
    for model in &mut models {
        if let Some(epochs) = options.epochs {
            model.run.training.epochs = epochs;
            model.run.training.validate()?;
        }
    }
    if config.ensemble && models.len() < 2 {
        let names: Vec<&str> = models.iter().map(|model| model.name.as_str()).collect();
        return Err(ExperimentError::InvalidInput(format!(
            "an ensemble needs at least two models, the experiment runs {names:?}"
        )));
    }
    let out_dir = &options.out_dir;
    for model in &models {
        let model_dir = out_dir.join(&model.name);
        std::fs::create_dir_all(&model_dir).map_err(|e| ExperimentError::io(&model_dir, e))?;
        let run_file = model_dir.join(RUN_CONFIG_FILE);
        std::fs::write(&run_file, model.run.to_toml())
            .map_err(|e| ExperimentError::io(&run_file, e))?;
    }

    let sources = config.sources();
    let corpus = ser_data::load_corpora(&sources)?;
    let plan = plan_runs(config, &corpus, models[0].run.training.seed);
    let cache = options.cache_dir.clone().map(FeatureCache::new);
    let total_runs = plan.len() * models.len();
    let mut runs = Vec::with_capacity(total_runs);
    for model in &models {
        for planned in &plan {
            progress.stage(&format!(
                "run {}/{total_runs}: {}, {}",
                runs.len() + 1,
                model.name,
                planned.name
            ));
            let context = RunContext {
                config,
                options,
                corpus: &corpus,
                sources: &sources,
                cache: cache.as_ref(),
                progress,
            };
            runs.push(context.execute(planned, &model.name, model.run.clone())?);
        }
    }
    let names = config.ensemble_names(&models);
    let ensemble = config
        .ensemble
        .then(|| summarize_ensemble(&names, &runs, out_dir))
        .transpose()?;
    let model_summaries: Vec<ModelSummary> = models
        .iter()
        .map(|model| summarize(model, &runs, out_dir))
        .collect::<Result<_, _>>()?;
    let report_path = out_dir.join(REPORT_FILE);
    let mut summary = ExperimentSummary {
        name: config.name.clone(),
        protocol: config.protocol.clone(),
        runs,
        models: model_summaries,
        ensemble,
        total_seconds: 0.0,
        report_path: report_path.clone(),
    };
    summary.total_seconds = started.elapsed().as_secs_f64();
    write_report(config, options, &models, &corpus, &summary)?;
    let summary_path = out_dir.join(SUMMARY_FILE);
    let json = serde_json::to_vec_pretty(&summary).map_err(|error| {
        ExperimentError::InvalidInput(format!("cannot encode the summary: {error}"))
    })?;
    std::fs::write(&summary_path, json).map_err(|e| ExperimentError::io(&summary_path, e))?;
    Ok(summary)
}

/// One run per (name, slug, test speakers), trained with `seed`; with `seeds`, all of them
/// once per training seed, seed by seed.
fn speaker_runs(
    runs: Vec<(String, String, Vec<String>)>,
    seeds: &[u64],
    seed: u64,
) -> Vec<PlannedRun> {
    let planned = |(name, slug, test_speakers): &(String, String, Vec<String>), seed| PlannedRun {
        name: name.clone(),
        slug: slug.clone(),
        split: RunSplit::WithinCorpus {
            spec: SplitSpec::Speaker {
                test_speakers: test_speakers.clone(),
            },
            seed,
        },
    };
    if seeds.is_empty() {
        return runs.iter().map(|run| planned(run, seed)).collect();
    }
    seeds
        .iter()
        .flat_map(|&seed| {
            runs.iter().map(move |run| {
                let mut planned = planned(run, seed);
                planned.name = format!("{}, seed {seed}", planned.name);
                planned.slug = format!("{}-seed-{seed}", planned.slug);
                planned
            })
        })
        .collect()
}

fn plan_runs(config: &ExperimentConfig, corpus: &Corpus, seed: u64) -> Vec<PlannedRun> {
    let within = |spec: SplitSpec, seed: u64| RunSplit::WithinCorpus { spec, seed };
    match &config.protocol {
        Protocol::Random {
            seeds,
            test_fraction,
        } => seeds
            .iter()
            .map(|&seed| PlannedRun {
                name: format!("seed {seed}"),
                slug: format!("seed-{seed}"),
                split: within(
                    SplitSpec::Random {
                        test_fraction: *test_fraction,
                    },
                    seed,
                ),
            })
            .collect(),
        Protocol::Speaker {
            test_speakers,
            seeds,
        } => {
            let speakers = if test_speakers.is_empty() {
                corpus.speakers()
            } else {
                test_speakers.clone()
            };
            let runs = speakers.into_iter().map(|speaker| {
                (
                    format!("test {speaker}"),
                    format!("test-{}", slug(&speaker)),
                    vec![speaker],
                )
            });
            speaker_runs(runs.collect(), seeds, seed)
        }
        Protocol::SpeakerFolds { folds, seeds } => {
            let runs = folds.iter().enumerate().map(|(index, speakers)| {
                (
                    format!("fold {}: {}", index + 1, speakers.join(", ")),
                    format!("fold-{}", index + 1),
                    speakers.clone(),
                )
            });
            speaker_runs(runs.collect(), seeds, seed)
        }
        Protocol::Kfold { k } => (0..*k)
            .map(|fold| PlannedRun {
                name: format!("fold {}/{k}", fold + 1),
                slug: format!("fold-{}", fold + 1),
                split: within(SplitSpec::KFold { k: *k, fold }, seed),
            })
            .collect(),
        Protocol::CrossCorpus {
            test_corpus,
            test_data,
            seeds,
        } => {
            let test = CorpusSource::new(*test_corpus, test_data.clone());
            if seeds.is_empty() {
                return vec![PlannedRun {
                    name: format!("test {test_corpus}"),
                    slug: format!("test-{test_corpus}"),
                    split: RunSplit::CrossCorpus { test, seed: None },
                }];
            }
            seeds
                .iter()
                .map(|&seed| PlannedRun {
                    name: format!("test {test_corpus}, seed {seed}"),
                    slug: format!("test-{test_corpus}-seed-{seed}"),
                    split: RunSplit::CrossCorpus {
                        test: test.clone(),
                        seed: Some(seed),
                    },
                })
                .collect()
        }
    }
}

/// Keeps a name usable as a folder name.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

struct RunContext<'a> {
    config: &'a ExperimentConfig,
    options: &'a ExperimentOptions,
    corpus: &'a Corpus,
    sources: &'a [CorpusSource],
    cache: Option<&'a FeatureCache>,
    progress: &'a dyn TrainProgress,
}

impl RunContext<'_> {
    fn execute(
        &self,
        planned: &PlannedRun,
        model: &str,
        mut run: RunConfig,
    ) -> Result<RunResult, ExperimentError> {
        let architecture = run.model.architecture;
        let relative_dir = PathBuf::from(model).join(&planned.slug);
        let run_dir = self.options.out_dir.join(&relative_dir);
        let started = Instant::now();
        let (outcome, test_clips) = match &planned.split {
            RunSplit::WithinCorpus { spec, seed } => {
                run.training.seed = *seed;
                self.train_within_corpus(spec, run, &run_dir)?
            }
            RunSplit::CrossCorpus { test, seed } => {
                if let Some(seed) = seed {
                    run.training.seed = *seed;
                }
                self.train_cross_corpus(test, run, &run_dir)?
            }
        };
        let train_seconds = started.elapsed().as_secs_f64();

        let started = Instant::now();
        self.progress
            .stage(&format!("evaluating on {} test clips", test_clips.len()));
        let classifier = Classifier::from_bundle_bytes(&outcome.bundle)?;
        let Evaluation {
            report,
            predictions,
            skipped,
            ..
        } = evaluate_clips(
            &classifier,
            &test_clips,
            self.config.test_clips,
            self.cache,
            &|| {},
        )?;
        if !skipped.is_empty() {
            self.progress.skipped(&skipped);
        }
        let eval_seconds = started.elapsed().as_secs_f64();

        let log = read_training_log(&run_dir.join(ser_model::METRICS_FILE))?;
        let split = outcome.info.split.clone();
        let title = format!("{}: {model}, {}", self.config.name, planned.name);
        let description = format!(
            "Corpus {}, split {split}. Trained {} epochs, weights of epoch {}.",
            outcome.info.corpus,
            outcome.info.metrics.epochs_trained,
            outcome.info.metrics.best_epoch
        );
        let timings = [
            ("features and training".to_string(), train_seconds),
            ("evaluation".to_string(), eval_seconds),
        ];
        let written = ser_eval::report::write_evaluation(
            &run_dir,
            &EvaluationRun {
                title: &title,
                description: &description,
                report: &report,
                training_log: Some(&log),
                predictions: Some(&predictions),
                timings: &timings,
            },
        )?;
        let ece = written
            .calibration
            .map_or(f64::NAN, |calibration| calibration.ece);
        self.progress.stage(&format!(
            "{model}, {}: accuracy {:.2}%, macro-F1 {:.3}, UAR {:.3}, ECE {ece:.3} \
             ({train_seconds:.0} s)",
            planned.name,
            100.0 * report.accuracy,
            report.macro_f1,
            report.uar
        ));
        Ok(RunResult {
            model: model.to_string(),
            architecture,
            name: planned.name.clone(),
            dir: relative_dir,
            split,
            test_clips: predictions.len(),
            epochs_trained: outcome.info.metrics.epochs_trained,
            best_epoch: outcome.info.metrics.best_epoch,
            train_seconds,
            eval_seconds,
            report,
            ece,
            predictions,
        })
    }

    /// Trains through [`ser_model::train`] (which saves the split) and returns the test clips
    /// of the saved split.
    fn train_within_corpus(
        &self,
        spec: &SplitSpec,
        run: RunConfig,
        run_dir: &Path,
    ) -> Result<(TrainOutcome, Vec<Clip>), ExperimentError> {
        let options = TrainOptions {
            corpora: self.sources.to_vec(),
            run,
            split: spec.clone(),
            validation_fraction: self.config.validation_fraction,
            out_dir: run_dir.to_path_buf(),
            resume: false,
            cache_dir: self.cache.map(|cache| cache.dir().to_path_buf()),
        };
        let outcome = ser_model::train(&options, self.progress)?;
        let clips = &self.corpus.clips;
        let split = Split::load(clips, &run_dir.join(SPLIT_FILE))?;
        Ok((outcome, pick(clips, &split.test)))
    }

    /// Trains on every clip of the experiment's corpora (minus validation) and returns the
    /// other corpus' clips.
    fn train_cross_corpus(
        &self,
        test: &CorpusSource,
        run: RunConfig,
        run_dir: &Path,
    ) -> Result<(TrainOutcome, Vec<Clip>), ExperimentError> {
        let test_corpus = test.load()?;
        let everything = SplitSpec::Random { test_fraction: 0.0 };
        let (outcome, _) = self.train_within_corpus(&everything, run, run_dir)?;
        Ok((outcome, test_corpus.clips))
    }
}

fn pick(clips: &[Clip], indices: &[usize]) -> Vec<Clip> {
    indices.iter().map(|&i| clips[i].clone()).collect()
}

/// Aggregates one model's runs and draws its pooled confusion matrix into
/// `<out>/<model>/confusion_matrix.{png,svg}`.
fn summarize(
    model: &ModelRecipe,
    runs: &[RunResult],
    out_dir: &Path,
) -> Result<ModelSummary, ExperimentError> {
    let mine: Vec<&RunResult> = runs.iter().filter(|run| run.model == model.name).collect();
    if mine.is_empty() {
        return Err(ExperimentError::InvalidInput(format!(
            "no runs of {} to summarise",
            model.name
        )));
    }
    let (pooled, pooled_calibration) = pool_runs(
        mine.iter()
            .map(|run| (&run.report, run.predictions.as_slice())),
        &out_dir.join(&model.name),
    )?;
    Ok(ModelSummary {
        model: model.name.clone(),
        architecture: model.run.model.architecture,
        runs: mine.len(),
        accuracy: MeanStd::of(mine.iter().map(|run| run.report.accuracy)),
        macro_f1: MeanStd::of(mine.iter().map(|run| run.report.macro_f1)),
        weighted_f1: MeanStd::of(mine.iter().map(|run| run.report.weighted_f1)),
        uar: MeanStd::of(mine.iter().map(|run| run.report.uar)),
        train_seconds: MeanStd::of(mine.iter().map(|run| run.train_seconds)),
        ece: MeanStd::of(mine.iter().map(|run| run.ece)),
        pooled,
        pooled_calibration,
    })
}

/// The figures of several runs' test clips together (their confusion matrices summed, their
/// predictions calibrated together), drawn into `dir` as confusion matrix and reliability
/// diagram and saved as its metrics file.
pub(crate) fn pool_runs<'a>(
    runs: impl Iterator<Item = (&'a ClassificationReport, &'a [PredictionRow])>,
    dir: &Path,
) -> Result<(ClassificationReport, ser_eval::Calibration), ExperimentError> {
    let mut labels = Vec::new();
    let mut confusion: Vec<Vec<u64>> = Vec::new();
    let mut predictions: Vec<PredictionRow> = Vec::new();
    for (report, rows) in runs {
        if confusion.is_empty() {
            labels = report.labels.clone();
            confusion = vec![vec![0u64; labels.len()]; labels.len()];
        }
        for (total_row, row) in confusion.iter_mut().zip(&report.confusion) {
            for (total, count) in total_row.iter_mut().zip(row) {
                *total += count;
            }
        }
        predictions.extend_from_slice(rows);
    }
    let (truth, predicted): (Vec<usize>, Vec<usize>) = confusion
        .iter()
        .enumerate()
        .flat_map(|(t, row)| {
            row.iter()
                .enumerate()
                .flat_map(move |(p, &count)| std::iter::repeat_n((t, p), count as usize))
        })
        .unzip();
    let pooled = ClassificationReport::from_predictions(&labels, &truth, &predicted);
    let pooled_calibration = ser_eval::report::calibration_of_predictions(&labels, &predictions)?;
    plot_confusion_matrix(&pooled, &dir.join(ser_eval::report::CONFUSION_PLOT))?;
    plot_reliability_diagram(
        &pooled_calibration,
        &dir.join(ser_eval::report::RELIABILITY_PLOT),
    )?;
    pooled.save_json_with_calibration(
        &dir.join(ser_eval::report::METRICS_FILE),
        Some(&pooled_calibration),
    )?;
    Ok((pooled, pooled_calibration))
}

fn protocol_description(protocol: &Protocol) -> String {
    match protocol {
        Protocol::Random {
            seeds,
            test_fraction,
        } => format!(
            "stratified random split, {:.0}% test, repeated over seeds {seeds:?}",
            100.0 * test_fraction
        ),
        Protocol::Speaker {
            test_speakers,
            seeds,
        } if test_speakers.is_empty() => format!(
            "speaker-independent: each speaker tested once, trained on the others{}",
            per_seed(seeds)
        ),
        Protocol::Speaker {
            test_speakers,
            seeds,
        } => format!(
            "speaker-independent: each of {} tested once, trained on the other speakers{}",
            test_speakers.join(", "),
            per_seed(seeds)
        ),
        Protocol::SpeakerFolds { folds, seeds } => format!(
            "speaker folds: each of {} groups of speakers tested once, trained on every other \
             speaker{}",
            folds.len(),
            per_seed(seeds)
        ),
        Protocol::Kfold { k } => format!("stratified {k}-fold cross-validation"),
        Protocol::CrossCorpus {
            test_corpus,
            test_data,
            seeds,
        } => format!(
            "cross-corpus: test on {test_corpus} ({}){}",
            CorpusSource::new(*test_corpus, test_data.clone())
                .resolved_path()
                .display(),
            per_seed(seeds)
        ),
    }
}

/// ", once per training seed (n)" when a protocol lists seeds.
fn per_seed(seeds: &[u64]) -> String {
    match seeds.len() {
        0 => String::new(),
        n => format!(", once per training seed ({n})"),
    }
}

fn write_report(
    config: &ExperimentConfig,
    options: &ExperimentOptions,
    models: &[ModelRecipe],
    corpus: &Corpus,
    summary: &ExperimentSummary,
) -> Result<(), ExperimentError> {
    let mut markdown = MarkdownReport::new(&config.name);
    let validation = if config.validation_fraction > 0.0 {
        format!(
            "{:.0}% of each training part (early stopping with the model's patience; the best \
             epoch is kept)",
            100.0 * config.validation_fraction,
        )
    } else {
        "none (the last epoch is kept)".to_string()
    };
    markdown.paragraph(&format!(
        "Corpus: {} ({} clips, {} speakers). Protocol: {}. Validation: {validation}. Total \
         wall time {:.1} min on this machine.",
        corpus.name,
        corpus.clips.len(),
        corpus.speakers().len(),
        protocol_description(&config.protocol),
        summary.total_seconds / 60.0
    ));
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|model| {
            let run = &model.run;
            let training = &run.training;
            vec![
                model.name.clone(),
                format!(
                    "{} ({} rows per frame)",
                    run.features.describe(),
                    run.features.n_features()
                ),
                run.model.describe_input(),
                format!(
                    "up to {} epochs, batch {}, learning rate {}, {} calibration folds",
                    training.epochs,
                    training.batch_size,
                    training.learning_rate,
                    training.calibration_folds
                ),
                format!("[{RUN_CONFIG_FILE}]({}/{RUN_CONFIG_FILE})", model.name),
            ]
        })
        .collect();
    markdown.table(
        &[
            "model",
            "features",
            "model input",
            "training",
            "run configuration",
        ],
        &rows,
    );
    if models
        .iter()
        .any(|model| model.run.model.speaker_normalization.enabled)
    {
        markdown.paragraph(match config.test_clips {
            crate::TestSpeakers::Together => {
                "Test clips: each test speaker's clips are normalised together (no labels read)."
            }
            crate::TestSpeakers::Alone => {
                "Test clips: every clip is normalised alone, as a single recording."
            }
        });
    }
    if let Some(command) = &options.command {
        markdown.paragraph(&format!("Reproduce with:\n\n```sh\n{command}\n```"));
    }
    markdown.section(
        "Summary (test accuracy, macro-F1 and UAR in %, mean ± std over runs; expected \
         calibration error of the test predictions, mean over runs and pooled over all runs' \
         test clips)",
    );
    let mut rows: Vec<Vec<String>> = summary
        .models
        .iter()
        .map(|model| {
            summary_row(
                model.model.clone(),
                model.runs,
                [model.accuracy, model.macro_f1, model.uar],
                model.ece,
                model.pooled_calibration.ece,
                model.train_seconds.mean,
            )
        })
        .collect();
    if let Some(ensemble) = &summary.ensemble {
        rows.push(summary_row(
            ensemble.title(),
            ensemble.runs.len(),
            [ensemble.accuracy, ensemble.macro_f1, ensemble.uar],
            ensemble.ece,
            ensemble.pooled_calibration.ece,
            ensemble.train_seconds.mean,
        ));
    }
    markdown.table(
        &[
            "model",
            "runs",
            "accuracy",
            "macro-F1",
            "UAR",
            "ECE",
            "pooled ECE",
            "seconds per run",
        ],
        &rows,
    );
    for model in &summary.models {
        let name = model.model.as_str();
        markdown.section(&format!("{name}: runs"));
        let runs: Vec<&RunResult> = summary
            .runs
            .iter()
            .filter(|run| run.model == model.model)
            .collect();
        let metrics: Vec<RunMetrics> = runs
            .iter()
            .map(|run| {
                run_metrics(
                    &run.name,
                    &run.report,
                    run.ece,
                    &[run.train_seconds, run.eval_seconds],
                )
            })
            .collect();
        markdown.paragraph(
            "Train seconds include feature extraction, which the first run pays and later \
             runs read from the cache.",
        );
        markdown.runs(
            &[&RUN_METRIC_COLUMNS[..], &["train s", "eval s"]].concat(),
            &metrics,
        );
        let links: Vec<Vec<String>> = runs
            .iter()
            .map(|run| {
                let dir = run.dir.to_string_lossy().replace('\\', "/");
                let link = |label: &str, file: &str| format!("[{label}]({dir}/{file})");
                vec![
                    run.name.clone(),
                    run.split.clone(),
                    format!("{} ({})", run.epochs_trained, run.best_epoch),
                    link("report", ser_eval::report::REPORT_FILE),
                    link("confusion", "confusion_matrix.png"),
                    link("curves", "training_curves.png"),
                    link("predictions", ser_eval::report::PREDICTIONS_FILE),
                ]
            })
            .collect();
        markdown.table(
            &[
                "run",
                "split",
                "epochs (best)",
                "report",
                "confusion",
                "curves",
                "predictions",
            ],
            &links,
        );
        markdown.section(&format!(
            "{name}: confusion matrix pooled over the {} runs' test clips",
            model.runs
        ));
        markdown.image(
            &format!("{name} pooled confusion matrix"),
            &format!("{name}/confusion_matrix.png"),
        );
        markdown.classification(&model.pooled);
        if let Some(first) = runs.first() {
            markdown.section(&format!("{name}: training curves ({})", first.name));
            markdown.image(
                &format!("{name} training curves"),
                &format!("{}/training_curves.png", first.dir.to_string_lossy()),
            );
        }
    }
    if let Some(ensemble) = &summary.ensemble {
        write_ensemble_section(&mut markdown, ensemble);
    }
    markdown.save(&summary.report_path)?;
    Ok(())
}

/// A row of the summary table: model, runs, accuracy, macro-F1 and UAR in %, ECE (mean and
/// pooled) and seconds per run.
fn summary_row(
    model: String,
    runs: usize,
    percents: [MeanStd; 3],
    ece: MeanStd,
    pooled_ece: f64,
    seconds: f64,
) -> Vec<String> {
    let mut row = vec![model, runs.to_string()];
    row.extend(
        percents
            .iter()
            .map(|value| format!("{:.2} ± {:.2}", 100.0 * value.mean, 100.0 * value.std)),
    );
    row.push(format!("{:.3} ± {:.3}", ece.mean, ece.std));
    row.push(format!("{pooled_ece:.3}"));
    row.push(format!("{seconds:.0}"));
    row
}

/// The columns of a runs table before its seconds (see [`run_metrics`]).
const RUN_METRIC_COLUMNS: [&str; 5] = ["accuracy", "macro-F1", "weighted-F1", "UAR", "ECE"];

/// A row of a runs table: accuracy, macro-F1, weighted-F1, UAR, ECE, then `seconds`.
fn run_metrics(name: &str, report: &ClassificationReport, ece: f64, seconds: &[f64]) -> RunMetrics {
    let mut values = vec![
        report.accuracy,
        report.macro_f1,
        report.weighted_f1,
        report.uar,
        ece,
    ];
    values.extend_from_slice(seconds);
    RunMetrics {
        name: name.to_owned(),
        values,
    }
}

fn write_ensemble_section(markdown: &mut MarkdownReport, ensemble: &EnsembleSummary) {
    let title = ensemble.title();
    markdown.section(&format!("{title}: runs"));
    markdown.paragraph(
        "Each test clip's probabilities are the normalised geometric mean of the members' \
         (the average of their log-probabilities); train seconds are the members' together.",
    );
    let metrics: Vec<RunMetrics> = ensemble
        .runs
        .iter()
        .map(|run| run_metrics(&run.name, &run.report, run.ece, &[run.train_seconds]))
        .collect();
    markdown.runs(&[&RUN_METRIC_COLUMNS[..], &["train s"]].concat(), &metrics);
    markdown.section(&format!(
        "{title}: confusion matrix pooled over the {} runs' test clips",
        ensemble.runs.len()
    ));
    markdown.image(
        &format!("{title} pooled confusion matrix"),
        &format!("{}/confusion_matrix.png", crate::ensemble::ENSEMBLE_DIR),
    );
    markdown.classification(&ensemble.pooled);
}
