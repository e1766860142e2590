//! Per-feature standardisation fitted on the training split, optionally after centring every
//! speaker on their own mean, and fixed-length model input.

use ser_features::FeatureMatrix;
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Mean and standard deviation of every feature row over all training frames, and with speaker
/// normalisation the prior for a speaker's mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// Set when the model was trained on speaker-centred input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_prior: Option<SpeakerPrior>,
}

/// The average training speaker: what a speaker's mean is estimated from when few of their
/// clips are at hand. With `n` clips of a speaker whose clip means average to `m`, their mean
/// is `(n * m + clips * mean) / (n + clips)`: one short clip is centred mostly on the average
/// speaker, a speaker's whole session on their own voice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeakerPrior {
    /// Mean over training speakers of each speaker's mean network input.
    pub mean: Vec<f32>,
    /// Weight of `mean`, in clips.
    pub clips: f32,
}

/// A speaker's voice as seen in some of their clips: the sum of the clips' mean network
/// inputs and their number. Profiles of several recordings of one speaker add up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VoiceProfile {
    sums: Vec<f64>,
    clips: usize,
}

impl VoiceProfile {
    /// Clips seen.
    pub fn clips(&self) -> usize {
        self.clips
    }

    /// Adds the clips of `other` (another recording of the same speaker).
    pub fn merge(&mut self, other: &VoiceProfile) {
        if self.sums.is_empty() {
            self.sums = vec![0.0; other.sums.len()];
        }
        for (sum, add) in self.sums.iter_mut().zip(&other.sums) {
            *sum += add;
        }
        self.clips += other.clips;
    }

    fn add_clip(&mut self, matrix: &FeatureMatrix) {
        // A clip without frames says nothing about the voice.
        if matrix.n_frames == 0 {
            return;
        }
        if self.sums.is_empty() {
            self.sums = vec![0.0; matrix.n_features];
        }
        for (feature, sum) in self.sums.iter_mut().enumerate() {
            *sum += row_mean(matrix.row(feature));
        }
        self.clips += 1;
    }
}

/// Standard deviations below this count as constant features (left unscaled).
const MIN_STD: f64 = 1e-8;

/// Dense group indices (0, 1, ...) for per-clip keys such as speaker names: clips with equal
/// keys share an index.
pub fn group_indices<K: Eq + std::hash::Hash>(keys: impl IntoIterator<Item = K>) -> Vec<usize> {
    let mut seen = std::collections::HashMap::new();
    keys.into_iter()
        .map(|key| {
            let next = seen.len();
            *seen.entry(key).or_insert(next)
        })
        .collect()
}

