//! Inference: a loaded bundle that turns audio into class probabilities.

use std::borrow::Cow;
use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use ser_audio::Audio;
use ser_features::{FeatureConfig, FeatureMatrix};

use crate::ModelError;
use crate::bundle::{
    self, Bundle, BundleInfo, BundleParts, EnsembleInfo, LoneClipSubstitute, ModelCard,
};
use crate::calibration::{geometric_mean, softmax_with_temperature};
use crate::config::ModelConfig;
use crate::nets::Network;
use crate::normalizer::{Normalizer, VoiceProfile};
use crate::record_check::check_module_record;

/// A trained model ready for prediction, on the non-autodiff Flex CPU backend: one model, or
/// an ensemble of different models whose calibrated probabilities are combined clip by clip.
/// Load once and share across threads: prediction takes `&self`.
#[derive(Debug)]
pub struct Classifier {
    /// One model, or the models of an ensemble bundle (same labels).
    members: Vec<Member>,
    /// The members' feature configurations, each once, in the order members first use them:
    /// a clip is analysed once per entry, however many members read it.
    feature_configs: Vec<FeatureConfig>,
    ensemble: Option<EnsembleInfo>,
    device: Device,
}

/// One model bundle, loaded.
#[derive(Debug)]
struct Member {
    /// One network, or the seeds of a `[model] ensemble`.
    networks: Vec<Network>,
    info: BundleInfo,
    normalizer: Normalizer,
    /// Which of the classifier's feature configurations this model reads.
    features: usize,
}

impl Member {
    fn load(
        parts: BundleParts,
        device: &Device,
        feature_configs: &mut Vec<FeatureConfig>,
    ) -> Result<Self, ModelError> {
        let features = match feature_configs
            .iter()
            .position(|config| *config == parts.info.features)
        {
            Some(index) => index,
            None => {
                feature_configs.push(parts.info.features.clone());
                feature_configs.len() - 1
            }
        };
        Ok(Self {
            networks: load_networks(&parts.info, &parts.weights, device)?,
            info: parts.info,
            normalizer: parts.normalizer,
            features,
        })
    }

    fn temperature(&self) -> f32 {
        self.info
            .calibration
            .as_ref()
            .map_or(1.0, |calibration| calibration.temperature)
    }

    /// This model's matrix of every clip.
    fn matrices<'a, C: ClipFeatures + ?Sized + 'a>(
        &self,
        clips: impl IntoIterator<Item = &'a C>,
        configs: usize,
    ) -> Result<Vec<&'a FeatureMatrix>, ModelError> {
        clips
            .into_iter()
            .map(|clip| {
                clip.matrix(self.features).ok_or_else(|| {
                    ModelError::Config(format!(
                        "the model reads {configs} feature sets per clip, a clip came with {}",
                        clip.sets()
                    ))
                })
            })
            .collect()
    }

    fn network_inputs<'a>(&self, matrices: &[&'a FeatureMatrix]) -> Vec<Cow<'a, FeatureMatrix>> {
        matrices
            .iter()
            .map(|matrix| self.info.model.network_input(matrix))
            .collect()
    }
}

/// One clip's extracted features as a [`Classifier`] reads them: a matrix for each of its
/// [`Classifier::feature_configs`], in that order. A single [`FeatureMatrix`] is the features
/// of a clip for a classifier with one feature configuration (every model bundle, and the
/// ensembles whose models share their features).
pub trait ClipFeatures {
    /// The matrix of feature configuration `index`, if the clip has it.
    fn matrix(&self, index: usize) -> Option<&FeatureMatrix>;
    /// How many feature sets the clip holds.
    fn sets(&self) -> usize;
}

impl ClipFeatures for FeatureMatrix {
    fn matrix(&self, index: usize) -> Option<&FeatureMatrix> {
        (index == 0).then_some(self)
    }

    fn sets(&self) -> usize {
        1
    }
}

impl ClipFeatures for [FeatureMatrix] {
    fn matrix(&self, index: usize) -> Option<&FeatureMatrix> {
        self.get(index)
    }

    fn sets(&self) -> usize {
        self.len()
    }
}

