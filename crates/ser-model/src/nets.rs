//! The networks. Every network takes a normalised feature batch `[batch, n_features, frames]`
//! and returns class logits `[batch, n_classes]`; each one reshapes internally to the layout
//! its layers want.

use std::sync::{Mutex, PoisonError};

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, BiLstm, BiLstmConfig, Dropout, DropoutConfig, Linear, LinearConfig,
    Lstm, PaddingConfig1d, PaddingConfig2d,
};
use burn::tensor::activation::{relu, sigmoid, softmax};
use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

use crate::config::{Architecture, ConvConfig, DenseConfig, ModelConfig, RecurrentConfig};
use crate::rng::SplitMix64;

/// Receives every layer's output during a forward pass ([`crate::summary`] uses it to print
/// shapes and parameter counts) and may supply the dropout masks' seeds; training passes use
/// [`DropoutStream`], other passes [`NoTap`].
pub(crate) trait Tap {
    fn layer(&mut self, name: String, kind: &str, output: &[usize], params: ParamCount);

    /// Seed of the next dropout mask; `None` draws it from the device's generator.
    fn dropout_seed(&mut self) -> Option<u64> {
        None
    }
}

/// Parameters of one layer: trainable ones and running statistics (batch norm).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ParamCount {
    pub trainable: usize,
    pub non_trainable: usize,
}

impl ParamCount {
    fn of<M: Module>(module: &M) -> Self {
        Self {
            trainable: module.num_params(),
            non_trainable: 0,
        }
    }

    fn none() -> Self {
        Self::default()
    }
}

pub(crate) struct NoTap;

impl Tap for NoTap {
    fn layer(&mut self, _: String, _: &str, _: &[usize], _: ParamCount) {}
}

/// A training pass of one shard ([`crate::step`]): dropout masks from the shard's own stream,
/// so shards running at once on several cores draw the same masks on every run.
pub(crate) struct DropoutStream(pub SplitMix64);

impl Tap for DropoutStream {
    fn layer(&mut self, _: String, _: &str, _: &[usize], _: ParamCount) {}

    fn dropout_seed(&mut self) -> Option<u64> {
        Some(self.0.next_u64())
    }
}

/// conv -> ReLU -> batch norm -> max pool -> dropout over `[batch, time, channels]`.
///
/// Time-major, as a channels-last map of height 1 (see [`conv_rows`]); the summary still
/// reports `[channels, time]` like the network's input.
#[derive(Module, Debug)]
pub(crate) struct ConvBlock1d {
    conv: Conv1d,
    norm: Option<BatchNorm>,
    /// Max-pool size (1 = none).
    pool: usize,
    dropout: Dropout,
}

impl ConvBlock1d {
    fn new(shape: BlockShape, config: &ConvConfig, device: &Device) -> Self {
        Self {
            conv: Conv1dConfig::new(shape.channels_in, shape.channels_out, shape.kernel)
                .with_padding(PaddingConfig1d::Same)
                .init(device),
            norm: config
                .batch_norm
                .then(|| BatchNormConfig::new(shape.channels_out).init(device)),
            pool: if shape.pooled { config.pool } else { 1 },
            dropout: DropoutConfig::new(config.dropout).init(),
        }
    }

    fn forward(&self, input: Tensor<3>, index: usize, tap: &mut impl Tap) -> Tensor<3> {
        let [batch, frames, channels_in] = input.dims();
        let [channels_out, _, kernel] = self.conv.weight.dims();
        // [out, in, kernel] -> [kernel, in, out]: rows in the order of `conv_rows`' columns.
        let weight = self
            .conv
            .weight
            .val()
            .permute([2, 1, 0])
            .reshape([kernel * channels_in, channels_out]);
        let bias = self.conv.bias.as_ref().map(|bias| bias.val());
        let x = relu(conv_rows(input.unsqueeze_dim(1), weight, bias, [1, kernel]));
        let shape = [batch, channels_out, frames];
        tap.layer(
            format!("conv1d_{index}"),
            "Conv1d+ReLU",
            &shape,
            ParamCount::of(&self.conv),
        );
        let x = match &self.norm {
            Some(norm) => {
                let x = batch_norm_rows(norm, x);
                tap.layer(
                    format!("batch_norm_{index}"),
                    "BatchNorm",
                    &shape,
                    batch_norm_params(norm),
                );
                x
            }
            None => x,
        };
        let x = x.reshape([batch, 1, frames, channels_out]);
        let x = if self.pool > 1 {
            let x = max_pool_rows(x, [1, self.pool]);
            let [_, _, frames, _] = x.dims();
            tap.layer(
                format!("max_pool1d_{index}"),
                "MaxPool1d",
                &[batch, channels_out, frames],
                ParamCount::none(),
            );
            x
        } else {
            x
        };
        let x: Tensor<3> = dropout(&self.dropout, x, tap).squeeze_dim(1);
        tap.layer(
            format!("dropout_{index}"),
            "Dropout",
            &channels_first(&x.dims()),
            ParamCount::none(),
        );
        x
    }
}