impl Normalizer {
    /// Fit on the given (training) matrices; all must have the same number of features.
    /// `speakers` gives each matrix's speaker (see [`group_indices`]); with
    /// `speaker_prior_clips`, every speaker is centred on their own mean before the
    /// standardisation is fitted, and the prior for unseen speakers is kept.
    pub fn fit(
        matrices: &[&FeatureMatrix],
        speakers: &[usize],
        speaker_prior_clips: Option<f32>,
    ) -> Result<Self, ModelError> {
        let n_features = matrices.first().map_or(0, |matrix| matrix.n_features);
        if let Some(matrix) = matrices.iter().find(|m| m.n_features != n_features) {
            return Err(ModelError::InputShape {
                found: matrix.n_features,
                expected: n_features,
            });
        }
        if speakers.len() != matrices.len() {
            return Err(ModelError::Training(format!(
                "{} speakers given for {} training examples",
                speakers.len(),
                matrices.len()
            )));
        }
        let speaker_prior = speaker_prior_clips.map(|clips| SpeakerPrior {
            mean: mean_of_group_means(matrices, speakers, n_features),
            clips,
        });
        let mut normalizer = Self {
            mean: vec![0.0; n_features],
            std: vec![1.0; n_features],
            speaker_prior,
        };
        let centres = normalizer.speaker_centres(matrices, speakers)?;
        let mut sums = vec![0.0f64; n_features];
        let mut squares = vec![0.0f64; n_features];
        let mut frames = 0usize;
        for (matrix, &speaker) in matrices.iter().zip(speakers) {
            for (feature, (sum, square)) in sums.iter_mut().zip(&mut squares).enumerate() {
                let centre = centres.as_ref().map_or(0.0, |c| c[speaker][feature]);
                for &value in matrix.row(feature) {
                    let value = f64::from(value - centre);
                    *sum += value;
                    *square += value * value;
                }
            }
            frames += matrix.n_frames;
        }
        if frames == 0 {
            return Err(ModelError::Training(
                "cannot fit the normaliser: no training frames".into(),
            ));
        }
        let count = frames as f64;
        let mean: Vec<f64> = sums.iter().map(|sum| sum / count).collect();
        normalizer.std = squares
            .iter()
            .zip(&mean)
            .map(|(square, mean)| {
                let std = (square / count - mean * mean).max(0.0).sqrt();
                if std < MIN_STD { 1.0 } else { std as f32 }
            })
            .collect();
        normalizer.mean = mean.into_iter().map(|mean| mean as f32).collect();
        Ok(normalizer)
    }

    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// What `matrices` (network inputs of one speaker's clips) say about the speaker's voice.
    pub fn voice_profile(&self, matrices: &[&FeatureMatrix]) -> Result<VoiceProfile, ModelError> {
        let mut profile = VoiceProfile::default();
        for matrix in matrices {
            if matrix.n_features != self.n_features() {
                return Err(ModelError::InputShape {
                    found: matrix.n_features,
                    expected: self.n_features(),
                });
            }
            profile.add_clip(matrix);
        }
        Ok(profile)
    }

    /// The speaker's estimated mean from `profile`, shrunk toward the average training
    /// speaker, or `None` without speaker normalisation.
    fn centre(&self, profile: &VoiceProfile) -> Option<Vec<f32>> {
        let prior = self.speaker_prior.as_ref()?;
        let prior_clips = f64::from(prior.clips);
        let weight = profile.clips as f64 + prior_clips;
        Some(
            prior
                .mean
                .iter()
                .enumerate()
                .map(|(feature, &prior_mean)| {
                    let sum = profile.sums.get(feature).copied().unwrap_or(0.0);
                    if weight > 0.0 {
                        ((sum + prior_clips * f64::from(prior_mean)) / weight) as f32
                    } else {
                        prior_mean
                    }
                })
                .collect(),
        )
    }

    /// Each speaker's estimated mean (indexed by speaker), or `None` without speaker
    /// normalisation.
    fn speaker_centres(
        &self,
        matrices: &[&FeatureMatrix],
        speakers: &[usize],
    ) -> Result<Option<Vec<Vec<f32>>>, ModelError> {
        if self.speaker_prior.is_none() {
            return Ok(None);
        }
        if speakers.len() != matrices.len() {
            return Err(ModelError::Training(format!(
                "{} speakers given for {} clips",
                speakers.len(),
                matrices.len()
            )));
        }
        let groups = speakers.iter().max().map_or(0, |&last| last + 1);
        let mut members: Vec<Vec<&FeatureMatrix>> = vec![Vec::new(); groups];
        for (&matrix, &speaker) in matrices.iter().zip(speakers) {
            members[speaker].push(matrix);
        }
        members
            .iter()
            .map(|clips| Ok(self.centre(&self.voice_profile(clips)?).unwrap_or_default()))
            .collect::<Result<Vec<_>, ModelError>>()
            .map(Some)
    }

