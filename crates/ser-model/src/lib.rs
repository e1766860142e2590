//! Deep-learning models, training and model bundles for ser (burn).
//!
//! Every network takes normalised feature matrices `[batch, n_features, frames]` and is
//! chosen by a TOML [`RunConfig`]. [`fit`] trains on in-memory features, [`train`] goes from a
//! corpus of raw audio to a [`Classifier`] bundle file in one call.

mod bench;
mod bundle;
mod calibration;
mod checkpoint;
mod classifier;
mod config;
mod error;
mod fit;
mod nets;
mod normalizer;
mod record_check;
mod rng;
mod step;
mod summary;
mod train;

pub use bench::{StepTiming, keras_reference_config, time_training_step};
pub use bundle::{
    BUNDLE_FORMAT_VERSION, BundleInfo, BundleMetrics, ENSEMBLE_FORMAT_VERSION, EnsembleInfo,
    LoneClipSubstitute, ModelCard, ProtocolFigures, TrainingData, Versions, ensemble_bundle,
    ensemble_members, with_card, with_info, write_atomically,
};
pub use calibration::{
    Calibration, PROBABILITY_FLOOR, fit_temperature, geometric_mean, log_probabilities, mean_nll,
    retemper, softmax_with_temperature,
};
pub use classifier::{Classifier, ClipFeatures};
pub use config::{
    Architecture, AugmentConfig, ConvConfig, CrnnConfig, DenseConfig, LrSchedule, ModelConfig,
    OptimizerKind, RecurrentConfig, RunConfig, Span, SpeakerNormalization, TrainConfig,
};
pub use error::ModelError;
pub use fit::{
    BUNDLE_FILE, CHECKPOINT_FILE, EpochRecord, FitSetup, LabelledFeatures, METRICS_FILE,
    SilentProgress, TrainOutcome, TrainProgress, fit, fit_calibration,
};
pub use normalizer::{Normalizer, SpeakerPrior, VoiceProfile, group_indices};
pub use summary::{LayerSummary, ModelSummary, summarize};
pub use train::{SPLIT_FILE, SplitSpec, TrainOptions, train};
