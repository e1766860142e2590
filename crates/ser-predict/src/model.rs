use ser_audio::Audio;
use ser_model::VoiceProfile;

/// A model's own error, kept whole so its message and source chain reach the user.
pub type ModelFailure = Box<dyn std::error::Error + Send + Sync>;

/// What prediction needs from a classifier. `Send + Sync` because one model is shared by every
/// worker thread and every HTTP request.
pub trait EmotionModel: Send + Sync {
    /// Class names, in the order of every probability vector the model returns.
    fn labels(&self) -> &[String];

    /// One probability vector (summing to 1, in [`labels`](Self::labels) order) per clip.
    /// The clips are of one speaker (e.g. the segments of one recording).
    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Vec<f32>>, ModelFailure>;

    /// What clips of one speaker say about their voice, for a model that normalises
    /// speakers (`None` for one that does not; then the speaker grouping of a batch changes
    /// nothing and needs no second pass).
    fn voice_profile(&self, _clips: &[Audio]) -> Result<Option<VoiceProfile>, ModelFailure> {
        Ok(None)
    }

    /// Whether the model centres every speaker on their own voice, so that which clips are
    /// given together as one speaker changes its predictions.
    fn normalizes_speakers(&self) -> bool {
        false
    }

    /// [`predict_batch`](Self::predict_batch) for clips of a speaker whose voice is known
    /// from `voice` (e.g. all of their recordings) rather than from these clips alone.
    fn predict_batch_in_voice(
        &self,
        clips: &[Audio],
        _voice: &VoiceProfile,
    ) -> Result<Vec<Vec<f32>>, ModelFailure> {
        self.predict_batch(clips)
    }

    /// A JSON description of the model (architecture, training facts, labels) for
    /// `GET /v1/model` and the command line.
    fn info_json(&self) -> serde_json::Value;
}

impl EmotionModel for ser_model::Classifier {
    fn labels(&self) -> &[String] {
        ser_model::Classifier::labels(self)
    }

    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Vec<f32>>, ModelFailure> {
        ser_model::Classifier::predict_batch(self, clips).map_err(Into::into)
    }

    fn normalizes_speakers(&self) -> bool {
        ser_model::Classifier::normalizes_speakers(self)
    }

    fn voice_profile(&self, clips: &[Audio]) -> Result<Option<VoiceProfile>, ModelFailure> {
        if !ser_model::Classifier::normalizes_speakers(self) {
            return Ok(None);
        }
        Ok(Some(ser_model::Classifier::voice_profile(self, clips)?))
    }

    fn predict_batch_in_voice(
        &self,
        clips: &[Audio],
        voice: &VoiceProfile,
    ) -> Result<Vec<Vec<f32>>, ModelFailure> {
        ser_model::Classifier::predict_batch_in_voice(self, clips, voice).map_err(Into::into)
    }

    fn info_json(&self) -> serde_json::Value {
        ser_model::Classifier::describe_json(self).unwrap_or_else(
            |e| serde_json::json!({ "error": format!("cannot describe the model: {e}") }),
        )
    }
}

/// The model built into the binary: the default bundle, retrained by
/// `tools/train_default_model.sh`. This is the single place where it is embedded.
pub const DEFAULT_MODEL_BUNDLE: &[u8] = include_bytes!("../../../models/default.serb");

/// Environment variable naming a model bundle to use when none is given explicitly.
pub const MODEL_ENV: &str = "SER_MODEL";

/// Loads the model to predict with: `explicit` (`--model`), else `$SER_MODEL`, else the
/// embedded default.
pub fn load_model(
    explicit: Option<&std::path::Path>,
) -> Result<ser_model::Classifier, ser_model::ModelError> {
    let from_env = std::env::var_os(MODEL_ENV).map(std::path::PathBuf::from);
    match explicit.map(std::path::Path::to_path_buf).or(from_env) {
        Some(path) => ser_model::Classifier::load(&path),
        None => ser_model::Classifier::from_bundle_bytes(DEFAULT_MODEL_BUNDLE),
    }
}
