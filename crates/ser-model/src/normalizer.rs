//! Per-feature standardisation fitted on the training split, optionally after centring every
//! speaker on their own mean (and scaling them to their own spread), and fixed-length model
//! input.

use std::collections::HashMap;

use ser_features::FeatureMatrix;
use serde::{Deserialize, Serialize};

use crate::{ModelError, SpeakerNormalization};

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
    /// Weight of `mean` and `variance`, in clips.
    pub clips: f32,
    /// Set when every speaker is also scaled to their own spread: the mean over training
    /// speakers of each speaker's variance of their clips' mean inputs. A speaker's variance is
    /// estimated as `(squared deviations + clips * variance) / (n - 1 + clips)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variance: Option<Vec<f32>>,
}

impl SpeakerPrior {
    /// The speaker's estimated mean (and with scaling spread) from `profile`, shrunk toward
    /// this average training speaker.
    fn transform(&self, profile: &VoiceProfile) -> SpeakerTransform {
        let prior_clips = f64::from(self.clips);
        let weight = profile.clips as f64 + prior_clips;
        let centre = self
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
            .collect();
        let scale = self.variance.as_ref().map(|variances| {
            // n - 1 degrees of freedom: one clip says nothing about the spread.
            let freedom = profile.clips.saturating_sub(1) as f64 + prior_clips;
            variances
                .iter()
                .enumerate()
                .map(|(feature, &prior_variance)| {
                    let prior_variance = f64::from(prior_variance);
                    let variance = if freedom > 0.0 {
                        let deviations = profile.squared_deviations(feature);
                        (deviations + prior_clips * prior_variance) / freedom
                    } else {
                        prior_variance
                    };
                    let spread = variance.sqrt();
                    if spread < MIN_STD { 1.0 } else { spread as f32 }
                })
                .collect()
        });
        SpeakerTransform { centre, scale }
    }
}

/// How one speaker's input is moved before the global standardisation: `(x - centre) / scale`.
struct SpeakerTransform {
    centre: Vec<f32>,
    /// `None` without speaker scaling (the same as all ones).
    scale: Option<Vec<f32>>,
}

