//! Chromagram from a power spectrogram (`librosa.feature.chroma_stft`), including librosa's
//! tuning estimate (`estimate_tuning` via `piptrack` and `pitch_tuning`).

use crate::mel::{linspace, normalize_lp};
use crate::pitch::parabolic_shift;
use crate::stft::fft_frequencies;
use crate::{FeatureError, Matrix};

/// `librosa.hz_to_octs(f, tuning, bins_per_octave)`.
fn hz_to_octs(hz: f64, tuning: f64, bins_per_octave: usize) -> f64 {
    let a440 = 440.0 * 2f64.powf(tuning / bins_per_octave as f64);
    (hz / (a440 / 16.0)).log2()
}

/// `librosa.piptrack(S=s, sr, fmin=150, fmax=4000, threshold=0.1)`: instantaneous pitches and
/// magnitudes at the spectral peaks, as (pitch, magnitude) pairs of every detected peak.
pub fn piptrack(s: &Matrix, sr: f64, n_fft: usize) -> Vec<(f64, f64)> {
    const FMIN: f64 = 150.0;
    const FMAX: f64 = 4000.0;
    const THRESHOLD: f64 = 0.1;
    let fmax = FMAX.min(sr / 2.0);
    let freqs = fft_frequencies(sr, n_fft);
    let mut peaks = Vec::new();
    for t in 0..s.cols {
        let column: Vec<f64> = s.column(t).iter().map(|v| v.abs()).collect();
        let n = column.len();
        let reference = THRESHOLD * column.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let gated: Vec<f64> = column
            .iter()
            .map(|&v| if v > reference { v } else { 0.0 })
            .collect();
        for bin in 0..n {
            if !(FMIN <= freqs[bin] && freqs[bin] < fmax) {
                continue;
            }
            // util.localmax with edge padding: strictly above the left, not below the right.
            let left = gated[bin.saturating_sub(1)];
            let right = gated[(bin + 1).min(n - 1)];
            if !(gated[bin] > left && gated[bin] >= right) {
                continue;
            }
            let shift = if bin == 0 || bin == n - 1 {
                0.0
            } else {
                parabolic_shift(column[bin - 1], column[bin], column[bin + 1])
            };
            let gradient = if bin == 0 {
                column[1] - column[0]
            } else if bin == n - 1 {
                column[n - 1] - column[n - 2]
            } else {
                (column[bin + 1] - column[bin - 1]) / 2.0
            };
            let pitch = (bin as f64 + shift) * sr / n_fft as f64;
            peaks.push((pitch, column[bin] + 0.5 * gradient * shift));
        }
    }
    peaks
}

/// `librosa.pitch_tuning(frequencies, resolution, bins_per_octave)`: the most common
/// deviation from equal temperament, in fractions of a bin.
pub fn pitch_tuning(frequencies: &[f64], resolution: f64, bins_per_octave: usize) -> f64 {
    let residuals: Vec<f64> = frequencies
        .iter()
        .filter(|&&f| f > 0.0)
        .map(|&f| {
            let residual =
                (bins_per_octave as f64 * hz_to_octs(f, 0.0, bins_per_octave)).rem_euclid(1.0);
            if residual >= 0.5 {
                residual - 1.0
            } else {
                residual
            }
        })
        .collect();
    if residuals.is_empty() {
        return 0.0;
    }
    let edges = linspace(-0.5, 0.5, (1.0 / resolution).ceil() as usize + 1);
    let n_bins = edges.len() - 1;
    let mut counts = vec![0usize; n_bins];
    for residual in residuals {
        // numpy.histogram: half-open bins, the last one closed.
        let bin = edges.partition_point(|&edge| edge <= residual);
        if bin >= 1 && bin <= n_bins {
            counts[bin - 1] += 1;
        } else if residual == edges[n_bins] {
            counts[n_bins - 1] += 1;
        }
    }
    let best = (0..n_bins).fold(0, |best, i| if counts[i] > counts[best] { i } else { best });
    edges[best]
}

