//! One training step (forward, loss, backward), data-parallel across cores.
//!
//! The batch is split into shards, one per core, and each shard runs through its own replica of
//! the network: the same weights under fresh autodiff leaves, so every shard builds and walks
//! its own graph (burn-autodiff locks a graph for a whole backward pass). Gradients are summed,
//! each shard's loss weighted by its share of the batch, which gives the gradient of the
//! whole-batch loss. burn-flex parallelises inside each matrix product instead, which gained
//! only 14 % from a second core on the conv1d reference network; whole shards on separate
//! cores take its step from 20.9 to 11.5 ms (Keras: 10.7 ms).
//!
//! As with data-parallel training elsewhere, batch norm normalises each shard with that shard's
//! statistics, and its running statistics become the mean of the shards' updates. Dropout masks
//! come from one stream per shard, seeded by the caller, so a run stays reproducible on a given
//! machine; the shard count (the core count, at most one shard per [`MIN_SHARD_EXAMPLES`])
//! changes both, so runs on machines with different core counts differ slightly.

use std::collections::HashMap;
use std::ops::Range;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::ModelError;
use crate::classifier::tensor_values;
use crate::config::Architecture;
use crate::nets::{DropoutStream, Network};
use crate::rng::SplitMix64;

/// Smallest shard worth a core of its own: smaller ones make batch-norm statistics noisy.
pub(crate) const MIN_SHARD_EXAMPLES: usize = 16;

/// A batch on the host: `targets.len()` examples of `[n_features, frames]`, row-major, each
/// with its class and that class's weight in the loss.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch<'a> {
    pub inputs: &'a [f32],
    pub targets: &'a [i64],
    pub weights: &'a [f32],
    /// Mixup: each example's second class and its weight (see [`crate::fit`]); accuracy
    /// counts the first.
    pub mixed: Option<MixedTargets<'a>>,
    pub n_features: usize,
    pub frames: usize,
}

/// The second class of every example of a mixup batch and its weight in the loss.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MixedTargets<'a> {
    pub targets: &'a [i64],
    pub weights: &'a [f32],
}

impl Batch<'_> {
    fn len(&self) -> usize {
        self.targets.len()
    }

    /// Every (class, weight) pair of the loss: the first classes, then the mixed ones.
    fn target_sets(&self) -> impl Iterator<Item = (&[i64], &[f32])> {
        std::iter::once((self.targets, self.weights))
            .chain(self.mixed.map(|mixed| (mixed.targets, mixed.weights)))
    }
}

/// What one step gives back to the training loop.
pub(crate) struct StepOutcome {
    /// The batch's weighted mean loss.
    pub loss: f32,
    /// Examples whose largest logit is the target.
    pub correct: usize,
    /// Gradients of `loss` for the network's parameters.
    pub gradients: GradientsParams,
}

/// Forward and backward passes of one batch; see the module documentation.
pub(crate) struct TrainingStep {
    max_shards: usize,
    device: Device,
    /// The share of every target spread evenly over all classes (label smoothing).
    label_smoothing: f32,
}

impl TrainingStep {
    /// Steps of `architecture` with cross-entropy loss, each example weighted by its batch
    /// weight, on the autodiff `device`. One shard takes the whole batch on a GPU build (the
    /// device is already parallel) and for the MLP, whose whole step (under a millisecond)
    /// costs less than building replicas and crossing threads.
    pub(crate) fn new(architecture: Architecture, device: &Device) -> Self {
        let gpu = cfg!(any(feature = "cuda", feature = "wgpu"));
        let max_shards = if gpu || architecture == Architecture::Mlp {
            1
        } else {
            rayon::current_num_threads()
        };
        Self {
            max_shards,
            device: device.clone(),
            label_smoothing: 0.0,
        }
    }

    /// Targets of `1 - smoothing` on the class and `smoothing / classes` on every class.
    pub(crate) fn with_label_smoothing(mut self, smoothing: f32) -> Self {
        self.label_smoothing = smoothing;
        self
    }

    /// At most `max_shards` shards per step (tests use it to compare shard counts).
    #[cfg(test)]
    pub(crate) fn with_max_shards(mut self, max_shards: usize) -> Self {
        self.max_shards = max_shards.max(1);
        self
    }