/// A speaker's voice as seen in some of their clips: the sum of the clips' mean network
/// inputs, of their squares, and their number. Profiles of several recordings of one speaker
/// add up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VoiceProfile {
    sums: Vec<f64>,
    squares: Vec<f64>,
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
            self.squares = vec![0.0; other.squares.len()];
        }
        for (sum, add) in self.sums.iter_mut().zip(&other.sums) {
            *sum += add;
        }
        for (square, add) in self.squares.iter_mut().zip(&other.squares) {
            *square += add;
        }
        self.clips += other.clips;
    }

    /// The profiles of an ensemble's members (each of its own network input, `widths` rows)
    /// side by side in one, so that recordings' profiles still add up; [`Self::part`] takes
    /// them apart again. All describe the same clips.
    pub(crate) fn joined(parts: &[VoiceProfile], widths: &[usize]) -> VoiceProfile {
        if parts.iter().all(|part| part.sums.is_empty()) {
            return VoiceProfile::default();
        }
        let mut joined = VoiceProfile {
            clips: parts.first().map_or(0, |part| part.clips),
            ..VoiceProfile::default()
        };
        for (part, &width) in parts.iter().zip(widths) {
            let padded = |values: &[f64]| {
                let mut values = values.to_vec();
                values.resize(width, 0.0);
                values
            };
            joined.sums.extend(padded(&part.sums));
            joined.squares.extend(padded(&part.squares));
        }
        joined
    }

    /// The `width` rows from `start` of a [`Self::joined`] profile.
    pub(crate) fn part(&self, start: usize, width: usize) -> VoiceProfile {
        let rows = |values: &[f64]| values.iter().skip(start).take(width).copied().collect();
        VoiceProfile {
            sums: rows(&self.sums),
            squares: rows(&self.squares),
            clips: self.clips,
        }
    }

    fn add_clip(&mut self, matrix: &FeatureMatrix) {
        // A clip without frames says nothing about the voice.
        if matrix.n_frames == 0 {
            return;
        }
        if self.sums.is_empty() {
            self.sums = vec![0.0; matrix.n_features];
            self.squares = vec![0.0; matrix.n_features];
        }
        for (feature, (sum, square)) in self.sums.iter_mut().zip(&mut self.squares).enumerate() {
            let mean = row_mean(matrix.row(feature));
            *sum += mean;
            *square += mean * mean;
        }
        self.clips += 1;
    }

    /// Sum of squared deviations of the clip means from their own mean, for `feature`.
    fn squared_deviations(&self, feature: usize) -> f64 {
        match (self.sums.get(feature), self.squares.get(feature)) {
            (Some(sum), Some(square)) if self.clips > 0 => {
                (square - sum * sum / self.clips as f64).max(0.0)
            }
            _ => 0.0,
        }
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
    /// `speakers` gives each matrix's speaker (see [`group_indices`]); with speaker
    /// normalisation enabled, every speaker is centred on their own mean (and with `scale`
    /// divided by their own spread) before the standardisation is fitted, and the prior for
    /// unseen speakers is kept.
    pub fn fit(
        matrices: &[&FeatureMatrix],
        speakers: &[usize],
        speaker_normalization: &SpeakerNormalization,
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
        let speaker_prior = match speaker_normalization.prior_clips() {
            None => None,
            Some(clips) => {
                let profiles = group_profiles(matrices, speakers);
                let variance = if speaker_normalization.scale {
                    Some(mean_of_group_variances(&profiles, n_features)?)
                } else {
                    None
                };
                Some(SpeakerPrior {
                    mean: mean_of_group_means(&profiles, n_features),
                    clips,
                    variance,
                })
            }
        };
        let mut normalizer = Self {
            mean: vec![0.0; n_features],
            std: vec![1.0; n_features],
            speaker_prior,
        };
        let transforms = normalizer.speaker_transforms(matrices, speakers)?;
        let mut sums = vec![0.0f64; n_features];
        let mut squares = vec![0.0f64; n_features];
        let mut frames = 0usize;
        for (matrix, &speaker) in matrices.iter().zip(speakers) {
            let transform = transforms.as_ref().map(|t| &t[&speaker]);
            for (feature, (sum, square)) in sums.iter_mut().zip(&mut squares).enumerate() {
                let (centre, scale) = transform.map_or((0.0, 1.0), |t| t.at(feature));
                for &value in matrix.row(feature) {
                    let value = f64::from((value - centre) / scale);
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

    /// Each speaker's transform (by speaker index, any numbers), or `None` without speaker
    /// normalisation.
    fn speaker_transforms(
        &self,
        matrices: &[&FeatureMatrix],
        speakers: &[usize],
    ) -> Result<Option<HashMap<usize, SpeakerTransform>>, ModelError> {
        let Some(prior) = &self.speaker_prior else {
            return Ok(None);
        };
        if speakers.len() != matrices.len() {
            return Err(ModelError::Training(format!(
                "{} speakers given for {} clips",
                speakers.len(),
                matrices.len()
            )));
        }
        let mut members: HashMap<usize, Vec<&FeatureMatrix>> = HashMap::new();
        for (&matrix, &speaker) in matrices.iter().zip(speakers) {
            members.entry(speaker).or_default().push(matrix);
        }
        members
            .into_iter()
            .map(|(speaker, clips)| {
                let profile = self.voice_profile(&clips)?;
                Ok((speaker, prior.transform(&profile)))
            })
            .collect::<Result<HashMap<_, _>, ModelError>>()
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
        let transform = self
            .speaker_prior
            .as_ref()
            .map(|prior| prior.transform(voice));
        let size = self.n_features() * frames;
        let mut out = vec![0.0; matrices.len() * size];
        for (matrix, chunk) in matrices.iter().zip(out.chunks_exact_mut(size.max(1))) {
            self.write_input(matrix, transform.as_ref(), frames, chunk)?;
        }
        Ok(out)
    }

    /// Standardise `matrix` (moved by its speaker's `transform` first, if given) and write it
    /// into `out` as `[n_features, frames]`: longer inputs are cropped at the end, shorter ones
    /// padded with zeros (the training mean).
    fn write_input(
        &self,
        matrix: &FeatureMatrix,
        transform: Option<&SpeakerTransform>,
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
            // ((x - centre) / scale - mean) / std, as one shift and one division.
            let (centre, scale) = transform.map_or((0.0, 1.0), |t| t.at(feature));
            let shift = self.mean[feature] * scale + centre;
            let std = self.std[feature] * scale;
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
    /// common mean (and scaled to their spread; see [`SpeakerPrior`]); without, `speakers` is
    /// not read.
    pub fn batch_input(
        &self,
        matrices: &[&FeatureMatrix],
        speakers: &[usize],
        frames: usize,
    ) -> Result<Vec<f32>, ModelError> {
        let transforms = self.speaker_transforms(matrices, speakers)?;
        let size = self.n_features() * frames;
        let mut out = vec![0.0; matrices.len() * size];
        for (index, (matrix, chunk)) in matrices
            .iter()
            .zip(out.chunks_exact_mut(size.max(1)))
            .enumerate()
        {
            let transform = transforms.as_ref().map(|t| &t[&speakers[index]]);
            self.write_input(matrix, transform, frames, chunk)?;
        }
        Ok(out)
    }
}

fn row_mean(row: &[f32]) -> f64 {
    row.iter().map(|&value| f64::from(value)).sum::<f64>() / row.len().max(1) as f64
}

impl SpeakerTransform {
    /// Centre and scale of `feature`.
    fn at(&self, feature: usize) -> (f32, f32) {
        let scale = self.scale.as_ref().map_or(1.0, |scale| scale[feature]);
        (self.centre[feature], scale)
    }
}

/// Each group's profile (indexed by group).
fn group_profiles(matrices: &[&FeatureMatrix], groups: &[usize]) -> Vec<VoiceProfile> {
    let n_groups = groups.iter().max().map_or(0, |&last| last + 1);
    let mut profiles = vec![VoiceProfile::default(); n_groups];
    for (matrix, &group) in matrices.iter().zip(groups) {
        profiles[group].add_clip(matrix);
    }
    profiles
}

/// The mean over groups of each group's mean clip (a clip's mean over its own frames).
fn mean_of_group_means(profiles: &[VoiceProfile], n_features: usize) -> Vec<f32> {
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

/// The mean over groups of two clips or more of each group's variance of its clip means.
fn mean_of_group_variances(
    profiles: &[VoiceProfile],
    n_features: usize,
) -> Result<Vec<f32>, ModelError> {
    let spread: Vec<&VoiceProfile> = profiles.iter().filter(|p| p.clips > 1).collect();
    if spread.is_empty() {
        return Err(ModelError::Training(
            "speaker scaling needs a training speaker with at least two clips".into(),
        ));
    }
    Ok((0..n_features)
        .map(|feature| {
            let total: f64 = spread
                .iter()
                .map(|profile| profile.squared_deviations(feature) / (profile.clips - 1) as f64)
                .sum();
            (total / spread.len() as f64) as f32
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_pads_and_crops() {
        let train = FeatureMatrix::new(2, 4, vec![1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0]);
        let normalizer =
            Normalizer::fit(&[&train], &[0], &SpeakerNormalization::default()).unwrap();
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

    fn centring(prior_clips: f32) -> SpeakerNormalization {
        SpeakerNormalization {
            enabled: true,
            prior_clips,
            scale: false,
        }
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
        let global =
            Normalizer::fit(&matrices, &speakers, &SpeakerNormalization::default()).unwrap();
        assert_eq!(global.mean, vec![15.0]);
        assert!(global.speaker_prior.is_none());

        let normalizer = Normalizer::fit(&matrices, &speakers, &centring(0.0)).unwrap();
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
        let normalizer = Normalizer::fit(&matrices, &speakers, &centring(3.0)).unwrap();
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

    #[test]
    fn scaling_gives_a_lively_and_a_flat_voice_the_same_spread() {
        // Speaker A at 10 +- 1, speaker B at 20 +- 3.
        let matrices: Vec<FeatureMatrix> = [9.0, 11.0, 17.0, 23.0]
            .iter()
            .map(|&value| FeatureMatrix::new(1, 1, vec![value]))
            .collect();
        let matrices: Vec<&FeatureMatrix> = matrices.iter().collect();
        let speakers = [0, 0, 1, 1];
        let scaling = |prior_clips| SpeakerNormalization {
            scale: true,
            ..centring(prior_clips)
        };
        let normalizer = Normalizer::fit(&matrices, &speakers, &scaling(0.0)).unwrap();
        let prior = normalizer.speaker_prior.as_ref().unwrap();
        // Sample variances 2 and 18.
        assert_eq!(prior.variance, Some(vec![10.0]));
        let input = normalizer.batch_input(&matrices, &speakers, 1).unwrap();
        for (value, expected) in input.iter().zip([-1.0, 1.0, -1.0, 1.0]) {
            assert!((value - expected).abs() < 1e-5, "{input:?}");
        }
        // A new speaker at 40 +- 2, heard in full, is scaled by their own spread.
        let new = [
            FeatureMatrix::new(1, 1, vec![38.0]),
            FeatureMatrix::new(1, 1, vec![42.0]),
        ];
        let new: Vec<&FeatureMatrix> = new.iter().collect();
        let input = normalizer.batch_input(&new, &[0, 0], 1).unwrap();
        assert!(
            (input[0] + 1.0).abs() < 1e-5 && (input[1] - 1.0).abs() < 1e-5,
            "{input:?}"
        );

        // One clip says nothing about the spread: the prior's variance (10) is used.
        let normalizer = Normalizer::fit(&matrices, &speakers, &scaling(3.0)).unwrap();
        let clip = FeatureMatrix::new(1, 1, vec![39.0]);
        let centre = (39.0 + 3.0 * 15.0) / 4.0;
        let expected = ((39.0 - centre) / 10f32.sqrt() - normalizer.mean[0]) / normalizer.std[0];
        let input = normalizer.batch_input(&[&clip], &[0], 1).unwrap();
        assert!(
            (input[0] - expected).abs() < 1e-5,
            "{input:?} vs {expected}"
        );
        // The same clip given as a known voice (a profile) moves the same way.
        let voice = normalizer.voice_profile(&[&clip]).unwrap();
        assert_eq!(
            normalizer
                .batch_input_in_voice(&[&clip], &voice, 1)
                .unwrap(),
            input
        );
        let json = serde_json::to_string(&normalizer).unwrap();
        assert!(json.contains("variance"), "{json}");
        assert_eq!(
            serde_json::from_str::<Normalizer>(&json).unwrap(),
            normalizer
        );

        // Without any speaker of two clips there is no spread to learn from.
        let error = Normalizer::fit(&matrices[..2], &[0, 1], &scaling(3.0)).unwrap_err();
        assert!(error.to_string().contains("two clips"), "{error}");
    }
}
