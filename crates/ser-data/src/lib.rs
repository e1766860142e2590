//! Corpora, emotion taxonomy, splits and feature cache for ser.
//!
//! - [`load_corpus`] reads TESS, RAVDESS, CREMA-D, SAVEE, EmoDB or a CSV manifest into
//!   [`Clip`]s labelled with the seven TESS [`Emotion`]s; clips whose label has no
//!   counterpart are listed in [`Corpus::unmapped`]; [`load_corpora`] joins several
//!   [`CorpusSource`]s (`KIND[=PATH]`) into one.
//! - [`stratified_split`], [`speaker_split`], [`leave_one_speaker_out`],
//!   [`stratified_kfold`] and [`cross_corpus_split`] make deterministic, seeded [`Split`]s.
//! - [`FeatureCache`] and [`extract_features`] compute features in parallel, once; clips
//!   that cannot be read are skipped and listed ([`SkippedClip`]).

mod cache;
mod corpus;
mod emotion;
mod error;
mod split;

pub use cache::{
    ExtractedFeatures, FeatureCache, SkippedClip, extract_features, extract_features_with,
};
pub use corpus::{
    Corpus, CorpusKind, CorpusSource, UNKNOWN_SPEAKER, UnmappedClip, default_data_dir,
    default_tess_dir, load_corpora, load_corpus,
};
pub use emotion::{Emotion, LabelError};
pub use error::DataError;
pub use split::{
    Split, cross_corpus_split, leave_one_speaker_out, speaker_split, stratified_kfold,
    stratified_split,
};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// One labelled recording of a corpus.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Clip {
    pub path: PathBuf,
    pub speaker: String,
    pub emotion: Emotion,
    /// Spoken text or target word, where the corpus says it.
    pub text: Option<String>,
    /// The kind of corpus it was loaded from (`tess`, `ravdess`, `manifest`, ...), so that
    /// clips of several corpora joined into one list can still be told apart.
    #[serde(default)]
    pub corpus: String,
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so
/// readers (and concurrent writers of the same content) never see a partial file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    static NEXT_TEMP_ID: AtomicU64 = AtomicU64::new(0);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
    }
    let mut temp_name = path.as_os_str().to_owned();
    temp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        NEXT_TEMP_ID.fetch_add(1, Ordering::Relaxed)
    ));
    let temp = PathBuf::from(temp_name);
    let result = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, path));
    result.map_err(|e| {
        // Best effort: the temporary file is garbage whether or not removal works.
        let _ = std::fs::remove_file(&temp);
        DataError::io(path, e)
    })
}