    /// Runs `batch` through `network` and returns the loss and gradients; `network`'s batch-norm
    /// running statistics take the step's update. `mask_seed` seeds the dropout masks.
    pub(crate) fn run(
        &self,
        network: &mut Network,
        batch: Batch<'_>,
        mask_seed: u64,
    ) -> Result<StepOutcome, ModelError> {
        let shards = self.shards(batch.len());
        let total_weight: f64 = batch
            .target_sets()
            .flat_map(|(_, weights)| weights)
            .map(|&weight| f64::from(weight))
            .sum();
        let replicas: Vec<Network> = shards.iter().map(|_| network.valid().train()).collect();
        let results: Vec<Result<(f32, usize, GradientsParams), ModelError>> = {
            use rayon::prelude::*;
            shards
                .par_iter()
                .zip(&replicas)
                .enumerate()
                .map(|(index, (range, replica))| {
                    let masks = SplitMix64::for_stream(mask_seed, &[index as u64]);
                    self.shard(replica, batch, range.clone(), total_weight as f32, masks)
                })
                .collect()
        };
        let mut loss = 0.0;
        let mut correct = 0;
        let mut gradients = GradientsAccumulator::new();
        for result in results {
            let (shard_loss, shard_correct, shard_gradients) = result?;
            loss += shard_loss;
            correct += shard_correct;
            gradients.accumulate(&*network, shard_gradients);
        }
        *network = average_running_statistics(network.clone(), &replicas);
        Ok(StepOutcome {
            loss,
            correct,
            gradients: gradients.grads(),
        })
    }

    /// Example ranges of the shards: as many as there are cores, none under
    /// [`MIN_SHARD_EXAMPLES`], sizes differing by at most one.
    fn shards(&self, examples: usize) -> Vec<Range<usize>> {
        let count = (examples / MIN_SHARD_EXAMPLES).clamp(1, self.max_shards);
        let (base, extra) = (examples / count, examples % count);
        let mut start = 0;
        (0..count)
            .map(|index| {
                let end = start + base + usize::from(index < extra);
                let range = start..end;
                start = end;
                range
            })
            .collect()
    }

    /// Loss (the shard's part of the batch's weighted mean, whose weights sum to
    /// `total_weight`), correct count and gradients of one shard.
    fn shard(
        &self,
        replica: &Network,
        batch: Batch<'_>,
        range: Range<usize>,
        total_weight: f32,
        masks: SplitMix64,
    ) -> Result<(f32, usize, GradientsParams), ModelError> {
        let example_size = batch.n_features * batch.frames;
        let inputs = batch.inputs[range.start * example_size..range.end * example_size].to_vec();
        let targets = &batch.targets[range.clone()];
        let input = Tensor::from_data(
            TensorData::new(inputs, [range.len(), batch.n_features, batch.frames]),
            &self.device,
        );
        let logits = replica.forward_tapped(input, &mut DropoutStream(masks));
        let correct = count_correct(logits.clone(), targets)?;
        let log_probabilities = log_softmax(logits, 1);
        let n = range.len();
        let weighted_log_likelihood = batch
            .target_sets()
            .map(|(targets, weights)| {
                let target = Tensor::<2, Int>::from_data(
                    TensorData::new(targets[range.clone()].to_vec(), [n, 1]),
                    &self.device,
                );
                let weights = Tensor::<1>::from_data(
                    TensorData::new(weights[range.clone()].to_vec(), [n]),
                    &self.device,
                );
                let target_term = log_probabilities.clone().gather(1, target).reshape([n]);
                let smoothing = self.label_smoothing;
                let log_likelihood = if smoothing > 0.0 {
                    let uniform_term = log_probabilities.clone().mean_dim(1).reshape([n]);
                    target_term.mul_scalar(1.0 - smoothing) + uniform_term.mul_scalar(smoothing)
                } else {
                    target_term
                };
                (log_likelihood * weights).sum()
            })
            .reduce(|a, b| a + b)
            .expect("a batch has its first targets");
        let loss = weighted_log_likelihood.neg().div_scalar(total_weight);
        let value = tensor_values(loss.clone())?
            .first()
            .copied()
            .unwrap_or(f32::NAN);
        let gradients = GradientsParams::from_grads(loss.backward(), replica);
        Ok((value, correct, gradients))
    }
}

fn count_correct(logits: Tensor<2>, targets: &[i64]) -> Result<usize, ModelError> {
    let predicted = logits
        .argmax(1)
        .into_data()
        .try_into_vec_as::<i64>()
        .map_err(|error| ModelError::Training(format!("cannot read predictions: {error:?}")))?;
    Ok(predicted
        .iter()
        .zip(targets)
        .filter(|(p, t)| p == t)
        .count())
}

