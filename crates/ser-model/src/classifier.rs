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
use crate::normalizer::Normalizer;

/// A trained model ready for prediction, on the non-autodiff Flex CPU backend.
/// Load once and share across threads: prediction takes `&self`.
#[derive(Debug)]
pub struct Classifier {
    network: Network,
    info: BundleInfo,
    normalizer: Normalizer,
    device: Device,
}

impl Classifier {
    pub fn from_bundle_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let parts = bundle::decode(bytes)?;
        let device = Device::flex();
        let network = load_network(&parts.info, &parts.weights, &device)?;
        Ok(Self {
            network,
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

    /// [`Self::predict_audio`] for many recordings in one forward pass.
    pub fn predict_batch(&self, audios: &[Audio]) -> Result<Vec<Vec<f32>>, ModelError> {
        let matrices = audios
            .iter()
            .map(|audio| self.info.features.extract(audio))
            .collect::<Result<Vec<_>, _>>()?;
        self.predict_features(&matrices.iter().collect::<Vec<_>>())
    }

    /// Calibrated probabilities for already extracted (not yet normalised) feature matrices:
    /// the softmax of the logits divided by the bundle's temperature (1 without calibration).
    pub fn predict_features(
        &self,
        matrices: &[&FeatureMatrix],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let temperature = self
            .info
            .calibration
            .as_ref()
            .map_or(1.0, |calibration| calibration.temperature);
        predict_probabilities(
            &self.network,
            &self.normalizer,
            &self.info.model,
            matrices,
            &self.device,
            temperature,
        )
    }
}

/// Largest batch sent through the network at once during inference.
const INFERENCE_BATCH: usize = 64;

pub(crate) fn predict_probabilities(
    network: &Network,
    normalizer: &Normalizer,
    model: &ModelConfig,
    matrices: &[&FeatureMatrix],
    device: &Device,
    temperature: f32,
) -> Result<Vec<Vec<f32>>, ModelError> {
    let frames = model.input_frames();
    let mut probabilities = Vec::with_capacity(matrices.len());
    for chunk in matrices.chunks(INFERENCE_BATCH) {
        let inputs: Vec<_> = chunk
            .iter()
            .map(|matrix| model.network_input(matrix))
            .collect();
        let chunk: Vec<&FeatureMatrix> = inputs.iter().map(AsRef::as_ref).collect();
        let input = normalizer.batch_input(&chunk, frames)?;
        let shape = [chunk.len(), normalizer.n_features(), frames];
        let logits = network.forward(Tensor::from_data(TensorData::new(input, shape), device));
        let logits = tensor_values(logits)?;
        let classes = logits.len() / chunk.len().max(1);
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

pub(crate) fn load_network(
    info: &BundleInfo,
    weights: &[u8],
    device: &Device,
) -> Result<Network, ModelError> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights.to_vec()))
        .map_err(|error| ModelError::CorruptBundle(format!("bad weights: {error}")))?;
    Network::new(&info.model, info.n_features, info.labels.len(), device)
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
