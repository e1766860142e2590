//! Several corpora at once: `KIND[=PATH]` sources, loaded and joined into one clip list.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Corpus, CorpusKind, default_data_dir, default_tess_dir, load_corpus};
use crate::DataError;

/// One corpus to load: its kind and folder (or manifest). Written `KIND` or `KIND=PATH` on
/// the command line; without a path, TESS is `default_tess_dir()` and every other kind
/// `default_data_dir()/<kind>` (e.g. `$SER_DATA_DIR/ravdess`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusSource {
    pub kind: CorpusKind,
    /// Folder or manifest; `None` means the default location of `kind`.
    #[serde(default, rename = "data")]
    pub path: Option<PathBuf>,
}

impl CorpusSource {
    pub fn new(kind: CorpusKind, path: Option<PathBuf>) -> Self {
        Self { kind, path }
    }

    /// The folder (or manifest) to read.
    pub fn resolved_path(&self) -> PathBuf {
        match (&self.path, self.kind) {
            (Some(path), _) => path.clone(),
            (None, CorpusKind::Tess) => default_tess_dir(),
            (None, kind) => default_data_dir().join(kind.as_str()),
        }
    }

    /// Makes a relative path relative to `base` (the folder of the file that named it).
    pub fn resolve_against(&mut self, base: &Path) {
        if let Some(path) = self.path.as_mut().filter(|path| path.is_relative()) {
            *path = base.join(&*path);
        }
    }

    pub fn load(&self) -> Result<Corpus, DataError> {
        load_corpus(self.kind, &self.resolved_path())
    }
}

impl std::str::FromStr for CorpusSource {
    type Err = DataError;

    /// `tess`, `ravdess=/data/ravdess`, `manifest=extra.csv`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, path) = match text.split_once('=') {
            Some((kind, path)) if !path.is_empty() => (kind, Some(PathBuf::from(path))),
            Some((kind, _)) => (kind, None),
            None => (text, None),
        };
        Ok(Self::new(kind.parse()?, path))
    }
}

impl std::fmt::Display for CorpusSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}={}", self.kind, path.display()),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// Loads every source and joins them into one corpus named `a+b+...`: clips in source order,
/// each keeping its corpus' speaker names. The same speaker name in two corpora is refused,
/// since speaker-independent splits and per-speaker statistics would merge two people.
pub fn load_corpora(sources: &[CorpusSource]) -> Result<Corpus, DataError> {
    let mut joined = Corpus {
        name: String::new(),
        clips: Vec::new(),
        unmapped: Vec::new(),
    };
    let mut speakers_so_far: Vec<(String, String)> = Vec::new();
    for source in sources {
        let corpus = source.load()?;
        let speakers = corpus.speakers();
        if let Some((speaker, other)) = speakers.iter().find_map(|speaker| {
            speakers_so_far
                .iter()
                .find(|(known, _)| known == speaker)
                .map(|(_, corpus)| (speaker, corpus))
        }) {
            return Err(DataError::InvalidSplit(format!(
                "speaker '{speaker}' appears in both {other} and {}: give the corpora distinct \
                 speaker names (e.g. a manifest's speaker column)",
                corpus.name
            )));
        }
        speakers_so_far.extend(speakers.into_iter().map(|s| (s, corpus.name.clone())));
        if !joined.name.is_empty() {
            joined.name.push('+');
        }
        joined.name.push_str(&corpus.name);
        joined.clips.extend(corpus.clips);
        joined.unmapped.extend(corpus.unmapped);
    }
    if sources.is_empty() {
        return Err(DataError::InvalidSplit("no corpus given".into()));
    }
    Ok(joined)
}