/// `network` with each running statistic (batch norm's mean and variance) set to the mean of
/// the replicas' values after their shard.
fn average_running_statistics(network: Network, replicas: &[Network]) -> Network {
    let mut sums = RunningSums::default();
    for replica in replicas {
        // `valid` folds the shard's pending update into the replica's running value.
        let _ = replica.valid();
        replica.visit(&mut sums);
    }
    let count = replicas.len() as f32;
    network.map(&mut SetRunning {
        means: sums
            .0
            .into_iter()
            .map(|(id, sum)| (id, sum.div_scalar(count)))
            .collect(),
    })
}

/// Sums of running statistics over replicas, by id; flattened, as ranks differ.
#[derive(Default)]
struct RunningSums(HashMap<ParamId, Tensor<1>>);

impl ModuleVisitor for RunningSums {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        // Trainable parameters are the same in every replica; running statistics never
        // require a gradient.
        if param.is_require_grad() {
            return;
        }
        let value = param.val().flatten::<1>(0, D - 1);
        let sum = match self.0.remove(&param.id) {
            Some(sum) => sum + value,
            None => value,
        };
        self.0.insert(param.id, sum);
    }
}

struct SetRunning {
    means: HashMap<ParamId, Tensor<1>>,
}

impl ModuleMapper for SetRunning {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        match self.means.remove(&param.id) {
            Some(mean) => {
                let shape = param.val().shape();
                param.map(|_| mean.reshape(shape))
            }
            None => param,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;

    const FEATURES: usize = 6;
    const FRAMES: usize = 16;

    /// Features in [-2, 2) and targets cycling through the classes, from a fixed stream (the
    /// device's generator is shared with tests running at the same time).
    fn batch_data(examples: usize) -> (Vec<f32>, Vec<i64>) {
        let mut generator = SplitMix64::for_stream(5, &[]);
        let inputs = (0..examples * FEATURES * FRAMES)
            .map(|_| (generator.unit() * 4.0 - 2.0) as f32)
            .collect();
        let targets = (0..examples).map(|index| (index * 5 % 7) as i64).collect();
        (inputs, targets)
    }

    /// A copy of `network` with running statistics of its own (a step updates them).
    fn copy(network: &Network) -> Network {
        network.valid().train()
    }