/// Batch norm of `[rows, channels]`, statistics over the rows (e.g. every frame of every
/// example): what `norm.forward` computes for `[batch, channels, ...]`, without the
/// channels-first transposes of burn's generic training path, which took more than twice as
/// long as the normalisation itself. Inference and frozen layers use `norm.forward`.
fn batch_norm_rows(norm: &BatchNorm, x: Tensor<2>) -> Tensor<2> {
    let device = x.device();
    if !(device.is_autodiff() && norm.training.is_enabled()) {
        return norm.forward(x);
    }
    let mean = x.clone().mean_dim(0);
    let centered = x - mean.clone();
    // Biased (population) variance, as burn normalises and keeps it.
    let variance = centered.clone().square().mean_dim(0);
    let scale =
        norm.gamma.val().unsqueeze_dim(0) / variance.clone().add_scalar(norm.epsilon).sqrt();
    let output = centered * scale + norm.beta.val().unsqueeze_dim(0);
    for (running, batch) in [(&norm.running_mean, mean), (&norm.running_var, variance)] {
        let updated = running
            .value_sync()
            .to_device(&device)
            .mul_scalar(1.0 - norm.momentum)
            .add(batch.detach().squeeze_dim(0).mul_scalar(norm.momentum));
        running.update(updated.detach());
    }
    output
}

/// Inverted dropout as `layer.forward` does it (kept elements scaled by `1 / (1 - p)`), with
/// the mask drawn on the host by SplitMix64 seeded by `tap` (or one draw of burn's
/// generator), so runs stay reproducible from the device seed. burn-flex draws every Bernoulli
/// element through a freshly built sampler: that took longer than the rest of a cnn1d
/// training step.
fn dropout<const D: usize>(layer: &Dropout, input: Tensor<D>, tap: &mut impl Tap) -> Tensor<D> {
    let device = input.device();
    if !layer.training.is_enabled() || !device.is_autodiff() || layer.prob == 0.0 {
        return input;
    }
    let seed = tap
        .dropout_seed()
        .unwrap_or_else(|| draw_mask_seed(&device));
    let mut generator = SplitMix64::for_stream(seed, &[]);
    let keep = 1.0 - layer.prob;
    // Each 64-bit draw decides two elements, kept when its 32-bit half is below the threshold.
    let threshold = (keep * 2f64.powi(32)) as u64;
    let scale = (1.0 / keep) as f32;
    let shape = input.shape();
    let mask: Vec<f32> = std::iter::repeat_with(|| generator.next_u64())
        .flat_map(|draw| [draw & 0xFFFF_FFFF, draw >> 32])
        .take(shape.num_elements())
        .map(|half| if half < threshold { scale } else { 0.0 })
        .collect();
    input * Tensor::from_data(TensorData::new(mask, shape), &device)
}

/// A dropout seed for a pass without a stream of its own, from the device's generator.
fn draw_mask_seed(device: &Device) -> u64 {
    Tensor::<1>::random([2], Distribution::Uniform(0.0, 1.0), device)
        .into_data()
        .iter::<f32>()
        .fold(0u64, |seed, draw| seed << 32 | u64::from(draw.to_bits()))
}

/// A channels-last shape `[batch, ..., channels]` as `[batch, channels, ...]`, the layout
/// the summary reports.
fn channels_first<const D: usize>(dims: &[usize; D]) -> [usize; D] {
    let mut shape = *dims;
    shape[1..].rotate_right(1);
    shape
}

/// Stride-1, `Same`-padded convolution of channels-last maps `[batch, height, width,
/// channels_in]` with a `[kernel_h * kernel_w * channels_in, channels_out]` kernel matrix:
/// `[batch * height * width, channels_out]`.
///
/// The kernel's neighbourhood of every position side by side (im2col: one row gather from the
/// padded map, whose gradient is a row-wise add) times the kernel matrix: one large matrix
/// product forward and for each gradient. burn-flex's own convolution computes the weight
/// gradient as a convolution with the batch as channels, i.e. one `kernel`-row product per
/// input channel, which took half of a conv1d training step.
fn conv_rows(
    x: Tensor<4>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
    [kernel_h, kernel_w]: [usize; 2],
) -> Tensor<2> {
    let [batch, height, width, channels] = x.dims();
    let device = x.device();
    // `Same` padding as burn and Keras: the odd one of an even kernel goes after.
    let (top, left) = ((kernel_h - 1) / 2, (kernel_w - 1) / 2);
    let (padded_h, padded_w) = (height + kernel_h - 1, width + kernel_w - 1);
    let padded: Tensor<2> = x
        .pad(
            [
                (top, kernel_h - 1 - top),
                (left, kernel_w - 1 - left),
                (0, 0),
            ],
            PadMode::Constant(0.0),
        )
        .reshape([batch * padded_h * padded_w, channels]);
    let mut rows = Vec::with_capacity(batch * height * width * kernel_h * kernel_w);
    for example in 0..batch {
        for row in 0..height {
            for column in 0..width {
                for offset_h in 0..kernel_h {
                    let start = (example * padded_h + row + offset_h) * padded_w + column;
                    rows.extend((start..start + kernel_w).map(|index| index as i32));
                }
            }
        }
    }
    let output = padded
        .select(0, row_indices(rows, &device))
        .reshape([batch * height * width, kernel_h * kernel_w * channels])
        .matmul(weight);
    match bias {
        Some(bias) => output + bias.unsqueeze_dim(0),
        None => output,
    }
}

