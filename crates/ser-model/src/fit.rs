//! The training loop on in-memory features: batches, augmentation, optimiser, validation,
//! early stopping, per-epoch checkpoints and resume.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor};
use ser_data::SkippedClip;
use ser_features::{FeatureConfig, FeatureMatrix};

use crate::ModelError;
use crate::bundle::{
    self, BUNDLE_FORMAT_VERSION, BundleInfo, BundleMetrics, ModelCard, TrainingData, Versions,
};
use crate::calibration::{Calibration, fit_temperature, log_probabilities};
use crate::checkpoint::{Checkpoint, RunIdentity, resumable_options, training_data_digest};
use crate::classifier::{Classifier, Voices, join_member_records, predict_probabilities};
use crate::config::{Architecture, AugmentConfig, ModelConfig, OptimizerKind, TrainConfig};
use crate::nets::Network;
use crate::normalizer::Normalizer;
use crate::record_check::{check_module_record, check_optimizer_record};
use crate::rng::SplitMix64;
use crate::step::{Batch, MixedTargets, TrainingStep};

/// Stream tag of the dropout-mask seeds, apart from the augmentation draws of the same step.
const MASK_STREAM: u64 = 0x6d61_736b;
const CROP_STREAM: u64 = 0x6372_6f70;

/// One line of the metrics log (`metrics.jsonl`); defined by ser-eval, which reads it back.
pub use ser_eval::EpochRecord;

/// Feature matrices (not normalised) with class indices and speakers.
#[derive(Debug, Clone, Default)]
pub struct LabelledFeatures {
    pub matrices: Vec<FeatureMatrix>,
    pub labels: Vec<usize>,
    /// Each example's speaker as a group index ([`crate::group_indices`]): speaker
    /// normalisation centres every speaker on their own mean.
    pub speakers: Vec<usize>,
    /// Each example's corpus as a group index, for `corpus_weighting`.
    pub corpora: Vec<usize>,
}

