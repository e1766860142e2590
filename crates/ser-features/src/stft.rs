//! Short-time Fourier transform with librosa's framing (`librosa.stft`, `librosa.util.frame`).

use std::cell::RefCell;
use std::f64::consts::PI;
use std::rc::Rc;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};

use crate::{FeatureError, Matrix};

/// Analysis window (scipy.signal.get_window names, periodic as librosa uses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    Hann,
    Hamming,
    Blackman,
    /// No tapering ("boxcar"/"rectangular" in scipy).
    Rectangular,
}

impl Window {
    /// `scipy.signal.get_window(name, length, fftbins=True)`.
    pub fn coefficients(self, length: usize) -> Vec<f64> {
        let n = length as f64;
        (0..length)
            .map(|i| {
                let phase = 2.0 * PI * i as f64 / n;
                match self {
                    Window::Hann => 0.5 - 0.5 * phase.cos(),
                    Window::Hamming => 0.54 - 0.46 * phase.cos(),
                    Window::Blackman => 0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos(),
                    Window::Rectangular => 1.0,
                }
            })
            .collect()
    }
}

/// How a centred analysis pads the signal edges (numpy.pad modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PadMode {
    /// Zeros: librosa's default since 0.10.
    Constant,
    /// Repeat the edge sample.
    Edge,
    /// Mirror without repeating the edge sample.
    Reflect,
}

/// STFT parameters, named as librosa names them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StftConfig {
    pub n_fft: usize,
    pub hop_length: usize,
    /// Window length (<= n_fft, zero-padded to n_fft in the centre); `None` = n_fft.
    pub win_length: Option<usize>,
    pub window: Window,
    pub center: bool,
    pub pad_mode: PadMode,
}

impl Default for StftConfig {
    fn default() -> Self {
        Self {
            n_fft: 2048,
            hop_length: 512,
            win_length: None,
            window: Window::Hann,
            center: true,
            pad_mode: PadMode::Constant,
        }
    }
}

impl StftConfig {
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    pub fn validate(&self) -> Result<(), FeatureError> {
        if self.n_fft == 0 || self.hop_length == 0 {
            return Err(FeatureError::invalid(
                "n_fft and hop_length must be positive",
            ));
        }
        if self.win_length.is_some_and(|w| w == 0 || w > self.n_fft) {
            return Err(FeatureError::invalid(format!(
                "win_length must lie in 1..={} (n_fft)",
                self.n_fft
            )));
        }
        Ok(())
    }

    /// Samples of padding on each side of a centred analysis.
    fn center_padding(&self) -> usize {
        if self.center { self.n_fft / 2 } else { 0 }
    }

    /// The window of length n_fft: `win_length` coefficients centred with zeros around them.
    fn padded_window(&self) -> Vec<f64> {
        let win_length = self.win_length.unwrap_or(self.n_fft);
        let mut window = vec![0.0; self.n_fft];
        let offset = (self.n_fft - win_length) / 2;
        window[offset..offset + win_length].copy_from_slice(&self.window.coefficients(win_length));
        window
    }
}

/// `np.pad(y, (before, after), mode)` in f64.
pub fn pad(
    y: &[f32],
    before: usize,
    after: usize,
    mode: PadMode,
) -> Result<Vec<f64>, FeatureError> {
    check_padding(y.len(), before, after, mode)?;
    Ok((-(before as isize)..(y.len() + after) as isize)
        .map(|index| f64::from(padded_sample(y, index, mode)))
        .collect())
}

/// Whether a signal of `len` samples can be padded by `before` and `after` in `mode`.
fn check_padding(
    len: usize,
    before: usize,
    after: usize,
    mode: PadMode,
) -> Result<(), FeatureError> {
    if len == 0 {
        return Err(FeatureError::invalid("cannot pad an empty signal"));
    }
    if mode == PadMode::Reflect && (before >= len || after >= len) {
        return Err(FeatureError::invalid(format!(
            "reflect padding of {} samples needs a signal longer than that (got {len})",
            before.max(after)
        )));
    }
    Ok(())
}

