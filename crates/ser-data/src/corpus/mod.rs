//! Corpus loaders: each one turns a folder (or a CSV manifest) into labelled [`Clip`]s by the
//! corpus' published naming scheme, mapping labels onto the seven TESS emotions.

mod crema_d;
mod emodb;
mod manifest;
mod named_files;
mod ravdess;
mod savee;
mod sources;
mod tess;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use manifest::UNKNOWN_SPEAKER;
pub use sources::{CorpusSource, load_corpora};

use crate::{Clip, DataError, Emotion};

/// A loaded corpus: the clips it could label, and the ones it could not (with the reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Corpus {
    pub name: String,
    pub clips: Vec<Clip>,
    pub unmapped: Vec<UnmappedClip>,
}

/// An audio file the loader found but could not label with one of the seven emotions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnmappedClip {
    pub path: PathBuf,
    /// The label as the corpus gives it (empty when the name could not be parsed at all).
    pub label: String,
    pub reason: String,
}

/// The supported corpora.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CorpusKind {
    Tess,
    Ravdess,
    CremaD,
    Savee,
    EmoDb,
    /// A CSV file with columns `path`, `label` and optionally `speaker` and `text`.
    Manifest,
}

impl CorpusKind {
    pub const ALL: [CorpusKind; 6] = [
        CorpusKind::Tess,
        CorpusKind::Ravdess,
        CorpusKind::CremaD,
        CorpusKind::Savee,
        CorpusKind::EmoDb,
        CorpusKind::Manifest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CorpusKind::Tess => "tess",
            CorpusKind::Ravdess => "ravdess",
            CorpusKind::CremaD => "crema-d",
            CorpusKind::Savee => "savee",
            CorpusKind::EmoDb => "emodb",
            CorpusKind::Manifest => "manifest",
        }
    }
}

impl std::fmt::Display for CorpusKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CorpusKind {
    type Err = DataError;

    /// Case-insensitive; `-` and `_` are optional (`crema-d`, `cremad`, `EmoDB`, `emo_db`).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let squashed: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .collect::<String>()
            .to_lowercase();
        CorpusKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().replace('-', "") == squashed)
            .ok_or_else(|| DataError::UnknownCorpus(name.to_string()))
    }
}

impl Corpus {
    /// Distinct speakers, sorted.
    pub fn speakers(&self) -> Vec<String> {
        let mut speakers: Vec<String> = self.clips.iter().map(|c| c.speaker.clone()).collect();
        speakers.sort();
        speakers.dedup();
        speakers
    }

    /// Number of clips per emotion, in [`Emotion::ALL`] order.
    pub fn emotion_counts(&self) -> [usize; 7] {
        let mut counts = [0; 7];
        for clip in &self.clips {
            counts[clip.emotion.index()] += 1;
        }
        counts
    }
}

/// Loads a corpus from `root`: the corpus folder (searched recursively), or for
/// [`CorpusKind::Manifest`] the CSV file (or a folder holding `manifest.csv`). Clips of
/// folder corpora are sorted by path and manifest clips keep the manifest's order, so the
/// order, and with it every seeded split, is the same on every machine.
pub fn load_corpus(kind: CorpusKind, root: &Path) -> Result<Corpus, DataError> {
    let (mut clips, unmapped) = match kind {
        CorpusKind::Manifest => manifest::load(root)?,
        CorpusKind::Tess => named_files::load(root, tess::parse)?,
        CorpusKind::Ravdess => named_files::load(root, ravdess::parse)?,
        CorpusKind::CremaD => named_files::load(root, crema_d::parse)?,
        CorpusKind::Savee => named_files::load(root, savee::parse)?,
        CorpusKind::EmoDb => named_files::load(root, emodb::parse)?,
    };
    if clips.is_empty() && unmapped.is_empty() {
        return Err(DataError::NoClips {
            path: root.to_path_buf(),
        });
    }
    // A clip whose loader did not name its corpus (a manifest row may) is of this kind.
    for clip in clips.iter_mut().filter(|clip| clip.corpus.is_empty()) {
        clip.corpus = kind.as_str().to_string();
    }
    Ok(Corpus {
        name: kind.as_str().to_string(),
        clips,
        unmapped,
    })
}

/// The folder holding the project's data (`tess/`, `tess-wav-sample/`):
/// `$SER_DATA_DIR` if set, else the first `shared/data` folder found next to an ancestor of
/// the current directory or of the executable (the repository lives beside `shared/`),
/// else `../shared/data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SER_DATA_DIR") {
        return PathBuf::from(dir);
    }
    let current_dir = std::env::current_dir().ok();
    let executable_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    current_dir
        .iter()
        .chain(executable_dir.iter())
        .flat_map(|start| start.ancestors())
        .map(|ancestor| ancestor.join("shared").join("data"))
        .find(|candidate| candidate.is_dir())
        .unwrap_or_else(|| PathBuf::from("../shared/data"))
}

/// The TESS folder: `$SER_TESS_DIR` if set, else `default_data_dir()/tess`.
pub fn default_tess_dir() -> PathBuf {
    std::env::var_os("SER_TESS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| default_data_dir().join("tess"))
}

/// The file stem (name without extension) as UTF-8, or `None` for non-UTF-8 names.
fn file_stem(path: &Path) -> Option<&str> {
    path.file_stem().and_then(|stem| stem.to_str())
}

/// An [`UnmappedClip`] for a file whose name does not follow the corpus' scheme.
fn misnamed(path: &Path, scheme: &str) -> UnmappedClip {
    UnmappedClip {
        path: path.to_path_buf(),
        label: String::new(),
        reason: format!("file name does not follow the {scheme} naming scheme"),
    }
}

/// An [`UnmappedClip`] for a label the taxonomy cannot place.
fn unmappable(path: &Path, label: &str, error: crate::LabelError) -> UnmappedClip {
    UnmappedClip {
        path: path.to_path_buf(),
        label: label.to_string(),
        reason: error.to_string(),
    }
}

/// Result of parsing one file name: a labelled clip or the reason it has no label.
type Parsed = Result<Clip, UnmappedClip>;

fn clip(path: &Path, speaker: impl Into<String>, emotion: Emotion, text: Option<String>) -> Clip {
    Clip {
        path: path.to_path_buf(),
        speaker: speaker.into(),
        emotion,
        text,
        corpus: String::new(),
    }
}
