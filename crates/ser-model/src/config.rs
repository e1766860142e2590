//! Run configuration (TOML): network architecture, features and training options.

use std::borrow::Cow;

use ser_features::{FeatureConfig, FeatureMatrix, Statistic, pool_statistics};
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Which network to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// 1-D convolutions over time, features (MFCC + deltas) as channels.
    Cnn1d,
    /// 2-D convolutions over the (feature, time) image, e.g. a log-mel spectrogram.
    Cnn2d,
    /// Bidirectional LSTM over frames, mean-pooled over time.
    Bilstm,
    /// 1-D convolutions, then a BiLSTM, then attention pooling over time.
    Crnn,
    /// Dense layers over per-feature statistics (mean and standard deviation over time).
    Mlp,
}

impl Architecture {
    pub const ALL: [Architecture; 5] = [
        Architecture::Cnn1d,
        Architecture::Cnn2d,
        Architecture::Bilstm,
        Architecture::Crnn,
        Architecture::Mlp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Cnn1d => "cnn1d",
            Architecture::Cnn2d => "cnn2d",
            Architecture::Bilstm => "bilstm",
            Architecture::Crnn => "crnn",
            Architecture::Mlp => "mlp",
        }
    }
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Architecture {
    type Err = ModelError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Architecture::ALL
            .into_iter()
            .find(|architecture| architecture.as_str() == name)
            .ok_or_else(|| {
                ModelError::Config(format!(
                    "unknown architecture {name:?} (expected one of cnn1d, cnn2d, bilstm, crnn, mlp)"
                ))
            })
    }
}

/// Convolution blocks shared by `cnn1d`, `cnn2d` and the front of `crnn`:
/// conv + ReLU -> batch norm -> max pool -> dropout, one block per entry of `channels`.
/// The last block has no max pool: global pooling follows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConvConfig {
    pub channels: Vec<usize>,
    /// Kernel size per block; the last entry repeats for further blocks.
    pub kernel_sizes: Vec<usize>,
    /// Max-pool size between blocks (1 = no pooling).
    pub pool: usize,
    pub batch_norm: bool,
    pub dropout: f64,
}

impl ConvConfig {
    /// Kernel size of block `index` (0-based).
    pub fn kernel_size(&self, index: usize) -> usize {
        let last = self.kernel_sizes.len().saturating_sub(1);
        self.kernel_sizes.get(index.min(last)).copied().unwrap_or(3)
    }
}

impl Default for ConvConfig {
    /// The conv1d benchmark network (Keras reference in tools/keras_step_time.py) plus
    /// batch norm and dropout.
    fn default() -> Self {
        Self {
            channels: vec![64, 128, 128],
            kernel_sizes: vec![5, 5, 3],
            pool: 2,
            batch_norm: true,
            dropout: 0.2,
        }
    }
}

/// Recurrent layers of `bilstm` and `crnn`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecurrentConfig {
    /// Hidden size per direction.
    pub hidden: usize,
    pub layers: usize,
    pub dropout: f64,
}

impl Default for RecurrentConfig {
    fn default() -> Self {
        Self {
            hidden: 64,
            layers: 1,
            dropout: 0.2,
        }
    }
}

/// `mlp`: dense layers over an utterance-level vector, the statistics of every feature over
/// the clip's own frames (no padding or cropping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DenseConfig {
    /// Statistics pooled over time: "mean", "std", "min", "max", "p50", ...
    pub statistics: Vec<Statistic>,
    pub hidden: Vec<usize>,
    pub dropout: f64,
}

impl Default for DenseConfig {
    fn default() -> Self {
        Self {
            statistics: vec![Statistic::Mean, Statistic::Std],
            hidden: vec![256, 128],
            dropout: 0.3,
        }
    }
}

/// The network: architecture, fixed input length and per-architecture hyperparameters.
/// Only the section of the chosen architecture is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    pub architecture: Architecture,
    /// Fixed number of frames per example of the frame-level networks: longer inputs are
    /// cropped, shorter ones padded (after normalisation, so padding equals the training
    /// mean). `mlp` pools every clip whole instead.
    pub frames: usize,
    pub cnn1d: ConvConfig,
    pub cnn2d: ConvConfig,
    pub bilstm: RecurrentConfig,
    pub crnn: CrnnConfig,
    pub mlp: DenseConfig,
    pub speaker_normalization: SpeakerNormalization,
    /// Networks trained with seeds `seed`, `seed + 1`, ...; their logits are averaged.
    pub ensemble: usize,
}

