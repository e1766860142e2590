//! Corpora, emotion taxonomy, splits and feature cache for ser.

mod emotion;

pub use emotion::Emotion;

use std::path::PathBuf;

/// One labelled recording of a corpus.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Clip {
    pub path: PathBuf,
    pub speaker: String,
    pub emotion: Emotion,
    /// Spoken text or target word, where the corpus says it.
    pub text: Option<String>,
}