/// Sample `index` of `y` padded in `mode` (negative or past the end: the padding). `y` is
/// non-empty and, for [`PadMode::Reflect`], longer than the padding ([`check_padding`]).
fn padded_sample(y: &[f32], index: isize, mode: PadMode) -> f32 {
    let n = y.len();
    let index = if (0..n as isize).contains(&index) {
        index as usize
    } else {
        match mode {
            PadMode::Constant => return 0.0,
            PadMode::Edge => index.clamp(0, n as isize - 1) as usize,
            PadMode::Reflect if index < 0 => (-index) as usize,
            PadMode::Reflect => 2 * (n - 1) - index as usize,
        }
    };
    y[index]
}

/// Number of frames `librosa.util.frame` cuts from `len` samples.
pub fn frame_count(
    len: usize,
    frame_length: usize,
    hop_length: usize,
) -> Result<usize, FeatureError> {
    if len < frame_length {
        return Err(FeatureError::invalid(format!(
            "signal of {len} samples is shorter than one frame ({frame_length}); use center=true"
        )));
    }
    Ok(1 + (len - frame_length) / hop_length)
}

/// The signal as librosa frames it: centred (padded by frame_length / 2) or not.
pub fn framed_signal(
    y: &[f32],
    frame_length: usize,
    hop_length: usize,
    center: bool,
    pad_mode: PadMode,
) -> Result<(Vec<f64>, usize), FeatureError> {
    if frame_length == 0 || hop_length == 0 {
        return Err(FeatureError::invalid(
            "frame_length and hop_length must be positive",
        ));
    }
    let half = if center { frame_length / 2 } else { 0 };
    let signal = pad(y, half, half, pad_mode)?;
    let n_frames = frame_count(signal.len(), frame_length, hop_length)?;
    Ok((signal, n_frames))
}

/// `librosa.fft_frequencies`: centre frequency of each STFT bin.
pub fn fft_frequencies(sr: f64, n_fft: usize) -> Vec<f64> {
    (0..=n_fft / 2)
        .map(|k| k as f64 * sr / n_fft as f64)
        .collect()
}

thread_local! {
    static PLANNER: RefCell<RealFftPlanner<f64>> = RefCell::new(RealFftPlanner::new());
}

/// A cached forward real FFT plan (plans are shared across frames and files per thread).
pub(crate) fn forward_plan(n: usize) -> Arc<dyn RealToComplex<f64>> {
    PLANNER.with(|planner| planner.borrow_mut().plan_fft_forward(n))
}

/// A cached inverse real FFT plan.
pub(crate) fn inverse_plan(n: usize) -> Arc<dyn ComplexToReal<f64>> {
    PLANNER.with(|planner| planner.borrow_mut().plan_fft_inverse(n))
}

/// Number of STFT frames of a `len`-sample signal (checking the configuration).
pub(crate) fn stft_frame_count(len: usize, config: &StftConfig) -> Result<usize, FeatureError> {
    config.validate()?;
    let half = config.center_padding();
    check_padding(len, half, half, config.pad_mode)?;
    frame_count(len + 2 * half, config.n_fft, config.hop_length)
}

type WindowKey = (Window, Option<usize>, usize);

thread_local! {
    /// The last analysis window built on this thread: batch extraction reuses one.
    static WINDOW_CACHE: RefCell<Option<(WindowKey, Rc<[f64]>)>> = const { RefCell::new(None) };
}

/// [`StftConfig::padded_window`] memoised per thread for the most recent configuration.
fn cached_window(config: &StftConfig) -> Rc<[f64]> {
    let key = (config.window, config.win_length, config.n_fft);
    WINDOW_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        match cache.as_ref() {
            Some((cached, window)) if *cached == key => Rc::clone(window),
            _ => {
                let window: Rc<[f64]> = config.padded_window().into();
                *cache = Some((key, Rc::clone(&window)));
                window
            }
        }
    })
}