    /// Every float tensor of `network` (running statistics included) and its gradient, if any.
    fn values_and_gradients(network: &Network, gradients: &GradientsParams) -> Vec<f32> {
        struct Collect<'a>(&'a GradientsParams, Vec<f32>);
        impl ModuleVisitor for Collect<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.1.extend(tensor_values(param.val()).unwrap());
                if let Some(gradient) = self.0.get::<D>(param.id) {
                    self.1.extend(tensor_values(gradient).unwrap());
                }
            }
        }
        let mut collect = Collect(gradients, Vec::new());
        network.visit(&mut collect);
        collect.1
    }

    /// Loss, correct count, then every value and gradient after one step with at most
    /// `max_shards` shards, each example weighted by its class's entry of `class_weights`.
    fn one_step(
        network: &Network,
        examples: usize,
        class_weights: Option<&[f32]>,
        max_shards: usize,
    ) -> (f32, usize, Vec<f32>) {
        let device = Device::flex().autodiff();
        let mut network = copy(network);
        let (inputs, targets) = batch_data(examples);
        let weights: Vec<f32> = targets
            .iter()
            .map(|&target| class_weights.map_or(1.0, |weights| weights[target as usize]))
            .collect();
        let step = TrainingStep::new(Architecture::Cnn1d, &device).with_max_shards(max_shards);
        let batch = Batch {
            inputs: &inputs,
            targets: &targets,
            weights: &weights,
            mixed: None,
            n_features: FEATURES,
            frames: FRAMES,
        };
        let outcome = step.run(&mut network, batch, 11).unwrap();
        let values = values_and_gradients(&network, &outcome.gradients);
        (outcome.loss, outcome.correct, values)
    }

    fn new_network(config: &ModelConfig) -> Network {
        Network::new(config, FEATURES, 7, &Device::flex().autodiff(), 0)
    }

    /// The running statistics of `network` in visiting order (mean, variance per batch norm).
    fn running_statistics(network: &Network) -> Vec<Vec<f32>> {
        struct Collect(Vec<Vec<f32>>);
        impl ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                if !param.is_require_grad() {
                    self.0.push(tensor_values(param.val()).unwrap());
                }
            }
        }
        let mut collect = Collect(Vec::new());
        network.visit(&mut collect);
        collect.0
    }

    fn assert_close(actual: &[f32], expected: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (index, (a, e)) in actual.iter().zip(expected).enumerate() {
            assert!(
                (a - e).abs() <= 2e-5 * (1.0 + e.abs()),
                "{index}: {a} vs {e}"
            );
        }
    }

    fn without_dropout(architecture: Architecture) -> ModelConfig {
        let mut config = ModelConfig::for_architecture(architecture);
        config.frames = FRAMES;
        config.cnn1d.dropout = 0.0;
        config.mlp.dropout = 0.0;
        config
    }

    /// Two shards (unequal, class-weighted) give the whole batch's loss and gradients; with
    /// batch norm, the running statistics average the shards'.
    #[test]
    fn shards_give_the_whole_batch_gradient() {
        let reference = crate::keras_reference_config();
        let reference = ModelConfig {
            frames: FRAMES,
            ..reference
        };
        let network = new_network(&reference);
        let weights = [0.5, 1.0, 1.5, 2.0, 1.0, 0.8, 1.2];
        let (loss, correct, whole) = one_step(&network, 33, Some(&weights), 1);
        let (sharded_loss, sharded_correct, sharded) = one_step(&network, 33, Some(&weights), 2);
        assert!(
            (loss - sharded_loss).abs() < 1e-5,
            "{loss} vs {sharded_loss}"
        );
        assert_eq!(correct, sharded_correct);
        assert_close(&sharded, &whole);

        let device = Device::flex().autodiff();
        let network = new_network(&without_dropout(Architecture::Cnn1d));
        let running_means = |max_shards| {
            let mut network = copy(&network);
            let (inputs, targets) = batch_data(32);
            let batch = Batch {
                inputs: &inputs,
                targets: &targets,
                weights: &[1.0; 32],
                mixed: None,
                n_features: FEATURES,
                frames: FRAMES,
            };
            let step = TrainingStep::new(Architecture::Cnn1d, &device).with_max_shards(max_shards);
            step.run(&mut network, batch, 3).unwrap();
            running_statistics(&network)
        };
        let (whole, sharded) = (running_means(1), running_means(2));
        assert_eq!(
            whole.len(),
            6,
            "three batch norms, two running tensors each"
        );
        assert!(whole.iter().flatten().any(|&v| v != 0.0 && v != 1.0));
        let close = |a: &[f32], b: &[f32], tolerance: f32| {
            a.iter().zip(b).all(|(a, b)| (a - b).abs() <= tolerance)
        };
        // The first batch norm sees the same input either way: its running mean is exact.
        // Its variance averages the shards' (smaller) variances, and later layers see inputs
        // normalised per shard: both stay close.
        assert!(close(&whole[0], &sharded[0], 1e-6));
        assert!(!close(&whole[1], &sharded[1], 1e-6));
        for (whole, sharded) in whole.iter().zip(&sharded) {
            assert!(close(whole, sharded, 0.02), "{whole:?} vs {sharded:?}");
        }
    }

    /// Shards run at once on several cores, yet a step with dropout and batch norm repeats
    /// exactly.
    #[test]
    fn sharded_steps_repeat_exactly() {
        let mut config = ModelConfig::for_architecture(Architecture::Cnn1d);
        config.frames = FRAMES;
        assert!(config.cnn1d.dropout > 0.0 && config.cnn1d.batch_norm);
        let network = new_network(&config);
        let first = one_step(&network, 48, None, 3);
        for _ in 0..3 {
            let again = one_step(&network, 48, None, 3);
            assert_eq!(again.0.to_bits(), first.0.to_bits());
            assert_eq!(again.2, first.2);
        }
    }

    #[test]
    fn shards_cover_the_batch_evenly() {
        let step =
            TrainingStep::new(Architecture::Cnn1d, &Device::flex().autodiff()).with_max_shards(4);
        assert_eq!(step.shards(15), vec![0..15]);
        assert_eq!(step.shards(33), vec![0..17, 17..33]);
        assert_eq!(step.shards(64), vec![0..16, 16..32, 32..48, 48..64]);
        assert_eq!(step.shards(1000).len(), 4);
    }

    /// An example of weight k counts as k copies of it (0: left out), and the loss matches
    /// burn's class-weighted cross-entropy when the weights are by class.
    #[test]
    fn example_weights_count_as_copies() {
        let device = Device::flex().autodiff();
        let config = without_dropout(Architecture::Mlp);
        let network = Network::new(&config, FEATURES * FRAMES, 7, &device, 0);
        let (inputs, targets) = batch_data(20);
        let weights: Vec<f32> = (0..20).map(|index| (index % 3) as f32).collect();
        let step = TrainingStep::new(Architecture::Mlp, &device);
        let run = |inputs: &[f32], targets: &[i64], weights: &[f32]| {
            let mut network = copy(&network);
            let batch = Batch {
                inputs,
                targets,
                weights,
                mixed: None,
                n_features: FEATURES * FRAMES,
                frames: 1,
            };
            let outcome = step.run(&mut network, batch, 1).unwrap();
            (
                outcome.loss,
                values_and_gradients(&network, &outcome.gradients),
            )
        };
        let (loss, values) = run(&inputs, &targets, &weights);

        let example_size = FEATURES * FRAMES;
        let (mut copied_inputs, mut copied_targets) = (Vec::new(), Vec::new());
        for (index, &weight) in weights.iter().enumerate() {
            for _ in 0..weight as usize {
                copied_inputs
                    .extend_from_slice(&inputs[index * example_size..(index + 1) * example_size]);
                copied_targets.push(targets[index]);
            }
        }
        let ones = vec![1.0; copied_targets.len()];
        let (copied_loss, copied_values) = run(&copied_inputs, &copied_targets, &ones);
        assert!((loss - copied_loss).abs() < 1e-5, "{loss} vs {copied_loss}");
        assert_close(&values, &copied_values);

        // A mixup example with classes a (weight 0.7) and b (0.3) counts as two copies of it,
        // one for each class with that weight.
        let second: Vec<i64> = targets.iter().map(|&target| (target + 3) % 7).collect();
        let (first_weights, second_weights) = (vec![0.7; 20], vec![0.3; 20]);
        let mut mixed_network = copy(&network);
        let mixed = step
            .run(
                &mut mixed_network,
                Batch {
                    inputs: &inputs,
                    targets: &targets,
                    weights: &first_weights,
                    mixed: Some(MixedTargets {
                        targets: &second,
                        weights: &second_weights,
                    }),
                    n_features: example_size,
                    frames: 1,
                },
                1,
            )
            .unwrap();
        let mixed_values = values_and_gradients(&mixed_network, &mixed.gradients);
        let doubled_inputs = [inputs.as_slice(), inputs.as_slice()].concat();
        let doubled_targets = [targets.as_slice(), second.as_slice()].concat();
        let doubled_weights = [first_weights, second_weights].concat();
        let (doubled_loss, doubled_values) =
            run(&doubled_inputs, &doubled_targets, &doubled_weights);
        assert!(
            (mixed.loss - doubled_loss).abs() < 1e-5,
            "{} vs {doubled_loss}",
            mixed.loss
        );
        assert_close(&mixed_values, &doubled_values);

        let class_weights = [0.5, 1.0, 1.5, 2.0, 1.0, 0.8, 1.2];
        let by_class: Vec<f32> = targets
            .iter()
            .map(|&target| class_weights[target as usize])
            .collect();
        let (loss, _) = run(&inputs, &targets, &by_class);
        let logits = network.valid().forward(Tensor::from_data(
            TensorData::new(inputs.clone(), [20, example_size, 1]),
            &Device::flex(),
        ));
        // burn's cross-entropy of the same logits, for reference.
        let burn_loss = |config: burn::nn::loss::CrossEntropyLossConfig| {
            let targets = Tensor::<1, Int>::from_data(
                TensorData::new(targets.clone(), [20]),
                &Device::flex(),
            );
            let loss = config
                .init(&Device::flex())
                .forward(logits.clone(), targets);
            tensor_values(loss).unwrap()[0]
        };
        let weighted = burn_loss(
            burn::nn::loss::CrossEntropyLossConfig::new()
                .with_weights(Some(class_weights.to_vec())),
        );
        assert!((loss - weighted).abs() < 1e-5, "{loss} vs {weighted}");

        // Label smoothing as burn's: targets (1 - 0.1) on the class, 0.1 / 7 on every class.
        let smoothing_step =
            TrainingStep::new(Architecture::Mlp, &device).with_label_smoothing(0.1);
        let ones = vec![1.0; 20];
        let smoothed = smoothing_step
            .run(
                &mut copy(&network),
                Batch {
                    inputs: &inputs,
                    targets: &targets,
                    weights: &ones,
                    mixed: None,
                    n_features: example_size,
                    frames: 1,
                },
                1,
            )
            .unwrap()
            .loss;
        let burn_smoothed =
            burn_loss(burn::nn::loss::CrossEntropyLossConfig::new().with_smoothing(Some(0.1)));
        assert!(
            (smoothed - burn_smoothed).abs() < 1e-5,
            "{smoothed} vs {burn_smoothed}"
        );
        assert!(
            loss > 0.5,
            "an untrained network's loss is near ln 7: {loss}"
        );
    }
}
