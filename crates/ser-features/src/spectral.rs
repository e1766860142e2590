//! Frame-level energy and spectral shape features (`librosa.feature.rms`,
//! `zero_crossing_rate`, `spectral_centroid`, `spectral_bandwidth`, `spectral_rolloff`,
//! `spectral_flatness`, `spectral_contrast`).
//!
//! Spectral functions take a magnitude spectrogram `s` (bins x frames, librosa's `S=`
//! argument with `power=1`), so one STFT can feed all of them.

use crate::db::{DbConfig, power_to_db};
use crate::error::is_positive;
use crate::stft::{PadMode, fft_frequencies, framed_signal};
use crate::{FeatureError, Matrix};

/// Frame-based analysis of the raw signal (rms, zero-crossing rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Framing {
    pub frame_length: usize,
    pub hop_length: usize,
    pub center: bool,
}

impl Default for Framing {
    fn default() -> Self {
        Self {
            frame_length: 2048,
            hop_length: 512,
            center: true,
        }
    }
}

/// Applies `per_frame` to each frame of the (optionally centred) signal: a 1 x frames row.
fn frame_feature(
    y: &[f32],
    framing: &Framing,
    pad_mode: PadMode,
    per_frame: impl Fn(&[f64]) -> f64,
) -> Result<Matrix, FeatureError> {
    let (signal, n_frames) = framed_signal(
        y,
        framing.frame_length,
        framing.hop_length,
        framing.center,
        pad_mode,
    )?;
    let data = (0..n_frames)
        .map(|t| {
            per_frame(
                &signal[t * framing.hop_length..t * framing.hop_length + framing.frame_length],
            )
        })
        .collect();
    Ok(Matrix {
        rows: 1,
        cols: n_frames,
        data,
    })
}

/// `librosa.feature.rms(y=y, frame_length, hop_length, center)` (zero padding).
pub fn rms(y: &[f32], framing: &Framing) -> Result<Matrix, FeatureError> {
    frame_feature(y, framing, PadMode::Constant, |frame| {
        (frame.iter().map(|x| x * x).sum::<f64>() / frame.len() as f64).sqrt()
    })
}

/// `librosa.feature.rms(S=s, frame_length)` from a magnitude spectrogram (Parseval over the
/// one-sided spectrum: the DC and, for even frame lengths, Nyquist bins count half).
pub fn rms_from_spectrogram(s: &Matrix, frame_length: usize) -> Result<Matrix, FeatureError> {
    if frame_length == 0 || s.rows != frame_length / 2 + 1 {
        return Err(FeatureError::invalid(format!(
            "spectrogram has {} bins, frame_length={frame_length} needs {}",
            s.rows,
            frame_length / 2 + 1
        )));
    }
    let nyquist = frame_length.is_multiple_of(2).then_some(s.rows - 1);
    Ok(per_column(s, |column| {
        let sum: f64 = column
            .iter()
            .enumerate()
            .map(|(bin, v)| {
                let weight = if bin == 0 || Some(bin) == nyquist {
                    0.5
                } else {
                    1.0
                };
                weight * v * v
            })
            .sum();
        (2.0 * sum / (frame_length * frame_length) as f64).sqrt()
    }))
}

/// `librosa.feature.zero_crossing_rate(y, frame_length, hop_length, center)`: edge padding,
/// |x| <= 1e-10 counts as zero (positive), first sample of a frame is never a crossing.
pub fn zero_crossing_rate(y: &[f32], framing: &Framing) -> Result<Matrix, FeatureError> {
    const THRESHOLD: f64 = 1e-10;
    let negative = |x: f64| x.abs() > THRESHOLD && x.is_sign_negative();
    frame_feature(y, framing, PadMode::Edge, |frame| {
        let crossings = frame
            .windows(2)
            .filter(|pair| negative(pair[0]) != negative(pair[1]))
            .count();
        crossings as f64 / frame.len() as f64
    })
}

pub(crate) fn check_bins(s: &Matrix, n_fft: usize) -> Result<(), FeatureError> {
    if s.rows != n_fft / 2 + 1 || s.rows == 0 {
        return Err(FeatureError::invalid(format!(
            "spectrogram has {} bins, n_fft={n_fft} needs {}",
            s.rows,
            n_fft / 2 + 1
        )));
    }
    Ok(())
}