    /// [`Self::batch_input`] for clips of one speaker whose voice is known from `voice`
    /// (e.g. all of their recordings) rather than from these clips alone.
    pub fn batch_input_in_voice(
        &self,
        matrices: &[&FeatureMatrix],
        voice: &VoiceProfile,
        frames: usize,
    ) -> Result<Vec<f32>, ModelError> {
        let centre = self.centre(voice);
        let size = self.n_features() * frames;
        let mut out = vec![0.0; matrices.len() * size];
        for (matrix, chunk) in matrices.iter().zip(out.chunks_exact_mut(size.max(1))) {
            self.write_input(matrix, centre.as_deref(), frames, chunk)?;
        }
        Ok(out)
    }

    /// Standardise `matrix` (centred on `centre` first, if given) and write it into `out` as
    /// `[n_features, frames]`: longer inputs are cropped at the end, shorter ones padded with
    /// zeros (the training mean).
    fn write_input(
        &self,
        matrix: &FeatureMatrix,
        centre: Option<&[f32]>,
        frames: usize,
        out: &mut [f32],
    ) -> Result<(), ModelError> {
        if matrix.n_features != self.n_features() {
            return Err(ModelError::InputShape {
                found: matrix.n_features,
                expected: self.n_features(),
            });
        }
        debug_assert_eq!(out.len(), self.n_features() * frames);
        let kept = matrix.n_frames.min(frames);
        for (feature, row_out) in out.chunks_exact_mut(frames).enumerate() {
            let shift = self.mean[feature] + centre.map_or(0.0, |centre| centre[feature]);
            let std = self.std[feature];
            let row = matrix.row(feature);
            for (target, &value) in row_out[..kept].iter_mut().zip(&row[..kept]) {
                *target = (value - shift) / std;
            }
            row_out[kept..].fill(0.0);
        }
        Ok(())
    }

    /// The network input of many clips: one flat `[count, n_features, frames]` buffer. With
    /// speaker normalisation, clips with the same index in `speakers` are centred on their
    /// common mean (see [`SpeakerPrior`]); without, `speakers` is not read.
    pub fn batch_input(
        &self,
        matrices: &[&FeatureMatrix],
        speakers: &[usize],
        frames: usize,
    ) -> Result<Vec<f32>, ModelError> {
        let centres = self.speaker_centres(matrices, speakers)?;
        let size = self.n_features() * frames;
        let mut out = vec![0.0; matrices.len() * size];
        for (index, (matrix, chunk)) in matrices
            .iter()
            .zip(out.chunks_exact_mut(size.max(1)))
            .enumerate()
        {
            let centre = centres.as_ref().map(|c| c[speakers[index]].as_slice());
            self.write_input(matrix, centre, frames, chunk)?;
        }
        Ok(out)
    }
}

fn row_mean(row: &[f32]) -> f64 {
    row.iter().map(|&value| f64::from(value)).sum::<f64>() / row.len().max(1) as f64
}