/// Speaker normalisation of the network input: every speaker's mean input is subtracted
/// before the global standardisation, so the network learns how a voice departs from its own
/// habit rather than whose voice it is. In training the speakers come from the corpus; at
/// prediction the clips given together as one speaker (a recording's segments, a speaker's
/// folder, a corpus speaker in `ser eval`) share one mean, estimated with the average
/// training speaker as a prior worth `prior_clips` clips. With `scale`, every speaker is also
/// divided by their own spread (the standard deviation of their clips' mean inputs, with the
/// average training speaker's as the prior): a lively and a flat voice then vary alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpeakerNormalization {
    pub enabled: bool,
    pub prior_clips: f32,
    pub scale: bool,
}

impl Default for SpeakerNormalization {
    fn default() -> Self {
        Self {
            enabled: false,
            prior_clips: 5.0,
            scale: false,
        }
    }
}

impl SpeakerNormalization {
    /// The prior's weight when enabled.
    pub fn prior_clips(&self) -> Option<f32> {
        self.enabled.then_some(self.prior_clips)
    }
}

/// `crnn`: convolution front end, recurrent back end, attention pooling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrnnConfig {
    pub conv: ConvConfig,
    pub recurrent: RecurrentConfig,
}

impl Default for CrnnConfig {
    fn default() -> Self {
        Self {
            conv: ConvConfig {
                channels: vec![64, 64],
                kernel_sizes: vec![5],
                ..ConvConfig::default()
            },
            recurrent: RecurrentConfig::default(),
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            architecture: Architecture::Cnn1d,
            frames: 128,
            cnn1d: ConvConfig::default(),
            cnn2d: ConvConfig {
                channels: vec![16, 32, 64],
                kernel_sizes: vec![3],
                ..ConvConfig::default()
            },
            bilstm: RecurrentConfig::default(),
            crnn: CrnnConfig::default(),
            mlp: DenseConfig::default(),
            speaker_normalization: SpeakerNormalization::default(),
            ensemble: 1,
        }
    }
}

/// Most networks one model may average (each is trained in full, one after another).
pub const MAX_ENSEMBLE: usize = 32;

impl ModelConfig {
    /// The defaults with another architecture chosen.
    pub fn for_architecture(architecture: Architecture) -> Self {
        Self {
            architecture,
            ..Self::default()
        }
    }