impl LabelledFeatures {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// How training reports progress; every method has a silent default.
pub trait TrainProgress: Sync {
    /// A stage of the run starts ("extracting features", "training", ...).
    fn stage(&self, _message: &str) {}
    /// Feature extraction progress over all clips.
    fn extraction(&self, _done: usize, _total: usize) {}
    /// Clips left out because their files cannot be used (missing, broken audio).
    fn skipped(&self, _clips: &[SkippedClip]) {}
    fn epoch_started(&self, _epoch: usize, _epochs: usize, _steps: usize) {}
    /// One optimiser step done (1-based within the epoch) with the batch loss and accuracy.
    fn step(&self, _step: usize, _loss: f32, _accuracy: f32) {}
    fn epoch_finished(&self, _record: &EpochRecord) {}
}

/// Reports nothing.
pub struct SilentProgress;

impl TrainProgress for SilentProgress {}

/// What a training run needs besides the data.
#[derive(Debug, Clone)]
pub struct FitSetup {
    pub model: ModelConfig,
    pub features: FeatureConfig,
    pub training: TrainConfig,
    /// Class names; labels index into this.
    pub labels: Vec<String>,
    pub corpus: String,
    pub split: String,
    /// Where checkpoint, metrics log and bundle go; `None` keeps everything in memory.
    pub run_dir: Option<PathBuf>,
    /// Continue from the run directory's checkpoint if there is one.
    pub resume: bool,
    /// Calibration fitted elsewhere (out-of-fold predictions); `None` fits it on
    /// `validation` when there is one.
    pub calibration: Option<Calibration>,
    /// Whom the model hears in training, for its model card.
    pub training_data: Option<TrainingData>,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    pub info: BundleInfo,
    /// The bundle file's bytes (also written to `bundle_path` when there is a run directory).
    pub bundle: Vec<u8>,
    pub bundle_path: Option<PathBuf>,
    pub history: Vec<EpochRecord>,
    /// Epochs that were already done when the run started (0 unless resumed).
    pub resumed_after: usize,
}

pub const CHECKPOINT_FILE: &str = "checkpoint.serc";
pub const METRICS_FILE: &str = "metrics.jsonl";
pub const BUNDLE_FILE: &str = "model.serb";

/// Train on in-memory features; `validation` drives early stopping and model selection.
pub fn fit(
    setup: &FitSetup,
    train: &LabelledFeatures,
    validation: Option<&LabelledFeatures>,
    progress: &dyn TrainProgress,
) -> Result<TrainOutcome, ModelError> {
    setup.model.validate()?;
    setup.training.validate()?;
    check_data(train, setup.labels.len(), "training")?;
    if let Some(validation) = validation {
        check_data(validation, setup.labels.len(), "validation")?;
    }
    let crops = crops(
        train,
        &setup.model,
        &setup.training.augment,
        setup.training.seed,
    );
    let train_matrices: Vec<_> = train
        .matrices
        .iter()
        .map(|matrix| setup.model.network_input(matrix))
        .chain(crops.matrices.iter().map(Cow::Borrowed))
        .collect();
    // With crops, the examples' labels, speakers and corpora (their inputs: `train_matrices`).
    let with_crops;
    let train = if crops.is_empty() {
        train
    } else {
        with_crops = LabelledFeatures {
            matrices: Vec::new(),
            labels: [&train.labels[..], &crops.labels].concat(),
            speakers: [&train.speakers[..], &crops.speakers].concat(),
            corpora: [&train.corpora[..], &crops.corpora].concat(),
        };
        &with_crops
    };
    let train_matrices: Vec<&FeatureMatrix> = train_matrices.iter().map(AsRef::as_ref).collect();
    let normalizer = Normalizer::fit(
        &train_matrices,
        &train.speakers,
        &setup.model.speaker_normalization,
    )?;
    let n_features = normalizer.n_features();
    let frames = setup.model.input_frames();
    let train_inputs = normalizer.batch_input(&train_matrices, &train.speakers, frames)?;
    let config = &setup.training;
    let mut members = Vec::with_capacity(setup.model.ensemble);
    for member in 0..setup.model.ensemble {
        if setup.model.ensemble > 1 {
            progress.stage(&format!(
                "training network {} of {}",
                member + 1,
                setup.model.ensemble
            ));
        }
        members.push(train_member(
            setup,
            member,
            train,
            validation,
            &normalizer,
            &train_inputs,
            progress,
        )?);
    }
    let mut records: Vec<Vec<u8>> = members
        .iter_mut()
        .map(|member| std::mem::take(&mut member.weights))
        .collect();
    let best_weights = if records.len() == 1 {
        records.swap_remove(0)
    } else {
        join_member_records(&records)
    };
    // The first network's run stands for the ensemble in the bundle and metrics log.
    let Member {
        history,
        best,
        resumed_after,
        ..
    } = members.swap_remove(0);
    let best_record = best.0.checked_sub(1).and_then(|index| history.get(index));
    let mut info = BundleInfo {
        format_version: BUNDLE_FORMAT_VERSION,
        architecture: setup.model.architecture,
        model: setup.model.clone(),
        features: setup.features.clone(),
        n_features,
        labels: setup.labels.clone(),
        corpus: setup.corpus.clone(),
        split: setup.split.clone(),
        seed: config.seed,
        training: config.clone(),
        metrics: BundleMetrics {
            epochs_trained: history.len(),
            best_epoch: best.0,
            train_loss: best_record.map_or(f64::NAN, |r| r.train_loss),
            train_accuracy: best_record.map_or(f64::NAN, |r| r.train_accuracy),
            val_loss: best_record.and_then(|r| r.val_loss),
            val_accuracy: best_record.and_then(|r| r.val_accuracy),
            val_macro_f1: best_record.and_then(|r| r.val_macro_f1),
        },
        calibration: None,
        card: ModelCard {
            training: setup.training_data.clone(),
            ..ModelCard::default()
        },
        versions: Versions::current(),
        created: bundle::utc_now(),
    };
    let mut bytes = bundle::encode(&info, &normalizer, &best_weights)?;
    let calibration = match (&setup.calibration, validation) {
        (Some(calibration), _) => Some(calibration.clone()),
        (None, Some(validation)) => Some(calibrate_on(&bytes, validation)?),
        (None, None) => None,
    };
    if let Some(calibration) = calibration {
        bytes = bundle::with_info(&bytes, |info| info.calibration = Some(calibration.clone()))?;
        info.calibration = Some(calibration);
    }
    let bundle_path = match &setup.run_dir {
        Some(dir) => {
            let path = dir.join(BUNDLE_FILE);
            bundle::write_atomically(&path, &bytes)?;
            Some(path)
        }
        None => None,
    };
    Ok(TrainOutcome {
        info,
        bundle: bytes,
        bundle_path,
        history,
        resumed_after,
    })
}

/// Temperature fitted on the predictions of the (uncalibrated) bundle for held-out clips.
fn calibrate_on(bundle: &[u8], held_out: &LabelledFeatures) -> Result<Calibration, ModelError> {
    let classifier = Classifier::from_bundle_bytes(bundle)?;
    let probabilities = classifier.predict_features(
        &held_out.matrices.iter().collect::<Vec<_>>(),
        &held_out.speakers,
    )?;
    Ok(fit_calibration(
        &probabilities,
        &held_out.labels,
        &vec![1.0; held_out.labels.len()],
        "the validation part",
    ))
}

/// Temperature scaling fitted on held-out probabilities (from an uncalibrated model).
pub fn fit_calibration(
    probabilities: &[Vec<f32>],
    labels: &[usize],
    weights: &[f64],
    what: &str,
) -> Calibration {
    let log_probabilities: Vec<Vec<f32>> = probabilities
        .iter()
        .map(|row| log_probabilities(row))
        .collect();
    Calibration {
        temperature: fit_temperature(&log_probabilities, labels, weights),
        fitted_on: what.to_string(),
        clips: labels.len(),
    }
}

fn check_data(data: &LabelledFeatures, n_classes: usize, name: &str) -> Result<(), ModelError> {
    if data.is_empty()
        || data.matrices.len() != data.labels.len()
        || data.speakers.len() != data.labels.len()
        || data.corpora.len() != data.labels.len()
    {
        return Err(ModelError::Training(format!(
            "the {name} set is empty or has {} matrices for {} labels, {} speakers and {} corpora",
            data.matrices.len(),
            data.labels.len(),
            data.speakers.len(),
            data.corpora.len()
        )));
    }
    if let Some(label) = data.labels.iter().find(|&&label| label >= n_classes) {
        return Err(ModelError::Training(format!(
            "{name} label index {label} is outside the {n_classes} classes"
        )));
    }
    Ok(())
}

fn build_optimizer(config: &TrainConfig) -> ModuleOptimizer {
    let decay = config.weight_decay as f32;
    match config.optimizer {
        OptimizerKind::Adam => AdamConfig::new()
            .with_epsilon(1e-7)
            .with_weight_decay((decay > 0.0).then(|| WeightDecayConfig::new(decay)))
            .init(),
        OptimizerKind::Adamw => AdamWConfig::new()
            .with_epsilon(1e-7)
            .with_weight_decay(decay)
            .init(),
    }
}

/// Each training example's weight in the loss: the inverse frequency of its group - its class
/// (`class_weighting`), its speaker (`speaker_weighting`) or both (its speaker's examples of
/// its class) - scaled so that the weights average 1; all 1 when none is asked for. With
/// `corpus_weighting` every corpus gets the same share of the total, divided among its own
/// groups as above.
fn example_weights(train: &LabelledFeatures, config: &TrainConfig) -> Vec<f32> {
    let corpus = |index: usize| config.corpus_weighting.then(|| train.corpora[index]);
    let group = |index: usize| {
        (
            corpus(index),
            config.class_weighting.then(|| train.labels[index]),
            config.speaker_weighting.then(|| train.speakers[index]),
        )
    };
    let mut counts = HashMap::new();
    for index in 0..train.len() {
        *counts.entry(group(index)).or_insert(0usize) += 1;
    }
    let mut groups_per_corpus = HashMap::new();
    for (corpus, _, _) in counts.keys() {
        *groups_per_corpus.entry(*corpus).or_insert(0usize) += 1;
    }
    let per_corpus = train.len() as f32 / groups_per_corpus.len() as f32;
    (0..train.len())
        .map(|index| {
            let per_group = per_corpus / groups_per_corpus[&corpus(index)] as f32;
            per_group / counts[&group(index)] as f32
        })
        .collect()
}

/// `augment.crops` stretches of each of `train`'s clips (each `augment.crop_fraction` of its
/// frames long, at least one frame, at a random place), as the network's inputs (pooled at
/// once for `mlp`, so their frames are not kept), with the clip's label, speaker and corpus.
fn crops(
    train: &LabelledFeatures,
    model: &ModelConfig,
    augment: &AugmentConfig,
    seed: u64,
) -> LabelledFeatures {
    let mut crops = LabelledFeatures::default();
    if augment.crops == 0 {
        return crops;
    }
    let mut rng = SplitMix64::for_stream(seed, &[CROP_STREAM]);
    for (index, clip) in train.matrices.iter().enumerate() {
        if clip.n_frames == 0 {
            continue;
        }
        for _ in 0..augment.crops {
            let share = augment.crop_fraction.at(rng.unit());
            let width = ((share * clip.n_frames as f32).round() as usize).clamp(1, clip.n_frames);
            let start = rng.below(clip.n_frames - width + 1);
            let data = (0..clip.n_features)
                .flat_map(|feature| clip.row(feature)[start..start + width].iter().copied())
                .collect();
            let stretch = FeatureMatrix::new(clip.n_features, width, data);
            crops
                .matrices
                .push(model.network_input(&stretch).into_owned());
            crops.labels.push(train.labels[index]);
            crops.speakers.push(train.speakers[index]);
            crops.corpora.push(train.corpora[index]);
        }
    }
    crops
}

/// Time shift and SpecAugment masks on one normalised `[n_features, frames]` example; zero
/// is the training mean, so shifted-in and masked cells look like "average".
fn augment_example(
    example: &mut [f32],
    n_features: usize,
    frames: usize,
    augment: &AugmentConfig,
    rng: &mut SplitMix64,
) {
    if augment.time_shift_frames > 0 {
        let limit = augment.time_shift_frames.min(frames);
        let shift = rng.below(2 * limit + 1) as isize - limit as isize;
        for row in example.chunks_exact_mut(frames) {
            if shift > 0 {
                row.rotate_right(shift as usize);
                row[..shift as usize].fill(0.0);
            } else if shift < 0 {
                let shift = shift.unsigned_abs();
                row.rotate_left(shift);
                row[frames - shift..].fill(0.0);
            }
        }
    }
    for _ in 0..augment.freq_masks {
        let width = rng.below(augment.freq_mask_width.min(n_features) + 1);
        let start = rng.below(n_features - width + 1);
        example[start * frames..(start + width) * frames].fill(0.0);
    }
    for _ in 0..augment.time_masks {
        let width = rng.below(augment.time_mask_width.min(frames) + 1);
        let start = rng.below(frames - width + 1);
        for row in example.chunks_exact_mut(frames) {
            row[start..start + width].fill(0.0);
        }
    }
}

/// Mixup on a batch of `targets.len()` equal-sized examples: each is blended with a partner
/// drawn from the batch, x = l·x_i + (1 - l)·x_j with l from Beta(alpha, alpha) taken >= 0.5
/// (so the first class stays the larger part). Scales each example's weight by l and returns
/// the partners' classes with their own weights scaled by 1 - l.
fn mixup(
    inputs: &mut [f32],
    targets: &[i64],
    weights: &mut [f32],
    alpha: f64,
    rng: &mut SplitMix64,
) -> (Vec<i64>, Vec<f32>) {
    let examples = targets.len();
    let example_size = inputs.len() / examples.max(1);
    let originals = inputs.to_vec();
    let original_weights = weights.to_vec();
    let mut partners: Vec<usize> = (0..examples).collect();
    rng.shuffle(&mut partners);
    let mut partner_targets = Vec::with_capacity(examples);
    let mut partner_weights = Vec::with_capacity(examples);
    for (index, &partner) in partners.iter().enumerate() {
        let draw = rng.beta_symmetric(alpha);
        let share = draw.max(1.0 - draw) as f32;
        let example = &mut inputs[index * example_size..(index + 1) * example_size];
        let other = &originals[partner * example_size..(partner + 1) * example_size];
        for (value, &other) in example.iter_mut().zip(other) {
            *value = share * *value + (1.0 - share) * other;
        }
        weights[index] *= share;
        partner_targets.push(targets[partner]);
        partner_weights.push(original_weights[partner] * (1.0 - share));
    }
    (partner_targets, partner_weights)
}

/// One trained network: its epoch history, best (epoch, score) and the weights kept.
struct Member {
    history: Vec<EpochRecord>,
    best: (usize, f32),
    weights: Vec<u8>,
    resumed_after: usize,
}

/// Where member `member` of a run keeps its checkpoint and metrics: the run directory for
/// the first network, `member-N` inside it for the others of an ensemble.
fn member_dir(setup: &FitSetup, member: usize) -> Result<Option<PathBuf>, ModelError> {
    let Some(dir) = &setup.run_dir else {
        return Ok(None);
    };
    if member == 0 {
        return Ok(Some(dir.clone()));
    }
    let dir = dir.join(format!("member-{}", member + 1));
    std::fs::create_dir_all(&dir).map_err(|source| ModelError::Io {
        path: dir.clone(),
        source,
    })?;
    Ok(Some(dir))
}

/// Train network `member` (seed `training.seed + member`) on the normalised inputs, resuming
/// from its checkpoint when asked.
fn train_member(
    setup: &FitSetup,
    member: usize,
    train: &LabelledFeatures,
    validation: Option<&LabelledFeatures>,
    normalizer: &Normalizer,
    train_inputs: &[f32],
    progress: &dyn TrainProgress,
) -> Result<Member, ModelError> {
    let n_features = normalizer.n_features();
    let frames = setup.model.input_frames();
    // Time shift and SpecAugment act on frames; pooled (mlp) inputs have none.
    let augment_batches = setup.model.architecture != Architecture::Mlp;
    let config = &setup.training;
    let seed = config.seed.wrapping_add(member as u64);
    let run_dir = member_dir(setup, member)?;

    let device = Device::default().autodiff();
    let mut network = Network::new(&setup.model, n_features, setup.labels.len(), &device, seed);
    let mut optimizer = build_optimizer(config);
    let training_step = TrainingStep::new(setup.model.architecture, &device)
        .with_label_smoothing(config.label_smoothing as f32);
    let weights = example_weights(train, config);

    let checkpoint_path = run_dir.as_ref().map(|dir| dir.join(CHECKPOINT_FILE));
    // Digesting the inputs takes a moment: only runs that keep checkpoints need it.
    let identity = checkpoint_path.as_ref().map(|_| RunIdentity {
        model: setup.model.clone(),
        features: setup.features.clone(),
        training: resumable_options(config),
        seed,
        labels: setup.labels.clone(),
        training_data: training_data_digest(
            train_inputs,
            &train.labels,
            &train.speakers,
            &train.corpora,
        ),
    });
    let mut history = Vec::new();
    let mut best = (0usize, f32::NEG_INFINITY);
    let mut best_weights = Vec::new();
    // Stochastic weight averaging over the last `average_epochs` epochs: the first one's index.
    let average_from =
        (config.average_epochs > 0).then(|| config.epochs.saturating_sub(config.average_epochs));
    let mut average: Option<Network> = None;
    if let (true, Some(path), Some(identity)) = (setup.resume, &checkpoint_path, &identity) {
        if path.exists() {
            let checkpoint = Checkpoint::load(path)?;
            if let Some(reason) = checkpoint.state.identity.difference(identity) {
                return Err(ModelError::CheckpointMismatch {
                    path: path.clone(),
                    reason: format!("{reason} differ (start a new run instead of resuming)"),
                });
            }
            check_module_record(&checkpoint.model, &network)
                .map_err(|error| corrupt_checkpoint(path, format!("bad weights: {error}")))?;
            network = network
                .try_load_record(record_from(&checkpoint.model)?)
                .map_err(|error| corrupt_checkpoint(path, error))?;
            check_optimizer_record(&checkpoint.optimizer, &network).map_err(|error| {
                corrupt_checkpoint(path, format!("bad optimiser state: {error}"))
            })?;
            optimizer = optimizer
                .from_bytes(Bytes::from_bytes_vec(checkpoint.optimizer))
                .map_err(|error| corrupt_checkpoint(path, error))?;
            history = checkpoint.state.history;
            history.truncate(checkpoint.state.epochs_done);
            best = (checkpoint.state.best_epoch, checkpoint.state.best_score);
            best_weights = checkpoint.best_model;
            if let Some(from) = average_from.filter(|&from| history.len() > from) {
                if checkpoint.state.averaged_from != Some(from) {
                    return Err(corrupt_checkpoint(
                        path,
                        format!(
                            "this run averages the weights from epoch {}, the checkpoint's \
                             best model does not (start a new run instead of resuming)",
                            from + 1
                        ),
                    ));
                }
                // The kept weights are the running mean so far.
                average = Some(
                    network
                        .valid()
                        .try_load_record(record_from(&best_weights)?)
                        .map_err(|error| corrupt_checkpoint(path, error))?,
                );
            }
            progress.stage(&format!("resuming after epoch {}", history.len()));
        } else {
            progress.stage("no checkpoint to resume from: starting a new run");
        }
    }
    let resumed_after = history.len();
    if let Some(dir) = &run_dir {
        rewrite_metrics_log(&dir.join(METRICS_FILE), &history)?;
    }

    let batch_size = config.batch_size.min(train.len());
    let steps = train.len().div_ceil(batch_size);
    let example_size = n_features * frames;
    for epoch in history.len()..config.epochs {
        if config.patience > 0 && best.0 > 0 && epoch - best.0 >= config.patience {
            break;
        }
        let started = Instant::now();
        let learning_rate = config
            .schedule
            .rate(config.learning_rate, epoch, config.epochs);
        progress.epoch_started(epoch + 1, config.epochs, steps);
        let mut order: Vec<usize> = (0..train.len()).collect();
        SplitMix64::for_stream(seed, &[epoch as u64]).shuffle(&mut order);
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        for (step, batch) in order.chunks(batch_size).enumerate() {
            let mut augment_rng = SplitMix64::for_stream(seed, &[epoch as u64, step as u64 + 1]);
            let mut inputs = Vec::with_capacity(batch.len() * example_size);
            for &index in batch {
                let start = inputs.len();
                inputs.extend_from_slice(
                    &train_inputs[index * example_size..(index + 1) * example_size],
                );
                if augment_batches {
                    augment_example(
                        &mut inputs[start..],
                        n_features,
                        frames,
                        &config.augment,
                        &mut augment_rng,
                    );
                }
            }
            let targets: Vec<i64> = batch
                .iter()
                .map(|&index| train.labels[index] as i64)
                .collect();
            let mut batch_weights: Vec<f32> = batch.iter().map(|&index| weights[index]).collect();
            let mixed = (config.augment.mixup_alpha > 0.0).then(|| {
                mixup(
                    &mut inputs,
                    &targets,
                    &mut batch_weights,
                    config.augment.mixup_alpha,
                    &mut augment_rng,
                )
            });
            let outcome = training_step.run(
                &mut network,
                Batch {
                    inputs: &inputs,
                    targets: &targets,
                    weights: &batch_weights,
                    mixed: mixed
                        .as_ref()
                        .map(|(targets, weights)| MixedTargets { targets, weights }),
                    n_features,
                    frames,
                },
                // Like shuffling and augmentation, a function of (seed, epoch, step): a
                // resumed run draws the masks an uninterrupted one would have.
                SplitMix64::for_stream(seed, &[epoch as u64, step as u64 + 1, MASK_STREAM])
                    .next_u64(),
            )?;
            let (loss_value, batch_correct) = (outcome.loss, outcome.correct);
            if !loss_value.is_finite() {
                return Err(ModelError::Training(format!(
                    "loss became {loss_value} in epoch {} (try a lower learning rate)",
                    epoch + 1
                )));
            }
            network = optimizer.step(learning_rate, network, outcome.gradients);
            loss_sum += f64::from(loss_value) * batch.len() as f64;
            correct += batch_correct;
            progress.step(
                step + 1,
                loss_value,
                batch_correct as f32 / batch.len() as f32,
            );
        }

        let evaluation = match validation {
            Some(validation) => Some(evaluate(
                &network.valid(),
                normalizer,
                &setup.model,
                validation,
                setup.labels.len(),
            )?),
            None => None,
        };
        let record = EpochRecord {
            epoch: epoch + 1,
            learning_rate,
            train_loss: loss_sum / train.len() as f64,
            train_accuracy: correct as f64 / train.len() as f64,
            val_loss: evaluation.map(|e| f64::from(e.loss)),
            val_accuracy: evaluation.map(|e| f64::from(e.accuracy)),
            val_macro_f1: evaluation.map(|e| f64::from(e.macro_f1)),
            seconds: started.elapsed().as_secs_f64(),
        };
        // Without validation the latest epoch is the model; with it, the best macro-F1; with
        // weight averaging, the mean of the last epochs' weights.
        let score = record.val_macro_f1.map_or(epoch as f32, |f1| f1 as f32);
        if let Some(from) = average_from {
            if epoch >= from {
                let mean = match average.take() {
                    Some(mean) => running_mean(mean, &network.valid(), epoch - from + 1),
                    None => network.valid(),
                };
                best = (epoch + 1, score);
                best_weights = record_bytes(&mean)?;
                average = Some(mean);
            }
        } else if score > best.1 {
            best = (epoch + 1, score);
            best_weights = record_bytes(&network)?;
        }
        history.push(record.clone());
        if let (Some(dir), Some(path), Some(identity)) = (&run_dir, &checkpoint_path, &identity) {
            append_metrics(&dir.join(METRICS_FILE), &record)?;
            let optimizer_bytes = optimizer.into_bytes().map_err(|error| {
                ModelError::Training(format!("cannot save optimiser state: {error}"))
            })?;
            Checkpoint::new(
                identity.clone(),
                epoch + 1,
                history.clone(),
                best,
                average_from.filter(|&from| epoch >= from),
                [
                    record_bytes(&network)?,
                    optimizer_bytes.to_vec(),
                    best_weights.clone(),
                ],
            )
            .save(path)?;
        }
        progress.epoch_finished(&record);
    }

    if best_weights.is_empty() {
        best_weights = record_bytes(&network)?;
        best.0 = history.len();
    }
    Ok(Member {
        history,
        best,
        weights: best_weights,
        resumed_after,
    })
}

#[derive(Debug, Clone, Copy)]
struct Evaluation {
    loss: f32,
    accuracy: f32,
    macro_f1: f32,
}

fn evaluate(
    network: &Network,
    normalizer: &Normalizer,
    model: &ModelConfig,
    data: &LabelledFeatures,
    n_classes: usize,
) -> Result<Evaluation, ModelError> {
    let matrices: Vec<&FeatureMatrix> = data.matrices.iter().collect();
    let device = network.devices().into_iter().next().unwrap_or_default();
    let probabilities = predict_probabilities(
        std::slice::from_ref(network),
        normalizer,
        model,
        &matrices,
        Voices::Groups(&data.speakers),
        &device,
        1.0,
    )?;
    let mut loss = 0.0f64;
    let mut predictions = Vec::with_capacity(data.len());
    for (row, &label) in probabilities.iter().zip(&data.labels) {
        loss -= f64::from(row[label].max(1e-12)).ln();
        predictions.push(argmax(row));
    }
    let correct = predictions
        .iter()
        .zip(&data.labels)
        .filter(|(p, l)| p == l)
        .count();
    Ok(Evaluation {
        loss: (loss / data.len() as f64) as f32,
        accuracy: correct as f32 / data.len() as f32,
        macro_f1: macro_f1(&predictions, &data.labels, n_classes),
    })
}

pub(crate) fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(index, _)| index)
}