/// The mean over groups of each group's mean clip (a clip's mean over its own frames).
fn mean_of_group_means(
    matrices: &[&FeatureMatrix],
    groups: &[usize],
    n_features: usize,
) -> Vec<f32> {
    let n_groups = groups.iter().max().map_or(0, |&last| last + 1);
    let mut profiles = vec![VoiceProfile::default(); n_groups];
    for (matrix, &group) in matrices.iter().zip(groups) {
        profiles[group].add_clip(matrix);
    }
    let present: Vec<&VoiceProfile> = profiles.iter().filter(|p| p.clips > 0).collect();
    (0..n_features)
        .map(|feature| {
            let total: f64 = present
                .iter()
                .map(|profile| profile.sums[feature] / profile.clips as f64)
                .sum();
            (total / present.len().max(1) as f64) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_pads_and_crops() {
        let train = FeatureMatrix::new(2, 4, vec![1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0]);
        let normalizer = Normalizer::fit(&[&train], &[0], None).unwrap();
        assert_eq!(normalizer.mean, vec![2.5, 5.0]);
        assert!((normalizer.std[0] - 1.118_034).abs() < 1e-5);
        assert_eq!(normalizer.std[1], 1.0, "constant feature stays unscaled");
        let mut padded = vec![9.0; 2 * 6];
        normalizer
            .write_input(&train, None, 6, &mut padded)
            .unwrap();
        assert_eq!(&padded[4..6], &[0.0, 0.0]);
        assert_eq!(&padded[6..12], &[0.0; 6]);
        let mut cropped = vec![0.0; 2 * 2];
        normalizer
            .write_input(&train, None, 2, &mut cropped)
            .unwrap();
        assert!((cropped[0] + 1.341_641).abs() < 1e-5);
    }

    /// One value per clip (a pooled `mlp` input): speaker A speaks at 10 +- 1, speaker B at
    /// 20 +- 1; centred, both look the same.
    fn two_speakers() -> (Vec<FeatureMatrix>, Vec<usize>) {
        let values = [9.0, 11.0, 19.0, 21.0];
        let matrices = values
            .iter()
            .map(|&value| FeatureMatrix::new(1, 1, vec![value]))
            .collect();
        (matrices, group_indices(["a", "a", "b", "b"]))
    }

    #[test]
    fn centres_every_speaker_on_their_own_mean() {
        let (matrices, speakers) = two_speakers();
        let matrices: Vec<&FeatureMatrix> = matrices.iter().collect();
        assert_eq!(speakers, vec![0, 0, 1, 1]);
        let global = Normalizer::fit(&matrices, &speakers, None).unwrap();
        assert_eq!(global.mean, vec![15.0]);
        assert!(global.speaker_prior.is_none());

        let normalizer = Normalizer::fit(&matrices, &speakers, Some(0.0)).unwrap();
        let prior = normalizer.speaker_prior.as_ref().unwrap();
        assert_eq!(prior.mean, vec![15.0]);
        assert_eq!(normalizer.mean, vec![0.0]);
        assert_eq!(normalizer.std, vec![1.0]);
        let input = normalizer.batch_input(&matrices, &speakers, 1).unwrap();
        assert_eq!(input, vec![-1.0, 1.0, -1.0, 1.0]);
        // A new speaker at 40 +- 1, heard in full, is centred on their own voice.
        let new = [
            FeatureMatrix::new(1, 1, vec![39.0]),
            FeatureMatrix::new(1, 1, vec![41.0]),
        ];
        let new: Vec<&FeatureMatrix> = new.iter().collect();
        assert_eq!(
            normalizer.batch_input(&new, &[0, 0], 1).unwrap(),
            vec![-1.0, 1.0]
        );
        // Each clip alone, without a prior, is its own centre.
        assert_eq!(
            normalizer.batch_input(&new, &[0, 1], 1).unwrap(),
            vec![0.0, 0.0]
        );
    }

    #[test]
    fn few_clips_lean_on_the_average_speaker() {
        let (matrices, speakers) = two_speakers();
        let matrices: Vec<&FeatureMatrix> = matrices.iter().collect();
        let normalizer = Normalizer::fit(&matrices, &speakers, Some(3.0)).unwrap();
        // One clip at 39: centre (39 + 3 * 15) / 4 = 21, so 39 -> 18 (over std, still ~1).
        let clip = FeatureMatrix::new(1, 1, vec![39.0]);
        let std = normalizer.std[0];
        let expected = (39.0 - 21.0 - normalizer.mean[0]) / std;
        let input = normalizer.batch_input(&[&clip], &[0], 1).unwrap();
        assert!(
            (input[0] - expected).abs() < 1e-5,
            "{input:?} vs {expected}"
        );
        // The prior travels with the bundle header.
        let json = serde_json::to_string(&normalizer).unwrap();
        let back: Normalizer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, normalizer);
        let old: Normalizer = serde_json::from_str(r#"{"mean":[1.0],"std":[2.0]}"#).unwrap();
        assert!(
            old.speaker_prior.is_none(),
            "bundles without the field still load"
        );
    }
}
