//! A CSV manifest for any other corpus: a header row with `path` and `label` columns, and
//! optionally `speaker`, `text` and `corpus` (other columns are ignored). Relative paths are
//! resolved against the manifest's folder; labels are emotion names ([`Emotion::parse`]).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::unmappable;
use crate::{Clip, DataError, Emotion, UnmappedClip};

/// Speaker name for manifest rows that do not say.
pub const UNKNOWN_SPEAKER: &str = "unknown";

/// File name looked for when a manifest *folder* is given.
const MANIFEST_FILE_NAME: &str = "manifest.csv";

#[derive(Deserialize)]
struct Row {
    path: PathBuf,
    label: String,
    #[serde(default)]
    speaker: Option<String>,
    #[serde(default)]
    text: Option<String>,
    /// The corpus a row comes from, for manifests that join several (default `manifest`).
    #[serde(default)]
    corpus: Option<String>,
}

pub(super) fn load(manifest: &Path) -> Result<(Vec<Clip>, Vec<UnmappedClip>), DataError> {
    let manifest = if manifest.is_dir() {
        manifest.join(MANIFEST_FILE_NAME)
    } else {
        manifest.to_path_buf()
    };
    let csv_error = |source| DataError::Csv {
        path: manifest.clone(),
        source,
    };
    let base = manifest.parent().unwrap_or(Path::new(""));
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(&manifest)
        .map_err(csv_error)?;
    let mut clips = Vec::new();
    let mut unmapped = Vec::new();
    for row in reader.deserialize::<Row>() {
        let row = row.map_err(csv_error)?;
        let path = base.join(&row.path);
        match Emotion::parse(&row.label) {
            Ok(emotion) => clips.push(Clip {
                path,
                speaker: row
                    .speaker
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| UNKNOWN_SPEAKER.to_string()),
                emotion,
                text: row.text.filter(|t| !t.is_empty()),
                // Empty unless the row says: `load_corpus` names the rest by the kind.
                corpus: row.corpus.unwrap_or_default(),
            }),
            Err(error) => unmapped.push(unmappable(&path, &row.label, error)),
        }
    }
    Ok((clips, unmapped))
}