/// Row indices as an index tensor: `i32`, burn-flex's integer type (a map with 2^31 rows
/// would not fit in memory anyway).
fn row_indices(rows: Vec<i32>, device: &Device) -> Tensor<1, Int> {
    let count = rows.len();
    Tensor::from_data(TensorData::new(rows, [count]), device)
}

/// Max pool of channels-last maps over non-overlapping `pool` windows (trailing partial
/// windows dropped, as burn's and Keras' max pool do): the element-wise maximum of one row
/// gather per window position, max(a, b) = b + relu(a - b) (burn-flex's mask select behind
/// `max_pair` branches per element, and its pooling kernels took a tenth of a step).
fn max_pool_rows(x: Tensor<4>, [pool_h, pool_w]: [usize; 2]) -> Tensor<4> {
    let [batch, height, width, channels] = x.dims();
    let (out_h, out_w) = (height / pool_h, width / pool_w);
    let device = x.device();
    let x: Tensor<2> = x.reshape([batch * height * width, channels]);
    let window_position = |offset_h: usize, offset_w: usize| {
        let mut rows = Vec::with_capacity(batch * out_h * out_w);
        for example in 0..batch {
            for row in 0..out_h {
                let start = (example * height + row * pool_h + offset_h) * width + offset_w;
                rows.extend((0..out_w).map(|column| (start + column * pool_w) as i32));
            }
        }
        x.clone().select(0, row_indices(rows, &device))
    };
    let mut positions = (0..pool_h).flat_map(|h| (0..pool_w).map(move |w| (h, w)));
    let first = positions
        .next()
        .map_or_else(|| x.clone(), |(h, w)| window_position(h, w));
    positions
        .fold(first, |max, (h, w)| {
            let next = window_position(h, w);
            next.clone() + relu(max - next)
        })
        .reshape([batch, out_h, out_w, channels])
}

/// Batch norm keeps running mean and variance: counted apart, as Keras does.
fn batch_norm_params(norm: &BatchNorm) -> ParamCount {
    let total = norm.num_params();
    ParamCount {
        trainable: total / 2,
        non_trainable: total / 2,
    }
}

/// Sizes of one convolution block.
#[derive(Debug, Clone, Copy)]
struct BlockShape {
    channels_in: usize,
    channels_out: usize,
    kernel: usize,
    /// Max pool after the block: between blocks only, global pooling follows the last.
    pooled: bool,
}

fn block_shapes(channels_in: usize, config: &ConvConfig) -> Vec<BlockShape> {
    let mut previous = channels_in;
    let count = config.channels.len();
    config
        .channels
        .iter()
        .enumerate()
        .map(|(index, &channels_out)| {
            let shape = BlockShape {
                channels_in: previous,
                channels_out,
                kernel: config.kernel_size(index),
                pooled: config.pool > 1 && index + 1 < count,
            };
            previous = channels_out;
            shape
        })
        .collect()
}

fn conv_stack_1d(channels_in: usize, config: &ConvConfig, device: &Device) -> Vec<ConvBlock1d> {
    block_shapes(channels_in, config)
        .into_iter()
        .map(|shape| ConvBlock1d::new(shape, config, device))
        .collect()
}

/// The blocks over a `[batch, features, frames]` input; returns `[batch, frames, channels]`.
fn forward_conv_stack_1d(
    blocks: &[ConvBlock1d],
    input: Tensor<3>,
    tap: &mut impl Tap,
) -> Tensor<3> {
    blocks
        .iter()
        .enumerate()
        .fold(input.swap_dims(1, 2), |x, (index, block)| {
            block.forward(x, index + 1, tap)
        })
}

fn dense(
    layer: &Linear,
    input: Tensor<2>,
    name: &str,
    kind: &str,
    tap: &mut impl Tap,
) -> Tensor<2> {
    let x = layer.forward(input);
    tap.layer(name.to_string(), kind, &x.dims(), ParamCount::of(layer));
    x
}

/// CNN-1D: features as channels, convolution over time, global average pooling.
#[derive(Module, Debug)]
pub(crate) struct Cnn1d {
    blocks: Vec<ConvBlock1d>,
    output: Linear,
}

impl Cnn1d {
    fn new(config: &ConvConfig, n_features: usize, n_classes: usize, device: &Device) -> Self {
        let last = *config.channels.last().unwrap_or(&n_features);
        Self {
            blocks: conv_stack_1d(n_features, config, device),
            output: LinearConfig::new(last, n_classes).init(device),
        }
    }

