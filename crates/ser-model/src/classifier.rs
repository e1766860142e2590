//! Inference: a loaded bundle that turns audio into class probabilities.

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use ser_audio::Audio;
use ser_features::{FeatureConfig, FeatureMatrix};

use crate::ModelError;
use crate::bundle::{self, BundleInfo};
use crate::calibration::softmax_with_temperature;
use crate::config::ModelConfig;
use crate::nets::Network;
use crate::normalizer::{Normalizer, VoiceProfile};
use crate::record_check::check_module_record;

/// A trained model ready for prediction, on the non-autodiff Flex CPU backend.
/// Load once and share across threads: prediction takes `&self`.
#[derive(Debug)]
pub struct Classifier {
    /// One network, or the members of an ensemble.
    networks: Vec<Network>,
    info: BundleInfo,
    normalizer: Normalizer,
    device: Device,
}

impl Classifier {
    pub fn from_bundle_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let parts = bundle::decode(bytes)?;
        let device = Device::flex();
        let networks = load_networks(&parts.info, &parts.weights, &device)?;
        Ok(Self {
            networks,
            info: parts.info,
            normalizer: parts.normalizer,
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
        &self.info.labels
    }

    pub fn feature_config(&self) -> &FeatureConfig {
        &self.info.features
    }

    pub fn info(&self) -> &BundleInfo {
        &self.info
    }

    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Class probabilities in [`Self::labels`] order for one recording at any sample rate.
    pub fn predict_audio(&self, audio: &Audio) -> Result<Vec<f32>, ModelError> {
        let mut probabilities = self.predict_batch(std::slice::from_ref(audio))?;
        Ok(probabilities.pop().unwrap_or_default())
    }

    /// [`Self::predict_audio`] for many recordings of one speaker (e.g. the segments of one
    /// recording) in one forward pass: with speaker normalisation they share one centre.
    pub fn predict_batch(&self, audios: &[Audio]) -> Result<Vec<Vec<f32>>, ModelError> {
        let matrices = self.extract(audios)?;
        self.predict_features(&matrices.iter().collect::<Vec<_>>(), &vec![0; audios.len()])
    }

    /// What these recordings of one speaker say about their voice (empty for a model
    /// without speaker normalisation); profiles of several recordings can be merged.
    pub fn voice_profile(&self, audios: &[Audio]) -> Result<VoiceProfile, ModelError> {
        if !self.normalizes_speakers() {
            return Ok(VoiceProfile::default());
        }
        let matrices = self.extract(audios)?;
        let inputs: Vec<_> = matrices
            .iter()
            .map(|matrix| self.info.model.network_input(matrix))
            .collect();
        let inputs: Vec<&FeatureMatrix> = inputs.iter().map(AsRef::as_ref).collect();
        self.normalizer.voice_profile(&inputs)
    }

    /// [`Self::predict_batch`] for recordings of a speaker whose voice is known from `voice`
    /// (e.g. all of their recordings), not from these clips alone.
    pub fn predict_batch_in_voice(
        &self,
        audios: &[Audio],
        voice: &VoiceProfile,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let matrices = self.extract(audios)?;
        let matrices: Vec<&FeatureMatrix> = matrices.iter().collect();
        self.probabilities(&matrices, Voices::Known(voice))
    }

    fn extract(&self, audios: &[Audio]) -> Result<Vec<FeatureMatrix>, ModelError> {
        audios
            .iter()
            .map(|audio| Ok(self.info.features.extract(audio)?))
            .collect()
    }

    /// Whether the model centres every speaker on their own mean (so predictions improve
    /// when more of a speaker's clips are given together).
    pub fn normalizes_speakers(&self) -> bool {
        self.normalizer.speaker_prior.is_some()
    }

    /// Calibrated probabilities for already extracted (not yet normalised) feature matrices:
    /// the softmax of the logits divided by the bundle's temperature (1 without calibration).
    /// `speakers` gives each clip's speaker ([`crate::group_indices`]); it matters only to
    /// models with speaker normalisation.
    pub fn predict_features(
        &self,
        matrices: &[&FeatureMatrix],
        speakers: &[usize],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        self.probabilities(matrices, Voices::Groups(speakers))
    }

    fn probabilities(
        &self,
        matrices: &[&FeatureMatrix],
        voices: Voices<'_>,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let temperature = self
            .info
            .calibration
            .as_ref()
            .map_or(1.0, |calibration| calibration.temperature);
        predict_probabilities(
            &self.networks,
            &self.normalizer,
            &self.info.model,
            matrices,
            voices,
            &self.device,
            temperature,
        )
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
