//! Mel scale, mel filterbank and mel spectrogram (`librosa.filters.mel`,
//! `librosa.feature.melspectrogram`).

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::stft::{StftConfig, fft_frequencies, for_each_power_frame, stft_frame_count};
use crate::{FeatureError, Matrix};

/// Filter normalisation (`norm` argument of `librosa.filters.mel`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MelNorm {
    /// Divide each triangle by its width in Hz (area normalisation): librosa's default.
    Slaney,
    /// Unit p-norm of each filter (`norm=p`).
    Lp(f64),
    /// Peak 1 triangles (`norm=None`).
    None,
}

/// Mel spectrogram parameters, named as librosa names them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MelConfig {
    pub n_mels: usize,
    pub fmin: f64,
    /// `None` = sr / 2.
    pub fmax: Option<f64>,
    /// HTK mel formula instead of Slaney's.
    pub htk: bool,
    pub norm: MelNorm,
    /// Exponent of the magnitude spectrogram fed to the filterbank (2 = power).
    pub power: f64,
}

impl Default for MelConfig {
    fn default() -> Self {
        Self {
            n_mels: 128,
            fmin: 0.0,
            fmax: None,
            htk: false,
            norm: MelNorm::Slaney,
            power: 2.0,
        }
    }
}

const SLANEY_HZ_PER_MEL: f64 = 200.0 / 3.0;
const SLANEY_LOG_START_HZ: f64 = 1000.0;

fn slaney_log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// `librosa.hz_to_mel`.
pub fn hz_to_mel(hz: f64, htk: bool) -> f64 {
    if htk {
        return 2595.0 * (1.0 + hz / 700.0).log10();
    }
    if hz >= SLANEY_LOG_START_HZ {
        SLANEY_LOG_START_HZ / SLANEY_HZ_PER_MEL
            + (hz / SLANEY_LOG_START_HZ).ln() / slaney_log_step()
    } else {
        hz / SLANEY_HZ_PER_MEL
    }
}

/// `librosa.mel_to_hz`.
pub fn mel_to_hz(mel: f64, htk: bool) -> f64 {
    if htk {
        return 700.0 * (10f64.powf(mel / 2595.0) - 1.0);
    }
    let log_start_mel = SLANEY_LOG_START_HZ / SLANEY_HZ_PER_MEL;
    if mel >= log_start_mel {
        SLANEY_LOG_START_HZ * (slaney_log_step() * (mel - log_start_mel)).exp()
    } else {
        SLANEY_HZ_PER_MEL * mel
    }
}

/// `librosa.mel_frequencies(n_mels, fmin, fmax, htk)`: evenly spaced on the mel scale.
pub fn mel_frequencies(n_mels: usize, fmin: f64, fmax: f64, htk: bool) -> Vec<f64> {
    let low = hz_to_mel(fmin, htk);
    let high = hz_to_mel(fmax, htk);
    linspace(low, high, n_mels)
        .into_iter()
        .map(|mel| mel_to_hz(mel, htk))
        .collect()
}

/// `numpy.linspace(start, stop, count)` (endpoint included, computed as numpy does).
pub(crate) fn linspace(start: f64, stop: f64, count: usize) -> Vec<f64> {
    if count == 1 {
        return vec![start];
    }
    let step = (stop - start) / (count - 1) as f64;
    let mut values: Vec<f64> = (0..count).map(|i| start + i as f64 * step).collect();
    if let Some(last) = values.last_mut() {
        *last = stop;
    }
    values
}

/// Sparse mel filterbank: each filter's first non-zero bin and its weights.
#[derive(Debug, Clone, PartialEq)]
pub struct MelFilterbank {
    pub n_bins: usize,
    pub filters: Vec<(usize, Vec<f64>)>,
}

impl MelFilterbank {
    /// Dense (n_mels x n_bins) weights, as `librosa.filters.mel` returns them.
    pub fn to_dense(&self) -> Matrix {
        let mut dense = Matrix::zeros(self.filters.len(), self.n_bins);
        for (mel, (start, weights)) in self.filters.iter().enumerate() {
            dense.row_mut(mel)[*start..start + weights.len()].copy_from_slice(weights);
        }
        dense
    }

    /// `mel_basis @ spectrogram` for a (n_bins x frames) spectrogram.
    pub fn apply(&self, spectrogram: &Matrix) -> Result<Matrix, FeatureError> {
        if spectrogram.rows != self.n_bins {
            return Err(FeatureError::invalid(format!(
                "spectrogram has {} bins, the mel filterbank expects {}",
                spectrogram.rows, self.n_bins
            )));
        }
        let frames = spectrogram.cols;
        let mut out = Matrix::zeros(self.filters.len(), frames);
        for (mel, (start, weights)) in self.filters.iter().enumerate() {
            let row = out.row_mut(mel);
            for (offset, weight) in weights.iter().enumerate() {
                let bin = spectrogram.row(start + offset);
                for (acc, value) in row.iter_mut().zip(bin) {
                    *acc += weight * value;
                }
            }
        }
        Ok(out)
    }
}

