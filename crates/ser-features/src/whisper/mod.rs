//! The encoder of OpenAI's Whisper as a feature extractor: a transformer trained on 680,000 hours
//! of speech, whose hidden states carry voice quality, prosody and phonetic content at 20 ms
//! resolution. Frozen here (inference only, in f32 on ndarray): its frame vectors feed ser's
//! own classifiers like any other frame features. Weights are read from CTranslate2 model files
//! (faster-whisper's format), see [`ct2`].

pub mod ct2;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use ndarray::{Array1, Array2, ArrayView2, Axis, Slice};

use crate::mel::{MelConfig, MelNorm, melspectrogram};
use crate::stft::{PadMode, StftConfig, Window};
use crate::{FeatureError, Matrix};

/// Whisper's analysis: 16 kHz audio, 25 ms windows every 10 ms, 80 Slaney mel bands.
pub const SAMPLE_RATE: u32 = 16_000;
const N_FFT: usize = 400;
const HOP: usize = 160;
const N_MELS: usize = 80;
/// Mel frames of one 30 s window, the longest input the position table covers.
const WINDOW_FRAMES: usize = 3000;
const LAYER_NORM_EPS: f32 = 1e-5;

/// Whisper's log-mel spectrogram (`whisper.audio.log_mel_spectrogram`): power mel bands of a
/// centred, reflect-padded STFT without its last frame, log10 floored at 1e-10, clipped to 8
/// decades below the loudest bin, then scaled as `(x + 4) / 4`. `samples` at 16 kHz.
pub fn log_mel(samples: &[f32]) -> Result<Matrix, FeatureError> {
    let stft = StftConfig {
        n_fft: N_FFT,
        hop_length: HOP,
        win_length: None,
        window: Window::Hann,
        center: true,
        pad_mode: PadMode::Reflect,
    };
    let mel = MelConfig {
        n_mels: N_MELS,
        fmin: 0.0,
        fmax: None,
        htk: false,
        norm: MelNorm::Slaney,
        power: 2.0,
    };
    let power = melspectrogram(samples, f64::from(SAMPLE_RATE), &stft, &mel)?;
    let frames = power.cols.saturating_sub(1);
    if frames == 0 {
        return Err(FeatureError::invalid(
            "Whisper features need at least 10 ms of audio",
        ));
    }
    let mut log = power.truncate_columns(frames);
    for value in &mut log.data {
        *value = value.max(1e-10).log10();
    }
    let floor = log.data.iter().copied().fold(f64::NEG_INFINITY, f64::max) - 8.0;
    for value in &mut log.data {
        *value = (value.max(floor) + 4.0) / 4.0;
    }
    Ok(log)
}

/// How a bundle names the weights it carries: `sha256:` and the digest (hex) of the encoder's
/// model file as [`ct2::ModelFile::kept`] gives it, whichever file it was read from.
pub const WEIGHTS_ID_PREFIX: &str = "sha256:";

/// An encoder read once per process and shared by every extraction (80 MB in f32).
struct Loaded {
    /// Paths it was read from.
    paths: Vec<String>,
    id: String,
    /// Its encoder-only model file, for bundles to carry.
    file: Arc<Vec<u8>>,
    encoder: Arc<WhisperEncoder>,
    /// Ids of this encoder cut to fewer blocks ([`weights_file`]), by block count.
    cuts: Vec<(usize, String)>,
}

static LOADED: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());

/// The encoder that `weights` names: a CTranslate2 model file's path (read on first use) or
/// the id of weights registered before ([`register_weights`], as a model bundle does).
pub fn shared_encoder(weights: &str) -> Result<Arc<WhisperEncoder>, FeatureError> {
    with_loaded(weights, |loaded| loaded.encoder.clone())
}

/// The id and encoder-only model file of the encoder that `weights` names, for a bundle to
/// carry ([`shared_encoder`] names the same encoder by either). With `blocks` fewer than it
/// has, the encoder cut to them: the first blocks, without the final layer norm (a third of
/// Whisper base's encoder for 2 blocks), registered under its own id.
pub fn weights_file(
    weights: &str,
    blocks: Option<usize>,
) -> Result<(String, Arc<Vec<u8>>), FeatureError> {
    let (id, file, n_blocks, cut) = with_loaded(weights, |loaded| {
        let cut = blocks.and_then(|blocks| {
            let known = loaded.cuts.iter().find(|(done, _)| *done == blocks);
            known.map(|(_, id)| id.clone())
        });
        (
            loaded.id.clone(),
            loaded.file.clone(),
            loaded.encoder.n_blocks(),
            cut,
        )
    })?;
    let blocks = match blocks {
        Some(blocks) if blocks < n_blocks => blocks,
        _ => return Ok((id, file)),
    };
    if let Some(cut) = cut {
        return with_loaded(&cut, |loaded| (cut.clone(), loaded.file.clone()));
    }
    let kept = ct2::read_tensors(&file[..], |name| in_first_blocks(name, blocks))?.kept;
    let cut = register_weights(&kept)?;
    let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(full) = loaded.iter_mut().find(|done| done.id == id) {
        full.cuts.push((blocks, cut.clone()));
    }
    Ok((cut, Arc::new(kept)))
}