/// Per-frame helper: `per_frame(column)` for every column of `s`, as a 1 x frames row.
pub(crate) fn per_column(s: &Matrix, per_frame: impl Fn(&[f64]) -> f64) -> Matrix {
    let data = (0..s.cols).map(|t| per_frame(&s.column(t))).collect();
    Matrix {
        rows: 1,
        cols: s.cols,
        data,
    }
}

/// `x.powf(p)`, without the cost of a general power for the usual exponents 1 and 2 (the
/// same values up to rounding).
fn power_of(x: f64, p: f64) -> f64 {
    if p == 2.0 {
        x * x
    } else if p == 1.0 {
        x
    } else {
        x.powf(p)
    }
}

/// Column sum used by librosa's `normalize(S, norm=1)`: columns below `tiny` are left as is.
fn l1_length(column: &[f64]) -> f64 {
    let sum: f64 = column.iter().map(|v| v.abs()).sum();
    if sum < f64::MIN_POSITIVE { 1.0 } else { sum }
}

/// `librosa.feature.spectral_centroid(S=s, sr, n_fft)`.
pub fn spectral_centroid(s: &Matrix, sr: f64, n_fft: usize) -> Result<Matrix, FeatureError> {
    check_bins(s, n_fft)?;
    let freqs = fft_frequencies(sr, n_fft);
    Ok(per_column(s, |column| {
        let length = l1_length(column);
        column.iter().zip(&freqs).map(|(v, f)| f * v / length).sum()
    }))
}

/// `librosa.feature.spectral_bandwidth(S=s, sr, n_fft, norm, p)`.
pub fn spectral_bandwidth(
    s: &Matrix,
    sr: f64,
    n_fft: usize,
    norm: bool,
    p: f64,
) -> Result<Matrix, FeatureError> {
    if !is_positive(p) {
        return Err(FeatureError::invalid(
            "spectral_bandwidth p must be positive",
        ));
    }
    let centroid = spectral_centroid(s, sr, n_fft)?;
    let freqs = fft_frequencies(sr, n_fft);
    let data = (0..s.cols)
        .map(|t| {
            let column = s.column(t);
            let length = if norm { l1_length(&column) } else { 1.0 };
            let sum: f64 = column
                .iter()
                .zip(&freqs)
                .map(|(v, f)| v / length * power_of((f - centroid.data[t]).abs(), p))
                .sum();
            if p == 2.0 {
                sum.sqrt()
            } else {
                sum.powf(1.0 / p)
            }
        })
        .collect();
    Ok(Matrix {
        rows: 1,
        cols: s.cols,
        data,
    })
}

/// `librosa.feature.spectral_rolloff(S=s, sr, n_fft, roll_percent)`.
pub fn spectral_rolloff(
    s: &Matrix,
    sr: f64,
    n_fft: usize,
    roll_percent: f64,
) -> Result<Matrix, FeatureError> {
    check_bins(s, n_fft)?;
    if !(roll_percent > 0.0 && roll_percent < 1.0) {
        return Err(FeatureError::invalid("roll_percent must lie in (0, 1)"));
    }
    let freqs = fft_frequencies(sr, n_fft);
    Ok(per_column(s, |column| {
        let total: f64 = column.iter().sum();
        let threshold = roll_percent * total;
        let mut cumulative = 0.0;
        for (value, freq) in column.iter().zip(&freqs) {
            cumulative += value;
            if cumulative >= threshold {
                return *freq;
            }
        }
        freqs[freqs.len() - 1]
    }))
}

/// `librosa.feature.spectral_flatness(S=s, amin, power)`: geometric / arithmetic mean of
/// `max(amin, s^power)`.
pub fn spectral_flatness(s: &Matrix, amin: f64, power: f64) -> Result<Matrix, FeatureError> {
    if !is_positive(amin) {
        return Err(FeatureError::invalid("amin must be strictly positive"));
    }
    Ok(per_column(s, |column| {
        let n = column.len() as f64;
        let (mut sum, mut log_sum) = (0.0, 0.0);
        for &v in column {
            let x = amin.max(power_of(v, power));
            sum += x;
            log_sum += x.ln();
        }
        (log_sum / n).exp() / (sum / n)
    }))
}

