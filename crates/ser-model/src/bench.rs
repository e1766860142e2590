//! Training-step timing for `ser bench train`: the same forward + backward + Adam step as
//! [`crate::fit`], on random data of a fixed shape.

use std::time::{Duration, Instant};

use burn::optim::AdamConfig;
use burn::tensor::{Device, Distribution, Tensor};

use crate::ModelError;
use crate::classifier::tensor_values;
use crate::config::{ConvConfig, ModelConfig};
use crate::nets::Network;
use crate::step::{Batch, TrainingStep};

/// Timing of one architecture.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepTiming {
    pub architecture: String,
    pub batch: usize,
    pub n_features: usize,
    pub frames: usize,
    pub params: usize,
    pub ms_per_step: f64,
}

/// The Keras reference network of `tools/keras_step_time.py` (3 conv1d layers, no batch
/// norm or dropout), for a like-for-like step time.
pub fn keras_reference_config() -> ModelConfig {
    ModelConfig {
        cnn1d: ConvConfig {
            batch_norm: false,
            dropout: 0.0,
            ..ConvConfig::default()
        },
        ..ModelConfig::default()
    }
}

/// Mean time of one training step over `steps` steps after `warmup` steps.
pub fn time_training_step(
    config: &ModelConfig,
    n_features: usize,
    batch: usize,
    warmup: usize,
    steps: usize,
) -> Result<StepTiming, ModelError> {
    use burn::module::Module;
    config.validate()?;
    let n_classes = 7;
    let device = Device::default().autodiff();
    let (n_features, frames) = (config.input_features(n_features), config.input_frames());
    let mut network = Network::new(config, n_features, n_classes, &device, 0);
    let params = network.num_params();
    let mut optimizer = AdamConfig::new().init();
    let training_step = TrainingStep::new(config.architecture, &device);
    let inputs = tensor_values(Tensor::<3>::random(
        [batch, n_features, frames],
        Distribution::Normal(0.0, 1.0),
        &device,
    ))?;
    let targets: Vec<i64> = (0..batch).map(|index| (index % n_classes) as i64).collect();
    let batch_data = Batch {
        inputs: &inputs,
        targets: &targets,
        weights: &vec![1.0; batch],
        mixed: None,
        n_features,
        frames,
    };
    let mut elapsed = Duration::ZERO;
    for step in 0..warmup + steps {
        let started = Instant::now();
        let outcome = training_step.run(&mut network, batch_data, step as u64)?;
        network = optimizer.step(1e-3, network, outcome.gradients);
        if step >= warmup {
            elapsed += started.elapsed();
        }
    }
    Ok(StepTiming {
        architecture: config.architecture.to_string(),
        batch,
        n_features,
        frames,
        params,
        ms_per_step: elapsed.as_secs_f64() * 1000.0 / steps.max(1) as f64,
    })
}