/// Whether an encoder tensor belongs to the first `blocks` blocks or to what comes before
/// them (convolutions, positions, head count); the final layer norm does not.
fn in_first_blocks(name: &str, blocks: usize) -> bool {
    let Some(name) = name.strip_prefix("encoder/") else {
        return false;
    };
    match name.strip_prefix("layer_") {
        Some(rest) => rest
            .split('/')
            .next()
            .and_then(|index| index.parse::<usize>().ok())
            .is_some_and(|index| index < blocks),
        None => true,
    }
}

/// Makes the encoder of a model file's bytes (as a bundle carries them) available under its
/// id, which it returns.
pub fn register_weights(bytes: &[u8]) -> Result<String, FeatureError> {
    let (encoder, file) = WhisperEncoder::parse(bytes)?;
    let id = weights_id(&file);
    let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
    if !loaded.iter().any(|done| done.id == id) {
        loaded.push(Loaded {
            paths: Vec::new(),
            id: id.clone(),
            file: Arc::new(file),
            encoder: Arc::new(encoder),
            cuts: Vec::new(),
        });
    }
    Ok(id)
}

fn weights_id(file: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(file);
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{WEIGHTS_ID_PREFIX}{hex}")
}

fn with_loaded<T>(weights: &str, get: impl Fn(&Loaded) -> T) -> Result<T, FeatureError> {
    let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(done) = loaded
        .iter()
        .find(|done| done.id == weights || done.paths.iter().any(|path| path == weights))
    {
        return Ok(get(done));
    }
    if weights.starts_with(WEIGHTS_ID_PREFIX) {
        return Err(FeatureError::invalid(format!(
            "the Whisper encoder {weights} is not loaded: the model bundle that uses it carries it"
        )));
    }
    let path = Path::new(weights);
    let bytes = std::fs::read(path).map_err(|error| {
        FeatureError::invalid(format!("Whisper model {}: {error}", path.display()))
    })?;
    let (encoder, file) = WhisperEncoder::parse(&bytes).map_err(|error| FeatureError::File {
        path: path.to_path_buf(),
        source: Box::new(error),
    })?;
    let id = weights_id(&file);
    let index = match loaded.iter().position(|done| done.id == id) {
        Some(index) => index,
        None => {
            loaded.push(Loaded {
                paths: Vec::new(),
                id,
                file: Arc::new(file),
                encoder: Arc::new(encoder),
                cuts: Vec::new(),
            });
            loaded.len() - 1
        }
    };
    loaded[index].paths.push(weights.to_string());
    Ok(get(&loaded[index]))
}

/// A dense layer: `y = x W^T + b`, `W` stored [out, in] as CTranslate2 stores it.
struct Linear {
    weight: Array2<f32>,
    bias: Array1<f32>,
}

impl Linear {
    fn apply(&self, x: &ArrayView2<'_, f32>) -> Array2<f32> {
        x.dot(&self.weight.t()) + &self.bias
    }
}

struct LayerNorm {
    gamma: Array1<f32>,
    beta: Array1<f32>,
}

impl LayerNorm {
    /// Each row (frame) normalised to zero mean and unit variance, then scaled and shifted.
    fn apply(&self, x: &Array2<f32>) -> Array2<f32> {
        let mut out = x.clone();
        for mut row in out.rows_mut() {
            let n = row.len() as f32;
            let mean = row.sum() / n;
            let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            let scale = 1.0 / (variance + LAYER_NORM_EPS).sqrt();
            row.zip_mut_with(&self.gamma, |v, g| *v = (*v - mean) * scale * g);
            row += &self.beta;
        }
        out
    }
}

/// A 1-D convolution of kernel 3 and padding 1, weights flattened to [out, in * 3].
struct Conv {
    weight: Array2<f32>,
    bias: Array1<f32>,
    stride: usize,
}