    /// The network's input for one clip's feature matrix: the pooled statistics as a
    /// one-frame matrix for `mlp`, the frames themselves for the others.
    pub fn network_input<'a>(&self, matrix: &'a FeatureMatrix) -> Cow<'a, FeatureMatrix> {
        match self.architecture {
            Architecture::Mlp => {
                let pooled = pool_statistics(matrix, &self.mlp.statistics);
                Cow::Owned(FeatureMatrix::new(pooled.len(), 1, pooled))
            }
            _ => Cow::Borrowed(matrix),
        }
    }

    /// Rows of the network input for clips with `n_features` feature rows.
    pub fn input_features(&self, n_features: usize) -> usize {
        match self.architecture {
            Architecture::Mlp => n_features * self.mlp.statistics.len(),
            _ => n_features,
        }
    }

    /// The network in a few words: its architecture, and for `mlp` its hidden layers, e.g.
    /// "mlp, hidden layers 256, 128" or "mlp without hidden layers (a linear classifier)".
    pub fn describe_network(&self) -> String {
        match self.architecture {
            Architecture::Mlp if self.mlp.hidden.is_empty() => {
                "mlp without hidden layers (a linear classifier)".into()
            }
            Architecture::Mlp => {
                let sizes: Vec<String> = self.mlp.hidden.iter().map(usize::to_string).collect();
                format!("mlp, hidden layers {}", sizes.join(", "))
            }
            architecture => architecture.to_string(),
        }
    }

    /// What one example of the network input is, e.g. "128 frames (cropped or padded)" or
    /// "mean, std of every feature over the clip's own frames".
    pub fn describe_input(&self) -> String {
        let input = self.describe_frames();
        match self.speaker_normalization.prior_clips() {
            Some(prior_clips) => {
                let how = if self.speaker_normalization.scale {
                    "centred on each speaker's mean and scaled to their spread"
                } else {
                    "centred on each speaker's mean"
                };
                format!("{input}, {how} (average-speaker prior worth {prior_clips} clips)")
            }
            None => input,
        }
    }

    fn describe_frames(&self) -> String {
        match self.architecture {
            Architecture::Mlp => {
                let statistics: Vec<String> =
                    self.mlp.statistics.iter().map(|s| s.label()).collect();
                format!(
                    "{} of every feature over the clip's own frames",
                    statistics.join(", ")
                )
            }
            _ => format!("{} frames (cropped or padded)", self.frames),
        }
    }

    /// Frames of the network input.
    pub fn input_frames(&self) -> usize {
        match self.architecture {
            Architecture::Mlp => 1,
            _ => self.frames,
        }
    }

    pub fn validate(&self) -> Result<(), ModelError> {
        let invalid = |reason: String| Err(ModelError::Config(reason));
        if self.frames == 0 {
            return invalid("frames must be at least 1".into());
        }
        if !(1..=MAX_ENSEMBLE).contains(&self.ensemble) {
            return invalid(format!(
                "ensemble must be 1 to {MAX_ENSEMBLE} networks, got {}",
                self.ensemble
            ));
        }
        let prior_clips = self.speaker_normalization.prior_clips;
        if !(prior_clips.is_finite() && prior_clips >= 0.0) {
            return invalid(format!(
                "speaker_normalization.prior_clips must be >= 0, got {prior_clips}"
            ));
        }
        let check_conv = |name: &str, conv: &ConvConfig| -> Result<(), ModelError> {
            if conv.channels.is_empty() || conv.channels.contains(&0) {
                return invalid(format!("{name}.channels must be non-empty and positive"));
            }
            if conv.kernel_sizes.is_empty() || conv.kernel_sizes.contains(&0) || conv.pool == 0 {
                return invalid(format!("{name}.kernel_sizes and {name}.pool must be >= 1"));
            }
            check_probability(&format!("{name}.dropout"), conv.dropout)
        };
        let check_recurrent = |name: &str, recurrent: &RecurrentConfig| {
            if recurrent.hidden == 0 || recurrent.layers == 0 {
                return invalid(format!("{name}.hidden and {name}.layers must be >= 1"));
            }
            check_probability(&format!("{name}.dropout"), recurrent.dropout)
        };
        match self.architecture {
            Architecture::Cnn1d => check_conv("cnn1d", &self.cnn1d),
            Architecture::Cnn2d => check_conv("cnn2d", &self.cnn2d),
            Architecture::Bilstm => check_recurrent("bilstm", &self.bilstm),
            Architecture::Crnn => {
                check_conv("crnn.conv", &self.crnn.conv)?;
                check_recurrent("crnn.recurrent", &self.crnn.recurrent)
            }
            Architecture::Mlp => {
                if self.mlp.statistics.is_empty() {
                    return invalid("mlp.statistics must name at least one statistic".into());
                }
                if self.mlp.hidden.contains(&0) {
                    return invalid("mlp.hidden sizes must be positive".into());
                }
                check_probability("mlp.dropout", self.mlp.dropout)
            }
        }
    }
}

fn check_probability(name: &str, value: f64) -> Result<(), ModelError> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(ModelError::Config(format!(
            "{name} must be in [0, 1), got {value}"
        )))
    }
}

/// Optimiser choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    Adam,
    Adamw,
}

/// Learning-rate schedule over epochs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum LrSchedule {
    Constant,
    /// Cosine decay from the base rate to `min_factor` x base over the run.
    Cosine {
        min_factor: f64,
    },
    /// Multiply by `gamma` every `every` epochs.
    Step {
        every: usize,
        gamma: f64,
    },
}

impl LrSchedule {
    /// Learning rate for `epoch` (0-based) of `epochs`.
    pub fn rate(self, base: f64, epoch: usize, epochs: usize) -> f64 {
        match self {
            LrSchedule::Constant => base,
            LrSchedule::Cosine { min_factor } => {
                let progress = epoch as f64 / epochs.max(1) as f64;
                let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                base * (min_factor + (1.0 - min_factor) * cosine)
            }
            LrSchedule::Step { every, gamma } => base * gamma.powi((epoch / every.max(1)) as i32),
        }
    }
}

