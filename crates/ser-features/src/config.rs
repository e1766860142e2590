use serde::{Deserialize, Serialize};
use ser_audio::PreprocessConfig;

/// A complete, serialisable description of one feature extraction: audio preprocessing plus
/// every analysis parameter. Stored in model bundles so inference can never use features
/// different from training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    pub audio: PreprocessConfig,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            audio: PreprocessConfig::default(),
        }
    }
}