/// Unweighted mean of per-class F1 over the classes present in truth or predictions.
fn macro_f1(predictions: &[usize], truth: &[usize], n_classes: usize) -> f32 {
    let mut true_positive = vec![0usize; n_classes];
    let mut predicted = vec![0usize; n_classes];
    let mut actual = vec![0usize; n_classes];
    for (&p, &t) in predictions.iter().zip(truth) {
        predicted[p] += 1;
        actual[t] += 1;
        if p == t {
            true_positive[t] += 1;
        }
    }
    let scores: Vec<f32> = (0..n_classes)
        .filter(|&class| predicted[class] + actual[class] > 0)
        .map(|class| 2.0 * true_positive[class] as f32 / (predicted[class] + actual[class]) as f32)
        .collect();
    scores.iter().sum::<f32>() / scores.len().max(1) as f32
}

/// `mean` (the mean of `count - 1` networks' parameters) moved to the mean of those and
/// `latest`: every float parameter, running statistics included, as stochastic weight
/// averaging does.
fn running_mean(mean: Network, latest: &Network, count: usize) -> Network {
    let mut values = ParameterValues::default();
    latest.visit(&mut values);
    mean.map(&mut MoveTowards {
        values: values.0,
        share: 1.0 / count as f32,
    })
}

/// Every float parameter's value, flattened, by id.
#[derive(Default)]
struct ParameterValues(HashMap<ParamId, Tensor<1>>);