/// Data augmentation applied to the training split only.
///
/// The degraded copies are new voices heard through new channels: the speed (voice), room,
/// wideband or telephone line and recording level of a copy are drawn once per (copy,
/// speaker), noise once per clip, and every copy of a speaker counts as a speaker of its own
/// for speaker normalisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Extra degraded copies of every training clip, made on the raw audio before feature
    /// extraction (none unless some degradation below is set).
    pub copies: usize,
    /// White noise at this signal-to-noise ratio in dB: one value, or `[low, high]` drawn
    /// uniformly per clip.
    pub noise_snr_db: Option<Span>,
    /// Speed perturbation factors drawn uniformly from [1 - x, 1 + x].
    pub speed: Option<f32>,
    /// Pitch shifts at the same tempo drawn uniformly from [-x, x] semitones: the voice of
    /// a smaller or larger speaker, without the change of speaking rate that `speed` makes.
    pub pitch_semitones: Option<f32>,
    /// Recording level changes drawn uniformly from [-x, x] dB.
    pub gain_db: Option<f32>,
    /// Share of copies recorded in a synthetic room, reverberation time drawn from
    /// `reverb_rt60_s`.
    pub reverb_probability: f64,
    pub reverb_rt60_s: Span,
    /// Share of copies heard through the narrowband telephone channel (8 kHz, 300-3400 Hz,
    /// G.711 mu-law).
    pub telephone_probability: f64,
    /// Share of copies heard through the wideband channel (16 kHz: nothing above 8 kHz), as
    /// most recordings outside a studio are.
    pub wideband_probability: f64,
    /// Random time shift of up to this many frames, applied to every training batch.
    pub time_shift_frames: usize,
    /// SpecAugment: number of frequency masks per example and their maximum width.
    pub freq_masks: usize,
    pub freq_mask_width: usize,
    /// SpecAugment: number of time masks per example and their maximum width in frames.
    pub time_masks: usize,
    pub time_mask_width: usize,
    /// Mixup (Zhang et al. 2018), 0 = off: every training example is blended with another of
    /// its batch, x = l·x_i + (1 - l)·x_j, and the loss asks for class y_i with weight l and
    /// y_j with 1 - l; l is drawn from Beta(alpha, alpha) and taken >= 0.5. Alpha in (0, 1].
    pub mixup_alpha: f64,
    /// Extra training examples cut from every clip's features: this many stretches of
    /// consecutive frames, each `crop_fraction` of the clip long (drawn per stretch) at a
    /// random place, with the clip's label and speaker. For `mlp` each stretch is pooled
    /// like a clip of its own: the statistics of a part of an utterance, as a shorter or
    /// differently cut recording gives them. Drawn once per training run from its seed.
    pub crops: usize,
    pub crop_fraction: Span,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            copies: 0,
            noise_snr_db: None,
            speed: None,
            pitch_semitones: None,
            gain_db: None,
            reverb_probability: 0.0,
            reverb_rt60_s: Span::Between(0.2, 0.8),
            telephone_probability: 0.0,
            wideband_probability: 0.0,
            time_shift_frames: 0,
            freq_masks: 0,
            freq_mask_width: 4,
            time_masks: 0,
            time_mask_width: 10,
            mixup_alpha: 0.0,
            crops: 0,
            crop_fraction: Span::Between(0.5, 0.8),
        }
    }
}

impl AugmentConfig {
    /// Whether any degradation is set, i.e. whether `copies` makes copies.
    pub fn degrades(&self) -> bool {
        self.noise_snr_db.is_some()
            || self.speed.is_some()
            || self.pitch_semitones.is_some()
            || self.gain_db.is_some()
            || self.reverb_probability > 0.0
            || self.telephone_probability > 0.0
            || self.wideband_probability > 0.0
    }

    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |reason: String| Err(ModelError::Config(format!("training.augment.{reason}")));
        if let Some(span) = self.noise_snr_db {
            span.validate("noise_snr_db", -20.0, 100.0)?;
        }
        if let Some(speed) = self.speed
            && !(0.0..=0.5).contains(&speed)
        {
            return bad(format!("speed must be in [0, 0.5], got {speed}"));
        }
        if let Some(semitones) = self.pitch_semitones
            && !(0.0..=ser_audio::augment::MAX_PITCH_SEMITONES).contains(&semitones)
        {
            return bad(format!(
                "pitch_semitones must be in [0, {}], got {semitones}",
                ser_audio::augment::MAX_PITCH_SEMITONES
            ));
        }
        if let Some(gain) = self.gain_db
            && !(0.0..=40.0).contains(&gain)
        {
            return bad(format!("gain_db must be in [0, 40], got {gain}"));
        }
        for (name, probability) in [
            ("reverb_probability", self.reverb_probability),
            ("telephone_probability", self.telephone_probability),
            ("wideband_probability", self.wideband_probability),
        ] {
            if !(0.0..=1.0).contains(&probability) {
                return bad(format!("{name} must be in [0, 1], got {probability}"));
            }
        }
        if !(0.0..=1.0).contains(&self.mixup_alpha) {
            return bad(format!(
                "mixup_alpha must be in [0, 1] (0 = off), got {}",
                self.mixup_alpha
            ));
        }
        self.crop_fraction.validate("crop_fraction", 0.05, 1.0)?;
        self.reverb_rt60_s.validate("reverb_rt60_s", 0.01, 10.0)
    }
}