impl ClipFeatures for Vec<FeatureMatrix> {
    fn matrix(&self, index: usize) -> Option<&FeatureMatrix> {
        self.as_slice().matrix(index)
    }

    fn sets(&self) -> usize {
        self.as_slice().sets()
    }
}

impl Classifier {
    pub fn from_bundle_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let device = Device::flex();
        let Bundle { ensemble, members } = bundle::decode_any(bytes)?;
        let mut feature_configs = Vec::new();
        let members = members
            .into_iter()
            .map(|parts| Member::load(parts, &device, &mut feature_configs))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            members,
            feature_configs,
            ensemble,
            device,
        })
    }

    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bundle_bytes(&bytes).map_err(|error| match error {
            ModelError::CorruptBundle(reason) => ModelError::NotABundle {
                path: path.to_path_buf(),
                reason,
            },
            other => other,
        })
    }

    pub fn labels(&self) -> &[String] {
        &self.members[0].info.labels
    }

    /// The features of the (first) model: of an ensemble whose models read different
    /// features, see [`Self::feature_configs`].
    pub fn feature_config(&self) -> &FeatureConfig {
        &self.feature_configs[0]
    }

    /// Every feature configuration the models read, each once: what [`ClipFeatures`] holds
    /// for a clip, in this order.
    pub fn feature_configs(&self) -> &[FeatureConfig] {
        &self.feature_configs
    }

    /// Every feature configuration's matrix of one recording ([`ClipFeatures`]), each equal to
    /// [`FeatureConfig::extract`]'s.
    pub fn extract_audio(&self, audio: &Audio) -> Result<Vec<FeatureMatrix>, ModelError> {
        Ok(FeatureConfig::extract_each(&self.feature_configs, audio)?)
    }

    /// The bundle's description; of an ensemble, its first member's (see [`Self::members`]).
    pub fn info(&self) -> &BundleInfo {
        &self.members[0].info
    }

    /// Every model's description: one, or an ensemble's members in order.
    pub fn members(&self) -> impl Iterator<Item = &BundleInfo> {
        self.members.iter().map(|member| &member.info)
    }

    /// How an ensemble bundle combines its members; `None` for one model.
    pub fn ensemble(&self) -> Option<&EnsembleInfo> {
        self.ensemble.as_ref()
    }

    /// The model card: the ensemble's own, or the one model's.
    pub fn card(&self) -> &ModelCard {
        self.ensemble
            .as_ref()
            .map_or(&self.members[0].info.card, |ensemble| &ensemble.card)
    }

    /// The architectures of the models that judge a speaker heard in several clips, e.g.
    /// `mlp + cnn1d`, then the number of lone-clip substitutes, e.g. `mlp + cnn1d + 1 lone-clip
    /// substitute` (they never judge beside the models they replace).
    pub fn architectures(&self) -> String {
        let judging = self.judging_architectures().join(" + ");
        match self.lone_clip_substitutes().len() {
            0 => judging,
            1 => format!("{judging} + 1 lone-clip substitute"),
            count => format!("{judging} + {count} lone-clip substitutes"),
        }
    }

    fn judging_architectures(&self) -> Vec<String> {
        self.members()
            .enumerate()
            .filter(|(index, _)| self.judges(*index, false))
            .map(|(_, info)| info.architecture.to_string())
            .collect()
    }

    /// The networks and the training data in a few words, e.g. `mlp + cnn1d trained on
    /// tess+ravdess (random:0)`.
    pub fn describe(&self) -> String {
        let info = self.info();
        format!(
            "{} trained on {} ({})",
            self.architectures(),
            info.corpus,
            info.split
        )
    }

    /// The whole description as JSON (`ser model info --format json`, `GET /v1/model`): the
    /// bundle's info, or for an ensemble its header with `architecture` (of the models that
    /// judge a speaker heard in several clips; the substitutes are in `lone_clip`) and
    /// `members` added.
    pub fn describe_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        let Some(ensemble) = &self.ensemble else {
            return serde_json::to_value(self.info());
        };
        let mut value = serde_json::to_value(ensemble)?;
        if let Some(object) = value.as_object_mut() {
            let architectures = self.judging_architectures().join("+");
            object.insert("architecture".into(), architectures.into());
            object.insert(
                "members".into(),
                serde_json::to_value(self.members().collect::<Vec<_>>())?,
            );
        }
        Ok(value)
    }

    /// The (first) model's normaliser.
    pub fn normalizer(&self) -> &Normalizer {
        &self.members[0].normalizer
    }

    /// Class probabilities in [`Self::labels`] order for one recording at any sample rate.
    pub fn predict_audio(&self, audio: &Audio) -> Result<Vec<f32>, ModelError> {
        let mut probabilities = self.predict_batch(std::slice::from_ref(audio))?;
        Ok(probabilities.pop().unwrap_or_default())
    }

    /// [`Self::predict_audio`] for many recordings of one speaker (e.g. the segments of one
    /// recording) in one forward pass: with speaker normalisation they share one centre.
    pub fn predict_batch(&self, audios: &[Audio]) -> Result<Vec<Vec<f32>>, ModelError> {
        let clips = self.extract(audios)?;
        self.predict_features(&clips.iter().collect::<Vec<_>>(), &vec![0; audios.len()])
    }

    /// What these recordings of one speaker say about their voice (empty for a model
    /// without speaker normalisation); profiles of several recordings can be merged.
    pub fn voice_profile(&self, audios: &[Audio]) -> Result<VoiceProfile, ModelError> {
        if !self.normalizes_speakers() {
            return Ok(VoiceProfile::default());
        }
        let clips = self.extract(audios)?;
        self.voice_profile_of_features(&clips)
    }

    /// [`Self::voice_profile`] of already extracted features.
    pub fn voice_profile_of_features<C: ClipFeatures>(
        &self,
        clips: &[C],
    ) -> Result<VoiceProfile, ModelError> {
        let profiles = self
            .members
            .iter()
            .map(|member| {
                let matrices = member.matrices(clips, self.feature_configs.len())?;
                let inputs = member.network_inputs(&matrices);
                member
                    .normalizer
                    .voice_profile(&inputs.iter().map(AsRef::as_ref).collect::<Vec<_>>())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match <[VoiceProfile; 1]>::try_from(profiles) {
            Ok([profile]) => profile,
            Err(profiles) => VoiceProfile::joined(&profiles, &self.member_widths()),
        })
    }

    /// Rows of each member's network input, as their voice profiles are joined.
    fn member_widths(&self) -> Vec<usize> {
        self.members
            .iter()
            .map(|member| member.normalizer.n_features())
            .collect()
    }

    /// [`Self::predict_batch`] for recordings of a speaker whose voice is known from `voice`
    /// (e.g. all of their recordings), not from these clips alone.
    pub fn predict_batch_in_voice(
        &self,
        audios: &[Audio],
        voice: &VoiceProfile,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let clips = self.extract(audios)?;
        self.predict_features_in_voice(&clips.iter().collect::<Vec<_>>(), voice)
    }

    /// [`Self::predict_batch_in_voice`] for already extracted features.
    pub fn predict_features_in_voice<C: ClipFeatures + ?Sized>(
        &self,
        clips: &[&C],
        voice: &VoiceProfile,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        self.probabilities(clips, Voices::Known(voice))
    }

    fn extract(&self, audios: &[Audio]) -> Result<Vec<Vec<FeatureMatrix>>, ModelError> {
        audios
            .iter()
            .map(|audio| self.extract_audio(audio))
            .collect()
    }

    /// Whether the model centres every speaker on their own mean (so predictions improve
    /// when more of a speaker's clips are given together).
    pub fn normalizes_speakers(&self) -> bool {
        self.members
            .iter()
            .any(|member| member.normalizer.speaker_prior.is_some())
    }

    /// Calibrated probabilities for already extracted (not yet normalised) features, a
    /// [`FeatureMatrix`] per clip or, for models of several feature sets, [`ClipFeatures`]:
    /// the softmax of the logits divided by the bundle's temperature (1 without calibration);
    /// of an ensemble, the [`geometric_mean`] of its members' calibrated probabilities.
    /// `speakers` gives each clip's speaker ([`crate::group_indices`]); it matters only to
    /// models with speaker normalisation.
    pub fn predict_features<C: ClipFeatures + ?Sized>(
        &self,
        clips: &[&C],
        speakers: &[usize],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        self.probabilities(clips, Voices::Groups(speakers))
    }

    fn probabilities<C: ClipFeatures + ?Sized>(
        &self,
        clips: &[&C],
        voices: Voices<'_>,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let lone = lone_clips(voices, clips.len());
        let mut start = 0;
        // Each member's probabilities of every clip, or `None` for a member no clip needs.
        let mut members = Vec::with_capacity(self.members.len());
        for (index, member) in self.members.iter().enumerate() {
            let width = member.normalizer.n_features();
            let member_start = start;
            start += width;
            if !lone.iter().any(|&lone| self.judges(index, lone)) {
                members.push(None);
                continue;
            }
            let part;
            let member_voices = match voices {
                Voices::Known(voice) if self.members.len() > 1 => {
                    part = voice.part(member_start, width);
                    Voices::Known(&part)
                }
                other => other,
            };
            let matrices = member.matrices(clips.iter().copied(), self.feature_configs.len())?;
            members.push(Some(predict_probabilities(
                &member.networks,
                &member.normalizer,
                &member.info.model,
                &matrices,
                member_voices,
                &self.device,
                member.temperature(),
            )?));
        }
        if let [Some(only)] = members.as_mut_slice() {
            return Ok(std::mem::take(only));
        }
        Ok((0..clips.len())
            .map(|clip| {
                let clip_members: Vec<&[f32]> = members
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| self.judges(*index, lone[clip]))
                    .filter_map(|(_, member)| member.as_ref())
                    .map(|member| member[clip].as_slice())
                    .collect();
                geometric_mean(&clip_members)
            })
            .collect())
    }

    /// Models used in place of others for a speaker heard in one clip
    /// ([`LoneClipSubstitute`]); empty for most bundles.
    pub fn lone_clip_substitutes(&self) -> &[LoneClipSubstitute] {
        self.ensemble
            .as_ref()
            .map_or(&[], |ensemble| ensemble.lone_clip.as_slice())
    }

    /// Whether member `index` judges the clips of a speaker heard in one clip only (`lone`)
    /// or in several.
    fn judges(&self, index: usize, lone: bool) -> bool {
        let substitutes = self.lone_clip_substitutes();
        if lone {
            !substitutes.iter().any(|s| s.replaces == index)
        } else {
            !substitutes.iter().any(|s| s.member == index)
        }
    }
}