impl ModuleVisitor for ParameterValues {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.insert(param.id, param.val().flatten::<1>(0, D - 1));
    }
}

/// Moves every parameter a `share` of the way towards the value of the same id.
struct MoveTowards {
    values: HashMap<ParamId, Tensor<1>>,
    share: f32,
}

impl ModuleMapper for MoveTowards {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        match self.values.remove(&param.id) {
            Some(target) => {
                let share = self.share;
                param.map(|value| {
                    let shape = value.shape();
                    let step = (target.reshape(shape) - value.clone()).mul_scalar(share);
                    value + step
                })
            }
            None => param,
        }
    }
}

fn record_bytes(network: &Network) -> Result<Vec<u8>, ModelError> {
    network
        .valid()
        .into_record()
        .into_bytes()
        .map(|bytes| bytes.to_vec())
        .map_err(|error| ModelError::Training(format!("cannot serialise weights: {error}")))
}

fn record_from(bytes: &[u8]) -> Result<ModuleRecord, ModelError> {
    ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|error| ModelError::CorruptBundle(format!("bad weights: {error}")))
}

fn corrupt_checkpoint(path: &Path, error: impl std::fmt::Display) -> ModelError {
    ModelError::CheckpointMismatch {
        path: path.to_path_buf(),
        reason: error.to_string(),
    }
}

