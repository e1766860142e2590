//! Deterministic train/validation/test splits over a corpus' clips.
//!
//! Every split is a pure function of the clip list and a seed: the shuffles use a small
//! self-contained generator (SplitMix64), so a seed gives the same split on every machine and
//! with every dependency version. Index lists are sorted ascending. Validation clips are
//! always carved out of the training part, stratified by emotion, with `validation_fraction`
//! being the share *of the training part* (0 gives no validation set).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Clip, Corpus, DataError, write_atomically};

/// One split of a clip list, as indices into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
    pub test: Vec<usize>,
    /// How the split was made (kind, fractions, seed), for logs and reports.
    pub description: String,
}

/// The saved form of a split: clip paths instead of indices, so it stays meaningful when
/// read back against a reloaded corpus.
#[derive(Serialize, Deserialize)]
struct SplitFile {
    description: String,
    train: Vec<PathBuf>,
    validation: Vec<PathBuf>,
    test: Vec<PathBuf>,
}

impl Split {
    /// Writes the split as JSON listing the clip paths of each part.
    pub fn save(&self, clips: &[Clip], path: &Path) -> Result<(), DataError> {
        let paths_of = |indices: &[usize]| -> Result<Vec<PathBuf>, DataError> {
            indices
                .iter()
                .map(|&index| {
                    clips
                        .get(index)
                        .map(|clip| clip.path.clone())
                        .ok_or_else(|| {
                            DataError::InvalidSplit(format!(
                                "index {index} is out of range for {} clips",
                                clips.len()
                            ))
                        })
                })
                .collect()
        };
        let file = SplitFile {
            description: self.description.clone(),
            train: paths_of(&self.train)?,
            validation: paths_of(&self.validation)?,
            test: paths_of(&self.test)?,
        };
        let json = serde_json::to_vec_pretty(&file).map_err(|source| DataError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        write_atomically(path, &json)
    }

    /// Reads a split saved by [`Split::save`] and maps its paths back onto `clips`.
    pub fn load(clips: &[Clip], path: &Path) -> Result<Split, DataError> {
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        let file: SplitFile = serde_json::from_slice(&bytes).map_err(|source| DataError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let index_of: HashMap<&Path, usize> = clips
            .iter()
            .enumerate()
            .map(|(index, clip)| (clip.path.as_path(), index))
            .collect();
        let indices_of = |paths: &[PathBuf]| -> Result<Vec<usize>, DataError> {
            paths
                .iter()
                .map(|clip_path| {
                    index_of.get(clip_path.as_path()).copied().ok_or_else(|| {
                        DataError::InvalidFile {
                            path: path.to_path_buf(),
                            reason: format!(
                                "the split lists {}, which is not among the corpus' clips",
                                clip_path.display()
                            ),
                        }
                    })
                })
                .collect()
        };
        Ok(Split {
            train: indices_of(&file.train)?,
            validation: indices_of(&file.validation)?,
            test: indices_of(&file.test)?,
            description: file.description,
        })
    }
}

/// Random split stratified by emotion: each emotion contributes `test_fraction` of its clips
/// to the test set, then `validation_fraction` of the rest to validation. Fractions are
/// clamped to [0, 1].
pub fn stratified_split(
    clips: &[Clip],
    test_fraction: f64,
    validation_fraction: f64,
    seed: u64,
) -> Split {
    let mut rng = SplitMix64::new(seed);
    let mut test = Vec::new();
    let mut pool = Vec::new();
    for mut group in groups_by_emotion(clips, 0..clips.len()) {
        rng.shuffle(&mut group);
        let n_test = share(group.len(), test_fraction);
        test.extend_from_slice(&group[..n_test]);
        pool.extend_from_slice(&group[n_test..]);
    }
    let (train, validation) = carve_validation(clips, pool, validation_fraction, &mut rng);
    Split {
        train,
        validation,
        test: sorted(test),
        description: format!(
            "stratified random split: test {}, validation {} of the rest, seed {seed}",
            percent(test_fraction),
            percent(validation_fraction)
        ),
    }
}

/// Speaker-independent split: every clip of `test_speakers` is test, the other speakers
/// train (with a stratified random validation share). For TESS, `["YAF"]` trains on OAF and
/// tests on YAF.
pub fn speaker_split(
    clips: &[Clip],
    test_speakers: &[String],
    validation_fraction: f64,
    seed: u64,
) -> Result<Split, DataError> {
    let speakers: HashSet<&str> = clips.iter().map(|c| c.speaker.as_str()).collect();
    if test_speakers.is_empty() {
        return Err(DataError::InvalidSplit("no test speaker given".into()));
    }
    if let Some(missing) = test_speakers
        .iter()
        .find(|s| !speakers.contains(s.as_str()))
    {
        let mut known: Vec<&str> = speakers.into_iter().collect();
        known.sort();
        return Err(DataError::InvalidSplit(format!(
            "speaker '{missing}' has no clips (speakers: {})",
            known.join(", ")
        )));
    }
    let (test, pool): (Vec<usize>, Vec<usize>) =
        (0..clips.len()).partition(|&i| test_speakers.contains(&clips[i].speaker));
    if pool.is_empty() {
        return Err(DataError::InvalidSplit(
            "every speaker is a test speaker: nothing left to train on".into(),
        ));
    }
    let mut rng = SplitMix64::new(seed);
    let (train, validation) = carve_validation(clips, pool, validation_fraction, &mut rng);
    Ok(Split {
        train,
        validation,
        test,
        description: format!(
            "speaker-independent split: test speakers {}, validation {} of the rest, seed {seed}",
            test_speakers.join(", "),
            percent(validation_fraction)
        ),
    })
}

/// Leave-one-speaker-out: one [`speaker_split`] per speaker, in sorted speaker order.
pub fn leave_one_speaker_out(
    clips: &[Clip],
    validation_fraction: f64,
    seed: u64,
) -> Result<Vec<Split>, DataError> {
    let mut speakers: Vec<String> = clips.iter().map(|c| c.speaker.clone()).collect();
    speakers.sort();
    speakers.dedup();
    if speakers.len() < 2 {
        return Err(DataError::InvalidSplit(format!(
            "leave-one-speaker-out needs at least two speakers, found {}",
            speakers.len()
        )));
    }
    speakers
        .iter()
        .map(|speaker| {
            speaker_split(
                clips,
                std::slice::from_ref(speaker),
                validation_fraction,
                seed,
            )
        })
        .collect()
}

/// Stratified k-fold: each emotion's clips are dealt round-robin onto `k` folds after a
/// seeded shuffle; split `f` tests on fold `f` and trains on the others.
pub fn stratified_kfold(
    clips: &[Clip],
    k: usize,
    validation_fraction: f64,
    seed: u64,
) -> Result<Vec<Split>, DataError> {
    if k < 2 || k > clips.len() {
        return Err(DataError::InvalidSplit(format!(
            "k-fold needs 2 <= k <= number of clips ({}), got k = {k}",
            clips.len()
        )));
    }
    let mut rng = SplitMix64::new(seed);
    let mut fold_of = vec![0; clips.len()];
    // Continuing the round-robin across emotions keeps fold sizes within one clip.
    let mut next_fold = 0;
    for mut group in groups_by_emotion(clips, 0..clips.len()) {
        rng.shuffle(&mut group);
        for index in group {
            fold_of[index] = next_fold;
            next_fold = (next_fold + 1) % k;
        }
    }
    let splits = (0..k)
        .map(|fold| {
            let (test, pool): (Vec<usize>, Vec<usize>) =
                (0..clips.len()).partition(|&i| fold_of[i] == fold);
            let (train, validation) = carve_validation(clips, pool, validation_fraction, &mut rng);
            Split {
                train,
                validation,
                test,
                description: format!(
                    "stratified {k}-fold, fold {}/{k}, validation {} of the rest, seed {seed}",
                    fold + 1,
                    percent(validation_fraction)
                ),
            }
        })
        .collect();
    Ok(splits)
}

/// Train on one corpus, test on another: returns the clips of both (training corpus first)
/// and a split over that combined list.
pub fn cross_corpus_split(
    train_corpus: &Corpus,
    test_corpus: &Corpus,
    validation_fraction: f64,
    seed: u64,
) -> (Vec<Clip>, Split) {
    let clips: Vec<Clip> = train_corpus
        .clips
        .iter()
        .chain(&test_corpus.clips)
        .cloned()
        .collect();
    let n_train = train_corpus.clips.len();
    let mut rng = SplitMix64::new(seed);
    let (train, validation) = carve_validation(
        &clips,
        (0..n_train).collect(),
        validation_fraction,
        &mut rng,
    );
    let split = Split {
        train,
        validation,
        test: (n_train..clips.len()).collect(),
        description: format!(
            "cross-corpus: train on {}, test on {}, validation {} of the training corpus, seed {seed}",
            train_corpus.name,
            test_corpus.name,
            percent(validation_fraction)
        ),
    };
    (clips, split)
}

/// Moves a stratified `fraction` of `pool` into validation; returns (train, validation).
fn carve_validation(
    clips: &[Clip],
    pool: Vec<usize>,
    fraction: f64,
    rng: &mut SplitMix64,
) -> (Vec<usize>, Vec<usize>) {
    let mut train = Vec::new();
    let mut validation = Vec::new();
    for mut group in groups_by_emotion(clips, pool) {
        rng.shuffle(&mut group);
        let n_validation = share(group.len(), fraction);
        validation.extend_from_slice(&group[..n_validation]);
        train.extend_from_slice(&group[n_validation..]);
    }
    (sorted(train), sorted(validation))
}

/// The given indices grouped by emotion, in [`crate::Emotion::ALL`] order, each ascending.
fn groups_by_emotion(clips: &[Clip], indices: impl IntoIterator<Item = usize>) -> Vec<Vec<usize>> {
    let mut groups = vec![Vec::new(); crate::Emotion::ALL.len()];
    for index in indices {
        groups[clips[index].emotion.index()].push(index);
    }
    groups
}

/// How many of `n` items make up `fraction` of them (rounded, fraction clamped to [0, 1]).
fn share(n: usize, fraction: f64) -> usize {
    let fraction = if fraction.is_nan() {
        0.0
    } else {
        fraction.clamp(0.0, 1.0)
    };
    ((n as f64 * fraction).round() as usize).min(n)
}

fn percent(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

fn sorted(mut indices: Vec<usize>) -> Vec<usize> {
    indices.sort_unstable();
    indices
}

/// SplitMix64 (Steele et al. 2014): tiny, well mixed, and fixed forever, unlike library
/// generators whose streams may change between versions.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is below 2^-40 for corpus sizes).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Fisher-Yates shuffle.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}