/// Whether each clip's speaker is heard in that clip only (a clip without a speaker is not:
/// the normaliser refuses that batch).
fn lone_clips(voices: Voices<'_>, clips: usize) -> Vec<bool> {
    match voices {
        Voices::Groups(speakers) => {
            let mut counts = std::collections::HashMap::new();
            for speaker in speakers {
                *counts.entry(speaker).or_insert(0usize) += 1;
            }
            (0..clips)
                .map(|clip| {
                    speakers
                        .get(clip)
                        .is_some_and(|speaker| counts[speaker] == 1)
                })
                .collect()
        }
        Voices::Known(voice) => vec![voice.clips() <= 1; clips],
    }
}

/// Where the speaker centres of a batch come from.
#[derive(Clone, Copy)]
pub(crate) enum Voices<'a> {
    /// Each clip's speaker index: clips of one speaker share their own mean.
    Groups(&'a [usize]),
    /// Every clip is of one speaker whose voice is known beforehand.
    Known(&'a VoiceProfile),
}

/// Largest batch sent through the network at once during inference.
const INFERENCE_BATCH: usize = 64;

/// Probabilities of the average logits of `networks` (one network, or an ensemble's members).
pub(crate) fn predict_probabilities(
    networks: &[Network],
    normalizer: &Normalizer,
    model: &ModelConfig,
    matrices: &[&FeatureMatrix],
    voices: Voices<'_>,
    device: &Device,
    temperature: f32,
) -> Result<Vec<Vec<f32>>, ModelError> {
    let frames = model.input_frames();
    let inputs: Vec<_> = matrices
        .iter()
        .map(|matrix| model.network_input(matrix))
        .collect();
    let inputs: Vec<&FeatureMatrix> = inputs.iter().map(AsRef::as_ref).collect();
    // Speaker centres come from all of a speaker's clips, so the whole set is normalised
    // before it is cut into batches.
    let normalized = match voices {
        Voices::Groups(speakers) => normalizer.batch_input(&inputs, speakers, frames)?,
        Voices::Known(voice) => normalizer.batch_input_in_voice(&inputs, voice, frames)?,
    };
    let example_size = normalizer.n_features() * frames;
    let mut probabilities = Vec::with_capacity(matrices.len());
    for chunk in normalized.chunks((INFERENCE_BATCH * example_size).max(1)) {
        let count = chunk.len() / example_size.max(1);
        let input = chunk.to_vec();
        let shape = [count, normalizer.n_features(), frames];
        let input = Tensor::from_data(TensorData::new(input, shape), device);
        let mut logits = Vec::new();
        for network in networks {
            let member = tensor_values(network.forward(input.clone()))?;
            if logits.is_empty() {
                logits = member;
            } else {
                logits
                    .iter_mut()
                    .zip(&member)
                    .for_each(|(sum, value)| *sum += value);
            }
        }
        let members = networks.len().max(1) as f32;
        logits.iter_mut().for_each(|sum| *sum /= members);
        let classes = logits.len() / count.max(1);
        probabilities.extend(
            logits
                .chunks(classes.max(1))
                .map(|row| softmax_with_temperature(row, temperature)),
        );
    }
    Ok(probabilities)
}

pub(crate) fn tensor_values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, ModelError> {
    tensor
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|error| ModelError::Training(format!("cannot read tensor values: {error:?}")))
}