    fn forward(&self, input: Tensor<3>, tap: &mut impl Tap) -> Tensor<2> {
        let x = forward_conv_stack_1d(&self.blocks, input, tap);
        let x: Tensor<2> = x.mean_dim(1).squeeze_dim(1);
        tap.layer(
            "global_avg_pool".into(),
            "GlobalAvgPool1d",
            &x.dims(),
            ParamCount::none(),
        );
        dense(&self.output, x, "dense", "Linear", tap)
    }
}

/// conv -> ReLU -> batch norm -> max pool -> dropout over channels-last maps `[batch, height,
/// width, channels]` (see [`conv_rows`]); the summary reports `[channels, height, width]`.
#[derive(Module, Debug)]
pub(crate) struct ConvBlock2d {
    conv: Conv2d,
    norm: Option<BatchNorm>,
    /// Max-pool size in both directions (1 = none).
    pool: usize,
    dropout: Dropout,
}

impl ConvBlock2d {
    fn new(shape: BlockShape, config: &ConvConfig, device: &Device) -> Self {
        let kernel = shape.kernel;
        Self {
            conv: Conv2dConfig::new([shape.channels_in, shape.channels_out], [kernel, kernel])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            norm: config
                .batch_norm
                .then(|| BatchNormConfig::new(shape.channels_out).init(device)),
            pool: if shape.pooled { config.pool } else { 1 },
            dropout: DropoutConfig::new(config.dropout).init(),
        }
    }

    fn forward(&self, input: Tensor<4>, index: usize, tap: &mut impl Tap) -> Tensor<4> {
        let [batch, height, width, channels_in] = input.dims();
        let [channels_out, _, kernel_h, kernel_w] = self.conv.weight.dims();
        // [out, in, h, w] -> [h, w, in, out]: rows in the order of `conv_rows`' columns.
        let weight = self
            .conv
            .weight
            .val()
            .permute([2, 3, 1, 0])
            .reshape([kernel_h * kernel_w * channels_in, channels_out]);
        let bias = self.conv.bias.as_ref().map(|bias| bias.val());
        let x = relu(conv_rows(input, weight, bias, [kernel_h, kernel_w]));
        let shape = [batch, channels_out, height, width];
        tap.layer(
            format!("conv2d_{index}"),
            "Conv2d+ReLU",
            &shape,
            ParamCount::of(&self.conv),
        );
        let x = match &self.norm {
            Some(norm) => {
                let x = batch_norm_rows(norm, x);
                tap.layer(
                    format!("batch_norm_{index}"),
                    "BatchNorm",
                    &shape,
                    batch_norm_params(norm),
                );
                x
            }
            None => x,
        };
        let x = x.reshape([batch, height, width, channels_out]);
        let x = if self.pool > 1 {
            let x = max_pool_rows(x, [self.pool, self.pool]);
            tap.layer(
                format!("max_pool2d_{index}"),
                "MaxPool2d",
                &channels_first(&x.dims()),
                ParamCount::none(),
            );
            x
        } else {
            x
        };
        let x = dropout(&self.dropout, x, tap);
        tap.layer(
            format!("dropout_{index}"),
            "Dropout",
            &channels_first(&x.dims()),
            ParamCount::none(),
        );
        x
    }
}

/// CNN-2D: the feature matrix as a one-channel image (e.g. log-mel x time).
#[derive(Module, Debug)]
pub(crate) struct Cnn2d {
    blocks: Vec<ConvBlock2d>,
    output: Linear,
}

impl Cnn2d {
    fn new(config: &ConvConfig, n_classes: usize, device: &Device) -> Self {
        let last = *config.channels.last().unwrap_or(&1);
        Self {
            blocks: block_shapes(1, config)
                .into_iter()
                .map(|shape| ConvBlock2d::new(shape, config, device))
                .collect(),
            output: LinearConfig::new(last, n_classes).init(device),
        }
    }

    fn forward(&self, input: Tensor<3>, tap: &mut impl Tap) -> Tensor<2> {
        let x: Tensor<4> = input.unsqueeze_dim(3);
        tap.layer(
            "image".into(),
            "Reshape",
            &channels_first(&x.dims()),
            ParamCount::none(),
        );
        let x = self
            .blocks
            .iter()
            .enumerate()
            .fold(x, |x, (index, block)| block.forward(x, index + 1, tap));
        let [batch, height, width, channels] = x.dims();
        let x: Tensor<2> = x
            .reshape([batch, height * width, channels])
            .mean_dim(1)
            .squeeze_dim(1);
        tap.layer(
            "global_avg_pool".into(),
            "GlobalAvgPool2d",
            &x.dims(),
            ParamCount::none(),
        );
        dense(&self.output, x, "dense", "Linear", tap)
    }
}