/// `librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk, norm)`. Weights are rounded to
/// f32 like librosa's default `dtype=np.float32`, so results match bit for bit in the weights.
pub fn mel_filterbank(
    sr: f64,
    n_fft: usize,
    config: &MelConfig,
) -> Result<MelFilterbank, FeatureError> {
    let fmax = config.fmax.unwrap_or(sr / 2.0);
    if config.n_mels == 0 || n_fft == 0 {
        return Err(FeatureError::invalid("n_mels and n_fft must be positive"));
    }
    if !(config.fmin >= 0.0 && config.fmin < fmax) {
        return Err(FeatureError::invalid(format!(
            "mel range needs 0 <= fmin < fmax (got fmin={}, fmax={fmax})",
            config.fmin
        )));
    }
    let fft_freqs = fft_frequencies(sr, n_fft);
    let mel_f = mel_frequencies(config.n_mels + 2, config.fmin, fmax, config.htk);
    let mut filters = Vec::with_capacity(config.n_mels);
    for i in 0..config.n_mels {
        let lower_width = mel_f[i + 1] - mel_f[i];
        let upper_width = mel_f[i + 2] - mel_f[i + 1];
        let mut weights: Vec<f64> = fft_freqs
            .iter()
            .map(|&f| {
                let lower = (f - mel_f[i]) / lower_width;
                let upper = (mel_f[i + 2] - f) / upper_width;
                lower.min(upper).max(0.0)
            })
            .collect();
        match config.norm {
            MelNorm::Slaney => {
                let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
                weights.iter_mut().for_each(|w| *w *= enorm);
            }
            MelNorm::Lp(p) => normalize_lp(&mut weights, p)?,
            MelNorm::None => {}
        }
        weights.iter_mut().for_each(|w| *w = f64::from(*w as f32));
        let start = weights.iter().position(|&w| w != 0.0).unwrap_or(0);
        let end = weights
            .iter()
            .rposition(|&w| w != 0.0)
            .map_or(start, |last| last + 1);
        filters.push((start, weights[start..end].to_vec()));
    }
    Ok(MelFilterbank {
        n_bins: fft_freqs.len(),
        filters,
    })
}

type FilterbankKey = (u64, usize, MelConfig);

thread_local! {
    /// The last filterbank built on this thread: batch extraction reuses one configuration.
    static FILTERBANK_CACHE: RefCell<Option<(FilterbankKey, Rc<MelFilterbank>)>> = const { RefCell::new(None) };
}

/// [`mel_filterbank`] memoised per thread for the most recent (sr, n_fft, config).
pub fn cached_mel_filterbank(
    sr: f64,
    n_fft: usize,
    config: &MelConfig,
) -> Result<Rc<MelFilterbank>, FeatureError> {
    let key = (sr.to_bits(), n_fft, *config);
    if let Some(hit) = FILTERBANK_CACHE.with(|cache| {
        cache
            .borrow()
            .as_ref()
            .filter(|(cached, _)| *cached == key)
            .map(|(_, bank)| Rc::clone(bank))
    }) {
        return Ok(hit);
    }
    let bank = Rc::new(mel_filterbank(sr, n_fft, config)?);
    FILTERBANK_CACHE.with(|cache| *cache.borrow_mut() = Some((key, Rc::clone(&bank))));
    Ok(bank)
}

/// `librosa.util.normalize(x, norm=p)` for one vector (vectors below `tiny` stay as they are).
pub(crate) fn normalize_lp(values: &mut [f64], p: f64) -> Result<(), FeatureError> {
    let length = if p.is_infinite() {
        values.iter().fold(0.0f64, |acc, v| acc.max(v.abs()))
    } else if p > 0.0 {
        values
            .iter()
            .map(|v| v.abs().powf(p))
            .sum::<f64>()
            .powf(1.0 / p)
    } else {
        return Err(FeatureError::invalid(format!("unsupported norm {p}")));
    };
    if length >= f64::MIN_POSITIVE {
        values.iter_mut().for_each(|v| *v /= length);
    }
    Ok(())
}

/// `librosa.feature.melspectrogram(y, sr, n_fft, hop_length, ..., n_mels, fmin, fmax, htk, norm, power)`.
///
/// Each frame's spectrum goes through the filterbank as soon as it is computed, so the
/// (bins x frames) spectrogram is never stored.
pub fn melspectrogram(
    y: &[f32],
    sr: f64,
    stft: &StftConfig,
    mel: &MelConfig,
) -> Result<Matrix, FeatureError> {
    let bank = cached_mel_filterbank(sr, stft.n_fft, mel)?;
    let n_frames = stft_frame_count(y.len(), stft)?;
    let mut out = Matrix::zeros(bank.filters.len(), n_frames);
    for_each_power_frame(y, stft, mel.power, |frame, spectrum| {
        for (mel, (start, weights)) in bank.filters.iter().enumerate() {
            out.data[mel * n_frames + frame] = weights
                .iter()
                .zip(&spectrum[*start..])
                .map(|(weight, value)| weight * value)
                .sum();
        }
    })?;
    Ok(out)
}