/// The networks of a bundle: its weights are one network's record, or for an ensemble of
/// `n` members, `n` records each preceded by its length (u64, little-endian).
pub(crate) fn load_networks(
    info: &BundleInfo,
    weights: &[u8],
    device: &Device,
) -> Result<Vec<Network>, ModelError> {
    let records = if info.model.ensemble <= 1 {
        vec![weights]
    } else {
        split_member_records(weights, info.model.ensemble)?
    };
    records
        .into_iter()
        .map(|record| load_network(info, record, device))
        .collect()
}

/// The weights section of an ensemble bundle (see [`load_networks`]).
pub(crate) fn join_member_records(records: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(records.iter().map(|record| record.len() + 8).sum());
    for record in records {
        bytes.extend_from_slice(&(record.len() as u64).to_le_bytes());
        bytes.extend_from_slice(record);
    }
    bytes
}

fn split_member_records(mut bytes: &[u8], members: usize) -> Result<Vec<&[u8]>, ModelError> {
    let corrupt =
        || ModelError::CorruptBundle(format!("weights of {members} networks are cut short"));
    let mut records = Vec::with_capacity(members);
    for _ in 0..members {
        let (length, rest) = bytes.split_first_chunk::<8>().ok_or_else(corrupt)?;
        let length = usize::try_from(u64::from_le_bytes(*length)).map_err(|_| corrupt())?;
        if length > rest.len() {
            return Err(corrupt());
        }
        let (record, rest) = rest.split_at(length);
        records.push(record);
        bytes = rest;
    }
    if !bytes.is_empty() {
        return Err(ModelError::CorruptBundle(format!(
            "{} bytes after the weights of {members} networks",
            bytes.len()
        )));
    }
    Ok(records)
}

fn load_network(info: &BundleInfo, weights: &[u8], device: &Device) -> Result<Network, ModelError> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights.to_vec()))
        .map_err(|error| ModelError::CorruptBundle(format!("bad weights: {error}")))?;
    let network = Network::new(&info.model, info.n_features, info.labels.len(), device, 0);
    check_module_record(weights, &network)
        .map_err(|error| ModelError::CorruptBundle(format!("bad weights: {error}")))?;
    network
        .try_load_record(record)
        .map(|network| network.valid())
        .map_err(|error| {
            ModelError::CorruptBundle(format!("weights do not fit the network: {error}"))
        })
}

#[cfg(test)]
mod tests {
    /// Servers load one classifier and share it across request threads.
    #[test]
    fn classifier_is_send_and_sync() {
        fn shareable<T: Send + Sync>() {}
        shareable::<super::Classifier>();
    }
}