/// Stacked bidirectional LSTMs over `[batch, time, features]`, dropout between layers.
#[derive(Module, Debug)]
pub(crate) struct RecurrentStack {
    layers: Vec<BiLstm>,
    dropout: Dropout,
}

impl RecurrentStack {
    fn new(d_input: usize, config: &RecurrentConfig, device: &Device) -> Self {
        let layers = (0..config.layers)
            .map(|layer| {
                let d_in = if layer == 0 {
                    d_input
                } else {
                    2 * config.hidden
                };
                BiLstmConfig::new(d_in, config.hidden, true)
                    .with_batch_first(true)
                    .init(device)
            })
            .collect();
        Self {
            layers,
            dropout: DropoutConfig::new(config.dropout).init(),
        }
    }

    fn forward(&self, input: Tensor<3>, tap: &mut impl Tap) -> Tensor<3> {
        self.layers
            .iter()
            .enumerate()
            .fold(input, |x, (index, lstm)| {
                let x = dropout(&self.dropout, bilstm(lstm, x), tap);
                tap.layer(
                    format!("bilstm_{}", index + 1),
                    "BiLstm",
                    &x.dims(),
                    ParamCount::of(lstm),
                );
                x
            })
    }
}

/// `layer` over `[batch, time, features]`: `[batch, time, 2 * hidden]`, forward direction
/// first, from zero initial states. Same parameters and results as `BiLstm::forward`
/// (checked by a unit test), computed for burn-flex: see [`lstm_states`].
fn bilstm(layer: &BiLstm, input: Tensor<3>) -> Tensor<3> {
    // The gradient of a slice is a zero tensor of the sliced one's size with the slice
    // written in: slicing the frames out of groups of about sqrt(time) frames costs about
    // 2 sqrt(time) input-sized tensors instead of `time` of them.
    let [_, time, _] = input.dims();
    let frames: Vec<Tensor<2>> = input
        .split(time.isqrt().max(1), 1)
        .into_iter()
        .flat_map(|frames| frames.iter_dim(1))
        .map(|frame| frame.squeeze_dim(1))
        .collect();
    // The directions are independent: one per core.
    let (forward, reverse) = rayon::join(
        || lstm_states(&layer.forward, &frames, false),
        || lstm_states(&layer.reverse, &frames, true),
    );
    let states = forward
        .into_iter()
        .zip(reverse)
        .map(|(forward, reverse)| Tensor::cat(vec![forward, reverse], 1))
        .collect();
    Tensor::stack(states, 1)
}

/// Hidden states `[batch, hidden]` of one LSTM direction (burn's default activations:
/// sigmoid gates, tanh cell), in frame order.
///
/// burn's `Lstm::forward` computes each gate with two small products per frame, writes every
/// state into the whole output tensor (whose gradient is then a full-size tensor per frame),
/// and evaluates tanh with libm, forward and again backward: most of a bilstm step. Here one
/// product of `[frame, hidden]` with the four gates' joined weights gives all gate sums, one
/// sigmoid all gates, with tanh(x) = 2 sigmoid(2x) - 1 (the cell gate's weights are doubled);
/// burn-flex's sigmoid is the cheaper function and its gradient reuses the output.
fn lstm_states(lstm: &Lstm, frames: &[Tensor<2>], reverse: bool) -> Vec<Tensor<2>> {
    let forget = lstm
        .forget_gate
        .as_ref()
        .expect("ser builds its LSTMs with a forget gate");
    // Gate order input, forget, output, cell; the cell gate (tanh) scaled by 2.
    let gates = [
        (&lstm.input_gate, 1.0),
        (forget, 1.0),
        (&lstm.output_gate, 1.0),
        (&lstm.cell_gate, 2.0),
    ];
    let weights = gates
        .iter()
        .map(|&(gate, scale)| {
            Tensor::cat(
                vec![
                    gate.input_transform.weight.val(),
                    gate.hidden_transform.weight.val(),
                ],
                0,
            ) * scale
        })
        .collect();
    let weights = Tensor::cat(weights, 1);
    let biases: Option<Vec<Tensor<1>>> = gates
        .iter()
        .map(|&(gate, scale)| {
            let input = gate.input_transform.bias.as_ref()?.val();
            let hidden = gate.hidden_transform.bias.as_ref()?.val();
            Some((input + hidden) * scale)
        })
        .collect();
    let bias = biases.map(|biases| Tensor::cat(biases, 0).unsqueeze_dim::<2>(0));
    let size = lstm.d_hidden;
    let [batch, _] = frames.first().map_or([0, 0], |frame| frame.dims());
    let mut hidden = Tensor::<2>::zeros([batch, size], &weights.device());
    let mut cell = hidden.clone();
    let mut states = vec![hidden.clone(); frames.len()];
    let order: Box<dyn Iterator<Item = usize>> = if reverse {
        Box::new((0..frames.len()).rev())
    } else {
        Box::new(0..frames.len())
    };
    let tanh = |x: Tensor<2>| sigmoid(x * 2.0) * 2.0 - 1.0;
    for index in order {
        let sums = Tensor::cat(vec![frames[index].clone(), hidden], 1).matmul(weights.clone());
        let sums = match &bias {
            Some(bias) => sums + bias.clone(),
            None => sums,
        };
        let gate_values = sigmoid(sums);
        let gate = |offset: usize| gate_values.clone().narrow(1, offset * size, size);
        let candidate = gate(3) * 2.0 - 1.0;
        cell = gate(1) * cell + gate(0) * candidate;
        if let Some(clip) = lstm.clip {
            cell = cell.clamp(-clip, clip);
        }
        hidden = gate(2) * tanh(cell.clone());
        states[index] = hidden.clone();
    }
    states
}