/// Runs the STFT frame by frame, handing each frame's spectrum to `visit(frame, spectrum)`.
///
/// Frames are windowed straight from `y`; only the few frames that reach into the centring
/// padding are gathered sample by sample, so the padded signal is never built.
fn for_each_frame(
    y: &[f32],
    config: &StftConfig,
    mut visit: impl FnMut(usize, &[Complex<f64>]),
) -> Result<usize, FeatureError> {
    let n_frames = stft_frame_count(y.len(), config)?;
    let n_fft = config.n_fft;
    let half = config.center_padding();
    let window = cached_window(config);
    let plan = forward_plan(n_fft);
    let mut input = plan.make_input_vec();
    let mut output = plan.make_output_vec();
    let mut scratch = plan.make_scratch_vec();
    for frame in 0..n_frames {
        // Index in `y` of the frame's first sample; negative in the leading padding.
        let first = (frame * config.hop_length) as isize - half as isize;
        let inside = usize::try_from(first)
            .ok()
            .and_then(|first| y.get(first..first + n_fft));
        match inside {
            Some(samples) => {
                for ((slot, &sample), weight) in input.iter_mut().zip(samples).zip(window.iter()) {
                    *slot = f64::from(sample) * weight;
                }
            }
            None => {
                for ((slot, index), weight) in input.iter_mut().zip(first..).zip(window.iter()) {
                    *slot = f64::from(padded_sample(y, index, config.pad_mode)) * weight;
                }
            }
        }
        plan.process_with_scratch(&mut input, &mut output, &mut scratch)
            .map_err(|error| FeatureError::invalid(format!("FFT failed: {error}")))?;
        visit(frame, &output);
    }
    Ok(n_frames)
}

/// `|X| ** power` for each STFT frame, handed to `visit(frame, spectrum)` (reused buffer).
pub(crate) fn for_each_power_frame(
    y: &[f32],
    config: &StftConfig,
    power: f64,
    mut visit: impl FnMut(usize, &[f64]),
) -> Result<usize, FeatureError> {
    if !crate::error::is_positive(power) {
        return Err(FeatureError::invalid("spectrogram power must be positive"));
    }
    let mut spectrum = vec![0.0; config.n_bins()];
    for_each_frame(y, config, |frame, complex| {
        for (slot, value) in spectrum.iter_mut().zip(complex) {
            let energy = value.norm_sqr();
            *slot = if power == 2.0 {
                energy
            } else if power == 1.0 {
                energy.sqrt()
            } else {
                energy.powf(power / 2.0)
            };
        }
        visit(frame, &spectrum);
    })
}

/// Complex STFT matrix in librosa's layout (bins x frames), as re/im pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexSpectrogram {
    pub n_bins: usize,
    pub n_frames: usize,
    /// `data[bin * n_frames + frame]`.
    pub data: Vec<Complex<f64>>,
}

/// `librosa.stft(y, n_fft, hop_length, win_length, window, center, pad_mode)`.
pub fn stft(y: &[f32], config: &StftConfig) -> Result<ComplexSpectrogram, FeatureError> {
    let n_frames = stft_frame_count(y.len(), config)?;
    let n_bins = config.n_bins();
    let mut data = vec![Complex::new(0.0, 0.0); n_bins * n_frames];
    for_each_frame(y, config, |frame, spectrum| {
        for (bin, value) in spectrum.iter().enumerate() {
            data[bin * n_frames + frame] = *value;
        }
    })?;
    Ok(ComplexSpectrogram {
        n_bins,
        n_frames,
        data,
    })
}

/// `np.abs(librosa.stft(...)) ** power`: power 1 = magnitude, 2 = power spectrogram.
pub fn spectrogram(y: &[f32], config: &StftConfig, power: f64) -> Result<Matrix, FeatureError> {
    let n_frames = stft_frame_count(y.len(), config)?;
    // librosa's layout is bins x frames: each frame fills one column.
    let mut matrix = Matrix::zeros(config.n_bins(), n_frames);
    for_each_power_frame(y, config, power, |frame, spectrum| {
        for (bin, value) in spectrum.iter().enumerate() {
            matrix.data[bin * n_frames + frame] = *value;
        }
    })?;
    Ok(matrix)
}