impl Conv {
    /// `x` [channels, frames] -> [out channels, frames / stride (rounded up)], through GELU.
    fn apply_gelu(&self, x: &ArrayView2<'_, f32>) -> Array2<f32> {
        let (channels, frames) = x.dim();
        let out_frames = (frames - 1) / self.stride + 1;
        let mut columns = Array2::<f32>::zeros((channels * 3, out_frames));
        for c in 0..channels {
            for tap in 0..3 {
                let mut target = columns.row_mut(c * 3 + tap);
                for (t, value) in target.iter_mut().enumerate() {
                    // Input frame t*stride + tap - 1; the padding frames stay zero.
                    if let Some(source) = (t * self.stride + tap).checked_sub(1)
                        && source < frames
                    {
                        *value = x[[c, source]];
                    }
                }
            }
        }
        let mut out = self.weight.dot(&columns);
        for (mut row, &bias) in out.rows_mut().into_iter().zip(&self.bias) {
            row.mapv_inplace(|v| gelu(v + bias));
        }
        out
    }
}

struct Block {
    attention_norm: LayerNorm,
    /// Query, key and value projections stacked ([3 * width, width]).
    qkv: Linear,
    attention_out: Linear,
    ffn_norm: LayerNorm,
    ffn_up: Linear,
    ffn_down: Linear,
}

/// Whisper's audio encoder: two convolutions (the second halves the frame rate to 50 Hz), sinusoidal
/// positions, pre-norm transformer blocks, a final layer norm.
pub struct WhisperEncoder {
    width: usize,
    n_heads: usize,
    conv1: Conv,
    conv2: Conv,
    positions: Array2<f32>,
    blocks: Vec<Block>,
    /// Absent from encoders cut short ([`weights_file`] with fewer blocks).
    final_norm: Option<LayerNorm>,
}

impl std::fmt::Debug for WhisperEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperEncoder")
            .field("width", &self.width)
            .field("n_heads", &self.n_heads)
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

impl WhisperEncoder {
    /// Reads the encoder of a CTranslate2 Whisper model file (`model.bin` of a faster-whisper
    /// model, or the encoder alone as `models/whisper-base-encoder.bin` holds it).
    pub fn load(path: &Path) -> Result<Self, FeatureError> {
        let bytes = std::fs::read(path).map_err(|error| {
            FeatureError::invalid(format!("Whisper model {}: {error}", path.display()))
        })?;
        Ok(Self::parse(&bytes)
            .map_err(|error| FeatureError::File {
                path: path.to_path_buf(),
                source: Box::new(error),
            })?
            .0)
    }

