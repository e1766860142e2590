//! Voice-quality descriptors of the eGeMAPS set (Eyben et al., 2016) that librosa lacks:
//! alpha ratio, Hammarberg index, spectral slopes, spectral flux and harmonics-to-noise ratio.
//! They describe how the voice is produced (breathy, tense, pressed) rather than what is said,
//! which is why the field's cross-corpus baseline is built on them.
//!
//! Spectral functions take a magnitude spectrogram (bins x frames, as in [`crate::spectral`])
//! and give one value per frame, computed on its power spectrum.

use crate::pitch::{Autocorrelation, YinConfig};
use crate::spectral::{check_bins, per_column};
use crate::stft::{PadMode, fft_frequencies, framed_signal};
use crate::{FeatureError, Matrix};

/// Power floor of the dB ratios, as `power_to_db`'s `amin` squared: silence gives 0 dB ratios.
const POWER_FLOOR: f64 = 1e-10;

/// The harmonics-to-noise ratio is bounded to +-30 dB (a normalised autocorrelation within
/// 0.001 of 0 or 1), so silence and pure tones stay finite.
pub const HNR_LIMIT_DB: f64 = 30.0;

/// The power-spectrum bins of `[low_hz, high_hz)`.
fn band(freqs: &[f64], low_hz: f64, high_hz: f64) -> std::ops::Range<usize> {
    let start = freqs.partition_point(|&f| f < low_hz);
    let end = freqs.partition_point(|&f| f < high_hz);
    start..end.max(start)
}

fn db_ratio(numerator: f64, denominator: f64) -> f64 {
    10.0 * ((numerator + POWER_FLOOR) / (denominator + POWER_FLOOR)).log10()
}

/// Alpha ratio per frame: the power of 50-1000 Hz over the power of 1-5 kHz, in dB (eGeMAPS).
/// Higher when the voice is soft or breathy, lower when it is tense or shouted.
pub fn alpha_ratio(s: &Matrix, sr: f64, n_fft: usize) -> Result<Matrix, FeatureError> {
    check_bins(s, n_fft)?;
    let freqs = fft_frequencies(sr, n_fft);
    let (low, high) = (band(&freqs, 50.0, 1000.0), band(&freqs, 1000.0, 5000.0));
    let power = |column: &[f64], bins: &std::ops::Range<usize>| -> f64 {
        column[bins.clone()].iter().map(|v| v * v).sum()
    };
    Ok(per_column(s, |column| {
        db_ratio(power(column, &low), power(column, &high))
    }))
}

/// Hammarberg index per frame: the strongest bin of 0-2 kHz over the strongest of 2-5 kHz, in
/// dB (eGeMAPS).
pub fn hammarberg_index(s: &Matrix, sr: f64, n_fft: usize) -> Result<Matrix, FeatureError> {
    check_bins(s, n_fft)?;
    let freqs = fft_frequencies(sr, n_fft);
    let (low, high) = (band(&freqs, 0.0, 2000.0), band(&freqs, 2000.0, 5000.0));
    let peak = |column: &[f64], bins: &std::ops::Range<usize>| -> f64 {
        column[bins.clone()]
            .iter()
            .fold(0.0f64, |m, v| m.max(v * v))
    };
    Ok(per_column(s, |column| {
        db_ratio(peak(column, &low), peak(column, &high))
    }))
}