/// BiLSTM over frames, mean over time, dense output.
#[derive(Module, Debug)]
pub(crate) struct BiLstmNet {
    recurrent: RecurrentStack,
    output: Linear,
}

impl BiLstmNet {
    fn new(config: &RecurrentConfig, n_features: usize, n_classes: usize, device: &Device) -> Self {
        Self {
            recurrent: RecurrentStack::new(n_features, config, device),
            output: LinearConfig::new(2 * config.hidden, n_classes).init(device),
        }
    }

    fn forward(&self, input: Tensor<3>, tap: &mut impl Tap) -> Tensor<2> {
        let x = input.swap_dims(1, 2);
        tap.layer("frames".into(), "Transpose", &x.dims(), ParamCount::none());
        let x = self.recurrent.forward(x, tap);
        let x: Tensor<2> = x.mean_dim(1).squeeze_dim(1);
        tap.layer(
            "mean_over_time".into(),
            "GlobalAvgPool1d",
            &x.dims(),
            ParamCount::none(),
        );
        dense(&self.output, x, "dense", "Linear", tap)
    }
}

/// CNN front end, BiLSTM, attention pooling (softmax-weighted sum over time).
#[derive(Module, Debug)]
pub(crate) struct Crnn {
    blocks: Vec<ConvBlock1d>,
    recurrent: RecurrentStack,
    attention: Linear,
    output: Linear,
}

impl Crnn {
    fn new(
        config: &crate::config::CrnnConfig,
        n_features: usize,
        n_classes: usize,
        device: &Device,
    ) -> Self {
        let conv_out = *config.conv.channels.last().unwrap_or(&n_features);
        let recurrent_out = 2 * config.recurrent.hidden;
        Self {
            blocks: conv_stack_1d(n_features, &config.conv, device),
            recurrent: RecurrentStack::new(conv_out, &config.recurrent, device),
            attention: LinearConfig::new(recurrent_out, 1).init(device),
            output: LinearConfig::new(recurrent_out, n_classes).init(device),
        }
    }

    fn forward(&self, input: Tensor<3>, tap: &mut impl Tap) -> Tensor<2> {
        let x = forward_conv_stack_1d(&self.blocks, input, tap);
        let x = self.recurrent.forward(x, tap);
        // One score per frame, softmax over time, weighted sum of the frames.
        let weights = softmax(self.attention.forward(x.clone()), 1);
        let x: Tensor<2> = (x * weights).sum_dim(1).squeeze_dim(1);
        tap.layer(
            "attention_pool".into(),
            "AttentionPool",
            &x.dims(),
            ParamCount::of(&self.attention),
        );
        dense(&self.output, x, "dense", "Linear", tap)
    }
}

/// Dense layers over an utterance-level vector (statistics pooled before the network, over
/// each clip's own frames: see [`ModelConfig::network_input`]).
#[derive(Module, Debug)]
pub(crate) struct Mlp {
    hidden: Vec<Linear>,
    dropout: Dropout,
    output: Linear,
}

impl Mlp {
    fn new(config: &DenseConfig, n_features: usize, n_classes: usize, device: &Device) -> Self {
        let mut previous = n_features;
        let hidden = config
            .hidden
            .iter()
            .map(|&size| {
                let layer = LinearConfig::new(previous, size).init(device);
                previous = size;
                layer
            })
            .collect();
        Self {
            hidden,
            dropout: DropoutConfig::new(config.dropout).init(),
            output: LinearConfig::new(previous, n_classes).init(device),
        }
    }

    fn forward(&self, input: Tensor<3>, tap: &mut impl Tap) -> Tensor<2> {
        // [batch, statistics, 1] -> [batch, statistics]
        let x: Tensor<2> = input.flatten(1, 2);
        tap.layer("flatten".into(), "Flatten", &x.dims(), ParamCount::none());
        let x = self.hidden.iter().enumerate().fold(x, |x, (index, layer)| {
            let x = dropout(&self.dropout, relu(layer.forward(x)), tap);
            tap.layer(
                format!("dense_{}", index + 1),
                "Linear+ReLU",
                &x.dims(),
                ParamCount::of(layer),
            );
            x
        });
        dense(&self.output, x, "dense_out", "Linear", tap)
    }
}