    /// [`Self::load`] from any reader.
    pub fn read(mut reader: impl Read) -> Result<Self, FeatureError> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(|error| {
            FeatureError::invalid(format!("Whisper model: unreadable ({error})"))
        })?;
        Ok(Self::parse(&bytes)?.0)
    }

    /// The encoder of a model file's bytes and its encoder-only model file.
    fn parse(bytes: &[u8]) -> Result<(Self, Vec<u8>), FeatureError> {
        let file = ct2::read_tensors(bytes, |name| name.starts_with("encoder/"))?;
        if file.spec != "WhisperSpec" {
            return Err(FeatureError::invalid(format!(
                "Whisper model: the file holds a {}, not a Whisper model",
                file.spec
            )));
        }
        Ok((Self::from_tensors(file.tensors)?, file.kept))
    }

    /// The encoder of its tensors, which it takes (80 MB of Whisper base's in f32 are moved,
    /// not copied).
    fn from_tensors(tensors: HashMap<String, ct2::Tensor>) -> Result<Self, FeatureError> {
        let tensors = std::cell::RefCell::new(tensors);
        let shape = |name: &str, rank: usize| -> Result<Vec<usize>, FeatureError> {
            let tensors = tensors.borrow();
            let tensor = tensors.get(&format!("encoder/{name}")).ok_or_else(|| {
                FeatureError::invalid(format!("Whisper model: no tensor encoder/{name}"))
            })?;
            if tensor.shape.len() != rank {
                return Err(FeatureError::invalid(format!(
                    "Whisper model: encoder/{name} has shape {:?}, expected rank {rank}",
                    tensor.shape
                )));
            }
            Ok(tensor.shape.clone())
        };
        // The values of a tensor of the expected shape, taken out of the map.
        let take = |name: &str, expected: &[usize]| -> Result<Vec<f32>, FeatureError> {
            check_shape(name, &shape(name, expected.len())?, expected)?;
            let key = format!("encoder/{name}");
            Ok(tensors.borrow_mut().remove(&key).expect("just seen").values)
        };
        let vector = |name: &str, len: usize| -> Result<Array1<f32>, FeatureError> {
            Ok(Array1::from(take(name, &[len])?))
        };
        let matrix = |name: &str, rows: usize, cols: usize| -> Result<Array2<f32>, FeatureError> {
            let values = take(name, &[rows, cols])?;
            Ok(Array2::from_shape_vec((rows, cols), values).expect("shape checked"))
        };
        let width = shape("conv1/weight", 3)?[0];
        let n_heads = take("num_heads", &[])?.first().copied().unwrap_or(0.0) as usize;
        if width == 0 || n_heads == 0 || width % n_heads != 0 {
            return Err(FeatureError::invalid(format!(
                "Whisper model: width {width} does not split into {n_heads} heads"
            )));
        }
        let conv = |name: &str, inputs: usize, stride: usize| -> Result<Conv, FeatureError> {
            let weight = take(&format!("{name}/weight"), &[width, inputs, 3])?;
            Ok(Conv {
                weight: Array2::from_shape_vec((width, inputs * 3), weight).expect("shape checked"),
                bias: vector(&format!("{name}/bias"), width)?,
                stride,
            })
        };
        let linear = |name: &str, rows: usize, cols: usize| -> Result<Linear, FeatureError> {
            Ok(Linear {
                weight: matrix(&format!("{name}/weight"), rows, cols)?,
                bias: vector(&format!("{name}/bias"), rows)?,
            })
        };
        let norm = |name: &str| -> Result<LayerNorm, FeatureError> {
            Ok(LayerNorm {
                gamma: vector(&format!("{name}/gamma"), width)?,
                beta: vector(&format!("{name}/beta"), width)?,
            })
        };
        let n_blocks = (0..)
            .take_while(|i| {
                let name = format!("encoder/layer_{i}/ffn/linear_0/weight");
                tensors.borrow().contains_key(&name)
            })
            .count();
        if n_blocks == 0 {
            return Err(FeatureError::invalid(
                "Whisper model: no encoder layers (encoder/layer_0/...)",
            ));
        }
        let ffn_width = shape("layer_0/ffn/linear_0/weight", 2)?[0];
        let blocks = (0..n_blocks)
            .map(|i| {
                let layer = format!("layer_{i}");
                Ok(Block {
                    attention_norm: norm(&format!("{layer}/self_attention/layer_norm"))?,
                    qkv: linear(
                        &format!("{layer}/self_attention/linear_0"),
                        3 * width,
                        width,
                    )?,
                    attention_out: linear(
                        &format!("{layer}/self_attention/linear_1"),
                        width,
                        width,
                    )?,
                    ffn_norm: norm(&format!("{layer}/ffn/layer_norm"))?,
                    ffn_up: linear(&format!("{layer}/ffn/linear_0"), ffn_width, width)?,
                    ffn_down: linear(&format!("{layer}/ffn/linear_1"), width, ffn_width)?,
                })
            })
            .collect::<Result<Vec<_>, FeatureError>>()?;
        let max_positions = shape("position_encodings/encodings", 2)?[0];
        let has_final_norm = tensors.borrow().contains_key("encoder/layer_norm/gamma");
        if max_positions == 0 {
            return Err(FeatureError::invalid(
                "Whisper model: an empty position table",
            ));
        }
        Ok(Self {
            width,
            n_heads,
            conv1: conv("conv1", N_MELS, 1)?,
            conv2: conv("conv2", width, 2)?,
            positions: matrix("position_encodings/encodings", max_positions, width)?,
            blocks,
            final_norm: match has_final_norm {
                true => Some(norm("layer_norm")?),
                false => None,
            },
        })
    }

    /// Width of the frame vectors (512 for Whisper base).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of transformer blocks (6 for Whisper base).
    pub fn n_blocks(&self) -> usize {
        self.blocks.len()
    }

    /// The hidden states after `blocks` transformer blocks (all of them: the encoder's output,
    /// after its final layer norm) of a [`log_mel`] spectrogram: [frames / 2, width]. Longer
    /// inputs than 30 s are encoded in 30 s windows, as Whisper reads them.
    pub fn encode(&self, mel: &Matrix, blocks: usize) -> Result<Array2<f32>, FeatureError> {
        let mut pass = self.start(mel)?;
        self.advance(&mut pass, blocks)?;
        Ok(self.states(&pass))
    }

    /// A pass of `mel` through the encoder, before its first block; [`Self::advance`] runs it
    /// deeper, so that the states after several depths cost the deepest alone.
    pub fn start(&self, mel: &Matrix) -> Result<EncoderPass, FeatureError> {
        if mel.rows != N_MELS || mel.cols == 0 {
            return Err(FeatureError::invalid(format!(
                "Whisper's encoder reads {N_MELS} mel bands of at least one frame, got {} x {}",
                mel.rows, mel.cols
            )));
        }
        let window_frames = WINDOW_FRAMES.min(2 * self.positions.nrows());
        let mel = Array2::from_shape_fn((mel.rows, mel.cols), |(r, c)| mel.get(r, c) as f32);
        let windows = (0..mel.ncols())
            .step_by(window_frames)
            .map(|start| {
                let end = (start + window_frames).min(mel.ncols());
                self.embed_window(&mel.slice_axis(Axis(1), Slice::from(start..end)))
            })
            .collect();
        Ok(EncoderPass { windows, blocks: 0 })
    }

    /// Runs `pass` through the blocks up to the first `blocks` (none when it is as deep or
    /// deeper).
    pub fn advance(&self, pass: &mut EncoderPass, blocks: usize) -> Result<(), FeatureError> {
        if blocks > self.blocks.len() {
            return Err(FeatureError::invalid(format!(
                "this Whisper encoder has {} blocks, {blocks} asked for",
                self.blocks.len()
            )));
        }
        for block in self.blocks.get(pass.blocks..blocks).unwrap_or_default() {
            for x in &mut pass.windows {
                let normed = block.attention_norm.apply(x);
                let qkv = block.qkv.apply(&normed.view());
                *x += &block.attention_out.apply(&self.attention(&qkv).view());
                let normed = block.ffn_norm.apply(x);
                let mut up = block.ffn_up.apply(&normed.view());
                up.mapv_inplace(gelu);
                *x += &block.ffn_down.apply(&up.view());
            }
        }
        pass.blocks = pass.blocks.max(blocks);
        Ok(())
    }

    /// The states of `pass` after `blocks` blocks, which it has run, the windows one after
    /// another: [frames / 2, width]; after all of them, through the final layer norm.
    pub fn states(&self, pass: &EncoderPass) -> Array2<f32> {
        let views: Vec<_> = pass.windows.iter().map(|w| w.view()).collect();
        let states = ndarray::concatenate(Axis(0), &views).expect("windows share their width");
        match &self.final_norm {
            Some(final_norm) if pass.blocks == self.blocks.len() => final_norm.apply(&states),
            _ => states,
        }
    }

    /// A window's convolutions and positions: the input of the first block, [frames, width].
    fn embed_window(&self, mel: &ArrayView2<'_, f32>) -> Array2<f32> {
        let hidden = self.conv1.apply_gelu(mel);
        let hidden = self.conv2.apply_gelu(&hidden.view());
        let frames = hidden.ncols();
        hidden.t().to_owned() + self.positions.slice_axis(Axis(0), Slice::from(..frames))
    }

    /// Multi-head self-attention over all frames of `qkv` ([frames, 3 * width]).
    fn attention(&self, qkv: &Array2<f32>) -> Array2<f32> {
        let frames = qkv.nrows();
        let head = self.width / self.n_heads;
        let scale = 1.0 / (head as f32).sqrt();
        let mut out = Array2::<f32>::zeros((frames, self.width));
        for h in 0..self.n_heads {
            let columns = h * head..(h + 1) * head;
            let q = qkv.slice_axis(Axis(1), Slice::from(columns.clone()));
            let k = qkv.slice_axis(
                Axis(1),
                Slice::from(self.width + columns.start..self.width + columns.end),
            );
            let v = qkv.slice_axis(
                Axis(1),
                Slice::from(2 * self.width + columns.start..2 * self.width + columns.end),
            );
            let mut scores = q.dot(&k.t()) * scale;
            for mut row in scores.rows_mut() {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                row.mapv_inplace(|v| (v - max).exp());
                let sum = row.sum();
                row /= sum;
            }
            out.slice_axis_mut(Axis(1), Slice::from(columns))
                .assign(&scores.dot(&v));
        }
        out
    }
}

/// Hidden states of one spectrogram part of the way through an encoder
/// ([`WhisperEncoder::start`]; [`WhisperEncoder::advance`] runs it deeper).
pub struct EncoderPass {
    /// Each 30 s window's states, [frames, width].
    windows: Vec<Array2<f32>>,
    /// Blocks run so far.
    blocks: usize,
}

impl EncoderPass {
    /// Blocks run so far.
    pub fn blocks(&self) -> usize {
        self.blocks
    }
}

fn check_shape(name: &str, got: &[usize], want: &[usize]) -> Result<(), FeatureError> {
    if got == want {
        Ok(())
    } else {
        Err(FeatureError::invalid(format!(
            "Whisper model: encoder/{name} has shape {got:?}, expected {want:?}"
        )))
    }
}

/// GELU with the exact Gaussian CDF, as Whisper uses it.
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2))
}