/// Spectral slope per frame in `[low_hz, high_hz)`: the least-squares slope of the power
/// spectrum in dB against frequency, in dB per kHz (eGeMAPS uses 0-500 Hz and 500-1500 Hz).
pub fn spectral_slope(
    s: &Matrix,
    sr: f64,
    n_fft: usize,
    low_hz: f64,
    high_hz: f64,
) -> Result<Matrix, FeatureError> {
    check_bins(s, n_fft)?;
    let freqs = fft_frequencies(sr, n_fft);
    let bins = band(&freqs, low_hz, high_hz);
    if bins.len() < 2 {
        return Err(FeatureError::invalid(format!(
            "a spectral slope over {low_hz}-{high_hz} Hz needs two bins at sr={sr}, n_fft={n_fft}"
        )));
    }
    let khz: Vec<f64> = freqs[bins.clone()].iter().map(|f| f / 1000.0).collect();
    let mean_khz = khz.iter().sum::<f64>() / khz.len() as f64;
    let spread: f64 = khz.iter().map(|f| (f - mean_khz).powi(2)).sum();
    Ok(per_column(s, |column| {
        let db: Vec<f64> = column[bins.clone()]
            .iter()
            .map(|v| 10.0 * (v * v + POWER_FLOOR).log10())
            .collect();
        let mean_db = db.iter().sum::<f64>() / db.len() as f64;
        let covariance: f64 = khz
            .iter()
            .zip(&db)
            .map(|(f, d)| (f - mean_khz) * (d - mean_db))
            .sum();
        covariance / spread
    }))
}

/// Spectral flux per frame: the Euclidean distance between this frame's and the previous
/// frame's magnitude spectra, each scaled to unit sum (0 for the first frame and around
/// silent frames). How fast the timbre changes, whatever the loudness.
pub fn spectral_flux(s: &Matrix) -> Matrix {
    let unit = |t: usize| -> Option<Vec<f64>> {
        let column = s.column(t);
        let sum: f64 = column.iter().sum();
        (sum > f64::MIN_POSITIVE).then(|| column.iter().map(|v| v / sum).collect())
    };
    let mut previous: Option<Vec<f64>> = None;
    let data = (0..s.cols)
        .map(|t| {
            let current = unit(t);
            let flux = match (&previous, &current) {
                (Some(before), Some(now)) => before
                    .iter()
                    .zip(now)
                    .map(|(a, b)| (b - a).powi(2))
                    .sum::<f64>()
                    .sqrt(),
                _ => 0.0,
            };
            previous = current;
            flux
        })
        .collect();
    Matrix {
        rows: 1,
        cols: s.cols,
        data,
    }
}

/// Harmonics-to-noise ratio per frame, in dB: `10 log10(r / (1 - r))` of the strongest
/// normalised autocorrelation `r` at a lag within the pitch range (Boersma, 1993), framed as
/// YIN frames the signal (`config`, zero padding when centred). Bounded to +-[`HNR_LIMIT_DB`];
/// silence gives the lower bound.
pub fn harmonics_to_noise(
    y: &[f32],
    sr: f64,
    config: &YinConfig,
) -> Result<Vec<f64>, FeatureError> {
    config.validate(sr)?;
    let frame_length = config.frame_length;
    let hop = config.hop();
    let (signal, n_frames) = framed_signal(y, frame_length, hop, config.center, PadMode::Constant)?;
    let min_lag = ((sr / config.fmax).floor() as usize).max(1);
    let max_lag = ((sr / config.fmin).ceil() as usize).min(frame_length - 1);
    let autocorrelation = Autocorrelation::new(frame_length);
    let limit = 1.0 / (1.0 + 10f64.powf(HNR_LIMIT_DB / 10.0));
    (0..n_frames)
        .map(|t| {
            let frame = &signal[t * hop..t * hop + frame_length];
            let acf = autocorrelation.compute(frame, max_lag + 1)?;
            // energy[i] = sum of squares of frame[..i].
            let mut energy = Vec::with_capacity(frame_length + 1);
            energy.push(0.0);
            for x in frame {
                energy.push(energy.last().copied().unwrap_or(0.0) + x * x);
            }
            let total = energy[frame_length];
            let best = (min_lag..=max_lag)
                .map(|lag| {
                    // The overlapping parts: frame[..n - lag] against frame[lag..].
                    let head = energy[frame_length - lag];
                    let tail = total - energy[lag];
                    let norm = (head * tail).sqrt();
                    if norm > f64::MIN_POSITIVE {
                        acf[lag] / norm
                    } else {
                        0.0
                    }
                })
                .fold(0.0f64, f64::max);
            let r = best.clamp(limit, 1.0 - limit);
            Ok(10.0 * (r / (1.0 - r)).log10())
        })
        .collect()
}