/// A fixed value, or a `[low, high]` range drawn from uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Span {
    Fixed(f32),
    Between(f32, f32),
}

impl Span {
    /// The value for a uniform draw `unit` in [0, 1).
    pub fn at(self, unit: f64) -> f32 {
        match self {
            Span::Fixed(value) => value,
            Span::Between(low, high) => low + (high - low) * unit as f32,
        }
    }

    fn validate(self, name: &str, min: f32, max: f32) -> Result<(), ModelError> {
        let (low, high) = match self {
            Span::Fixed(value) => (value, value),
            Span::Between(low, high) => (low, high),
        };
        if low <= high && low >= min && high <= max {
            Ok(())
        } else {
            Err(ModelError::Config(format!(
                "training.augment.{name} must be a value or [low, high] within [{min}, {max}], \
                 got {self:?}"
            )))
        }
    }
}

/// Training options that a run file may hold (command-line flags override some of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub schedule: LrSchedule,
    /// Stop when validation macro-F1 has not improved for this many epochs (0 = never).
    pub patience: usize,
    /// Weight the loss by inverse class frequency of the training split.
    pub class_weighting: bool,
    /// Weight the loss so that every training speaker counts the same, whatever their number
    /// of clips (with `class_weighting`: every speaker's every class). A corpus then counts
    /// by its number of speakers, not of clips: two speakers with 1400 clips each do not
    /// outweigh sixteen with 60 each.
    pub speaker_weighting: bool,
    /// Weight the loss so that every training corpus counts the same, whatever its number of
    /// clips (within a corpus, class and speaker weighting as asked): TESS's 2800 clips of
    /// two voices do not outweigh another corpus's 1000 of twenty.
    pub corpus_weighting: bool,
    /// Label smoothing: every target puts this share on all classes evenly (0 = off).
    pub label_smoothing: f64,
    /// Stochastic weight averaging: the model is the mean of the weights after each of the
    /// last this many epochs, not the last epoch's (0 = off; replaces the best-epoch choice
    /// on validation and early stopping).
    pub average_epochs: usize,
    pub seed: u64,
    pub augment: AugmentConfig,
    /// Temperature scaling fitted on out-of-fold predictions of this many speaker folds of
    /// the training part (that many extra trainings; clips are dealt by speaker when there
    /// are enough speakers). 0 fits it on the validation part, if there is one.
    pub calibration_folds: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 64,
            optimizer: OptimizerKind::Adam,
            learning_rate: 1e-3,
            weight_decay: 0.0,
            schedule: LrSchedule::Constant,
            patience: 8,
            class_weighting: true,
            speaker_weighting: false,
            corpus_weighting: false,
            label_smoothing: 0.0,
            average_epochs: 0,
            seed: 42,
            augment: AugmentConfig::default(),
            calibration_folds: 0,
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.epochs == 0 || self.batch_size == 0 {
            return Err(ModelError::Config(
                "training.epochs and training.batch_size must be >= 1".into(),
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(ModelError::Config(format!(
                "training.learning_rate must be positive, got {}",
                self.learning_rate
            )));
        }
        if self.calibration_folds == 1 {
            return Err(ModelError::Config(
                "training.calibration_folds must be 0 (validation part) or at least 2".into(),
            ));
        }
        if self.average_epochs > self.epochs {
            return Err(ModelError::Config(format!(
                "training.average_epochs ({}) cannot exceed training.epochs ({})",
                self.average_epochs, self.epochs
            )));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(ModelError::Config(format!(
                "training.label_smoothing must be in [0, 1), got {}",
                self.label_smoothing
            )));
        }
        self.augment.validate()
    }
}

/// A whole run file: `[model]`, `[features]` and `[training]` sections, each optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    pub model: ModelConfig,
    pub features: FeatureConfig,
    pub training: TrainConfig,
}

impl RunConfig {
    pub fn from_toml(text: &str) -> Result<Self, ModelError> {
        let config: RunConfig =
            toml::from_str(text).map_err(|error| ModelError::Config(error.to_string()))?;
        config.model.validate()?;
        config.training.validate()?;
        Ok(config)
    }