/// `librosa.feature.spectral_contrast` parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContrastConfig {
    pub fmin: f64,
    pub n_bands: usize,
    pub quantile: f64,
    /// Peak - valley in linear magnitude instead of the dB difference.
    pub linear: bool,
}

impl Default for ContrastConfig {
    fn default() -> Self {
        Self {
            fmin: 200.0,
            n_bands: 6,
            quantile: 0.02,
            linear: false,
        }
    }
}

/// `librosa.feature.spectral_contrast(S=s, sr, n_fft, fmin, n_bands, quantile, linear)`:
/// (n_bands + 1) x frames.
pub fn spectral_contrast(
    s: &Matrix,
    sr: f64,
    n_fft: usize,
    config: &ContrastConfig,
) -> Result<Matrix, FeatureError> {
    check_bins(s, n_fft)?;
    if config.n_bands == 0
        || !(config.quantile > 0.0 && config.quantile < 1.0)
        || !is_positive(config.fmin)
    {
        return Err(FeatureError::invalid(
            "spectral_contrast needs n_bands >= 1, 0 < quantile < 1 and fmin > 0",
        ));
    }
    let mut edges = vec![0.0];
    edges.extend((0..=config.n_bands).map(|k| config.fmin * 2f64.powi(k as i32)));
    if edges[..edges.len() - 1].iter().any(|&f| f >= 0.5 * sr) {
        return Err(FeatureError::invalid(
            "spectral_contrast band exceeds Nyquist: reduce fmin or n_bands",
        ));
    }
    let freqs = fft_frequencies(sr, n_fft);
    let n_rows = config.n_bands + 1;
    let mut valley = Matrix::zeros(n_rows, s.cols);
    let mut peak = Matrix::zeros(n_rows, s.cols);
    for k in 0..n_rows {
        let (low, high) = (edges[k], edges[k + 1]);
        let mut members: Vec<bool> = freqs.iter().map(|&f| f >= low && f <= high).collect();
        let first = members.iter().position(|&m| m);
        let last = members.iter().rposition(|&m| m);
        let (Some(first), Some(last)) = (first, last) else {
            return Err(FeatureError::invalid(format!(
                "spectral_contrast band {k} ({low:.1}-{high:.1} Hz) holds no FFT bin: increase n_fft"
            )));
        };
        if k > 0 && first > 0 {
            members[first - 1] = true;
        }
        if k == config.n_bands {
            members[last + 1..].iter_mut().for_each(|m| *m = true);
        }
        let mut bins: Vec<usize> = (0..members.len()).filter(|&i| members[i]).collect();
        let count = bins.len();
        if k < config.n_bands {
            bins.pop();
        }
        if bins.is_empty() {
            return Err(FeatureError::invalid(format!(
                "spectral_contrast band {k} holds too few FFT bins: increase n_fft"
            )));
        }
        let take = ((config.quantile * count as f64).round_ties_even() as usize).max(1);
        let take = take.min(bins.len());
        let mut values = Vec::with_capacity(bins.len());
        for t in 0..s.cols {
            values.clear();
            values.extend(bins.iter().map(|&bin| s.get(bin, t)));
            let n = values.len();
            // Partitioning (not sorting) finds the `take` smallest and largest values.
            values.select_nth_unstable_by(take - 1, f64::total_cmp);
            valley.row_mut(k)[t] = values[..take].iter().sum::<f64>() / take as f64;
            values.select_nth_unstable_by(n - take, f64::total_cmp);
            peak.row_mut(k)[t] = values[n - take..].iter().sum::<f64>() / take as f64;
        }
    }
    if config.linear {
        let data = peak
            .data
            .iter()
            .zip(&valley.data)
            .map(|(p, v)| p - v)
            .collect();
        return Ok(Matrix {
            rows: n_rows,
            cols: s.cols,
            data,
        });
    }
    let db = DbConfig::default();
    let (peak_db, valley_db) = (power_to_db(&peak, &db)?, power_to_db(&valley, &db)?);
    let data = peak_db
        .data
        .iter()
        .zip(&valley_db.data)
        .map(|(p, v)| p - v)
        .collect();
    Ok(Matrix {
        rows: n_rows,
        cols: s.cols,
        data,
    })
}