/// `librosa.estimate_tuning(S=power_spectrogram, sr, bins_per_octave)`.
pub fn estimate_tuning(power: &Matrix, sr: f64, n_fft: usize, bins_per_octave: usize) -> f64 {
    let peaks: Vec<(f64, f64)> = piptrack(power, sr, n_fft)
        .into_iter()
        .filter(|(pitch, _)| *pitch > 0.0)
        .collect();
    let mut magnitudes: Vec<f64> = peaks.iter().map(|(_, magnitude)| *magnitude).collect();
    let threshold = median(&mut magnitudes).unwrap_or(0.0);
    let pitches: Vec<f64> = peaks
        .iter()
        .filter(|(_, magnitude)| *magnitude >= threshold)
        .map(|(pitch, _)| *pitch)
        .collect();
    pitch_tuning(&pitches, 0.01, bins_per_octave)
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// `librosa.filters.chroma(sr, n_fft, n_chroma, tuning)` with librosa's defaults
/// (ctroct=5, octwidth=2, norm=2, base_c=True), rounded to f32 like librosa.
pub fn chroma_filterbank(
    sr: f64,
    n_fft: usize,
    n_chroma: usize,
    tuning: f64,
) -> Result<Matrix, FeatureError> {
    const CENTER_OCTAVE: f64 = 5.0;
    const OCTAVE_WIDTH: f64 = 2.0;
    if n_chroma == 0 || n_fft < 2 {
        return Err(FeatureError::invalid(
            "chroma needs n_chroma >= 1 and n_fft >= 2",
        ));
    }
    let chroma = n_chroma as f64;
    let mut frqbins: Vec<f64> = (1..n_fft)
        .map(|k| chroma * hz_to_octs(k as f64 * sr / n_fft as f64, tuning, n_chroma))
        .collect();
    frqbins.insert(0, frqbins[0] - 1.5 * chroma);
    let mut widths: Vec<f64> = frqbins
        .windows(2)
        .map(|pair| (pair[1] - pair[0]).max(1.0))
        .collect();
    widths.push(1.0);
    let half = (chroma / 2.0).round_ties_even();
    let n_kept = 1 + n_fft / 2;
    let mut weights = Matrix::zeros(n_chroma, n_kept);
    for (bin, (&frq, &width)) in frqbins.iter().zip(&widths).enumerate().take(n_kept) {
        let mut column: Vec<f64> = (0..n_chroma)
            .map(|c| {
                let distance = (frq - c as f64 + half + 10.0 * chroma).rem_euclid(chroma) - half;
                (-0.5 * (2.0 * distance / width).powi(2)).exp()
            })
            .collect();
        normalize_lp(&mut column, 2.0)?;
        let octave_weight = (-0.5 * ((frq / chroma - CENTER_OCTAVE) / OCTAVE_WIDTH).powi(2)).exp();
        // base_c: roll by -3 * (n_chroma / 12) so that row 0 is C.
        let roll = 3 * (n_chroma / 12);
        for c in 0..n_chroma {
            let value = column[(c + roll) % n_chroma] * octave_weight;
            weights.row_mut(c)[bin] = f64::from(value as f32);
        }
    }
    Ok(weights)
}

/// `librosa.feature.chroma_stft(S=power, sr, n_fft, tuning, n_chroma, norm)`: `tuning`
/// `None` estimates it like librosa; `norm` is the per-frame p-norm (`f64::INFINITY` default).
pub fn chroma_stft(
    power: &Matrix,
    sr: f64,
    n_fft: usize,
    tuning: Option<f64>,
    n_chroma: usize,
    norm: Option<f64>,
) -> Result<Matrix, FeatureError> {
    if power.rows != n_fft / 2 + 1 {
        return Err(FeatureError::invalid(format!(
            "spectrogram has {} bins, n_fft={n_fft} needs {}",
            power.rows,
            n_fft / 2 + 1
        )));
    }
    let tuning = tuning.unwrap_or_else(|| estimate_tuning(power, sr, n_fft, n_chroma));
    let filters = chroma_filterbank(sr, n_fft, n_chroma, tuning)?;
    let mut raw = Matrix::zeros(n_chroma, power.cols);
    for c in 0..n_chroma {
        for (bin, weight) in filters.row(c).iter().enumerate() {
            let row = power.row(bin);
            for (acc, value) in raw.row_mut(c).iter_mut().zip(row) {
                *acc += weight * value;
            }
        }
    }
    if let Some(p) = norm {
        for t in 0..raw.cols {
            let mut column = raw.column(t);
            normalize_lp(&mut column, p)?;
            for (c, value) in column.into_iter().enumerate() {
                raw.row_mut(c)[t] = value;
            }
        }
    }
    Ok(raw)
}