fn rewrite_metrics_log(path: &Path, history: &[EpochRecord]) -> Result<(), ModelError> {
    let mut text = String::new();
    for record in history {
        text.push_str(&serde_json::to_string(record).unwrap_or_default());
        text.push('\n');
    }
    bundle::write_atomically(path, text.as_bytes())
}

fn append_metrics(path: &Path, record: &EpochRecord) -> Result<(), ModelError> {
    let io_error = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_error)?;
    let line = serde_json::to_string(record).unwrap_or_default();
    writeln!(file, "{line}").map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every parameter times a factor (the same ids, so `running_mean` pairs them up).
    struct Scaled(f32);

    impl ModuleMapper for Scaled {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let factor = self.0;
            param.map(|value| value.mul_scalar(factor))
        }
    }

    #[test]
    fn running_mean_is_the_mean_of_the_parameters() {
        let config = ModelConfig::for_architecture(Architecture::Mlp);
        let first = Network::new(&config, 5, 3, &Device::flex(), 1);
        let doubled = first.clone().map(&mut Scaled(2.0));
        let tripled = first.clone().map(&mut Scaled(3.0));
        // The mean of x, 2x and 3x is 2x.
        let mean = running_mean(running_mean(first.clone(), &doubled, 2), &tripled, 3);
        let values = |network: &Network| {
            let mut values = ParameterValues::default();
            network.visit(&mut values);
            values.0
        };
        let (first_values, mean_values) = (values(&first), values(&mean));
        assert_eq!(first_values.len(), mean_values.len());
        assert!(!first_values.is_empty());
        for (id, value) in first_values {
            let expected = crate::classifier::tensor_values(value.mul_scalar(2.0)).unwrap();
            let got = crate::classifier::tensor_values(mean_values[&id].clone()).unwrap();
            for (a, b) in expected.iter().zip(&got) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn macro_f1_of_known_predictions() {
        // class 0: tp 1, p 2, a 1 -> 2/3; class 1: tp 1, p 1, a 2 -> 2/3.
        let f1 = macro_f1(&[0, 0, 1], &[0, 1, 1], 2);
        assert!((f1 - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn example_weights_balance_classes_speakers_or_both() {
        // Speaker 0 has three examples of class 0 and one of class 1, speaker 1 two of class 1.
        let train = LabelledFeatures {
            matrices: Vec::new(),
            labels: vec![0, 0, 0, 1, 1, 1],
            speakers: vec![0, 0, 0, 0, 1, 1],
            corpora: vec![0; 6],
        };
        let weights = |class_weighting, speaker_weighting| {
            let config = TrainConfig {
                class_weighting,
                speaker_weighting,
                ..TrainConfig::default()
            };
            example_weights(&train, &config)
        };
        assert_eq!(weights(false, false), vec![1.0; 6]);
        assert_eq!(weights(true, false), vec![1.0; 6]);
        let (a, b) = (6.0 / (2.0 * 4.0), 6.0 / (2.0 * 2.0));
        assert_eq!(weights(false, true), vec![a, a, a, a, b, b]);
        // Three groups of two each: (0, 0) has 3 examples, (1, 0) one, (1, 1) two.
        let (c, d, e) = (2.0 / 3.0, 2.0, 1.0);
        assert_eq!(weights(true, true), vec![c, c, c, d, e, e]);
    }

    #[test]
    fn corpus_weighting_gives_every_corpus_the_same_share() {
        // Corpus 0: six examples of one speaker (four of class 0, two of class 1); corpus 1:
        // two examples of class 1 from two speakers.
        let train = LabelledFeatures {
            matrices: Vec::new(),
            labels: vec![0, 0, 0, 0, 1, 1, 1, 1],
            speakers: vec![0, 0, 0, 0, 0, 0, 1, 2],
            corpora: vec![0, 0, 0, 0, 0, 0, 1, 1],
        };
        let weights = |class_weighting, speaker_weighting| {
            let config = TrainConfig {
                class_weighting,
                speaker_weighting,
                corpus_weighting: true,
                ..TrainConfig::default()
            };
            example_weights(&train, &config)
        };
        let share = |weights: &[f32], corpus| -> f32 {
            (0..8)
                .filter(|&index| train.corpora[index] == corpus)
                .map(|index| weights[index])
                .sum()
        };
        for (class_weighting, speaker_weighting) in
            [(false, false), (true, false), (false, true), (true, true)]
        {
            let weights = weights(class_weighting, speaker_weighting);
            assert!((share(&weights, 0) - 4.0).abs() < 1e-6, "{weights:?}");
            assert!((share(&weights, 1) - 4.0).abs() < 1e-6, "{weights:?}");
        }
        let (a, b) = (4.0 / 6.0, 4.0 / 2.0);
        assert_eq!(weights(false, false), vec![a, a, a, a, a, a, b, b]);
        // Within corpus 0 each class gets 2: class 0's four examples 0.5, class 1's two 1.
        assert_eq!(
            weights(true, false),
            vec![0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 2.0, 2.0]
        );
        // Corpus 1's two speakers get 2 each.
        assert_eq!(weights(false, true), vec![a, a, a, a, a, a, b, b]);
    }

    #[test]
    fn mixup_blends_examples_and_splits_their_weights() {
        // Three one-value examples 0, 10, 20 of classes 0, 1, 2 with weights 1, 2, 3.
        let mut inputs = vec![0.0, 10.0, 20.0];
        let mut weights = vec![1.0, 2.0, 3.0];
        let original_weights = weights.clone();
        let targets = [0, 1, 2];
        let (partner_targets, partner_weights) = mixup(
            &mut inputs,
            &targets,
            &mut weights,
            0.4,
            &mut SplitMix64::for_stream(3, &[]),
        );
        for index in 0..3 {
            let partner = partner_targets[index] as usize;
            let share = weights[index] / original_weights[index];
            assert!((0.5..=1.0).contains(&share), "{share}");
            let expected = share * (10.0 * index as f32) + (1.0 - share) * (10.0 * partner as f32);
            assert!((inputs[index] - expected).abs() < 1e-4);
            let partner_share = partner_weights[index] / original_weights[partner];
            assert!((share + partner_share - 1.0).abs() < 1e-6);
        }
        let mut partners = partner_targets.clone();
        partners.sort();
        assert_eq!(
            partners,
            vec![0, 1, 2],
            "every example is someone's partner once"
        );
    }

    #[test]
    fn masks_and_shift_keep_shape() {
        let mut example: Vec<f32> = (0..40).map(|v| v as f32 + 1.0).collect();
        let augment = AugmentConfig {
            time_shift_frames: 3,
            freq_masks: 2,
            time_masks: 2,
            ..AugmentConfig::default()
        };
        augment_example(
            &mut example,
            4,
            10,
            &augment,
            &mut SplitMix64::for_stream(1, &[2]),
        );
        assert_eq!(example.len(), 40);
        assert!(example.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn crops_are_stretches_of_each_clip_with_its_label_and_speaker() {
        // Two clips of 2 features; frame t of clip c holds 100 c + t (feature 0) and its
        // negative (feature 1), so a crop shows where it was cut.
        let clip = |c: usize, frames: usize| {
            let row: Vec<f32> = (0..frames).map(|t| (100 * c + t) as f32).collect();
            let negative = row.iter().map(|v| -v);
            FeatureMatrix::new(2, frames, row.iter().copied().chain(negative).collect())
        };
        let train = LabelledFeatures {
            matrices: vec![clip(0, 20), clip(1, 3)],
            labels: vec![4, 6],
            speakers: vec![0, 1],
            corpora: vec![0, 0],
        };
        // A frame-level network reads the stretches as they are cut.
        let frames = ModelConfig::for_architecture(Architecture::Cnn1d);
        assert!(crops(&train, &frames, &AugmentConfig::default(), 1).is_empty());
        let augment = AugmentConfig {
            crops: 3,
            ..AugmentConfig::default()
        };
        let cropped = crops(&train, &frames, &augment, 1);
        assert_eq!(cropped.len(), 2 * 3);
        assert_eq!(cropped.labels, [4, 4, 4, 6, 6, 6]);
        assert_eq!(cropped.speakers, [0, 0, 0, 1, 1, 1]);
        for (crop, source) in cropped.matrices.iter().zip([0, 0, 0, 1, 1, 1]) {
            let length = train.matrices[source].n_frames;
            // 50-80 % of the clip, rounded, at least one frame.
            let shortest = ((0.5 * length as f32).round() as usize).max(1);
            let longest = (0.8 * length as f32).round() as usize;
            assert!(
                (shortest..=longest.max(1)).contains(&crop.n_frames),
                "{crop:?}"
            );
            let first = crop.row(0)[0] as usize - 100 * source;
            let expected: Vec<f32> = (first..first + crop.n_frames)
                .map(|t| (100 * source + t) as f32)
                .collect();
            assert!(first + crop.n_frames <= length);
            assert_eq!(crop.row(0), expected, "consecutive frames of its clip");
            let negative: Vec<f32> = expected.iter().map(|v| -v).collect();
            assert_eq!(crop.row(1), negative);
        }
        // Drawn from the seed: the same seed cuts the same stretches, another seed others.
        assert_eq!(
            crops(&train, &frames, &augment, 1).matrices,
            cropped.matrices
        );
        assert_ne!(
            crops(&train, &frames, &augment, 2).matrices,
            cropped.matrices
        );
        // An MLP gets each stretch pooled (its mean and spread), the frames not kept.
        let mlp = ModelConfig::for_architecture(Architecture::Mlp);
        let pooled = crops(&train, &mlp, &augment, 1);
        for (input, stretch) in pooled.matrices.iter().zip(&cropped.matrices) {
            assert_eq!(input, mlp.network_input(stretch).as_ref());
            assert_eq!(input.n_frames, 1);
        }
    }
}