/// One of the architectures, chosen by [`ModelConfig::architecture`].
#[derive(Module, Debug)]
pub(crate) enum Network {
    Cnn1d(Cnn1d),
    Cnn2d(Cnn2d),
    BiLstm(BiLstmNet),
    Crnn(Crnn),
    Mlp(Mlp),
}

/// The backend draws initial weights from one generator for the whole process: seeding it and
/// drawing a network must not interleave with another thread's network.
static INITIALISATION: Mutex<()> = Mutex::new(());

/// Reads every float parameter, which makes burn draw the lazily initialised ones.
struct DrawInitialValues;

impl ModuleVisitor for DrawInitialValues {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

impl Network {
    /// A network with initial weights drawn from `seed`: the same seed gives the same network
    /// whatever other threads do meanwhile.
    pub(crate) fn new(
        config: &ModelConfig,
        n_features: usize,
        n_classes: usize,
        device: &Device,
        seed: u64,
    ) -> Self {
        let _initialising = INITIALISATION
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        device.seed(seed);
        let network = match config.architecture {
            Architecture::Cnn1d => {
                Network::Cnn1d(Cnn1d::new(&config.cnn1d, n_features, n_classes, device))
            }
            Architecture::Cnn2d => Network::Cnn2d(Cnn2d::new(&config.cnn2d, n_classes, device)),
            Architecture::Bilstm => Network::BiLstm(BiLstmNet::new(
                &config.bilstm,
                n_features,
                n_classes,
                device,
            )),
            Architecture::Crnn => {
                Network::Crnn(Crnn::new(&config.crnn, n_features, n_classes, device))
            }
            Architecture::Mlp => Network::Mlp(Mlp::new(&config.mlp, n_features, n_classes, device)),
        };
        // burn draws a parameter's initial value on its first use: draw them all now, while
        // the generator is ours.
        network.visit(&mut DrawInitialValues);
        network
    }

    /// Logits `[batch, n_classes]` for a batch `[batch, n_features, frames]`.
    pub(crate) fn forward(&self, input: Tensor<3>) -> Tensor<2> {
        self.forward_tapped(input, &mut NoTap)
    }