    pub fn load(path: &std::path::Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text).map_err(|error| match error {
            ModelError::Config(reason) => {
                ModelError::Config(format!("{}: {reason}", path.display()))
            }
            other => other,
        })
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn augmentation_takes_values_or_ranges_and_rejects_nonsense() {
        let run = RunConfig::from_toml(
            "[training.augment]\ncopies = 2\nnoise_snr_db = [5, 30]\nspeed = 0.1\n\
             pitch_semitones = 3\nreverb_probability = 0.5\nreverb_rt60_s = 0.4\n",
        )
        .unwrap();
        let augment = &run.training.augment;
        assert_eq!(augment.noise_snr_db, Some(Span::Between(5.0, 30.0)));
        assert_eq!(augment.reverb_rt60_s, Span::Fixed(0.4));
        assert_eq!(augment.pitch_semitones, Some(3.0));
        assert!(augment.degrades() && !AugmentConfig::default().degrades());
        assert_eq!(augment.crop_fraction, Span::Between(0.5, 0.8));
        assert_eq!(Span::Between(5.0, 30.0).at(0.5), 17.5);
        for bad in [
            "noise_snr_db = [30, 5]",
            "noise_snr_db = nan",
            "speed = 0.9",
            "pitch_semitones = -2",
            "pitch_semitones = 13",
            "gain_db = -3",
            "reverb_probability = 1.5",
            "telephone_probability = -0.1",
            "wideband_probability = 2",
            "reverb_rt60_s = [0.0, 0.5]",
            "crop_fraction = [0.5, 1.2]",
            "crop_fraction = 0",
        ] {
            let error = RunConfig::from_toml(&format!("[training.augment]\n{bad}\n")).unwrap_err();
            assert!(
                error.to_string().contains("training.augment."),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn label_smoothing_is_a_share_below_one() {
        let run = RunConfig::from_toml("[training]\nlabel_smoothing = 0.1\n").unwrap();
        assert_eq!(run.training.label_smoothing, 0.1);
        for bad in ["-0.1", "1.0", "nan"] {
            let error = RunConfig::from_toml(&format!("[training]\nlabel_smoothing = {bad}\n"))
                .unwrap_err();
            assert!(
                error.to_string().contains("training.label_smoothing"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn mlp_input_is_the_statistics_of_the_clips_own_frames() {
        let mut config = ModelConfig::for_architecture(Architecture::Mlp);
        config.mlp.statistics = vec![Statistic::Mean, Statistic::Max, Statistic::Percentile(50)];
        let clip = FeatureMatrix::new(2, 3, vec![1.0, 2.0, 6.0, -1.0, -1.0, -1.0]);
        let input = config.network_input(&clip);
        assert_eq!((input.n_features, input.n_frames), (6, 1));
        assert_eq!(input.data, vec![3.0, 6.0, 2.0, -1.0, -1.0, -1.0]);
        assert_eq!(config.input_features(2), 6);
        assert_eq!(config.input_frames(), 1);
        // However long the clip, no padding enters the statistics.
        config.frames = 128;
        assert_eq!(config.network_input(&clip).data, input.data);

        let frame_level = ModelConfig::for_architecture(Architecture::Cnn1d);
        assert_eq!(frame_level.network_input(&clip).as_ref(), &clip);
        assert_eq!(frame_level.input_frames(), 128);
        assert_eq!(
            frame_level.describe_input(),
            "128 frames (cropped or padded)"
        );
        assert_eq!(
            config.describe_input(),
            "mean, max, p50 of every feature over the clip's own frames"
        );
        assert_eq!(frame_level.describe_network(), "cnn1d");
        assert_eq!(config.describe_network(), "mlp, hidden layers 256, 128");
        config.mlp.hidden.clear();
        assert_eq!(
            config.describe_network(),
            "mlp without hidden layers (a linear classifier)"
        );
    }

    #[test]
    fn mlp_statistics_are_read_by_label() {
        let run = RunConfig::from_toml(
            "[model]\narchitecture = \"mlp\"\n[model.mlp]\nstatistics = [\"mean\", \"p90\"]\n",
        )
        .unwrap();
        assert_eq!(
            run.model.mlp.statistics,
            vec![Statistic::Mean, Statistic::Percentile(90)]
        );
        assert!(
            RunConfig::from_toml("[model]\narchitecture = \"mlp\"\n[model.mlp]\nstatistics = []\n")
                .is_err()
        );
    }
}