    pub(crate) fn forward_tapped(&self, input: Tensor<3>, tap: &mut impl Tap) -> Tensor<2> {
        match self {
            Network::Cnn1d(net) => net.forward(input, tap),
            Network::Cnn2d(net) => net.forward(input, tap),
            Network::BiLstm(net) => net.forward(input, tap),
            Network::Crnn(net) => net.forward(input, tap),
            Network::Mlp(net) => net.forward(input, tap),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::pool::{MaxPool1dConfig, MaxPool2dConfig};

    use super::*;
    use crate::classifier::tensor_values;

    fn assert_close<const D: usize>(actual: Tensor<D>, expected: Tensor<D>) {
        assert_eq!(actual.dims(), expected.dims());
        let actual = tensor_values(actual).unwrap();
        let expected = tensor_values(expected).unwrap();
        for (index, (a, e)) in actual.iter().zip(&expected).enumerate() {
            assert!(
                (a - e).abs() <= 1e-4 * (1.0 + e.abs()),
                "{index}: {a} vs {e}"
            );
        }
    }

    /// The channels-last convolution and max pool give burn's `Conv1d` / `MaxPool1d` and
    /// `Conv2d` / `MaxPool2d` outputs and gradients (odd and even kernels, pooling with
    /// partial last windows).
    #[test]
    fn channels_last_blocks_match_burn_modules() {
        let device = Device::flex().autodiff();
        let config = |kernel: usize, pool: usize| ConvConfig {
            channels: vec![6, 5],
            kernel_sizes: vec![kernel],
            pool,
            batch_norm: false,
            dropout: 0.0,
        };
        for (kernel, pool) in [(5, 2), (4, 3), (1, 2)] {
            let input = Tensor::<3>::random([3, 4, 11], Distribution::Normal(0.0, 1.0), &device)
                .require_grad();
            let block = ConvBlock1d::new(
                block_shapes(4, &config(kernel, pool))[0],
                &config(kernel, pool),
                &device,
            );
            let expected = MaxPool1dConfig::new(pool)
                .init()
                .forward(relu(block.conv.forward(input.clone())));
            let actual = block
                .forward(input.clone().swap_dims(1, 2), 1, &mut NoTap)
                .swap_dims(1, 2);
            check_gradients(
                &input,
                (&block.conv.weight, &block.conv.weight),
                actual,
                expected,
            );

            let input = Tensor::<4>::random([2, 1, 7, 9], Distribution::Normal(0.0, 1.0), &device)
                .require_grad();
            let block = ConvBlock2d::new(
                block_shapes(1, &config(kernel, pool))[0],
                &config(kernel, pool),
                &device,
            );
            let expected = MaxPool2dConfig::new([pool, pool])
                .init()
                .forward(relu(block.conv.forward(input.clone())));
            let actual = block
                .forward(input.clone().permute([0, 2, 3, 1]), 1, &mut NoTap)
                .permute([0, 3, 1, 2]);
            check_gradients(
                &input,
                (&block.conv.weight, &block.conv.weight),
                actual,
                expected,
            );
        }
    }

    /// Same values, and same gradients of a weighted sum for the input and a weight (ours,
    /// the reference's: the same parameter when both paths share one module).
    fn check_gradients<const D: usize, const W: usize>(
        input: &Tensor<D>,
        (weight, expected_weight): (
            &burn::module::Param<Tensor<W>>,
            &burn::module::Param<Tensor<W>>,
        ),
        actual: Tensor<D>,
        expected: Tensor<D>,
    ) {
        let (grads, expected_grads) = check_input_gradients(input, actual, expected);
        assert_close(
            weight.grad(&grads).unwrap(),
            expected_weight.grad(&expected_grads).unwrap(),
        );
    }

    /// Same values and same input gradient of a weighted sum; returns both sides' gradients
    /// for checking parameters.
    fn check_input_gradients<const D: usize>(
        input: &Tensor<D>,
        actual: Tensor<D>,
        expected: Tensor<D>,
    ) -> (burn::tensor::Gradients, burn::tensor::Gradients) {
        let weights =
            Tensor::<D>::random(expected.shape(), Distribution::Default, &expected.device());
        let grads = (actual.clone() * weights.clone()).sum().backward();
        let expected_grads = (expected.clone() * weights).sum().backward();
        assert_close(actual, expected);
        assert_close(
            input.grad(&grads).unwrap(),
            input.grad(&expected_grads).unwrap(),
        );
        (grads, expected_grads)
    }

    /// Row batch norm: burn's output, input and parameter gradients, running statistics.
    #[test]
    fn row_batch_norm_matches_burn() {
        let device = Device::flex().autodiff();
        let ours = BatchNormConfig::new(5).init(&device);
        let burns = BatchNormConfig::new(5).init(&device);
        for _ in 0..2 {
            let input = Tensor::<2>::random([40, 5], Distribution::Normal(1.0, 2.0), &device)
                .require_grad();
            let actual = batch_norm_rows(&ours, input.clone());
            let expected = burns.forward(input.clone());
            check_gradients(&input, (&ours.gamma, &burns.gamma), actual, expected);
        }
        assert_close(ours.running_mean.value(), burns.running_mean.value());
        assert_close(ours.running_var.value(), burns.running_var.value());
        // Inference uses the running statistics, as burn's does.
        let input = Tensor::<2>::random([8, 5], Distribution::Default, &Device::flex());
        assert_close(
            batch_norm_rows(&ours.valid(), input.clone()),
            burns.valid().forward(input),
        );
    }

    /// Dropout keeps about `1 - p` of the elements, scaled by `1 / (1 - p)`, differently on
    /// every call; nothing is dropped outside training.
    #[test]
    fn dropout_keeps_the_expected_share_scaled() {
        let device = Device::flex().autodiff();
        let layer = DropoutConfig::new(0.25).init();
        let ones = Tensor::<2>::ones([100, 100], &device);
        let first = tensor_values(dropout(&layer, ones.clone(), &mut NoTap)).unwrap();
        let second = tensor_values(dropout(&layer, ones.clone(), &mut NoTap)).unwrap();
        assert_ne!(first, second);
        for values in [first, second] {
            let kept = values.iter().filter(|&&value| value != 0.0).count();
            assert!((7_200..=7_800).contains(&kept), "{kept} of 10000 kept");
            assert!(
                values
                    .iter()
                    .all(|&value| value == 0.0 || value == 1.0 / 0.75)
            );
        }
        let inference = Tensor::<2>::ones([10, 10], &Device::flex());
        assert_eq!(
            tensor_values(dropout(&layer, inference, &mut NoTap)).unwrap(),
            vec![1.0; 100]
        );
    }

    /// The BiLSTM: burn's `BiLstm::forward` output and gradients.
    #[test]
    fn bilstm_matches_burn() {
        let device = Device::flex().autodiff();
        let layer = BiLstmConfig::new(3, 4, true)
            .with_batch_first(true)
            .init(&device);
        let input =
            Tensor::<3>::random([2, 5, 3], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let actual = bilstm(&layer, input.clone());
        let (expected, _) = layer.forward(input.clone(), None);
        let (grads, expected_grads) = check_input_gradients(&input, actual, expected);
        for gate in [
            &layer.reverse.cell_gate,
            layer.forward.forget_gate.as_ref().unwrap(),
        ] {
            let weight = &gate.hidden_transform.weight;
            assert_close(
                weight.grad(&grads).unwrap(),
                weight.grad(&expected_grads).unwrap(),
            );
            let bias = gate.input_transform.bias.as_ref().unwrap();
            assert_close(
                bias.grad(&grads).unwrap(),
                bias.grad(&expected_grads).unwrap(),
            );
        }
    }
}
